/* api_artifacts.c - a run's artifacts over HTTP (see api.h): the latest version of each, one
 * artifact's versions, a version's bytes and the diff of two versions.
 *
 * Bytes are served as `baton artifacts cat` prints them and diffs as `baton artifacts diff`
 * does: through the same store functions (store_artifact_read, store_artifact_diff), which check
 * every blob against the SHA-256 the journal recorded. A damaged blob is a 500 that says so and
 * what to do, never bytes that look valid. */
#include "api/handlers.h"
#include "api/answer.h"
#include "api/page.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A version as the API shows it: no file system paths (the bytes are served by content/). */
static json_t *version_view(const json_t *row) {
    return json_pack(
        "{s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "version", json_object_get(row, "version"), "bytes",
        json_object_get(row, "bytes"), "sha256", json_object_get(row, "sha256"), "task_id",
        json_object_get(row, "task_id"), "agent_id", json_object_get(row, "agent"), "mime",
        json_object_get(row, "mime"), "created_at", json_object_get(row, "created_at"));
}

static long long version_of(const json_t *row) {
    return (long long)json_integer_value(json_object_get(row, "version"));
}

/* Every version of artifact `name` of the run (NULL: of every artifact), oldest first; NULL (and
 * a 404 or 500 sent) when the run, or a named artifact, does not exist. Caller decrefs. */
static json_t *versions(http_req_t *req, api_t *a, const char *run_id, const char *name) {
    json_t *run = store_run(a->store, run_id);
    if (!run) {
        api_error(req, 404, "not_found", "no run '%.100s'", run_id);
        return NULL;
    }
    json_decref(run);
    json_t *rows = store_artifact_versions(a->store, run_id, name);
    if (!rows) {
        api_error(req, 500, "internal", "the artifacts of run %s cannot be read", run_id);
    } else if (name && !json_array_size(rows)) {
        api_error(req, 404, "not_found", "run %s has no artifact '%.200s'", run_id, name);
        json_decref(rows);
        rows = NULL;
    }
    return rows;
}

/* The row of `version` (0: the latest), or NULL after a 404 that says which versions exist. */
static const json_t *version_or_404(http_req_t *req, const json_t *rows, const char *run_id,
                                    const char *name, long long version) {
    const json_t *row = store_artifact_version(rows, version);
    if (!row)
        api_error(req, 404, "not_found",
                  "artifact '%.200s' of run %s has no version %lld (it has 1 to %lld)", name,
                  run_id, version, version_of(store_artifact_version(rows, 0)));
    return row;
}

static void damaged(http_req_t *req, const char *err) {
    api_error(req, 500, "artifact_damaged", "%s", err ? err : "the artifact cannot be read");
}

/* GET /api/v1/runs/{id}/artifacts: {items: [the latest version of each name, with `versions`
 * (how many there are), `id` and `name` (the same)], next_cursor}, by name. */
void api_artifacts_list(http_req_t *req, api_t *a, char **params) {
    json_t *rows = versions(req, a, params[0], NULL);
    if (!rows) return;
    json_t *items = json_array();
    size_t i, n = json_array_size(rows);
    for (i = 0; i < n; i++) {
        const json_t *row = json_array_get(rows, i), *next = json_array_get(rows, i + 1);
        const char *name = json_string_value(json_object_get(row, "name"));
        if (next && !strcmp(name, json_string_value(json_object_get(next, "name")))) continue;
        json_t *item = version_view(row); /* rows are by name, then version: this is the latest */
        json_object_set_new(item, "id", api_text(name)); /* an artifact is addressed by name */
        json_object_set_new(item, "name", api_text(name));
        json_object_set(item, "versions", json_object_get(row, "version"));
        json_array_append_new(items, item);
    }
    json_decref(rows);
    api_page_answer(req, items, "id", true, 100);
}

/* GET /api/v1/runs/{id}/artifacts/{name}: {name, latest, versions: [every version, oldest first]}.
 */
void api_artifact_get(http_req_t *req, api_t *a, char **params) {
    json_t *rows = versions(req, a, params[0], params[1]);
    if (!rows) return;
    json_t *list = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) json_array_append_new(list, version_view(row));
    api_json(req, 200,
             json_pack("{s:o, s:o, s:I, s:o}", "id", api_text(params[1]), "name",
                       api_text(params[1]), "latest",
                       (json_int_t)version_of(store_artifact_version(rows, 0)), "versions", list));
    json_decref(rows);
}

/* GET /api/v1/runs/{id}/artifacts/{name}/content?version=N (default: the latest): the verified
 * bytes, with the artifact's MIME type. */
void api_artifact_content(http_req_t *req, api_t *a, char **params) {
    long long version;
    if (!api_query_int(req, "version", 1, INT32_MAX, 0, &version)) return;
    json_t *rows = versions(req, a, params[0], params[1]);
    if (!rows) return;
    const json_t *row = version_or_404(req, rows, params[0], params[1], version);
    if (row) {
        size_t len;
        char *err = NULL;
        char *data = store_artifact_read(a->data_dir, params[0], row, &len, &err);
        if (data)
            http_respond(req, 200, json_string_value(json_object_get(row, "mime")), data, len);
        else
            damaged(req, err);
        free(data);
        free(err);
    }
    json_decref(rows);
}

/* GET /api/v1/runs/{id}/artifacts/{name}/diff?from=A&to=B: the unified diff turning version A into
 * B, as `baton artifacts diff` prints it (to: the latest; from: the version before to). Empty
 * when they are the same bytes. */
void api_artifact_diff(http_req_t *req, api_t *a, char **params) {
    long long from, to;
    if (!api_query_int(req, "from", 1, INT32_MAX, 0, &from) ||
        !api_query_int(req, "to", 1, INT32_MAX, 0, &to))
        return;
    json_t *rows = versions(req, a, params[0], params[1]);
    if (!rows) return;
    if (!to) to = version_of(store_artifact_version(rows, 0));
    if (!from) from = to - 1;
    if (from < 1) {
        api_error(req, 400, "bad_request",
                  "version %lld of '%.200s' has no version before it: "
                  "from and to pick the two versions to compare",
                  to, params[1]);
        json_decref(rows);
        return;
    }
    /* `to` first: with `from` implied, a missing `to` is what the client got wrong */
    const json_t *rb = version_or_404(req, rows, params[0], params[1], to);
    const json_t *ra = rb ? version_or_404(req, rows, params[0], params[1], from) : NULL;
    strbuf_t out = {0};
    diff_result_t r;
    char *err = NULL;
    if (ra && store_artifact_diff(a->data_dir, params[0], ra, rb, &out, &r, &err) != 0)
        damaged(req, err);
    else if (ra)
        http_respond(req, 200, "text/plain; charset=utf-8", sb_str(&out), out.len);
    sb_free(&out);
    free(err);
    json_decref(rows);
}
