/* handlers.h - the route handlers the route table (api.c) calls, and what a few of them share.
 * Only for src/api.
 *
 * Promises: a handler answers req exactly once (now, or once the journal has the change: see
 * wait.h); params are the path's {x} values, in order, borrowed. */
#ifndef BATON_API_HANDLERS_H
#define BATON_API_HANDLERS_H

#include "api/api.h"

#include <jansson.h>
#include <stdbool.h>

typedef void api_handler_fn(http_req_t *req, api_t *a, char **params);
api_handler_fn api_runs_list, api_run_get, api_run_events, api_run_start, api_run_pause,
    api_run_resume, api_run_cancel, api_run_retry, api_run_message, api_approvals_list,
    api_approval_get, api_approval_respond, api_workflows_validate, api_workflow_templates,
    api_v1_models, api_v1_chat, api_v1_embeddings, api_task_get, api_artifacts_list,
    api_artifact_get, api_artifact_content, api_artifact_diff, api_agents_list, api_agent_get,
    api_providers_list, api_workflows_list, api_workflow_create, api_workflow_get,
    api_workflow_version, api_workflow_update, api_workflow_delete, api_metrics, api_agui_run,
    api_agui_watch;

/* static_files.c: a GET of a path no route owns, served from --ui-dir: true when answered. */
bool api_static(http_req_t *req, api_t *a);

/* api_approvals.c: sets an approval's API id, "<run_id>.<task_id>" (run ids have no dot), on
 * its row (a store_approvals row, changed in place). */
void api_approval_id(json_t *row);

/* api_catalog.c: {task id: agent id (or null)} of a run's tasks, from its journaled workflow
 * (cached in a->task_agents); an empty object when the workflow cannot be read back. Borrowed:
 * valid until the next call. */
const json_t *api_task_agents(api_t *a, const char *run_id);

#endif
