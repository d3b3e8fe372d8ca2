/* idemstore.c - the idempotency_keys table (see idemstore.h). */
#include "store/idemstore.h"
#include "store/store_internal.h"
#include "util/xalloc.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* As long as a stored workflow waits for a journal commit (a group commit holds the lock for
 * milliseconds): a request costs the loop at most this. */
#define IDEM_BUSY_MS 2000

struct idemstore {
    sqlite3 *db;
};

static int fail(sqlite3 *db, const char *what, char **err) {
    *err = xasprintf("idempotency keys: %s: %s", what, sqlite3_errmsg(db));
    return -1;
}

idemstore_t *idemstore_open(store_t *st, char **err) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        *err = xasprintf("cannot open database %s: %s", st->path,
                         db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, IDEM_BUSY_MS);
    /* synchronous is per connection: a kept answer is as durable as the journal beside it */
    const char *sync = st->durability == STORE_DURABILITY_FULL ? "PRAGMA synchronous=FULL"
                                                               : "PRAGMA synchronous=NORMAL";
    if (sqlite3_exec(db, sync, NULL, NULL, NULL) != SQLITE_OK) {
        *err = xasprintf("%s: %s", st->path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    idemstore_t *s = xcalloc(1, sizeof *s);
    s->db = db;
    return s;
}

void idemstore_close(idemstore_t *s) {
    if (!s) return;
    sqlite3_close(s->db);
    free(s);
}

static char *column_text(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return xstrdup(t ? (const char *)t : "");
}

int idemstore_get(idemstore_t *s, const char *scope, const char *key, int64_t not_before_ms,
                  idemstore_entry_t *out, char **err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT body_sha256, status, content_type, headers, body, created_at "
                           "FROM idempotency_keys WHERE scope = ? AND key = ? AND created_at >= ?",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s->db, "read", err);
    sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, not_before_ms);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->body_sha256 = column_text(st, 0);
        out->status = sqlite3_column_int(st, 1);
        out->content_type = column_text(st, 2);
        out->headers = column_text(st, 3);
        int n = sqlite3_column_bytes(st, 4);
        const void *b = sqlite3_column_blob(st, 4);
        out->body = xmalloc((size_t)n + 1);
        if (n) memcpy(out->body, b, (size_t)n);
        out->body[n] = '\0';
        out->body_len = (size_t)n;
        out->created_at = sqlite3_column_int64(st, 5);
        found = 1;
    } else if (rc != SQLITE_DONE) {
        found = fail(s->db, "read", err);
    }
    sqlite3_finalize(st);
    return found;
}

int idemstore_put(idemstore_t *s, const char *scope, const char *key, const idemstore_entry_t *e,
                  char **err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO idempotency_keys(scope, key, body_sha256, "
                           "status, content_type, headers, body, created_at) "
                           "VALUES (?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s->db, "write", err);
    sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->body_sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, e->status);
    sqlite3_bind_text(st, 5, e->content_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, e->headers, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, e->body_len ? e->body : "", (int)e->body_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, e->created_at);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s->db, "write", err);
    sqlite3_finalize(st);
    return rc;
}

int64_t idemstore_sweep(idemstore_t *s, int64_t before_ms, char **err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM idempotency_keys WHERE created_at < ?", -1, &st,
                           NULL) != SQLITE_OK)
        return fail(s->db, "sweep", err);
    sqlite3_bind_int64(st, 1, before_ms);
    int64_t n =
        sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(s->db) : fail(s->db, "sweep", err);
    sqlite3_finalize(st);
    return n;
}

void idemstore_entry_free(idemstore_entry_t *e) {
    if (!e) return;
    free(e->body_sha256);
    free(e->content_type);
    free(e->headers);
    free(e->body);
    memset(e, 0, sizeof *e);
}
