/* maintenance.c - rebuild, check, backup, restore, retention (see maintenance.h). */
#include "store/maintenance.h"
#include "store/blobs.h"
#include "store/schema.h"
#include "store/store_internal.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const PROJECTIONS[] = {"runs", "tasks", "artifacts", "approvals", "llm_calls"};

static int exec(store_t *st, const char *sql, char **err) {
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    if (err) *err = xasprintf("%s", msg ? msg : sqlite3_errmsg(st->db));
    sqlite3_free(msg);
    return -1;
}

int store_rebuild(store_t *st, uint64_t *events, char **err) {
    *events = 0;
    if (exec(st, "BEGIN IMMEDIATE", err)) return -1;
    for (size_t i = 0; i < sizeof PROJECTIONS / sizeof *PROJECTIONS; i++) {
        char *sql = xasprintf("DELETE FROM %s", PROJECTIONS[i]);
        int rc = exec(st, sql, err);
        free(sql);
        if (rc) goto fail;
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT run_id, seq, ts, type, data FROM events "
                           "ORDER BY run_id, seq",
                           -1, &s, NULL) != SQLITE_OK) {
        *err = xasprintf("%s", sqlite3_errmsg(st->db));
        goto fail;
    }
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        store_event_rec_t e = {
            .run_id = (char *)sqlite3_column_text(s, 0),
            .seq = (uint64_t)sqlite3_column_int64(s, 1),
            .ts_ms = sqlite3_column_int64(s, 2),
            .type = (char *)sqlite3_column_text(s, 3),
            .data = (char *)sqlite3_column_text(s, 4),
        };
        json_error_t jerr;
        e.json = json_loads(e.data, JSON_DECODE_ANY, &jerr);
        int rc = e.json ? projection_apply(st, &e) : -1;
        if (rc) {
            *err = e.json ? xasprintf("run %s event %llu (%s): %s", e.run_id,
                                      (unsigned long long)e.seq, e.type, sqlite3_errmsg(st->db))
                          : xasprintf("run %s event %llu is not JSON (%s): the journal is damaged; "
                                      "restore a backup (baton restore)",
                                      e.run_id, (unsigned long long)e.seq, jerr.text);
            json_decref(e.json);
            sqlite3_finalize(s);
            goto fail;
        }
        json_decref(e.json);
        (*events)++;
    }
    sqlite3_finalize(s);
    if (step != SQLITE_DONE) {
        *err = xasprintf("%s", sqlite3_errmsg(st->db));
        goto fail;
    }
    if (exec(st, "COMMIT", err)) goto fail;
    return 0;
fail:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static json_t *dump_table(store_t *st, const char *sql) {
    sqlite3_stmt *s;
    json_t *rows = json_array();
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) return rows;
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *row = json_array();
        for (int c = 0; c < sqlite3_column_count(s); c++) {
            const char *t = (const char *)sqlite3_column_text(s, c);
            json_array_append_new(row, t ? json_string(t) : json_null());
        }
        json_array_append_new(rows, row);
    }
    sqlite3_finalize(s);
    return rows;
}

json_t *store_projection_dump(store_t *st) {
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "llm_calls",
                     dump_table(st, "SELECT * FROM llm_calls ORDER BY run_id, seq"), "runs",
                     dump_table(st, "SELECT * FROM runs ORDER BY id"), "tasks",
                     dump_table(st, "SELECT * FROM tasks ORDER BY run_id, task_id"), "artifacts",
                     dump_table(st, "SELECT * FROM artifacts ORDER BY run_id, name, version"),
                     "approvals",
                     dump_table(st, "SELECT * FROM approvals ORDER BY run_id, task_id"));
}

/* The last seq before the first missing one, i.e. how much of a damaged journal is intact. */
static sqlite3_int64 last_contiguous(store_t *st, const char *run) {
    sqlite3_stmt *s;
    sqlite3_int64 seq = 0;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT seq FROM events e WHERE run_id = ?1 AND NOT EXISTS "
                           "(SELECT 1 FROM events n WHERE n.run_id = ?1 AND n.seq = e.seq + 1) "
                           "ORDER BY seq LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) seq = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return seq;
}

int store_check(store_t *st, json_t *problems) {
    int found = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *r = (const char *)sqlite3_column_text(s, 0);
            if (r && strcmp(r, "ok")) {
                json_array_append_new(problems, json_sprintf("database: %s: the file is damaged; "
                                                             "restore a backup (baton restore)",
                                                             r));
                found++;
            }
        }
        sqlite3_finalize(s);
    }
    /* Per run: the journal must be seq 1..n, each once, and start with run.created (the
     * ledger of calls outside runs has no run.created: it is not a run). */
    const char *sql = "SELECT run_id, count(*), min(seq), max(seq), "
                      " (SELECT type FROM events e2 WHERE e2.run_id = e.run_id AND e2.seq = 1) "
                      "FROM events e GROUP BY run_id ORDER BY run_id";
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *run = (const char *)sqlite3_column_text(s, 0);
            sqlite3_int64 n = sqlite3_column_int64(s, 1), lo = sqlite3_column_int64(s, 2),
                          hi = sqlite3_column_int64(s, 3);
            const char *first = (const char *)sqlite3_column_text(s, 4);
            if (lo != 1 || hi != n) {
                sqlite3_int64 good = lo == 1 ? last_contiguous(st, run) : 0;
                json_array_append_new(
                    problems,
                    json_sprintf(
                        "run %s: the journal has a gap (%lld events, seq %lld..%lld; intact up to "
                        "%lld): restore a backup (baton restore), or fork what is intact (baton "
                        "runs "
                        "fork %s --at %lld)",
                        run, n, lo, hi, good, run, good));
                found++;
            } else if (strcmp(run, STORE_LEDGER_RUN) && (!first || strcmp(first, "run.created"))) {
                json_array_append_new(
                    problems,
                    json_sprintf(
                        "run %s: the journal does not start with run.created; restore a backup",
                        run));
                found++;
            }
        }
        sqlite3_finalize(s);
    }
    return found;
}

/* Packs the blobs the artifacts reference into the backup, verified. */
static int pack_blobs(sqlite3 *dst, const char *data_dir, char **err) {
    if (sqlite3_exec(dst,
                     "DROP TABLE IF EXISTS backup_blobs; "
                     "CREATE TABLE backup_blobs (sha TEXT PRIMARY KEY, data BLOB NOT NULL) "
                     "WITHOUT ROWID; BEGIN",
                     NULL, NULL, NULL) != SQLITE_OK) {
        *err = xasprintf("backup: %s", sqlite3_errmsg(dst));
        return -1;
    }
    sqlite3_stmt *q = NULL, *ins = NULL;
    int rc = 0;
    /* The blobs of the snapshot that was copied, not of the live database (a sweep may have
     * run since). */
    if (sqlite3_prepare_v2(dst,
                           "SELECT sha256, max(bytes) FROM artifacts WHERE blob IS NOT NULL "
                           "GROUP BY sha256",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(dst, "INSERT INTO backup_blobs VALUES (?, ?)", -1, &ins, NULL) !=
            SQLITE_OK) {
        *err = xasprintf("backup: %s", sqlite3_errmsg(dst));
        rc = -1;
    }
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        const char *sha = (const char *)sqlite3_column_text(q, 0);
        size_t len;
        char *bytes = blob_read_verified(data_dir, sha, sqlite3_column_int64(q, 1), &len, err);
        if (!bytes) {
            rc = -1;
            break;
        }
        sqlite3_bind_text(ins, 1, sha, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(ins, 2, bytes, len, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            *err = xasprintf("backup: %s", sqlite3_errmsg(dst));
            rc = -1;
        }
        sqlite3_reset(ins);
        free(bytes);
    }
    sqlite3_finalize(q);
    sqlite3_finalize(ins);
    sqlite3_exec(dst, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    return rc;
}

int store_backup(store_t *st, const char *path, const char *data_dir, char **err) {
    /* Never over the live database, and never over an earlier backup until this one is whole:
     * it is written beside FILE and renamed over it only when complete. */
    struct stat a, b;
    const char *live = sqlite3_db_filename(st->db, "main");
    if (live && stat(live, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino) {
        *err = xasprintf("%s is the live database: back up to another file", path);
        return -1;
    }
    char *tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
    sqlite3 *dst;
    if (sqlite3_open(tmp, &dst) != SQLITE_OK) {
        *err = xasprintf("cannot create %s: %s", tmp, sqlite3_errmsg(dst));
        sqlite3_close(dst);
        free(tmp);
        return -1;
    }
    /* The online backup API copies a consistent snapshot even while writers commit. */
    sqlite3_backup *bk = sqlite3_backup_init(dst, "main", st->db, "main");
    int rc = bk ? sqlite3_backup_step(bk, -1) : SQLITE_ERROR;
    if (bk) sqlite3_backup_finish(bk);
    if (rc != SQLITE_DONE) {
        *err = xasprintf("backup to %s failed: %s", path, sqlite3_errmsg(bk ? dst : st->db));
        sqlite3_close(dst);
        remove(tmp);
        free(tmp);
        return -1;
    }
    /* A backup is one self-contained file: no WAL beside it, the blobs inside. */
    sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    rc = pack_blobs(dst, data_dir, err);
    sqlite3_close(dst);
    if (rc == 0 && rename(tmp, path) != 0) {
        *err = xasprintf("cannot move the backup into place at %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc) remove(tmp);
    free(tmp);
    return rc;
}

/* Puts the backup's packed blobs in place, each checked against its name. */
static int unpack_blobs(sqlite3 *src, const char *data_dir, char **err) {
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(src, "SELECT sha, data FROM backup_blobs", -1, &q, NULL) != SQLITE_OK)
        return 0; /* a backup from before blobs were packed: nothing to unpack */
    int rc = 0;
    while (!rc && sqlite3_step(q) == SQLITE_ROW) {
        const char *sha = (const char *)sqlite3_column_text(q, 0);
        char got[BLOB_HEX_LEN + 1];
        if (blob_put(data_dir, sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1), got,
                     err) != 0)
            rc = -1;
        else if (strcmp(got, sha)) {
            *err = xasprintf("the backup's copy of blob %s is damaged (its bytes hash to %s)", sha,
                             got);
            rc = -1;
        }
    }
    sqlite3_finalize(q);
    return rc;
}

int store_restore(store_t *st, const char *path, const char *data_dir, char **err) {
    sqlite3 *src;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        *err = xasprintf("cannot open %s: %s", path, sqlite3_errmsg(src));
        sqlite3_close(src);
        return -1;
    }
    /* Refuse anything that is not a Baton database of a schema this binary understands. */
    sqlite3_stmt *s;
    int version = -1, tables = 0;
    if (sqlite3_prepare_v2(src, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    if (sqlite3_prepare_v2(src,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                           "name IN ('events', 'runs', 'tasks')",
                           -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) tables = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    if (version < 1 || tables != 3) {
        *err = xasprintf("%s is not a Baton backup (%s)", path,
                         version < 0 ? "not an SQLite database" : "no journal tables");
        sqlite3_close(src);
        return -1;
    }
    if (version > schema_latest()) {
        *err =
            xasprintf("%s comes from a newer Baton (schema %d, this one knows %d): upgrade baton "
                      "to restore it",
                      path, version, schema_latest());
        sqlite3_close(src);
        return -1;
    }
    /* Blobs first: a damaged backup is refused before the live database is touched. */
    if (unpack_blobs(src, data_dir, err) != 0) {
        sqlite3_close(src);
        return -1;
    }
    sqlite3_backup *b = sqlite3_backup_init(st->db, "main", src, "main");
    int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
    if (b) sqlite3_backup_finish(b);
    sqlite3_close(src);
    if (rc != SQLITE_DONE) {
        *err = xasprintf("restore from %s failed: %s", path, sqlite3_errmsg(st->db));
        return -1;
    }
    sqlite3_exec(st->db, "DROP TABLE IF EXISTS backup_blobs", NULL, NULL, NULL);
    /* An older backup may need migrations: run them now, as an open would. */
    return schema_migrate(st->db, err);
}

int store_sweep(store_t *st, int64_t finished_before_ms, int64_t failed_before_ms, json_t *deleted,
                char **err) {
    if (exec(st, "BEGIN IMMEDIATE", err)) return -1;
    sqlite3_stmt *s;
    const char *sql = "SELECT id FROM runs WHERE finished_at IS NOT NULL AND ("
                      " (status = 'failed' AND ?2 > 0 AND finished_at < ?2) OR"
                      " (status IN ('completed', 'cancelled') AND ?1 > 0 AND finished_at < ?1))";
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        *err = xasprintf("%s", sqlite3_errmsg(st->db));
        goto fail;
    }
    sqlite3_bind_int64(s, 1, finished_before_ms);
    sqlite3_bind_int64(s, 2, failed_before_ms);
    json_t *ids = json_array();
    while (sqlite3_step(s) == SQLITE_ROW)
        json_array_append_new(ids, json_string((const char *)sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    static const char *const tables[] = {"events", "tasks", "artifacts", "approvals", "llm_calls"};
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
            char *del = xasprintf("DELETE FROM %s WHERE run_id = ?", tables[t]);
            sqlite3_prepare_v2(st->db, del, -1, &s, NULL);
            sqlite3_bind_text(s, 1, json_string_value(id), -1, SQLITE_STATIC);
            sqlite3_step(s);
            sqlite3_finalize(s);
            free(del);
        }
        sqlite3_prepare_v2(st->db, "DELETE FROM runs WHERE id = ?", -1, &s, NULL);
        sqlite3_bind_text(s, 1, json_string_value(id), -1, SQLITE_STATIC);
        sqlite3_step(s);
        sqlite3_finalize(s);
    }
    if (exec(st, "COMMIT", err)) {
        json_decref(ids);
        goto fail;
    }
    json_array_extend(deleted, ids);
    json_decref(ids);
    return 0;
fail:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

json_t *store_referenced_blobs(store_t *st) {
    json_t *set = json_object();
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(st->db, "SELECT DISTINCT sha256 FROM artifacts WHERE blob IS NOT NULL",
                           -1, &q, NULL) != SQLITE_OK)
        return set;
    while (sqlite3_step(q) == SQLITE_ROW)
        json_object_set_new(set, (const char *)sqlite3_column_text(q, 0), json_true());
    sqlite3_finalize(q);
    return set;
}

int store_check_blobs(store_t *st, const char *data_dir, json_t *problems) {
    sqlite3_stmt *q;
    int found = 0;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT sha256, max(bytes), min(run_id), min(name) FROM artifacts "
                           "WHERE blob IS NOT NULL GROUP BY sha256",
                           -1, &q, NULL) != SQLITE_OK)
        return 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *sha = (const char *)sqlite3_column_text(q, 0);
        char *err = NULL;
        size_t len;
        char *bytes = blob_read_verified(data_dir, sha, sqlite3_column_int64(q, 1), &len, &err);
        if (!bytes) {
            json_array_append_new(problems, json_sprintf("artifact %s of run %s: %s",
                                                         sqlite3_column_text(q, 3),
                                                         sqlite3_column_text(q, 2), err));
            found++;
        }
        free(bytes);
        free(err);
    }
    sqlite3_finalize(q);
    return found;
}
