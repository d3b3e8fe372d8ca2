/* config_load.c - the configuration every command reads: which file, the shipped defaults, the
 * BATON__ variables, the strict check (core/config.h), and the settings the CLI itself uses. */
#include "cli/cli.h"
#include "engine/tools.h"
#include "util/clock.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

void cli_config_source_free(cli_config_source_t *s) {
    free(s->file);
    free(s->defaults_file);
    config_origins_free(&s->origins);
    memset(s, 0, sizeof *s);
}

/* The file to read (caller frees), NULL for none; *found says how it was found. */
static char *config_path(const char *flag, const char **found) {
    *found = NULL;
    if (flag) {
        *found = "--config";
        return xstrdup(flag);
    }
    const char *env = getenv("BATON_CONFIG");
    if (env && *env) {
        *found = "BATON_CONFIG";
        return xstrdup(env);
    }
    if (access("baton.yaml", F_OK) == 0) {
        *found = "./baton.yaml";
        return xstrdup("baton.yaml");
    }
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char *p = xdg && *xdg     ? xasprintf("%s/baton/config.yaml", xdg)
              : home && *home ? xasprintf("%s/.config/baton/config.yaml", home)
                              : NULL;
    if (p && access(p, F_OK) == 0) {
        *found = "XDG";
        return p;
    }
    free(p);
    return NULL;
}

/* Reads one YAML file into a configuration object with origins; NULL with diagnostics (or
 * *err when it cannot be read). */
static json_t *read_yaml(const char *path, config_origins_t *o, diag_list_t *dl, char **err) {
    size_t len;
    char *text = cli_read_file(path, WF_MAX_DOC_BYTES, &len, err);
    if (!text) return NULL;
    yaml_tree_t t;
    size_t before = dl->n;
    int rc = yaml_tree_parse(&t, text, len, path, dl);
    json_t *root = NULL;
    if (rc == 0 && dl->n == before) {
        if (!t.root) {
            root = json_object(); /* an empty file, or only comments: nothing set */
        } else if (t.root->kind != YT_MAP) {
            diag_add(dl, path, t.root->loc, NULL,
                     "a configuration is a mapping of sections (providers, tiers, routing, ...), "
                     "not %s",
                     yaml_tree_describe(t.root));
        } else {
            root = config_from_yaml(t.root, path, o);
        }
    }
    yaml_tree_free(&t);
    free(text);
    return root;
}

/* config/defaults.yaml, found like the agent catalog: $BATON_DEFAULTS, ./config, the binary's
 * ../config and ../share/baton. NULL when none is there (then: offline only) or it is broken
 * (said on stderr: the shipped file is not the user's to fix, and offline still works). */
static json_t *load_defaults(config_origins_t *o, char **used) {
    char *candidates[4] = {0};
    int n = 0;
    const char *env = getenv("BATON_DEFAULTS");
    if (env && *env) candidates[n++] = xstrdup(env);
    candidates[n++] = xstrdup("config/defaults.yaml");
    char *exe = cli_exe_dir();
    if (exe) {
        candidates[n++] = xasprintf("%s/../config/defaults.yaml", exe);
        candidates[n++] = xasprintf("%s/../share/baton/defaults.yaml", exe);
        free(exe);
    }
    json_t *root = NULL;
    for (int i = 0; i < n; i++) {
        if (!root && access(candidates[i], R_OK) == 0) {
            diag_list_t dl = {0};
            char *err = NULL;
            config_origins_t mine = {0};
            root = read_yaml(candidates[i], &mine, &dl, &err);
            if (root && config_check(root, &mine, candidates[i], &dl)) {
                json_decref(root);
                root = NULL;
            }
            if (root) {
                /* hand the origins over: they name this file's values */
                for (size_t k = 0; k < mine.n; k++) {
                    if (o->n == o->cap) {
                        o->cap = o->cap ? o->cap * 2 : 32;
                        o->items = xrealloc(o->items, o->cap * sizeof *o->items);
                    }
                    o->items[o->n++] = mine.items[k];
                }
                mine.n = 0;
                *used = xstrdup(candidates[i]);
            } else {
                char *why = dl.n ? cli_format_diags(&dl) : xstrdup(err ? err : "unreadable");
                fprintf(stderr, "baton: ignoring %s: %s\n", candidates[i], why);
                free(why);
            }
            config_origins_free(&mine);
            diag_list_free(&dl);
            free(err);
        }
        free(candidates[i]);
    }
    return root;
}

/* Absent, or `key:` with no value. */
static bool unset(const json_t *v) { return !v || json_is_null(v); }

/* Shipped providers, tiers and routing, for a configuration that names no providers: each
 * provider there is enabled only by its own environment variable. */
static void merge_defaults(json_t *root, cli_config_source_t *src) {
    if (!unset(json_object_get(root, "providers"))) return;
    json_t *d = load_defaults(&src->origins, &src->defaults_file);
    if (!d) return;
    static const char *const sections[] = {"providers", "tiers", "routing"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(d, sections[i]);
        if (!v || !unset(json_object_get(root, sections[i]))) continue;
        json_object_set(root, sections[i], v);
        const config_origin_t *at = config_origin_find(&src->origins, d, sections[i], 0);
        if (at) {
            config_origin_t copy = *at;
            /* origins are found by parent: this one now hangs from root */
            if (src->origins.n == src->origins.cap) {
                src->origins.cap = src->origins.cap ? src->origins.cap * 2 : 32;
                src->origins.items =
                    xrealloc(src->origins.items, src->origins.cap * sizeof *src->origins.items);
            }
            copy.parent = root;
            copy.key = xstrdup(at->key);
            copy.file = xstrdup(at->file);
            src->origins.items[src->origins.n++] = copy;
        }
    }
    /* kept alive so that no new value gets its address (origins name parents by address) */
    if (!src->origins.keep) src->origins.keep = json_array();
    json_array_append_new(src->origins.keep, d);
}

/* The settings the CLI reads itself; the rest (providers, tiers, routing, cache, tools) goes to
 * the router, recall and tools as cfg->root. The values were checked against the schema. */
static void extract(cli_config_t *cfg) {
    const json_t *root = cfg->root;
    const json_t *off = json_object_get(json_object_get(root, "providers"), "offline");
    const json_t *price = json_object_get(off, "price");
    cfg->offline_latency_ms = (uint64_t)json_number_value(json_object_get(off, "latency_ms"));
    cfg->offline_prices.input_per_million =
        json_number_value(json_object_get(price, "input_per_million"));
    cfg->offline_prices.output_per_million =
        json_number_value(json_object_get(price, "output_per_million"));
    cfg->offline_fail_attempts = json_incref(json_object_get(off, "fail_attempts"));
    const json_t *ret = json_object_get(root, "retention");
    cfg->retention_runs_s = wf_duration_ms(json_object_get(ret, "runs"), 0) / 1000.0;
    cfg->retention_failed_s = wf_duration_ms(json_object_get(ret, "keep_failed"), 0) / 1000.0;
    const json_t *b = json_object_get(root, "budgets");
    cfg->daily_usd = json_number_value(json_object_get(b, "daily_usd"));
    cfg->workflow_daily_usd = json_object();
    const char *name;
    json_t *w;
    json_object_foreach(json_object_get(b, "workflows"), name, w)
        json_object_set_new(cfg->workflow_daily_usd, name,
                            json_real(json_number_value(json_object_get(w, "daily_usd"))));
}

int cli_config_read(const char *path, bool env, cli_config_t *cfg, cli_config_source_t *src,
                    diag_list_t *dl, char **err) {
    memset(cfg, 0, sizeof *cfg);
    memset(src, 0, sizeof *src);
    *err = NULL;
    src->file = env ? config_path(path, &src->found) : (path ? xstrdup(path) : NULL);
    if (!env && path) src->found = "--config";
    size_t before = dl->n;
    json_t *root = src->file ? read_yaml(src->file, &src->origins, dl, err) : json_object();
    if (!root && *err && src->found && strcmp(src->found, "--config")) {
        char *why = xasprintf("%s (the configuration %s names)", *err,
                              !strcmp(src->found, "BATON_CONFIG") ? "BATON_CONFIG" : "found");
        free(*err);
        *err = why;
    }
    if (!root) return -1;
    if (env) {
        merge_defaults(root, src);
        size_t n = 0;
        while (environ && environ[n]) n++;
        config_apply_env(root, &src->origins, (const char *const *)environ, n, dl);
    }
    const char *where = src->file ? src->file : "(configuration)";
    config_check(root, &src->origins, where, dl);
    diag_sort(dl);
    char *terr = NULL;
    if (dl->n == before && tools_config_check(json_object_get(root, "tools"), &terr) != 0) {
        diag_add(dl, where, (src_loc_t){0, 0}, NULL, "%s", terr);
        free(terr);
    }
    cfg->root = root;
    if (dl->n > before) {
        cli_config_free(cfg);
        return -1;
    }
    extract(cfg);
    return 0;
}

char *cli_format_diags(const diag_list_t *dl) {
    strbuf_t sb = {0};
    for (size_t i = 0; i < dl->n; i++) {
        const diag_t *d = &dl->items[i];
        if (i) sb_putc(&sb, '\n');
        if (d->loc.line)
            sb_printf(&sb, "%s:%u:%u: error: %s", d->file, d->loc.line, d->loc.col, d->message);
        else
            sb_printf(&sb, "%s: error: %s", d->file, d->message);
        if (d->hint) sb_printf(&sb, "\n    hint: %s", d->hint);
    }
    return sb_take(&sb);
}

int cli_load_config(const char *path, cli_config_t *cfg, char **err) {
    cli_config_source_t src;
    diag_list_t dl = {0};
    int rc = cli_config_read(path, true, cfg, &src, &dl, err);
    if (rc != 0 && !*err) {
        char *list = cli_format_diags(&dl);
        *err = xasprintf("the configuration is not valid (%zu error%s):\n%s", dl.n,
                         dl.n == 1 ? "" : "s", list);
        free(list);
    }
    diag_list_free(&dl);
    /* the values no longer need their origins; kept ones may still be referenced by root */
    cli_config_source_free(&src);
    return rc;
}

void cli_config_free(cli_config_t *cfg) {
    json_decref(cfg->offline_fail_attempts);
    cfg->offline_fail_attempts = NULL;
    json_decref(cfg->root);
    cfg->root = NULL;
    json_decref(cfg->workflow_daily_usd);
    cfg->workflow_daily_usd = NULL;
}

engine_daily_t cli_daily_limits(const cli_config_t *cfg, store_t *st) {
    engine_daily_t d = {.limit_usd = cfg->daily_usd,
                        .workflow_limits = cfg->workflow_daily_usd,
                        .since_ms = clock_today_start_ms()};
    if (d.limit_usd > 0) d.spent_usd = store_spend_since(st, d.since_ms, NULL);
    return d;
}
