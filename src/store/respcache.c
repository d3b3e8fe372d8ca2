/* respcache.c - the response cache table on the thread pool (see respcache.h). */
#include "store/respcache.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct respcache {
    uv_loop_t *loop;
    sqlite3 *db; /* serialised mode: any pool thread may use it */
    int64_t ttl_ms, max_entries;
    int in_flight; /* work items queued or running */
    bool closing;
};

typedef enum { JOB_GET, JOB_PUT, JOB_SWEEP } job_kind_t;

struct respcache_get {
    uv_work_t work;
    respcache_t *c;
    job_kind_t kind;
    char *key, *candidate, *response;
    int64_t now;
    bool cancelled;
    json_t *entry; /* JOB_GET's result */
    respcache_get_fn fn;
    void *ud;
};

int64_t respcache_now_ms(void) { return clock_now_ms(); }

static void release(respcache_t *c) {
    if (c->closing && !c->in_flight) {
        sqlite3_close(c->db);
        free(c);
    }
}

static void do_get(respcache_get_t *j) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(j->c->db,
                           "SELECT candidate, response FROM llm_cache "
                           "WHERE key = ? AND created_at > ?",
                           -1, &s, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(s, 1, j->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, j->now - j->c->ttl_ms);
    if (sqlite3_step(s) == SQLITE_ROW) {
        json_t *resp = json_loads((const char *)sqlite3_column_text(s, 1), 0, NULL);
        if (json_is_object(resp))
            j->entry = json_pack("{s:s, s:o}", "candidate", (const char *)sqlite3_column_text(s, 0),
                                 "response", resp);
        else
            json_decref(resp);
    }
    sqlite3_finalize(s);
}

static void do_put(respcache_get_t *j) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(j->c->db,
                           "INSERT OR REPLACE INTO llm_cache(key, candidate, response, "
                           "created_at) VALUES (?,?,?,?)",
                           -1, &s, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(s, 1, j->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, j->candidate, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, j->response, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, j->now);
    sqlite3_step(s);
    sqlite3_finalize(s);
}

static void do_sweep(respcache_get_t *j) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(j->c->db, "DELETE FROM llm_cache WHERE created_at <= ?", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(s, 1, j->now - j->c->ttl_ms);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    if (sqlite3_prepare_v2(j->c->db,
                           "DELETE FROM llm_cache WHERE key IN (SELECT key FROM "
                           "llm_cache ORDER BY created_at DESC LIMIT -1 OFFSET ?)",
                           -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, j->c->max_entries);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
}

/* After every write: each write's sweep follows its own insert, so once the writes in flight
 * are done the table holds at most max_entries (walking that many index entries on a pool
 * thread costs far less than the model call the write follows). */
static void do_put_and_sweep(respcache_get_t *j) {
    do_put(j);
    do_sweep(j);
}

static void work(uv_work_t *w) {
    respcache_get_t *j = w->data;
    /* `cancelled` is the loop thread's: a cancelled lookup still reads, and after() drops it. */
    if (j->kind == JOB_GET)
        do_get(j);
    else if (j->kind == JOB_PUT)
        do_put_and_sweep(j);
    else
        do_sweep(j);
}

static void after(uv_work_t *w, int status) {
    respcache_get_t *j = w->data;
    respcache_t *c = j->c;
    (void)status;
    if (j->kind == JOB_GET && !j->cancelled) j->fn(j->ud, json_incref(j->entry));
    json_decref(j->entry);
    free(j->key);
    free(j->candidate);
    free(j->response);
    free(j);
    c->in_flight--;
    release(c);
}

static respcache_get_t *submit(respcache_t *c, job_kind_t kind, const char *key) {
    respcache_get_t *j = xcalloc(1, sizeof *j);
    j->c = c;
    j->kind = kind;
    j->key = key ? xstrdup(key) : NULL;
    j->now = respcache_now_ms();
    j->work.data = j;
    return j;
}

static void queue(respcache_get_t *j) {
    j->c->in_flight++;
    uv_queue_work(j->c->loop, &j->work, work, after);
}

respcache_t *respcache_open(uv_loop_t *loop, const char *db_path, int64_t ttl_ms,
                            int64_t max_entries, char **err) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        *err = xasprintf("cannot open the response cache in %s: %s", db_path,
                         db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    respcache_t *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->db = db;
    c->ttl_ms = ttl_ms;
    c->max_entries = max_entries;
    queue(submit(c, JOB_SWEEP, NULL));
    return c;
}

respcache_get_t *respcache_get(respcache_t *c, const char *key, respcache_get_fn fn, void *ud) {
    respcache_get_t *j = submit(c, JOB_GET, key);
    j->fn = fn;
    j->ud = ud;
    queue(j);
    return j;
}

/* The job still runs (or is cancelled by libuv) and frees itself; only its callback is gone. */
void respcache_get_cancel(respcache_get_t *g) {
    g->cancelled = true;
    uv_cancel((uv_req_t *)&g->work);
}

void respcache_put(respcache_t *c, const char *key, const char *candidate, const json_t *response) {
    respcache_get_t *j = submit(c, JOB_PUT, key);
    j->candidate = xstrdup(candidate);
    j->response = json_dumps(response, JSON_COMPACT);
    if (!j->response) j->response = xstrdup("null");
    queue(j);
}

void respcache_close(respcache_t *c) {
    if (!c) return;
    c->closing = true;
    release(c);
}
