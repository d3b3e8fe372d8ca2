/* workspace.c - what every subcommand needs from disk: files, the data dir, the agent catalog and
 * the configuration. */
#include "cli/cli.h"
#include "engine/host.h"
#include "core/json_time.h"
#include "core/yaml_tree.h"
#include "engine/tools.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *cli_read_file(const char *path, size_t max, size_t *len, char **err) {
    return fs_read_file(path, max, len, err);
}

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int load_catalog_dir(agent_catalog_t *cat, const char *dir, diag_list_t *diags) {
    /* Sorted, so the catalog (and any error list) is the same on every machine. */
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) return -1;
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm);
        if (l > 5 && (!strcmp(nm + l - 5, ".yaml") || (l > 4 && !strcmp(nm + l - 4, ".yml")))) {
            char *path = xasprintf("%s/%s", dir, nm);
            char *err = NULL;
            size_t len;
            char *text = cli_read_file(path, WF_MAX_DOC_BYTES, &len, &err);
            if (text)
                catalog_add_yaml(cat, text, len, path, diags);
            else
                diag_add(diags, path, (src_loc_t){0, 0}, NULL, "%s", err);
            free(text);
            free(err);
            free(path);
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

static char *exe_dir(void) {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return NULL;
    buf[n] = '\0';
    return xstrdup(dirname(buf));
}

/* The first folder that exists of: $ENV, ./NAME, near_file's ../NAME, the binary's ../NAME and
 * ../share/baton/NAME. NULL when none does; caller frees. */
static char *find_shared_dir(const char *env_var, const char *name, const char *near_file) {
    char *candidates[5] = {0};
    int n = 0;
    const char *env = getenv(env_var);
    if (env && *env) candidates[n++] = xstrdup(env);
    candidates[n++] = xstrdup(name);
    if (near_file) {
        char *copy = xstrdup(near_file);
        candidates[n++] = xasprintf("%s/../%s", dirname(copy), name);
        free(copy);
    }
    char *exe = exe_dir();
    if (exe) {
        candidates[n++] = xasprintf("%s/../%s", exe, name);
        candidates[n++] = xasprintf("%s/../share/baton/%s", exe, name);
        free(exe);
    }
    char *found = NULL;
    for (int i = 0; i < n; i++) {
        if (!found && is_dir(candidates[i]))
            found = candidates[i];
        else
            free(candidates[i]);
    }
    return found;
}

int cli_load_catalog(agent_catalog_t *cat, const char *workflow_path, diag_list_t *diags) {
    memset(cat, 0, sizeof *cat);
    arena_init(&cat->arena, 0);
    char *dir = find_shared_dir("BATON_AGENTS_DIR", "agents", workflow_path);
    if (dir) load_catalog_dir(cat, dir, diags);
    free(dir);
    return 0;
}

char *cli_templates_dir(void) { return find_shared_dir("BATON_WORKFLOWS_DIR", "workflows", NULL); }

store_t *cli_open_existing_store(const char *data_dir, bool *missing, char **err) {
    char *db = xasprintf("%s/baton.db", data_dir);
    *missing = access(db, F_OK) != 0;
    free(db);
    if (*missing) {
        *err =
            xasprintf("no Baton data dir at %s (nothing has run there; see --data-dir)", data_dir);
        return NULL;
    }
    return cli_open_store(data_dir, STORE_DURABILITY_FULL, err);
}

store_t *cli_open_store(const char *data_dir, store_durability_t d, char **err) {
    char *arts = xasprintf("%s/artifacts", data_dir);
    if (fs_mkdir_p(arts) != 0) {
        *err = xasprintf("cannot create data dir %s: %s", data_dir, strerror(errno));
        free(arts);
        return NULL;
    }
    free(arts);
    char *db = xasprintf("%s/baton.db", data_dir);
    store_t *st = store_open(db, d, err);
    free(db);
    return st;
}

/* budgets: {daily_usd: N, workflows: {NAME: {daily_usd: N}}}, every N a number >= 0. */
static int parse_budgets(const json_t *root, const char *path, cli_config_t *cfg, char **err) {
    const json_t *b = json_object_get(root, "budgets");
    const json_t *daily = json_object_get(b, "daily_usd"), *wfs = json_object_get(b, "workflows");
    bool ok = (!b || json_is_object(b)) &&
              (!daily || (json_is_number(daily) && json_number_value(daily) >= 0)) &&
              (!wfs || json_is_object(wfs));
    cfg->workflow_daily_usd = json_object();
    const char *name;
    const json_t *w;
    json_object_foreach((json_t *)wfs, name, w) {
        const json_t *d = json_object_get(w, "daily_usd");
        ok = ok && json_is_number(d) && json_number_value(d) >= 0;
        if (ok) json_object_set_new(cfg->workflow_daily_usd, name, json_real(json_number_value(d)));
    }
    if (!ok) {
        *err =
            xasprintf("%s: budgets is a mapping {daily_usd: N, workflows: {NAME: {daily_usd: N}}} "
                      "with amounts in USD, 0 or more",
                      path);
        return -1;
    }
    cfg->daily_usd = json_number_value(daily);
    return 0;
}

engine_daily_t cli_daily_limits(const cli_config_t *cfg, store_t *st) {
    engine_daily_t d = {.limit_usd = cfg->daily_usd,
                        .workflow_limits = cfg->workflow_daily_usd,
                        .since_ms = clock_today_start_ms()};
    if (d.limit_usd > 0) d.spent_usd = store_spend_since(st, d.since_ms, NULL);
    return d;
}

/* BATON__A__B=value sets a.b of the configuration (docs/models.md, "Environment"): the value is
 * read as JSON when it parses (numbers, true/false, lists), as a string otherwise. */
#define ENV_PREFIX "BATON__"
extern char **environ;

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int apply_env_overrides(json_t *root, char **err) {
    /* In name order, so that the result does not depend on the environment's order (a section
     * is set before the keys under it). */
    size_t n = 0;
    for (char **e = environ; e && *e; e++) n += !strncmp(*e, ENV_PREFIX, strlen(ENV_PREFIX));
    const char **vars = xcalloc(n + 1, sizeof *vars);
    n = 0;
    for (char **e = environ; e && *e; e++)
        if (!strncmp(*e, ENV_PREFIX, strlen(ENV_PREFIX))) vars[n++] = *e;
    qsort(vars, n, sizeof *vars, by_name);
    int failed = 0;
    for (size_t k = 0; k < n && !failed; k++) {
        const char *const *e = &vars[k];
        const char *eq = strchr(*e, '=');
        if (!eq) continue;
        char *path = xstrndup(*e + strlen(ENV_PREFIX), (size_t)(eq - *e) - strlen(ENV_PREFIX));
        json_t *at = root;
        char *seg = path, *next;
        int rc = 0;
        for (;; seg = next + 2) {
            next = strstr(seg, "__");
            if (next) *next = '\0';
            if (!*seg) {
                rc = -1;
                break;
            }
            if (!next) break;
            json_t *child = json_object_get(at, seg);
            if (!child) {
                child = json_object();
                json_object_set_new(at, seg, child);
            } else if (!json_is_object(child)) {
                rc = -1;
                break;
            }
            at = child;
        }
        if (rc == 0) {
            json_t *v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
            json_object_set_new(at, seg, v ? v : json_string(eq + 1));
        } else {
            *err = xasprintf("%.*s: not a configuration path (BATON__SECTION__KEY, each part a "
                             "key of a mapping)",
                             (int)(eq - *e), *e);
        }
        free(path);
        failed = rc;
    }
    free(vars);
    return failed ? -1 : 0;
}

static int cli_load_config_file(const char *path, cli_config_t *cfg, char **err) {
    memset(cfg, 0, sizeof *cfg);
    json_t *root = NULL;
    if (!path) {
        /* no file: the environment may still say something (none: no configuration at all) */
        root = json_object();
        if (apply_env_overrides(root, err) != 0) {
            json_decref(root);
            return -1;
        }
        if (!json_object_size(root)) {
            json_decref(root);
            return 0;
        }
        path = "(environment)";
        goto read;
    }
    size_t len;
    char *text = cli_read_file(path, WF_MAX_DOC_BYTES, &len, err);
    if (!text) return -1;
    yaml_tree_t t;
    diag_list_t dl = {0};
    int rc = yaml_tree_parse(&t, text, len, path, &dl);
    if (rc != 0 || dl.n) {
        *err = dl.n ? xasprintf("%s:%u:%u: %s", path, dl.items[0].loc.line, dl.items[0].loc.col,
                                dl.items[0].message)
                    : xasprintf("%s: not a YAML configuration", path);
        yaml_tree_free(&t);
        diag_list_free(&dl);
        free(text);
        return -1;
    }
    root = t.root ? yaml_tree_to_json(t.root) : json_object();
    yaml_tree_free(&t);
    free(text);
    if (!json_is_object(root) || apply_env_overrides(root, err) != 0) {
        if (!json_is_object(root)) *err = xasprintf("%s: a configuration is a mapping", path);
        json_decref(root);
        return -1;
    }
read:;
    /* The part of the configuration this release reads: the offline provider. The full provider
     * table (docs/configuration.md) arrives with the model router. */
    json_t *off = json_object_get(json_object_get(root, "providers"), "offline");
    json_t *lat = json_object_get(off, "latency_ms");
    json_t *price = json_object_get(off, "price");
    json_t *faults = json_object_get(off, "fail_attempts");
    bool faults_ok = !faults || json_is_object(faults);
    const char *k;
    json_t *v;
    json_object_foreach(faults, k, v) faults_ok = faults_ok && json_is_integer(v);
    if ((lat && !json_is_number(lat)) || (price && !json_is_object(price)) || !faults_ok) {
        *err = xasprintf("%s: providers.offline: latency_ms is a number, price a mapping "
                         "{input_per_million, output_per_million}, fail_attempts a mapping "
                         "{TASK_ID: N}",
                         path);
        json_decref(root);
        return -1;
    }
    cfg->offline_fail_attempts = json_incref(faults);
    /* retention: {runs: 30d, keep_failed: 90d}: how long finished runs are kept */
    json_t *ret = json_object_get(root, "retention");
    const char *rk;
    json_t *rv;
    json_object_foreach(ret, rk, rv) {
        double secs = json_is_number(rv)   ? json_number_value(rv)
                      : json_is_string(rv) ? wf_parse_duration(json_string_value(rv))
                                           : -1;
        bool known = !strcmp(rk, "runs") || !strcmp(rk, "keep_failed");
        if (!known || secs <= 0) {
            *err = xasprintf("%s: retention takes runs and keep_failed, each a duration such as "
                             "30d (got %s)",
                             path, rk);
            json_decref(root);
            cli_config_free(cfg);
            return -1;
        }
        if (!strcmp(rk, "runs"))
            cfg->retention_runs_s = secs;
        else
            cfg->retention_failed_s = secs;
    }
    if (ret && !json_is_object(ret)) {
        *err = xasprintf("%s: retention is a mapping {runs: 30d, keep_failed: 90d}", path);
        json_decref(root);
        cli_config_free(cfg);
        return -1;
    }
    if (parse_budgets(root, path, cfg, err) != 0) {
        json_decref(root);
        cli_config_free(cfg);
        return -1;
    }
    cfg->offline_latency_ms = lat ? (uint64_t)json_number_value(lat) : 0;
    cfg->offline_prices.input_per_million =
        json_number_value(json_object_get(price, "input_per_million"));
    cfg->offline_prices.output_per_million =
        json_number_value(json_object_get(price, "output_per_million"));
    char *terr = NULL;
    if (tools_config_check(json_object_get(root, "tools"), &terr) != 0) {
        *err = xasprintf("%s: %s", path, terr);
        free(terr);
        json_decref(root);
        cli_config_free(cfg);
        return -1;
    }
    cfg->root = root; /* the router reads providers, tiers and routing from it */
    return 0;
}

/* config/defaults.yaml, found like the agent catalog: $BATON_DEFAULTS, ./config, the binary's
 * ../config and ../share/baton. NULL when none is there (then: offline only). */
static json_t *load_defaults(void) {
    char *candidates[4] = {0};
    int n = 0;
    const char *env = getenv("BATON_DEFAULTS");
    if (env && *env) candidates[n++] = xstrdup(env);
    candidates[n++] = xstrdup("config/defaults.yaml");
    char *exe = exe_dir();
    if (exe) {
        candidates[n++] = xasprintf("%s/../config/defaults.yaml", exe);
        candidates[n++] = xasprintf("%s/../share/baton/defaults.yaml", exe);
        free(exe);
    }
    json_t *root = NULL;
    for (int i = 0; i < n; i++) {
        if (!root && access(candidates[i], R_OK) == 0) {
            cli_config_t d;
            char *err = NULL;
            if (cli_load_config_file(candidates[i], &d, &err) == 0) {
                root = d.root;
                d.root = NULL;
                cli_config_free(&d);
            } else {
                fprintf(stderr, "baton: ignoring %s: %s\n", candidates[i], err);
                free(err);
            }
        }
        free(candidates[i]);
    }
    return root;
}

int cli_load_config(const char *path, cli_config_t *cfg, char **err) {
    if (cli_load_config_file(path, cfg, err) != 0) return -1;
    /* Providers the configuration does not name come from the shipped defaults, each enabled
     * only by its own environment variable. */
    if (!json_object_get(cfg->root, "providers")) {
        json_t *d = load_defaults();
        if (d) {
            if (!cfg->root) cfg->root = json_object();
            json_object_set(cfg->root, "providers", json_object_get(d, "providers"));
            if (!json_object_get(cfg->root, "tiers"))
                json_object_set(cfg->root, "tiers", json_object_get(d, "tiers"));
            if (!json_object_get(cfg->root, "routing"))
                json_object_set(cfg->root, "routing", json_object_get(d, "routing"));
            json_decref(d);
        }
    }
    return 0;
}

void cli_config_free(cli_config_t *cfg) {
    json_decref(cfg->offline_fail_attempts);
    cfg->offline_fail_attempts = NULL;
    json_decref(cfg->root);
    cfg->root = NULL;
    json_decref(cfg->workflow_daily_usd);
    cfg->workflow_daily_usd = NULL;
}

void cli_print_diags(const diag_list_t *dl) {
    bool color = cli_use_color(2);
    for (size_t i = 0; i < dl->n; i++) {
        const diag_t *d = &dl->items[i];
        fprintf(stderr, "%s:%u:%u: %serror:%s %s\n", d->file, d->loc.line, d->loc.col,
                color ? "\033[1;31m" : "", color ? "\033[0m" : "", d->message);
        if (d->hint) fprintf(stderr, "    hint: %s\n", d->hint);
    }
}

void cli_print_json(const json_t *v) {
    json_t *shown = json_deep_copy(v); /* times as the API writes them (RFC 3339) */
    json_time_present(shown);
    char *text =
        json_dumps(shown ? shown : v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (text) puts(text);
    free(text);
    json_decref(shown);
}

bool cli_use_color(int fd) {
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc) return false;
    return isatty(fd);
}

int cli_exit_for_status(const char *status) {
    if (!status) return EXIT_FAILED;
    if (!strcmp(status, "completed")) return EXIT_OK;
    if (!strcmp(status, "waiting_human")) return EXIT_WAITING;
    return EXIT_FAILED;
}

char *cli_check_workflow_file(const char *path, size_t *len, char **name, diag_list_t *dl) {
    agent_catalog_t cat;
    cli_load_catalog(&cat, path, dl);
    char *err = NULL;
    char *text = cli_read_file(path, WF_MAX_DOC_BYTES, len, &err);
    if (!text) {
        diag_add(dl, path, (src_loc_t){0, 0},
                 err && strstr(err, "limit")
                     ? "split the workflow, or move large text into artifacts"
                     : NULL,
                 "%s", err + strlen(path) + 2);
    } else {
        char *copy = xstrdup(path);
        workflow_t *wf =
            workflow_load(text, *len, path, &cat, host_subflow_exists, dirname(copy), dl);
        if (wf && name) *name = xstrdup(wf->name ? wf->name : "");
        workflow_free(wf);
        free(copy);
    }
    free(err);
    catalog_free(&cat);
    diag_sort(dl);
    if (dl->n) {
        free(text);
        text = NULL;
    }
    return text;
}
