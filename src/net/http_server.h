/* http_server.h - HTTP/1.1 on the loop thread, through libwebsockets on the caller's libuv loop
 * (LWS_SERVER_OPTION_LIBUV with a foreign loop: no thread of its own).
 *
 * Promises:
 *  - Every request reaches the handler once, whole: method, path, query and the body (collected
 *    up to max_body bytes; a larger one is answered 413 without calling the handler). A body
 *    sent with "Transfer-Encoding: chunked" (HTTP/1.1; POST, PUT, PATCH: on another method it
 *    is a 400) is decoded (net/chunked.h) and limited alike; a malformed one is a 400, another
 *    transfer coding a 501, a body framed both by Content-Length and Transfer-Encoding a 400.
 *    The connection of such a request (and of a 413) is closed after the answer ("Connection:
 *    close"): the rest of what it sent is not read.
 *  - HEAD is answered as GET is (the handler sees "GET", req->head set): the same status and
 *    headers, Content-Length included, and no body.
 *  - The handler answers with http_respond, at once or later (from any loop callback) while the
 *    request is alive; a request whose client went away is marked gone and its answer dropped.
 *  - Each request gets an id (X-Request-Id in the answer): the client's own X-Request-Id when it
 *    is 1-128 characters of [A-Za-z0-9._-], else "req-N". One JSON log line on stderr when its
 *    answer is written: {"ts","level","msg":"request","id","method","path","status","ms"}.
 *  - Over HTTP/2, libwebsockets 4.1 drops header names it has no token for: X-Request-Id and
 *    Idempotency-Key are not seen there (req->idempotency_key is NULL).
 *  - WebSocket (when opts.ws.path is set): an upgrade on that path, and only that path, opens a
 *    ws_conn; text messages reach on_message whole (up to ws.max_message bytes: a larger one
 *    closes the connection with 1009). Sends are queued per connection up to ws.max_queue
 *    bytes; a client that lets its queue pass that bound is cut off (close 1008 with a reason
 *    when the frame can still be written, else the connection is dropped) and a JSON line
 *    {"msg":"ws_dropped"} is logged. A ping goes out after 30 s of silence; 90 s without an
 *    answer closes the connection. At most ws.max_connections are open at once: a client past
 *    that is accepted and at once closed with 1013 ("try again later") and a reason, and a JSON
 *    line {"msg":"ws_refused"} is logged.
 *  - With tls_cert and tls_key, the listener speaks TLS only, and offers HTTP/2 and HTTP/1.1
 *    through ALPN; handlers see the same requests either way.
 *  - http_server_stop closes the listener and every connection; the loop then runs dry. */
#ifndef BATON_NET_HTTP_SERVER_H
#define BATON_NET_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct http_server http_server_t;
typedef struct http_req http_req_t;

struct http_req {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE", ... */
    const char *path;   /* without the query */
    const char *query;  /* after '?', "" when none */
    const char *body;   /* NUL-terminated; "" when none */
    size_t body_len;
    const char *id;            /* the request id */
    const char *last_event_id; /* the Last-Event-ID header (an SSE client resuming), or NULL */
    /* the Idempotency-Key header, or NULL; cut to 256 bytes (a longer one is not valid) */
    const char *idempotency_key;
    bool head;       /* a HEAD request, handed over as "GET": its answer's body is not sent */
    void *server_ud; /* the ud given to http_server_start */
};

/* Called once per request, on the loop thread. */
typedef void (*http_handler_fn)(http_req_t *req);

typedef struct ws_conn ws_conn_t;
/* A message shared by every connection it is sent to (fan-out copies nothing). */
typedef struct ws_msg ws_msg_t;

typedef struct ws_opts {
    const char *path;       /* the upgrade path, e.g. "/api/v1/ws"; NULL: no WebSocket */
    size_t max_connections; /* 0 = 1000 */
    size_t max_message;     /* bytes in one client message; 0 = 1 MiB */
    size_t max_queue;       /* bytes waiting to be sent to one client; 0 = 4 MiB */
    void (*on_open)(ws_conn_t *c, void *ud);
    void (*on_message)(ws_conn_t *c, const char *text, size_t len, void *ud);
    void (*on_close)(ws_conn_t *c, void *ud); /* c is freed after it returns */
} ws_opts_t;

typedef struct http_server_opts {
    const char *host; /* an address to bind, e.g. "127.0.0.1" */
    int port;         /* 0: a free port (see http_server_port) */
    size_t max_body;  /* bytes; 0 = 1 MiB */
    http_handler_fn handler;
    void *ud;
    ws_opts_t ws;
    const char *tls_cert; /* PEM files: HTTPS (and HTTP/2 through ALPN) when both are set */
    const char *tls_key;
} http_server_opts_t;

/* NULL with *err (caller frees) when it cannot listen. */
http_server_t *http_server_start(uv_loop_t *loop, const http_server_opts_t *o, char **err);
int http_server_port(const http_server_t *s);
/* Requests in flight (answered or not yet) and open WebSocket connections. */
size_t http_server_connections(const http_server_t *s);
size_t http_server_ws_connections(const http_server_t *s);
/* Answers written so far with a status of this class (2 for 2xx, ... 5 for 5xx). */
uint64_t http_server_answered(const http_server_t *s, int status_class);
/* Stops listening and closes every connection (the loop then runs dry); http_server_free,
 * once it has, releases the rest. */
void http_server_stop(http_server_t *s);
void http_server_free(http_server_t *s);

/* The answer: status, content type (NULL: application/json), body (copied). Once per request. */
void http_respond(http_req_t *req, int status, const char *content_type, const char *body,
                  size_t len);

/* Adds a header to the answer (name and value copied; name as "Location"). Before the answer
 * is given, or from its http_answer_fn. */
void http_add_header(http_req_t *req, const char *name, const char *value);
/* The i-th header added with http_add_header (its value in *value), NULL past the last. */
const char *http_added_header(const http_req_t *req, size_t i, const char **value);

/* Called once, when the answer is given (http_respond; http_stream_begin with body NULL), before
 * it is written, and also when the client has gone: it may add headers, or keep a copy. */
typedef void (*http_answer_fn)(http_req_t *req, int status, const char *content_type,
                               const char *body, size_t len, void *ud);
void http_on_answer(http_req_t *req, http_answer_fn fn, void *ud);

/* ---- streamed answers (Server-Sent Events) ---- */

/* Starts an answer whose body comes in pieces (HTTP/1.1 chunked, or HTTP/2 frames), instead of
 * http_respond. Then http_stream_write as the body grows, and http_stream_end once (which the
 * owner must call, also after the client left: it frees the request then). */
void http_stream_begin(http_req_t *req, int status, const char *content_type);
/* false when the client has gone (stop writing, and end the stream). data is copied. */
bool http_stream_write(http_req_t *req, const char *data, size_t len);
void http_stream_end(http_req_t *req);

/* ---- WebSocket ---- */

/* A text message (copied) with a reference for its creator: ws_msg_unref when done with it. */
ws_msg_t *ws_msg_new(const char *text, size_t len);
void ws_msg_unref(ws_msg_t *m);
/* Queues m for c (taking a reference). false when c is closing or was just cut off for
 * letting its queue pass max_queue. */
bool ws_send(ws_conn_t *c, ws_msg_t *m);
/* Queues a copy of text. */
bool ws_send_text(ws_conn_t *c, const char *text, size_t len);
void ws_set_data(ws_conn_t *c, void *data);
void *ws_data(const ws_conn_t *c);

#endif
