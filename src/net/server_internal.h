/* server_internal.h - what http_server.c and ws.c share: the server and libwebsockets'
 * per-connection memory. Not for use outside src/net. */
#ifndef BATON_NET_SERVER_INTERNAL_H
#define BATON_NET_SERVER_INTERNAL_H

#include "net/http_server.h"

#include <libwebsockets.h>

struct http_server {
    struct lws_context *ctx;
    http_server_opts_t o;
    int port;
    size_t live;    /* requests not yet freed */
    size_t ws_open; /* WebSocket connections open */
    uint64_t next_id;
    uint64_t answered[6]; /* answers written, by status class (1xx..5xx; [0]: other) */
    bool released;        /* http_server_free was called: freed with its last request */
};

typedef struct req_impl req_impl_t;

/* libwebsockets' per-connection memory: the current request (HTTP) or the WebSocket. */
typedef struct conn {
    req_impl_t *req;
    ws_conn_t *ws;
} conn_t;

/* Handles the WebSocket callbacks (the upgrade filter, messages, writes, close): their return
 * value for libwebsockets, or WS_NOT_MINE for every other callback. */
#define WS_NOT_MINE 1000
int ws_callback(http_server_t *srv, struct lws *wsi, enum lws_callback_reasons reason, conn_t *c,
                void *in, size_t len);

#endif
