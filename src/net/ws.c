/* ws.c - WebSocket connections on the HTTP server's libwebsockets context (see http_server.h).
 *
 * Each connection has a FIFO of shared messages (ws_msg_t, reference-counted: a fan-out to a
 * thousand clients queues one copy). One message is written per writable callback; libwebsockets
 * finishes a partial write itself before it calls back again. The queue is bounded in bytes: a
 * client that does not read while messages keep coming is cut off rather than buffered without
 * limit. */
#include "net/server_internal.h"
#include "util/clock.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <string.h>

struct ws_msg {
    size_t refs, len;
    unsigned char bytes[]; /* LWS_PRE bytes of room, then the text */
};

typedef struct queued {
    ws_msg_t *msg;
    struct queued *next;
} queued_t;

struct ws_conn {
    http_server_t *srv;
    struct lws *wsi;
    void *data;
    queued_t *head, *tail;
    size_t queued_bytes;
    strbuf_t rx;    /* a message arriving in fragments */
    int close_code; /* set: close with it at the next write */
    char close_reason[96];
    bool refused; /* over max_connections: closed at once, never counted nor handed over */
};

/* RFC 6455 section 7.4.1 (IANA registry): "Try Again Later"; libwebsockets has no name for it. */
#define WS_CLOSE_TRY_AGAIN_LATER 1013

ws_msg_t *ws_msg_new(const char *text, size_t len) {
    ws_msg_t *m = xmalloc(sizeof *m + LWS_PRE + len);
    m->refs = 1;
    m->len = len;
    memcpy(m->bytes + LWS_PRE, text, len);
    return m;
}

void ws_msg_unref(ws_msg_t *m) {
    if (m && --m->refs == 0) free(m);
}

void ws_set_data(ws_conn_t *c, void *data) { c->data = data; }
void *ws_data(const ws_conn_t *c) { return c->data; }

static void queue_clear(ws_conn_t *c) {
    while (c->head) {
        queued_t *q = c->head;
        c->head = q->next;
        ws_msg_unref(q->msg);
        free(q);
    }
    c->tail = NULL;
    c->queued_bytes = 0;
}

/* Closes at the next write with code and reason; if the socket never takes another write (a
 * client that stopped reading), libwebsockets drops it after two seconds. */
static void close_soon(ws_conn_t *c, int code, const char *reason) {
    if (c->close_code) return;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    lws_callback_on_writable(c->wsi);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 2);
}

bool ws_send(ws_conn_t *c, ws_msg_t *m) {
    if (c->close_code) return false;
    if (c->queued_bytes + m->len > c->srv->o.ws.max_queue) {
        fprintf(stderr,
                "{\"ts\":%.0f,\"level\":\"warn\",\"msg\":\"ws_dropped\",\"reason\":\"slow "
                "client: %zu bytes waiting\"}\n",
                clock_now_ms_f(), c->queued_bytes);
        queue_clear(c);
        close_soon(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow client: send queue full");
        return false;
    }
    queued_t *q = xmalloc(sizeof *q);
    q->msg = m;
    q->next = NULL;
    m->refs++;
    if (c->tail)
        c->tail->next = q;
    else
        c->head = q;
    c->tail = q;
    c->queued_bytes += m->len;
    lws_callback_on_writable(c->wsi);
    return true;
}

bool ws_send_text(ws_conn_t *c, const char *text, size_t len) {
    ws_msg_t *m = ws_msg_new(text, len);
    bool ok = ws_send(c, m);
    ws_msg_unref(m);
    return ok;
}

/* The path of an upgrade request is the one the server serves WebSocket on. (A client over
 * max_connections is let through, to be told why it is closed: see ESTABLISHED.) */
static bool upgrade_allowed(http_server_t *srv, struct lws *wsi) {
    char uri[256];
    if (!srv->o.ws.path || lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0) return false;
    return !strcmp(uri, srv->o.ws.path);
}

static int write_next(ws_conn_t *c) {
    if (c->close_code) {
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        return -1;
    }
    queued_t *q = c->head;
    if (!q) return 0;
    ws_msg_t *m = q->msg;
    if (lws_write(c->wsi, m->bytes + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len) return -1;
    c->head = q->next;
    if (!c->head) c->tail = NULL;
    c->queued_bytes -= m->len;
    ws_msg_unref(m);
    free(q);
    if (c->head) lws_callback_on_writable(c->wsi);
    return 0;
}

int ws_callback(http_server_t *srv, struct lws *wsi, enum lws_callback_reasons reason, conn_t *c,
                void *in, size_t len) {
    const ws_opts_t *o = &srv->o.ws;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return upgrade_allowed(srv, wsi) ? 0 : -1;
    case LWS_CALLBACK_ESTABLISHED: {
        ws_conn_t *w = xcalloc(1, sizeof *w);
        w->srv = srv;
        w->wsi = wsi;
        c->ws = w;
        if (srv->ws_open >= o->max_connections) {
            /* A refused upgrade is only a dropped connection to the client; a close frame with
             * 1013 says to come back later, and why. */
            w->refused = true;
            fprintf(stderr,
                    "{\"ts\":%.0f,\"level\":\"warn\",\"msg\":\"ws_refused\",\"reason\":\"%zu "
                    "connections open, the most --max-connections allows\"}\n",
                    clock_now_ms_f(), srv->ws_open);
            char why[96];
            snprintf(why, sizeof why, "too many connections (at most %zu): try again later",
                     o->max_connections);
            /* at once: a writable callback asked for here is not always given */
            w->close_code = WS_CLOSE_TRY_AGAIN_LATER;
            lws_close_reason(wsi, (enum lws_close_status)WS_CLOSE_TRY_AGAIN_LATER,
                             (unsigned char *)why, strlen(why));
            return -1;
        }
        srv->ws_open++;
        if (o->on_open) o->on_open(w, srv->o.ud);
        return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
        ws_conn_t *w = c ? c->ws : NULL;
        if (!w || w->close_code) return 0;
        if (w->rx.len + len > o->max_message) {
            sb_free(&w->rx);
            close_soon(w, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message larger than the limit");
            return 0;
        }
        sb_append(&w->rx, in, len);
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            if (o->on_message) o->on_message(w, sb_str(&w->rx), w->rx.len, srv->o.ud);
            sb_reset(&w->rx);
        }
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c && c->ws ? write_next(c->ws) : 0;
    case LWS_CALLBACK_CLOSED: {
        ws_conn_t *w = c ? c->ws : NULL;
        if (!w) return 0;
        if (!w->refused && o->on_close) o->on_close(w, srv->o.ud);
        if (!w->refused) srv->ws_open--;
        queue_clear(w);
        sb_free(&w->rx);
        free(w);
        c->ws = NULL;
        return 0;
    }
    default:
        return WS_NOT_MINE;
    }
}
