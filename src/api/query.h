/* query.h - which query parameters each route takes (query.c's table), and the check that
 * refuses any other: one mechanism for every route, as api_body_object is for body fields.
 * Only for src/api (and the unit test that holds the OpenAPI document to the table).
 *
 * Promises: a request whose query names a parameter its route does not declare is answered
 * 400 invalid_query, naming the parameter and the nearest declared one ("did you mean"), before
 * its handler runs. Returned lists are static. */
#ifndef BATON_API_QUERY_H
#define BATON_API_QUERY_H

#include "net/http_server.h"

#include <stdbool.h>

/* The query parameters route (method, pattern) declares, NULL-terminated (an empty list for a
 * route that takes none); NULL for a route the table does not know. */
const char *const *api_query_params(const char *method, const char *pattern);

/* Whether req's query names only parameters of route (method, pattern); false with a 400
 * invalid_query sent otherwise (also for a route missing from the table: a bug, found by the
 * unit test first). */
bool api_query_check(http_req_t *req, const char *method, const char *pattern);

#endif
