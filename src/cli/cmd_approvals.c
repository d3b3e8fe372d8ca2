/* cmd_approvals.c - `baton approvals ls|respond`: human steps waiting in a data dir. Answering
 * one also carries the run on, in this terminal, to its next stop. With --server they are a
 * server's, and answering one lets the server carry the run on. */
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/remote.h"
#include "cli/run_session.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

void cmd_approvals_usage(FILE *f) {
    fputs("usage: baton approvals ls [--all] [--json] [--data-dir DIR | --server URL]\n"
          "       baton approvals respond RUN_ID TASK_ID --decision D [--feedback TEXT]\n"
          "                               [--edited-output-file F] [--auto-approve] [--json]\n"
          "                               [--data-dir DIR] [--config F] [--server URL]\n",
          f);
}

static void print_approvals(json_t *rows, bool json) {
    if (json) {
        cli_print_json(rows);
    } else if (!json_array_size(rows)) {
        printf("nothing is waiting for a human\n");
    } else {
        printf("%-16s %-24s %-9s %-10s %s\n", "RUN", "TASK", "KIND", "STATUS", "TITLE");
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) {
            json_t *req = json_object_get(r, "request");
            printf("%-16s %-24s %-9s %-10s %s\n", json_string_value(json_object_get(r, "run_id")),
                   json_string_value(json_object_get(r, "task_id")),
                   json_string_value(json_object_get(req, "kind")),
                   json_string_value(json_object_get(r, "status")),
                   json_string_value(json_object_get(req, "title")));
        }
    }
}

/* dir_given: --data-dir was on the command line (a typo there must show, not "nothing"). */
static int approvals_ls(const char *data_dir, bool dir_given, bool all, bool json) {
    char *err = NULL;
    bool missing;
    store_t *st = cli_open_existing_store(data_dir, &missing, &err);
    if (!st && missing && dir_given) {
        fprintf(stderr, "baton approvals ls: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    if (!st && missing) {
        free(err);
        if (json)
            puts("[]");
        else
            printf("nothing is waiting for a human\n");
        return EXIT_OK;
    }
    if (!st) {
        fprintf(stderr, "baton approvals: %s\n", err);
        free(err);
        return EXIT_FAILED;
    }
    json_t *rows = store_approvals(st, NULL, all ? NULL : "pending");
    print_approvals(rows, json);
    json_decref(rows);
    store_close(st);
    return EXIT_OK;
}

/* --server: the server's approvals; an answer goes to it, and it carries the run on. */
static int approvals_remote(const char *server, const char *sub, const char *run_id,
                            const char *task_id, bool all, bool json, json_t *answer) {
    char *err = NULL;
    int code = EXIT_FAILED;
    if (!strcmp(sub, "ls")) {
        json_t *page = remote_call(
            server, "GET", all ? "/api/v1/approvals?status=all" : "/api/v1/approvals", NULL, &err);
        if (page) {
            json_t *items = json_object_get(page, "items");
            size_t i;
            json_t *r;
            json_array_foreach(items, i, r)
                json_object_del(r, "id"); /* the data dir's rows have none */
            print_approvals(items, json);
            code = EXIT_OK;
        }
        json_decref(page);
    } else {
        char *id = xasprintf("%s.%s", run_id, task_id);
        char *eid = remote_escape(id);
        char *path = xasprintf("/api/v1/approvals/%s/respond", eid);
        json_t *done = remote_call(server, "POST", path, answer, &err);
        if (done) {
            if (json)
                cli_print_json(done);
            else
                printf("answered %s: %s (the server carries the run on)\n", id,
                       json_string_value(json_object_get(answer, "decision")));
            code = EXIT_OK;
        } else {
            code = remote_exit_code(); /* answered already, a decision it does not offer: 2 */
        }
        json_decref(done);
        free(path);
        free(eid);
        free(id);
    }
    if (err) fprintf(stderr, "baton approvals: %s\n", err);
    free(err);
    return code;
}

int cmd_approvals(int argc, char **argv) {
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"all", no_argument, NULL, 'A'},
        {"json", no_argument, NULL, 'j'},
        {"decision", required_argument, NULL, 'D'},
        {"feedback", required_argument, NULL, 'f'},
        {"edited-output-file", required_argument, NULL, 'e'},
        {"auto-approve", no_argument, NULL, 'a'},
        {"config", required_argument, NULL, 'c'},
        {"server", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    if (argc < 2) {
        cmd_approvals_usage(stderr);
        return EXIT_USAGE;
    }
    run_session_opts_t o = {.data_dir = cli_default_data_dir()};
    bool dir_given = false;
    const char *decision = NULL, *feedback = NULL, *edited_path = NULL, *server_flag = NULL;
    bool all = false;
    int c;
    optind = 2;
    while ((c = cli_getopt(argc, argv, "h", longopts, "approvals")) != -1) {
        switch (c) {
        case 'd':
            o.data_dir = optarg;
            dir_given = true;
            break;
        case 'A':
            all = true;
            break;
        case 'j':
            o.json = true;
            break;
        case 'D':
            decision = optarg;
            break;
        case 'f':
            feedback = optarg;
            break;
        case 'e':
            edited_path = optarg;
            break;
        case 'a':
            o.auto_approve = true;
            break;
        case 'c':
            o.config_path = optarg;
            break;
        case 'S':
            server_flag = optarg;
            break;
        case 'h':
            cmd_approvals_usage(stdout);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    const char *server = remote_server(server_flag);
    if (!strcmp(argv[1], "ls") && optind == argc)
        return server ? approvals_remote(server, "ls", NULL, NULL, all, o.json, NULL)
                      : approvals_ls(o.data_dir, dir_given, all, o.json);
    if (strcmp(argv[1], "respond") || optind != argc - 2 || !decision) {
        cmd_approvals_usage(stderr);
        return EXIT_USAGE;
    }
    char *edited = NULL, *err = NULL;
    if (edited_path && !(edited = cli_read_file(edited_path, WF_MAX_STRING, NULL, &err))) {
        fprintf(stderr, "baton approvals: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    const char *user = getenv("USER");
    json_t *answer =
        json_pack("{s:s, s:s?, s:s?, s:s}", "decision", decision, "feedback", feedback,
                  "edited_output", edited, "answered_by", user && *user ? user : "cli");
    free(edited);
    run_session_req_t req = {.kind = SESSION_RESPOND,
                             .run_id = argv[optind],
                             .task_id = argv[optind + 1],
                             .answer = answer};
    int code = server ? approvals_remote(server, "respond", argv[optind], argv[optind + 1], false,
                                         o.json, answer)
                      : run_session(&o, &req);
    json_decref(answer);
    return code;
}
