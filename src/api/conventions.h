/* conventions.h - what the route dispatch (api.c) adds to the answers of the routes flagged
 * for it, the same way for each (docs/api.md, "HTTP behaviour"):
 *  - API_ROUTE_IDEMPOTENT: Idempotency-Key is honoured (api/idempotency.h).
 *  - API_ROUTE_CREATES: a 201 carries Location, the created resource's URL (a path on this
 *    server), read from the answer: /api/v1/runs/{run_id}, /api/v1/workflows/{id}, and for a
 *    run's message, the one event of the journal it became,
 *    /api/v1/runs/{run_id}/events?after={seq - 1}&limit=1. */
#ifndef BATON_API_CONVENTIONS_H
#define BATON_API_CONVENTIONS_H

#include "api/api.h"

#define API_ROUTE_IDEMPOTENT 1u
#define API_ROUTE_CREATES    2u

/* Before the handler of route (its pattern, "/api/v1/runs/{id}/messages") runs: false when the
 * request was answered here (a kept answer replayed, or a refused key). */
bool api_conventions_begin(api_t *a, http_req_t *req, const char *route, unsigned flags);

/* The Location of a 201 answer of route: a path (caller frees), or NULL when the answer does
 * not name what it created. */
char *api_created_location(const char *route, const char *body, size_t len);

#endif
