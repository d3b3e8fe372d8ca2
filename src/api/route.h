/* route.h - the pure parts of the API's request handling: matching a path against a route
 * pattern and reading a query string. No I/O; fuzzed (tests/fuzz/fuzz_route.c).
 *
 * A pattern is a path whose "{name}" segments match any one non-empty segment:
 * "/api/v1/runs/{id}/events". A query is "k=v&k2=v2" as libwebsockets hands it over (decoded). */
#ifndef BATON_API_ROUTE_H
#define BATON_API_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether path fits pattern; the "{x}" segments are copied into params[0..max) (the caller
 * frees them; all NULL when there is no match). */
bool route_match(const char *pattern, const char *path, char **params, int max);

/* The value of `key` in the query, copied into out (cut to outlen); false when absent. */
bool route_query(const char *query, const char *key, char *out, size_t outlen);

#endif
