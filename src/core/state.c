/* state.c - the pure reducer. See state.h for the contract.
 *
 * Event types and the data each carries (every task event has "task": ID):
 *   run.created       {workflow, inputs}             run: pending
 *   run.started       {}                             run: running; root tasks become ready
 *   run.paused        {reason}                       run: paused
 *   run.resumed       {}                             run: running
 *   run.completed     {}                             run: completed
 *   run.failed        {error}                        run: failed
 *   run.cancelled     {reason}                       run: cancelled
 *   run.status        {status}                       the derived status changed (running <->
 *                                                    waiting_human); informational here
 *   run.retried       {tasks}                        failed/blocked/cancelled tasks -> pending
 *   run.message       {text, from, tasks}            guidance for the next attempt of each task
 *                                                    listed (unfinished ones)
 *   task.started      {attempt, iteration}           ready|retrying|running|waiting -> running
 *   task.iterated     {iteration, output, outputs}   a loop iteration finished; another follows
 *                                                    (from running, or waiting_human after an
 *                                                    approved iteration)
 *   task.completed    {output, outputs}              -> completed (satisfies dependents)
 *   task.failed       {error, retry_at_ms?}          -> retrying when retry_at_ms, else failed
 *   task.skipped      {reason}                       -> skipped
 *   task.cancelled    {reason}                       -> cancelled
 *   approval.requested {kind, title, ..., proposal?} -> waiting_human
 *   approval.responded {decision, feedback, ...}     answer recorded; the engine acts on it
 *   tool.result       {id, name, content, ...}       one tool call's result; from waiting_human
 *                                                    (an agent's ask_human answered) -> running
 *   llm.call          {candidate, status, simulated?, ...}  informational; an answered call of
 *                                                    the offline model marks the task and the
 *                                                    run simulated (state_call_simulated)
 * Any event may carry "cost_usd", added to the task (if any) and to the run. Other types
 * (artifact.written, budget.exceeded, ...) change nothing here: they feed projections and
 * observers. */
#include "core/state.h"
#include "util/xalloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const task_status_names[] = {
    "pending",   "ready",  "running", "retrying",  "waiting_human",
    "completed", "failed", "skipped", "cancelled",
};
static const char *const run_status_names[] = {
    "pending", "running", "paused", "waiting_human", "completed", "failed", "cancelled",
};

const char *task_status_name(task_status_t st) { return task_status_names[st]; }
const char *run_status_name(run_status_t st) { return run_status_names[st]; }

static int name_index(const char *const *names, size_t n, const char *name) {
    for (size_t i = 0; name && i < n; i++)
        if (!strcmp(names[i], name)) return (int)i;
    return -1;
}

int task_status_parse(const char *name) {
    return name_index(task_status_names, sizeof task_status_names / sizeof *task_status_names,
                      name);
}
int run_status_parse(const char *name) {
    return name_index(run_status_names, sizeof run_status_names / sizeof *run_status_names, name);
}

bool task_status_terminal(task_status_t st) {
    return st == TS_COMPLETED || st == TS_FAILED || st == TS_SKIPPED || st == TS_CANCELLED;
}

void state_init(run_state_t *s, const workflow_t *wf) {
    memset(s, 0, sizeof *s);
    s->wf = wf;
    size_t n = wf->n_tasks;
    s->tasks = xcalloc(n, sizeof *s->tasks);
    s->n_dependents = xcalloc(n, sizeof *s->n_dependents);
    s->dependents = xcalloc(n, sizeof *s->dependents);
    s->ready_q = xmalloc(n * sizeof *s->ready_q);
    s->doomed_q = xmalloc(n * sizeof *s->doomed_q);

    /* Invert depends_on once so that finishing a task touches only its own dependents:
     * O(edges) for the whole run instead of a scan of every task per event. */
    for (size_t i = 0; i < n; i++) {
        s->tasks[i].deps_left = (uint32_t)wf->tasks[i].n_deps;
        for (size_t d = 0; d < wf->tasks[i].n_deps; d++)
            s->n_dependents[wf->tasks[i].dep_index[d]]++;
    }
    for (size_t i = 0; i < n; i++) {
        s->dependents[i] =
            s->n_dependents[i] ? xmalloc(s->n_dependents[i] * sizeof(uint32_t)) : NULL;
        s->n_dependents[i] = 0;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t d = 0; d < wf->tasks[i].n_deps; d++) {
            uint32_t dep = wf->tasks[i].dep_index[d];
            s->dependents[dep][s->n_dependents[dep]++] = (uint32_t)i;
        }
}

static void task_state_clear(task_state_t *t) {
    free(t->output);
    free(t->feedback);
    free(t->error);
    json_decref(t->outputs);
    json_decref(t->previous);
    json_decref(t->proposal);
    json_decref(t->human);
    json_decref(t->answer);
    json_decref(t->model);
    json_decref(t->guidance);
    json_decref(t->guidance_used);
}

void state_free(run_state_t *s) {
    if (!s->tasks) return;
    for (size_t i = 0; i < s->wf->n_tasks; i++) {
        task_state_clear(&s->tasks[i]);
        free(s->dependents[i]);
    }
    free(s->tasks);
    free(s->dependents);
    free(s->n_dependents);
    free(s->ready_q);
    free(s->doomed_q);
    free(s->run_id);
    free(s->error);
    json_decref(s->inputs);
    memset(s, 0, sizeof *s);
}

static void set_str(char **dst, const char *src) {
    free(*dst);
    *dst = xstrdup(src);
}

static void set_json(json_t **dst, json_t *src) {
    json_t *old = *dst;
    *dst = src ? json_incref(src) : NULL;
    json_decref(old);
}

static void make_ready(run_state_t *s, uint32_t i) {
    task_state_t *t = &s->tasks[i];
    if (t->status != TS_PENDING || t->deps_left || t->doomed) return;
    t->status = TS_READY;
    if (!t->queued) {
        /* A task enters the queue on pending -> ready only, once per queue life (run.retried
         * starts a new one), so n slots are enough. */
        assert(s->ready_len < s->wf->n_tasks);
        t->queued = true;
        s->ready_q[s->ready_len++] = i;
    }
}

/* n_running and n_waiting count the tasks in those statuses: only these two functions move a
 * task in or out of them, so neither count can go below zero. */
static void leave_status(run_state_t *s, task_state_t *t) {
    if (t->status == TS_RUNNING) {
        assert(s->n_running > 0);
        s->n_running--;
    } else if (t->status == TS_WAITING_HUMAN) {
        assert(s->n_waiting > 0);
        s->n_waiting--;
    }
}

static void enter_status(run_state_t *s, task_state_t *t, task_status_t st) {
    assert(st >= TS_PENDING && st <= TS_CANCELLED);
    leave_status(s, t);
    t->status = st;
    if (st == TS_RUNNING)
        s->n_running++;
    else if (st == TS_WAITING_HUMAN)
        s->n_waiting++;
}

/* A task reached a terminal status: tell its dependents. */
static void finish(run_state_t *s, uint32_t i, task_status_t st, bool satisfies, int64_t ts) {
    task_state_t *t = &s->tasks[i];
    /* apply_task_event refuses transitions of a finished task: each finishes once */
    assert(task_status_terminal(st) && !task_status_terminal(t->status));
    assert(s->n_finished < s->wf->n_tasks);
    enter_status(s, t, st);
    t->finished_ms = ts;
    s->n_finished++;
    for (uint32_t k = 0; k < s->n_dependents[i]; k++) {
        uint32_t d = s->dependents[i][k];
        task_state_t *dt = &s->tasks[d];
        if (satisfies) {
            /* each dependency satisfies its dependents once (a satisfied task is never retried) */
            assert(dt->deps_left > 0);
            dt->deps_left--;
            make_ready(s, d);
        } else if (!dt->doomed && !task_status_terminal(dt->status)) {
            assert(s->doomed_len < s->wf->n_tasks); /* doomed once per queue life */
            dt->doomed = true;
            /* Only a task that has not started can be doomed: a dependency cannot fail after a
             * dependent started, because dependents start only once it finished. */
            if (dt->status == TS_READY) dt->status = TS_PENDING;
            s->doomed_q[s->doomed_len++] = d;
        }
    }
}

static int fail_event(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
    snprintf(err, errlen, fmt, a, b);
    return -1;
}

bool state_task_blocked(const run_state_t *s, uint32_t i) {
    const task_state_t *t = &s->tasks[i];
    return t->status == TS_CANCELLED ||
           (t->status == TS_FAILED && s->wf->tasks[i].on_failure != ON_FAILURE_CONTINUE) ||
           (t->status == TS_SKIPPED && t->error && !strcmp(t->error, "upstream_failed"));
}

/* run.message {text, from, tasks}: the guidance waits for each listed task's next attempt. */
static int apply_message(run_state_t *s, const json_t *data, char *err, size_t errlen) {
    const char *text = json_string_value(json_object_get(data, "text"));
    if (!text) return fail_event(err, errlen, "run.message: no text%s%s", "", "");
    size_t k;
    json_t *v;
    json_array_foreach(json_object_get(data, "tasks"), k, v) {
        if (workflow_task_index(s->wf, json_string_value(v) ? json_string_value(v) : "") < 0)
            return fail_event(err, errlen, "run.message: unknown task '%s'%s",
                              json_string_value(v) ?: "?", "");
    }
    json_array_foreach(json_object_get(data, "tasks"), k, v) {
        task_state_t *t = &s->tasks[workflow_task_index(s->wf, json_string_value(v))];
        if (!t->guidance) t->guidance = json_array();
        json_array_append_new(t->guidance, json_pack("{s:s, s:O?}", "text", text, "from",
                                                     json_object_get(data, "from")));
    }
    return 0;
}

/* run.retried {tasks: [...]}: a failed or cancelled run goes on from the tasks listed, each one
 * that ended without satisfying its dependents (failed, skipped because of an upstream failure,
 * cancelled). They go back to pending with their attempt count kept (the next attempt has a new
 * number, hence a new idempotency key) and a fresh retry allowance; completed work stays. */
static int apply_retried(run_state_t *s, const json_t *data, char *err, size_t errlen) {
    if (s->status != RS_FAILED && s->status != RS_CANCELLED)
        return fail_event(err, errlen, "run.retried: run is %s%s", run_status_name(s->status), "");
    const json_t *ids = json_object_get(data, "tasks");
    size_t k;
    json_t *v;
    bool *listed = xcalloc(s->wf->n_tasks ? s->wf->n_tasks : 1, sizeof *listed);
    int rc = 0;
    json_array_foreach(ids, k, v) {
        int i = workflow_task_index(s->wf, json_string_value(v) ? json_string_value(v) : "");
        if (i < 0)
            rc = fail_event(err, errlen, "run.retried: unknown task '%s'%s",
                            json_string_value(v) ?: "?", "");
        else if (!state_task_blocked(s, (uint32_t)i))
            rc = fail_event(err, errlen,
                            "run.retried: task '%s' is %s, not failed, blocked or cancelled",
                            s->wf->tasks[i].id, task_status_name(s->tasks[i].status));
        else if (listed[i]) /* it would be counted out of the finished tasks twice */
            rc = fail_event(err, errlen, "run.retried: task '%s' is listed twice%s",
                            s->wf->tasks[i].id, "");
        else
            listed[i] = true;
        if (rc) break;
    }
    free(listed);
    if (rc) return rc;
    /* Every queued entry is spent (the run had ended): start the queues afresh. */
    s->ready_head = s->ready_len = s->doomed_head = s->doomed_len = 0;
    json_array_foreach(ids, k, v) {
        uint32_t i = (uint32_t)workflow_task_index(s->wf, json_string_value(v));
        task_state_t *t = &s->tasks[i];
        /* blocked tasks are finished, and a blocked failure is one n_failed counts */
        assert(s->n_finished > 0 && (t->status != TS_FAILED || s->n_failed > 0));
        if (t->status == TS_FAILED) s->n_failed--;
        s->n_finished--;
        t->status = TS_PENDING;
        t->doomed = t->queued = t->between_iterations = false;
        t->failures = 0;
        t->finished_ms = t->retry_at_ms = 0;
        set_str(&t->error, NULL);
        set_json(&t->human, NULL);
        set_json(&t->answer, NULL);
        set_json(&t->proposal, NULL);
    }
    s->status = RS_RUNNING;
    s->finished_ms = 0;
    set_str(&s->error, NULL);
    json_array_foreach(ids, k, v)
        make_ready(s, (uint32_t)workflow_task_index(s->wf, json_string_value(v)));
    return 0;
}

static int apply_run_event(run_state_t *s, int64_t ts, const char *type, const json_t *data,
                           char *err, size_t errlen) {
    if (!strcmp(type, "run.created")) {
        if (s->seq != 0 && s->status != RS_PENDING)
            return fail_event(err, errlen, "%s: run already created%s", type, "");
        set_json(&s->inputs, json_object_get(data, "inputs"));
        if (!s->inputs) s->inputs = json_object();
        const char *id = json_string_value(json_object_get(data, "run_id"));
        if (id) set_str(&s->run_id, id);
        s->created_ms = ts;
        s->status = RS_PENDING;
        return 0;
    }
    if (!strcmp(type, "run.started")) {
        if (s->status != RS_PENDING)
            return fail_event(err, errlen, "%s: run is %s", type, run_status_name(s->status));
        s->status = RS_RUNNING;
        s->started_ms = ts;
        for (uint32_t i = 0; i < s->wf->n_tasks; i++) make_ready(s, i);
        return 0;
    }
    if (!strcmp(type, "run.paused")) {
        if (s->status != RS_RUNNING)
            return fail_event(err, errlen, "%s: run is %s", type, run_status_name(s->status));
        s->status = RS_PAUSED;
        const char *why = json_string_value(json_object_get(data, "reason"));
        set_str(&s->error, why);
        return 0;
    }
    if (!strcmp(type, "run.resumed")) {
        if (s->status != RS_PAUSED)
            return fail_event(err, errlen, "%s: run is %s", type, run_status_name(s->status));
        s->status = RS_RUNNING;
        set_str(&s->error, NULL);
        return 0;
    }
    if (!strcmp(type, "run.retried")) return apply_retried(s, data, err, errlen);
    if (!strcmp(type, "run.message")) return apply_message(s, data, err, errlen);
    bool is_end = !strcmp(type, "run.completed") || !strcmp(type, "run.failed") ||
                  !strcmp(type, "run.cancelled");
    if (!is_end) return 0; /* run.status and other informational run events */
    run_status_t end = !strcmp(type, "run.completed") ? RS_COMPLETED
                       : !strcmp(type, "run.failed")  ? RS_FAILED
                                                      : RS_CANCELLED;
    if (s->status == RS_COMPLETED || s->status == RS_FAILED || s->status == RS_CANCELLED)
        return fail_event(err, errlen, "%s: run already %s", type, run_status_name(s->status));
    s->status = end;
    s->finished_ms = ts;
    const char *why =
        json_string_value(json_object_get(data, end == RS_FAILED ? "error" : "reason"));
    if (why) set_str(&s->error, why);
    return 0;
}

static int apply_task_event(run_state_t *s, uint32_t i, int64_t ts, const char *type,
                            const json_t *data, char *err, size_t errlen) {
    task_state_t *t = &s->tasks[i];
    const char *id = s->wf->tasks[i].id;
    const char *now = task_status_name(t->status);
    /* Informational events (llm.call, artifact.written, ...) change nothing and may follow a
     * task's end (a cancelled call is recorded as it is cancelled); transitions may not. */
    bool transition = !strncmp(type, "task.", 5) || !strncmp(type, "approval.", 9);
    if (transition && task_status_terminal(t->status))
        return fail_event(err, errlen, "%s: task '%s' has already finished", type, id);

    if (!strcmp(type, "llm.call")) {
        if (state_call_simulated(data)) t->simulated = s->simulated = true;
        return 0;
    }
    if (!strcmp(type, "budget.downgraded")) {
        json_decref(t->model);
        t->model = json_incref(json_object_get(data, "model"));
        return 0;
    }
    if (!strcmp(type, "task.started")) {
        if (t->status == TS_PENDING)
            return fail_event(err, errlen, "%s: task '%s' is not ready", type, id);
        json_int_t attempt = json_integer_value(json_object_get(data, "attempt"));
        json_int_t iteration = json_integer_value(json_object_get(data, "iteration"));
        t->attempt = attempt > 0 ? (int)attempt : t->attempt + 1;
        t->iteration = iteration > 0 ? (int)iteration : 1;
        if (!t->started_ms) t->started_ms = ts;
        t->between_iterations = false;
        json_decref(t->guidance_used); /* this attempt is told what was said since the last */
        t->guidance_used = t->guidance;
        t->guidance = NULL;
        json_decref(t->answer);
        t->answer = NULL;
        json_decref(t->human);
        t->human = NULL;
        enter_status(s, t, TS_RUNNING);
        return 0;
    }
    if (!strcmp(type, "task.iterated")) {
        /* From waiting_human too: an approved (or human-answered) iteration may loop again. */
        if (t->status != TS_RUNNING && t->status != TS_WAITING_HUMAN)
            return fail_event(err, errlen, "%s: task is %s", type, now);
        json_decref(t->previous);
        t->previous = state_event_outputs(data);
        t->failures = 0;
        t->between_iterations = true;
        enter_status(s, t, TS_RUNNING); /* the loop holds its slot until the next iteration */
        return 0;
    }
    if (!strcmp(type, "task.completed")) {
        if (t->status != TS_RUNNING && t->status != TS_WAITING_HUMAN)
            return fail_event(err, errlen, "%s: task is %s", type, now);
        set_str(&t->output, json_string_value(json_object_get(data, "output")));
        json_decref(t->outputs);
        t->outputs = state_event_outputs(data);
        finish(s, i, TS_COMPLETED, true, ts);
        return 0;
    }
    if (!strcmp(type, "task.failed")) {
        set_str(&t->error, json_string_value(json_object_get(data, "error")));
        t->failures++;
        json_t *retry = json_object_get(data, "retry_at_ms");
        if (retry) {
            t->retry_at_ms = json_integer_value(retry);
            enter_status(s, t, TS_RETRYING);
            return 0;
        }
        bool cont = s->wf->tasks[i].on_failure == ON_FAILURE_CONTINUE;
        if (!cont) s->n_failed++;
        finish(s, i, TS_FAILED, cont, ts);
        return 0;
    }
    if (!strcmp(type, "task.skipped") || !strcmp(type, "task.cancelled")) {
        const char *reason = json_string_value(json_object_get(data, "reason"));
        set_str(&t->error, reason);
        bool skipped = type[5] == 's';
        /* A condition's skip counts as done for dependents; a skip forced by an upstream
         * failure and a cancellation propagate as blocks. */
        bool satisfies = skipped && !(reason && !strcmp(reason, "upstream_failed"));
        finish(s, i, skipped ? TS_SKIPPED : TS_CANCELLED, satisfies, ts);
        return 0;
    }
    if (!strcmp(type, "approval.requested")) {
        if (t->status != TS_RUNNING) return fail_event(err, errlen, "%s: task is %s", type, now);
        set_json(&t->human, (json_t *)data);
        set_json(&t->proposal, json_object_get(data, "proposal"));
        enter_status(s, t, TS_WAITING_HUMAN);
        return 0;
    }
    if (!strcmp(type, "approval.responded")) {
        if (t->status != TS_WAITING_HUMAN)
            return fail_event(err, errlen, "%s: task '%s' is not waiting for a human", type, id);
        if (t->answer)
            return fail_event(err, errlen, "%s: task '%s' was already answered", type, id);
        set_json(&t->answer, (json_t *)data);
        const char *fb = json_string_value(json_object_get(data, "feedback"));
        /* An answer to an agent's ask_human goes to the agent as the tool's result, not as a
         * reviewer's feedback for later attempts. */
        if (fb && *fb && !json_object_get(t->human, "tool_call")) set_str(&t->feedback, fb);
        return 0;
    }
    if (!strcmp(type, "tool.result") && t->status == TS_WAITING_HUMAN) {
        /* The answer to an agent's question: its tool loop goes on. */
        json_decref(t->answer);
        t->answer = NULL;
        json_decref(t->human);
        t->human = NULL;
        enter_status(s, t, TS_RUNNING);
        return 0;
    }
    return 0; /* informational task events (artifact.written, tool.requested, ...) */
}

int state_apply(run_state_t *s, uint64_t seq, int64_t ts_ms, const char *type, const json_t *data,
                char *err, size_t errlen) {
    if (seq && seq != s->seq + 1) {
        snprintf(err, errlen, "event %llu follows %llu: the journal has a gap",
                 (unsigned long long)seq, (unsigned long long)s->seq);
        return -1;
    }
    int rc = 0;
    const char *task = json_string_value(json_object_get(data, "task"));
    if (!strncmp(type, "run.", 4)) {
        rc = apply_run_event(s, ts_ms, type, data, err, errlen);
    } else if (task) {
        int i = workflow_task_index(s->wf, task);
        if (i < 0) {
            snprintf(err, errlen, "%s: unknown task '%s'", type, task);
            return -1;
        }
        rc = apply_task_event(s, (uint32_t)i, ts_ms, type, data, err, errlen);
        if (rc == 0) {
            double c = json_number_value(json_object_get(data, "cost_usd"));
            s->tasks[i].cost_usd += c;
        }
    }
    if (rc) return rc;
    s->cost_usd += json_number_value(json_object_get(data, "cost_usd"));
    if (seq) s->seq = seq;
    /* running, waiting and finished are distinct statuses: together at most every task */
    assert(s->n_running + s->n_waiting + s->n_finished <= s->wf->n_tasks);
    assert(s->n_failed <= s->n_finished);
    return 0;
}

bool state_call_simulated(const json_t *data) {
    const char *status = json_string_value(json_object_get(data, "status"));
    if (!status || strcmp(status, "ok")) return false;
    const json_t *flag = json_object_get(data, "simulated");
    if (flag) return json_is_true(flag);
    const char *cand = json_string_value(json_object_get(data, "candidate"));
    return cand && !strncmp(cand, "offline/", 8);
}

int state_next_ready(run_state_t *s) {
    while (s->ready_head < s->ready_len) {
        uint32_t i = s->ready_q[s->ready_head++];
        s->tasks[i].queued = false;
        if (s->tasks[i].status == TS_READY) return (int)i;
    }
    return -1;
}

void state_requeue_ready(run_state_t *s, uint32_t i) {
    /* The slot it was popped from is free again: the queue never holds a task twice. */
    if (s->tasks[i].status != TS_READY || s->tasks[i].queued || s->ready_head == 0) return;
    s->tasks[i].queued = true;
    s->ready_q[--s->ready_head] = i;
}

int state_next_doomed(run_state_t *s) {
    while (s->doomed_head < s->doomed_len) {
        uint32_t i = s->doomed_q[s->doomed_head++];
        if (!task_status_terminal(s->tasks[i].status)) return (int)i;
    }
    return -1;
}

bool state_all_finished(const run_state_t *s) { return s->n_finished == s->wf->n_tasks; }

run_status_t state_run_status(const run_state_t *s) {
    if (s->status == RS_RUNNING && s->n_waiting > 0 && s->n_running == 0 &&
        s->ready_head == s->ready_len) {
        /* Nothing is running or ready: only humans can move the run on (retrying tasks count
         * as work in progress). */
        for (uint32_t i = 0; i < s->wf->n_tasks; i++)
            if (s->tasks[i].status == TS_RETRYING) return RS_RUNNING;
        return RS_WAITING_HUMAN;
    }
    return s->status;
}

json_t *state_event_outputs(const json_t *data) {
    json_t *outputs = json_object_get(data, "outputs");
    if (outputs && !json_is_null(outputs)) return json_incref(outputs);
    const char *text = json_string_value(json_object_get(data, "output"));
    return text ? json_pack("{s:s}", "text", text) : NULL;
}

json_t *state_task_view(const run_state_t *s, uint32_t i) {
    const task_state_t *t = &s->tasks[i];
    return json_pack("{s:s, s:s?, s:O?, s:f, s:i}", "status", task_status_name(t->status), "output",
                     t->output, "outputs", t->outputs, "cost", t->cost_usd, "attempts", t->attempt);
}
