/* api.c - route table and the health/status handlers (see api.h). */
#include "api/answer.h"
#include "api/conventions.h"
#include "api/fanout.h"
#include "api/handlers.h"
#include "api/idempotency.h"
#include "api/query.h"
#include "core/json_time.h"
#include "util/clock.h"
#include "api/route.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static void health(http_req_t *req, api_t *a) {
    api_json(req, 200,
             json_pack("{s:s, s:s, s:o, s:I}", "status", "ok", "version", BATON_VERSION,
                       "started_at", json_time_string((int64_t)a->started_ms), "uptime_ms",
                       (json_int_t)(clock_now_ms_f() - a->started_ms)));
}

static void ready(http_req_t *req, api_t *a) {
    char *err = NULL;
    if (store_ping(a->store, &err) != 0) {
        api_json(req, 503,
                 json_pack("{s:s, s:s}", "status", "unavailable", "reason", err ? err : "?"));
        free(err);
        return;
    }
    api_json(req, 200, json_pack("{s:s}", "status", "ready"));
}

static void status(http_req_t *req, api_t *a) {
    json_t *pending = store_approvals(a->store, NULL, "pending");
    json_t *providers = json_array();
    json_t *cands = router_describe(host_router(a->host));
    size_t i;
    json_t *c;
    json_array_foreach(cands, i, c) {
        json_array_append_new(providers,
                              json_pack("{s:O, s:O, s:O}", "id", json_object_get(c, "id"),
                                        "breaker", json_object_get(c, "breaker"), "local",
                                        json_object_get(c, "local")));
    }
    json_decref(cands);
    api_json(req, 200,
             /* the runs this process is running, not what the journal says: a run left
              * running by a process that died counts once it is resumed */
             json_pack("{s:I, s:I, s:o, s:I, s:o}", "active_runs", (json_int_t)host_active(a->host),
                       "pending_approvals", (json_int_t)json_array_size(pending), "providers",
                       providers, "connections",
                       (json_int_t)(a->server ? http_server_connections(a->server) : 0), "gateway",
                       store_llm_usage(a->store, ENGINE_GATEWAY_RUN)));
    json_decref(pending);
}

/* ---- routing ------------------------------------------------------------------------------------
 */

static api_handler_fn api_openapi, api_ws_plain_get;

static const struct route {
    const char *method, *path; /* "{x}" matches one path segment */
    api_handler_fn *fn;
} routes[] = {
    {"GET", "/health", NULL},
    {"GET", "/ready", NULL},
    {"GET", "/metrics", api_metrics},
    {"GET", "/api/v1/status", NULL},
    {"GET", "/api/v1/runs", api_runs_list},
    {"POST", "/api/v1/runs", api_run_start},
    {"GET", "/api/v1/runs/{id}", api_run_get},
    {"GET", "/api/v1/runs/{id}/events", api_run_events},
    {"POST", "/api/v1/runs/{id}/pause", api_run_pause},
    {"POST", "/api/v1/runs/{id}/resume", api_run_resume},
    {"POST", "/api/v1/runs/{id}/cancel", api_run_cancel},
    {"POST", "/api/v1/runs/{id}/retry", api_run_retry},
    {"POST", "/api/v1/runs/{id}/messages", api_run_message},
    {"GET", "/api/v1/runs/{id}/agui", api_agui_watch},
    {"POST", "/api/v1/agui", api_agui_run},
    {"GET", "/api/v1/runs/{id}/tasks/{task}", api_task_get},
    {"GET", "/api/v1/runs/{id}/artifacts", api_artifacts_list},
    {"GET", "/api/v1/runs/{id}/artifacts/{name}", api_artifact_get},
    {"GET", "/api/v1/runs/{id}/artifacts/{name}/content", api_artifact_content},
    {"GET", "/api/v1/runs/{id}/artifacts/{name}/diff", api_artifact_diff},
    {"GET", "/api/v1/approvals", api_approvals_list},
    {"GET", "/api/v1/approvals/{id}", api_approval_get},
    {"POST", "/api/v1/approvals/{id}/respond", api_approval_respond},
    {"GET", "/api/v1/workflows", api_workflows_list},
    {"POST", "/api/v1/workflows", api_workflow_create},
    {"GET", "/api/v1/workflows/templates", api_workflow_templates},
    {"POST", "/api/v1/workflows/validate", api_workflows_validate},
    {"GET", "/api/v1/agents", api_agents_list},
    {"GET", "/api/v1/agents/{id}", api_agent_get},
    {"GET", "/api/v1/providers", api_providers_list},
    {"GET", "/api/v1/workflows/{id}", api_workflow_get},
    {"PUT", "/api/v1/workflows/{id}", api_workflow_update},
    {"DELETE", "/api/v1/workflows/{id}", api_workflow_delete},
    {"GET", "/api/v1/workflows/{id}/versions/{n}", api_workflow_version},
    {"GET", "/api/v1/openapi.json", api_openapi},
    {"GET", "/v1/models", api_v1_models},
    {"POST", "/v1/chat/completions", api_v1_chat},
    {"POST", "/v1/embeddings", api_v1_embeddings},
    {"GET", API_WS_PATH, api_ws_plain_get},
};

/* What the dispatch adds to the answers of these routes (api/conventions.h): the creating POSTs
 * honour Idempotency-Key, and those that answer 201 say where the new resource is. */
static const struct {
    const char *method, *path;
    unsigned flags;
} route_flags[] = {
    {"POST", "/api/v1/runs", API_ROUTE_IDEMPOTENT | API_ROUTE_CREATES},
    {"POST", "/api/v1/workflows", API_ROUTE_IDEMPOTENT | API_ROUTE_CREATES},
    {"POST", "/api/v1/runs/{id}/messages", API_ROUTE_IDEMPOTENT | API_ROUTE_CREATES},
    {"POST", "/api/v1/approvals/{id}/respond", API_ROUTE_IDEMPOTENT},
};

static unsigned flags_of(const struct route *r) {
    for (size_t i = 0; i < sizeof route_flags / sizeof *route_flags; i++)
        if (!strcmp(route_flags[i].method, r->method) && !strcmp(route_flags[i].path, r->path))
            return route_flags[i].flags;
    return 0;
}

size_t api_route_count(void) { return sizeof routes / sizeof *routes; }

void api_route_at(size_t i, const char **method, const char **path) {
    *method = routes[i].method;
    *path = routes[i].path;
}

extern const unsigned char api_openapi_doc[];
extern const size_t api_openapi_doc_len;

const char *api_openapi_json(size_t *len) {
    *len = api_openapi_doc_len;
    return (const char *)api_openapi_doc;
}

/* GET /api/v1/openapi.json: the document the binary carries, as it is. */
static void api_openapi(http_req_t *req, api_t *a, char **params) {
    (void)a;
    (void)params;
    http_respond(req, 200, "application/json", (const char *)api_openapi_doc, api_openapi_doc_len);
}

/* GET /api/v1/ws without the WebSocket upgrade headers (an upgrade never reaches the handler). */
static void api_ws_plain_get(http_req_t *req, api_t *a, char **params) {
    (void)a;
    (void)params;
    api_error(req, 426, "upgrade_required", "%s is a WebSocket: connect with a WebSocket client",
              API_WS_PATH);
}

void api_free(api_t *a) {
    api_ws_free(a);
    api_idem_free(a);
    json_decref(a->task_agents);
    json_decref(a->agent_maps);
    a->task_agents = a->agent_maps = NULL;
}

static void simple(http_req_t *req, api_t *a, const char *path) {
    if (!strcmp(path, "/health"))
        health(req, a);
    else if (!strcmp(path, "/ready"))
        ready(req, a);
    else
        status(req, a);
}

/* How many "{x}" segments a pattern has. Of the patterns a path fits, those with the fewest
 * are the path's: a literal segment beats a parameter, so /api/v1/workflows/templates is never
 * taken for a workflow's id, and DELETE on it is a 405, not a 404 for "no workflow 'templates'". */
static int params_in(const char *pattern) {
    int n = 0;
    for (; *pattern; pattern++) n += *pattern == '{';
    return n;
}

/* Whether routes[i] fits path (its parameters, if any, into params: the caller frees them). */
static bool fits(size_t i, const char *path, char **params) {
    return route_match(routes[i].path, path, params, 2);
}

void api_handle(http_req_t *req) {
    api_t *a = req->server_ud;
    int fewest = -1;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        char *params[2] = {0};
        if (!fits(i, req->path, params)) continue;
        if (fewest < 0 || params_in(routes[i].path) < fewest) fewest = params_in(routes[i].path);
        free(params[0]);
        free(params[1]);
    }
    if (fewest < 0) {
        if (!api_static(req, a))
            api_error(req, 404, "not_found", "no route %s %.200s", req->method, req->path);
        return;
    }
    char allow[64] = ""; /* the methods the path answers, for a 405 */
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        char *params[2] = {0};
        if (params_in(routes[i].path) != fewest || !fits(i, req->path, params)) continue;
        if (strcmp(routes[i].method, req->method)) {
            size_t n = strlen(allow);
            snprintf(allow + n, sizeof allow - n, "%s%s%s", n ? ", " : "", routes[i].method,
                     strcmp(routes[i].method, "GET") ? "" : ", HEAD");
            free(params[0]);
            free(params[1]);
            continue;
        }
        if (!api_query_check(req, routes[i].method, routes[i].path))
            ; /* 400 invalid_query sent: the route does not take a parameter the query names */
        else if (!api_conventions_begin(a, req, routes[i].path, flags_of(&routes[i])))
            ; /* answered: a kept answer replayed, or the key refused */
        else if (routes[i].fn)
            routes[i].fn(req, a, params);
        else
            simple(req, a, routes[i].path);
        free(params[0]);
        free(params[1]);
        return;
    }
    http_add_header(req, "Allow", allow);
    api_error(req, 405, "method_not_allowed", "%s is not allowed on %s", req->method, req->path);
}
