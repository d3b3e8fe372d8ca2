/* ws_fanout.c - WebSocket fan-out for the target of DESIGN.md section 8 (>= 100,000 messages/s
 * to 1,000 clients), and the clients held open for the RSS-with-1,000-connections figure.
 *
 * N clients on one libuv loop, each a raw TCP connection speaking just enough RFC 6455: the
 * upgrade request (the 101 status is checked, not Sec-WebSocket-Accept), masked text frames
 * out, unmasked frames in (any length, fragmented or not), pings answered with pongs. Raw
 * sockets rather than a libwebsockets client so that the client's own cost per message is a
 * frame header and two memmem calls: on a two-core machine every cycle the client spends is
 * taken from the server. All N connect and finish the handshake before the clock starts.
 *
 * Modes:
 *   replay RUN_ID [EXPECTED]  every client subscribes to run:RUN_ID with after 0 at once (the
 *       clock starts at the first subscribe) and reads until run.completed: the run's journal
 *       replayed to each client (a finished run: bench/run.sh waits for it).
 *   live BODY_FILE [EXPECTED] every client subscribes to "*" (the snapshot, no replay); once all
 *       have their "subscribed", the run in BODY_FILE is started (POST /api/v1/runs, the clock
 *       starts) and each client reads until run.completed: events fanned out as the engine
 *       commits them (so the engine's own time is in the figure).
 *   hold SECONDS              every client subscribes to "system" (idle: nothing is sent), then
 *       "held N" is printed and the connections stay open SECONDS (bench/run.sh reads the
 *       server's RSS meanwhile).
 * Checks: each client's events must carry seqs 1, 2, 3... with no gap or repeat and end with
 * run.completed; with EXPECTED (the journal's event count), each must have exactly that many.
 * A client failing either, cut off, or not done within 60 s counts in "failed".
 *
 * Usage: ws_fanout HOST PORT CLIENTS replay RUN_ID [EXPECTED]
 *        ws_fanout HOST PORT CLIENTS live BODY_FILE [EXPECTED]
 *        ws_fanout HOST PORT CLIENTS hold SECONDS
 * replay and live print one Markdown table row:
 *   | mode | clients | messages/client | total messages | seconds | messages/s | failed |
 *   connect s | server CPU % | client CPU % |
 * (server CPU from /proc/$SERVER_PID/stat when SERVER_PID is set; 100% = one core). */
#include "bench_clock.h"
#include <uv.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 60000
#define HEAD_MAX    8192

enum mode { REPLAY, LIVE, HOLD };
enum state { CONNECTING, HANDSHAKE, OPEN, DONE, FAILED };

typedef struct client {
    uv_tcp_t tcp;
    uv_connect_t connect;
    enum state state;
    char *buf; /* bytes of an incomplete head or frame, kept between reads */
    size_t len, cap;
    long msgs;
    uint64_t last_seq;
    bool subscribed, bad_seq;
} client_t;

static struct {
    uv_loop_t *loop;
    struct sockaddr_in addr;
    const char *host;
    int port;
    enum mode mode;
    const char *arg;
    long expected;
    int n, open, subscribed, finished, failed;
    client_t *clients;
    double t_connect, t_open, t0, t_last;
    double srv0, cli0;
    const char *server_pid;
    char *body; /* live: the POST */
    size_t body_len;
    uv_tcp_t post;
    uv_connect_t post_connect;
    char post_head[64];
    size_t post_len;
    uv_timer_t timer;
    bool all_open, all_subscribed, stopped;
    const char *first_error;
} F;

static char rbuf[256 * 1024]; /* one loop, one read at a time */

typedef struct wreq {
    uv_write_t req;
    char bytes[];
} wreq_t;

static void on_written(uv_write_t *w, int status) { free(w); }

static void send_raw(uv_stream_t *s, const void *bytes, size_t len) {
    wreq_t *w = malloc(sizeof *w + len);
    memcpy(w->bytes, bytes, len);
    uv_buf_t b = uv_buf_init(w->bytes, (unsigned)len);
    if (uv_write(&w->req, s, &b, 1, on_written) < 0) free(w);
}

/* A client frame: FIN, the opcode, a mask (required from clients; a fixed key will do). */
static void send_frame(client_t *c, int opcode, const char *payload, size_t len) {
    static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    unsigned char *f = malloc(len + 14);
    size_t h = 0;
    f[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        f[h++] = (unsigned char)(0x80 | len);
    } else {
        f[h++] = 0x80 | 126;
        f[h++] = (unsigned char)(len >> 8);
        f[h++] = (unsigned char)len;
    }
    memcpy(f + h, key, 4);
    h += 4;
    for (size_t i = 0; i < len; i++) f[h + i] = (unsigned char)payload[i] ^ key[i % 4];
    send_raw((uv_stream_t *)&c->tcp, f, h + len);
    free(f);
}

static void stop(void) {
    if (F.stopped) return;
    F.stopped = true;
    uv_stop(F.loop);
}

static void progress(void);

static void client_finished(client_t *c, bool ok, const char *why) {
    if (c->state == DONE || c->state == FAILED) return;
    c->state = ok ? DONE : FAILED;
    if (!ok) {
        F.failed++;
        if (!F.first_error) F.first_error = why;
    }
    F.finished++;
    F.t_last = now_ms();
    if (F.finished == F.n && F.mode != HOLD)
        stop();
    else if (!ok)
        progress();
}

static void start_post(void);

static void subscribe_all(void) {
    char msg[512];
    if (F.mode == REPLAY)
        snprintf(msg, sizeof msg,
                 "{\"op\":\"subscribe\",\"topics\":[\"run:%s\"],\"after\":{\"run:%s\":0}}", F.arg,
                 F.arg);
    else
        snprintf(msg, sizeof msg, "{\"op\":\"subscribe\",\"topics\":[\"%s\"]}",
                 F.mode == LIVE ? "*" : "system");
    F.t0 = now_ms();
    F.srv0 = cpu_of_pid_s(F.server_pid);
    F.cli0 = cpu_self_s();
    for (int i = 0; i < F.n; i++)
        if (F.clients[i].state == OPEN) send_frame(&F.clients[i], 1, msg, strlen(msg));
}

static void on_hold_over(uv_timer_t *t) { stop(); }

static void all_subscribed(void) {
    if (F.mode == LIVE) {
        start_post();
    } else if (F.mode == HOLD) {
        printf("held %d clients (%d failed), connected in %.2f s\n", F.subscribed, F.failed,
               (F.t_open - F.t_connect) / 1e3);
        fflush(stdout);
        uv_timer_stop(&F.timer);
        uv_timer_start(&F.timer, on_hold_over, (uint64_t)(atof(F.arg) * 1e3), 0);
    }
}

/* Moves to the next phase once every client is open (or failed), then once every client has
 * its "subscribed" (live and hold; replay's clock is already running). */
static void progress(void) {
    if (!F.all_open && F.open + F.failed == F.n) {
        F.all_open = true;
        F.t_open = now_ms();
        if (F.open)
            subscribe_all();
        else
            stop();
    } else if (F.all_open && !F.all_subscribed && F.mode != REPLAY &&
               F.subscribed + F.failed == F.n) {
        F.all_subscribed = true;
        if (F.subscribed)
            all_subscribed();
        else
            stop();
    }
}

static bool has(const char *p, size_t n, const char *needle) {
    return memmem(p, n, needle, strlen(needle)) != NULL;
}

/* One text message (its first frame). "type" is the first key the server writes, and the
 * event's own "seq" comes before its "data", so the first occurrences are the right ones. */
static void on_message(client_t *c, const char *p, size_t n) {
    size_t head = n < 48 ? n : 48;
    if (has(p, head, "\"type\":\"subscribed\"")) {
        if (c->subscribed) return;
        c->subscribed = true;
        F.subscribed++;
        progress();
        return;
    }
    if (has(p, head, "\"type\":\"error\"")) {
        if (!F.first_error) /* the first one tells; the count is in the row */
            fprintf(stderr, "ws_fanout: server error: %.*s\n", (int)(n < 300 ? n : 300), p);
        client_finished(c, false, "error message from the server");
        return;
    }
    if (F.mode == HOLD) return;
    c->msgs++;
    const char *s = memmem(p, n, "\"seq\":", 6);
    uint64_t seq = s ? strtoull(s + 6, NULL, 10) : 0;
    if (seq != c->last_seq + 1) c->bad_seq = true;
    c->last_seq = seq;
    if (has(p, head, "\"type\":\"run.completed\"")) {
        bool ok = !c->bad_seq && (F.expected <= 0 || c->msgs == F.expected);
        client_finished(c, ok,
                        c->bad_seq ? "events out of order, missing or repeated"
                                   : "event count differs from the journal's");
    }
}

static void on_handshake_done(client_t *c) {
    c->state = OPEN;
    F.open++;
    progress();
}

/* Consumes what it can of p[0..n): the 101 head, then whole frames; returns the bytes used. */
static size_t consume(client_t *c, const char *p, size_t n) {
    size_t used = 0;
    if (c->state == FAILED) return n; /* not read any more */
    if (c->state == HANDSHAKE) {
        const char *end = memmem(p, n, "\r\n\r\n", 4);
        if (!end) {
            if (n > HEAD_MAX) client_finished(c, false, "handshake head too long");
            return 0;
        }
        if (strncmp(p, "HTTP/1.1 101", 12)) {
            if (!F.first_error) /* the first one tells; the count is in the row */
                fprintf(stderr, "ws_fanout: upgrade refused: %.*s\n", (int)(end - p), p);
            client_finished(c, false, "upgrade refused");
            return n;
        }
        used = (size_t)(end + 4 - p);
        on_handshake_done(c);
    }
    while (n - used >= 2 && (c->state == OPEN || c->state == DONE)) {
        const unsigned char *f = (const unsigned char *)p + used;
        size_t avail = n - used, h = 2;
        uint64_t len = f[1] & 0x7f;
        if (len == 126) {
            if (avail < 4) break;
            len = (uint64_t)f[2] << 8 | f[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10) break;
            len = 0;
            for (int i = 2; i < 10; i++) len = len << 8 | f[i];
            h = 10;
        }
        if (f[1] & 0x80) {
            client_finished(c, false, "masked frame from the server");
            return n;
        }
        if (avail - h < len) break;
        const char *payload = (const char *)f + h;
        int opcode = f[0] & 0x0f;
        if (opcode == 1)
            on_message(c, payload, (size_t)len); /* continuations: not new messages */
        else if (opcode == 9)
            send_frame(c, 10, payload, (size_t)len);
        else if (opcode == 8 && c->state != DONE) {
            if (!F.first_error) /* the first one tells; the count is in the row */
                fprintf(stderr, "ws_fanout: closed by the server: %.*s\n",
                        (int)(len > 2 ? len - 2 : 0), payload + 2);
            client_finished(c, false, "closed by the server");
        }
        used += h + (size_t)len;
    }
    return used;
}

static void keep(client_t *c, const char *p, size_t n) {
    if (!n) return;
    if (c->len + n > c->cap) {
        c->cap = (c->len + n) * 2;
        c->buf = realloc(c->buf, c->cap);
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    *buf = uv_buf_init(rbuf, sizeof rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    client_t *c = s->data;
    if (nread < 0) {
        client_finished(c, false, "connection closed");
        uv_read_stop(s);
        return;
    }
    if (c->len) { /* a partial frame waits: add to it */
        keep(c, buf->base, (size_t)nread);
        size_t used = consume(c, c->buf, c->len);
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    } else {
        size_t used = consume(c, buf->base, (size_t)nread);
        keep(c, buf->base + used, (size_t)nread - used);
    }
}

static void on_connect(uv_connect_t *req, int status) {
    client_t *c = req->data;
    if (status < 0) {
        if (!F.first_error) /* the first one tells; the count is in the row */
            fprintf(stderr, "ws_fanout: connect: %s\n", uv_strerror(status));
        client_finished(c, false, "connect failed");
        return;
    }
    c->state = HANDSHAKE;
    char hs[512];
    int len = snprintf(hs, sizeof hs,
                       "GET /api/v1/ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n",
                       F.host, F.port);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    send_raw((uv_stream_t *)&c->tcp, hs, (size_t)len);
}

/* live: the POST that starts the run; only its status line is checked. */
static void on_post_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    if (nread < 0) {
        uv_read_stop(s);
        if (!F.post_len) {
            fprintf(stderr, "ws_fanout: POST /api/v1/runs: no answer\n");
            stop();
        }
        return;
    }
    size_t room = sizeof F.post_head - 1 - F.post_len,
           take = (size_t)nread < room ? (size_t)nread : room;
    bool had = F.post_len >= 12;
    memcpy(F.post_head + F.post_len, buf->base, take);
    F.post_len += take;
    if (!had && F.post_len >= 12 && strncmp(F.post_head, "HTTP/1.1 201", 12)) {
        fprintf(stderr, "ws_fanout: POST /api/v1/runs answered %.12s\n", F.post_head);
        stop();
    }
}

static void on_post_connect(uv_connect_t *req, int status) {
    if (status < 0) {
        fprintf(stderr, "ws_fanout: POST connect: %s\n", uv_strerror(status));
        stop();
        return;
    }
    uv_read_start((uv_stream_t *)&F.post, on_alloc, on_post_read);
    send_raw((uv_stream_t *)&F.post, F.body, F.body_len);
}

static void start_post(void) {
    F.t0 = now_ms(); /* the clock of the live figure starts with the run */
    F.srv0 = cpu_of_pid_s(F.server_pid);
    F.cli0 = cpu_self_s();
    uv_tcp_init(F.loop, &F.post);
    uv_tcp_nodelay(&F.post, 1);
    uv_tcp_connect(&F.post_connect, &F.post, (const struct sockaddr *)&F.addr, on_post_connect);
}

static bool read_body(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char *json = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[65536];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n > cap) json = realloc(json, cap = (len + n) * 2);
        memcpy(json + len, chunk, n);
        len += n;
    }
    fclose(f);
    F.body = malloc(len + 256);
    int h =
        snprintf(F.body, 256,
                 "POST /api/v1/runs HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                 F.host, F.port, len);
    memcpy(F.body + h, json, len);
    F.body_len = (size_t)h + len;
    free(json);
    return true;
}

static void on_deadline(uv_timer_t *t) {
    for (int i = 0; i < F.n; i++) client_finished(&F.clients[i], false, "not done within 60 s");
    stop();
}

static void print_row(void) {
    const char *mode = F.mode == REPLAY ? "replay" : "live";
    if (!F.t0 || F.t_last <= F.t0) { /* nothing was measured */
        printf("| %s | %d | - | 0 | - | - | %d | - | - | - |\n", mode, F.n, F.failed);
        return;
    }
    double secs = (F.t_last - F.t0) / 1e3;
    double srv1 = cpu_of_pid_s(F.server_pid), cli1 = cpu_self_s();
    long total = 0, lo = -1, hi = 0;
    for (int i = 0; i < F.n; i++) {
        long m = F.clients[i].msgs;
        total += m;
        if (lo < 0 || m < lo) lo = m;
        if (m > hi) hi = m;
    }
    char per[48], srv[32] = "-";
    if (lo == hi)
        snprintf(per, sizeof per, "%ld", lo);
    else
        snprintf(per, sizeof per, "%ld-%ld", lo, hi);
    if (F.srv0 >= 0 && srv1 >= 0) snprintf(srv, sizeof srv, "%.0f", (srv1 - F.srv0) / secs * 100);
    printf("| %s | %d | %s | %ld | %.3f | %.0f | %d | %.2f | %s | %.0f |\n", mode, F.n, per, total,
           secs, (double)total / secs, F.failed, (F.t_open - F.t_connect) / 1e3, srv,
           (cli1 - F.cli0) / secs * 100);
}

static void close_cb(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: ws_fanout HOST PORT CLIENTS replay RUN_ID [EXPECTED]\n"
                        "       ws_fanout HOST PORT CLIENTS live BODY_FILE [EXPECTED]\n"
                        "       ws_fanout HOST PORT CLIENTS hold SECONDS\n");
        return 2;
    }
    F.host = argv[1];
    F.port = atoi(argv[2]);
    F.n = atoi(argv[3]);
    F.mode = !strcmp(argv[4], "replay") ? REPLAY : !strcmp(argv[4], "live") ? LIVE : HOLD;
    F.arg = argv[5];
    F.expected = argc > 6 ? atol(argv[6]) : 0;
    F.server_pid = getenv("SERVER_PID");
    if (F.n <= 0 || uv_ip4_addr(F.host, F.port, &F.addr) != 0 ||
        (F.mode == HOLD && strcmp(argv[4], "hold"))) {
        fprintf(stderr, "ws_fanout: bad arguments (HOST is an IPv4 address)\n");
        return 2;
    }
    if (F.mode == LIVE && !read_body(F.arg)) {
        fprintf(stderr, "ws_fanout: cannot read %s\n", F.arg);
        return 2;
    }
    /* A file descriptor per client: take the hard limit, as the server does. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    F.loop = &loop;
    uv_timer_init(&loop, &F.timer);
    uv_timer_start(&F.timer, on_deadline, DEADLINE_MS, 0);
    F.clients = calloc((size_t)F.n, sizeof *F.clients);
    F.t_connect = now_ms();
    for (int i = 0; i < F.n; i++) {
        client_t *c = &F.clients[i];
        uv_tcp_init(&loop, &c->tcp);
        uv_tcp_nodelay(&c->tcp, 1);
        c->tcp.data = c->connect.data = c;
        uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&F.addr, on_connect);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (F.mode != HOLD) print_row();
    if (F.first_error)
        fprintf(stderr, "ws_fanout: %d client(s) failed; first: %s\n", F.failed, F.first_error);

    uv_walk(&loop, close_cb, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    for (int i = 0; i < F.n; i++) free(F.clients[i].buf);
    free(F.clients);
    free(F.body);
    return F.failed ? 1 : 0;
}
