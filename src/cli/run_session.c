/* run_session.c - one run driven to its next stop in this process (see run_session.h). */
#include "cli/run_session.h"
#include "cli/runlock.h"
#include "cli/view.h"
#include "core/expr.h"
#include "engine/host.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <libgen.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct session {
    const run_session_opts_t *o;
    uv_loop_t loop;
    store_t *store;
    host_t *host; /* router, cache and recordings, engine */
    engine_t *engine;
    engine_run_t *run;
    const workflow_t *wf; /* the run's */
    view_t *view;
    uv_signal_t sigint;
    agent_catalog_t catalog; /* for a new run: the catalog next to its file */
    bool interrupted;
    int lock_fd; /* the run's lock (runlock.h), or -1 */
} session_t;

/* ---- humans ------------------------------------------------------------------------------ */

/* Ctrl-C at a prompt: the loop is not running then, so libuv's handler cannot see it (and it
 * restarts the read). A handler without SA_RESTART makes fgets return, and the flag says why. */
static volatile sig_atomic_t prompt_interrupted;
static void on_prompt_sigint(int sig) {
    (void)sig;
    prompt_interrupted = 1;
}

static char *read_line(const char *prompt) {
    /* The handler goes in before the prompt shows, so a Ctrl-C typed the moment it appears is
     * never taken by libuv's handler while fgets waits on. */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    fputs(prompt, stdout);
    fflush(stdout);
    char buf[4096];
    char *got = prompt_interrupted ? NULL : fgets(buf, sizeof buf, stdin);
    sigaction(SIGINT, &old, NULL);
    if (!got) return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    return xstrdup(buf);
}

/* An answer from the person at this terminal. */
static json_t *answer(const char *decision, const char *feedback) {
    const char *u = getenv("USER");
    return json_pack("{s:s, s:s?, s:s}", "decision", decision, "feedback",
                     feedback && *feedback ? feedback : NULL, "answered_by",
                     u && *u ? u : "terminal");
}

static void show_proposal(const json_t *req) {
    const char *text =
        json_string_value(json_object_get(json_object_get(req, "proposal"), "output"));
    if (!text) return;
    int shown = 0;
    const char *p = text;
    while (*p && shown < 40) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        printf("  │ %.*s\n", (int)len, p);
        shown++;
        p = e ? e + 1 : p + len;
    }
    if (*p) printf("  │ … (%zu more bytes)\n", strlen(p));
}

/* A human task's context (its rendered inputs) as indented "key: value" lines: nested objects
 * indent further, other values are formatted as templates format them (lists as JSON). */
static void show_context(FILE *out, const json_t *ctx, int depth) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ctx, k, v) {
        if (json_is_object(v) && json_object_size(v) && depth < 8) {
            fprintf(out, "%*s%s:\n", 2 * depth + 2, "", k);
            show_context(out, v, depth + 1);
            continue;
        }
        char *text = json_is_null(v) ? xstrdup("null") : expr_format(v);
        fprintf(out, "%*s%s: %s\n", 2 * depth + 2, "", k, text);
        free(text);
    }
}

/* Asks on the terminal; returns the answer or NULL when stdin closed. */
static json_t *prompt_human(const wf_task_t *t, const json_t *req) {
    const char *kind = json_string_value(json_object_get(req, "kind"));
    const char *title = json_string_value(json_object_get(req, "title"));
    const char *desc = json_string_value(json_object_get(req, "description"));
    const json_t *options = json_object_get(req, "options");
    printf("\n── %s needs you ──\n%s\n", t->id, title ? title : t->name);
    if (desc && *desc) printf("%s\n", desc);
    if (json_object_size(json_object_get(req, "context"))) {
        printf("Context:\n");
        show_context(stdout, json_object_get(req, "context"), 0);
    }
    show_proposal(req);
    bool of_output = json_object_get(req, "proposal") != NULL;
    for (;;) {
        if (of_output) {
            char *c = read_line("[a]pprove  [r]eject  [m]odify with feedback > ");
            if (!c) return NULL;
            char k = c[0];
            free(c);
            if (k == 'a' || k == 'r') {
                char *fb = k == 'r' ? read_line("Why (optional) > ") : NULL;
                json_t *a = answer(k == 'a' ? "approve" : "reject", fb);
                free(fb);
                return a;
            }
            if (k == 'm') {
                char *fb = read_line("Feedback for the agent > ");
                if (!fb) return NULL;
                json_t *a = answer("modify", fb);
                free(fb);
                return a;
            }
            continue;
        }
        if (kind && !strcmp(kind, "input")) {
            char *text = read_line("Your answer > ");
            if (!text) return NULL;
            json_t *a = answer("submitted", text);
            free(text);
            return a;
        }
        size_t n = json_array_size(options);
        for (size_t k = 0; k < n; k++)
            printf("  %zu) %s\n", k + 1, json_string_value(json_array_get(options, k)));
        char *c = read_line("Choose > ");
        if (!c) return NULL;
        size_t pick = 0;
        for (size_t k = 0; k < n; k++)
            if (!strcmp(c, json_string_value(json_array_get(options, k)))) pick = k + 1;
        if (!pick) pick = (size_t)strtoul(c, NULL, 10);
        free(c);
        if (pick >= 1 && pick <= n) {
            char *fb = read_line("Comment (optional) > ");
            json_t *a = answer(json_string_value(json_array_get(options, pick - 1)), fb);
            free(fb);
            return a;
        }
    }
}

json_t *run_session_auto_answer(const json_t *req) {
    const char *kind = json_string_value(json_object_get(req, "kind"));
    const json_t *options = json_object_get(req, "options");
    if (json_object_get(req, "proposal"))
        return json_pack("{s:s, s:s}", "decision", "approve", "answered_by", "auto-approve");
    if (kind && !strcmp(kind, "input"))
        return json_pack("{s:s, s:s, s:s}", "decision", "submitted", "feedback", "auto-approved",
                         "answered_by", "auto-approve");
    const char *first = json_string_value(json_array_get(options, 0));
    return json_pack("{s:s, s:s}", "decision", first ? first : "approve", "answered_by",
                     "auto-approve");
}

/* Answers every pending human step; false when nobody here can (no terminal and no
 * auto-approve, or the terminal closed). Ctrl-C at a prompt cancels the run. */
static bool answer_humans(session_t *s) {
    const run_state_t *st = engine_run_state(s->run);
    bool interactive = isatty(STDIN_FILENO) && !s->o->json;
    if (!s->o->auto_approve && !interactive) return false;
    for (uint32_t i = 0; i < s->wf->n_tasks; i++) {
        const task_state_t *t = &st->tasks[i];
        if (t->status != TS_WAITING_HUMAN || t->answer) continue;
        /* A prompt prints below the frame, so the view stops and starts afresh under it; an
         * automatic answer prints nothing, and the frame keeps being redrawn in place. */
        if (!s->o->auto_approve) view_pause(s->view);
        json_t *answer = s->o->auto_approve ? run_session_auto_answer(t->human)
                                            : prompt_human(&s->wf->tasks[i], t->human);
        if (!answer && prompt_interrupted) {
            printf("\n");
            s->interrupted = true;
            engine_cancel(s->run, "cancelled from the terminal (Ctrl-C)", NULL);
            return true;
        }
        if (!answer) return false;
        char *err = NULL;
        if (engine_respond(s->run, s->wf->tasks[i].id, answer, &err) != ENGINE_OK) {
            fprintf(stderr, "baton: %s\n", err);
            free(err);
        }
        json_decref(answer);
        if (!s->o->auto_approve) view_resume(s->view);
    }
    return true;
}

static void print_instructions(session_t *s) {
    const run_state_t *st = engine_run_state(s->run);
    FILE *out = s->o->json ? stderr : stdout;
    fprintf(out, "\nRun %s is waiting for a human:\n", engine_run_id(s->run));
    for (uint32_t i = 0; i < s->wf->n_tasks; i++) {
        const task_state_t *t = &st->tasks[i];
        if (t->status != TS_WAITING_HUMAN || t->answer) continue;
        const char *kind = json_string_value(json_object_get(t->human, "kind"));
        bool input = kind && !strcmp(kind, "input");
        const json_t *opts = input ? NULL : json_object_get(t->human, "options");
        char *list = json_array_size(opts) ? json_dumps(opts, JSON_COMPACT)
                                           : xstrdup("free text, given with --feedback");
        fprintf(out, "  %s: %s (%s)\n", s->wf->tasks[i].id,
                json_string_value(json_object_get(t->human, "title")), list);
        if (json_object_size(json_object_get(t->human, "context"))) {
            fprintf(out, "  context:\n");
            show_context(out, json_object_get(t->human, "context"), 1);
        }
        const char *first = json_string_value(json_array_get(opts, 0));
        fprintf(out, "  answer with: baton approvals respond %s %s --decision %s --data-dir %s\n",
                engine_run_id(s->run), s->wf->tasks[i].id,
                first ? first : "submitted --feedback '...'", s->o->data_dir);
        free(list);
    }
}

/* ---- set-up -----------------------------------------------------------------------------------
 */

static void on_sigint(uv_signal_t *h, int signum) {
    session_t *s = h->data;
    (void)signum;
    if (s->interrupted) exit(130); /* a second Ctrl-C: the journal already has everything */
    s->interrupted = true;
    if (s->run) engine_cancel(s->run, "cancelled from the terminal (Ctrl-C)", NULL);
}

/* A new run of the workflow in `path`, with the catalog its file sees. */
static int start_from_file(session_t *s, const char *path, const json_t *inputs) {
    char *err = NULL;
    size_t len;
    char *source = cli_read_file(path, WF_MAX_DOC_BYTES, &len, &err);
    if (!source) {
        fprintf(stderr, "baton: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    char *copy = xstrdup(path);
    diag_list_t dl = {0};
    s->run = host_start(s->host, source, len, path, dirname(copy), NULL, inputs, &dl, &err);
    free(copy);
    free(source);
    if (dl.n) {
        diag_sort(&dl);
        cli_print_diags(&dl);
    }
    diag_list_free(&dl);
    if (err) fprintf(stderr, "baton: %s\n", err);
    free(err);
    return s->run ? 0 : EXIT_USAGE;
}

static void print_summary(session_t *s, json_t *sum) {
    const char *status = json_string_value(json_object_get(sum, "status"));
    const run_state_t *st = engine_run_state(s->run);
    bool color = cli_use_color(STDOUT_FILENO);
    char dur[32];
    view_format_duration(dur, sizeof dur,
                         (st->finished_ms ? st->finished_ms : engine_now_ms()) - st->created_ms);
    const char *tone = !color ? "" : !strcmp(status, "completed") ? "\033[1;32m" : "\033[1;31m";
    printf("\n%s%s%s  %s  %s  $%.4f  %u/%zu tasks finished\n", tone, status, color ? "\033[0m" : "",
           engine_run_id(s->run), dur, st->cost_usd, st->n_finished, s->wf->n_tasks);
    if (json_is_number(json_object_get(json_object_get(sum, "llm"), "reference_cost_usd")) ||
        json_integer_value(json_object_get(json_object_get(sum, "llm"), "cached"))) {
        printf("  ");
        cli_print_savings(stdout, sum);
    }
    if (json_is_true(json_object_get(sum, "simulated")))
        printf("  simulated: the offline model wrote some of this output, not a real model "
               "(docs/models.md)\n");
    if (st->error && strcmp(status, "completed")) printf("  %s\n", st->error);
    for (uint32_t i = 0; i < s->wf->n_tasks; i++)
        if (st->tasks[i].status == TS_FAILED)
            printf("  ✗ %s: %s\n", s->wf->tasks[i].id,
                   st->tasks[i].error ? st->tasks[i].error : "?");
    json_t *arts = json_object_get(sum, "artifacts");
    if (json_array_size(arts)) {
        printf("Artifacts:\n");
        size_t i;
        json_t *a;
        json_array_foreach(arts, i, a)
            printf("  %-32s %7lld bytes  v%lld\n", json_string_value(json_object_get(a, "name")),
                   json_integer_value(json_object_get(a, "bytes")),
                   json_integer_value(json_object_get(a, "version")));
    }
}

/* Before the run goes on: the tasks the offline model may answer for, named on stderr (not in
 * the live view's frames, nor in --json's stdout). */
static void warn_if_simulated(session_t *s) {
    router_t *r = host_router(s->host);
    strbuf_t names = {0};
    size_t n = 0;
    for (uint32_t i = 0; i < s->wf->n_tasks; i++) {
        const wf_task_t *t = &s->wf->tasks[i];
        bool sim = false;
        if (t->type == TASK_AGENT && t->agent)
            sim = router_may_simulate(r, t->model ? t->model : t->agent->model);
        for (size_t k = 0; t->type == TASK_CONSENSUS && k < t->n_consensus_agents && !sim; k++)
            sim = router_may_simulate(r, t->model ? t->model : t->consensus_agent_refs[k]->model);
        if (!sim) continue;
        if (n < 3) sb_printf(&names, "%s%s", n ? ", " : "", t->id);
        n++;
    }
    if (n > 3) sb_printf(&names, " and %zu more task%s", n - 3, n - 3 == 1 ? "" : "s");
    if (n) cli_print_simulated_notice(stderr, sb_str(&names));
    sb_free(&names);
}

static void session_close(session_t *s) {
    view_free(s->view); /* its last frame reads the run: before the engine frees it */
    host_close(s->host);
    if (s->sigint.data) uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT); /* let libuv finish closing handles */
    host_free(s->host);
    uv_loop_close(&s->loop);
    store_close(s->store);
    catalog_free(&s->catalog);
    if (s->lock_fd >= 0) close(s->lock_fd);
}

static bool steering(session_kind_t k) {
    return k == SESSION_CANCEL || k == SESSION_PAUSE || k == SESSION_MESSAGE;
}

/* The whole id of the run req names, locked for this process: 0, or an exit status after a
 * message. A server serving the data dir, or another process driving the run, would write the
 * journal beside this one. */
static int lock_run(session_t *s, const run_session_req_t *req, char **full) {
    char *err = NULL;
    if (runlock_served(s->o->data_dir, &err)) {
        fprintf(stderr, "baton: %s: use it (--server URL, or BATON_SERVER)\n", err);
        free(err);
        return EXIT_FAILED;
    }
    if (store_resolve_run(s->store, req->run_id, full, &err) != 0) {
        fprintf(stderr, "baton: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    if (req->kind == SESSION_FORK) return 0; /* the parent is only read; the fork is new */
    if ((s->lock_fd = runlock_take(s->o->data_dir, *full, &err)) < 0) {
        fprintf(stderr, "baton: %s%s\n", err,
                req->kind == SESSION_CANCEL ? ": Ctrl-C there cancels it" : "");
        free(err);
        return EXIT_FAILED;
    }
    if (req->kind != SESSION_PAUSE && req->kind != SESSION_MESSAGE) return 0;
    /* A run still `running` with nobody driving it was left by a process that stopped: bringing
     * it back would carry it on here. Pausing or guiding it is for the process that resumes it. */
    json_t *sum = store_run_summary(s->store, *full);
    const char *status = json_string_value(json_object_get(sum, "status"));
    int code = 0;
    if (status && !strcmp(status, "running")) {
        fprintf(stderr,
                "baton: run %s was left running by a process that stopped: carry it on with "
                "`baton run --resume %s` (or stop it with `baton runs cancel %s`)\n",
                *full, *full, *full);
        code = EXIT_FAILED;
    }
    json_decref(sum);
    return code;
}

/* CANCEL, PAUSE, MESSAGE on the run brought back: 0, or -1 with *err. */
static engine_rc_t steer(session_t *s, const run_session_req_t *req, char **err) {
    if (req->kind == SESSION_CANCEL)
        return engine_cancel(s->run, req->reason ? req->reason : "cancelled from the CLI", err);
    if (req->kind == SESSION_PAUSE)
        return engine_pause(s->run, req->reason ? req->reason : "paused from the CLI", err);
    json_t *tasks = NULL;
    engine_rc_t rc = engine_message(s->run, req->task, req->agent, req->text, "cli", &tasks, err);
    if (rc != ENGINE_OK) return rc;
    if (!s->o->json) {
        printf("message for");
        size_t i;
        json_t *t;
        json_array_foreach(tasks, i, t) printf(" %s", json_string_value(t));
        printf(" (at their next model call, once the run carries on)\n");
    }
    json_decref(tasks);
    return ENGINE_OK;
}

int run_session(const run_session_opts_t *o, const run_session_req_t *req) {
    if (sodium_init() < 0) {
        fprintf(stderr, "baton: libsodium failed to initialise\n");
        return EXIT_FAILED;
    }
    session_t s = {.o = o, .lock_fd = -1};
    char *err = NULL;
    int code = EXIT_OK;
    char *run_id = NULL;
    cli_config_t cfg;
    if (cli_load_config(o->config_path, &cfg, &err) != 0) {
        fprintf(stderr, "baton: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    uv_loop_init(&s.loop);
    /* A new run reads the catalog next to its file; one from the journal has its own agents. */
    diag_list_t cat_diags = {0};
    if (req->kind == SESSION_START)
        cli_load_catalog(&s.catalog, req->workflow_path, &cat_diags);
    else
        arena_init(&s.catalog.arena, 0);
    if (cat_diags.n) {
        cli_print_diags(&cat_diags);
        diag_list_free(&cat_diags);
        code = EXIT_USAGE;
        goto out;
    }
    s.store = cli_open_store(o->data_dir, o->durability, &err);
    if (!s.store) {
        fprintf(stderr, "baton: %s\n", err);
        code = EXIT_FAILED;
        goto out;
    }
    if (req->kind != SESSION_START && (code = lock_run(&s, req, &run_id))) goto out;
    view_mode_t mode = o->json || steering(req->kind) ? VIEW_QUIET
                       : isatty(STDOUT_FILENO)        ? VIEW_LIVE
                                                      : VIEW_LOG;
    s.view = view_new(&s.loop, stdout, mode, cli_use_color(STDOUT_FILENO));
    host_opts_t ho = {.loop = &s.loop,
                      .store = s.store,
                      .data_dir = o->data_dir,
                      .config = cfg.root,
                      .offline_latency_ms = cfg.offline_latency_ms,
                      .offline_prices = cfg.offline_prices,
                      .offline_fail_attempts = cfg.offline_fail_attempts,
                      .daily = cli_daily_limits(&cfg, s.store),
                      .llm_mode = o->llm_mode,
                      .recordings = o->recordings,
                      .catalog = &s.catalog,
                      .on_event = view_on_event,
                      .on_event_ud = s.view,
                      .keep_finished = true};
    s.host = host_new(&ho, &err);
    if (!s.host) {
        fprintf(stderr, "baton: %s\n", err);
        code = EXIT_USAGE;
        goto out;
    }
    s.engine = host_engine(s.host);
    bool missing;
    if (req->kind == SESSION_START) {
        if ((code = start_from_file(&s, req->workflow_path, req->inputs))) goto out;
    } else {
        s.run = req->kind == SESSION_FORK
                    ? host_fork(s.host, run_id, req->fork_at, req->inputs, &err)
                    : host_run(s.host, run_id, &missing, &err);
        if (!s.run) {
            fprintf(stderr, "baton: %s\n", err);
            code = EXIT_USAGE;
            goto out;
        }
    }
    if (s.lock_fd < 0 && (s.lock_fd = runlock_take(o->data_dir, engine_run_id(s.run), &err)) < 0) {
        /* a new run (or fork) nobody else can know yet: only a broken data dir gets here */
        fprintf(stderr, "baton: %s\n", err);
        code = EXIT_FAILED;
        goto out;
    }
    s.wf = engine_run_workflow(s.run);
    warn_if_simulated(&s);
    view_attach(s.view, s.run);
    const run_state_t *now = engine_run_state(s.run);
    engine_rc_t rc = ENGINE_OK;
    if (req->kind == SESSION_RESUME && now->status == RS_PAUSED)
        rc = engine_unpause(s.run, &err);
    else if (req->kind == SESSION_RETRY)
        rc = engine_retry(s.run, &err);
    else if (req->kind == SESSION_RESPOND)
        rc = engine_respond(s.run, req->task_id, req->answer, &err);
    else if (steering(req->kind))
        rc = steer(&s, req, &err);
    if (rc != ENGINE_OK) {
        fprintf(stderr, "baton: %s\n", err);
        code = steering(req->kind) ? EXIT_FAILED : EXIT_USAGE; /* a conflict, as HTTP 409 */
        goto out;
    }
    uv_signal_init(&s.loop, &s.sigint);
    s.sigint.data = &s;
    uv_signal_start(&s.sigint, on_sigint, SIGINT);
    uv_unref((uv_handle_t *)&s.sigint);

    for (;;) {
        uv_run(&s.loop, UV_RUN_DEFAULT);
        if (engine_error(s.engine)) break;
        run_status_t rs = state_run_status(engine_run_state(s.run));
        if (rs != RS_WAITING_HUMAN || steering(req->kind)) break;
        if (!answer_humans(&s)) {
            view_pause(s.view);
            print_instructions(&s);
            break;
        }
    }
    view_pause(s.view);
    /* Recordings are written once the run stops (and kept if it failed: they still pin what
     * the providers said). A file that cannot be written fails the command. */
    bool recs_failed = recall_flush(host_recall(s.host), &err) != 0;
    if (recs_failed) {
        fprintf(stderr, "baton: %s\n", err);
        free(err);
        err = NULL;
    }

    run_status_t rs = state_run_status(engine_run_state(s.run));
    json_t *sum = store_run_summary(s.store, engine_run_id(s.run));
    if (sum) json_object_set_new(sum, "status", json_string(run_status_name(rs)));
    if (o->json && sum) {
        cli_print_json(sum);
    } else if (sum && steering(req->kind)) {
        printf("%s  %s\n", run_status_name(rs), engine_run_id(s.run));
    } else if (sum) {
        print_summary(&s, sum);
    }
    /* The journal could not be written (a disk error, a full disk): the run stopped where its
     * last commit left it. Say so, and how to carry on, rather than leave a run "running". */
    if (engine_error(s.engine) && sum)
        fprintf(stderr,
                "baton: run %s stopped: its journal could not be written (%s). The journal keeps "
                "everything up to its last commit; `baton run --resume %s` carries on from there "
                "once the cause is fixed.\n",
                engine_run_id(s.run), engine_error(s.engine), engine_run_id(s.run));
    else if (engine_error(s.engine))
        fprintf(stderr,
                "baton: run %s was not started: its journal could not be written (%s); nothing "
                "of it was kept.\n",
                engine_run_id(s.run), engine_error(s.engine));
    json_decref(sum);
    code = engine_error(s.engine) ? EXIT_FAILED
           : steering(req->kind)  ? EXIT_OK
                                  : cli_exit_for_status(run_status_name(rs));
    if (recs_failed) code = EXIT_FAILED;
    if (rs == RS_PAUSED && !steering(req->kind))
        fprintf(stderr, "baton: run %s is paused: %s\n", engine_run_id(s.run),
                engine_run_state(s.run)->error ? engine_run_state(s.run)->error : "");
out:
    free(err);
    free(run_id);
    session_close(&s);
    cli_config_free(&cfg);
    return code;
}
