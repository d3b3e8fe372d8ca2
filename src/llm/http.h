/* http.h - HTTP requests on the libuv loop through libcurl's multi-socket interface.
 *
 * One client per loop: every request shares its connection cache (keep-alive reuse) and no
 * request ever blocks the loop or takes a thread: curl tells the client which sockets to watch
 * (uv_poll) and when to wake (uv_timer), the multi-uv pattern of curl's own examples.
 *
 * Promises:
 *  - on_data receives the body as it arrives (for streaming), on_done exactly once per started
 *    request (never from inside http_request_start), unless the request is cancelled first.
 *  - Timeouts: connect (curl's), first byte (measured here: no byte of the body within it), and
 *    total. A timeout is reported through on_done with a message saying which one.
 *  - After http_request_cancel nothing more is called and the request's memory is gone.
 *  - Response headers are available in on_done: the status, and Retry-After in milliseconds
 *    (seconds or an HTTP date, as RFC 9110 allows; -1 when absent).
 *
 * Ownership:
 *  - http_req_opts_t and everything it points to (url, headers, body) are borrowed for the call
 *    to http_request_start only: the request keeps copies. ud is the caller's, never freed here.
 *  - The client owns each request it started. A request is freed right after its on_done
 *    returns (or by http_request_cancel): the http_request_t handle is invalid from then on, so
 *    on_done must not cancel its own request, and a caller that keeps the handle to cancel later
 *    forgets it in on_done.
 *  - http_result_t and its strings (error, body) are borrowed for on_done only; on_data's data
 *    for that call only. Copy what must outlive them.
 *  - http_client_free cancels every request still running (no callback follows) and frees the
 *    client once its handles are closed by the loop.
 *
 * Threading: everything on the thread running `loop`, callbacks included; a client is not
 * shared between loops. on_done may start new requests on the same client. */
#ifndef BATON_LLM_HTTP_H
#define BATON_LLM_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct http_client http_client_t;
typedef struct http_request http_request_t;

typedef struct http_result {
    long status;            /* 0 when no response came (connection error, timeout) */
    int64_t retry_after_ms; /* -1 when absent */
    const char *error;      /* NULL on a completed exchange (whatever the status) */
    const char *body;       /* the whole body when not streamed (on_data NULL), else NULL */
    size_t body_len;
    int64_t first_byte_ms; /* from start to the first body byte, -1 if none */
    int64_t total_ms;
} http_result_t;

/* Return non-zero from on_data to abort the request (reported as an error). */
typedef int (*http_data_fn)(void *ud, const char *data, size_t len);
typedef void (*http_done_fn)(void *ud, const http_result_t *res);

typedef struct http_req_opts {
    const char *method; /* "POST" (default when body), "GET" */
    const char *url;
    const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
    const char *body;
    size_t body_len;
    long connect_timeout_ms;    /* 0 = 10 s */
    long first_byte_timeout_ms; /* 0 = none */
    long total_timeout_ms;      /* 0 = none */
    http_data_fn on_data;       /* NULL: the body is collected and given to on_done */
    http_done_fn on_done;
    void *ud;
    /* Asked for every address the request would connect to, after name resolution; false
     * refuses it (the request then fails to connect). NULL: every address. Called with ud. */
    bool (*allow_address)(void *ud, const struct sockaddr *addr);
} http_req_opts_t;

http_client_t *http_client_new(uv_loop_t *loop);
/* Requests still running are cancelled. The client's handles close with the loop's next turn. */
void http_client_free(http_client_t *c);

/* Starts a request. NULL only on a malformed request (bad URL), with nothing called. */
http_request_t *http_request_start(http_client_t *c, const http_req_opts_t *o);
void http_request_cancel(http_request_t *r);

uv_loop_t *http_client_loop(const http_client_t *c);

/* Requests in flight (for tests and `providers ls`). */
size_t http_client_active(const http_client_t *c);

#endif
