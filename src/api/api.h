/* api.h - the HTTP API's routes (DESIGN.md section 3): thin handlers that check the request,
 * call the host (engine) or read the store, and answer JSON. docs/api.md says what each route
 * answers.
 *
 * Promises: every answer is JSON (but an artifact's bytes, with its own type, and diffs, as
 * text); every error has DESIGN's shape {"error": {"code", "message"}} with the right status
 * (400 bad input, 404, 405 a known path with another method, 409 a state conflict, 413, 422 an
 * invalid workflow or inputs, 500 a damaged artifact blob or an unreadable journal). A request
 * that changes a run is answered once the change is in the journal (committed), so what it
 * answers is what a GET then reads. */
#ifndef BATON_API_API_H
#define BATON_API_API_H

#include "core/workflow.h"
#include "engine/host.h"
#include "net/http_server.h"
#include "store/store.h"

typedef struct api_waiting api_waiting_t;
typedef struct api_ws_client api_ws_client_t;
typedef struct api_gateway_call api_gateway_call_t;
typedef struct api_agui_stream api_agui_stream_t;
typedef struct api_ws_replay api_ws_replay_t;
typedef struct api_idem api_idem_t;

typedef struct api {
    store_t *store;
    host_t *host;                      /* starts and steers runs; its router answers /status */
    const agent_catalog_t *catalog;    /* for validating workflows; GET /api/v1/agents lists it */
    const char *templates_dir;         /* the shipped workflows, or NULL */
    const char *ui_dir;                /* --ui-dir: files served for GETs no route owns, or NULL */
    const char *data_dir;              /* where artifacts' blobs are read from */
    http_server_t *server;             /* set once listening: connections in /status */
    double started_ms;                 /* wall clock, for started_at and uptime_ms */
    api_waiting_t *waiting;            /* answers waiting for the journal */
    api_ws_client_t *clients;          /* WebSocket clients of /api/v1/ws */
    api_gateway_call_t *gateway_calls; /* /v1 model calls in flight */
    api_agui_stream_t *agui;           /* AG-UI event streams open */
    api_ws_replay_t *replay;           /* the last run replayed to WebSocket clients (ws_hub.c) */
    json_t *agui_threads;              /* {AG-UI threadId: run id}, threads started here */
    json_t *task_agents; /* {run_id: {task_id: agent id}}: a run's workflow never changes */
    json_t *agent_maps;  /* the distinct maps of task_agents, which share them */
    api_idem_t *idem;    /* Idempotency-Key: kept answers, requests in flight (idempotency.c) */
} api_t;

/* The server's handler; req->server_ud is the api_t. */
void api_handle(http_req_t *req);

/* The host's event observer (ud: the api_t): sends the answers that waited for this event. */
void api_on_event(void *ud, engine_run_t *run, uint64_t seq, int64_t ts, const char *type,
                  const json_t *data);

/* The WebSocket feed's callbacks (ws_opts_t; ud: the api_t), served at API_WS_PATH. */
#define API_WS_PATH "/api/v1/ws"
void api_ws_open(ws_conn_t *ws, void *ud);
void api_ws_message(ws_conn_t *ws, const char *text, size_t len, void *ud);
void api_ws_close(ws_conn_t *ws, void *ud);

/* The route table, for the check that the OpenAPI document describes every route: method and
 * path pattern ("{x}" for a path parameter) of route i < api_route_count(). */
size_t api_route_count(void);
void api_route_at(size_t i, const char **method, const char **path);
/* The OpenAPI 3.1 document served at /api/v1/openapi.json (NUL-terminated). */
const char *api_openapi_json(size_t *len);

/* The host's streamed-text observer (ud: the api_t): task.delta to WebSocket clients. */
void api_on_delta(void *ud, engine_run_t *run, const char *task, int attempt, const char *candidate,
                  const char *piece);

/* Answers what still waits with 503 (the server is stopping): changes waiting for the journal,
 * gateway calls in flight (cancelled); ends the AG-UI streams. */
void api_stop(api_t *a);

/* Releases what the api_t keeps between requests (caches), once the loop has run dry. */
void api_free(api_t *a);

#endif
