/* http_server.c - HTTP/1.1 through libwebsockets on a foreign libuv loop (see http_server.h). */
#include "net/chunked.h"
#include "net/http_strict.h"
#include "net/server_internal.h"
#include "util/clock.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_MAX_BODY (1024 * 1024)
#define WRITE_CHUNK      16384

/* A request lives on the heap, not in libwebsockets' per-connection memory: an answer may come
 * after the client has gone, and must then find a request marked gone rather than freed memory. */
struct req_impl {
    http_req_t pub;
    http_server_t *srv;
    struct lws *wsi; /* NULL once the connection closed */
    char *method, *path, *query, *last_event_id, *idem_key;
    char id[129];
    strbuf_t body;
    bool too_large, dispatched, answered;
    bool head;    /* HEAD: answered as GET, without the body */
    bool chunked; /* the body comes "Transfer-Encoding: chunked" (decoded by dec) */
    chunked_t dec;
    bool close_after; /* the body was not (wholly) read: close once answered */
    int refuse;       /* set: answer this status (refuse_code, refuse_msg) instead of the handler */
    const char *refuse_code, *refuse_msg;
    char **hdr; /* headers added by http_add_header: name, value, name, value... */
    size_t n_hdr;
    http_answer_fn on_answer;
    void *on_answer_ud;
    int status;
    char *ctype;
    char *out; /* the answer's body */
    size_t out_len, out_sent;
    bool headers_sent;
    bool streaming;  /* http_stream_begin: the body comes in pieces (chunked, or HTTP/2 frames) */
    bool ended;      /* http_stream_end was called */
    strbuf_t stream; /* streamed bytes not yet written, from stream_off */
    size_t stream_off;
    double started_ms;
};

static void req_free(req_impl_t *r) {
    http_server_t *srv = r->srv;
    if (--srv->live == 0 && srv->released) free(srv);
    free(r->method);
    free(r->path);
    free(r->query);
    free(r->last_event_id);
    free(r->idem_key);
    for (size_t i = 0; i < 2 * r->n_hdr; i++) free(r->hdr[i]);
    free(r->hdr);
    sb_free(&r->body);
    sb_free(&r->stream);
    free(r->ctype);
    free(r->out);
    free(r);
}

/* One JSON line per answered request, built by hand: the only text from the client, the path,
 * is escaped byte by byte (anything not printable ASCII as \u00XX) and clipped at 512 bytes. */
static void log_request(const req_impl_t *r) {
    r->srv->answered[r->status >= 100 && r->status < 600 ? r->status / 100 : 0]++;
    strbuf_t path = {0};
    for (const char *p = r->path; *p && path.len < 512; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            sb_printf(&path, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            sb_printf(&path, "\\u%04x", c);
        else
            sb_putc(&path, (char)c);
    }
    fprintf(stderr,
            "{\"ts\":%.0f,\"level\":\"info\",\"msg\":\"request\",\"id\":\"%s\",\"method\":\"%s\","
            "\"path\":\"%s\",\"status\":%d,\"ms\":%.1f}\n",
            clock_now_ms_f(), r->id, r->method, sb_str(&path), r->status,
            clock_now_ms_f() - r->started_ms);
    sb_free(&path);
}

void http_add_header(http_req_t *pub, const char *name, const char *value) {
    req_impl_t *r = (req_impl_t *)pub;
    if (r->headers_sent) return;
    r->hdr = xrealloc(r->hdr, (2 * r->n_hdr + 2) * sizeof *r->hdr);
    r->hdr[2 * r->n_hdr] = xstrdup(name);
    r->hdr[2 * r->n_hdr + 1] = xstrdup(value);
    r->n_hdr++;
}

const char *http_added_header(const http_req_t *pub, size_t i, const char **value) {
    const req_impl_t *r = (const req_impl_t *)pub;
    if (i >= r->n_hdr) return NULL;
    *value = r->hdr[2 * i + 1];
    return r->hdr[2 * i];
}

void http_on_answer(http_req_t *pub, http_answer_fn fn, void *ud) {
    req_impl_t *r = (req_impl_t *)pub;
    r->on_answer = fn;
    r->on_answer_ud = ud;
}

static void answer_hook(req_impl_t *r, int status, const char *ctype, const char *body,
                        size_t len) {
    http_answer_fn fn = r->on_answer;
    r->on_answer = NULL;
    if (fn) fn(&r->pub, status, ctype ? ctype : "application/json", body, len, r->on_answer_ud);
}

void http_respond(http_req_t *pub, int status, const char *content_type, const char *body,
                  size_t len) {
    req_impl_t *r = (req_impl_t *)pub;
    if (r->answered) return;
    r->answered = true;
    answer_hook(r, status, content_type, body ? body : "", body ? len : 0);
    if (!r->wsi) { /* the client left while the handler worked */
        req_free(r);
        return;
    }
    r->status = status;
    r->ctype = xstrdup(content_type ? content_type : "application/json");
    r->out = xmalloc(len + 1);
    if (len) memcpy(r->out, body, len);
    r->out[len] = '\0';
    r->out_len = len;
    lws_callback_on_writable(r->wsi);
}

void http_stream_begin(http_req_t *pub, int status, const char *content_type) {
    req_impl_t *r = (req_impl_t *)pub;
    if (r->answered) return;
    r->answered = r->streaming = true;
    answer_hook(r, status, content_type, NULL, 0);
    r->status = status;
    r->ctype = xstrdup(content_type);
    if (!r->wsi) return;
    lws_set_timeout(r->wsi, NO_PENDING_TIMEOUT, 0); /* a stream may be quiet for a long time */
    lws_callback_on_writable(r->wsi);
}

bool http_stream_write(http_req_t *pub, const char *data, size_t len) {
    req_impl_t *r = (req_impl_t *)pub;
    if (!r->streaming || r->ended || !r->wsi) return false;
    sb_append(&r->stream, data, len);
    lws_callback_on_writable(r->wsi);
    return true;
}

void http_stream_end(http_req_t *pub) {
    req_impl_t *r = (req_impl_t *)pub;
    if (!r->streaming || r->ended) return;
    r->ended = true;
    if (!r->wsi)
        req_free(r); /* the client left: nothing to finish */
    else
        lws_callback_on_writable(r->wsi);
}

static const struct {
    enum lws_token_indexes token;
    const char *method;
} methods[] = {
    {WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
    {WSI_TOKEN_PUT_URI, "PUT"},       {WSI_TOKEN_PATCH_URI, "PATCH"},
    {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
    {WSI_TOKEN_HEAD_URI, "HEAD"},
};

/* A header libwebsockets has no token for (name: "x-name:"), copied; NULL when absent. One
 * longer than max bytes is cut there (the caller can tell by its length). */
static char *custom_header(struct lws *wsi, const char *name, size_t max) {
    int n = lws_hdr_custom_length(wsi, name, (int)strlen(name));
    if (n < 0) return NULL;
    size_t len = (size_t)n;
    char *v = xmalloc(len + 1);
    if (lws_hdr_custom_copy(wsi, v, (int)len + 1, name, (int)strlen(name)) < 0) {
        free(v);
        return NULL;
    }
    v[len > max ? max : len] = '\0';
    return v;
}

/* A client's request id is kept when it is 1-128 of [A-Za-z0-9._-]: safe to echo and to log. */
static bool good_request_id(const char *s) {
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
    return n >= 1 && n <= 128 && !s[n];
}

static req_impl_t *req_new(http_server_t *srv, struct lws *wsi, const char *uri) {
    req_impl_t *r = xcalloc(1, sizeof *r);
    r->srv = srv;
    r->wsi = wsi;
    srv->live++;
    r->started_ms = clock_now_ms_f();
    char *client_id = custom_header(wsi, "x-request-id:", 200);
    if (client_id && good_request_id(client_id))
        snprintf(r->id, sizeof r->id, "%s", client_id);
    else
        snprintf(r->id, sizeof r->id, "req-%llu", (unsigned long long)++srv->next_id);
    free(client_id);
    r->idem_key = custom_header(wsi, "idempotency-key:", 256);
    r->method = xstrdup("?");
    for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
        if (lws_hdr_total_length(wsi, methods[i].token) > 0) {
            free(r->method);
            r->method = xstrdup(methods[i].method);
            break;
        }
    r->path = xstrdup(uri && *uri ? uri : "/");
    /* libwebsockets keeps the query apart, its parts joined with '&' */
    size_t qlen = 0;
    strbuf_t q = {0};
    for (int k = 0;; k++) {
        char frag[1024];
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, k);
        if (n < 0) break;
        if (qlen++) sb_putc(&q, '&');
        sb_append(&q, frag, (size_t)n);
    }
    r->query = sb_take(&q);
    char last[64];
    if (lws_hdr_custom_copy(wsi, last, sizeof last, "last-event-id:", 14) > 0)
        r->last_event_id = xstrdup(last);
    r->head = !strcmp(r->method, "HEAD");
    return r;
}

static void dispatch(req_impl_t *r) {
    /* Once: a request with "Content-Length: 0" is dispatched when its headers arrive, and
     * libwebsockets still reports the (empty) body complete after. */
    if (r->dispatched) return;
    r->dispatched = true;
    r->pub = (http_req_t){.method = r->head ? "GET" : r->method,
                          .path = r->path,
                          .query = r->query,
                          .body = sb_str(&r->body),
                          .body_len = r->body.len,
                          .id = r->id,
                          .last_event_id = r->last_event_id,
                          .idempotency_key = r->idem_key,
                          .head = r->head,
                          .server_ud = r->srv->o.ud};
    if (r->refuse) {
        char msg[256];
        int n = snprintf(msg, sizeof msg, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
                         r->refuse_code, r->refuse_msg);
        http_respond(&r->pub, r->refuse, NULL, msg, (size_t)n);
        return;
    }
    if (r->too_large) {
        char msg[160];
        int n = snprintf(msg, sizeof msg,
                         "{\"error\":{\"code\":\"payload_too_large\",\"message\":"
                         "\"the body is larger than %zu bytes\"}}",
                         r->srv->o.max_body);
        http_respond(&r->pub, 413, NULL, msg, (size_t)n);
        return;
    }
    r->srv->o.handler(&r->pub);
}

/* A streamed body: what has come so far, a piece per writable callback; once ended and all
 * written, the final (empty) piece. 0: more to come (wait), -1: close, 1: done, finish up. */
static int write_stream(struct lws *wsi, req_impl_t *r, unsigned char *start) {
    size_t pending = r->stream.len - r->stream_off;
    if (pending) {
        size_t n = pending > WRITE_CHUNK ? WRITE_CHUNK : pending;
        lws_fileofs_t allow = lws_get_peer_write_allowance(wsi);
        if (allow == 0) {
            lws_callback_on_writable(wsi);
            return 0;
        }
        if (allow > 0 && (lws_fileofs_t)n > allow) n = (size_t)allow;
        memcpy(start, r->stream.buf + r->stream_off, n);
        if (lws_write(wsi, start, n, LWS_WRITE_HTTP) != (int)n) return -1;
        r->stream_off += n;
        if (r->stream_off == r->stream.len) {
            sb_reset(&r->stream);
            r->stream_off = 0;
        }
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (!r->ended) return 0;
    if (lws_write(wsi, start, 0, LWS_WRITE_HTTP_FINAL) < 0) return -1;
    return 1;
}

/* One header by name ("Location" is written "location:", as libwebsockets wants it). */
static int add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                      unsigned char *end) {
    char lower[64];
    size_t n = strlen(name);
    if (n + 2 > sizeof lower) return 0; /* no such header is added here */
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    lower[n] = ':';
    lower[n + 1] = '\0';
    return lws_add_http_header_by_name(wsi, (const unsigned char *)lower,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* An HTTP/2 stream rather than an HTTP/1.1 connection. */
static bool is_h2(struct lws *wsi) { return lws_get_network_wsi(wsi) != wsi; }

static int write_headers(struct lws *wsi, req_impl_t *r, unsigned char *start) {
    unsigned char *p = start, *end = start + WRITE_CHUNK - 1;
    lws_filepos_t content_len =
        r->streaming ? LWS_ILLEGAL_HTTP_CONTENT_LEN : (lws_filepos_t)r->out_len;
    if (lws_add_http_common_headers(wsi, (unsigned int)r->status, r->ctype, content_len, &p, end) ||
        (r->streaming && add_header(wsi, "cache-control", "no-cache", &p, end)) ||
        add_header(wsi, "x-request-id", r->id, &p, end) ||
        (r->close_after && !r->streaming && !is_h2(wsi) &&
         add_header(wsi, "connection", "close", &p, end)))
        return -1;
    for (size_t i = 0; i < r->n_hdr; i++)
        if (add_header(wsi, r->hdr[2 * i], r->hdr[2 * i + 1], &p, end)) return -1;
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    r->headers_sent = true;
    return 0;
}

/* A HEAD answer once its headers are out: an HTTP/2 stream is ended with an empty last frame;
 * a stream's owner still calls http_stream_end, which then frees the request. */
static int finish_head(struct lws *wsi, req_impl_t *r, unsigned char *start) {
    if (is_h2(wsi) && lws_write(wsi, start, 0, LWS_WRITE_HTTP_FINAL) < 0) return -1;
    log_request(r);
    conn_t *c = lws_wsi_user(wsi);
    if (c) c->req = NULL;
    bool close = r->close_after || r->streaming;
    if (r->streaming && !r->ended)
        r->wsi = NULL; /* as if the client had gone: its writes are refused */
    else
        req_free(r);
    if (close || lws_http_transaction_completed(wsi)) return -1;
    return 0;
}

/* Writes what is due: the headers, then the body in chunks, each when the socket can take it.
 * Returns -1 to close the connection, 0 to keep it. */
static int write_some(struct lws *wsi, req_impl_t *r) {
    unsigned char buf[LWS_PRE + WRITE_CHUNK];
    unsigned char *start = &buf[LWS_PRE];
    if (!r->headers_sent) {
        if (write_headers(wsi, r, start)) return -1;
        if (r->head) return finish_head(wsi, r, start);
        if (r->out_len || r->streaming) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    if (r->streaming) {
        int rc = write_stream(wsi, r, start);
        if (rc != 1) return rc;
    }
    if (r->out_sent < r->out_len) {
        size_t n = r->out_len - r->out_sent;
        if (n > WRITE_CHUNK) n = WRITE_CHUNK;
        /* HTTP/2 flow control: no more than the peer's window allows now (-1: HTTP/1.1) */
        lws_fileofs_t allow = lws_get_peer_write_allowance(wsi);
        if (allow == 0) {
            lws_callback_on_writable(wsi);
            return 0;
        }
        if (allow > 0 && (lws_fileofs_t)n > allow) n = (size_t)allow;
        bool last = r->out_sent + n == r->out_len;
        memcpy(start, r->out + r->out_sent, n);
        if (lws_write(wsi, start, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
            return -1;
        r->out_sent += n;
        if (!last) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    /* What libwebsockets could not send yet (over TLS, a record at a time) goes first: ending
     * the transaction now would cut it (HTTP/2 closed the stream with the answer half sent). */
    if (lws_partial_buffered(wsi)) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    /* answered in full */
    log_request(r);
    conn_t *c = lws_wsi_user(wsi);
    bool close = r->close_after; /* an unread body cannot be skipped on a kept-alive connection */
    if (c) c->req = NULL;
    req_free(r);
    if (close || lws_http_transaction_completed(wsi)) return -1;
    return 0;
}

/* The strict checks of an HTTP/1.x head (http_strict.h), on what libwebsockets kept of it: the
 * request line's version is the token WSI_TOKEN_HTTP, a repeated header one token in several
 * fragments. NULL when the head is fine. */
static const char *strict_refusal(struct lws *wsi) {
    char frags[4][32];
    const char *cl[4];
    size_t n = 0;
    for (int k = 0; k < 4; k++) {
        int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, k);
        if (len <= 0 && !(k == 0 && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH)))
            break;
        char *f = frags[n];
        /* one too long for the buffer is no length taken anyway: kept as "x" to be refused */
        if (len >= (int)sizeof frags[0] ||
            lws_hdr_copy_fragment(wsi, f, sizeof frags[0], WSI_TOKEN_HTTP_CONTENT_LENGTH, k) < 0)
            strcpy(f, "x");
        /* optional white space around a field value is no part of it (RFC 9110, 5.5) */
        size_t end = strlen(f);
        while (end && (f[end - 1] == ' ' || f[end - 1] == '\t')) f[--end] = '\0';
        cl[n++] = f + strspn(f, " \t");
    }
    char version[16] = "";
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP) >= (int)sizeof version ||
        lws_hdr_copy(wsi, version, sizeof version, WSI_TOKEN_HTTP) < 0)
        strcpy(version, "?"); /* too long for any version taken */
    http_strict_head_t h = {.version = version,
                            .content_length = cl,
                            .n_content_length = n,
                            .has_host = lws_hdr_total_length(wsi, WSI_TOKEN_HOST) > 0,
                            .has_transfer_encoding =
                                lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0};
    return http_strict_check(&h);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len) {
    conn_t *c = user;
    http_server_t *srv = lws_context_user(lws_get_context(wsi));
    int ws = ws_callback(srv, wsi, reason, c, in, len);
    if (ws != WS_NOT_MINE) return ws;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        if (!c) return -1;
        req_impl_t *r = c->req = req_new(srv, wsi, in);
        const char *strict = is_h2(wsi) ? NULL : strict_refusal(wsi);
        if (strict) {
            /* a head two readers could take two ways: answered, and the connection closed, as
             * what follows it on the connection cannot be trusted to start a request */
            r->refuse = 400;
            r->refuse_code = "bad_request";
            r->refuse_msg = strict;
            r->close_after = true;
            dispatch(r);
            return 0;
        }
        char cl[32] = "", te[64] = "";
        lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH);
        long long want = atoll(cl);
        /* HTTP/2 frames bodies itself; a transfer coding is HTTP/1.1's */
        bool coded = !is_h2(wsi) && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
        if (coded) {
            lws_hdr_copy(wsi, te, sizeof te, WSI_TOKEN_HTTP_TRANSFER_ENCODING);
            r->close_after = true;
            if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
                r->refuse = 400;
                r->refuse_code = "bad_request";
                r->refuse_msg = "a body is framed by Content-Length or Transfer-Encoding, not both";
            } else if (strcasecmp(te, "chunked")) {
                r->refuse = 501;
                r->refuse_code = "not_implemented";
                r->refuse_msg = "the only transfer coding taken is chunked";
            } else if (strcmp(r->method, "POST") && strcmp(r->method, "PUT") &&
                       strcmp(r->method, "PATCH")) {
                /* libwebsockets reads a body of unknown length for these methods only */
                r->refuse = 400;
                r->refuse_code = "bad_request";
                r->refuse_msg = "a chunked body is taken with POST, PUT and PATCH only";
            }
            r->chunked = !r->refuse;
            if (r->refuse) dispatch(r);
            return 0;
        }
        if (want > (long long)srv->o.max_body) {
            r->too_large = r->close_after = true;
            dispatch(r);
            return 0;
        }
        if (want <= 0) dispatch(r);
        return 0; /* the body, if any, arrives in HTTP_BODY */
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (!c || !c->req || c->req->dispatched) return 0;
        if (c->req->chunked) {
            /* libwebsockets hands over the body as it came (it reads a body of unknown length
             * as up to 100 MB): the framing is ours to take off, and its end ours to find */
            chunked_rc_t rc =
                chunked_feed(&c->req->dec, in, len, NULL, &c->req->body, srv->o.max_body);
            if (rc == CHUNKED_TOO_LARGE) c->req->too_large = true;
            if (rc == CHUNKED_BAD) {
                c->req->refuse = 400;
                c->req->refuse_code = "bad_request";
                c->req->refuse_msg = "the chunked body is malformed";
            }
            if (rc != CHUNKED_MORE) dispatch(c->req);
        } else if (c->req->body.len + len > srv->o.max_body) {
            c->req->too_large = c->req->close_after = true;
        } else {
            sb_append(&c->req->body, in, len);
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        /* (a chunked body's end is the decoder's to find: this only comes after 100 MB) */
        if (c && c->req && !c->req->answered && !c->req->chunked) dispatch(c->req);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!c || !c->req || !c->req->answered) return 0;
        return write_some(wsi, c->req);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (c && c->req) {
            c->req->wsi = NULL;
            /* answered but not written; a stream still open is freed by http_stream_end */
            if (c->req->answered && (!c->req->streaming || c->req->ended)) req_free(c->req);
            c->req = NULL;
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static struct lws_protocols protocols[] = {
    {"http", callback, sizeof(conn_t), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Whether host:port can be bound now (as libwebsockets binds: SO_REUSEADDR). Checked before
 * the context exists, because a context that failed to listen cannot be destroyed cleanly on a
 * foreign loop from here (its handles need the loop to run, and the caller's loop may never run
 * dry). A port taken between this check and the bind is still reported, at that cost. */
static bool can_bind(const char *host, int port) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE},
                    *ai;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &ai) != 0) return false;
    bool ok = false;
    for (struct addrinfo *a = ai; a && !ok; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        ok = bind(fd, a->ai_addr, a->ai_addrlen) == 0;
        close(fd);
    }
    freeaddrinfo(ai);
    return ok;
}

http_server_t *http_server_start(uv_loop_t *loop, const http_server_opts_t *o, char **err) {
    if (!can_bind(o->host, o->port)) {
        *err = xasprintf("cannot listen on %s:%d (in use, or not an address of this machine)",
                         o->host, o->port);
        return NULL;
    }
    http_server_t *s = xcalloc(1, sizeof *s);
    s->o = *o;
    if (!s->o.max_body) s->o.max_body = DEFAULT_MAX_BODY;
    if (!s->o.ws.max_connections) s->o.ws.max_connections = 1000;
    if (!s->o.ws.max_message) s->o.ws.max_message = 1024 * 1024;
    if (!s->o.ws.max_queue) s->o.ws.max_queue = 4 * 1024 * 1024;
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = o->port;
    info.iface = o->host;
    info.protocols = protocols;
    info.user = s;
    info.options =
        LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    if (o->tls_cert && o->tls_key) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = o->tls_cert;
        info.ssl_private_key_filepath = o->tls_key;
        info.alpn = "h2,http/1.1";
    }
    void *loops[] = {loop, NULL};
    info.foreign_loops = loops;
    info.timeout_secs = 30;
    /* Room for a whole WRITE_CHUNK: an HTTP/2 (TLS) write larger than this buffer was cut. */
    info.pt_serv_buf_size = 2 * WRITE_CHUNK;
    /* WebSocket liveness (DESIGN section 3): a ping after 30 s of silence, hang up after 90. */
    static const lws_retry_bo_t idle = {.secs_since_valid_ping = 30, .secs_since_valid_hangup = 90};
    info.retry_and_idle_policy = &idle;
    info.pcontext = &s->ctx; /* NULL once libwebsockets is wholly destroyed */
    s->ctx = lws_create_context(&info);
    struct lws_vhost *vh = s->ctx ? lws_get_vhost_by_name(s->ctx, "default") : NULL;
    s->port = vh ? lws_get_vhost_listen_port(vh) : -1;
    if (!s->ctx || s->port <= 0) {
        *err = xasprintf("cannot listen on %s:%d (in use, or not an address of this machine)",
                         o->host, o->port);
        /* (can_bind said yes: rare.) Only the first stage of the destroy can run here; the
         * context's memory is left to the process's end rather than freed under the loop. */
        if (s->ctx) lws_context_destroy(s->ctx);
        free(s);
        return NULL;
    }
    return s;
}

int http_server_port(const http_server_t *s) { return s->port; }

size_t http_server_connections(const http_server_t *s) { return s->live + s->ws_open; }

size_t http_server_ws_connections(const http_server_t *s) { return s->ws_open; }

uint64_t http_server_answered(const http_server_t *s, int status_class) {
    return status_class >= 0 && status_class < 6 ? s->answered[status_class] : 0;
}

void http_server_stop(http_server_t *s) {
    if (!s) return;
    lws_context_destroy(s->ctx); /* closes the listener and every connection */
}

void http_server_free(http_server_t *s) {
    if (!s) return;
    /* On a foreign loop the first lws_context_destroy only starts: it closes libwebsockets'
     * handles, and once the loop has run their close callbacks, a second call frees the rest
     * (without it the context and its per-thread buffers, ~330 KB, were lost: valgrind). */
    if (s->ctx) lws_context_destroy(s->ctx);
    if (!s->live)
        free(s);
    else
        s->released = true; /* a handler still holds a request: freed with it */
}
