/* cmd_runs.c - `baton runs ls|show|events`: what the data dir (or, with --server, a Baton
 * server) knows about runs. The same output either way: the server answers with the same JSON. */
#include "cli/remote.h"
#include "cli/run_session.h"
#include "cli/view.h"
#include "core/json_time.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fputs("usage: baton runs ls [--status S] [--limit N] [--json] [--data-dir DIR | --server URL]\n"
          "       baton runs show RUN_ID [--json] [--data-dir DIR | --server URL]\n"
          "       baton runs events RUN_ID [--after SEQ] [--json] [--data-dir DIR | --server URL]\n"
          "       baton runs fork RUN_ID --at SEQ [--input K=V]... [--auto-approve] [--json]\n"
          "                       [--config F] [--data-dir DIR]\n",
          f);
}

/* `baton runs fork`: a new run with the parent's history up to --at, carried on here. */
static int runs_fork(int argc, char **argv) {
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"at", required_argument, NULL, 'a'},
        {"input", required_argument, NULL, 'i'},
        {"auto-approve", no_argument, NULL, 'y'},
        {"json", no_argument, NULL, 'j'},
        {"config", required_argument, NULL, 'c'},
        {0, 0, 0, 0},
    };
    run_session_opts_t o = {.data_dir = "baton-data"};
    run_session_req_t req = {.kind = SESSION_FORK};
    json_t *inputs = json_object();
    long long at = 0;
    int c, code = EXIT_USAGE;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.data_dir = optarg;
            break;
        case 'a':
            at = atoll(optarg);
            break;
        case 'y':
            o.auto_approve = true;
            break;
        case 'j':
            o.json = true;
            break;
        case 'c':
            o.config_path = optarg;
            break;
        case 'i': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                fprintf(stderr, "baton runs fork: --input takes KEY=VALUE, got '%s'\n", optarg);
                goto out;
            }
            char *key = xstrndup(optarg, (size_t)(eq - optarg));
            json_object_set_new(inputs, key, json_string(eq + 1));
            free(key);
            break;
        }
        default:
            usage(stderr);
            goto out;
        }
    }
    if (optind != argc - 1 || at < 1) {
        usage(stderr);
        goto out;
    }
    req.run_id = argv[optind];
    req.fork_at = (uint64_t)at;
    req.inputs = inputs;
    code = run_session(&o, &req);
out:
    json_decref(inputs);
    return code;
}

static void format_time(char *buf, size_t len, json_int_t ms) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* A time as the store keeps it (epoch ms) or as a server answers it (RFC 3339): epoch ms. */
static json_int_t ms_of(const json_t *v) {
    int64_t ms = 0;
    if (json_is_string(v) && json_time_parse(json_string_value(v), &ms)) return ms;
    return json_integer_value(v);
}

static int runs_ls(json_t *rows, bool json) {
    if (json) {
        json_t *views = json_array(); /* each run as the API lists it */
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) json_array_append_new(views, store_run_view(r));
        cli_print_json(views);
        json_decref(views);
    } else if (!json_array_size(rows)) {
        printf("no runs yet (start one with `baton run FILE`)\n");
    } else {
        printf("%-16s %-14s %-19s %9s  %s\n", "RUN", "STATUS", "CREATED", "COST", "WORKFLOW");
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) {
            char when[32];
            format_time(when, sizeof when, ms_of(json_object_get(r, "created_at")));
            printf("%-16s %-14s %-19s %9.4f  %s\n", json_string_value(json_object_get(r, "id")),
                   json_string_value(json_object_get(r, "status")), when,
                   json_number_value(json_object_get(r, "cost_usd")),
                   json_string_value(json_object_get(r, "workflow")));
        }
    }
    json_decref(rows);
    return EXIT_OK;
}

/* sum: the run's summary; rows: its tasks rows (started_at/finished_at give durations when
 * present). Both stolen. */
static int runs_show(json_t *sum, json_t *rows, const char *id, bool json) {
    if (!sum) {
        json_decref(rows);
        return EXIT_FAILED;
    }
    if (json) {
        json_decref(rows);
        cli_print_json(sum);
        json_decref(sum);
        return EXIT_OK;
    }
    printf("run       %s\nworkflow  %s\nstatus    %s\ncost      $%.4f\n", id,
           json_string_value(json_object_get(sum, "workflow")),
           json_string_value(json_object_get(sum, "status")),
           json_number_value(json_object_get(sum, "cost_usd")));
    if (json_is_number(json_object_get(json_object_get(sum, "llm"), "reference_cost_usd")) ||
        json_integer_value(json_object_get(json_object_get(sum, "llm"), "cached"))) {
        printf("models    ");
        cli_print_savings(stdout, sum);
    }
    const char *err = json_string_value(json_object_get(sum, "error"));
    if (err) printf("error     %s\n", err);
    printf("\n%-28s %-14s %8s %9s  %s\n", "TASK", "STATUS", "ATTEMPTS", "COST", "NOTE");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        json_int_t s = json_integer_value(json_object_get(r, "started_at"));
        json_int_t f = json_integer_value(json_object_get(r, "finished_at"));
        char dur[32] = "";
        if (s && f) view_format_duration(dur, sizeof dur, f - s);
        const char *e = json_string_value(json_object_get(r, "error"));
        printf("%-28s %-14s %8lld %9.4f  %s%s%s\n",
               json_string_value(json_object_get(r, "task_id")),
               json_string_value(json_object_get(r, "status")),
               json_integer_value(json_object_get(r, "attempts")),
               json_number_value(json_object_get(r, "cost_usd")), dur, e && *dur ? "  " : "",
               e ? e : "");
    }
    json_decref(rows);
    json_t *arts = json_object_get(sum, "artifacts");
    if (json_array_size(arts)) {
        printf("\n%-32s %9s  %-16s  %s\n", "ARTIFACT", "BYTES", "SHA256", "VERSION");
        json_array_foreach(arts, i, r)
            printf("%-32s %9lld  %.16s  %lld\n", json_string_value(json_object_get(r, "name")),
                   json_integer_value(json_object_get(r, "bytes")),
                   json_string_value(json_object_get(r, "sha256")),
                   json_integer_value(json_object_get(r, "version")));
    }
    json_decref(sum);
    return EXIT_OK;
}

typedef struct {
    bool json;
    json_t *all;
} events_ctx_t;

static int print_event(void *ud, uint64_t seq, int64_t ts, const char *type, json_t *data) {
    events_ctx_t *c = ud;
    if (c->json) {
        json_array_append_new(c->all,
                              json_pack("{s:I, s:o, s:s, s:O}", "seq", (json_int_t)seq, "at",
                                        json_time_string(ts), "type", type, "data", data));
        return 0;
    }
    char when[32];
    format_time(when, sizeof when, ts);
    json_t *brief = json_deep_copy(data);
    /* Long texts make the listing unreadable: `runs show --json` has them whole. */
    json_object_del(brief, "source");
    json_object_del(brief, "agents");
    json_object_del(brief, "output");
    json_object_del(brief, "outputs");
    json_object_del(brief, "proposal");
    char *d = json_dumps(brief, JSON_COMPACT);
    printf("%6llu  %s.%03lld  %-20s %s\n", (unsigned long long)seq, when, (long long)(ts % 1000),
           type, d);
    free(d);
    json_decref(brief);
    return 0;
}

/* The tasks rows a server's summary implies (in workflow order; no start and end times). */
static json_t *rows_from_summary(const json_t *sum) {
    json_t *rows = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(sum, "tasks"), i, t) {
        json_array_append_new(
            rows, json_pack("{s:O, s:O, s:O, s:O, s:O}", "task_id", json_object_get(t, "id"),
                            "status", json_object_get(t, "status"), "attempts",
                            json_object_get(t, "attempts_total"), "cost_usd",
                            json_object_get(t, "cost_usd"), "error", json_object_get(t, "error")));
    }
    return rows;
}

/* `baton runs ls|show|events --server URL` */
static int runs_remote(const char *server, const char *sub, const char *id, const char *status,
                       int limit, long long after, bool json) {
    char *err = NULL, *path = NULL;
    int code = EXIT_FAILED;
    char *eid = id ? remote_escape(id) : NULL;
    if (!strcmp(sub, "ls")) {
        char *es = status ? remote_escape(status) : NULL;
        path = xasprintf("/api/v1/runs?limit=%d%s%s",
                         limit < 1     ? 1
                         : limit > 100 ? 100
                                       : limit,
                         es ? "&status=" : "", es ? es : "");
        free(es);
        json_t *page = remote_call(server, "GET", path, NULL, &err);
        if (page) code = runs_ls(json_incref(json_object_get(page, "items")), json);
        json_decref(page);
    } else if (!strcmp(sub, "show")) {
        path = xasprintf("/api/v1/runs/%s", eid);
        json_t *sum = remote_call(server, "GET", path, NULL, &err);
        if (sum)
            code = runs_show(sum, rows_from_summary(sum),
                             json_string_value(json_object_get(sum, "id")), json);
    } else {
        events_ctx_t ctx = {json, json_array()};
        char first[32];
        snprintf(first, sizeof first, "%lld", after > 0 ? after : 0);
        json_t *next = json_string(first);
        code = EXIT_OK;
        while (json_is_string(next)) {
            free(path);
            path = xasprintf("/api/v1/runs/%s/events?limit=1000&cursor=%s", eid,
                             json_string_value(next));
            json_t *page = remote_call(server, "GET", path, NULL, &err);
            json_decref(next);
            next = NULL;
            if (!page) {
                code = EXIT_FAILED;
                break;
            }
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(page, "items"), i, e) print_event(
                &ctx, (uint64_t)json_integer_value(json_object_get(e, "seq")),
                ms_of(json_object_get(e, "at")), json_string_value(json_object_get(e, "type")),
                json_object_get(e, "data"));
            next = json_incref(json_object_get(page, "next_cursor"));
            json_decref(page);
        }
        json_decref(next);
        if (json && code == EXIT_OK) cli_print_json(ctx.all);
        json_decref(ctx.all);
    }
    if (err) fprintf(stderr, "baton runs: %s\n", err);
    free(err);
    free(path);
    free(eid);
    return code;
}

int cmd_runs(int argc, char **argv) {
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"status", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'l'},    {"json", no_argument, NULL, 'j'},
        {"after", required_argument, NULL, 'a'},    {"help", no_argument, NULL, 'h'},
        {"server", required_argument, NULL, 'S'},   {0, 0, 0, 0},
    };
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "fork")) return runs_fork(argc, argv);
    const char *data_dir = "baton-data", *status = NULL, *server_flag = NULL;
    int limit = 50, c;
    long long after = 0;
    bool json = false;
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data_dir = optarg;
            break;
        case 's':
            status = optarg;
            break;
        case 'l':
            limit = atoi(optarg);
            break;
        case 'a':
            after = atoll(optarg);
            break;
        case 'j':
            json = true;
            break;
        case 'S':
            server_flag = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    bool needs_id = !strcmp(sub, "show") || !strcmp(sub, "events");
    if ((strcmp(sub, "ls") && !needs_id) || (needs_id && optind != argc - 1) ||
        (!needs_id && optind != argc)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *server = remote_server(server_flag);
    if (server)
        return runs_remote(server, sub, needs_id ? argv[optind] : NULL, status, limit, after, json);
    char *err = NULL, *id = NULL;
    bool missing;
    store_t *st = cli_open_existing_store(data_dir, &missing, &err);
    int code = EXIT_FAILED;
    if (!st && missing && !needs_id) { /* nothing has run here: an empty list, not an error */
        free(err);
        err = NULL;
        if (json)
            puts("[]");
        else
            printf("no runs yet (start one with `baton run FILE`)\n");
        return EXIT_OK;
    }
    if (!st) goto out;
    if (!needs_id) {
        code = runs_ls(store_runs(st, status, limit), json);
        goto out;
    }
    if (store_resolve_run(st, argv[optind], &id, &err) != 0) goto out;
    if (!strcmp(sub, "show")) {
        code = runs_show(store_run_summary(st, id), store_tasks(st, id), id, json);
    } else {
        events_ctx_t ctx = {json, json_array()};
        code = store_events(st, id, (uint64_t)(after > 0 ? after : 0), print_event, &ctx)
                   ? EXIT_FAILED
                   : EXIT_OK;
        if (json) cli_print_json(ctx.all);
        json_decref(ctx.all);
    }
out:
    if (err) fprintf(stderr, "baton runs: %s\n", err);
    free(err);
    free(id);
    store_close(st);
    return code;
}
