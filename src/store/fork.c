/* fork.c - a new run that shares another run's history up to an event (LangGraph's time travel,
 * done on the journal). */
#include "store/store_internal.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <string.h>

typedef struct fork_ctx {
    uint64_t at, seen;
    bool gap;
    json_t *events; /* [{seq, ts, type, data}] of the parent, 1..at */
} fork_ctx_t;

static int collect(void *ud, uint64_t seq, int64_t ts, const char *type, json_t *data) {
    fork_ctx_t *c = ud;
    if (seq > c->at) return 1;
    if (seq != c->seen + 1) { /* a damaged journal is not history to build on */
        c->gap = true;
        return 1;
    }
    c->seen = seq;
    json_array_append_new(c->events, json_pack("{s:I, s:I, s:s, s:O}", "seq", (json_int_t)seq, "ts",
                                               (json_int_t)ts, "type", type, "data", data));
    return 0;
}

int store_fork(store_t *st, const char *parent, uint64_t at, const char *child,
               const json_t *inputs, char **err) {
    if (at < 1) {
        *err = xasprintf("--at must be an event sequence number, 1 or more");
        return -1;
    }
    if (st->batch.n) {
        /* The fork commits on its own; queued events of live runs must not ride along. */
        *err = xasprintf("cannot fork while other events wait to be written");
        return -1;
    }
    fork_ctx_t c = {.at = at, .events = json_array()};
    int rc = store_events(st, parent, 0, collect, &c);
    if (rc < 0 || c.gap || c.seen < at) {
        *err = rc < 0 ? xasprintf("cannot read the journal of %s", parent)
               : c.gap
                   ? xasprintf("the journal of %s has a gap after event %llu: fork at %llu or "
                               "earlier (see baton admin check)",
                               parent, (unsigned long long)c.seen, (unsigned long long)c.seen)
                   : xasprintf("run %s has %llu events; --at %llu is past its end (see baton "
                               "runs events %s)",
                               parent, (unsigned long long)c.seen, (unsigned long long)at, parent);
        json_decref(c.events);
        return -1;
    }
    /* An artifact.written whose task.completed lies past the fork point belongs to an attempt
     * the fork will run again: keeping it would count its version twice. */
    size_t n = json_array_size(c.events);
    while (n > 1 &&
           !strcmp(json_string_value(json_object_get(json_array_get(c.events, n - 1), "type")),
                   "artifact.written"))
        n--;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(c.events, i);
        uint64_t seq = (uint64_t)json_integer_value(json_object_get(e, "seq"));
        int64_t ts = json_integer_value(json_object_get(e, "ts"));
        const char *type = json_string_value(json_object_get(e, "type"));
        json_t *data = json_object_get(e, "data");
        if (seq == 1) {
            /* The child's own birth certificate: its id, parent, inputs, and its own birth time
             * (the rest of the history keeps the parent's times). */
            json_t *d = json_deep_copy(data);
            json_object_set_new(d, "run_id", json_string(child));
            json_object_set_new(d, "parent_run_id", json_string(parent));
            json_object_set_new(d, "fork_seq", json_integer((json_int_t)n));
            if (inputs) json_object_set(d, "inputs", (json_t *)inputs);
            store_append(st, child, seq, clock_now_ms(), type, d);
            json_decref(d);
        } else {
            store_append(st, child, seq, ts, type, data);
        }
    }
    json_decref(c.events);
    rc = store_commit(st, err);
    if (rc) store_discard(st);
    return rc;
}

int store_delete_run(store_t *st, const char *run_id, char **err) {
    static const char *const tables[] = {"events", "tasks", "artifacts", "approvals", "llm_calls"};
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) goto fail;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
        char *sql = xasprintf("DELETE FROM %s WHERE run_id = ?", tables[t]);
        sqlite3_stmt *s;
        int ok = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK;
        free(sql);
        if (ok) {
            sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
            ok = sqlite3_step(s) == SQLITE_DONE;
            sqlite3_finalize(s);
        }
        if (!ok) goto rollback;
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM runs WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
        goto rollback;
    sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
    int ok = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_finalize(s);
    if (!ok || sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto rollback;
    return 0;
rollback:
    *err = xasprintf("cannot delete run %s: %s", run_id, sqlite3_errmsg(st->db));
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
fail:
    *err = xasprintf("cannot delete run %s: %s", run_id, sqlite3_errmsg(st->db));
    return -1;
}
