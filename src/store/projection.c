/* projection.c - journal event -> projection tables. The one place that knows how each event
 * type shows in runs/tasks/artifacts/approvals, so that a rebuild from the journal (replaying
 * this function) yields the live tables. */
#include "core/state.h"
#include "store/store_internal.h"

#include <string.h>

static int step(sqlite3_stmt *s) {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static const char *str(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static char *dump(const json_t *v) {
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

static int run_created(store_t *st, const store_event_rec_t *e) {
    const json_t *d = e->json;
    sqlite3_stmt *s = st->stmt[STMT_RUN_INSERT];
    char *inputs = dump(json_object_get(d, "inputs"));
    const json_t *tasks = json_object_get(d, "tasks");
    store_bind_text(s, 1, e->run_id);
    store_bind_text(s, 2, str(d, "workflow") ? str(d, "workflow") : "?");
    store_bind_text(s, 3, str(d, "file"));
    store_bind_text(s, 4, inputs ? inputs : "{}");
    sqlite3_bind_int64(s, 5, e->ts_ms);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)json_array_size(tasks));
    store_bind_text(s, 7, str(d, "parent_run_id"));
    /* The stored workflow it started from (engine_workflow_ref_t), when it did. */
    store_bind_text(s, 8, str(d, "workflow_id"));
    const json_t *version = json_object_get(d, "workflow_version");
    if (json_is_integer(version))
        sqlite3_bind_int64(s, 9, json_integer_value(version));
    else
        sqlite3_bind_null(s, 9);
    int rc = step(s);
    free(inputs);
    size_t i;
    const json_t *id;
    json_array_foreach(tasks, i, id) {
        if (rc) break;
        sqlite3_stmt *t = st->stmt[STMT_TASK_UPSERT];
        store_bind_text(t, 1, e->run_id);
        store_bind_text(t, 2, json_string_value(id));
        sqlite3_bind_int64(t, 3, (sqlite3_int64)i);
        store_bind_text(t, 4, "pending");
        rc = step(t);
    }
    return rc;
}

/* error: the pause reason (or NULL, which clears it when a run resumes). */
static int run_status(store_t *st, const char *run_id, const char *status, const char *error) {
    sqlite3_stmt *s = st->stmt[STMT_RUN_STATUS];
    store_bind_text(s, 1, status);
    store_bind_text(s, 2, error);
    store_bind_text(s, 3, run_id);
    return step(s);
}

/* The event's own texts are stored as they are: the raw output, and the outputs only when the
 * event carries them (readers rebuild {"text": output} otherwise), so no text is serialised or
 * stored twice. */
static int task_finished(store_t *st, const store_event_rec_t *e, const char *task,
                         const char *status, const char *error) {
    /* A task that ends while a person was asked about it closes the question. */
    sqlite3_stmt *a = st->stmt[STMT_APPROVAL_CLOSE];
    store_bind_text(a, 1, e->run_id);
    store_bind_text(a, 2, task);
    if (step(a)) return -1;
    sqlite3_stmt *s = st->stmt[STMT_TASK_FINISHED];
    char *out = dump(json_object_get(e->json, "outputs"));
    store_bind_text(s, 1, status);
    store_bind_text(s, 2, error);
    store_bind_text(s, 3, str(e->json, "output"));
    store_bind_text(s, 4, out);
    sqlite3_bind_int64(s, 5, e->ts_ms);
    store_bind_text(s, 6, e->run_id);
    store_bind_text(s, 7, task);
    free(out);
    return step(s);
}

static int task_status(store_t *st, const store_event_rec_t *e, const char *task,
                       const char *status, const char *error) {
    sqlite3_stmt *s = st->stmt[STMT_TASK_STATUS];
    store_bind_text(s, 1, status);
    store_bind_text(s, 2, error);
    store_bind_text(s, 3, e->run_id);
    store_bind_text(s, 4, task);
    return step(s);
}

/* run.retried: the run is running again and the tasks it lists are pending, their errors
 * gone (statements of their own, prepared per event: a retry is rare). */
static int run_retried(store_t *st, const store_event_rec_t *e) {
    sqlite3_stmt *r = NULL, *t = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE runs SET status = 'running', finished_at = NULL, error = NULL "
                           "WHERE id = ?",
                           -1, &r, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db,
                           "UPDATE tasks SET status = 'pending', error = NULL, finished_at = NULL "
                           "WHERE run_id = ? AND task_id = ?",
                           -1, &t, NULL) != SQLITE_OK)
        goto out;
    store_bind_text(r, 1, e->run_id);
    if (step(r)) goto out;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(e->json, "tasks"), i, v) {
        sqlite3_reset(t);
        store_bind_text(t, 1, e->run_id);
        store_bind_text(t, 2, json_string_value(v));
        if (step(t)) goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(r);
    sqlite3_finalize(t);
    return rc;
}

static int run_event(store_t *st, const store_event_rec_t *e) {
    const char *t = e->type + 4;
    if (!strcmp(t, "created")) return run_created(st, e);
    if (!strcmp(t, "started")) {
        sqlite3_stmt *s = st->stmt[STMT_RUN_START];
        sqlite3_bind_int64(s, 1, e->ts_ms);
        store_bind_text(s, 2, e->run_id);
        return step(s);
    }
    if (!strcmp(t, "paused")) return run_status(st, e->run_id, "paused", str(e->json, "reason"));
    if (!strcmp(t, "retried")) return run_retried(st, e);
    if (!strcmp(t, "resumed")) return run_status(st, e->run_id, "running", NULL);
    /* The engine journals the derived status (running <-> waiting_human) when it changes, so
     * the table never has to guess it from one approval among several. */
    if (!strcmp(t, "status")) return run_status(st, e->run_id, str(e->json, "status"), NULL);
    if (!strcmp(t, "completed") || !strcmp(t, "failed") || !strcmp(t, "cancelled")) {
        sqlite3_stmt *s = st->stmt[STMT_RUN_FINISH];
        store_bind_text(s, 1, t);
        sqlite3_bind_int64(s, 2, e->ts_ms);
        store_bind_text(s, 3, str(e->json, t[0] == 'f' ? "error" : "reason"));
        store_bind_text(s, 4, e->run_id);
        return step(s);
    }
    return 0;
}

/* artifacts.blob (schema 2). A statement of its own, prepared per event, rather than a change
 * to the shared insert: artifacts are rare next to other events, and store.c's statement table
 * stays as it is. Events from before blobs have none, and the column stays NULL. */
static int artifact_blob(store_t *st, const store_event_rec_t *e, const json_t *d) {
    const char *blob = str(d, "blob");
    if (!blob) return 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE artifacts SET blob = ? WHERE run_id = ? AND name = ? "
                           "AND version = ?",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    store_bind_text(s, 1, blob);
    store_bind_text(s, 2, e->run_id);
    store_bind_text(s, 3, str(d, "name"));
    sqlite3_bind_int64(s, 4, json_integer_value(json_object_get(d, "version")));
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* tasks.simulated and runs.simulated (schema 7) after an answered offline call. */
static int mark_simulated(store_t *st, const store_event_rec_t *e, const char *task) {
    sqlite3_stmt *s = st->stmt[STMT_TASK_SIMULATED];
    store_bind_text(s, 1, e->run_id);
    store_bind_text(s, 2, task);
    if (step(s)) return -1;
    s = st->stmt[STMT_RUN_SIMULATED];
    store_bind_text(s, 1, e->run_id);
    return step(s);
}

static int task_event(store_t *st, const store_event_rec_t *e, const char *task) {
    const json_t *d = e->json;
    const char *t = e->type;
    if (!strcmp(t, "task.started")) {
        sqlite3_stmt *s = st->stmt[STMT_TASK_STARTED];
        sqlite3_bind_int64(s, 1, json_integer_value(json_object_get(d, "attempt")));
        sqlite3_bind_int64(s, 2, json_integer_value(json_object_get(d, "iteration")));
        sqlite3_bind_int64(s, 3, e->ts_ms);
        store_bind_text(s, 4, e->run_id);
        store_bind_text(s, 5, task);
        return step(s);
    }
    if (!strcmp(t, "task.completed")) return task_finished(st, e, task, "completed", NULL);
    if (!strcmp(t, "task.failed"))
        return json_object_get(d, "retry_at_ms")
                   ? task_status(st, e, task, "retrying", str(d, "error"))
                   : task_finished(st, e, task, "failed", str(d, "error"));
    if (!strcmp(t, "task.skipped")) return task_finished(st, e, task, "skipped", str(d, "reason"));
    if (!strcmp(t, "task.cancelled"))
        return task_finished(st, e, task, "cancelled", str(d, "reason"));
    if (!strcmp(t, "approval.requested")) {
        sqlite3_stmt *s = st->stmt[STMT_APPROVAL_UPSERT];
        store_bind_text(s, 1, e->run_id);
        store_bind_text(s, 2, task);
        store_bind_text(s, 3, e->data);
        sqlite3_bind_int64(s, 4, e->ts_ms);
        if (step(s)) return -1;
        return task_status(st, e, task, "waiting_human", NULL);
    }
    if (!strcmp(t, "approval.responded")) {
        sqlite3_stmt *s = st->stmt[STMT_APPROVAL_ANSWER];
        store_bind_text(s, 1, e->data);
        sqlite3_bind_int64(s, 2, e->ts_ms);
        store_bind_text(s, 3, e->run_id);
        store_bind_text(s, 4, task);
        return step(s);
    }
    /* A result of an agent's tool: running (again, after an ask_human answer). */
    if (!strcmp(t, "tool.result")) return task_status(st, e, task, "running", NULL);
    if (!strcmp(t, "llm.call")) {
        sqlite3_stmt *s = st->stmt[STMT_LLM_CALL_INSERT];
        store_bind_text(s, 1, e->run_id);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)e->seq);
        store_bind_text(s, 3, task);
        sqlite3_bind_int64(s, 4, json_integer_value(json_object_get(d, "attempt")));
        store_bind_text(s, 5, str(d, "candidate"));
        store_bind_text(s, 6, str(d, "status"));
        store_bind_text(s, 7, str(d, "error"));
        sqlite3_bind_int64(s, 8, json_integer_value(json_object_get(d, "input_tokens")));
        sqlite3_bind_int64(s, 9, json_integer_value(json_object_get(d, "output_tokens")));
        sqlite3_bind_int64(s, 10, json_integer_value(json_object_get(d, "cached_tokens")));
        sqlite3_bind_double(s, 11, json_number_value(json_object_get(d, "call_cost_usd")));
        sqlite3_bind_int64(s, 12, json_integer_value(json_object_get(d, "first_token_ms")));
        sqlite3_bind_int64(s, 13, json_integer_value(json_object_get(d, "total_ms")));
        sqlite3_bind_int64(s, 14, e->ts_ms);
        sqlite3_bind_int(s, 15, json_is_true(json_object_get(d, "cached")));
        /* NULL when the run had no reference model: "no savings known", not "saved nothing". */
        const json_t *ref = json_object_get(d, "reference_cost_usd");
        if (json_is_number(ref))
            sqlite3_bind_double(s, 16, json_number_value(ref));
        else
            sqlite3_bind_null(s, 16);
        if (step(s)) return -1;
        return state_call_simulated(d) ? mark_simulated(st, e, task) : 0;
    }
    if (!strcmp(t, "artifact.written")) {
        sqlite3_stmt *s = st->stmt[STMT_ARTIFACT_INSERT];
        store_bind_text(s, 1, e->run_id);
        store_bind_text(s, 2, str(d, "name"));
        sqlite3_bind_int64(s, 3, json_integer_value(json_object_get(d, "version")));
        store_bind_text(s, 4, task);
        store_bind_text(s, 5, str(d, "agent"));
        store_bind_text(s, 6, str(d, "path"));
        store_bind_text(s, 7, str(d, "sha256"));
        sqlite3_bind_int64(s, 8, json_integer_value(json_object_get(d, "bytes")));
        store_bind_text(s, 9, str(d, "mime"));
        sqlite3_bind_int64(s, 10, e->ts_ms);
        if (step(s)) return -1;
        return artifact_blob(st, e, d);
    }
    return 0;
}

static int add_cost(store_t *st, const store_event_rec_t *e, const char *task, double cost) {
    sqlite3_stmt *s = st->stmt[STMT_RUN_COST];
    sqlite3_bind_double(s, 1, cost);
    store_bind_text(s, 2, e->run_id);
    if (step(s)) return -1;
    if (!task) return 0;
    s = st->stmt[STMT_TASK_COST];
    sqlite3_bind_double(s, 1, cost);
    store_bind_text(s, 2, e->run_id);
    store_bind_text(s, 3, task);
    return step(s);
}

int projection_apply(store_t *st, const store_event_rec_t *e) {
    const char *task = str(e->json, "task");
    int rc = 0;
    if (!strncmp(e->type, "run.", 4))
        rc = run_event(st, e);
    else if (task)
        rc = task_event(st, e, task);
    double cost = json_number_value(json_object_get(e->json, "cost_usd"));
    if (!rc && cost != 0) rc = add_cost(st, e, task, cost);
    return rc;
}
