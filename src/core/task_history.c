/* task_history.c - one task's attempts from the journal (see task_history.h). */
#include "core/task_history.h"
#include "util/xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void task_history_init(task_history_t *h, const char *task_id) {
    h->task = xstrdup(task_id);
    h->attempts = json_array();
    h->errors = json_array();
}

void task_history_free(task_history_t *h) {
    free(h->task);
    json_decref(h->attempts);
    json_decref(h->errors);
    memset(h, 0, sizeof *h);
}

static json_int_t num(const json_t *o, const char *k) {
    return json_integer_value(json_object_get(o, k));
}
static const char *str(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static json_t *latest(task_history_t *h) {
    size_t n = json_array_size(h->attempts);
    return n ? json_array_get(h->attempts, n - 1) : NULL;
}

/* Not yet ended: the attempt an event without a number belongs to. */
static bool open_attempt(const json_t *a) {
    const char *s = a ? str(a, "status") : NULL;
    return s && (!strcmp(s, "running") || !strcmp(s, "waiting_human"));
}

/* The attempt the event names, else the latest one. */
static json_t *attempt_of(task_history_t *h, const json_t *data) {
    json_int_t n = num(data, "attempt");
    if (n <= 0) return latest(h);
    for (size_t i = json_array_size(h->attempts); i-- > 0;) {
        json_t *a = json_array_get(h->attempts, i);
        if (num(a, "attempt") == n) return a;
    }
    return NULL;
}

static void set_status(json_t *a, const char *status) {
    json_object_set_new(a, "status", json_string(status));
}

static void started(task_history_t *h, int64_t ts, const json_t *data) {
    json_t *last = latest(h);
    json_int_t n = num(data, "attempt");
    if (n <= 0) n = last ? num(last, "attempt") + 1 : 1;
    if (last && num(last, "attempt") == n) { /* a re-run after "modify": the same attempt */
        set_status(last, "running");
        json_object_set_new(last, "finished_at", json_null());
        return;
    }
    json_int_t iteration = num(data, "iteration");
    json_array_append_new(h->attempts,
                          json_pack("{s:I, s:I, s:s, s:I, s:n, s:n, s:n, s:n, s:n, s:f}", "attempt",
                                    n, "iteration", iteration > 0 ? iteration : 1, "status",
                                    "running", "started_at", (json_int_t)ts, "finished_at", "error",
                                    "retry_at_ms", "output", "outputs", "cost_usd", 0.0));
}

/* An attempt ended (or an iteration of it) with this status, and what it produced. */
static void ended(json_t *a, int64_t ts, const char *status, const json_t *data) {
    if (!a) return;
    set_status(a, status);
    json_object_set_new(a, "finished_at", json_integer(ts));
    const json_t *out = json_object_get(data, "output");
    if (json_is_string(out)) json_object_set(a, "output", (json_t *)out);
    const json_t *outs = json_object_get(data, "outputs"); /* absent: it was just the text */
    if (outs) json_object_set(a, "outputs", (json_t *)outs);
}

/* One of the task's errors: `key` of the event's data is its message. */
static void error(task_history_t *h, uint64_t seq, int64_t ts, const char *type, const json_t *a,
                  const json_t *data, const char *key) {
    json_t *e = json_pack(
        "{s:I, s:I, s:s, s:O?, s:O?}", "seq", (json_int_t)seq, "at", (json_int_t)ts, "type", type,
        "attempt", a ? json_object_get(a, "attempt") : NULL, "error", json_object_get(data, key));
    const json_t *limit = json_object_get(data, "limit"); /* budget.exceeded: which one */
    if (limit) json_object_set(e, "limit", (json_t *)limit);
    json_array_append_new(h->errors, e);
}

static void failed(task_history_t *h, uint64_t seq, int64_t ts, const json_t *data) {
    /* A failure that names no attempt ends the open one (a rejection, a human's deadline);
     * with none open it happened before any start (a condition's fail). */
    json_t *a = num(data, "attempt") > 0  ? attempt_of(h, data)
                : open_attempt(latest(h)) ? latest(h)
                                          : NULL;
    if (a) {
        ended(a, ts, "failed", data);
        json_object_set(a, "error", json_object_get(data, "error"));
        const json_t *retry = json_object_get(data, "retry_at_ms");
        if (retry) json_object_set(a, "retry_at_ms", (json_t *)retry);
    }
    error(h, seq, ts, "task.failed", a, data, "error");
}

/* Moves the attempts as the event moves the task (core/state.c), and keeps its errors. */
static void step(task_history_t *h, uint64_t seq, int64_t ts, const char *type,
                 const json_t *data) {
    json_t *cur = latest(h);
    bool open = open_attempt(cur);
    if (!strcmp(type, "task.started")) {
        started(h, ts, data);
    } else if (!strcmp(type, "task.iterated")) {
        ended(cur, ts, "iterated", data);
    } else if (!strcmp(type, "task.completed")) {
        ended(attempt_of(h, data), ts, "completed", data);
    } else if (!strcmp(type, "task.failed")) {
        failed(h, seq, ts, data);
    } else if (!strcmp(type, "task.cancelled") && open) {
        ended(cur, ts, "cancelled", data);
        json_object_set(cur, "error", json_object_get(data, "reason"));
    } else if (!strcmp(type, "approval.requested") && open) {
        set_status(cur, "waiting_human");
    } else if ((!strcmp(type, "approval.responded") || !strcmp(type, "tool.result")) && open) {
        set_status(cur, "running"); /* the answer is in: the attempt goes on */
    } else if (!strcmp(type, "task.output_rejected")) {
        error(h, seq, ts, type, cur, data, "error");
    } else if (!strcmp(type, "budget.exceeded")) {
        error(h, seq, ts, type, cur, data, "message");
    }
}

void task_history_apply(task_history_t *h, uint64_t seq, int64_t ts, const char *type,
                        const json_t *data) {
    const char *task = str(data, "task");
    if (!task || strcmp(task, h->task)) return;
    step(h, seq, ts, type, data);
    /* Any event of the task may carry cost (core/state.h adds it to the task). */
    const json_t *cost = json_object_get(data, "cost_usd");
    json_t *a = attempt_of(h, data);
    if (!json_is_number(cost) || !a) return;
    double sum = json_number_value(json_object_get(a, "cost_usd")) + json_number_value(cost);
    json_object_set_new(a, "cost_usd", json_real(sum));
}
