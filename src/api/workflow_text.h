/* workflow_text.h - the workflow a request names, as text or as a checked workflow: a shipped
 * template's name, a workflow's text (YAML or JSON), a workflow object, or a stored workflow's
 * version; and the 422 answer that lists a workflow's errors. Only for src/api.
 *
 * Promises: a function that returns NULL (or false, where it answers) has sent its answer; what
 * it returns through pointers is the caller's to free. */
#ifndef BATON_API_WORKFLOW_TEXT_H
#define BATON_API_WORKFLOW_TEXT_H

#include "api/api.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The text of the shipped template `name` (caller frees) with its file's path (*path, caller
 * frees); NULL (sends nothing) when name is no template's. */
char *api_template_text(const api_t *a, const char *name, size_t *len, char **path);

/* A workflow named in a request (a template's name, a workflow's text, or a workflow object) as
 * text: *source (and *path, for a template; else NULL), caller frees both. false when it is
 * none of those. Sends nothing. */
bool api_workflow_text(const api_t *a, const json_t *wf, char **source, size_t *len, char **path);

/* Answers 422 invalid_workflow with every located error of dl in details (sorted). */
void api_invalid_workflow(http_req_t *req, diag_list_t *dl);

/* The body loaded as a workflow, as POST /api/v1/workflows/validate checks it (the caller frees
 * it); NULL with the answer sent: 400 for no body, 422 with every located error. */
workflow_t *api_load_body_workflow(http_req_t *req, api_t *a);

/* The text of the stored workflow a run body names ({workflow_id, version?}: the latest version
 * when version is left out), with the id (*wf_id, caller frees) and version the run pins; NULL
 * with the answer sent (400 for a field of the wrong type, 404, 503, 500). Caller frees. */
char *api_stored_workflow_text(http_req_t *req, api_t *a, const json_t *body, size_t *len,
                               char **wf_id, int64_t *version);

#endif
