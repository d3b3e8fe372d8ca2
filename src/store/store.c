/* store.c - SQLite journal: open, group commit, reads. */
#include "core/state.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_INSERT_EVENT] = "INSERT INTO events(run_id, seq, ts, type, data) VALUES (?,?,?,?,?)",
    [STMT_RUN_INSERT] = "INSERT INTO runs(id, workflow, file, status, inputs, created_at, "
                        "tasks_total, parent_run_id, workflow_id, workflow_version) "
                        "VALUES (?,?,?,'pending',?,?,?,?,?,?)",
    [STMT_RUN_STATUS] = "UPDATE runs SET status = ?, error = ? WHERE id = ?",
    [STMT_RUN_START] = "UPDATE runs SET status = 'running', started_at = ? WHERE id = ?",
    [STMT_RUN_FINISH] = "UPDATE runs SET status = ?, finished_at = ?, error = ? WHERE id = ?",
    [STMT_RUN_COST] = "UPDATE runs SET cost_usd = cost_usd + ? WHERE id = ?",
    [STMT_TASK_UPSERT] = "INSERT INTO tasks(run_id, task_id, position, status) VALUES (?,?,?,?) "
                         "ON CONFLICT(run_id, task_id) DO UPDATE SET status = excluded.status",
    [STMT_TASK_STARTED] = "UPDATE tasks SET status = 'running', attempts = ?, iteration = ?, "
                          "started_at = coalesce(started_at, ?) WHERE run_id = ? AND task_id = ?",
    /* outputs is stored only when it is not just {"text": output} (see state_event_outputs) */
    [STMT_TASK_FINISHED] = "UPDATE tasks SET status = ?, error = ?, output = ?, outputs = ?, "
                           "finished_at = ? WHERE run_id = ? AND task_id = ?",
    [STMT_TASK_STATUS] = "UPDATE tasks SET status = ?, error = coalesce(?, error) "
                         "WHERE run_id = ? AND task_id = ?",
    [STMT_TASK_COST] = "UPDATE tasks SET cost_usd = cost_usd + ? WHERE run_id = ? AND task_id = ?",
    [STMT_ARTIFACT_INSERT] = "INSERT INTO artifacts(run_id, name, version, task_id, agent, path, "
                             "sha256, bytes, mime, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
    [STMT_APPROVAL_UPSERT] =
        "INSERT INTO approvals(run_id, task_id, status, request, requested_at) "
        "VALUES (?,?,'pending',?,?) ON CONFLICT(run_id, task_id) DO UPDATE "
        "SET status = 'pending', request = excluded.request, response = NULL, "
        "requested_at = excluded.requested_at, answered_at = NULL",
    [STMT_APPROVAL_CLOSE] = "UPDATE approvals SET status = 'closed' WHERE run_id = ? AND "
                            "task_id = ? AND status = 'pending'",
    [STMT_LLM_CALL_INSERT] =
        "INSERT INTO llm_calls(run_id, seq, task_id, attempt, candidate, status, "
        "error, input_tokens, output_tokens, cached_tokens, cost_usd, "
        "first_token_ms, total_ms, created_at, cached, reference_cost_usd) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [STMT_APPROVAL_ANSWER] = "UPDATE approvals SET status = 'answered', response = ?, "
                             "answered_at = ? WHERE run_id = ? AND task_id = ?",
    /* schema 7; `AND simulated = 0`: the row is written once, later calls only read it */
    [STMT_TASK_SIMULATED] = "UPDATE tasks SET simulated = 1 WHERE run_id = ? AND task_id = ? AND "
                            "simulated = 0",
    [STMT_RUN_SIMULATED] = "UPDATE runs SET simulated = 1 WHERE id = ? AND simulated = 0",
};

void store_bind_text(sqlite3_stmt *s, int i, const char *v) {
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

store_t *store_open(const char *path, store_durability_t durability, char **err) {
    store_t *st = xcalloc(1, sizeof *st);
    st->path = xstrdup(path);
    st->durability = durability;
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        *err = xasprintf("cannot open database %s: %s", path,
                         st->db ? sqlite3_errmsg(st->db) : "out of memory");
        store_close(st);
        return NULL;
    }
    sqlite3_busy_timeout(st->db, 5000);
    /* WAL + synchronous=NORMAL survives a killed process (the WAL is fsynced at checkpoints);
     * FULL also survives a power cut at the price of an fsync per commit. */
    const char *pragmas =
        durability == STORE_DURABILITY_FULL
            ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
            : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";
    char *msg = NULL;
    if (sqlite3_exec(st->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        *err = xasprintf("%s is not a usable Baton database: %s. Move it aside and restore a "
                         "backup (baton restore FILE), or point --data-dir elsewhere",
                         path, msg ? msg : "?");
        sqlite3_free(msg);
        store_close(st);
        return NULL;
    }
    if (schema_migrate(st->db, err) != 0) {
        store_close(st);
        return NULL;
    }
    for (int i = 0; i < STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK) {
            *err = xasprintf("%s: %s", path, sqlite3_errmsg(st->db));
            store_close(st);
            return NULL;
        }
    }
    return st;
}

void store_batch_clear(store_batch_t *b) {
    for (size_t i = 0; i < b->n; i++) {
        store_event_rec_t *e = &b->recs[i];
        free(e->run_id);
        free(e->type);
        free(e->data);
        json_decref(e->json);
    }
    b->n = 0;
}

void store_close(store_t *st) {
    if (!st) return;
    store_batch_clear(&st->batch);
    free(st->batch.recs);
    for (int i = 0; i < STMT_COUNT; i++) sqlite3_finalize(st->stmt[i]);
    for (int i = 0; i < st->n_cached; i++) {
        sqlite3_finalize(st->cached[i].s);
        free(st->cached[i].sql);
    }
    store_workflows_close(st);
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

void store_append(store_t *st, const char *run_id, uint64_t seq, int64_t ts_ms, const char *type,
                  const json_t *data) {
    store_batch_t *b = &st->batch;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->recs = xrealloc(b->recs, b->cap * sizeof *b->recs);
    }
    store_event_rec_t *e = &b->recs[b->n++];
    e->run_id = xstrdup(run_id);
    e->seq = seq;
    e->ts_ms = ts_ms;
    e->type = xstrdup(type);
    e->data = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!e->data) e->data = xstrdup("{}");
    e->json = json_incref((json_t *)data);
}

size_t store_pending(const store_t *st) { return st->batch.n; }

void store_discard(store_t *st) { store_batch_clear(&st->batch); }

static int insert_event(store_t *st, const store_event_rec_t *e) {
    sqlite3_stmt *s = st->stmt[STMT_INSERT_EVENT];
    sqlite3_bind_text(s, 1, e->run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)e->seq);
    sqlite3_bind_int64(s, 3, e->ts_ms);
    sqlite3_bind_text(s, 4, e->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, e->data, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_commit_batch(store_t *st, store_batch_t *b, char **err) {
    if (!b->n) return 0;
    bool begun = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    bool ok = begun;
    for (size_t i = 0; ok && i < b->n; i++)
        ok = !insert_event(st, &b->recs[i]) && !projection_apply(st, &b->recs[i]);
    ok = ok && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    if (ok) {
        store_batch_clear(b);
        return 0;
    }
    /* The message first: a rollback resets it. The batch is kept: nothing of it was made
     * visible, and the caller may retry. */
    *err = xasprintf("journal write failed: %s", sqlite3_errmsg(st->db));
    if (begun) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int store_commit(store_t *st, char **err) { return store_commit_batch(st, &st->batch, err); }

/* ---- reads ---------------------------------------------------------------------------- */

static json_t *column_value(sqlite3_stmt *s, int i) {
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(s, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(s, i));
    case SQLITE_TEXT:
        return json_string((const char *)sqlite3_column_text(s, i));
    default:
        return json_null();
    }
}

sqlite3_stmt *store_prepared(store_t *st, const char *sql, bool *kept) {
    for (int i = 0; i < st->n_cached; i++)
        if (!strcmp(st->cached[i].sql, sql)) return *kept = true, st->cached[i].s;
    sqlite3_stmt *s;
    *kept = st->n_cached < (int)(sizeof st->cached / sizeof *st->cached);
    if (sqlite3_prepare_v3(st->db, sql, -1, *kept ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL) !=
        SQLITE_OK)
        return NULL;
    if (*kept) st->cached[st->n_cached++] = (struct cached_stmt){xstrdup(sql), s};
    return s;
}

void store_done(sqlite3_stmt *s, bool kept) {
    if (!kept) {
        sqlite3_finalize(s);
        return;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Runs a query and returns its rows as objects; columns whose names end in a JSON marker
 * (inputs, outputs, request, response) are parsed, and `simulated` is a boolean. */
json_t *store_query_rows(store_t *st, const char *sql, const char *const *binds, int nbinds,
                         int limit) {
    bool kept;
    sqlite3_stmt *s = store_prepared(st, sql, &kept);
    if (!s) return NULL;
    for (int i = 0; i < nbinds; i++) store_bind_text(s, i + 1, binds[i]);
    if (limit != 0) sqlite3_bind_int(s, nbinds + 1, limit); /* -1: LIMIT -1, every row */
    json_t *rows = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int c = 0; c < sqlite3_column_count(s); c++) {
            const char *name = sqlite3_column_name(s, c);
            json_t *v = NULL;
            if ((!strcmp(name, "inputs") || !strcmp(name, "outputs") || !strcmp(name, "request") ||
                 !strcmp(name, "response")) &&
                sqlite3_column_type(s, c) == SQLITE_TEXT)
                v = json_loads((const char *)sqlite3_column_text(s, c), JSON_DECODE_ANY, NULL);
            else if (!strcmp(name, "simulated")) /* a flag (schema 7), stored as 0/1 */
                v = json_boolean(sqlite3_column_int(s, c));
            json_object_set_new(row, name, v ? v : column_value(s, c));
        }
        json_array_append_new(rows, row);
    }
    store_done(s, kept);
    return rows;
}

json_t *store_run(store_t *st, const char *run_id) {
    const char *b[] = {run_id};
    json_t *rows = store_query_rows(st, "SELECT * FROM runs WHERE id = ?", b, 1, 0);
    json_t *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return row;
}

int store_run_exists(store_t *st, const char *run_id) {
    bool kept;
    sqlite3_stmt *s = store_prepared(st, "SELECT 1 FROM runs WHERE id = ?", &kept);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    store_done(s, kept);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

json_t *store_runs(store_t *st, const char *status, int limit) {
    const char *b[] = {status};
    return status ? store_query_rows(st,
                                     "SELECT * FROM runs WHERE status = ? ORDER BY created_at "
                                     "DESC, id DESC LIMIT ?",
                                     b, 1, limit > 0 ? limit : -1)
                  : store_query_rows(st,
                                     "SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT ?",
                                     b, 0, limit > 0 ? limit : -1);
}

json_t *store_runs_page(store_t *st, const store_runs_query_t *q) {
    /* Newest first; the cursor is the (created_at, id) of the last row of the previous page. */
    char sql[480] = "SELECT * FROM runs WHERE 1";
    const char *b[8];
    int n = 0;
    char since[32], at[32];
    if (q->status) {
        strcat(sql, " AND status = ?");
        b[n++] = q->status;
    }
    if (q->workflow) {
        strcat(sql, " AND workflow = ?");
        b[n++] = q->workflow;
    }
    if (q->workflow_id) {
        strcat(sql, " AND workflow_id = ?");
        b[n++] = q->workflow_id;
    }
    if (q->file) {
        strcat(sql, " AND file = ?");
        b[n++] = q->file;
    }
    if (q->since_ms > 0) {
        snprintf(since, sizeof since, "%lld", (long long)q->since_ms);
        strcat(sql, " AND created_at >= ?");
        b[n++] = since;
    }
    if (q->after_id) {
        snprintf(at, sizeof at, "%lld", (long long)q->after_created_ms);
        strcat(sql, " AND (created_at < ? OR (created_at = ? AND id < ?))");
        b[n++] = at;
        b[n++] = at;
        b[n++] = q->after_id;
    }
    strcat(sql, " ORDER BY created_at DESC, id DESC LIMIT ?");
    return store_query_rows(st, sql, b, n, q->limit > 0 ? q->limit : -1);
}

json_t *store_tasks(store_t *st, const char *run_id) {
    const char *b[] = {run_id};
    json_t *rows =
        store_query_rows(st, "SELECT * FROM tasks WHERE run_id = ? ORDER BY position", b, 1, 0);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_t *outputs = state_event_outputs(row);
        json_object_set_new(row, "outputs", outputs ? outputs : json_null());
    }
    return rows;
}

json_t *store_artifacts(store_t *st, const char *run_id) {
    const char *b[] = {run_id};
    return store_query_rows(
        st, "SELECT * FROM artifacts WHERE run_id = ? ORDER BY created_at, name, version", b, 1, 0);
}

json_t *store_approvals(store_t *st, const char *run_id, const char *status) {
    const char *b[] = {run_id, status};
    if (run_id && status)
        return store_query_rows(st,
                                "SELECT * FROM approvals WHERE run_id = ? AND status = ? "
                                "ORDER BY requested_at",
                                b, 2, 0);
    if (run_id)
        return store_query_rows(
            st, "SELECT * FROM approvals WHERE run_id = ? ORDER BY requested_at", b, 1, 0);
    b[0] = status;
    return status
               ? store_query_rows(
                     st, "SELECT * FROM approvals WHERE status = ? ORDER BY requested_at", b, 1, 0)
               : store_query_rows(st, "SELECT * FROM approvals ORDER BY requested_at", b, 0, 0);
}

json_t *store_llm_usage(store_t *st, const char *run_id) {
    const char *b[] = {run_id};
    json_t *rows = store_query_rows(st,
                                    "SELECT count(*) AS calls, "
                                    "coalesce(sum(status != 'ok'), 0) AS failed, "
                                    "coalesce(sum(input_tokens), 0) AS input_tokens, "
                                    "coalesce(sum(output_tokens), 0) AS output_tokens, "
                                    "coalesce(sum(cached_tokens), 0) AS cached_tokens, "
                                    "coalesce(sum(cost_usd), 0.0) AS cost_usd, "
                                    "coalesce(sum(cached), 0) AS cached, "
                                    "sum(reference_cost_usd) AS reference_cost_usd, "
                                    "sum(reference_cost_usd) - sum(cost_usd) AS savings_usd "
                                    "FROM llm_calls WHERE run_id = ?",
                                    b, 1, 0);
    json_t *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return row;
}

json_t *store_llm_spend_since(store_t *st, int64_t since_ms) {
    sqlite3_stmt *s;
    json_t *out = json_object();
    if (sqlite3_prepare_v2(st->db,
                           "SELECT candidate, count(*), sum(status != 'ok'), sum(cost_usd) "
                           "FROM llm_calls WHERE created_at >= ? GROUP BY candidate",
                           -1, &s, NULL) != SQLITE_OK)
        return out;
    sqlite3_bind_int64(s, 1, since_ms);
    while (sqlite3_step(s) == SQLITE_ROW)
        json_object_set_new(out, (const char *)sqlite3_column_text(s, 0),
                            json_pack("{s:I, s:I, s:f}", "calls",
                                      (json_int_t)sqlite3_column_int64(s, 1), "failed",
                                      (json_int_t)sqlite3_column_int64(s, 2), "cost_usd",
                                      sqlite3_column_double(s, 3)));
    sqlite3_finalize(s);
    return out;
}

json_t *store_run_counts(store_t *st) {
    bool kept;
    sqlite3_stmt *s =
        store_prepared(st, "SELECT status, count(*) FROM runs GROUP BY status", &kept);
    json_t *out = json_object();
    if (!s) return out;
    while (sqlite3_step(s) == SQLITE_ROW)
        json_object_set_new(out, (const char *)sqlite3_column_text(s, 0),
                            json_integer(sqlite3_column_int64(s, 1)));
    store_done(s, kept);
    return out;
}

int store_ping(store_t *st, char **err) {
    sqlite3_stmt *s;
    int version = -1;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    if (version < 0) {
        *err = xasprintf("the database does not answer: %s", sqlite3_errmsg(st->db));
        return -1;
    }
    if (version != schema_latest()) {
        *err = xasprintf("the database has schema %d, this release needs %d", version,
                         schema_latest());
        return -1;
    }
    return 0;
}

double store_spend_since(store_t *st, int64_t since_ms, const char *workflow) {
    sqlite3_stmt *s;
    const char *sql =
        workflow ? "SELECT coalesce(sum(l.cost_usd), 0) FROM llm_calls l JOIN runs r "
                   "ON r.id = l.run_id WHERE l.created_at >= ? AND r.workflow = ?"
                 : "SELECT coalesce(sum(cost_usd), 0) FROM llm_calls WHERE created_at >= ?";
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return 0;
    sqlite3_bind_int64(s, 1, since_ms);
    if (workflow) sqlite3_bind_text(s, 2, workflow, -1, SQLITE_STATIC);
    double spent = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_double(s, 0) : 0;
    sqlite3_finalize(s);
    return spent;
}

/* The journal after `after`, row by row; each row to fn as parsed JSON (fn) or as its stored
 * text (raw). */
static int events_rows(store_t *st, const char *run_id, uint64_t after, store_event_fn fn,
                       store_event_raw_fn raw, void *ud) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT seq, ts, type, data FROM events WHERE run_id = ? "
                           "AND seq > ? ORDER BY seq",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)after);
    int rc = 0, step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(s, 0);
        int64_t ts = sqlite3_column_int64(s, 1);
        const char *type = (const char *)sqlite3_column_text(s, 2);
        const char *text = (const char *)sqlite3_column_text(s, 3);
        if (raw) {
            rc = raw(ud, seq, ts, type, text ? text : "null", (size_t)sqlite3_column_bytes(s, 3));
        } else {
            json_error_t jerr;
            json_t *data = json_loads(text ? text : "", JSON_DECODE_ANY, &jerr);
            if (!data) {
                rc = -1;
                break;
            }
            rc = fn(ud, seq, ts, type, data);
            json_decref(data);
        }
        if (rc) break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) rc = -1;
    sqlite3_finalize(s);
    return rc;
}

int store_events(store_t *st, const char *run_id, uint64_t after, store_event_fn fn, void *ud) {
    return events_rows(st, run_id, after, fn, NULL, ud);
}

int store_events_raw(store_t *st, const char *run_id, uint64_t after, store_event_raw_fn fn,
                     void *ud) {
    return events_rows(st, run_id, after, NULL, fn, ud);
}

int store_resolve_run(store_t *st, const char *prefix, char **full, char **err) {
    sqlite3_stmt *s;
    *full = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT id FROM runs WHERE id >= ?1 AND id < ?1 || char(0x10FFFF) "
                           "ORDER BY id LIMIT 2",
                           -1, &s, NULL) != SQLITE_OK) {
        *err = xasprintf("%s", sqlite3_errmsg(st->db));
        return -1;
    }
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (n++ == 0) *full = xstrdup((const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    if (n == 1) return 0;
    free(*full);
    *full = NULL;
    *err = n ? xasprintf("run id '%s' is ambiguous: give more characters", prefix)
             : xasprintf("no run '%s' in this data dir (see `baton runs ls`)", prefix);
    return n ? -1 : -2;
}
