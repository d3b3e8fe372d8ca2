/* store_internal.h - what store.c and projection.c share. Not for other modules. */
#ifndef BATON_STORE_INTERNAL_H
#define BATON_STORE_INTERNAL_H

#include "store/store.h"
#include "util/strbuf.h"

#include <sqlite3.h>

typedef struct store_event_rec {
    char *run_id;
    uint64_t seq;
    int64_t ts_ms;
    char *type;
    char *data;   /* serialized JSON */
    json_t *json; /* the same, parsed, for projections */
} store_event_rec_t;

enum {
    STMT_INSERT_EVENT,
    STMT_RUN_INSERT,
    STMT_RUN_STATUS,
    STMT_RUN_START,
    STMT_RUN_FINISH,
    STMT_RUN_COST,
    STMT_TASK_UPSERT,
    STMT_TASK_STARTED,
    STMT_TASK_FINISHED,
    STMT_TASK_STATUS,
    STMT_TASK_COST,
    STMT_ARTIFACT_INSERT,
    STMT_APPROVAL_UPSERT,
    STMT_APPROVAL_ANSWER,
    STMT_APPROVAL_CLOSE,
    STMT_LLM_CALL_INSERT,
    STMT_TASK_SIMULATED,
    STMT_RUN_SIMULATED,
    STMT_COUNT
};

/* Events waiting to be committed together. */
typedef struct store_batch {
    store_event_rec_t *recs;
    size_t n, cap;
} store_batch_t;

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[STMT_COUNT];
    store_batch_t batch; /* what store_append queued since the last commit or submit */
    char *path;          /* the database file, for the connections below */
    store_durability_t durability;
    sqlite3 *defs; /* stored workflows' own connection, opened on first use
                    * (workflows.c says why); NULL until then */
    /* Read queries kept prepared, by their SQL text. Compiling a query was about half of a run
     * summary's time (make bench, Server); the texts are a bounded set (literals, and the few
     * variants store_runs_page builds). */
    struct cached_stmt {
        char *sql;
        sqlite3_stmt *s;
    } cached[64];
    int n_cached;
};

/* The prepared statement for sql, compiled once and kept (*kept true), or, once the cache is
 * full, compiled for this use only (*kept false). NULL when it does not compile. Give it back
 * with store_done. */
sqlite3_stmt *store_prepared(store_t *st, const char *sql, bool *kept);
void store_done(sqlite3_stmt *s, bool kept);

/* Closes the stored workflows' connection (workflows.c). */
void store_workflows_close(store_t *st);

/* Writes a batch and its projections in one transaction, on the calling thread. 0, or -1 with
 * *err (the batch is left as it was: nothing of it became visible). */
int store_commit_batch(store_t *st, store_batch_t *b, char **err);
void store_batch_clear(store_batch_t *b);

/* Updates the projection tables for one event (inside the caller's transaction). */
int projection_apply(store_t *st, const store_event_rec_t *ev);

/* Runs a read and returns its rows as objects (NULL when it cannot be prepared); the columns
 * inputs, outputs, request and response are parsed as JSON. binds are text (NULL: SQL NULL);
 * limit != 0 binds one more parameter after them (-1: LIMIT -1, every row). */
json_t *store_query_rows(store_t *st, const char *sql, const char *const *binds, int nbinds,
                         int limit);

/* Binds helpers that map a NULL pointer to SQL NULL. */
void store_bind_text(sqlite3_stmt *s, int i, const char *v);

#endif
