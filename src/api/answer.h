/* answer.h - how a handler reads a request and answers it: JSON answers, client text, query
 * values, the body as an object, and error answers in DESIGN's shape {"error": {"code",
 * "message", "details"?}}. Only for src/api.
 *
 * Promises: each answering function sends exactly one answer on req; a function that returns
 * false or NULL has sent a 400 (or the error it names) and the handler must return without
 * answering again. */
#ifndef BATON_API_ANSWER_H
#define BATON_API_ANSWER_H

#include "api/api.h"

#include <jansson.h>
#include <stdbool.h>

/* Answers body (stolen: freed here) as JSON; a body that cannot be encoded (or NULL) is a 500,
 * never a crash. */
void api_json(http_req_t *req, int status, json_t *body);
/* A new JSON string (caller owns the reference) of text that may quote the client: bytes that
 * are not UTF-8 become '?', as jansson takes nothing else. */
json_t *api_text(const char *s);
/* A JSON error answer in DESIGN's shape, the message formatted as printf does. */
void api_error(http_req_t *req, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Answers a store error code: 404 not_found (STORE_NOT_FOUND), 503 unavailable (STORE_BUSY),
 * 500 internal otherwise; err (borrowed, may be NULL) is the message. */
void api_store_error(http_req_t *req, int rc, const char *err);

/* A whole number in [lo, hi] from the query, dflt when absent; false (and a 400 sent) when the
 * value is not one. */
bool api_query_int(http_req_t *req, const char *key, long long lo, long long hi, long long dflt,
                   long long *out);
/* The body as a JSON object whose keys are all in `allowed` (NULL-terminated); NULL (and a 400
 * sent) otherwise: an unknown field is named in details {"field", "did_you_mean"?}, as an
 * unknown query parameter is (query.h). Caller decrefs. */
json_t *api_body_object(http_req_t *req, const char *const *allowed);

/* Of names (NULL-terminated), the one at most two edits from the len bytes at name (the
 * nearest), for "did you mean"; NULL when none is that close. Static, from names. */
const char *api_nearest(const char *name, size_t len, const char *const *names);

#endif
