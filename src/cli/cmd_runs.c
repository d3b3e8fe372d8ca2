/* cmd_runs.c - `baton runs ls|show|events|fork|cancel|pause|resume|message`: what the data dir
 * (or, with --server, a Baton server) knows about runs, and steering them. The same output
 * either way: the server answers with the same JSON. */
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/remote.h"
#include "cli/run_session.h"
#include "cli/view.h"
#include "cli/wsclient.h"
#include "core/json_time.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cmd_runs_usage(FILE *f) {
    fputs(
        "usage: baton runs ls [--status S] [--limit N] [--json] [--data-dir DIR | --server URL]\n"
        "       baton runs show RUN_ID [--json] [--data-dir DIR | --server URL]\n"
        "       baton runs events RUN_ID [--after SEQ] [--follow] [--json]\n"
        "                         [--data-dir DIR | --server URL]\n"
        "       baton runs fork RUN_ID --at SEQ [--input K=V]... [--auto-approve] [--json]\n"
        "                       [--config F] [--data-dir DIR]\n"
        "       baton runs cancel RUN_ID [--reason TEXT] [--json] [--data-dir DIR | --server URL]\n"
        "       baton runs pause RUN_ID [--reason TEXT] [--json] [--data-dir DIR | --server URL]\n"
        "       baton runs resume RUN_ID [--auto-approve] [--config F] [--json]\n"
        "                         [--data-dir DIR | --server URL]\n"
        "       baton runs message RUN_ID TEXT [--task T] [--agent A] [--json]\n"
        "                          [--data-dir DIR | --server URL]\n"
        "  --status S       pending, running, paused, waiting_human, completed, failed, cancelled\n"
        "  --limit N        at most N runs, 1 to 1000 (default 50; a server pages by 100 at most)\n"
        "  --after SEQ      only the events after this seq\n"
        "  --follow, -f     keep printing events as they are journaled until the run ends\n"
        "                   (completed, failed or cancelled): over the WebSocket /api/v1/ws with\n"
        "                   a server, by reading the journal otherwise; --json: one object a line\n"
        "  --server URL     a Baton server instead of the data dir (default $BATON_SERVER)\n"
        "  --data-dir DIR   where baton.db lives (default ./baton-data); it must exist\n"
        "without a server, on the data dir: cancel and pause journal the change on a run no other\n"
        "process drives (one `baton run` drives, or a `baton serve` serves: go through them);\n"
        "message journals guidance the run's agent tasks get at their next model call; resume\n"
        "carries the run on in this process, as `baton run --resume RUN_ID` does\n",
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
    run_session_opts_t o = {.data_dir = cli_default_data_dir()};
    run_session_req_t req = {.kind = SESSION_FORK};
    json_t *inputs = json_object();
    long long at = 0;
    int c, code = EXIT_USAGE;
    optind = 2;
    while ((c = cli_getopt(argc, argv, "", longopts, "runs")) != -1) {
        switch (c) {
        case 'd':
            o.data_dir = optarg;
            break;
        case 'a':
            if (!cli_opt_number("runs fork", "--at", optarg, 1, INT64_MAX, &at)) goto out;
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
            goto out;
        }
    }
    if (optind != argc - 1 || at < 1) {
        fprintf(stderr, "baton runs fork: RUN_ID and --at SEQ are needed\n");
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
        json_t *views = store_run_views(rows); /* each run as the API lists it */
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
    if (json_is_true(json_object_get(sum, "simulated")))
        printf("simulated yes: the offline model wrote some of its output (docs/models.md)\n");
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
    bool json, stream; /* stream: one JSON object a line, as each comes (--follow --json) */
    json_t *all;
    uint64_t last_seq;
    bool ended; /* --follow: a run.completed, run.failed or run.cancelled went by */
} events_ctx_t;

static bool ending_event(const char *type) {
    return !strcmp(type, "run.completed") || !strcmp(type, "run.failed") ||
           !strcmp(type, "run.cancelled");
}

static int print_event(void *ud, uint64_t seq, int64_t ts, const char *type, json_t *data) {
    events_ctx_t *c = ud;
    c->last_seq = seq;
    c->ended = c->ended || ending_event(type);
    if (c->json && c->stream) {
        json_t *e =
            json_pack("{s:I, s:o, s:s, s:o}", "seq", (json_int_t)seq, "at", json_time_string(ts),
                      "type", type, "data", store_event_view(type, data));
        char *line = json_dumps(e, JSON_COMPACT);
        puts(line);
        fflush(stdout);
        free(line);
        json_decref(e);
        return 0;
    }
    if (c->json) {
        json_array_append_new(c->all, json_pack("{s:I, s:o, s:s, s:o}", "seq", (json_int_t)seq,
                                                "at", json_time_string(ts), "type", type, "data",
                                                store_event_view(type, data)));
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
    if (c->stream) fflush(stdout);
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

typedef struct runs_opts {
    const char *sub, *id, *text;
    const char *data_dir, *status, *server, *reason, *task, *agent, *config;
    long long limit, after;
    bool json, follow, auto_approve, data_dir_given;
} runs_opts_t;

static bool run_ended(const char *status) {
    return status && (!strcmp(status, "completed") || !strcmp(status, "failed") ||
                      !strcmp(status, "cancelled"));
}

/* One page of GET /api/v1/runs/{id}/events after ctx->last_seq printed: 1 when more pages
 * follow, 0 at the end, -1 with *err. */
static int remote_events_page(const char *server, const char *eid, events_ctx_t *ctx, char **err) {
    char *path = xasprintf("/api/v1/runs/%s/events?limit=1000&after=%llu", eid,
                           (unsigned long long)ctx->last_seq);
    json_t *page = remote_call(server, "GET", path, NULL, err);
    free(path);
    if (!page) return -1;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(page, "items"), i, e)
        print_event(ctx, (uint64_t)json_integer_value(json_object_get(e, "seq")),
                    ms_of(json_object_get(e, "at")), json_string_value(json_object_get(e, "type")),
                    json_object_get(e, "data"));
    int more = json_is_string(json_object_get(page, "next_cursor")) ? 1 : 0;
    json_decref(page);
    return more;
}

/* The run's status as the server has it (caller frees), or NULL with *err. */
static char *remote_status(const char *server, const char *eid, char **err) {
    char *path = xasprintf("/api/v1/runs/%s", eid);
    json_t *sum = remote_call(server, "GET", path, NULL, err);
    free(path);
    char *st = sum ? xstrdup(json_string_value(json_object_get(sum, "status"))) : NULL;
    json_decref(sum);
    return st;
}

typedef struct {
    events_ctx_t *ctx;
    const char *server, *eid;
    char *err;
} ws_follow_t;

/* Each message of the run's topic: events are printed; the feed ends when the run has. */
static int on_ws_message(void *ud, const json_t *msg) {
    ws_follow_t *f = ud;
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type || !strcmp(type, "subscribed") || !strcmp(type, "task.delta")) return 0;
    if (!strcmp(type, "error")) {
        const json_t *d = json_object_get(msg, "data");
        f->err = xasprintf("%s (%s)", json_string_value(json_object_get(d, "message")),
                           json_string_value(json_object_get(d, "code")));
        return 1;
    }
    json_int_t seq = json_integer_value(json_object_get(msg, "seq"));
    if ((uint64_t)seq <= f->ctx->last_seq) return 0;
    print_event(f->ctx, (uint64_t)seq, ms_of(json_object_get(msg, "at")), type,
                json_object_get(msg, "data"));
    if (!ending_event(type)) return 0;
    /* A failed run can be retried: it has ended only if the server says so now. */
    char *err = NULL, *st = remote_status(f->server, f->eid, &err);
    bool ended = run_ended(st);
    free(st);
    free(err);
    return ended;
}

/* `baton runs events RUN --follow --server URL`: the journal so far, then live events, over the
 * WebSocket; an https:// server through the REST API, polled. */
static int remote_follow(const char *server, const char *id, const char *eid, events_ctx_t *ctx,
                         char **err) {
    char *st = remote_status(server, eid, err);
    if (!st) return EXIT_FAILED;
    bool ended = run_ended(st);
    free(st);
    if (ended || !wsclient_supports(server)) {
        for (unsigned wait_ms = 100;; wait_ms = wait_ms < 1000 ? wait_ms * 2 : 1000) {
            int more;
            while ((more = remote_events_page(server, eid, ctx, err)) == 1) {
            }
            if (more < 0) return EXIT_FAILED;
            if (ended) return EXIT_OK;
            if (ctx->ended) {
                if (!(st = remote_status(server, eid, err))) return EXIT_FAILED;
                ended = run_ended(st);
                free(st);
                if (ended) continue; /* the last page once more: nothing journaled is missed */
            }
            usleep(wait_ms * 1000);
        }
    }
    char *topic = xasprintf("run:%s", id);
    json_t *hello = json_pack("{s:s, s:[s], s:{s:I}}", "op", "subscribe", "topics", topic, "after",
                              topic, (json_int_t)ctx->last_seq);
    ws_follow_t f = {ctx, server, eid, NULL};
    int rc = wsclient_follow(server, "/api/v1/ws", hello, on_ws_message, &f, err);
    json_decref(hello);
    free(topic);
    if (f.err) {
        free(*err);
        *err = f.err;
        return EXIT_FAILED;
    }
    return rc == 0 ? EXIT_OK : EXIT_FAILED;
}

/* `baton runs ... --server URL` */
static int runs_remote(const runs_opts_t *o) {
    char *err = NULL, *path = NULL;
    int code = EXIT_FAILED;
    char *eid = o->id ? remote_escape(o->id) : NULL;
    const char *sub = o->sub;
    if (!strcmp(sub, "ls")) {
        char *es = o->status ? remote_escape(o->status) : NULL;
        path = xasprintf("/api/v1/runs?limit=%lld%s%s", o->limit > 100 ? 100 : o->limit,
                         es ? "&status=" : "", es ? es : "");
        free(es);
        json_t *page = remote_call(o->server, "GET", path, NULL, &err);
        if (page) code = runs_ls(json_incref(json_object_get(page, "items")), o->json);
        json_decref(page);
    } else if (!strcmp(sub, "show")) {
        path = xasprintf("/api/v1/runs/%s", eid);
        json_t *sum = remote_call(o->server, "GET", path, NULL, &err);
        if (sum)
            code = runs_show(sum, rows_from_summary(sum),
                             json_string_value(json_object_get(sum, "id")), o->json);
    } else if (!strcmp(sub, "events")) {
        events_ctx_t ctx = {o->json, o->follow, json_array(), (uint64_t)o->after, false};
        if (o->follow) {
            code = remote_follow(o->server, o->id, eid, &ctx, &err);
        } else {
            int more;
            while ((more = remote_events_page(o->server, eid, &ctx, &err)) == 1) {
            }
            code = more < 0 ? EXIT_FAILED : EXIT_OK;
            if (o->json && code == EXIT_OK) cli_print_json(ctx.all);
        }
        json_decref(ctx.all);
    } else if (!strcmp(sub, "message")) {
        path = xasprintf("/api/v1/runs/%s/messages", eid);
        json_t *body = json_pack("{s:s, s:s}", "text", o->text, "from", "cli");
        if (o->task) json_object_set_new(body, "task_id", json_string(o->task));
        if (o->agent) json_object_set_new(body, "agent_id", json_string(o->agent));
        json_t *got = remote_call(o->server, "POST", path, body, &err);
        json_decref(body);
        if (got && o->json) {
            cli_print_json(got);
        } else if (got) {
            printf("message for");
            size_t i;
            json_t *t;
            json_array_foreach(json_object_get(got, "task_ids"), i, t)
                printf(" %s", json_string_value(t));
            printf(" (at their next model call)\n");
        }
        code = got ? EXIT_OK : EXIT_FAILED;
        json_decref(got);
    } else { /* cancel, pause, resume */
        path = xasprintf("/api/v1/runs/%s/%s", eid, sub);
        json_t *body = o->reason ? json_pack("{s:s}", "reason", o->reason) : NULL;
        json_t *got = remote_call(o->server, "POST", path, body, &err);
        json_decref(body);
        if (got && o->json)
            cli_print_json(got);
        else if (got)
            printf("%s  %s\n", json_string_value(json_object_get(got, "status")),
                   json_string_value(json_object_get(got, "id")));
        code = got ? EXIT_OK : EXIT_FAILED;
        json_decref(got);
    }
    if (err) fprintf(stderr, "baton runs %s: %s\n", sub, err);
    free(err);
    free(path);
    free(eid);
    return code;
}

/* `baton runs events RUN --follow` on the data dir: what the journal has, then what it gets,
 * read every 200 ms until the run has ended. */
static int local_follow(store_t *st, const char *id, events_ctx_t *ctx) {
    for (bool ended = false;;) {
        if (store_events(st, id, ctx->last_seq, print_event, ctx)) return EXIT_FAILED;
        if (ended) return EXIT_OK;
        json_t *sum = store_run_summary(st, id);
        ended = run_ended(json_string_value(json_object_get(sum, "status")));
        json_decref(sum);
        if (!ended) usleep(200 * 1000); /* else once more: what was journaled before it ended */
    }
}

/* `baton runs cancel|pause|message|resume` on the data dir: through run_session, which brings
 * the run back from its journal only when no other process drives it. */
static int runs_steer_local(const runs_opts_t *o) {
    run_session_opts_t so = {.data_dir = o->data_dir,
                             .config_path = o->config,
                             .json = o->json,
                             .auto_approve = o->auto_approve};
    run_session_req_t req = {
        .run_id = o->id, .reason = o->reason, .text = o->text, .task = o->task, .agent = o->agent};
    req.kind = !strcmp(o->sub, "cancel")    ? SESSION_CANCEL
               : !strcmp(o->sub, "pause")   ? SESSION_PAUSE
               : !strcmp(o->sub, "message") ? SESSION_MESSAGE
                                            : SESSION_RESUME;
    return run_session(&so, &req);
}

int cmd_runs(int argc, char **argv) {
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"status", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'l'},    {"json", no_argument, NULL, 'j'},
        {"after", required_argument, NULL, 'a'},    {"help", no_argument, NULL, 'h'},
        {"server", required_argument, NULL, 'S'},   {"follow", no_argument, NULL, 'f'},
        {"reason", required_argument, NULL, 'r'},   {"task", required_argument, NULL, 't'},
        {"agent", required_argument, NULL, 'A'},    {"config", required_argument, NULL, 'c'},
        {"auto-approve", no_argument, NULL, 'y'},   {0, 0, 0, 0},
    };
    static const char *const statuses[] = {"pending",   "running", "paused",    "waiting_human",
                                           "completed", "failed",  "cancelled", NULL};
    if (argc < 2) {
        cmd_runs_usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "fork")) return runs_fork(argc, argv);
    runs_opts_t o = {.sub = sub, .data_dir = cli_default_data_dir(), .limit = 50};
    char cmd[32];
    snprintf(cmd, sizeof cmd, "runs %s", sub);
    const char *server_flag = NULL;
    int c;
    optind = 2;
    while ((c = cli_getopt(argc, argv, "hf", longopts, cmd)) != -1) {
        switch (c) {
        case 'd':
            o.data_dir = optarg;
            o.data_dir_given = true;
            break;
        case 's':
            if (!cli_opt_choice(cmd, "--status", optarg, statuses)) return EXIT_USAGE;
            o.status = optarg;
            break;
        case 'l':
            if (!cli_opt_number(cmd, "--limit", optarg, 1, 1000, &o.limit)) return EXIT_USAGE;
            break;
        case 'a':
            if (!cli_opt_number(cmd, "--after", optarg, 0, INT64_MAX, &o.after)) return EXIT_USAGE;
            break;
        case 'j':
            o.json = true;
            break;
        case 'f':
            o.follow = true;
            break;
        case 'S':
            server_flag = optarg;
            break;
        case 'r':
            o.reason = optarg;
            break;
        case 't':
            o.task = optarg;
            break;
        case 'A':
            o.agent = optarg;
            break;
        case 'c':
            o.config = optarg;
            break;
        case 'y':
            o.auto_approve = true;
            break;
        case 'h':
            cmd_runs_usage(stdout);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    /* Each subcommand's operands, and the options that mean something to it. */
    bool ls = !strcmp(sub, "ls"), message = !strcmp(sub, "message");
    int operands = ls ? 0 : message ? 2 : 1;
    const char *misplaced = o.status && !ls                                  ? "--status"
                            : o.limit != 50 && !ls                           ? "--limit"
                            : (o.follow || o.after) && strcmp(sub, "events") ? "--follow/--after"
                            : o.reason && strcmp(sub, "cancel") && strcmp(sub, "pause") ? "--reason"
                            : (o.task || o.agent) && !message ? "--task/--agent"
                            : (o.auto_approve || o.config) && strcmp(sub, "resume")
                                ? "--auto-approve/--config"
                                : NULL;
    if (misplaced) {
        fprintf(stderr,
                "baton %s: %s is not an option of runs %s\nrun 'baton runs --help' for usage\n",
                cmd, misplaced, sub);
        return EXIT_USAGE;
    }
    if (argc - optind != operands) {
        fprintf(stderr, "baton %s: %s\nrun 'baton runs --help' for usage\n", cmd,
                ls        ? "takes no operands"
                : message ? "takes RUN_ID and the TEXT of the message"
                          : "takes one RUN_ID");
        return EXIT_USAGE;
    }
    o.id = ls ? NULL : argv[optind];
    o.text = message ? argv[optind + 1] : NULL;
    if (message && !*o.text) {
        fprintf(stderr, "baton runs message: the TEXT is empty\n");
        return EXIT_USAGE;
    }
    o.server = remote_server(server_flag);
    if (o.server && o.config) {
        fprintf(stderr, "baton %s: --config is for a run carried on here; the server has its own\n",
                cmd);
        return EXIT_USAGE;
    }
    if (o.server) return runs_remote(&o);
    char *err = NULL, *id = NULL;
    bool missing;
    store_t *st = cli_open_existing_store(o.data_dir, &missing, &err);
    int code = EXIT_FAILED;
    if (!st && missing && ls && !o.data_dir_given) {
        /* nothing has run here yet: the default data dir not made yet is an empty list */
        free(err);
        if (o.json)
            puts("[]");
        else
            printf("no runs yet in ./%s (start one with `baton run FILE`)\n", o.data_dir);
        return EXIT_OK;
    }
    if (!st && missing) {
        fprintf(stderr, "baton %s: %s\n", cmd, err);
        free(err);
        return EXIT_USAGE;
    }
    if (!st) goto out;
    if (ls) {
        code = runs_ls(store_runs(st, o.status, (int)o.limit), o.json);
        goto out;
    }
    if (store_resolve_run(st, o.id, &id, &err) != 0) goto out;
    if (!strcmp(sub, "show")) {
        code = runs_show(store_run_summary(st, id), store_tasks(st, id), id, o.json);
    } else if (!strcmp(sub, "events")) {
        events_ctx_t ctx = {o.json, o.follow, json_array(), (uint64_t)o.after, false};
        if (o.follow)
            code = local_follow(st, id, &ctx);
        else
            code = store_events(st, id, ctx.last_seq, print_event, &ctx) ? EXIT_FAILED : EXIT_OK;
        if (o.json && !o.follow) cli_print_json(ctx.all);
        json_decref(ctx.all);
    } else {
        store_close(st); /* the session opens its own */
        st = NULL;
        code = runs_steer_local(&o);
    }
out:
    if (err) fprintf(stderr, "baton %s: %s\n", cmd, err);
    free(err);
    free(id);
    store_close(st);
    return code;
}
