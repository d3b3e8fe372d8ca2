/* idempotency.h - Idempotency-Key on the API's creating POSTs (docs/api.md, "HTTP behaviour"):
 * a client that retries a request it never saw answered gets the first answer again instead of
 * a second run, workflow, message or approval answer.
 *
 * Promises, for a request with an Idempotency-Key on a route that takes one:
 *  - The key is 1-255 visible ASCII characters (else 400 bad_request). Its scope is the method
 *    and the path ("POST /api/v1/runs/r-1/messages"): the same key elsewhere is another key.
 *  - An answer kept for (scope, key) less than API_IDEM_TTL_MS ago: the same body (byte for
 *    byte: its SHA-256) gets that answer again (status, Content-Type, Location, body) with
 *    "Idempotent-Replayed: true", and the handler does not run; another body gets 422
 *    idempotency_key_reused.
 *  - The same (scope, key) still being handled: 409 idempotency_key_in_flight.
 *  - Otherwise the handler runs, and its answer is kept (in baton.db: store/idemstore.h) before
 *    it is written, unless it is a 409 or a 5xx: a conflict or a failure may pass, and a retry
 *    is then run again.
 *  - A table that cannot be read: 503 unavailable, and the handler does not run (the request
 *    could not be made safe to retry). One that cannot be written: the answer still goes out, and
 *    a warning is logged.
 *  - Kept answers older than API_IDEM_TTL_MS are never used, and are deleted when the table is
 *    first used and then at most once an hour, when an answer is kept.
 * Everything runs on the loop thread. */
#ifndef BATON_API_IDEMPOTENCY_H
#define BATON_API_IDEMPOTENCY_H

#include "api/api.h"

#define API_IDEM_TTL_MS (24LL * 3600 * 1000)

/* A request being handled under its key; ended by api_idem_answered. */
typedef struct api_idem_flight api_idem_flight_t;

/* For a request on a route that takes a key: NULL with *answered false when it has no key (run
 * the handler; nothing to keep), NULL with *answered true when it was answered here (a replay,
 * 400, 409, 422, 503), else the flight to end with api_idem_answered once it is answered. */
api_idem_flight_t *api_idem_begin(api_t *a, http_req_t *req, bool *answered);

/* The answer to f's request (from its http_answer_fn: the headers added so far are kept with it;
 * body NULL for a streamed answer, which is not kept). Ends and frees f. */
void api_idem_answered(api_t *a, api_idem_flight_t *f, http_req_t *req, int status,
                       const char *content_type, const char *body, size_t len);

/* Closes the table's connection and frees the flights' records (at api_free). */
void api_idem_free(api_t *a);

#endif
