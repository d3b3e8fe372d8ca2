/* artifact_query.c - the reads `baton artifacts` needs: every version of a run's artifacts. */
#include "store/store_internal.h"

static json_t *column(sqlite3_stmt *s, int i) {
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(s, i));
    case SQLITE_TEXT: return json_string((const char *)sqlite3_column_text(s, i));
    default: return json_null();
    }
}

json_t *store_artifact_versions(store_t *st, const char *run_id, const char *name) {
    sqlite3_stmt *s;
    /* ?2 IS NULL: one statement for "every name" and "this name". */
    if (sqlite3_prepare_v2(st->db,
                           "SELECT name, version, task_id, agent, path, blob, sha256, bytes, mime, "
                           "created_at FROM artifacts WHERE run_id = ?1 AND (?2 IS NULL OR name = ?2) "
                           "ORDER BY name, version",
                           -1, &s, NULL) != SQLITE_OK)
        return NULL;
    store_bind_text(s, 1, run_id);
    store_bind_text(s, 2, name);
    json_t *rows = json_array();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int c = 0; c < sqlite3_column_count(s); c++)
            json_object_set_new(row, sqlite3_column_name(s, c), column(s, c));
        json_array_append_new(rows, row);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        json_decref(rows);
        return NULL;
    }
    return rows;
}
