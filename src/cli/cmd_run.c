/* cmd_run.c - `baton run FILE`, `baton run --resume RUN_ID` and `baton run --retry RUN_ID`. */
#include "cli/run_session.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: baton run FILE [options]\n"
          "       baton run --resume RUN_ID [options]   carry on (after a crash, or a paused run)\n"
          "       baton run --retry RUN_ID [options]    a failed or cancelled run, from its failed tasks\n"
          "  --input KEY=VALUE     a run input (repeatable)\n"
          "  --inputs-file FILE    run inputs from a JSON object\n"
          "  --data-dir DIR        where baton.db and artifacts/ live (default ./baton-data)\n"
          "  --config FILE         configuration (providers, prices)\n"
          "  --auto-approve        answer human steps automatically (approve, first option)\n"
          "  --json                print one JSON object at the end instead of the live view\n"
          "  --durability MODE     normal (default) or full (every commit synced)\n"
          "  --llm-mode MODE       live (default), record (store every model answer in the\n"
          "                        recordings) or replay (answer only from them, no network)\n"
          "  --recordings FILE     the recordings file (default DATA_DIR/recordings.json)\n"
          "exit: 0 completed, 1 failed or cancelled, 2 invalid workflow or usage, 3 waiting for a human\n",
          f);
}

int cmd_run(int argc, char **argv) {
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'},   {"inputs-file", required_argument, NULL, 'f'},
        {"data-dir", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
        {"auto-approve", no_argument, NULL, 'a'},   {"json", no_argument, NULL, 'j'},
        {"resume", required_argument, NULL, 'r'},  {"durability", required_argument, NULL, 'D'},
        {"retry", required_argument, NULL, 'T'},
        {"llm-mode", required_argument, NULL, 'm'}, {"recordings", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},          {0, 0, 0, 0},
    };
    run_session_opts_t o = {.data_dir = "baton-data"};
    run_session_req_t req = {.kind = SESSION_START};
    json_t *inputs = json_object(), *file_inputs = NULL;
    int code = EXIT_USAGE, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
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
        case 'd': o.data_dir = optarg; break;
        case 'c': o.config_path = optarg; break;
        case 'a': o.auto_approve = true; break;
        case 'm': o.llm_mode = optarg; break;
        case 'R': o.recordings = optarg; break;
        case 'j': o.json = true; break;
        case 'r': req.kind = SESSION_RESUME; req.run_id = optarg; break;
        case 'T': req.kind = SESSION_RETRY; req.run_id = optarg; break;
        case 'D':
            if (!strcmp(optarg, "full")) o.durability = STORE_DURABILITY_FULL;
            else if (strcmp(optarg, "normal")) {
                fprintf(stderr, "baton run: --durability is normal or full, not '%s'\n", optarg);
                goto out;
            }
            break;
        case 'h': usage(stdout); code = EXIT_OK; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (req.kind == SESSION_START) {
        if (optind != argc - 1) {
            usage(stderr);
            goto out;
        }
        req.workflow_path = argv[optind];
    } else if (optind != argc) {
        fprintf(stderr, "baton run: --resume and --retry take a run id, not a file\n");
        goto out;
    }
    /* --input wins over --inputs-file for the same key. */
    if (file_inputs) {
        json_object_update_missing(inputs, file_inputs);
    }
    req.inputs = inputs;
    code = run_session(&o, &req);
out:
    json_decref(inputs);
    json_decref(file_inputs);
    return code;
}
