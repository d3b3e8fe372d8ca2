/* api_workflows_crud.c - stored workflows: list, create, read (with versions), update, delete,
 * and the stored source a run starts from (see api.h; the store side is store.h).
 *
 * Promises: a workflow is checked exactly as POST /api/v1/workflows/validate checks it before it
 * is stored (422 with every located error otherwise); every change that alters the text makes a
 * new version, and PUTting the latest version's bytes again makes none; a deleted workflow is a
 * 404 everywhere, while the runs that used it carry on from the source they journaled. */
#include "api/handlers.h"
#include "api/answer.h"
#include "api/workflow_text.h"
#include "api/route.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The body as a workflow to store: checked as validate checks it (a NULL result has sent the
 * answer), with its name and format. The caller frees the workflow. */
static workflow_t *body_source(http_req_t *req, api_t *a, store_wf_source_t *src) {
    workflow_t *wf = api_load_body_workflow(req, a);
    if (!wf) return NULL;
    /* JSON is YAML too, and the loader took either; the format is what the text was written
     * in, so a client gets back the kind of text it sent. */
    json_t *j = json_loadb(req->body, req->body_len, 0, NULL);
    *src = (store_wf_source_t){.name = wf->name ? wf->name : "",
                               .text = req->body,
                               .len = req->body_len,
                               .format = json_is_object(j) ? STORE_WF_JSON : STORE_WF_YAML};
    json_decref(j);
    return wf;
}

/* Answers `status` with the workflow's metadata and versions (no source), as it now is. */
static void answer_workflow(http_req_t *req, api_t *a, int status, const char *id, json_t *extra) {
    json_t *out;
    char *err = NULL;
    int rc = store_workflow_get(a->store, id, false, &out, &err);
    if (rc)
        api_store_error(req, rc, err);
    else {
        if (extra) json_object_update(out, extra);
        api_json(req, status, out);
    }
    json_decref(extra);
    free(err);
}

/* POST /api/v1/workflows, the workflow's YAML or JSON as the body (any Content-Type): 201 with
 * {id, name, version: 1, format, sha256, created_at, updated_at, versions}. */
void api_workflow_create(http_req_t *req, api_t *a, char **params) {
    (void)params;
    store_wf_source_t src;
    workflow_t *wf = body_source(req, a, &src);
    if (!wf) return;
    char *id = NULL, *err = NULL;
    int rc = store_workflow_create(a->store, &src, &id, &err);
    if (rc)
        api_store_error(req, rc, err);
    else
        answer_workflow(req, a, 201, id, NULL);
    workflow_free(wf);
    free(id);
    free(err);
}

/* PUT /api/v1/workflows/{id}: the body becomes the next version (200, changed: true), unless it
 * is byte for byte the latest version (200 with that version, changed: false). */
void api_workflow_update(http_req_t *req, api_t *a, char **params) {
    store_wf_source_t src;
    workflow_t *wf = body_source(req, a, &src);
    if (!wf) return;
    int64_t version;
    bool changed;
    char *err = NULL;
    int rc = store_workflow_update(a->store, params[0], &src, &version, &changed, &err);
    if (rc)
        api_store_error(req, rc, err);
    else
        answer_workflow(req, a, 200, params[0], json_pack("{s:b}", "changed", changed));
    workflow_free(wf);
    free(err);
}

/* GET /api/v1/workflows/{id}: the latest version's source, the metadata and every version. */
void api_workflow_get(http_req_t *req, api_t *a, char **params) {
    json_t *out;
    char *err = NULL;
    int rc = store_workflow_get(a->store, params[0], true, &out, &err);
    if (rc)
        api_store_error(req, rc, err);
    else
        api_json(req, 200, out);
    free(err);
}

/* A version number from the path: a whole number from 1; 0 (and a 400 sent) otherwise. */
static int64_t path_version(http_req_t *req, const char *s) {
    char *end;
    long long n = strtoll(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || n < 1 || strlen(s) > 18) {
        api_error(req, 400, "bad_request", "a version is a whole number from 1, not '%.40s'", s);
        return 0;
    }
    return n;
}

/* GET /api/v1/workflows/{id}/versions/{n}: {workflow_id, version, format, sha256, created_at,
 * source}. */
void api_workflow_version(http_req_t *req, api_t *a, char **params) {
    int64_t n = path_version(req, params[1]);
    if (!n) return;
    json_t *out;
    char *err = NULL;
    int rc = store_workflow_version(a->store, params[0], n, &out, &err);
    if (rc)
        api_store_error(req, rc, err);
    else
        api_json(req, 200, out);
    free(err);
}

/* DELETE /api/v1/workflows/{id}: 200 {id, deleted: true}; the workflow is gone from every read
 * (404), its runs are not. */
void api_workflow_delete(http_req_t *req, api_t *a, char **params) {
    char *err = NULL;
    int rc = store_workflow_delete(a->store, params[0], &err);
    if (rc)
        api_store_error(req, rc, err);
    else
        api_json(req, 200, json_pack("{s:o, s:b}", "id", api_text(params[0]), "deleted", 1));
    free(err);
}

/* GET /api/v1/workflows?limit=N&cursor=C: newest first, `limit` (1-100, default 20) at a time;
 * next_cursor (or null) fetches the page after. The cursor is opaque to clients: the id of the
 * page's last workflow. */
void api_workflows_list(http_req_t *req, api_t *a, char **params) {
    (void)params;
    long long limit;
    if (!api_query_int(req, "limit", 1, 100, 20, &limit)) return;
    char cursor[80] = "";
    bool has_cursor = route_query(req->query, "cursor", cursor, sizeof cursor);
    if (has_cursor && (strncmp(cursor, "wf-", 3) || strlen(cursor) >= sizeof cursor - 1)) {
        api_error(req, 400, "bad_request", "cursor is not one this server gave out");
        return;
    }
    char *err = NULL;
    json_t *rows = store_workflows_page(a->store, has_cursor ? cursor : NULL, (int)limit + 1, &err);
    if (!rows) {
        api_store_error(req, -1, err ? err : "the workflows could not be read");
        free(err);
        return;
    }
    json_t *next = json_null();
    if (json_array_size(rows) > (size_t)limit) {
        json_array_remove(rows, (size_t)limit);
        next = json_incref(json_object_get(json_array_get(rows, (size_t)limit - 1), "id"));
    }
    api_json(req, 200, json_pack("{s:o, s:o}", "items", rows, "next_cursor", next));
}
