/* run_summary.c - one run as `baton run --json`, `baton runs show --json` and the API's
 * GET /api/v1/runs/{id} report it, read from the projections so they agree by construction. */
#include "store/store_internal.h"

#include <string.h>

json_t *store_run_summary(store_t *st, const char *run_id) {
    json_t *run = store_run(st, run_id);
    if (!run) return NULL;
    json_t *tasks = json_object();
    json_t *rows = store_tasks(st, run_id);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_t *outputs = json_object_get(row, "outputs");
        json_object_set_new(tasks, json_string_value(json_object_get(row, "task_id")),
                            json_pack("{s:O, s:O, s:O, s:O, s:O}",
                                      "status", json_object_get(row, "status"),
                                      "attempts", json_object_get(row, "attempts"),
                                      "outputs", outputs ? outputs : json_null(),
                                      "error", json_object_get(row, "error"),
                                      "cost_usd", json_object_get(row, "cost_usd")));
    }
    json_decref(rows);

    /* The latest version of each artifact name. */
    json_t *arts = json_array(), *latest = json_object();
    rows = store_artifacts(st, run_id);
    json_array_foreach(rows, i, row) {
        json_object_set_new(latest, json_string_value(json_object_get(row, "name")),
                            json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}",
                                      "name", json_object_get(row, "name"),
                                      "path", json_object_get(row, "path"),
                                      "sha256", json_object_get(row, "sha256"),
                                      "bytes", json_object_get(row, "bytes"),
                                      "task", json_object_get(row, "task_id"),
                                      "version", json_object_get(row, "version")));
    }
    json_decref(rows);
    const char *k;
    json_t *v;
    json_object_foreach(latest, k, v) json_array_append(arts, v);
    json_decref(latest);

    json_t *out = json_pack("{s:O, s:O, s:O, s:O, s:O, s:o, s:o}",
                            "run_id", json_object_get(run, "id"),
                            "workflow", json_object_get(run, "workflow"),
                            "status", json_object_get(run, "status"),
                            "cost_usd", json_object_get(run, "cost_usd"),
                            "error", json_object_get(run, "error"),
                            "tasks", tasks, "artifacts", arts);
    json_t *usage = store_llm_usage(st, run_id);
    if (usage) json_object_set_new(out, "llm", usage);
    json_object_set(out, "created_at", json_object_get(run, "created_at"));
    json_object_set(out, "finished_at", json_object_get(run, "finished_at"));
    /* Only for a run started from a stored workflow: the version it is pinned to. */
    const json_t *wf_id = json_object_get(run, "workflow_id");
    if (json_is_string(wf_id)) {
        json_object_set(out, "workflow_id", (json_t *)wf_id);
        json_object_set(out, "workflow_version", json_object_get(run, "workflow_version"));
    }
    json_decref(run);
    return out;
}

uint64_t store_last_seq(store_t *st, const char *run_id) {
    uint64_t seq = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT coalesce(max(seq), 0) FROM events WHERE run_id = ?", -1, &s,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) seq = (uint64_t)sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    return seq;
}

json_t *store_run_snapshot(store_t *st, const char *run_id, uint64_t *seq) {
    /* One read transaction: the writer thread may commit between two statements, and the seq
     * must be exactly the last event the summary includes. */
    sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
    *seq = store_last_seq(st, run_id);
    json_t *sum = store_run_summary(st, run_id);
    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    return sum;
}
