/* host.c - the engine and what it runs with, for many runs (see host.h). */
#include "engine/host.h"
#include "util/xalloc.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A run in memory with the workflow it borrows (and the text that workflow was read from). */
typedef struct hosted {
    engine_run_t *run;
    workflow_t *wf;
    char *dir;     /* where its subflows are looked up */
    bool finished; /* its terminal event was observed: let go at the next sweep */
    struct hosted *next;
} hosted_t;

struct host {
    host_opts_t o;
    router_t *router;
    recall_t *recall;
    engine_t *engine;
    hosted_t *runs;
    char *artifacts_dir; /* the engine borrows it */
    uv_timer_t *sweep;   /* lets finished runs go, after the event that finished them;
                          * its own allocation, as libuv closes it after the host is gone */
    uv_timer_t *resume;  /* host_resume_left's batches (NULL until then; allocated likewise) */
    json_t *to_resume;   /* the run ids it has still to resume */
    size_t resume_next;
    host_resumed_fn resumed;
    void *resumed_ud;
};

engine_t *host_engine(host_t *h) { return h->engine; }
const json_t *host_config(host_t *h) { return h->o.config; }
router_t *host_router(host_t *h) { return h->router; }
recall_t *host_recall(host_t *h) { return h->recall; }

static llm_prices_t prices_for(void *ud, const json_t *model) { return router_prices(ud, model); }
static void on_call(void *ud, const llm_call_record_t *rec) { engine_record_call(ud, rec); }

static void hosted_free(hosted_t *r) {
    workflow_free(r->wf);
    free(r->dir);
    free(r);
}

static void sweep_cb(uv_timer_t *t) {
    host_t *h = t->data;
    if (h->o.keep_finished) return;
    bool again = false;
    for (hosted_t **p = &h->runs; *p;) {
        hosted_t *r = *p;
        run_status_t st = engine_run_state(r->run)->status;
        if (st != RS_COMPLETED && st != RS_FAILED && st != RS_CANCELLED)
            r->finished = false; /* retried */
        if (r->finished && engine_forget(h->engine, r->run)) {
            *p = r->next;
            hosted_free(r);
            continue;
        }
        again |= r->finished;
        p = &r->next;
    }
    if (again) uv_timer_start(h->sweep, sweep_cb, 50, 0);
}

static void on_event(void *ud, engine_run_t *run, uint64_t seq, int64_t ts, const char *type,
                     const json_t *data) {
    host_t *h = ud;
    if (h->o.on_event) h->o.on_event(h->o.on_event_ud, run, seq, ts, type, data);
    if (strcmp(type, "run.completed") && strcmp(type, "run.failed") &&
        strcmp(type, "run.cancelled"))
        return;
    for (hosted_t *r = h->runs; r; r = r->next)
        if (r->run == run) r->finished = true;
    uv_timer_start(h->sweep, sweep_cb, 0, 0);
}

static void on_delta(void *ud, engine_run_t *run, const char *task, int attempt,
                     const char *candidate, const char *piece) {
    host_t *h = ud;
    h->o.on_delta(h->o.on_event_ud, run, task, attempt, candidate, piece);
}

host_t *host_new(const host_opts_t *o, char **err) {
    host_t *h = xcalloc(1, sizeof *h);
    h->o = *o;
    h->router = router_new(o->loop, o->config, o->offline_latency_ms, o->offline_prices,
                           o->offline_fail_attempts, err);
    if (!h->router) {
        free(h);
        return NULL;
    }
    char *db = xasprintf("%s/baton.db", o->data_dir);
    char *dflt_recs = xasprintf("%s/recordings.json", o->data_dir);
    recall_opts_t ro = {.config = o->config,
                        .db_path = db,
                        .mode = o->llm_mode,
                        .recordings = o->recordings,
                        .default_recordings = dflt_recs};
    h->recall = recall_new(o->loop, h->router, &ro, err);
    free(db);
    free(dflt_recs);
    if (!h->recall) {
        router_free(h->router);
        free(h);
        return NULL;
    }
    h->artifacts_dir = xasprintf("%s/artifacts", o->data_dir);
    engine_opts_t eo = {.loop = o->loop,
                        .store = o->store,
                        .provider = recall_provider(h->recall),
                        .prices = o->offline_prices,
                        .prices_for = prices_for,
                        .prices_ud = h->router,
                        .artifacts_dir = h->artifacts_dir,
                        .on_event = on_event,
                        .on_event_ud = h,
                        .on_delta = o->on_delta ? on_delta : NULL,
                        .daily = o->daily,
                        .tools_config = json_object_get(o->config, "tools")};
    h->engine = engine_new(&eo);
    recall_set_observer(h->recall, on_call, h->engine);
    h->sweep = xcalloc(1, sizeof *h->sweep);
    uv_timer_init(o->loop, h->sweep);
    h->sweep->data = h;
    uv_unref((uv_handle_t *)h->sweep);
    return h;
}

void host_close(host_t *h) {
    if (!h) return;
    engine_free(h->engine);
    recall_free(h->recall);
    router_free(h->router);
    uv_close((uv_handle_t *)h->sweep, (uv_close_cb)free);
    if (h->resume) uv_close((uv_handle_t *)h->resume, (uv_close_cb)free);
    h->resume = NULL;
    json_decref(h->to_resume);
    h->to_resume = NULL;
}

void host_free(host_t *h) {
    if (!h) return;
    while (h->runs) {
        hosted_t *next = h->runs->next;
        hosted_free(h->runs);
        h->runs = next;
    }
    free(h->artifacts_dir);
    free(h);
}

bool host_subflow_exists(void *ud, const char *name) {
    const char *dir = ud;
    if (!dir) return false;
    char *p1 = xasprintf("%s/%s.yaml", dir, name), *p2 = xasprintf("%s/%s.yml", dir, name);
    bool ok = access(p1, R_OK) == 0 || access(p2, R_OK) == 0;
    free(p1);
    free(p2);
    return ok;
}

static hosted_t *hosted_add(host_t *h, workflow_t *wf, const char *dir) {
    hosted_t *r = xcalloc(1, sizeof *r);
    r->wf = wf;
    r->dir = dir ? xstrdup(dir) : NULL;
    r->next = h->runs;
    h->runs = r;
    return r;
}

static void hosted_drop(host_t *h, hosted_t *r) {
    for (hosted_t **p = &h->runs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    hosted_free(r);
}

engine_run_t *host_start(host_t *h, const char *text, size_t len, const char *file,
                         const char *subflow_dir, const engine_workflow_ref_t *ref,
                         const json_t *inputs, diag_list_t *dl, char **err) {
    workflow_t *wf =
        workflow_load(text, len, file, h->o.catalog, host_subflow_exists, (void *)subflow_dir, dl);
    if (!wf) return NULL;
    hosted_t *r = hosted_add(h, wf, subflow_dir);
    char *source = xstrndup(text, len);
    engine_run_t *run = r->run = engine_start(h->engine, wf, source, file, ref, inputs, err);
    free(source);
    if (!run) hosted_drop(h, r);
    return run;
}

/* ---- runs rebuilt from their journal ----------------------------------------------------- */

/* The run's workflow exactly as it started: its journaled text, with its journaled agents. */
static hosted_t *load_journaled(host_t *h, const char *run_id, char **err) {
    json_t *created = store_run_created(h->o.store, run_id);
    const char *file = json_string_value(json_object_get(created, "file"));
    char *copy = xstrdup(file ? file : ".");
    char *dir = xstrdup(dirname(copy));
    free(copy);
    diag_list_t dl = {0};
    workflow_t *wf =
        created ? workflow_load_journaled(created, host_subflow_exists, dir, &dl) : NULL;
    hosted_t *r = NULL;
    if (!created || !json_object_get(created, "source")) {
        *err = xasprintf("the journal of run %s has no workflow source", run_id);
    } else if (!wf) {
        diag_sort(&dl);
        *err = xasprintf("run %s: its journaled workflow no longer loads: %s", run_id,
                         dl.n ? dl.items[0].message : "?");
    } else {
        r = hosted_add(h, wf, dir);
    }
    free(dir);
    diag_list_free(&dl);
    json_decref(created);
    return r;
}

static engine_run_t *in_memory(host_t *h, const char *run_id) {
    for (hosted_t *r = h->runs; r; r = r->next)
        if (r->run && !strcmp(engine_run_id(r->run), run_id)) return r->run;
    return NULL;
}

size_t host_active(host_t *h) {
    size_t n = 0;
    for (hosted_t *r = h->runs; r; r = r->next)
        if (r->run && state_run_status(engine_run_state(r->run)) == RS_RUNNING) n++;
    return n;
}

bool host_has(host_t *h, const char *run_id) { return in_memory(h, run_id) != NULL; }

engine_run_t *host_run(host_t *h, const char *id, bool *missing, char **err) {
    *missing = false;
    engine_run_t *run = in_memory(h, id);
    if (run) return run;
    /* Exact ids only: a prefix is the CLI's convenience (store_resolve_run, before it calls
     * here), and a request must never steer a run that a GET of the same id does not find. */
    int exists = store_run_exists(h->o.store, id);
    if (exists != 1) {
        *missing = exists == 0;
        *err = exists ? xasprintf("the runs table could not be read") : NULL;
        return NULL;
    }
    char *full = xstrdup(id);
    run = in_memory(h, full);
    if (!run) {
        hosted_t *r = load_journaled(h, full, err);
        if (r) {
            r->run = engine_resume(h->engine, r->wf, full, err);
            if (!r->run)
                hosted_drop(h, r);
            else
                run = r->run;
        }
        run_status_t st = run ? engine_run_state(run)->status : RS_PENDING;
        if (st == RS_COMPLETED || st == RS_FAILED || st == RS_CANCELLED) {
            /* a finished run read back for a question: let it go again soon */
            r->finished = true;
            uv_timer_start(h->sweep, sweep_cb, 0, 0);
        }
    }
    free(full);
    return run;
}

engine_run_t *host_fork(host_t *h, const char *parent, uint64_t at, const json_t *inputs,
                        char **err) {
    /* The parent is only read: it stays where it is (a paused parent is not resumed). */
    char *pid;
    if (store_resolve_run(h->o.store, parent, &pid, err) != 0) return NULL;
    hosted_t *r = load_journaled(h, pid, err);
    engine_run_t *run = NULL;
    if (r) {
        r->run = engine_fork(h->engine, r->wf, pid, at, inputs, err);
        if (!r->run)
            hosted_drop(h, r);
        else
            run = r->run;
    }
    free(pid);
    return run;
}

/* ---- runs left going by the last process ------------------------------------------------- */

static void resume_batch(uv_timer_t *t) {
    host_t *h = t->data;
    for (int n = 0; n < HOST_RESUME_BATCH && h->resume_next < json_array_size(h->to_resume); n++) {
        const char *id = json_string_value(json_array_get(h->to_resume, h->resume_next++));
        if (in_memory(h, id)) continue; /* a request rebuilt it already */
        char *err = NULL;
        engine_run_t *run = NULL;
        hosted_t *r = load_journaled(h, id, &err);
        if (r) {
            run = r->run = engine_resume(h->engine, r->wf, id, &err);
            if (!run) hosted_drop(h, r);
        }
        if (h->resumed) h->resumed(h->resumed_ud, id, run, run ? NULL : (err ? err : "?"));
        free(err);
    }
    /* a 0 ms timer fires on the next turn, after the loop has polled for I/O */
    if (h->resume_next < json_array_size(h->to_resume)) uv_timer_start(t, resume_batch, 0, 0);
}

size_t host_resume_left(host_t *h, host_resumed_fn fn, void *ud) {
    if (h->to_resume) return 0; /* once */
    h->to_resume = json_array();
    /* oldest first, the order they were started in */
    static const char *const statuses[] = {"running", "waiting_human"};
    for (size_t s = 0; s < sizeof statuses / sizeof *statuses; s++) {
        json_t *rows = store_runs(h->o.store, statuses[s], 0);
        for (size_t i = json_array_size(rows); i-- > 0;) {
            json_t *id = json_object_get(json_array_get(rows, i), "id");
            if (json_is_string(id)) json_array_append(h->to_resume, id);
        }
        json_decref(rows);
    }
    h->resumed = fn;
    h->resumed_ud = ud;
    size_t n = json_array_size(h->to_resume);
    if (n) {
        h->resume = xcalloc(1, sizeof *h->resume);
        uv_timer_init(h->o.loop, h->resume);
        h->resume->data = h;
        uv_timer_start(h->resume, resume_batch, 0, 0);
    }
    return n;
}
