/* workflow_text.c - the workflow a request names, as text or checked (see workflow_text.h). */
#include "api/workflow_text.h"
#include "api/answer.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A workflow named by a shipped template: its text, path and folder (caller frees); NULL when
 * `name` is not a template's name. */
char *api_template_text(const api_t *a, const char *name, size_t *len, char **path) {
    if (!a->templates_dir || !*name || strlen(name) > 64 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(name))
        return NULL;
    *path = xasprintf("%s/%s.yaml", a->templates_dir, name);
    char *err = NULL;
    char *text = fs_read_regular(*path, WF_MAX_DOC_BYTES, len, &err);
    free(err);
    if (!text) {
        free(*path);
        *path = NULL;
    }
    return text;
}

bool api_workflow_text(const api_t *a, const json_t *wf, char **source, size_t *len, char **path) {
    *path = NULL;
    *source = NULL;
    if (json_is_string(wf)) {
        *source = api_template_text(a, json_string_value(wf), len, path);
        if (!*source) {
            *len = json_string_length(wf);
            *source = xstrndup(json_string_value(wf), *len);
        }
    } else if (json_is_object(wf)) {
        *source = json_dumps(wf, JSON_COMPACT | JSON_PRESERVE_ORDER);
        *len = *source ? strlen(*source) : 0;
    }
    return *source != NULL;
}

/* 422 invalid_workflow with every located error, as `baton validate --json` lists them. */
void api_invalid_workflow(http_req_t *req, diag_list_t *dl) {
    diag_sort(dl);
    json_t *details = json_array();
    for (size_t k = 0; k < dl->n; k++)
        json_array_append_new(
            details, json_pack("{s:i, s:i, s:o, s:o?}", "line", dl->items[k].loc.line, "column",
                               dl->items[k].loc.col, "message", api_text(dl->items[k].message),
                               "hint", dl->items[k].hint ? api_text(dl->items[k].hint) : NULL));
    char msg[64];
    snprintf(msg, sizeof msg, "the workflow has %zu error%s", dl->n, dl->n == 1 ? "" : "s");
    api_json(req, 422,
             json_pack("{s:{s:s, s:s, s:o}}", "error", "code", "invalid_workflow", "message", msg,
                       "details", details));
}

workflow_t *api_load_body_workflow(http_req_t *req, api_t *a) {
    if (!req->body_len) {
        api_error(req, 400, "bad_request", "the body must be a workflow (YAML or JSON)");
        return NULL;
    }
    diag_list_t dl = {0};
    workflow_t *wf =
        workflow_load(req->body, req->body_len, "workflow.yaml", a->catalog, NULL, NULL, &dl);
    if (!wf) api_invalid_workflow(req, &dl);
    diag_list_free(&dl);
    return wf;
}

/* ---- runs of stored workflows ------------------------------------------------------------- */

char *api_stored_workflow_text(http_req_t *req, api_t *a, const json_t *body, size_t *len,
                               char **wf_id, int64_t *version) {
    const json_t *id = json_object_get(body, "workflow_id"), *v = json_object_get(body, "version");
    if (!json_is_string(id) || !json_string_length(id)) {
        api_error(req, 400, "bad_request", "workflow_id must be a stored workflow's id (a string)");
        return NULL;
    }
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
        api_error(req, 400, "bad_request",
                  "version must be a whole number from 1 (leave it out "
                  "for the latest)");
        return NULL;
    }
    json_t *row;
    char *err = NULL;
    int rc = store_workflow_version(a->store, json_string_value(id), v ? json_integer_value(v) : 0,
                                    &row, &err);
    if (rc) {
        api_store_error(req, rc, err);
        free(err);
        return NULL;
    }
    const json_t *source = json_object_get(row, "source");
    *len = json_string_length(source);
    char *text = xstrndup(json_string_value(source), *len);
    *wf_id = xstrdup(json_string_value(id));
    *version = json_integer_value(json_object_get(row, "version"));
    json_decref(row);
    return text;
}
