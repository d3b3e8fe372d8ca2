/* fake_openai.c - a native fake OpenAI-compatible server for the router benchmark.
 *
 * The Node fake (tests/fakes/fake_server.mjs) is the protocol reference for the tests, but with
 * 10,000 concurrent connections it spends about a core of its own, so on a two-core machine the
 * benchmark measured the fake as much as Baton. This one is a single-threaded libuv HTTP/1.1
 * server that does only what the benchmark needs:
 *   - POST /v1/chat/completions: after --latency-ms (one uv_timer per request, no threads), a
 *     streamed Chat Completions answer as OpenAI sends it with stream_options.include_usage:
 *     SSE chat.completion.chunk frames (role, a few words of content, finish_reason "stop"),
 *     a usage chunk with empty choices, then "data: [DONE]", in a chunked body;
 *   - any other method or path: 404 with OpenAI's error body (after the same latency).
 * Connections are kept alive and may pipeline; answers go out in request order. Request bodies
 * are skipped, never buffered (their content is ignored). Anything malformed or unsupported
 * (bad request line, no Content-Length with a body, chunked request bodies, oversized headers)
 * closes the connection.
 * bench/check_fake_openai.mjs checks the wire format with the official openai npm SDK.
 *
 * Usage: fake_openai [--port 0] [--latency-ms 1000] [--max-seconds 120]
 *   Binds 127.0.0.1 only. The first stdout line is {"port": N}. Exits after --max-seconds or on
 *   SIGTERM/SIGINT, printing one line of counts and its CPU time to stderr. */
#include <uv.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_HEADER_BYTES (64 * 1024) /* request line + headers; more closes the connection */
#define MAX_PENDING      4096        /* pipelined requests waiting on one connection */

typedef struct conn conn_t;

/* One parsed request waiting for its latency to pass. */
typedef struct req {
    uv_timer_t timer;
    conn_t *conn;
    struct req *next; /* the connection's queue, in arrival order */
    bool ready, found, close_after;
} req_t;

struct conn {
    uv_tcp_t tcp;
    char *buf; /* unparsed bytes of the current request's head */
    size_t len, cap;
    size_t scanned;        /* how far buf was searched for the blank line */
    uint64_t body_left;    /* body bytes still to skip */
    bool close_after_body; /* the request whose body is being skipped asked to close */
    bool found_after_body;
    bool closing;
    bool last_read; /* no more requests will be read: EOF, or one asked to close */
    int refs;       /* the tcp handle + each request timer not yet closed */
    int pending;
    req_t *head, *tail;
};

static struct {
    uv_loop_t *loop;
    uint64_t latency_ms;
    uint64_t accepted, open, peak_open, requests, answered, not_found, bad;
    uint64_t next_id;
    uint64_t t_first_conn, t_last_request, t_last_answer; /* uv_now, ms */
} g;

static char read_buf[64 * 1024]; /* single-threaded: libuv fills it just before on_read */

static void print_stats(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr,
            "fake_openai: %" PRIu64 " connections (peak %" PRIu64 " open), %" PRIu64
            " requests, %" PRIu64 " answered (%" PRIu64 " 404), %" PRIu64
            " closed as malformed; after the first connection, the last request came at %" PRIu64
            " ms and the last answer went at %" PRIu64
            " ms; cpu user %.2f s sys %.2f s, max RSS %ld MB\n",
            g.accepted, g.peak_open, g.requests, g.answered, g.not_found, g.bad,
            g.requests ? g.t_last_request - g.t_first_conn : 0,
            g.answered ? g.t_last_answer - g.t_first_conn : 0,
            ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
            ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss / 1024);
}

static void conn_unref(conn_t *c) {
    if (--c->refs == 0) {
        free(c->buf);
        free(c);
    }
}

static void on_tcp_closed(uv_handle_t *h) {
    g.open--;
    conn_unref(h->data);
}

static void on_timer_closed(uv_handle_t *h) {
    req_t *r = h->data;
    conn_t *c = r->conn;
    free(r);
    conn_unref(c);
}

/* Closes the connection and drops every request still waiting on it. */
static void conn_close(conn_t *c) {
    if (c->closing) return;
    c->closing = true;
    for (req_t *r = c->head, *next; r; r = next) {
        next = r->next;
        uv_timer_stop(&r->timer);
        uv_close((uv_handle_t *)&r->timer, on_timer_closed);
    }
    c->head = c->tail = NULL;
    c->pending = 0;
    uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

/* ------------------------------------------------------------------------------------------ */
/* Answers */

typedef struct {
    uv_write_t w;
    conn_t *conn;
    bool close_after;
    size_t len;
    char data[];
} out_t;

static void on_written(uv_write_t *w, int status) {
    out_t *o = (out_t *)w;
    /* The tcp close callback runs after every write callback, so o->conn is still alive. */
    if ((status < 0 || o->close_after) && !o->conn->closing) conn_close(o->conn);
    free(o);
}

static void send_bytes(conn_t *c, const char *data, size_t len, bool close_after) {
    out_t *o = malloc(sizeof *o + len);
    if (!o) abort();
    memcpy(o->data, data, len);
    o->len = len;
    o->conn = c;
    o->close_after = close_after;
    uv_buf_t b = uv_buf_init(o->data, (unsigned)len);
    if (uv_write(&o->w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
        free(o);
        conn_close(c);
    }
}

/* Appends one HTTP chunk holding an SSE data frame. */
static size_t put_frame(char *out, size_t cap, size_t at, const char *data) {
    size_t n = strlen(data) + 8; /* "data: " + data + "\n\n" */
    int w = snprintf(out + at, cap - at, "%zx\r\ndata: %s\n\n\r\n", n, data);
    return w < 0 || (size_t)w >= cap - at ? cap : at + (size_t)w;
}

static void answer(req_t *r) {
    conn_t *c = r->conn;
    char out[8192];
    size_t at;
    const char *conn_hdr = r->close_after ? "close" : "keep-alive";
    if (!r->found) {
        static const char body[] =
            "{\"error\":{\"message\":\"Invalid URL (this fake serves only POST "
            "/v1/chat/completions)\",\"type\":\"invalid_request_error\",\"param\":null,"
            "\"code\":null}}";
        at = (size_t)snprintf(out, sizeof out,
                              "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                              "Content-Length: %zu\r\nConnection: %s\r\n\r\n%s",
                              sizeof body - 1, conn_hdr, body);
        g.not_found++;
    } else {
        char id[48], chunk[1024];
        snprintf(id, sizeof id, "chatcmpl-native%014" PRIu64, ++g.next_id);
        long created = (long)time(NULL);
        /* The fields every chunk shares, as OpenAI sends them. */
        char base[256];
        snprintf(base, sizeof base,
                 "\"id\":\"%s\",\"object\":\"chat.completion.chunk\",\"created\":%ld,"
                 "\"model\":\"fake-native\",\"service_tier\":\"default\","
                 "\"system_fingerprint\":\"fp_fake0000\"",
                 id, created);
        at =
            (size_t)snprintf(out, sizeof out,
                             "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                             "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n"
                             "x-request-id: req_%s\r\nConnection: %s\r\n\r\n",
                             id + 9, conn_hdr);
        static const char *const deltas[] = {
            "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}",
            "{\"content\":\"Hello\"}",
            "{\"content\":\" from\"}",
            "{\"content\":\" the\"}",
            "{\"content\":\" native\"}",
            "{\"content\":\" fake.\"}",
        };
        for (size_t i = 0; i < sizeof deltas / sizeof *deltas; i++) {
            snprintf(chunk, sizeof chunk,
                     "{%s,\"choices\":[{\"index\":0,\"delta\":%s,\"logprobs\":null,"
                     "\"finish_reason\":null}],\"usage\":null}",
                     base, deltas[i]);
            at = put_frame(out, sizeof out, at, chunk);
        }
        snprintf(chunk, sizeof chunk,
                 "{%s,\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
                 "\"finish_reason\":\"stop\"}],\"usage\":null}",
                 base);
        at = put_frame(out, sizeof out, at, chunk);
        /* Fixed counts: the body is not read, and the benchmark only needs them present. */
        snprintf(chunk, sizeof chunk,
                 "{%s,\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,"
                 "\"total_tokens\":17,\"prompt_tokens_details\":{\"cached_tokens\":0,"
                 "\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,"
                 "\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
                 "\"rejected_prediction_tokens\":0}}}",
                 base);
        at = put_frame(out, sizeof out, at, chunk);
        at = put_frame(out, sizeof out, at, "[DONE]");
        if (at + 5 < sizeof out) {
            memcpy(out + at, "0\r\n\r\n", 5);
            at += 5;
        } else {
            at = sizeof out;
        }
    }
    if (at >= sizeof out) abort(); /* fixed content: cannot happen unless edited wrongly */
    g.answered++;
    g.t_last_answer = uv_now(g.loop);
    send_bytes(c, out, at, r->close_after);
}

/* Sends every answer whose time has come, in request order (HTTP/1.1 pipelining). The
 * connection closes once its last answer is written if no more requests will come. */
static void flush_ready(conn_t *c) {
    while (c->head && c->head->ready && !c->closing) {
        req_t *r = c->head;
        c->head = r->next;
        if (!c->head) c->tail = NULL;
        c->pending--;
        if (!c->head && c->last_read) r->close_after = true;
        answer(r);
        uv_close((uv_handle_t *)&r->timer, on_timer_closed);
    }
}

/* No more requests will be read; close now if none is waiting for its answer. */
static void stop_reading(conn_t *c) {
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->last_read = true;
    if (!c->head)
        conn_close(c);
    else
        c->tail->close_after = true;
}

static void on_latency(uv_timer_t *t) {
    req_t *r = t->data;
    r->ready = true;
    flush_ready(r->conn);
}

static void start_request(conn_t *c, bool found, bool close_after) {
    req_t *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->conn = c;
    r->found = found;
    r->close_after = close_after;
    uv_timer_init(g.loop, &r->timer);
    r->timer.data = r;
    c->refs++;
    if (c->tail)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->pending++;
    g.requests++;
    g.t_last_request = uv_now(g.loop);
    uv_timer_start(&r->timer, on_latency, g.latency_ms, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* Requests */

static bool is_tchar(int ch) { return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch)); }

/* Is the comma-separated header value carrying token tok (case-insensitive)? */
static bool has_token(const char *v, size_t n, const char *tok) {
    size_t tl = strlen(tok);
    for (size_t i = 0; i < n;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t s = i;
        while (i < n && v[i] != ',') i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (e - s == tl && !strncasecmp(v + s, tok, tl)) return true;
    }
    return false;
}

/* Parses one request head (head[0..n) ends with CRLF CRLF). Returns false if malformed. */
static bool parse_head(conn_t *c, const char *head, size_t n, bool *expect_continue) {
    const char *end = head + n, *p = head;
    const char *eol = memchr(p, '\r', (size_t)(end - p));
    if (!eol || eol + 1 >= end || eol[1] != '\n') return false;
    /* Request line: METHOD SP target SP HTTP/1.x */
    const char *m = p;
    while (p < eol && is_tchar((unsigned char)*p)) p++;
    size_t mlen = (size_t)(p - m);
    if (!mlen || p >= eol || *p++ != ' ') return false;
    const char *target = p;
    while (p < eol && *p != ' ') {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) return false;
        p++;
    }
    size_t tlen = (size_t)(p - target);
    if (!tlen || p >= eol || *p++ != ' ') return false;
    if (eol - p != 8 || memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1')) return false;
    bool http10 = p[7] == '0';
    size_t plen = tlen;
    const char *q = memchr(target, '?', tlen);
    if (q) plen = (size_t)(q - target);
    bool found = mlen == 4 && !memcmp(m, "POST", 4) && plen == 20 &&
                 !memcmp(target, "/v1/chat/completions", 20);

    bool have_length = false, keep_alive = false, close = false;
    uint64_t length = 0;
    *expect_continue = false;
    for (p = eol + 2; p < end;) {
        eol = memchr(p, '\r', (size_t)(end - p));
        if (!eol || eol + 1 >= end || eol[1] != '\n') return false;
        if (eol == p) break; /* the blank line */
        const char *name = p;
        while (p < eol && is_tchar((unsigned char)*p)) p++;
        size_t nlen = (size_t)(p - name);
        if (!nlen || p >= eol || *p++ != ':') return false; /* also refuses obs-fold */
        while (p < eol && (*p == ' ' || *p == '\t')) p++;
        const char *v = p, *ve = eol;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        size_t vlen = (size_t)(ve - v);
        for (const char *k = v; k < ve; k++)
            if (*k == '\0' || *k == '\n') return false;
        if (nlen == 14 && !strncasecmp(name, "content-length", 14)) {
            if (!vlen || vlen > 15) return false;
            uint64_t x = 0;
            for (size_t i = 0; i < vlen; i++) {
                if (!isdigit((unsigned char)v[i])) return false;
                x = x * 10 + (uint64_t)(v[i] - '0');
            }
            if (have_length && x != length) return false;
            have_length = true;
            length = x;
        } else if (nlen == 17 && !strncasecmp(name, "transfer-encoding", 17)) {
            return false; /* chunked request bodies: not needed by any client benchmarked */
        } else if (nlen == 10 && !strncasecmp(name, "connection", 10)) {
            if (has_token(v, vlen, "close")) close = true;
            if (has_token(v, vlen, "keep-alive")) keep_alive = true;
        } else if (nlen == 6 && !strncasecmp(name, "expect", 6)) {
            if (vlen == 12 && !strncasecmp(v, "100-continue", 12))
                *expect_continue = true;
            else
                return false;
        }
        p = eol + 2;
    }
    c->body_left = length;
    c->found_after_body = found;
    c->close_after_body = close || (http10 && !keep_alive);
    return true;
}

/* Consumes buf[0..len): skips body bytes, parses heads, starts requests. Returns false when the
 * connection must close (malformed input or too much pipelined). */
static bool take_bytes(conn_t *c, const char *data, size_t len) {
    while (len > 0 && !c->closing) {
        if (c->body_left > 0) {
            size_t skip = c->body_left < len ? (size_t)c->body_left : len;
            c->body_left -= skip;
            data += skip;
            len -= skip;
            if (c->body_left == 0) {
                start_request(c, c->found_after_body, c->close_after_body);
                if (c->close_after_body) { /* the last request on this connection */
                    stop_reading(c);
                    return true;
                }
            }
            continue;
        }
        /* Head bytes: append to the buffer and look for the blank line. */
        size_t want = len;
        if (c->len + want > MAX_HEADER_BYTES) want = MAX_HEADER_BYTES - c->len;
        if (c->len + want > c->cap) {
            size_t cap = c->cap ? c->cap : 1024;
            while (cap < c->len + want) cap *= 2;
            char *nb = realloc(c->buf, cap);
            if (!nb) abort();
            c->buf = nb;
            c->cap = cap;
        }
        memcpy(c->buf + c->len, data, want);
        c->len += want;
        size_t from = c->scanned >= 3 ? c->scanned - 3 : 0, head_end = 0;
        for (size_t i = from; i + 3 < c->len; i++)
            if (c->buf[i] == '\r' && !memcmp(c->buf + i, "\r\n\r\n", 4)) {
                head_end = i + 4;
                break;
            }
        if (!head_end) {
            c->scanned = c->len;
            if (c->len >= MAX_HEADER_BYTES) return false;
            data += want;
            len -= want;
            continue;
        }
        /* The bytes of this read past the head go round the loop again. */
        size_t used = head_end - (c->len - want);
        data += used;
        len -= used;
        bool expect_continue;
        if (!parse_head(c, c->buf, head_end, &expect_continue)) return false;
        c->len = c->scanned = 0;
        if (c->pending >= MAX_PENDING) return false;
        if (c->body_left == 0) {
            start_request(c, c->found_after_body, c->close_after_body);
            if (c->close_after_body) { /* the last request on this connection */
                stop_reading(c);
                return true;
            }
        } else if (expect_continue) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            send_bytes(c, cont, sizeof cont - 1, false);
        }
    }
    return true;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    (void)h;
    (void)suggested;
    *b = uv_buf_init(read_buf, sizeof read_buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    conn_t *c = s->data;
    if (n == UV_EOF && c->body_left == 0 && c->len == 0) { /* half-closed: answer, then close */
        stop_reading(c);
        return;
    }
    if (n < 0) { /* an error, or EOF in the middle of a request */
        conn_close(c);
        return;
    }
    if (n > 0 && !take_bytes(c, b->base, (size_t)n)) {
        g.bad++;
        conn_close(c);
    }
}

static void on_connection(uv_stream_t *server, int status) {
    if (status < 0) return;
    conn_t *c = calloc(1, sizeof *c);
    if (!c) abort();
    uv_tcp_init(g.loop, &c->tcp);
    c->tcp.data = c;
    c->refs = 1;
    g.open++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    if (!g.accepted++) g.t_first_conn = uv_now(g.loop);
    if (g.open > g.peak_open) g.peak_open = g.open;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ------------------------------------------------------------------------------------------ */

static void on_deadline(uv_timer_t *t) {
    (void)t;
    print_stats();
    exit(0);
}

static void on_signal(uv_signal_t *s, int signum) {
    (void)s;
    (void)signum;
    print_stats();
    exit(0);
}

static bool parse_num(const char *s, uint64_t max, uint64_t *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || *s == '-' || v > max) return false;
    *out = v;
    return true;
}

int main(int argc, char **argv) {
    uint64_t port = 0, latency = 1000, max_seconds = 120;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        uint64_t *dst = !strcmp(a, "--port")          ? &port
                        : !strcmp(a, "--latency-ms")  ? &latency
                        : !strcmp(a, "--max-seconds") ? &max_seconds
                                                      : NULL;
        uint64_t max = dst == &port ? 65535 : 86400000;
        if (!dst || i + 1 >= argc || !parse_num(argv[i + 1], max, dst)) {
            fprintf(stderr,
                    "usage: fake_openai [--port 0] [--latency-ms 1000] [--max-seconds 120]\n");
            return 2;
        }
    }
    g.latency_ms = latency;
    signal(SIGPIPE, SIG_IGN);
    /* One descriptor per connection: the benchmark opens many thousands. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    g.loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(g.loop, &server);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", (int)port, &addr);
    int rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&server, 65535, on_connection);
    if (rc < 0) {
        fprintf(stderr, "fake_openai: cannot listen on 127.0.0.1:%" PRIu64 ": %s\n", port,
                uv_strerror(rc));
        return 1;
    }
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &blen);
    printf("{\"port\": %d}\n", ntohs(((struct sockaddr_in *)&bound)->sin_port));
    fflush(stdout);

    uv_timer_t deadline;
    uv_timer_init(g.loop, &deadline);
    uv_timer_start(&deadline, on_deadline, max_seconds * 1000, 0);
    uv_signal_t sigterm, sigint;
    uv_signal_init(g.loop, &sigterm);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_init(g.loop, &sigint);
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_run(g.loop, UV_RUN_DEFAULT);
    return 0;
}
