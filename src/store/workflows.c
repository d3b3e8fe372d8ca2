/* workflows.c - stored, versioned workflow definitions (see store.h).
 *
 * Why they have a connection of their own. While the journal writer thread has a batch in
 * flight it owns the store's main connection (writer.h): a transaction begun on that connection
 * from the loop thread would interleave with the writer's, inside one SQLite connection. Routing
 * these writes through the writer instead would put them on the journal's failure path: the
 * writer stops at its first failed batch (later events may depend on it), and a definition that
 * cannot be written (a full disk, a constraint) must fail one request, never stop every run.
 *
 * So definitions use a second connection to the same file, opened on first use and used only by
 * the thread that calls these functions (the loop thread in `baton serve`). SQLite's locks order
 * the two writers (WAL: one writer at a time, readers never blocked). Each write here is one
 * short BEGIN IMMEDIATE transaction of a row or two; it waits at most DEFS_BUSY_MS for a journal
 * commit in progress (a group commit holds the lock for milliseconds), then gives up with
 * STORE_BUSY, so a wedged database costs the loop a bounded wait and the client a 503, not a
 * hang. Reads go through the same connection: a read after a write sees it. */
#include "store/blobs.h"
#include "store/store_internal.h"
#include "util/clock.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFS_BUSY_MS 2000

static const char *const FORMATS[] = {[STORE_WF_YAML] = "yaml", [STORE_WF_JSON] = "json"};

/* ---- the connection ------------------------------------------------------------------------ */

static sqlite3 *defs(store_t *st, char **err) {
    if (st->defs) return st->defs;
    sqlite3 *db = NULL;
    /* The main connection created the file and migrated it: nothing to create here. */
    if (sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        *err = xasprintf("cannot open database %s: %s", st->path,
                         db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, DEFS_BUSY_MS);
    /* synchronous is per connection: a definition is as durable as the journal next to it. */
    const char *pragmas = st->durability == STORE_DURABILITY_FULL
                              ? "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                              : "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";
    if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        *err = xasprintf("%s: %s", st->path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    return st->defs = db;
}

void store_workflows_close(store_t *st) {
    sqlite3_close(st->defs);
    st->defs = NULL;
}

/* The error for a failed SQLite call: STORE_BUSY when the lock stayed taken, else -1. */
static int db_fail(sqlite3 *db, int rc, const char *what, char **err) {
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        *err = xasprintf("%s: the database is busy; try again", what);
        return STORE_BUSY;
    }
    *err = xasprintf("%s: %s", what, sqlite3_errmsg(db));
    return -1;
}

static int exec(sqlite3 *db, const char *sql, const char *what, char **err) {
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_fail(db, rc, what, err);
}

/* Ends a transaction: COMMIT when rc is 0, else ROLLBACK (and rc stays). */
static int finish(sqlite3 *db, int rc, const char *what, char **err) {
    if (rc == 0) rc = exec(db, "COMMIT", what, err);
    if (rc != 0) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Steps a write statement to its end and finalizes it. */
static int run_stmt(sqlite3 *db, sqlite3_stmt *s, const char *what, char **err) {
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(db, rc, what, err);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql, const char *what, int *rc, char **err) {
    sqlite3_stmt *s = NULL;
    int prc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (prc != SQLITE_OK) *rc = db_fail(db, prc, what, err);
    return s;
}

/* ---- writes -------------------------------------------------------------------------------- */

/* Workflow ids sort by creation time, like run ids: wf-<base32 ms><6 random>. Six random
 * characters (30 bits) make two ids in one millisecond all but impossible to collide. */
static char *new_id(void) {
    static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    char id[24] = "wf-";
    uint64_t ms = (uint64_t)clock_now_ms();
    for (int k = 0; k < 9; k++) id[3 + k] = alphabet[(ms >> (5 * (8 - k))) & 31];
    unsigned char r[6];
    randombytes_buf(r, sizeof r);
    for (int k = 0; k < 6; k++) id[12 + k] = alphabet[r[k] & 31];
    id[18] = '\0';
    return xstrdup(id);
}

static int insert_version(sqlite3 *db, const char *id, int64_t version,
                          const store_wf_source_t *src, const char *sha, int64_t now, char **err) {
    int rc = 0;
    sqlite3_stmt *s = prepare(db,
                              "INSERT INTO workflow_versions(workflow_id, version, source, "
                              "format, sha256, created_at) VALUES (?,?,?,?,?,?)",
                              "storing the workflow", &rc, err);
    if (!s) return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, version);
    sqlite3_bind_text(s, 3, src->text, (int)src->len, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, FORMATS[src->format], -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, sha, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, now);
    return run_stmt(db, s, "storing the workflow", err);
}

int store_workflow_create(store_t *st, const store_wf_source_t *src, char **id, char **err) {
    *id = NULL;
    sqlite3 *db = defs(st, err);
    if (!db) return -1;
    if (sodium_init() < 0) { /* SHA-256 and the random part of the id */
        *err = xstrdup("libsodium failed to initialise");
        return -1;
    }
    char sha[BLOB_HEX_LEN + 1];
    blob_sha256_hex(src->text, src->len, sha);
    int64_t now = clock_now_ms();
    char *wid = new_id();
    int rc = exec(db, "BEGIN IMMEDIATE", "storing the workflow", err);
    if (rc) goto out;
    sqlite3_stmt *s = prepare(db,
                              "INSERT INTO workflows(id, name, created_at, updated_at) "
                              "VALUES (?,?,?,?)",
                              "storing the workflow", &rc, err);
    if (s) {
        sqlite3_bind_text(s, 1, wid, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, src->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now);
        sqlite3_bind_int64(s, 4, now);
        rc = run_stmt(db, s, "storing the workflow", err);
    }
    if (!rc) rc = insert_version(db, wid, 1, src, sha, now, err);
    rc = finish(db, rc, "storing the workflow", err);
out:
    if (rc)
        free(wid);
    else
        *id = wid;
    return rc;
}

/* The latest version of live workflow id and its SHA-256 (inside the caller's transaction). */
static int latest(sqlite3 *db, const char *id, int64_t *version, char sha[BLOB_HEX_LEN + 1],
                  char **err) {
    int rc = 0;
    sqlite3_stmt *s = prepare(db,
                              "SELECT v.version, v.sha256 FROM workflows w JOIN "
                              "workflow_versions v ON v.workflow_id = w.id WHERE w.id = ? AND "
                              "w.deleted_at IS NULL ORDER BY v.version DESC LIMIT 1",
                              "reading the workflow", &rc, err);
    if (!s) return rc;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        *version = sqlite3_column_int64(s, 0);
        snprintf(sha, BLOB_HEX_LEN + 1, "%s", (const char *)sqlite3_column_text(s, 1));
    } else if (step == SQLITE_DONE) {
        *err = xasprintf("no workflow '%s'", id);
        rc = STORE_NOT_FOUND;
    } else {
        rc = db_fail(db, step, "reading the workflow", err);
    }
    sqlite3_finalize(s);
    return rc;
}

int store_workflow_update(store_t *st, const char *id, const store_wf_source_t *src,
                          int64_t *version, bool *changed, char **err) {
    *changed = false;
    sqlite3 *db = defs(st, err);
    if (!db) return -1;
    if (sodium_init() < 0) {
        *err = xstrdup("libsodium failed to initialise");
        return -1;
    }
    char sha[BLOB_HEX_LEN + 1], last_sha[BLOB_HEX_LEN + 1] = "";
    blob_sha256_hex(src->text, src->len, sha);
    /* IMMEDIATE: the version number read below is the one this transaction writes after. */
    int rc = exec(db, "BEGIN IMMEDIATE", "storing the workflow", err);
    if (rc) return rc;
    rc = latest(db, id, version, last_sha, err);
    if (rc || !strcmp(sha, last_sha)) {
        /* Nothing to write: no such workflow, or the same bytes again (a client that PUTs back
         * what it read changes nothing, and gets the version it read). */
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    int64_t now = clock_now_ms();
    rc = insert_version(db, id, *version + 1, src, sha, now, err);
    sqlite3_stmt *s = rc ? NULL
                         : prepare(db, "UPDATE workflows SET name = ?, updated_at = ? WHERE id = ?",
                                   "storing the workflow", &rc, err);
    if (s) {
        sqlite3_bind_text(s, 1, src->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, now);
        sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
        rc = run_stmt(db, s, "storing the workflow", err);
    }
    rc = finish(db, rc, "storing the workflow", err);
    if (!rc) {
        (*version)++;
        *changed = true;
    }
    return rc;
}

int store_workflow_delete(store_t *st, const char *id, char **err) {
    sqlite3 *db = defs(st, err);
    if (!db) return -1;
    int rc = 0;
    sqlite3_stmt *s =
        prepare(db, "UPDATE workflows SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                "deleting the workflow", &rc, err);
    if (!s) return rc;
    sqlite3_bind_int64(s, 1, clock_now_ms());
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    rc = run_stmt(db, s, "deleting the workflow", err);
    if (!rc && sqlite3_changes(db) == 0) {
        *err = xasprintf("no workflow '%s'", id);
        rc = STORE_NOT_FOUND;
    }
    return rc;
}

/* ---- reads --------------------------------------------------------------------------------- */

/* Column c as JSON: integers, text (never NULL: bytes that are not UTF-8 become '?', though the
 * loader lets none through) and NULL. */
static json_t *column(sqlite3_stmt *s, int c) {
    switch (sqlite3_column_type(s, c)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(s, c));
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_column_text(s, c);
        size_t n = (size_t)sqlite3_column_bytes(s, c);
        json_t *j = json_stringn(t, n);
        if (!j) {
            char *valid = utf8_valid(t, n);
            j = json_string(valid);
            free(valid);
        }
        return j;
    }
    default:
        return json_null();
    }
}

/* Every row of a prepared (and bound) statement as objects named by its columns; finalizes it.
 * 0, or an error code with *err. */
static int rows(sqlite3 *db, sqlite3_stmt *s, json_t *out, const char *what, char **err) {
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int c = 0; c < sqlite3_column_count(s); c++)
            json_object_set_new(row, sqlite3_column_name(s, c), column(s, c));
        json_array_append_new(out, row);
    }
    sqlite3_finalize(s);
    return step == SQLITE_DONE ? 0 : db_fail(db, step, what, err);
}

/* The rows of sql with id bound to ?1 and n to ?2 (when n >= 0) into a new array *out. */
static int query(sqlite3 *db, const char *sql, const char *id, int64_t n, json_t **out,
                 char **err) {
    int rc = 0;
    *out = NULL;
    sqlite3_stmt *s = prepare(db, sql, "reading the workflows", &rc, err);
    if (!s) return rc;
    store_bind_text(s, 1, id);
    if (n >= 0) sqlite3_bind_int64(s, 2, n);
    *out = json_array();
    rc = rows(db, s, *out, "reading the workflows", err);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* One row of sql (id, n bound as in query) into *out; STORE_NOT_FOUND when there is none. */
static int query_one(sqlite3 *db, const char *sql, const char *id, int64_t n, const char *missing,
                     json_t **out, char **err) {
    json_t *all;
    int rc = query(db, sql, id, n, &all, err);
    *out = rc ? NULL : json_incref(json_array_get(all, 0));
    json_decref(all);
    if (!rc && !*out) {
        *err = xstrdup(missing);
        rc = STORE_NOT_FOUND;
    }
    return rc;
}

static const char VERSION_SQL[] =
    "SELECT v.workflow_id, v.version, v.format, v.sha256, v.created_at, v.source "
    "FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id "
    "WHERE v.workflow_id = ?1 AND w.deleted_at IS NULL AND (?2 = 0 OR v.version = ?2) "
    "ORDER BY v.version DESC LIMIT 1";

int store_workflow_version(store_t *st, const char *id, int64_t version, json_t **out, char **err) {
    *out = NULL;
    sqlite3 *db = defs(st, err);
    if (!db) return -1;
    char *missing = version ? xasprintf("workflow '%s' has no version %lld", id, (long long)version)
                            : xasprintf("no workflow '%s'", id);
    int rc = query_one(db, VERSION_SQL, id, version, missing, out, err);
    /* A version that is missing from a workflow that is not: say which it is. */
    if (rc == STORE_NOT_FOUND && version) {
        json_t *any = NULL;
        char *e2 = NULL;
        if (query_one(db, VERSION_SQL, id, 0, "", &any, &e2) == STORE_NOT_FOUND) {
            free(*err);
            *err = xasprintf("no workflow '%s'", id);
        }
        json_decref(any);
        free(e2);
    }
    free(missing);
    return rc;
}

/* Reads the workflow row, its versions and (with_source) the latest source, in the caller's
 * read transaction. */
static int get_in_txn(sqlite3 *db, const char *id, bool with_source, json_t **out, char **err) {
    char *missing = xasprintf("no workflow '%s'", id);
    int rc = query_one(db,
                       "SELECT id, name, created_at, updated_at FROM workflows "
                       "WHERE id = ?1 AND deleted_at IS NULL",
                       id, -1, missing, out, err);
    free(missing);
    json_t *versions = NULL, *last = NULL;
    if (!rc)
        rc = query(db,
                   "SELECT version, format, sha256, created_at FROM workflow_versions "
                   "WHERE workflow_id = ?1 ORDER BY version",
                   id, -1, &versions, err);
    if (!rc && with_source)
        rc = query_one(db, VERSION_SQL, id, 0, "the workflow has no version", &last, err);
    if (!rc) {
        const json_t *newest = json_array_get(versions, json_array_size(versions) - 1);
        json_object_set(*out, "version", json_object_get(newest, "version"));
        json_object_set(*out, "format", json_object_get(newest, "format"));
        json_object_set(*out, "sha256", json_object_get(newest, "sha256"));
        json_object_set(*out, "versions", versions);
        if (last) json_object_set(*out, "source", json_object_get(last, "source"));
    } else {
        json_decref(*out);
        *out = NULL;
    }
    json_decref(versions);
    json_decref(last);
    return rc;
}

int store_workflow_get(store_t *st, const char *id, bool with_source, json_t **out, char **err) {
    *out = NULL;
    sqlite3 *db = defs(st, err);
    if (!db) return -1;
    /* One read transaction: the row, its versions and the source agree with each other. */
    int rc = exec(db, "BEGIN", "reading the workflow", err);
    if (rc) return rc;
    rc = get_in_txn(db, id, with_source, out, err);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

json_t *store_workflows_page(store_t *st, const char *after_id, int limit, char **err) {
    sqlite3 *db = defs(st, err);
    if (!db) return NULL;
    json_t *page;
    /* Newest first by id (ids sort by creation time), which no update reorders: a client paging
     * through while workflows change sees each one once. */
    query(db,
          "SELECT w.id, w.name, max(v.version) AS version, w.created_at, w.updated_at "
          "FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id "
          "WHERE w.deleted_at IS NULL AND (?1 IS NULL OR w.id < ?1) "
          "GROUP BY w.id ORDER BY w.id DESC LIMIT ?2",
          after_id, limit, &page, err);
    return page;
}
