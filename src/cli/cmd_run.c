/* cmd_run.c - `baton run FILE`, `baton run --resume RUN_ID` and `baton run --retry RUN_ID`. */
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/remote.h"
#include "cli/run_session.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void cmd_run_usage(FILE *f) {
    fputs("usage: baton run FILE|TEMPLATE [options]   (TEMPLATE: a shipped workflow's name, e.g.\n"
          "                                            sdlc, when no file has that name)\n"
          "       baton run --resume RUN_ID [options]   carry on (after a crash, or a paused run)\n"
          "       baton run --retry RUN_ID [options]    a failed or cancelled run, from its failed "
          "tasks\n"
          "  --input KEY=VALUE     a run input (repeatable)\n"
          "  --inputs-file FILE    run inputs from a JSON object\n"
          "  --data-dir DIR        where baton.db and artifacts/ live ($BATON_DATA_DIR, else "
          "./baton-data)\n"
          "  --config FILE         configuration (providers, prices)\n"
          "  --auto-approve        answer human steps automatically (approve, first option)\n"
          "  --json                print one JSON object at the end instead of the live view\n"
          "  --durability MODE     normal (default) or full (every commit synced)\n"
          "  --llm-mode MODE       live (default), record (store every model answer in the\n"
          "                        recordings) or replay (answer only from them, no network)\n"
          "  --recordings FILE     the recordings file (default DATA_DIR/recordings.json)\n"
          "  --server URL          run it on a Baton server instead (default $BATON_SERVER): the\n"
          "                        command waits for the run to stop, as it does here; with\n"
          "                        --resume or --retry, the server carries on its run\n"
          "exit: 0 completed, 1 failed or cancelled, 2 invalid workflow or usage, 3 waiting for a "
          "human\n",
          f);
}

/* The run's pending approvals answered as --auto-approve would. false when one could not be. */
static bool auto_answer_remote(const char *server, const char *run_id, char **err) {
    json_t *page = remote_call(server, "GET", "/api/v1/approvals", NULL, err);
    if (!page) return false;
    bool ok = true;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(page, "items"), i, a) {
        if (!ok || strcmp(json_string_value(json_object_get(a, "run_id")), run_id)) continue;
        json_t *answer = run_session_auto_answer(json_object_get(a, "request"));
        char *path =
            xasprintf("/api/v1/approvals/%s/respond", json_string_value(json_object_get(a, "id")));
        json_t *done = remote_call(server, "POST", path, answer, err);
        ok = done != NULL;
        json_decref(done);
        free(path);
        json_decref(answer);
    }
    json_decref(page);
    return ok;
}

/* Waits until the server's run `id` stops (polling its status: a run that needs a person stops
 * the wait, unless --auto-approve answers) and reports it with the same exit statuses as a run
 * here. */
static int wait_remote(const char *server, const char *id, bool json, bool auto_approve) {
    char *err = NULL;
    json_t *sum = NULL;
    int code = EXIT_FAILED;
    char *eid = remote_escape(id);
    char *status_path = xasprintf("/api/v1/runs/%s", eid);
    for (unsigned wait_ms = 50;; wait_ms = wait_ms < 1000 ? wait_ms * 2 : 1000) {
        json_decref(sum);
        if (!(sum = remote_call(server, "GET", status_path, NULL, &err))) break;
        const char *st = json_string_value(json_object_get(sum, "status"));
        if (!strcmp(st, "waiting_human") && auto_approve) {
            if (!auto_answer_remote(server, id, &err)) break;
        } else if (strcmp(st, "running") && strcmp(st, "pending")) {
            code = cli_exit_for_status(st);
            if (json_is_true(json_object_get(sum, "simulated")))
                cli_print_simulated_notice(stderr, NULL);
            if (json)
                cli_print_json(sum);
            else
                printf("%s  %s  $%.4f\n", st, id,
                       json_number_value(json_object_get(sum, "cost_usd")));
            if (!strcmp(st, "waiting_human") && !json)
                printf("answer with: baton approvals ls --server %s, then baton approvals respond "
                       "%s TASK "
                       "--decision D --server %s\n",
                       server, id, server);
            break;
        }
        usleep(wait_ms * 1000);
    }
    if (err) fprintf(stderr, "baton run: %s\n", err);
    free(err);
    free(status_path);
    free(eid);
    json_decref(sum);
    return code;
}

/* `baton run FILE --server URL`: the server runs it; this command waits until it stops. */
static int run_remote(const char *server, const char *path, const json_t *inputs, bool json,
                      bool auto_approve) {
    char *err = NULL;
    size_t len;
    char *text = cli_read_file(path, WF_MAX_DOC_BYTES, &len, &err);
    json_t *run = NULL;
    int code = EXIT_FAILED;
    if (!text) {
        code = EXIT_USAGE;
        goto out;
    }
    json_t *body = json_pack("{s:s, s:O}", "workflow", text, "inputs", inputs);
    run = remote_call(server, "POST", "/api/v1/runs", body, &err);
    json_decref(body);
    if (!run) {
        code = remote_last_status() == 422 ? EXIT_USAGE : EXIT_FAILED;
        goto out;
    }
    const char *id = json_string_value(json_object_get(run, "id"));
    if (!json) printf("run %s started on %s\n", id, server);
    code = wait_remote(server, id, json, auto_approve);
out:
    if (err) fprintf(stderr, "baton run: %s\n", err);
    free(err);
    free(text);
    json_decref(run);
    return code;
}

/* `baton run --resume|--retry RUN_ID --server URL`: POST /api/v1/runs/ID/resume or /retry, then
 * the same wait. A refusal (a run that is not paused, not failed) is the server's 409 message. */
static int steer_remote(const char *server, const char *id, bool retry, bool json,
                        bool auto_approve) {
    char *err = NULL, *eid = remote_escape(id);
    char *path = xasprintf("/api/v1/runs/%s/%s", eid, retry ? "retry" : "resume");
    json_t *run = remote_call(server, "POST", path, NULL, &err);
    int code = EXIT_FAILED;
    if (run) {
        const char *full = json_string_value(json_object_get(run, "id"));
        if (!json) printf("run %s %s on %s\n", full, retry ? "retried" : "resumed", server);
        code = wait_remote(server, full ? full : id, json, auto_approve);
    } else {
        fprintf(stderr, "baton run: %s\n", err);
    }
    free(err);
    free(eid);
    free(path);
    json_decref(run);
    return code;
}

/* FILE, or the name of a shipped template (sdlc, code_review, ...) when no such file is here:
 * TEMPLATES/NAME.yaml, found as the catalog is (cli_templates_dir). Caller frees. */
static char *workflow_file(const char *arg) {
    if (access(arg, F_OK) == 0 || strchr(arg, '/')) return xstrdup(arg);
    char *dir = cli_templates_dir(), *found = NULL;
    for (int k = 0; dir && !found && k < 2; k++) {
        char *p = xasprintf("%s/%s.%s", dir, arg, k ? "yml" : "yaml");
        if (access(p, R_OK) == 0)
            found = p;
        else
            free(p);
    }
    free(dir);
    return found ? found : xstrdup(arg);
}

int cmd_run(int argc, char **argv) {
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'},    {"inputs-file", required_argument, NULL, 'f'},
        {"data-dir", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
        {"auto-approve", no_argument, NULL, 'a'},   {"json", no_argument, NULL, 'j'},
        {"resume", required_argument, NULL, 'r'},   {"durability", required_argument, NULL, 'D'},
        {"retry", required_argument, NULL, 'T'},    {"server", required_argument, NULL, 'S'},
        {"llm-mode", required_argument, NULL, 'm'}, {"recordings", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},           {0, 0, 0, 0},
    };
    run_session_opts_t o = {.data_dir = cli_default_data_dir()};
    run_session_req_t req = {.kind = SESSION_START};
    const char *server_flag = NULL;
    json_t *inputs = json_object(), *file_inputs = NULL;
    char *wf_file = NULL;
    int code = EXIT_USAGE, c;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "h", longopts, "run")) != -1) {
        switch (c) {
        case 'i': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                fprintf(stderr, "baton run: --input takes KEY=VALUE, got '%s'\n", optarg);
                goto out;
            }
            char *key = xstrndup(optarg, (size_t)(eq - optarg));
            json_object_set_new(inputs, key, json_string(eq + 1));
            free(key);
            break;
        }
        case 'f': {
            json_error_t jerr;
            json_decref(file_inputs);
            file_inputs = json_load_file(optarg, 0, &jerr);
            if (!json_is_object(file_inputs)) {
                fprintf(stderr, "baton run: %s:%d:%d: %s\n", optarg, jerr.line, jerr.column,
                        file_inputs ? "expected a JSON object of inputs" : jerr.text);
                goto out;
            }
            break;
        }
        case 'd':
            o.data_dir = optarg;
            break;
        case 'c':
            o.config_path = optarg;
            break;
        case 'a':
            o.auto_approve = true;
            break;
        case 'm':
            o.llm_mode = optarg;
            break;
        case 'R':
            o.recordings = optarg;
            break;
        case 'j':
            o.json = true;
            break;
        case 'r':
            req.kind = SESSION_RESUME;
            req.run_id = optarg;
            break;
        case 'T':
            req.kind = SESSION_RETRY;
            req.run_id = optarg;
            break;
        case 'S':
            server_flag = optarg;
            break;
        case 'D':
            if (!strcmp(optarg, "full"))
                o.durability = STORE_DURABILITY_FULL;
            else if (strcmp(optarg, "normal")) {
                fprintf(stderr, "baton run: --durability is normal or full, not '%s'\n", optarg);
                goto out;
            }
            break;
        case 'h':
            cmd_run_usage(stdout);
            code = EXIT_OK;
            goto out;
        default:
            goto out;
        }
    }
    if (req.kind == SESSION_START) {
        if (optind != argc - 1) {
            cmd_run_usage(stderr);
            goto out;
        }
        req.workflow_path = wf_file = workflow_file(argv[optind]);
    } else if (optind != argc) {
        fprintf(stderr, "baton run: --resume and --retry take a run id, not a file\n");
        goto out;
    }
    /* --input wins over --inputs-file for the same key. */
    if (file_inputs) {
        json_object_update_missing(inputs, file_inputs);
    }
    req.inputs = inputs;
    const char *server = remote_server(server_flag);
    if (server && req.kind != SESSION_START)
        code = steer_remote(server, req.run_id, req.kind == SESSION_RETRY, o.json, o.auto_approve);
    else if (server)
        code = run_remote(server, req.workflow_path, inputs, o.json, o.auto_approve);
    else
        code = run_session(&o, &req);
out:
    json_decref(inputs);
    json_decref(file_inputs);
    free(wf_file);
    return code;
}
