/* task_query.c - the reads behind one task's detail and the per-agent figures of the API: a
 * run's run.created event, a task's model calls, and every started task with what its calls
 * added up to. Projections only (plus the journal's first event), so they agree with
 * `baton runs show` by construction. */
#include "store/store_internal.h"

#include <string.h>

static int first_created(void *ud, uint64_t seq, int64_t ts, const char *type, json_t *data) {
    (void)seq;
    (void)ts;
    if (!strcmp(type, "run.created")) *(json_t **)ud = json_incref(data);
    return 1; /* run.created is the first event; nothing after it is wanted */
}

json_t *store_run_created(store_t *st, const char *run_id) {
    json_t *created = NULL;
    store_events(st, run_id, 0, first_created, &created);
    return created;
}

json_t *store_task_calls(store_t *st, const char *run_id, const char *task_id) {
    const char *b[] = {run_id, task_id};
    json_t *rows =
        store_query_rows(st,
                         "SELECT seq, attempt, candidate, status, error, input_tokens, "
                         "output_tokens, cached_tokens, cost_usd, cached, reference_cost_usd, "
                         "first_token_ms, total_ms, created_at FROM llm_calls "
                         "WHERE run_id = ? AND task_id = ? ORDER BY seq",
                         b, 2, 0);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) /* a flag, stored as SQLite stores booleans */
        json_object_set_new(row, "cached",
                            json_boolean(json_integer_value(json_object_get(row, "cached"))));
    return rows;
}

json_t *store_task_activity(store_t *st) {
    /* The calls are added up per task first, so a task with many calls is still one row. */
    return store_query_rows(
        st,
        "SELECT t.run_id, t.task_id, t.status, r.status AS run_status, t.started_at, "
        "t.finished_at, t.cost_usd, coalesce(c.calls, 0) AS calls, "
        "coalesce(c.failed, 0) AS failed_calls, coalesce(c.input_tokens, 0) AS input_tokens, "
        "coalesce(c.output_tokens, 0) AS output_tokens, coalesce(c.ms, 0) AS call_ms "
        "FROM tasks t JOIN runs r ON r.id = t.run_id "
        "LEFT JOIN (SELECT run_id, task_id, count(*) AS calls, sum(status != 'ok') AS failed, "
        "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, "
        "sum(coalesce(total_ms, 0)) AS ms FROM llm_calls GROUP BY run_id, task_id) c "
        "ON c.run_id = t.run_id AND c.task_id = t.task_id "
        "WHERE t.attempts > 0 ORDER BY t.run_id, t.position",
        NULL, 0, 0);
}
