/* artifact_query.c - the reads `baton artifacts` and the API's artifact routes share: every
 * version of a run's artifacts, one version's bytes checked against the journaled SHA-256, and
 * the unified diff of two versions. Both callers go through these, so the CLI and the API serve
 * the same bytes and refuse the same damaged blobs. */
#include "store/blobs.h"
#include "store/store_internal.h"
#include "util/diff.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *column(sqlite3_stmt *s, int i) {
    switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(s, i));
    case SQLITE_TEXT:
        return json_string((const char *)sqlite3_column_text(s, i));
    default:
        return json_null();
    }
}

json_t *store_artifact_versions(store_t *st, const char *run_id, const char *name) {
    sqlite3_stmt *s;
    /* ?2 IS NULL: one statement for "every name" and "this name". */
    if (sqlite3_prepare_v2(
            st->db,
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

static long long version_of(const json_t *row) {
    return (long long)json_integer_value(json_object_get(row, "version"));
}

const json_t *store_artifact_version(const json_t *rows, long long version) {
    size_t n = json_array_size(rows);
    if (!version) return n ? json_array_get(rows, n - 1) : NULL;
    for (size_t i = 0; i < n; i++)
        if (version_of(json_array_get(rows, i)) == version) return json_array_get(rows, i);
    return NULL;
}

char *store_artifact_read(const char *data_dir, const char *run_id, const json_t *row, size_t *len,
                          char **err) {
    const char *sha = json_string_value(json_object_get(row, "sha256"));
    const char *blob = json_string_value(json_object_get(row, "blob"));
    const char *path = json_string_value(json_object_get(row, "path"));
    long long bytes = (long long)json_integer_value(json_object_get(row, "bytes"));
    char *e = NULL, *data;
    if (blob || !path) {
        data = blob_read_verified(data_dir, sha, bytes, len, &e);
    } else {
        /* Written before blobs: the journal kept the path as the run saw it (relative to its
         * working directory); from elsewhere the file is still in this data dir's folder for
         * the run. */
        const char *base = strrchr(path, '/');
        char *here = xasprintf("%s/artifacts/%s/%s", data_dir, run_id, base ? base + 1 : path);
        data = blob_read_file_verified(access(path, F_OK) == 0 ? path : here, sha, bytes, data_dir,
                                       len, &e);
        free(here);
    }
    if (!data) {
        *err =
            xasprintf("artifact %s v%lld of run %s: %s",
                      json_string_value(json_object_get(row, "name")), version_of(row), run_id, e);
        free(e);
    }
    return data;
}

int store_artifact_diff(const char *data_dir, const char *run_id, const json_t *from,
                        const json_t *to, strbuf_t *out, diff_result_t *result, char **err) {
    /* Both sides verified before a line is written: a diff against damaged bytes would look
     * like a real change. */
    size_t na = 0, nb = 0;
    char *a = store_artifact_read(data_dir, run_id, from, &na, err);
    char *b = a ? store_artifact_read(data_dir, run_id, to, &nb, err) : NULL;
    if (!b) {
        free(a);
        return -1;
    }
    const char *name = json_string_value(json_object_get(from, "name"));
    char *la = xasprintf("%s@v%lld", name, version_of(from));
    char *lb = xasprintf("%s@v%lld", name, version_of(to));
    diff_unified(a, na, b, nb, la, lb, NULL, out, result);
    free(la);
    free(lb);
    free(a);
    free(b);
    return 0;
}
