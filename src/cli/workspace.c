/* workspace.c - what every subcommand needs from disk: files, the data dir and the agent catalog
 * (the configuration is config_load.c's). */
#include "cli/cli.h"
#include "engine/host.h"
#include "core/json_time.h"
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

char *cli_exe_dir(void) {
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
    char *exe = cli_exe_dir();
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

const char *cli_default_data_dir(void) {
    const char *env = getenv("BATON_DATA_DIR");
    return env && *env ? env : "baton-data";
}

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
