/* harness.h - shared by the engine and reducer tests: workflows from YAML text, a scratch data
 * dir, and a scripted model provider.
 *
 * The scripted provider is a fake at the network edge (the only place fakes are allowed): it
 * answers on a later loop turn like a real provider, can fail a task's first N calls, can hang
 * (for timeouts), and records every request it saw so tests can assert on attempts and feedback. */
#ifndef BATON_TEST_HARNESS_H
#define BATON_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/state.h"
#include "core/workflow.h"
#include "engine/engine.h"
#include "llm/offline.h"
#include "llm/provider.h"
#include "store/store.h"
#include "util/xalloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- workflows ---- */

static inline workflow_t *h_load(const char *yaml) {
    diag_list_t dl = {0};
    workflow_t *wf = workflow_load(yaml, strlen(yaml), "test.yaml", NULL, NULL, NULL, &dl);
    for (size_t i = 0; i < dl.n; i++)
        fprintf(stderr, "%s:%u:%u: %s\n", dl.items[i].file, dl.items[i].loc.line,
                dl.items[i].loc.col, dl.items[i].message);
    diag_list_free(&dl);
    assert_non_null(wf);
    return wf;
}

/* ---- scripted provider ---- */

typedef struct h_rule {
    const char *task; /* task id this rule is for */
    int fail_first;   /* fail this many calls */
    int hang_first;   /* never answer this many calls (timeouts) */
    const char *text; /* answer text instead of the offline model's */
    double cost;      /* cost of each answer */
} h_rule_t;

typedef struct h_seen {
    char task[64];
    int attempt, iteration;
    char *feedback;
    char *prompt;
} h_seen_t;

typedef struct h_provider {
    llm_provider_t base;
    uv_loop_t *loop;
    h_rule_t rules[16];
    int n_rules;
    int calls_by_rule[16];
    h_seen_t seen[512];
    int n_seen;
    int in_flight, max_in_flight;
    int cancelled;
} h_provider_t;

struct llm_call {
    uv_timer_t timer;
    h_provider_t *p;
    llm_response_t resp;
    int fail;
    llm_done_fn done;
    void *ud;
};

static inline void h_call_closed(uv_handle_t *h) { free(h->data); }

static inline void h_call_fire(uv_timer_t *t) {
    llm_call_t *c = t->data;
    c->p->in_flight--;
    llm_done_fn done = c->done;
    void *ud = c->ud;
    llm_response_t *resp = NULL;
    if (!c->fail) {
        resp = malloc(sizeof *resp);
        *resp = c->resp;
    } else {
        llm_response_free(&c->resp);
    }
    uv_close((uv_handle_t *)&c->timer, h_call_closed);
    llm_error_t err = {.kind = LLM_ERR_SERVER,
                       .status = 503,
                       .retry_after_ms = -1,
                       .message = "scripted failure (HTTP 503)"};
    done(ud, resp, c->fail ? &err : NULL);
}

static inline llm_call_t *h_call(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                                 void *ud) {
    h_provider_t *p = (h_provider_t *)base;
    llm_call_t *c = calloc(1, sizeof *c);
    c->p = p;
    c->done = done;
    c->ud = ud;
    if (p->n_seen < 512) {
        h_seen_t *s = &p->seen[p->n_seen++];
        snprintf(s->task, sizeof s->task, "%s", req->task_id);
        s->attempt = req->attempt;
        s->iteration = req->iteration;
        s->feedback = req->feedback ? strdup(req->feedback) : NULL;
        s->prompt = strdup(req->prompt ? req->prompt : "");
    }
    bool hang = false;
    const h_rule_t *rule = NULL;
    for (int i = 0; i < p->n_rules; i++)
        if (!strcmp(p->rules[i].task, req->task_id)) {
            rule = &p->rules[i];
            int n = ++p->calls_by_rule[i];
            c->fail = n <= rule->fail_first;
            hang = n <= rule->hang_first;
        }
    offline_generate(req, &c->resp);
    if (rule && rule->text) {
        free(c->resp.text);
        json_decref(c->resp.json);
        c->resp.json = NULL;
        c->resp.text = strdup(rule->text);
    }
    if (rule) c->resp.cost_usd = rule->cost;
    uv_timer_init(p->loop, &c->timer);
    c->timer.data = c;
    p->in_flight++;
    if (p->in_flight > p->max_in_flight) p->max_in_flight = p->in_flight;
    if (!hang) uv_timer_start(&c->timer, h_call_fire, 1, 0);
    return c;
}

static inline void h_cancel(llm_call_t *c) {
    c->p->in_flight--;
    c->p->cancelled++;
    uv_timer_stop(&c->timer);
    llm_response_free(&c->resp);
    uv_close((uv_handle_t *)&c->timer, h_call_closed);
}

static inline void h_destroy(llm_provider_t *p) { (void)p; }

/* ---- a whole test world ---- */

typedef struct h_world {
    uv_loop_t loop;
    char dir[64];
    store_t *store;
    h_provider_t prov;
    engine_t *eng;
    workflow_t *wf;
    engine_run_t *run;
    char *arts;
} h_world_t;

static inline void h_world_init(h_world_t *w, const char *yaml) {
    memset(w, 0, sizeof *w);
    assert_true(sodium_init() >= 0);
    uv_loop_init(&w->loop);
    snprintf(w->dir, sizeof w->dir, "/tmp/baton-test-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    char db[128];
    snprintf(db, sizeof db, "%s/baton.db", w->dir);
    char *err = NULL;
    w->store = store_open(db, STORE_DURABILITY_NORMAL, &err);
    assert_non_null(w->store);
    w->prov.base = (llm_provider_t){
        .name = "scripted", .call = h_call, .cancel = h_cancel, .destroy = h_destroy};
    w->prov.loop = &w->loop;
    w->arts = xasprintf("%s/artifacts", w->dir);
    w->wf = h_load(yaml);
}

static inline void h_rule(h_world_t *w, h_rule_t r) { w->prov.rules[w->prov.n_rules++] = r; }

static inline void h_start_with(h_world_t *w, const json_t *inputs, llm_prices_t prices) {
    engine_opts_t o = {.loop = &w->loop,
                       .store = w->store,
                       .provider = &w->prov.base,
                       .prices = prices,
                       .artifacts_dir = w->arts,
                       .seed = 42};
    w->eng = engine_new(&o);
    char *err = NULL;
    json_t *in = inputs ? json_incref((json_t *)inputs) : json_object();
    w->run = engine_start(w->eng, w->wf, "source", "test.yaml", NULL, in, &err);
    json_decref(in);
    if (!w->run) fprintf(stderr, "engine_start: %s\n", err);
    assert_non_null(w->run);
}

static inline void h_start(h_world_t *w) { h_start_with(w, NULL, (llm_prices_t){0}); }

static inline void h_run(h_world_t *w) { uv_run(&w->loop, UV_RUN_DEFAULT); }

static inline const run_state_t *h_state(h_world_t *w) { return engine_run_state(w->run); }

static inline const task_state_t *h_task(h_world_t *w, const char *id) {
    int i = workflow_task_index(w->wf, id);
    assert_true(i >= 0);
    return &h_state(w)->tasks[i];
}

static inline void h_assert_task(h_world_t *w, const char *id, task_status_t st) {
    const task_state_t *t = h_task(w, id);
    if (t->status != st)
        fprintf(stderr, "task %s is %s, expected %s (error: %s)\n", id, task_status_name(t->status),
                task_status_name(st), t->error ? t->error : "-");
    assert_int_equal(t->status, st);
}

/* Answers a human step; the answer must be accepted. Steals `answer`. */
static inline void h_respond(h_world_t *w, const char *task, json_t *answer) {
    char *err = NULL;
    engine_rc_t rc = engine_respond(w->run, task, answer, &err);
    if (rc) fprintf(stderr, "respond: %s\n", err);
    assert_int_equal(rc, 0);
    json_decref(answer);
}

typedef struct {
    const char *type;
    const char *task;
    int n;
} h_count_t;
static inline int h_count_cb(void *ud, uint64_t seq, int64_t ts, const char *type, json_t *data) {
    h_count_t *c = ud;
    (void)seq;
    (void)ts;
    const char *task = json_string_value(json_object_get(data, "task"));
    if (!strcmp(type, c->type) && (!c->task || (task && !strcmp(task, c->task)))) c->n++;
    return 0;
}
/* Events of a type (and task, if given) in the committed journal. */
static inline int h_events(h_world_t *w, const char *type, const char *task) {
    h_count_t c = {type, task, 0};
    assert_int_equal(store_events(w->store, engine_run_id(w->run), 0, h_count_cb, &c), 0);
    return c.n;
}

static inline void h_world_free(h_world_t *w) {
    engine_free(w->eng);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    store_close(w->store);
    workflow_free(w->wf);
    for (int i = 0; i < w->prov.n_seen; i++) {
        free(w->prov.seen[i].feedback);
        free(w->prov.seen[i].prompt);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", w->dir);
    free(w->arts);
}

#endif
