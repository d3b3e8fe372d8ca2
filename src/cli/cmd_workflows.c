/* cmd_workflows.c - `baton workflows ls|show|push|rm`: stored, versioned workflows, in the data
 * dir or (--server URL, $BATON_SERVER) on a server, with the same output either way. A pushed
 * file is validated here first, so its errors are located in the file, then stored as a new
 * workflow or (--id) as the next version of one. */
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_workflows_usage(FILE *f) {
    fputs(
        "usage: baton workflows ls [--json] [--data-dir DIR | --server URL]\n"
        "       baton workflows show ID [--version N] [--json] [--data-dir DIR | --server URL]\n"
        "       baton workflows push FILE [--id ID] [--json] [--data-dir DIR | --server URL]\n"
        "       baton workflows rm ID [--data-dir DIR | --server URL]\n"
        "  show prints the source (the latest version, or --version N); push stores FILE as a new\n"
        "  workflow, or with --id as the next version of that one (the same bytes make none)\n",
        f);
}

typedef struct opts {
    const char *data_dir, *server, *id;
    long long version;
    bool json;
} opts_t;

static void print_list(json_t *rows, bool json) {
    if (json) {
        cli_print_json(rows);
        return;
    }
    if (!json_array_size(rows)) {
        printf("no stored workflows (store one with `baton workflows push FILE`)\n");
        return;
    }
    printf("%-18s %7s  %s\n", "ID", "VERSION", "NAME");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
        printf("%-18s %7lld  %s\n", json_string_value(json_object_get(r, "id")),
               json_integer_value(json_object_get(r, "version")),
               json_string_value(json_object_get(r, "name")));
}

/* A workflow (or one version) as `show` prints it: the JSON, or its source. */
static void print_one(json_t *wf, bool json) {
    if (json)
        cli_print_json(wf);
    else
        fputs(json_string_value(json_object_get(wf, "source")) ?: "", stdout);
}

/* The file checked as `baton validate` checks it: its text (caller frees) and name, or NULL with
 * its errors printed. */
static char *checked_file(const char *path, size_t *len, char **name) {
    diag_list_t dl = {0};
    char *text = cli_check_workflow_file(path, len, name, &dl);
    if (!text) cli_print_diags(&dl);
    diag_list_free(&dl);
    return text;
}

static int remote(const opts_t *o, const char *sub, const char *arg) {
    char *err = NULL, *path = NULL, *eid = arg ? remote_escape(arg) : NULL;
    json_t *got = NULL;
    int code = EXIT_FAILED;
    if (!strcmp(sub, "ls")) {
        got = remote_call(o->server, "GET", "/api/v1/workflows?limit=100", NULL, &err);
        if (got) print_list(json_object_get(got, "items"), o->json);
    } else if (!strcmp(sub, "show")) {
        long long v = o->version;
        if (!v) { /* the latest: the workflow says which it is */
            path = xasprintf("/api/v1/workflows/%s", eid);
            got = remote_call(o->server, "GET", path, NULL, &err);
            v = json_integer_value(json_object_get(got, "version"));
            json_decref(got);
            got = NULL;
            free(path);
            path = NULL;
        }
        if (v) {
            path = xasprintf("/api/v1/workflows/%s/versions/%lld", eid, v);
            got = remote_call(o->server, "GET", path, NULL, &err);
            if (got) print_one(got, o->json);
        }
    } else if (!strcmp(sub, "rm")) {
        path = xasprintf("/api/v1/workflows/%s", eid);
        got = remote_call(o->server, "DELETE", path, NULL, &err);
        if (got) printf("deleted %s\n", arg);
    } else { /* push */
        size_t len;
        char *name = NULL;
        char *text = checked_file(arg, &len, &name);
        if (!text) {
            free(eid);
            return EXIT_USAGE;
        }
        char *eo = o->id ? remote_escape(o->id) : NULL;
        path = o->id ? xasprintf("/api/v1/workflows/%s", eo) : xstrdup("/api/v1/workflows");
        got = remote_call_text(o->server, o->id ? "PUT" : "POST", path, text, len, &err);
        if (got && o->json)
            cli_print_json(got);
        else if (got)
            printf("%s %s version %lld (%s)\n", o->id ? "updated" : "stored",
                   json_string_value(json_object_get(got, "id")),
                   json_integer_value(json_object_get(got, "version")), name);
        free(eo);
        free(text);
        free(name);
    }
    if (got) code = EXIT_OK;
    if (err) fprintf(stderr, "baton workflows: %s\n", err);
    free(err);
    free(path);
    free(eid);
    json_decref(got);
    return code;
}

static int local(const opts_t *o, const char *sub, const char *arg) {
    char *err = NULL;
    bool missing = false;
    store_t *st = !strcmp(sub, "push") ? cli_open_store(o->data_dir, STORE_DURABILITY_NORMAL, &err)
                                       : cli_open_existing_store(o->data_dir, &missing, &err);
    if (!st) {
        fprintf(stderr, "baton workflows: %s\n", err);
        free(err);
        return strcmp(sub, "push") && missing ? EXIT_USAGE : EXIT_FAILED;
    }
    json_t *got = NULL;
    int rc = 0;
    if (!strcmp(sub, "ls")) {
        got = store_workflows_page(st, NULL, 100, &err);
        if (got)
            print_list(got, o->json);
        else
            rc = -1;
    } else if (!strcmp(sub, "show")) {
        rc = store_workflow_version(st, arg, o->version, &got, &err);
        if (!rc) print_one(got, o->json);
    } else if (!strcmp(sub, "rm")) {
        rc = store_workflow_delete(st, arg, &err);
        if (!rc) printf("deleted %s\n", arg);
    } else {
        size_t len;
        char *name = NULL;
        char *text = checked_file(arg, &len, &name);
        if (!text) {
            store_close(st);
            return EXIT_USAGE;
        }
        json_error_t jerr;
        json_t *j = json_loadb(text, len, 0, &jerr);
        store_wf_source_t src = {.name = name,
                                 .text = text,
                                 .len = len,
                                 .format = json_is_object(j) ? STORE_WF_JSON : STORE_WF_YAML};
        json_decref(j);
        char *id = NULL;
        int64_t version = 1;
        bool changed = true;
        rc = o->id ? store_workflow_update(st, o->id, &src, &version, &changed, &err)
                   : store_workflow_create(st, &src, &id, &err);
        if (!rc) rc = store_workflow_get(st, o->id ? o->id : id, false, &got, &err);
        if (!rc && o->json)
            cli_print_json(got);
        else if (!rc)
            printf("%s %s version %lld (%s)\n", o->id ? "updated" : "stored", o->id ? o->id : id,
                   json_integer_value(json_object_get(got, "version")), name);
        free(id);
        free(text);
        free(name);
    }
    if (rc)
        fprintf(stderr, "baton workflows: %s\n",
                err                     ? err
                : rc == STORE_NOT_FOUND ? "no such workflow"
                                        : "the store failed");
    free(err);
    json_decref(got);
    store_close(st);
    return rc ? EXIT_FAILED : EXIT_OK;
}

int cmd_workflows(int argc, char **argv) {
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"server", required_argument, NULL, 'S'},
        {"version", required_argument, NULL, 'v'},
        {"id", required_argument, NULL, 'i'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    if (argc < 2) {
        cmd_workflows_usage(stderr);
        return EXIT_USAGE;
    }
    opts_t o = {.data_dir = cli_default_data_dir()};
    const char *server_flag = NULL, *sub = argv[1];
    int c;
    optind = 2;
    while ((c = cli_getopt(argc, argv, "h", longopts, "workflows")) != -1) {
        switch (c) {
        case 'd':
            o.data_dir = optarg;
            break;
        case 'S':
            server_flag = optarg;
            break;
        case 'v':
            if (!cli_opt_number("workflows", "--version", optarg, 1, INT64_MAX, &o.version))
                return EXIT_USAGE;
            break;
        case 'i':
            o.id = optarg;
            break;
        case 'j':
            o.json = true;
            break;
        case 'h':
            cmd_workflows_usage(stdout);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    bool takes_arg = !strcmp(sub, "show") || !strcmp(sub, "push") || !strcmp(sub, "rm");
    if ((!takes_arg && strcmp(sub, "ls")) || optind != argc - (takes_arg ? 1 : 0) ||
        o.version < 0) {
        cmd_workflows_usage(stderr);
        return EXIT_USAGE;
    }
    o.server = remote_server(server_flag);
    const char *arg = takes_arg ? argv[optind] : NULL;
    return o.server ? remote(&o, sub, arg) : local(&o, sub, arg);
}
