/* api_internal.h - what the API's handler files share: JSON answers, client text, query values,
 * and answers that wait for the journal. Not for use outside src/api. */
#ifndef BATON_API_API_INTERNAL_H
#define BATON_API_API_INTERNAL_H

#include "api/api.h"

#include <jansson.h>

/* Answers body (stolen) as JSON; a body that cannot be encoded is a 500, never a crash. */
void api_json(http_req_t *req, int status, json_t *body);
/* A JSON string of text that may quote the client: bytes that are not UTF-8 become '?'. */
json_t *api_text(const char *s);
/* A whole number in [lo, hi] from the query, dflt when absent; false (and a 400 sent) when the
 * value is not one. */
bool api_query_int(http_req_t *req, const char *key, long long lo, long long hi, long long dflt,
                   long long *out);
/* The body as a JSON object whose keys are all in `allowed` (NULL-terminated); NULL (and a 400
 * sent) otherwise. Caller decrefs. */
json_t *api_body_object(http_req_t *req, const char *const *allowed);

/* 422 invalid_workflow with every located error in details (sorted). */
void api_invalid_workflow(http_req_t *req, diag_list_t *dl);
/* The body loaded as a workflow, as POST /api/v1/workflows/validate checks it (the caller frees
 * it); NULL with the answer sent: 400 for no body, 422 with every located error. */
workflow_t *api_load_body_workflow(http_req_t *req, api_t *a);
/* The text of the stored workflow a run body names ({workflow_id, version?}: the latest version
 * when version is left out), with the id (*wf_id, caller frees) and version the run pins; NULL
 * with the answer sent (400 for a field of the wrong type, 404, 503, 500). Caller frees. */
char *api_stored_workflow_text(http_req_t *req, api_t *a, const json_t *body, size_t *len,
                               char **wf_id, int64_t *version);

/* An approval's id for the API: "<run_id>.<task_id>" (run ids have no dot), set on its row. */
void api_approval_id(json_t *row);

/* What a waiting answer sends once the journal has it. */
typedef enum { WAIT_RUN, WAIT_APPROVAL, WAIT_BODY } api_wait_kind_t;

/* Answers req with `status` once run_id's event `seq` is committed (and observed): the run's
 * summary (WAIT_RUN) or the approval of task_id (WAIT_APPROVAL), as the store then has them. */
void api_wait(api_t *a, http_req_t *req, int status, api_wait_kind_t kind, const char *run_id,
              const char *task_id, uint64_t seq);
/* Answers req with body (stolen) once run_id's event seq is committed. */
void api_wait_body(api_t *a, http_req_t *req, int status, const char *run_id, uint64_t seq,
                   json_t *body);
/* Sends what a waiting answer sends, now. */
void api_answer_now(api_t *a, http_req_t *req, int status, api_wait_kind_t kind, const char *run_id,
                    const char *task_id);

/* Sends one committed event to the WebSocket clients subscribed to it. */
void api_ws_publish(api_t *a, const char *run_id, uint64_t seq, int64_t ts, const char *type,
                    const json_t *data);

/* A GET of a path no route owns, served from --ui-dir (static_files.c): true when answered. */
bool api_static(http_req_t *req, api_t *a);

/* Frees the WebSocket replay cache. */
void api_ws_free(api_t *a);

/* Sends a piece of an answer's streamed text (task.delta, no seq) to the run's subscribers. */
void api_ws_delta(api_t *a, const char *run_id, const char *task, int attempt,
                  const char *candidate, const char *piece);

/* Route handlers: params are the path's {x} values, in order. */
typedef void api_handler_fn(http_req_t *req, api_t *a, char **params);
api_handler_fn api_runs_list, api_run_get, api_run_events, api_run_start, api_run_pause,
    api_run_resume, api_run_cancel, api_run_retry, api_run_message, api_approvals_list,
    api_approval_get, api_approval_respond, api_workflows_validate, api_workflow_templates,
    api_v1_models, api_v1_chat, api_v1_embeddings, api_task_get, api_artifacts_list,
    api_artifact_get, api_artifact_content, api_artifact_diff, api_agents_list, api_providers_list,
    api_workflows_list, api_workflow_create, api_workflow_get, api_workflow_version,
    api_workflow_update, api_workflow_delete, api_metrics;

/* {task id: agent id (or null)} of a run's tasks, from its journaled workflow (cached in
 * a->task_agents); an empty object when the workflow cannot be read back. Borrowed: valid until
 * the next call. */
const json_t *api_task_agents(api_t *a, const char *run_id);

/* A workflow named in a request (a template's name, a workflow's text, or a workflow object) as
 * text: *source (and *path, for a template; else NULL), caller frees both. false when it is
 * none of those. */
bool api_workflow_text(const api_t *a, const json_t *wf, char **source, size_t *len, char **path);

/* AG-UI (agui.c): streams one committed event to the AG-UI clients of its run; ends every
 * stream (the server stops). */
void api_agui_event(api_t *a, const char *run_id, uint64_t seq, const char *type,
                    const json_t *data);
void api_agui_stop(api_t *a);
api_handler_fn api_agui_run, api_agui_watch;

/* Cancels the gateway's calls in flight and answers them 503. */
void api_gateway_stop(api_t *a);

#endif
