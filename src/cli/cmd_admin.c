/* cmd_admin.c - `baton admin rebuild|check|sweep`, `baton backup FILE`, `baton restore FILE`:
 * keeping a data dir healthy. */
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/cli.h"
#include "core/workflow.h"
#include "engine/engine.h"
#include "store/maintenance.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

void cmd_admin_usage(FILE *f) {
    fputs("usage: baton admin rebuild [--data-dir DIR]   rebuild the projection tables from the "
          "journal\n"
          "       baton admin check [--json] [--data-dir DIR]   check the database and every "
          "journal\n"
          "       baton admin sweep [--config F] [--data-dir DIR]   apply the retention policy\n"
          "       baton backup FILE [--data-dir DIR]   online backup of the database\n"
          "       baton restore FILE [--data-dir DIR]  replace the database with a backup\n",
          f);
}

typedef struct admin_opts {
    const char *data_dir, *config;
    bool json;
} admin_opts_t;

/* Parses the shared options; returns the index of the first operand, or -1. */
static int parse(int argc, char **argv, int first, admin_opts_t *o) {
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    *o = (admin_opts_t){.data_dir = cli_default_data_dir()};
    optind = first;
    int c;
    while ((c = cli_getopt(argc, argv, "h", longopts, "admin")) != -1) {
        switch (c) {
        case 'd':
            o->data_dir = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        default:
            return -1;
        }
    }
    return optind;
}

/* restore may create a data dir (restoring onto a new machine); the others need one. */
static store_t *open_store(const admin_opts_t *o, bool create) {
    char *err = NULL;
    bool missing;
    store_t *st = create ? cli_open_store(o->data_dir, STORE_DURABILITY_FULL, &err)
                         : cli_open_existing_store(o->data_dir, &missing, &err);
    if (!st) {
        fprintf(stderr, "baton: %s\n", err);
        free(err);
    }
    return st;
}

static int admin_rebuild(store_t *st) {
    json_t *before = store_projection_dump(st);
    uint64_t n = 0;
    char *err = NULL;
    if (store_rebuild(st, &n, &err) != 0) {
        fprintf(stderr, "baton admin rebuild: %s\n", err);
        free(err);
        json_decref(before);
        return EXIT_FAILED;
    }
    json_t *after = store_projection_dump(st);
    bool same = json_equal(before, after);
    printf("rebuilt runs, tasks, artifacts and approvals from %llu events: %s\n",
           (unsigned long long)n,
           same ? "identical to the live tables" : "the live tables differed and were replaced");
    json_decref(before);
    json_decref(after);
    return EXIT_OK;
}

static int admin_check(store_t *st, const char *data_dir, bool json) {
    json_t *problems = json_array();
    int n = store_check(st, problems);
    n += store_check_blobs(st, data_dir, problems);
    if (json) {
        cli_print_json(problems);
    } else if (!n) {
        printf("ok: the database is intact, every run's journal is complete, every artifact's "
               "blob matches its hash\n");
    } else {
        size_t i;
        json_t *p;
        json_array_foreach(problems, i, p) printf("problem: %s\n", json_string_value(p));
    }
    json_decref(problems);
    return n ? EXIT_FAILED : EXIT_OK;
}

static int admin_sweep(store_t *st, const admin_opts_t *o) {
    cli_config_t cfg;
    char *err = NULL;
    if (cli_load_config(o->config, &cfg, &err) != 0) {
        fprintf(stderr, "baton admin sweep: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    if (!cfg.retention_runs_s && !cfg.retention_failed_s) {
        printf("no retention policy configured (retention: {runs: 30d, keep_failed: 90d}): "
               "nothing to do\n");
        cli_config_free(&cfg);
        return EXIT_OK;
    }
    json_t *deleted = json_array();
    int code = cli_retention_sweep(st, o->data_dir, &cfg, deleted, &err) ? EXIT_FAILED : EXIT_OK;
    if (code)
        fprintf(stderr, "baton admin sweep: %s\n", err);
    else
        printf("deleted %zu run%s past the retention policy\n", json_array_size(deleted),
               json_array_size(deleted) == 1 ? "" : "s");
    free(err);
    json_decref(deleted);
    cli_config_free(&cfg);
    return code;
}

int cmd_admin(int argc, char **argv) {
    admin_opts_t o;
    if (argc < 2) {
        cmd_admin_usage(stderr);
        return EXIT_USAGE;
    }
    int first = parse(argc, argv, 2, &o);
    if (first != argc) {
        cmd_admin_usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "rebuild") && strcmp(sub, "check") && strcmp(sub, "sweep")) {
        cmd_admin_usage(stderr);
        return EXIT_USAGE;
    }
    if (sodium_init() < 0) return EXIT_FAILED; /* blobs are hashed */
    store_t *st = open_store(&o, false);
    if (!st) return EXIT_FAILED;
    int code = !strcmp(sub, "rebuild") ? admin_rebuild(st)
               : !strcmp(sub, "check") ? admin_check(st, o.data_dir, o.json)
                                       : admin_sweep(st, &o);
    store_close(st);
    return code;
}

/* `baton backup FILE` and `baton restore FILE` (argv[0] says which). */
int cmd_backup(int argc, char **argv) {
    admin_opts_t o;
    int first = parse(argc, argv, 1, &o);
    if (first != argc - 1) {
        cmd_admin_usage(stderr);
        return EXIT_USAGE;
    }
    bool restore = !strcmp(argv[0], "restore");
    if (sodium_init() < 0) return EXIT_FAILED; /* blobs are hashed */
    store_t *st = open_store(&o, restore);
    if (!st) return EXIT_FAILED;
    char *err = NULL;
    int rc = restore ? store_restore(st, argv[first], o.data_dir, &err)
                     : store_backup(st, argv[first], o.data_dir, &err);
    if (rc)
        fprintf(stderr, "baton %s: %s\n", argv[0], err);
    else
        printf("%s %s %s\n", restore ? "restored" : "backed up", restore ? "from" : "to",
               argv[first]);
    free(err);
    store_close(st);
    return rc ? EXIT_FAILED : EXIT_OK;
}
