/* api_tasks.c - one task of a run in detail (see api.h): its row in the projection, every
 * attempt folded from the journal (core/task_history.h), and its model calls from llm_calls. */
#include "api/answer.h"
#include "api/handlers.h"
#include "core/task_history.h"

#include <string.h>

static int fold(void *ud, uint64_t seq, int64_t ts, const char *type, json_t *data) {
    task_history_apply(ud, seq, ts, type, data);
    return 0;
}

/* The task's projection row (new reference), or NULL. */
static json_t *task_row(api_t *a, const char *run_id, const char *task_id) {
    json_t *rows = store_tasks(a->store, run_id), *found = NULL;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (!strcmp(json_string_value(json_object_get(row, "task_id")), task_id))
            found = json_incref(row);
    }
    json_decref(rows);
    return found;
}

static void add_int(json_t *o, const char *k, json_int_t v) {
    json_object_set_new(o, k, json_integer(json_integer_value(json_object_get(o, k)) + v));
}

static void add_real(json_t *o, const char *k, double v) {
    json_object_set_new(o, k, json_real(json_number_value(json_object_get(o, k)) + v));
}

/* Adds one call's tokens and cost into a usage object {calls, failed, ...}. */
static void add_call(json_t *usage, const json_t *call) {
    add_int(usage, "calls", 1);
    add_int(usage, "failed", strcmp(json_string_value(json_object_get(call, "status")), "ok") != 0);
    static const char *const tokens[] = {"input_tokens", "output_tokens", "cached_tokens"};
    for (size_t k = 0; k < 3; k++)
        add_int(usage, tokens[k], json_integer_value(json_object_get(call, tokens[k])));
    add_real(usage, "cost_usd", json_number_value(json_object_get(call, "cost_usd")));
}

static json_t *usage_new(void) {
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:f}", "calls", 0, "failed", 0, "input_tokens", 0,
                     "output_tokens", 0, "cached_tokens", 0, "cost_usd", 0.0);
}

/* Each attempt gets `llm`: its calls added up (calls name their attempt); the task's total is
 * returned. */
static json_t *usage_by_attempt(json_t *attempts, const json_t *calls) {
    json_t *total = usage_new(), *a, *call;
    size_t i, k;
    json_array_foreach(attempts, i, a) json_object_set_new(a, "llm", usage_new());
    json_array_foreach(calls, k, call) {
        add_call(total, call);
        json_int_t n = json_integer_value(json_object_get(call, "attempt"));
        json_array_foreach(attempts, i, a) {
            if (json_integer_value(json_object_get(a, "attempt")) == n)
                add_call(json_object_get(a, "llm"), call);
        }
    }
    return total;
}

/* GET /api/v1/runs/{id}/tasks/{task}: the task's status and result, every attempt, its model
 * calls and its errors. 404 for an unknown run or task. */
void api_task_get(http_req_t *req, api_t *a, char **params) {
    const char *run_id = params[0], *task_id = params[1];
    json_t *run = store_run(a->store, run_id);
    if (!run) {
        api_error(req, 404, "not_found", "no run '%.100s'", run_id);
        return;
    }
    json_decref(run);
    json_t *row = task_row(a, run_id, task_id);
    if (!row) {
        api_error(req, 404, "not_found", "run %s has no task '%.100s'", run_id, task_id);
        return;
    }
    task_history_t h;
    task_history_init(&h, task_id);
    json_t *calls = store_task_calls(a->store, run_id, task_id);
    if (store_events(a->store, run_id, 0, fold, &h) != 0 || !calls) {
        api_error(req, 500, "internal", "the journal of run %s cannot be read", run_id);
    } else {
        json_t *llm = usage_by_attempt(h.attempts, calls);
        const json_t *agent = json_object_get(api_task_agents(a, run_id), task_id);
        json_t *out = json_pack("{s:s, s:s, s:O}", "id", task_id, "run_id", run_id, "agent_id",
                                agent ? agent : json_null());
        /* the task as GET /api/v1/runs/{id} shows it, then what the journal adds */
        static const char *const keys[] = {"status",  "iteration",  "cost_usd",    "error",
                                           "outputs", "started_at", "finished_at", "simulated"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            json_object_set(out, keys[k], json_object_get(row, keys[k]));
        const json_t *made = json_object_get(row, "attempts"); /* as the run's tasks count them */
        json_object_set_new(out, "attempts_total",
                            json_is_integer(made)
                                ? json_incref((json_t *)made)
                                : json_integer((json_int_t)json_array_size(h.attempts)));
        json_object_set(out, "attempts", h.attempts);
        json_object_set(out, "calls", calls);
        json_object_set(out, "errors", h.errors);
        json_object_set_new(out, "llm", llm);
        api_json(req, 200, out);
    }
    json_decref(calls);
    task_history_free(&h);
    json_decref(row);
}
