/* schema.c - versioned migrations, run at open. PRAGMA user_version holds the version. */
#include "store/schema.h"
#include "util/xalloc.h"

#include <stdio.h>

/* Migration N brings the schema from version N-1 to N. Never edit a shipped migration: add one. */
static const char *const migrations[] = {
    /* 1: journal + projections */
    "CREATE TABLE events ("
    "  run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,"
    "  type TEXT NOT NULL, data TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE runs ("
    "  id TEXT PRIMARY KEY, workflow TEXT NOT NULL, file TEXT, status TEXT NOT NULL,"
    "  inputs TEXT NOT NULL, cost_usd REAL NOT NULL DEFAULT 0, error TEXT,"
    "  created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER,"
    "  tasks_total INTEGER NOT NULL DEFAULT 0, parent_run_id TEXT);"
    "CREATE INDEX runs_created ON runs(created_at);"
    "CREATE TABLE tasks ("
    "  run_id TEXT NOT NULL, task_id TEXT NOT NULL, position INTEGER NOT NULL,"
    "  status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, iteration INTEGER NOT NULL "
    "DEFAULT 0,"
    "  cost_usd REAL NOT NULL DEFAULT 0, error TEXT, output TEXT, outputs TEXT,"
    "  started_at INTEGER, finished_at INTEGER,"
    "  PRIMARY KEY (run_id, task_id)) WITHOUT ROWID;"
    "CREATE TABLE artifacts ("
    "  run_id TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,"
    "  task_id TEXT, agent TEXT, path TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,"
    "  mime TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, name, version)) WITHOUT ROWID;"
    "CREATE TABLE approvals ("
    "  run_id TEXT NOT NULL, task_id TEXT NOT NULL, status TEXT NOT NULL,"
    "  request TEXT NOT NULL, response TEXT, requested_at INTEGER NOT NULL, answered_at INTEGER,"
    "  PRIMARY KEY (run_id, task_id)) WITHOUT ROWID;",
    /* 2: artifacts name their content-addressed blob (NULL for artifacts written before) */
    "ALTER TABLE artifacts ADD COLUMN blob TEXT;",
    /* 3: every model call (llm.call events) */
    "CREATE TABLE llm_calls ("
    "  run_id TEXT NOT NULL, seq INTEGER NOT NULL, task_id TEXT NOT NULL, attempt INTEGER NOT NULL,"
    "  candidate TEXT NOT NULL, status TEXT NOT NULL, error TEXT,"
    "  input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT "
    "NULL,"
    "  cost_usd REAL NOT NULL, first_token_ms INTEGER, total_ms INTEGER, created_at INTEGER NOT "
    "NULL,"
    "  PRIMARY KEY (run_id, seq)) WITHOUT ROWID;",
    /* 4: cache hits and reference prices on every call; the response cache (store/respcache.h).
     * The cache table is no projection: it belongs to no run and no rebuild touches it. */
    "ALTER TABLE llm_calls ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE llm_calls ADD COLUMN reference_cost_usd REAL;"
    "CREATE TABLE IF NOT EXISTS llm_cache ("
    "  key TEXT PRIMARY KEY, candidate TEXT NOT NULL, response TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS llm_cache_created ON llm_cache(created_at);",
    /* 5: spend since a time (daily limits, `providers ls`) without a scan of every call */
    "CREATE INDEX llm_calls_created ON llm_calls(created_at);",
    /* 6: stored, versioned workflows (store/workflows.c), and the runs that started from one.
     * Definitions, not projections: no event writes them and a rebuild leaves them alone. A
     * version is never changed: a change is a new row. */
    "CREATE TABLE workflows ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL, deleted_at INTEGER) WITHOUT ROWID;"
    "CREATE TABLE workflow_versions ("
    "  workflow_id TEXT NOT NULL REFERENCES workflows(id),"
    "  version INTEGER NOT NULL CHECK (version >= 1),"
    "  source TEXT NOT NULL, format TEXT NOT NULL CHECK (format IN ('yaml', 'json')),"
    "  sha256 TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (workflow_id, version)) WITHOUT ROWID;"
    "ALTER TABLE runs ADD COLUMN workflow_id TEXT;"
    "ALTER TABLE runs ADD COLUMN workflow_version INTEGER;",
    /* 7: runs and tasks whose output the offline model wrote (state_call_simulated: an answered
     * llm.call of the offline model). Existing rows are filled the way a rebuild would fill
     * them: their journals predate the flag, and the candidate names the offline model. */
    "ALTER TABLE tasks ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE runs ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;"
    "UPDATE tasks SET simulated = 1 WHERE EXISTS (SELECT 1 FROM llm_calls c WHERE "
    "c.run_id = tasks.run_id AND c.task_id = tasks.task_id AND c.status = 'ok' AND "
    "c.candidate LIKE 'offline/%');"
    "UPDATE runs SET simulated = 1 WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.run_id = runs.id "
    "AND t.simulated = 1);",
    /* 8: the answers given to requests with an Idempotency-Key (store/idemstore.h), kept a day.
     * No projection: no event writes them and a rebuild leaves them alone. */
    "CREATE TABLE IF NOT EXISTS idempotency_keys ("
    "  scope TEXT NOT NULL, key TEXT NOT NULL, body_sha256 TEXT NOT NULL,"
    "  status INTEGER NOT NULL, content_type TEXT NOT NULL, headers TEXT NOT NULL,"
    "  body BLOB NOT NULL, created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (scope, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys(created_at);",
};

int schema_latest(void) { return (int)(sizeof migrations / sizeof *migrations); }

int schema_migrate(sqlite3 *db, char **err) {
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    int latest = (int)(sizeof migrations / sizeof *migrations);
    if (version > latest) {
        *err = xasprintf("the database has schema version %d, newer than this baton understands "
                         "(%d): upgrade baton, or point --data-dir elsewhere",
                         version, latest);
        return -1;
    }
    for (int v = version; v < latest; v++) {
        char *msg = NULL;
        char *sql = xasprintf("BEGIN IMMEDIATE; %s PRAGMA user_version = %d; COMMIT;",
                              migrations[v], v + 1);
        int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
        free(sql);
        if (rc != SQLITE_OK) {
            *err = xasprintf("migration to schema version %d failed: %s", v + 1, msg ? msg : "?");
            sqlite3_free(msg);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return 0;
}
