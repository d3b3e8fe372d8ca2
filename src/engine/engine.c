/* engine.c - runs, the journal pump and scheduling. See engine.h. */
#include "core/jsonschema.h"
#include "util/clock.h"
#include "engine/engine_internal.h"
#include "store/writer.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t engine_now_ms(void) { return clock_now_ms(); }

/* splitmix64: small, fast, good enough for jitter, and reproducible from a seed in tests. */
double engine_random01(engine_run_t *run) {
    uint64_t z = (run->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static void flush_cb(uv_idle_t *h);
static void on_committed(void *ud, uint64_t ticket, const char *err);

engine_t *engine_new(const engine_opts_t *opts) {
    engine_t *e = xcalloc(1, sizeof *e);
    e->o = *opts;
    e->daily = opts->daily;
    e->workflow_spent = json_object();
    if (!e->o.seed) e->o.seed = (uint64_t)engine_now_ms();
    uv_idle_init(opts->loop, &e->flush);
    e->flush.data = e;
    e->writer = store_writer_start(opts->store, opts->loop, on_committed, e);
    return e;
}

static void effects_free(effects_t *fx) {
    for (size_t i = 0; i < fx->n_notes; i++) {
        free(fx->notes[i].type);
        json_decref(fx->notes[i].data);
    }
    for (size_t i = 0; i < fx->n_dispatch; i++) fx->dispatch[i]->dispatch_queued = false;
    free(fx->notes);
    free(fx->dispatch);
    *fx = (effects_t){0};
}

/* What is left once the run's timers are closed: the memory they point into. */
static void run_release(engine_run_t *run) {
    free(run->exec);
    free(run);
}

static void timer_closed(uv_handle_t *h) {
    task_exec_t *x = h->data;
    engine_run_t *run = x->run;
    if (--run->open_handles == 0 && run->freed) run_release(run);
}

/* What one task's execution keeps between events (its inputs, votes, transcript, notes). */
static void exec_clear(task_exec_t *x) {
    json_decref(x->inputs);
    json_decref(x->votes);
    free(x->question);
    free(x->vote_calls);
    free(x->repair_note);
    free(x->spend_note);
    json_decref(x->transcript);
    x->inputs = x->votes = x->transcript = NULL;
    x->question = x->repair_note = x->spend_note = NULL;
    x->vote_calls = NULL;
}

/* Stops the run's effects and frees everything that reads its workflow now (the workflow's
 * owner may free it as soon as the run is forgotten); the rest goes when its timers closed. */
static void run_destroy(engine_run_t *run) {
    run->freed = true;
    for (size_t i = 0; i < run->wf->n_tasks; i++) {
        task_stop_effects(run, (uint32_t)i);
        if (run->exec[i].timer_ready) uv_close((uv_handle_t *)&run->exec[i].timer, timer_closed);
        exec_clear(&run->exec[i]);
    }
    free(run->due);
    state_free(&run->st);
    json_decref(run->scope);
    json_decref(run->artifact_versions);
    json_decref(run->artifact_owner);
    if (run->open_handles == 0) run_release(run);
}

static void idle_closed(uv_handle_t *h) { free(h->data); }

void engine_free(engine_t *e) {
    if (!e) return;
    e->closing = true;
    /* Whatever was handed over is written before the runs go (nothing acts on it any more). */
    store_writer_stop(e->writer);
    for (size_t i = 0; i < e->n_flying; i++) effects_free(&e->flying[i].fx);
    free(e->flying);
    effects_free(&e->next);
    engine_run_t *run = e->runs;
    while (run) {
        engine_run_t *next = run->next;
        run_destroy(run);
        run = next;
    }
    free(e->error);
    json_decref(e->workflow_spent);
    if (e->http) http_client_free(e->http); /* after the runs: their fetches are cancelled */
    /* The idle handle is freed with the engine once libuv is done with it. */
    uv_close((uv_handle_t *)&e->flush, idle_closed);
}

/* An llm.call event's data: what the call was and cost. */
static json_t *call_event_data(const llm_call_record_t *rec) {
    json_t *data = json_pack(
        "{s:s, s:i, s:s, s:s, s:s?, s:I, s:I, s:I, s:f, s:I, s:I}", "task",
        rec->task_id ? rec->task_id : "", "attempt", rec->attempt, "candidate", rec->candidate,
        "status", rec->status, "error", rec->error, "input_tokens", (json_int_t)rec->input_tokens,
        "output_tokens", (json_int_t)rec->output_tokens, "cached_tokens",
        (json_int_t)rec->cached_tokens, "call_cost_usd", rec->cost_usd, "first_token_ms",
        (json_int_t)rec->first_token_ms, "total_ms", (json_int_t)rec->total_ms);
    if (!data) return NULL;
    if (rec->cached) json_object_set_new(data, "cached", json_true());
    /* The durable mark of offline output: a task (and its run) with an answered simulated call
     * is simulated (state_call_simulated). Omitted when false, as `cached`. */
    if (rec->simulated) json_object_set_new(data, "simulated", json_true());
    if (rec->has_reference)
        json_object_set_new(data, "reference_cost_usd", json_real(rec->reference_cost_usd));
    return data;
}

static void engine_touch(engine_t *e) {
    if (!e->flush_active) {
        e->flush_active = true;
        uv_idle_start(&e->flush, flush_cb);
    }
}

/* A call made for the gateway: journaled in its ledger (ENGINE_GATEWAY_RUN), so it is in
 * llm_calls, priced, and counted against the daily limits like any run's. */
static void record_gateway_call(engine_t *e, const llm_call_record_t *rec) {
    if (e->error || e->closing) return;
    json_t *data = call_event_data(rec);
    if (!data) return;
    if (!e->gateway_seq) e->gateway_seq = store_last_seq(e->o.store, ENGINE_GATEWAY_RUN);
    e->daily.spent_usd += rec->cost_usd;
    store_append(e->o.store, ENGINE_GATEWAY_RUN, ++e->gateway_seq, engine_now_ms(), "llm.call",
                 data);
    json_decref(data);
    engine_touch(e);
}

void engine_record_call(engine_t *e, const llm_call_record_t *rec) {
    if (rec->run_id && !strcmp(rec->run_id, ENGINE_GATEWAY_RUN)) {
        record_gateway_call(e, rec);
        return;
    }
    /* A call made outside any run (an embedding for `baton embed`, say) belongs to no journal. */
    if (!rec->run_id || !rec->task_id) return;
    for (engine_run_t *run = e->runs; run; run = run->next) {
        if (!run->st.run_id || strcmp(run->st.run_id, rec->run_id)) continue;
        if (workflow_task_index(run->wf, rec->task_id) < 0) return;
        e->daily.spent_usd += rec->cost_usd;
        json_t *wf_spent = run->wf->name ? json_object_get(e->workflow_spent, run->wf->name) : NULL;
        if (wf_spent) json_real_set(wf_spent, json_real_value(wf_spent) + rec->cost_usd);
        json_t *data = call_event_data(rec);
        /* An answered call's cost reaches the run with the task's own event; what a failed,
         * rejected or cancelled call cost has no other way in, so it is counted here (the
         * budget must see money spent on candidates that did not deliver). */
        if (data && strcmp(rec->status, "ok") && rec->cost_usd > 0)
            json_object_set_new(data, "cost_usd", json_real(rec->cost_usd));
        run_emit(run, "llm.call", data);
        return;
    }
}

bool engine_daily_room(const engine_t *e, double *left) {
    if (e->daily.limit_usd <= 0) return false;
    *left = e->daily.limit_usd > e->daily.spent_usd ? e->daily.limit_usd - e->daily.spent_usd : 0;
    return true;
}

const run_state_t *engine_run_state(const engine_run_t *run) { return &run->st; }
const char *engine_run_id(const engine_run_t *run) { return run->st.run_id; }
const workflow_t *engine_run_workflow(const engine_run_t *run) { return run->wf; }
const char *engine_error(const engine_t *e) { return e->error; }

/* ---- journal ------------------------------------------------------------------------------ */

/* Stops everything: the journal cannot be written, or the engine made a transition the reducer
 * refuses (a bug). Either way no effect may start that the journal could not account for; the
 * error is reported by engine_error and the process carries on to report it. */
static void engine_fatal(engine_t *e, char *msg) {
    if (e->error) { /* the first cause is the one to report; what follows is its echo */
        free(msg);
        return;
    }
    fprintf(stderr, "baton: %s; stopping\n", msg);
    free(e->error);
    e->error = msg;
    for (engine_run_t *run = e->runs; run; run = run->next)
        for (size_t i = 0; i < run->wf->n_tasks; i++) task_stop_effects(run, (uint32_t)i);
    for (size_t i = 0; i < e->n_flying; i++) effects_free(&e->flying[i].fx);
    e->n_flying = 0;
    effects_free(&e->next);
}

/* Events that carry what other tasks act on: a task's result (or its end), a person's answer. */
static bool is_result_event(const char *type) {
    return !strcmp(type, "task.completed") || !strcmp(type, "task.iterated") ||
           !strcmp(type, "task.failed") || !strcmp(type, "task.skipped") ||
           !strcmp(type, "task.cancelled") || !strcmp(type, "approval.responded") ||
           !strcmp(type, "tool.requested") || !strcmp(type, "tool.result");
}

/* Templates read finished tasks as tasks.ID: refresh that view when an event finishes one. */
static void refresh_task_view(engine_run_t *run, const json_t *data) {
    const char *task = json_string_value(json_object_get(data, "task"));
    int i = task ? workflow_task_index(run->wf, task) : -1;
    if (i >= 0 && task_status_terminal(run->st.tasks[i].status))
        json_object_set_new(run->scope_tasks, task, state_task_view(&run->st, (uint32_t)i));
}

void run_touch(engine_run_t *run) {
    run->dirty = true;
    engine_touch(run->eng);
}

void run_emit(engine_run_t *run, const char *type, json_t *data) {
    engine_t *e = run->eng;
    char err[256];
    uint64_t seq = run->st.seq + 1;
    int64_t now = engine_now_ms();
    if (e->error || e->closing) { /* stopped, or being freed: nothing more is journaled */
        json_decref(data);
        return;
    }
    if (!data) {
        /* json_pack failed (text that is not UTF-8 reached an event): journaling the event
         * without its data would lose what it says, so the engine stops and says why. */
        engine_fatal(e, xasprintf("internal error in run %s: the data of a %s event could not be "
                                  "built (text that is not UTF-8?)",
                                  run->st.run_id, type));
        return;
    }
    if (state_apply(&run->st, seq, now, type, data, err, sizeof err) != 0) {
        json_decref(data);
        engine_fatal(e, xasprintf("internal error in run %s: %s", run->st.run_id, err));
        return;
    }
    store_append(e->o.store, run->st.run_id, seq, now, type, data);
    refresh_task_view(run, data);
    tool_loop_observe(run, type, data);
    if (is_result_event(type)) e->next.results = true;
    if (e->o.on_event) {
        effects_t *fx = &e->next;
        if (fx->n_notes == fx->cap_notes) {
            fx->cap_notes = fx->cap_notes ? fx->cap_notes * 2 : 64;
            fx->notes = xrealloc(fx->notes, fx->cap_notes * sizeof *fx->notes);
        }
        fx->notes[fx->n_notes++] = (struct pending_event){run, seq, now, xstrdup(type), data};
    } else {
        json_decref(data);
    }
    run_touch(run);
}

void run_defer_dispatch(engine_run_t *run, uint32_t i) {
    engine_t *e = run->eng;
    task_exec_t *x = &run->exec[i];
    if (x->dispatch_queued) return;
    x->dispatch_queued = true;
    effects_t *fx = &e->next;
    if (fx->n_dispatch == fx->cap_dispatch) {
        fx->cap_dispatch = fx->cap_dispatch ? fx->cap_dispatch * 2 : 64;
        fx->dispatch = xrealloc(fx->dispatch, fx->cap_dispatch * sizeof *fx->dispatch);
    }
    fx->dispatch[fx->n_dispatch++] = x;
    run_touch(run);
}

/* ---- scheduling ---------------------------------------------------------------------------- */

static json_t *failed_task_list(const engine_run_t *run) {
    json_t *ids = json_array();
    for (size_t i = 0; i < run->wf->n_tasks; i++)
        if (run->st.tasks[i].status == TS_FAILED &&
            run->wf->tasks[i].on_failure != ON_FAILURE_CONTINUE)
            json_array_append_new(ids, json_string(run->wf->tasks[i].id));
    return ids;
}

static void run_finish_if_done(engine_run_t *run) {
    if (run->st.status != RS_RUNNING || !state_all_finished(&run->st)) return;
    if (run->st.n_failed == 0) {
        run_emit(run, "run.completed", json_object());
        return;
    }
    json_t *ids = failed_task_list(run);
    char *list = json_dumps(ids, JSON_COMPACT);
    char *msg = xasprintf("%zu task%s failed: %s", json_array_size(ids),
                          json_array_size(ids) == 1 ? "" : "s", list);
    run_emit(run, "run.failed", json_pack("{s:s, s:o}", "error", msg, "failed_tasks", ids));
    free(list);
    free(msg);
}

/* Evaluates the task's conditions (spec section 2): 0 execute, 1 skipped, -1 failed. */
static int evaluate_conditions(engine_run_t *run, uint32_t i) {
    const wf_task_t *t = &run->wf->tasks[i];
    if (!t->n_conditions) return 0;
    task_scope_t ts;
    task_scope_init(&ts, run, i);
    cond_action_t action = t->conditions[t->n_conditions - 1].else_action;
    const wf_condition_t *decided = &t->conditions[t->n_conditions - 1];
    int rc = 0;
    for (size_t c = 0; c < t->n_conditions; c++) {
        json_t *v = NULL;
        expr_error_t err;
        if (tmpl_render_str(t->conditions[c].when.src, &ts.local, &v, &err) != 0) {
            char *msg = xasprintf("condition '%s' at line %u: %s", t->conditions[c].when.src,
                                  t->conditions[c].loc.line, err.message);
            run_emit(run, "task.failed", json_pack("{s:s, s:s}", "task", t->id, "error", msg));
            free(msg);
            rc = -1;
            goto out;
        }
        bool truth = expr_truthy(v);
        json_decref(v);
        if (truth) {
            action = t->conditions[c].then_action;
            decided = &t->conditions[c];
            break;
        }
    }
    if (action == COND_SKIP) {
        run_emit(run, "task.skipped",
                 json_pack("{s:s, s:s, s:s}", "task", t->id, "reason", "condition", "condition",
                           decided->when.src));
        rc = 1;
    } else if (action == COND_FAIL) {
        char *msg = xasprintf("condition failed: %s", decided->when.src);
        run_emit(run, "task.failed", json_pack("{s:s, s:s}", "task", t->id, "error", msg));
        free(msg);
        rc = -1;
    }
out:
    task_scope_free(&ts);
    return rc;
}

static void run_stop(engine_run_t *run, const char *final_type, const char *why);

/* What one call of agent a may cost at most: the prompt is not rendered yet, so count the
 * instructions and the task's inputs as written, plus max_tokens of output. */
/* `extra`: what else goes with the prompt (an agent's tool rounds so far), or NULL. */
static double estimate_call_cost(const engine_run_t *run, const wf_agent_t *a, const json_t *inputs,
                                 const json_t *model, const json_t *extra) {
    const engine_opts_t *o = &run->eng->o;
    llm_prices_t prices = o->prices_for ? o->prices_for(o->prices_ud, model ? model
                                                                      : a   ? a->model
                                                                            : NULL)
                                        : o->prices;
    const llm_prices_t *p = &prices;
    if (p->input_per_million == 0 && p->output_per_million == 0) return 0;
    int64_t in = (a ? llm_estimate_tokens(a->instructions) : 0) + llm_estimate_json_tokens(inputs) +
                 llm_estimate_json_tokens(extra) + 64;
    return llm_cost(p, in, a ? a->max_tokens : 1500);
}

/* model: the task's model (a budget downgrade's, or the one written), NULL for each agent's own.
 * An agent's next call carries its tool rounds so far: they count. */
static double estimate_task_cost(const engine_run_t *run, uint32_t i, const json_t *model) {
    const wf_task_t *t = &run->wf->tasks[i];
    if (t->type == TASK_AGENT)
        return estimate_call_cost(run, t->agent, t->inputs, model, run->exec[i].transcript);
    double sum = 0;
    for (size_t k = 0; k < t->n_consensus_agents; k++)
        sum += estimate_call_cost(run, t->consensus_agent_refs[k], t->inputs, model, NULL);
    return sum;
}

const json_t *run_task_model(const engine_run_t *run, uint32_t i) {
    const json_t *m = run->st.tasks[i].model;
    return m ? m : run->wf->tasks[i].model;
}

/* on_exceed: downgrade. The tiers from the most capable down, below the task's own when that is
 * one of them (so every downgrade is a step down, and a run cannot go round in circles); the
 * first whose estimate fits what is left of the budget is the task's model from now on
 * (journaled, so a resumed run keeps it). NULL when none fits. */
static const char *cheaper_tier(const engine_run_t *run, uint32_t i, double left) {
    static const char *const tiers[] = {"best", "balanced", "fast", "local"};
    /* compared on the same estimate: the engine's, for the model the task has now */
    double current = estimate_task_cost(run, i, run_task_model(run, i));
    const char *now = json_string_value(run_task_model(run, i));
    size_t from = 0;
    for (size_t k = 0; now && k < sizeof tiers / sizeof *tiers; k++)
        if (!strcmp(now, tiers[k])) from = k + 1;
    for (size_t k = from; k < sizeof tiers / sizeof *tiers; k++) {
        json_t *m = json_string(tiers[k]);
        double e = estimate_task_cost(run, i, m);
        json_decref(m);
        if (e <= left && e < current) return tiers[k]; /* cheaper, whatever the model was */
    }
    return NULL;
}

/* The limit with the least money left for run's next call: the run's budget, the daily limit
 * of every run, the daily limit of its workflow. false when none applies. */
typedef struct spend_limit {
    const char *kind; /* "run", "daily", "workflow_daily" */
    double limit_usd, spent_usd;
} spend_limit_t;

static bool tightest_limit(const engine_run_t *run, spend_limit_t *out) {
    const engine_daily_t *d = &run->eng->daily;
    spend_limit_t c[3];
    size_t n = 0;
    if (run->wf->budget_usd >= 0)
        c[n++] = (spend_limit_t){"run", run->wf->budget_usd, run->st.cost_usd};
    if (d->limit_usd > 0) c[n++] = (spend_limit_t){"daily", d->limit_usd, d->spent_usd};
    double wf_limit =
        run->wf->name ? json_number_value(json_object_get(d->workflow_limits, run->wf->name)) : 0;
    const json_t *wf_spent =
        run->wf->name ? json_object_get(run->eng->workflow_spent, run->wf->name) : NULL;
    if (wf_limit > 0 && wf_spent)
        c[n++] = (spend_limit_t){"workflow_daily", wf_limit, json_real_value(wf_spent)};
    for (size_t k = 0; k < n; k++)
        if (k == 0 || c[k].limit_usd - c[k].spent_usd < out->limit_usd - out->spent_usd)
            *out = c[k];
    return n > 0;
}

static char *limit_message(const engine_run_t *run, const spend_limit_t *l, const char *task,
                           double estimate) {
    if (!strcmp(l->kind, "run"))
        return xasprintf(
            "budget of $%.4f would be exceeded: $%.4f spent, task '%s' may cost up to $%.4f",
            l->limit_usd, l->spent_usd, task, estimate);
    return xasprintf("the daily limit of $%.4f for %s%s%s would be exceeded: $%.4f spent today, "
                     "task '%s' may cost up to $%.4f",
                     l->limit_usd, !strcmp(l->kind, "daily") ? "all runs" : "workflow '",
                     !strcmp(l->kind, "daily") ? "" : run->wf->name,
                     !strcmp(l->kind, "daily") ? "" : "'", l->spent_usd, task, estimate);
}

bool run_spend_room(const engine_run_t *run, double *left) {
    spend_limit_t lim;
    if (!tightest_limit(run, &lim)) return false;
    *left = lim.limit_usd > lim.spent_usd ? lim.limit_usd - lim.spent_usd : 0;
    return true;
}

/* A call of task i estimated at `estimate` does not fit `lim`: journals it and applies
 * on_exceed. 0: go on, on the cheaper tier just chosen; 1: the run failed or paused. */
static int budget_exceeded(engine_run_t *run, uint32_t i, const spend_limit_t *l, double estimate,
                           const char *detail) {
    const workflow_t *wf = run->wf;
    const wf_task_t *t = &wf->tasks[i];
    spend_limit_t lim = *l;
    char *msg = limit_message(run, &lim, t->id, estimate);
    run_emit(run, "budget.exceeded",
             json_pack("{s:s, s:s, s:f, s:f, s:f, s:s, s:s?}", "task", t->id, "limit", lim.kind,
                       "budget_usd", lim.limit_usd, "spent_usd", lim.spent_usd, "estimate_usd",
                       estimate, "message", msg, "detail", detail));
    if (wf->on_exceed == BUDGET_FAIL) {
        run_stop(run, "run.failed", msg);
        free(msg);
        return 1;
    }
    const char *tier = wf->on_exceed == BUDGET_DOWNGRADE
                           ? cheaper_tier(run, i, lim.limit_usd - lim.spent_usd)
                           : NULL;
    if (tier) {
        json_t *from = (json_t *)run_task_model(run, i);
        run_emit(run, "budget.downgraded",
                 json_pack("{s:s, s:O?, s:s}", "task", t->id, "from", from, "model", tier));
        free(msg);
        return 0;
    }
    /* pause, or a downgrade with no tier cheap enough */
    run_emit(run, "run.paused", json_pack("{s:s}", "reason", msg));
    free(msg);
    return 1;
}

int run_check_budget(engine_run_t *run, uint32_t i) {
    const wf_task_t *t = &run->wf->tasks[i];
    spend_limit_t lim;
    if ((t->type != TASK_AGENT && t->type != TASK_CONSENSUS) || !tightest_limit(run, &lim))
        return 0;
    double estimate = estimate_task_cost(run, i, run_task_model(run, i));
    if (lim.spent_usd + estimate <= lim.limit_usd) return 0;
    return budget_exceeded(run, i, &lim, estimate, NULL);
}

int run_budget_refused(engine_run_t *run, uint32_t i, double estimate, const char *detail) {
    spend_limit_t lim;
    if (!tightest_limit(run, &lim)) return 0; /* the limits moved on meanwhile: just try again */
    return budget_exceeded(run, i, &lim, estimate, detail);
}

static void start_ready_task(engine_run_t *run, uint32_t i) {
    int c = evaluate_conditions(run, i);
    if (c != 0) return;
    if (run_check_budget(run, i)) {
        /* Not started: put it back so it starts when the run is resumed. */
        if (run->st.status == RS_PAUSED) state_requeue_ready(&run->st, i);
        return;
    }
    task_begin_attempt(run, i, run->st.tasks[i].attempt + 1, 1);
}

void run_queue_attempt(engine_run_t *run, uint32_t i, int attempt, int iteration) {
    /* One waiting attempt per task: a timer re-armed by a resume must not add a second. */
    if (run->exec[i].due_queued) return;
    run->exec[i].due_queued = true;
    if (run->n_due == run->cap_due) {
        run->cap_due = run->cap_due ? run->cap_due * 2 : 16;
        run->due = xrealloc(run->due, run->cap_due * sizeof *run->due);
    }
    run->due[run->n_due++] = (due_attempt_t){i, attempt, iteration};
    run_touch(run);
}

/* Starts the due attempts that can start, in the order they became due; keeps the rest. */
static bool start_due_attempts(engine_run_t *run) {
    run_state_t *s = &run->st;
    size_t kept = 0;
    bool started = false;
    for (size_t k = 0; k < run->n_due; k++) {
        due_attempt_t d = run->due[k];
        const task_state_t *t = &s->tasks[d.task];
        if (task_status_terminal(t->status)) { /* cancelled meanwhile */
            run->exec[d.task].due_queued = false;
            continue;
        }
        /* Due attempts are later attempts of a task that started: never a first start, which
         * goes through the reducer's ready queue (both would start it). */
        assert(t->status != TS_PENDING && t->status != TS_READY);
        /* A loop between iterations holds its slot already; a retry or a re-run needs one. */
        bool has_slot = t->status == TS_RUNNING || (int)s->n_running < run->wf->concurrency;
        if (s->status != RS_RUNNING || !has_slot || run_check_budget(run, d.task)) {
            run->due[kept++] = d;
            continue;
        }
        run->exec[d.task].due_queued = false;
        task_begin_attempt(run, d.task, d.attempt, d.iteration);
        started = true;
    }
    run->n_due = kept;
    return started;
}

/* Journals the derived status when it changes (running <-> waiting_human), so projections and
 * observers see what a user should see without re-deriving it. */
static void report_status(engine_run_t *run) {
    if (run->st.status != RS_RUNNING) {
        run->reported = run->st.status;
        return;
    }
    run_status_t now = state_run_status(&run->st);
    if (now == run->reported) return;
    run->reported = now;
    run_emit(run, "run.status", json_pack("{s:s}", "status", run_status_name(now)));
}

static void pump(engine_run_t *run) {
    run_state_t *s = &run->st;
    bool progress = true;
    while (progress && s->status == RS_RUNNING) {
        progress = start_due_attempts(run);
        int i;
        while ((i = state_next_doomed(s)) >= 0) {
            run_emit(
                run, "task.skipped",
                json_pack("{s:s, s:s}", "task", run->wf->tasks[i].id, "reason", "upstream_failed"));
            progress = true;
        }
        while (s->status == RS_RUNNING && (int)s->n_running < run->wf->concurrency &&
               (i = state_next_ready(s)) >= 0) {
            /* The reducer queues a task once every dependency satisfied it, never a doomed one */
            assert(s->tasks[i].status == TS_READY && !s->tasks[i].deps_left && !s->tasks[i].doomed);
            start_ready_task(run, (uint32_t)i);
            progress = true;
        }
    }
    run_finish_if_done(run);
    report_status(run);
}

/* Observers see only durable events; effects start once the results they may read are durable. */
static void deliver(engine_t *e, effects_t *fx) {
    for (size_t k = 0; k < fx->n_notes; k++) {
        struct pending_event *p = &fx->notes[k];
        e->o.on_event(e->o.on_event_ud, p->run, p->seq, p->ts, p->type, p->data);
    }
    for (size_t k = 0; k < fx->n_dispatch; k++) {
        task_exec_t *x = fx->dispatch[k];
        x->dispatch_queued = false;
        if (!e->error && x->run->st.tasks[x->index].status == TS_RUNNING)
            task_dispatch(x->run, x->index);
    }
    fx->n_dispatch = 0; /* dispatched: effects_free must not touch their flags again */
    effects_free(fx);
}

static void on_committed(void *ud, uint64_t ticket, const char *err) {
    engine_t *e = ud;
    if (err) {
        /* Without a journal nothing may go on: effects would not be recoverable. */
        engine_fatal(e, xstrdup(err));
        return;
    }
    /* The writer reports in submission order (store_writer asserts it), so the batch is the
     * oldest in flight. */
    assert(e->error || (e->n_flying && e->flying[0].ticket == ticket)); /* error: all dropped */
    if (!e->n_flying || e->flying[0].ticket != ticket) return;
    effects_t fx = e->flying[0].fx;
    memmove(e->flying, e->flying + 1, --e->n_flying * sizeof *e->flying);
    deliver(e, &fx);
}

static void move_dispatches(effects_t *to, effects_t *from) {
    for (size_t k = 0; k < from->n_dispatch; k++) {
        if (to->n_dispatch == to->cap_dispatch) {
            to->cap_dispatch = to->cap_dispatch ? to->cap_dispatch * 2 : 16;
            to->dispatch = xrealloc(to->dispatch, to->cap_dispatch * sizeof *to->dispatch);
        }
        to->dispatch[to->n_dispatch++] = from->dispatch[k];
    }
    from->n_dispatch = 0;
}

static void flush_cb(uv_idle_t *h) {
    engine_t *e = h->data;
    uv_idle_stop(&e->flush);
    e->flush_active = false;
    if (e->error) return; /* stopped (engine_fatal): nothing more is scheduled or journaled */

    for (engine_run_t *run = e->runs; run; run = run->next) {
        if (!run->dirty) continue;
        run->dirty = false;
        pump(run);
    }
    /* This turn's events are one transaction: small ones commit here when the writer is idle
     * (no thread hand-off on a chain's critical path), big ones on the writer thread while the
     * loop goes on. */
    effects_t fx = e->next;
    e->next = (effects_t){0};
    char *err = NULL;
    uint64_t ticket = store_writer_submit(e->writer, &err);
    if (err) {
        effects_free(&fx);
        engine_fatal(e, err);
        return;
    }
    if (ticket) {
        if (e->n_flying == e->cap_flying) {
            e->cap_flying = e->cap_flying ? e->cap_flying * 2 : 8;
            e->flying = xrealloc(e->flying, e->cap_flying * sizeof *e->flying);
        }
        effects_t notes = fx;
        notes.dispatch = NULL;
        notes.n_dispatch = notes.cap_dispatch = 0;
        fx.notes = NULL;
        fx.n_notes = fx.cap_notes = 0;
        e->flying[e->n_flying++] = (struct in_flight){ticket, notes};
    }
    /* A model call (or any effect) may start before its own task.started is durable: a crash
     * then re-runs it with the same attempt number, which is what resume does anyway. It may not
     * start before the results it could read are durable: so it waits for the newest batch in
     * flight that carries results. */
    for (size_t k = e->n_flying; k-- > 0;) {
        if (!e->flying[k].fx.results) continue;
        move_dispatches(&e->flying[k].fx, &fx);
        break;
    }
    deliver(e, &fx);
}

/* ---- runs ----------------------------------------------------------------------------------- */

static engine_run_t *run_new(engine_t *e, const workflow_t *wf) {
    /* The first run of a workflow with a daily limit reads what the workflow spent today. */
    const char *name = wf->name;
    if (name && json_number_value(json_object_get(e->daily.workflow_limits, name)) > 0 &&
        !json_object_get(e->workflow_spent, name))
        json_object_set_new(e->workflow_spent, name,
                            json_real(store_spend_since(e->o.store, e->daily.since_ms, name)));
    engine_run_t *run = xcalloc(1, sizeof *run);
    run->eng = e;
    run->wf = wf;
    state_init(&run->st, wf);
    run->exec = xcalloc(wf->n_tasks, sizeof *run->exec);
    for (size_t i = 0; i < wf->n_tasks; i++) {
        run->exec[i].run = run;
        run->exec[i].index = (uint32_t)i;
    }
    run->scope = json_object();
    run->scope_tasks = json_object();
    run->scope_artifacts = json_object();
    run->artifact_versions = json_object();
    run->artifact_owner = json_object();
    json_object_set_new(run->scope, "tasks", run->scope_tasks);
    json_object_set_new(run->scope, "artifacts", run->scope_artifacts);
    run->next = e->runs;
    e->runs = run;
    return run;
}

static void run_unlink(engine_t *e, engine_run_t *run) {
    for (engine_run_t **p = &e->runs; *p; p = &(*p)->next)
        if (*p == run) {
            *p = run->next;
            return;
        }
}

/* Run ids sort by creation time and are short enough to type: r-<base32 ms><4 random>. */
char *engine_new_run_id(void) {
    static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    char id[24] = "r-";
    uint64_t ms = (uint64_t)engine_now_ms();
    for (int k = 0; k < 9; k++) id[2 + k] = alphabet[(ms >> (5 * (8 - k))) & 31];
    uint32_t r = randombytes_random();
    for (int k = 0; k < 4; k++) id[11 + k] = alphabet[(r >> (5 * k)) & 31];
    id[15] = '\0';
    return xstrdup(id);
}

static void scope_fill(engine_run_t *run) {
    const workflow_t *wf = run->wf;
    /* Run inputs override variables of the same name; as the validator accepts
     * variables.NAME for a declared input, an input with no such variable is one too. */
    json_t *vars = wf->variables ? json_deep_copy(wf->variables) : json_object();
    json_object_update(vars, run->st.inputs);
    json_object_set(run->scope, "inputs", run->st.inputs);
    json_object_set_new(run->scope, "variables", vars);
    json_object_set_new(run->scope, "run",
                        json_pack("{s:s, s:I}", "id", run->st.run_id, "started_at",
                                  (json_int_t)run->st.created_ms));
}

engine_run_t *engine_start(engine_t *e, const workflow_t *wf, const char *source, const char *file,
                           const engine_workflow_ref_t *ref, const json_t *inputs, char **err) {
    json_t *resolved = inputs_resolve(wf, inputs, err);
    if (!resolved) return NULL;
    engine_run_t *run = run_new(e, wf);
    char *id = engine_new_run_id();
    run->rng = e->o.seed ^ (uint64_t)engine_now_ms();
    json_t *ids = json_array();
    for (size_t i = 0; i < wf->n_tasks; i++)
        json_array_append_new(ids, json_string(wf->tasks[i].id));
    /* The catalog agents this run uses, as their files read: a resume or a fork runs with the
     * agents the run started with, whatever the catalog on disk says by then. */
    json_t *agents = json_object();
    for (size_t i = 0; i < wf->n_catalog_copies; i++) {
        const wf_agent_t *a = &wf->catalog_copies[i];
        if (a->source)
            json_object_set_new(agents, a->id,
                                json_pack("{s:s, s:s}", "file", a->file, "source", a->source));
    }
    json_t *created = json_pack("{s:s, s:s, s:s?, s:s?, s:o, s:o, s:o}", "run_id", id, "workflow",
                                wf->name, "file", file, "source", source, "inputs", resolved,
                                "tasks", ids, "agents", agents);
    if (ref && ref->id) {
        json_object_set_new(created, "workflow_id", json_string(ref->id));
        json_object_set_new(created, "workflow_version", json_integer((json_int_t)ref->version));
    }
    run_emit(run, "run.created", created);
    free(id);
    scope_fill(run);
    run_emit(run, "run.started", json_object());
    run->reported = RS_RUNNING;
    return run;
}

static int replay_event(void *ud, uint64_t seq, int64_t ts, const char *type, json_t *data) {
    engine_run_t *run = ud;
    char err[256];
    if (state_apply(&run->st, seq, ts, type, data, err, sizeof err) != 0) {
        fprintf(stderr, "baton: journal of %s: %s\n", run->st.run_id ? run->st.run_id : "?", err);
        return -1;
    }
    refresh_task_view(run, data);
    tool_loop_observe(run, type, data);
    if (!strcmp(type, "artifact.written")) {
        /* artifacts.NAME reads the content back from the blob, verified against the recorded
         * sha256. A missing or damaged blob stops the resume: carrying on would give the tasks
         * still to run null (or wrong bytes) in place of the artifact. The message says how to
         * get the bytes back; the run can be resumed once they are. */
        const char *name = json_string_value(json_object_get(data, "name"));
        size_t len;
        char *aerr = NULL;
        char *text = artifact_read(run->eng->o.artifacts_dir, run->st.run_id, data, &len, &aerr);
        if (!text) {
            fprintf(stderr, "baton: run %s: artifact %s v%lld: %s\n",
                    run->st.run_id ? run->st.run_id : "?", name ? name : "?",
                    json_integer_value(json_object_get(data, "version")), aerr);
            free(aerr);
            return -1;
        }
        if (name) json_object_set_new(run->scope_artifacts, name, json_stringn(text, len));
        free(text);
        if (name) json_object_set(run->artifact_versions, name, json_object_get(data, "version"));
    }
    if (!strcmp(type, "run.status"))
        run->reported =
            (run_status_t)run_status_parse(json_string_value(json_object_get(data, "status")));
    else if (!strcmp(type, "run.started") || !strcmp(type, "run.resumed"))
        run->reported = RS_RUNNING;
    else if (!strncmp(type, "run.", 4))
        run->reported = run->st.status;
    return 0;
}

engine_run_t *engine_resume(engine_t *e, const workflow_t *wf, const char *run_id, char **err) {
    engine_run_t *run = run_new(e, wf);
    run->st.run_id = xstrdup(run_id);
    run->rng = e->o.seed ^ (uint64_t)engine_now_ms();
    if (store_events(e->o.store, run_id, 0, replay_event, run) != 0 || run->st.seq == 0) {
        *err = run->st.seq ? xasprintf("the journal of run %s cannot be replayed", run_id)
                           : xasprintf("run %s has no journal", run_id);
        run_unlink(e, run);
        run_destroy(run);
        return NULL;
    }
    scope_fill(run);
    run_state_t *s = &run->st;
    if (s->status == RS_COMPLETED || s->status == RS_FAILED || s->status == RS_CANCELLED)
        return run; /* nothing to do; callers report the final state */
    if (s->status == RS_PENDING) {
        /* Created but never started (a crash right after run.created, or a fork at event 1). */
        run_emit(run, "run.started", json_object());
        run->reported = RS_RUNNING;
        return run;
    }
    int64_t now = engine_now_ms();
    for (uint32_t i = 0; i < wf->n_tasks; i++) {
        task_state_t *t = &s->tasks[i];
        if (t->status == TS_RUNNING && t->between_iterations) {
            /* The last iteration is journaled; the next one had not started. */
            run_queue_attempt(run, i, t->attempt + 1, t->iteration + 1);
        } else if (t->status == TS_RUNNING) {
            /* Same attempt, same idempotency key (run/task/attempt): the effect never finished. */
            run_defer_dispatch(run, i);
        } else if (t->status == TS_RETRYING) {
            int64_t wait = t->retry_at_ms - now;
            task_schedule_retry(run, i, wait > 0 ? (uint64_t)wait : 0);
        } else if (t->status == TS_WAITING_HUMAN) {
            human_resume(run, i);
        }
    }
    run_touch(run);
    return run;
}

engine_run_t *engine_fork(engine_t *e, const workflow_t *wf, const char *parent, uint64_t at,
                          const json_t *inputs, char **err) {
    json_t *resolved = NULL;
    if (inputs && json_object_size(inputs)) {
        json_t *row = store_run(e->o.store, parent);
        json_t *merged = json_deep_copy(json_object_get(row, "inputs"));
        if (!json_is_object(merged)) {
            json_decref(merged);
            merged = json_object();
        }
        json_object_update(merged, (json_t *)inputs);
        resolved = inputs_resolve(wf, merged, err);
        json_decref(merged);
        json_decref(row);
        if (!resolved) return NULL;
    }
    char *id = engine_new_run_id();
    engine_run_t *run = NULL;
    if (store_fork(e->o.store, parent, at, id, resolved, err) == 0) {
        run = engine_resume(e, wf, id, err);
        char *ignored = NULL;
        if (!run) store_delete_run(e->o.store, id, &ignored); /* no half-born child left behind */
        free(ignored);
    }
    free(id);
    json_decref(resolved);
    return run;
}

const char *engine_rc_name(engine_rc_t rc) {
    static const char *const names[] = {
        [ENGINE_OK] = "ENGINE_OK",
        [ENGINE_E_NO_TASK] = "ENGINE_E_NO_TASK",
        [ENGINE_E_NOT_WAITING] = "ENGINE_E_NOT_WAITING",
        [ENGINE_E_ANSWERED] = "ENGINE_E_ANSWERED",
        [ENGINE_E_BAD_DECISION] = "ENGINE_E_BAD_DECISION",
        [ENGINE_E_SCHEMA] = "ENGINE_E_SCHEMA",
        [ENGINE_E_NOT_RUNNING] = "ENGINE_E_NOT_RUNNING",
        [ENGINE_E_NOT_PAUSED] = "ENGINE_E_NOT_PAUSED",
        [ENGINE_E_FINISHED] = "ENGINE_E_FINISHED",
        [ENGINE_E_NOT_RETRYABLE] = "ENGINE_E_NOT_RETRYABLE",
        [ENGINE_E_NOTHING_TO_RETRY] = "ENGINE_E_NOTHING_TO_RETRY",
        [ENGINE_E_NO_RECIPIENT] = "ENGINE_E_NO_RECIPIENT",
    };
    return (unsigned)rc < sizeof names / sizeof *names && names[rc] ? names[rc] : "ENGINE_E_?";
}

bool engine_rc_bad_request(engine_rc_t rc) {
    return rc == ENGINE_E_NO_TASK || rc == ENGINE_E_BAD_DECISION || rc == ENGINE_E_SCHEMA;
}

/* Sets *err (when asked for) and returns rc: every refusal below says why in words too. */
static engine_rc_t refuse(engine_rc_t rc, char **err, char *msg) {
    if (err)
        *err = msg;
    else
        free(msg);
    return rc;
}

static bool run_finished(const engine_run_t *run) {
    run_status_t st = run->st.status;
    return st == RS_COMPLETED || st == RS_FAILED || st == RS_CANCELLED;
}

engine_rc_t engine_respond(engine_run_t *run, const char *task_id, const json_t *answer,
                           char **err) {
    int i = workflow_task_index(run->wf, task_id);
    if (i < 0)
        return refuse(ENGINE_E_NO_TASK, err,
                      xasprintf("run %s has no task '%s'", run->st.run_id, task_id));
    task_state_t *t = &run->st.tasks[i];
    if (t->status == TS_WAITING_HUMAN && t->answer)
        return refuse(
            ENGINE_E_ANSWERED, err,
            xasprintf("task '%s' was answered already (the answer is being acted on)", task_id));
    if (t->status != TS_WAITING_HUMAN)
        return refuse(ENGINE_E_NOT_WAITING, err,
                      xasprintf("task '%s' is not waiting for a human (it is %s)", task_id,
                                task_status_name(t->status)));
    const char *decision = json_string_value(json_object_get(answer, "decision"));
    const json_t *options = json_object_get(t->human, "options");
    const char *kind = json_string_value(json_object_get(t->human, "kind"));
    if (options && json_array_size(options) && !(kind && !strcmp(kind, "input"))) {
        bool ok = false;
        size_t k;
        json_t *o;
        json_array_foreach(options, k, o) if (decision && !strcmp(json_string_value(o), decision))
            ok = true;
        if (!ok) {
            char *list = json_dumps(options, JSON_COMPACT);
            char *msg = xasprintf("decision '%s' is not one of %s", decision ? decision : "", list);
            free(list);
            return refuse(ENGINE_E_BAD_DECISION, err, msg);
        }
    }
    /* An edited output replaces the agent's: it must be what the agent was asked for. */
    const char *edited = json_string_value(json_object_get(answer, "edited_output"));
    const wf_agent_t *agent = run->wf->tasks[i].agent;
    if (edited && json_object_get(t->human, "proposal") && agent && agent->format == OUTPUT_JSON) {
        json_error_t jerr;
        json_t *v = json_loads(edited, JSON_DECODE_ANY, &jerr);
        char why[256] = "";
        if (!v || (agent->schema && jsonschema_validate(agent->schema, v, why, sizeof why))) {
            char *msg = xasprintf("the edited output of '%s' must be JSON matching its schema: %s",
                                  task_id, v ? why : jerr.text);
            json_decref(v);
            return refuse(ENGINE_E_SCHEMA, err, msg);
        }
        json_decref(v);
    }
    json_t *data = json_deep_copy(answer);
    json_object_set_new(data, "task", json_string(task_id));
    if (!json_object_get(data, "answered_at"))
        json_object_set_new(data, "answered_at", json_integer(engine_now_ms()));
    if (!json_object_get(data, "answered_by"))
        json_object_set_new(data, "answered_by", json_string("cli"));
    task_stop_effects(run, (uint32_t)i); /* the deadline timer */
    run_emit(run, "approval.responded", data);
    human_apply_answer(run, (uint32_t)i);
    return ENGINE_OK;
}

/* Ends a run that still has work: whatever is in flight stops, unfinished tasks are cancelled,
 * and the run ends with `final_type` (run.cancelled or run.failed). */
static void run_stop(engine_run_t *run, const char *final_type, const char *why) {
    run_state_t *s = &run->st;
    if (s->status == RS_COMPLETED || s->status == RS_FAILED || s->status == RS_CANCELLED) return;
    for (uint32_t i = 0; i < run->wf->n_tasks; i++) {
        if (task_status_terminal(s->tasks[i].status)) continue;
        task_stop_effects(run, i);
        run_emit(run, "task.cancelled",
                 json_pack("{s:s, s:s}", "task", run->wf->tasks[i].id, "reason", why));
    }
    bool failed = !strcmp(final_type, "run.failed");
    run_emit(run, final_type, json_pack("{s:s}", failed ? "error" : "reason", why));
}

static bool effects_mention(const effects_t *fx, const engine_run_t *run) {
    for (size_t i = 0; i < fx->n_notes; i++)
        if (fx->notes[i].run == run) return true;
    for (size_t i = 0; i < fx->n_dispatch; i++)
        if (fx->dispatch[i]->run == run) return true;
    return false;
}

bool engine_forget(engine_t *e, engine_run_t *run) {
    run_status_t st = run->st.status;
    bool finished = st == RS_COMPLETED || st == RS_FAILED || st == RS_CANCELLED;
    if (!finished || run->dirty || effects_mention(&e->next, run)) return false;
    for (size_t i = 0; i < e->n_flying; i++)
        if (effects_mention(&e->flying[i].fx, run)) return false;
    run_unlink(e, run);
    run_destroy(run);
    return true;
}

engine_rc_t engine_cancel(engine_run_t *run, const char *reason, char **err) {
    if (run_finished(run))
        return refuse(
            ENGINE_E_FINISHED, err,
            xasprintf("run %s is already %s", run->st.run_id, run_status_name(run->st.status)));
    run_stop(run, "run.cancelled", reason ? reason : "cancelled");
    return ENGINE_OK;
}

engine_rc_t engine_retry(engine_run_t *run, char **err) {
    run_state_t *s = &run->st;
    if (s->status != RS_FAILED && s->status != RS_CANCELLED)
        return refuse(ENGINE_E_NOT_RETRYABLE, err,
                      xasprintf("run %s is %s: only a failed or cancelled run can be retried",
                                s->run_id, run_status_name(s->status)));
    json_t *ids = json_array();
    for (uint32_t i = 0; i < run->wf->n_tasks; i++) {
        if (!state_task_blocked(s, i)) continue;
        json_array_append_new(ids, json_string(run->wf->tasks[i].id));
        exec_clear(&run->exec[i]);
    }
    if (!json_array_size(ids)) {
        json_decref(ids);
        return refuse(
            ENGINE_E_NOTHING_TO_RETRY, err,
            xasprintf("run %s has no failed, blocked or cancelled task to run again", s->run_id));
    }
    /* Every task of a failed or cancelled run has finished: an attempt still due (a retry whose
     * backoff ended while the run was paused, then cancelled) is stale, and must not start the
     * task a second way beside the ready queue. */
    for (size_t k = 0; k < run->n_due; k++) run->exec[run->due[k].task].due_queued = false;
    run->n_due = 0;
    run_emit(run, "run.retried", json_pack("{s:o}", "tasks", ids));
    return ENGINE_OK;
}

engine_rc_t engine_message(engine_run_t *run, const char *task, const char *agent, const char *text,
                           const char *from, json_t **tasks, char **err) {
    const run_state_t *s = &run->st;
    *tasks = NULL;
    if (run_finished(run))
        return refuse(ENGINE_E_FINISHED, err,
                      xasprintf("run %s is %s: there is no next call to guide", s->run_id,
                                run_status_name(s->status)));
    if (task && workflow_task_index(run->wf, task) < 0)
        return refuse(ENGINE_E_NO_TASK, err, xasprintf("run %s has no task '%s'", s->run_id, task));
    json_t *ids = json_array();
    for (uint32_t i = 0; i < run->wf->n_tasks; i++) {
        const wf_task_t *t = &run->wf->tasks[i];
        if (task_status_terminal(s->tasks[i].status) || (task && strcmp(t->id, task))) continue;
        bool agent_task = t->type == TASK_AGENT || t->type == TASK_CONSENSUS;
        if (!agent_task || (agent && !(t->agent && t->agent->id && !strcmp(t->agent->id, agent))))
            continue;
        json_array_append_new(ids, json_string(t->id));
    }
    if (!json_array_size(ids)) {
        json_decref(ids);
        return refuse(
            ENGINE_E_NO_RECIPIENT, err,
            agent ? xasprintf("no unfinished task of agent '%s' in run %s", agent, s->run_id)
                  : xasprintf("no unfinished agent task%s%s in run %s", task ? " " : "",
                              task ? task : "", s->run_id));
    }
    run_emit(run, "run.message",
             json_pack("{s:s, s:s?, s:s?, s:s?, s:O}", "text", text, "from", from, "task", task,
                       "agent", agent, "tasks", ids));
    *tasks = ids;
    return ENGINE_OK;
}

engine_rc_t engine_pause(engine_run_t *run, const char *reason, char **err) {
    if (run->st.status != RS_RUNNING)
        return refuse(ENGINE_E_NOT_RUNNING, err,
                      xasprintf("run %s is %s, not running", run->st.run_id,
                                run_status_name(run->st.status)));
    run_emit(run, "run.paused", json_pack("{s:s}", "reason", reason ? reason : "paused"));
    return ENGINE_OK;
}

engine_rc_t engine_unpause(engine_run_t *run, char **err) {
    if (run->st.status != RS_PAUSED)
        return refuse(
            ENGINE_E_NOT_PAUSED, err,
            xasprintf("run %s is %s, not paused", run->st.run_id, run_status_name(run->st.status)));
    run_emit(run, "run.resumed", json_object());
    /* Backoff timers that fired while paused did nothing: arm them again with what is left. */
    int64_t now = engine_now_ms();
    for (uint32_t i = 0; i < run->wf->n_tasks; i++) {
        const task_state_t *t = &run->st.tasks[i];
        if (t->status != TS_RETRYING ||
            (run->exec[i].timer_ready && uv_is_active((uv_handle_t *)&run->exec[i].timer)))
            continue;
        int64_t wait = t->retry_at_ms - now;
        task_schedule_retry(run, i, wait > 0 ? (uint64_t)wait : 0);
    }
    return ENGINE_OK;
}
