/* api.h - the HTTP API's routes (DESIGN.md section 3): thin handlers that check the request,
 * read the store or the router, and answer JSON.
 *
 * This release serves: GET /health {status, version, uptime_s}; GET /ready (the store is
 * reachable and migrated: 200, else 503); GET /api/v1/status {active_runs, pending_approvals,
 * providers, connections}; GET /api/v1/runs (filters, cursor pages), GET /api/v1/runs/{id},
 * GET /api/v1/runs/{id}/events?after=SEQ; POST /api/v1/workflows/validate (422 with every
 * located error). docs/api.md says what each answers. Every other path is a JSON error: 404 not_found, or 405
 * method_not_allowed for a known path and another method. Errors have DESIGN's shape:
 * {"error": {"code", "message"}}. */
#ifndef BATON_API_API_H
#define BATON_API_API_H

#include "core/workflow.h"
#include "llm/router.h"
#include "net/http_server.h"
#include "store/store.h"

typedef struct api {
    store_t *store;
    router_t *router;
    const agent_catalog_t *catalog; /* for validating workflows */
    http_server_t *server;  /* set once listening: connections in /status */
    double started_ms;      /* wall clock, for uptime_s */
} api_t;

/* The server's handler; req->server_ud is the api_t. */
void api_handle(http_req_t *req);

/* A JSON error answer in DESIGN's shape. */
void api_error(http_req_t *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
