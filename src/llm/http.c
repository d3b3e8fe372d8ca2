/* http.c - libcurl multi-socket driven by libuv (see http.h).
 *
 * Handle lifetimes: poll handles follow curl's sockets (created on CURL_POLL_IN/OUT, closed on
 * CURL_POLL_REMOVE); they are unref'd, because curl keeps idle keep-alive connections and those
 * must not keep a finished program running. What keeps the loop alive is `keepalive`, an async
 * handle that is ref'd exactly while requests are in flight. */
#include "llm/http.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

struct http_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;     /* curl's timeout */
    uv_async_t keepalive; /* ref'd while requests are in flight; never sent */
    size_t active;
    http_request_t *requests; /* in flight, for http_client_free */
    int closed;               /* handles closed by http_client_free */
};

typedef struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    http_client_t *c;
} sock_ctx_t;

struct http_request {
    http_client_t *c;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    strbuf_t collected;
    http_data_fn on_data;
    http_done_fn on_done;
    void *ud;
    bool (*allow_address)(void *ud, const struct sockaddr *addr);
    uv_timer_t first_byte; /* first-byte deadline */
    long first_byte_timeout_ms;
    int64_t started_ms, first_byte_ms, retry_after_ms;
    char errbuf[CURL_ERROR_SIZE];
    http_request_t *prev, *next;
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void check_done(http_client_t *c);

/* Where the request's address policy (allow_address) is applied: after name resolution, so a
 * name that resolves (or is rebound) somewhere it should not go is stopped at the socket. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a) {
    http_request_t *r = clientp;
    if (purpose == CURLSOCKTYPE_IPCXN && !r->allow_address(r->ud, &a->addr)) return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype, a->protocol);
}

/* ---- curl <-> libuv ------------------------------------------------------------------------ */

static void poll_cb(uv_poll_t *h, int status, int events) {
    sock_ctx_t *s = h->data;
    int flags = status < 0 ? CURL_CSELECT_ERR
                           : (events & UV_READABLE ? CURL_CSELECT_IN : 0) |
                                 (events & UV_WRITABLE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(s->c->multi, s->fd, flags, &running);
    check_done(s->c);
}

static void sock_closed(uv_handle_t *h) { free(h->data); }

static int socket_cb(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp) {
    (void)easy;
    http_client_t *c = userp;
    sock_ctx_t *s = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, sock_closed);
            curl_multi_assign(c->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = xcalloc(1, sizeof *s);
        s->fd = fd;
        s->c = c;
        uv_poll_init_socket(c->loop, &s->poll, fd);
        s->poll.data = s;
        uv_unref((uv_handle_t *)&s->poll);
        curl_multi_assign(c->multi, fd, s);
    }
    int events =
        (action & CURL_POLL_IN ? UV_READABLE : 0) | (action & CURL_POLL_OUT ? UV_WRITABLE : 0);
    uv_poll_start(&s->poll, events, poll_cb);
    return 0;
}

static void timer_fire(uv_timer_t *t) {
    http_client_t *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    http_client_t *c = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, timer_fire, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- requests ------------------------------------------------------------------------------ */

static void req_closed(uv_handle_t *h) {
    http_request_t *r = h->data;
    sb_free(&r->collected);
    free(r->body);
    free(r);
}

/* Takes r out of curl and the client, and frees it once its timer handle is closed. */
static void req_release(http_request_t *r) {
    http_client_t *c = r->c;
    curl_multi_remove_handle(c->multi, r->easy);
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    if (r->prev)
        r->prev->next = r->next;
    else
        c->requests = r->next;
    if (r->next) r->next->prev = r->prev;
    if (--c->active == 0) uv_unref((uv_handle_t *)&c->keepalive);
    uv_timer_stop(&r->first_byte);
    uv_close((uv_handle_t *)&r->first_byte, req_closed);
}

static void finish(http_request_t *r, const char *error) {
    http_result_t res = {.retry_after_ms = r->retry_after_ms,
                         .error = error,
                         .first_byte_ms = r->first_byte_ms,
                         .total_ms = now_ms() - r->started_ms};
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
    if (!r->on_data) {
        res.body = sb_str(&r->collected);
        res.body_len = r->collected.len;
    }
    /* The body stays valid during on_done: it is freed with the request afterwards. */
    r->on_done(r->ud, &res);
    req_release(r);
}

static void check_done(http_client_t *c) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        http_request_t *r;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode code = m->data.result;
        char msg[CURL_ERROR_SIZE + 64];
        if (code != CURLE_OK)
            snprintf(msg, sizeof msg, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
        finish(r, code == CURLE_OK ? NULL : msg);
    }
}

static size_t write_cb(char *data, size_t size, size_t n, void *ud) {
    http_request_t *r = ud;
    size_t len = size * n;
    if (r->first_byte_ms < 0) {
        r->first_byte_ms = now_ms() - r->started_ms;
        uv_timer_stop(&r->first_byte);
    }
    if (!r->on_data) {
        sb_append(&r->collected, data, len);
        return len;
    }
    return r->on_data(r->ud, data, len) ? 0 : len;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static size_t header_cb(char *data, size_t size, size_t n, void *ud) {
    http_request_t *r = ud;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name && !strncasecmp(data, name, sizeof name - 1)) {
        char value[128];
        size_t vl = len - (sizeof name - 1);
        if (vl >= sizeof value) vl = sizeof value - 1;
        memcpy(value, data + sizeof name - 1, vl);
        value[vl] = '\0';
        char *end;
        double secs = strtod(value, &end);
        if (end != value && secs >= 0 &&
            secs <= 86400.0) { /* a day at most: anything else is noise */
            r->retry_after_ms = (int64_t)(secs * 1000.0);
        } else {
            time_t when = curl_getdate(value, NULL);
            if (when > 0) {
                time_t delta = when - time(NULL);
                r->retry_after_ms = delta > 0 ? (int64_t)delta * 1000 : 0;
            }
        }
    }
    return len;
}

static void first_byte_fire(uv_timer_t *t) {
    http_request_t *r = t->data;
    char msg[96];
    snprintf(msg, sizeof msg, "no response within the first-byte timeout of %ld ms",
             r->first_byte_timeout_ms);
    finish(r, msg);
}

http_request_t *http_request_start(http_client_t *c, const http_req_opts_t *o) {
    http_request_t *r = xcalloc(1, sizeof *r);
    r->c = c;
    r->easy = curl_easy_init();
    r->on_data = o->on_data;
    r->on_done = o->on_done;
    r->ud = o->ud;
    r->first_byte_ms = -1;
    r->retry_after_ms = -1;
    r->started_ms = now_ms();
    r->first_byte_timeout_ms = o->first_byte_timeout_ms;
    CURL *e = r->easy;
    if (!e || curl_easy_setopt(e, CURLOPT_URL, o->url) != CURLE_OK) {
        if (e) curl_easy_cleanup(e);
        free(r);
        return NULL;
    }
    for (const char *const *h = o->headers; h && *h; h++)
        r->headers = curl_slist_append(r->headers, *h);
    /* curl would add "Expect: 100-continue" to large POSTs: a round trip for nothing here. */
    r->headers = curl_slist_append(r->headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    if (o->body) {
        r->body = xstrndup(o->body, o->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
    }
    /* HEAD must tell curl not to wait for a body; any other method is sent as named. */
    if (o->method && !strcmp(o->method, "HEAD"))
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (o->method)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     o->connect_timeout_ms ? o->connect_timeout_ms : 10000L);
    if (o->total_timeout_ms) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->total_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (o->allow_address) {
        r->allow_address = o->allow_address;
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
    }
    /* Model answers stream in small pieces; curl's default 16 KiB receive buffer per transfer
     * is most of the memory of ten thousand calls in flight. */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");

    uv_timer_init(c->loop, &r->first_byte);
    r->first_byte.data = r;
    uv_unref((uv_handle_t *)&r->first_byte);
    if (o->first_byte_timeout_ms > 0)
        uv_timer_start(&r->first_byte, first_byte_fire, (uint64_t)o->first_byte_timeout_ms, 0);

    r->next = c->requests;
    if (c->requests) c->requests->prev = r;
    c->requests = r;
    if (c->active++ == 0) uv_ref((uv_handle_t *)&c->keepalive);
    curl_multi_add_handle(c->multi, e);
    return r;
}

void http_request_cancel(http_request_t *r) {
    if (r) req_release(r);
}

size_t http_client_active(const http_client_t *c) { return c->active; }

uv_loop_t *http_client_loop(const http_client_t *c) { return c->loop; }

static void keepalive_noop(uv_async_t *h) { (void)h; }

http_client_t *http_client_new(uv_loop_t *loop) {
    static bool global_init;
    if (!global_init) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_init = true;
    }
    http_client_t *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->multi = curl_multi_init();
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    /* No cap on connections per host: HTTP/1.1 answers one request per connection at a time,
     * so concurrency is connections; finished ones are kept alive and reused. */
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    uv_unref((uv_handle_t *)&c->timer);
    uv_async_init(loop, &c->keepalive, keepalive_noop);
    c->keepalive.data = c;
    uv_unref((uv_handle_t *)&c->keepalive);
    return c;
}

/* libuv runs close callbacks in no promised order: free the client after both handles. */
static void client_closed(uv_handle_t *h) {
    http_client_t *c = h->data;
    if (++c->closed == 2) free(c);
}

void http_client_free(http_client_t *c) {
    if (!c) return;
    while (c->requests) req_release(c->requests);
    curl_multi_cleanup(c->multi); /* closes cached connections: socket_cb REMOVE closes polls */
    uv_close((uv_handle_t *)&c->timer, client_closed);
    uv_close((uv_handle_t *)&c->keepalive, client_closed);
}
