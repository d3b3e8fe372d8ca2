/* http_load.c - an open-loop, fixed-rate HTTP/1.1 load generator for the REST target of
 * DESIGN.md section 8 (GET at 5,000 req/s on loopback: p99 <= 2 ms).
 *
 * What it promises:
 *   - request i is *scheduled* at start + i/RATE, whatever happened to the earlier ones, and
 *     its latency is measured from that scheduled time to the last byte of its response;
 *   - C keep-alive connections, at most one request in flight on each (no pipelining): a
 *     request that is due while every connection waits on an answer waits for one, and that
 *     wait counts in its latency;
 *   - responses are read by Content-Length (a response without one counts as an error);
 *     status 2xx is a success, anything else, a lost connection or an answer still missing
 *     10 s after the last scheduled send is an error. Latencies are of successes only.
 * Why open loop: a closed-loop client (wrk, ab) sends the next request only when an answer
 * came back, so when the server stalls the client stalls with it and the requests that would
 * have queued up are never sent: a 100 ms pause shows up as one slow request instead of
 * hundreds ("coordinated omission"). A fixed schedule keeps the offered load what the target
 * says, and the percentiles are what users sending at that rate would see.
 * Timing: the schedule is kept by a timerfd (ns resolution, absolute CLOCK_MONOTONIC times)
 * polled on the libuv loop, not by uv_timer's 1 ms ticks, so the generator's own lateness is
 * tens of µs on a quiet machine. It is reported as "send lag p99": scheduled time to write,
 * which also includes waiting for a free connection, so it is the client's own lateness only
 * while the server keeps up: then, when it comes near the p99 latency, the tail is the
 * machine's (the client itself was not scheduled in time), not the server's.
 *
 * Usage: http_load HOST PORT PATH RATE SECONDS CONNECTIONS [any]
 *   "any" counts every complete response as an answer whatever its status: for measuring the
 *   machine's floor against a server that has no such path (bench/fake_openai answers 404).
 * Prints one Markdown table row:
 *   | PATH | rate | requests | errors | achieved req/s | p50 | p90 | p99 | p99.9 | max (ms) |
 *   send lag p99 (ms) | server CPU % | client CPU % |
 * The server's CPU is read from /proc/$SERVER_PID/stat when SERVER_PID is set (else "-"); CPU %
 * is CPU time over the measured wall time (100% = one core). */
#include "bench_clock.h"
#include <uv.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 16384   /* status line + headers of one response */
#define DRAIN_MS 10000.0 /* how long answers may still come after the last scheduled send */

typedef struct conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    bool busy, closing;
    double sched;        /* scheduled time of the request in flight (ms) */
    char head[HEAD_MAX]; /* the response's head, until the blank line */
    size_t head_len;
    bool in_body;
    long long body_left;
    int status;
    char rbuf[65536];
    struct conn *next_idle;
} conn_t;

static struct {
    uv_loop_t *loop;
    struct sockaddr_in addr;
    uv_buf_t request;
    double rate, t0;
    long total, next; /* requests to schedule; the next one to send */
    long ok, errors, in_flight;
    double *lat, *lag, last_done;
    long n_lag;
    conn_t *conns, *idle;
    int n_conns, connected;
    int tfd;
    double armed;    /* the time the timerfd is set for; 0: disarmed */
    bool any_status; /* every complete response is an answer */
    uv_poll_t tick;
    uv_timer_t deadline;
    bool running, done;
} L;

static void finish_if_done(void);
static void pump(void);
static void start_connect(conn_t *c);

static void set_idle(conn_t *c) {
    c->busy = false;
    c->next_idle = L.idle;
    L.idle = c;
}

static void on_closed(uv_handle_t *h) {
    conn_t *c = h->data;
    if (L.running) start_connect(c); /* reconnect: the server closed a keep-alive connection */
}

/* The connection broke or spoke nonsense: the request on it (if any) is an error. */
static void lost(conn_t *c) {
    if (c->closing) return;
    c->closing = true;
    if (c->busy) {
        L.errors++;
        L.in_flight--;
        c->busy = false;
    } else {
        for (conn_t **p = &L.idle; *p; p = &(*p)->next_idle)
            if (*p == c) {
                *p = c->next_idle;
                break;
            }
    }
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    finish_if_done();
}

static void on_write(uv_write_t *w, int status) {
    if (status < 0 && status != UV_ECANCELED) lost(w->data);
    free(w);
}

static void send_request(conn_t *c, double sched) {
    c->busy = true;
    c->sched = sched;
    c->head_len = 0;
    c->in_body = false;
    L.in_flight++;
    if (L.n_lag < L.total) L.lag[L.n_lag++] = now_ms() - sched;
    uv_write_t *w = malloc(sizeof *w); /* its own: the last one's callback may still be due */
    w->data = c;
    if (uv_write(w, (uv_stream_t *)&c->tcp, &L.request, 1, on_write) < 0) {
        free(w);
        lost(c);
    }
}

static void response_done(conn_t *c) {
    if (!c->busy) return; /* an answer nobody asked for: ignored */
    double t = now_ms();
    if ((c->status >= 200 && c->status < 300) || (L.any_status && c->status > 0))
        L.lat[L.ok++] = t - c->sched;
    else
        L.errors++;
    L.last_done = t;
    L.in_flight--;
    set_idle(c);
    pump();
    finish_if_done();
}

/* Parses the head once the blank line is in: status and Content-Length. */
static bool parse_head(conn_t *c, size_t head_bytes) {
    c->head[head_bytes - 1] = 0;
    if (strncmp(c->head, "HTTP/1.", 7) || head_bytes < 13) return false;
    c->status = atoi(c->head + 9);
    for (char *p = c->head; (p = strstr(p, "\r\n")); p += 2)
        if (!strncasecmp(p + 2, "content-length:", 15)) {
            c->body_left = strtoll(p + 17, NULL, 10);
            return c->body_left >= 0;
        }
    return false; /* chunked or close-delimited: not what this tool reads */
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    conn_t *c = s->data;
    if (nread < 0) {
        lost(c);
        return;
    }
    const char *p = buf->base;
    size_t n = (size_t)nread;
    while (n > 0 && !c->closing) {
        if (!c->in_body) {
            size_t room = sizeof c->head - c->head_len, take = n < room ? n : room;
            if (!take) {
                lost(c);
                return;
            }
            memcpy(c->head + c->head_len, p, take);
            size_t from = c->head_len > 3 ? c->head_len - 3 : 0;
            c->head_len += take;
            char *end = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
            if (!end) {
                p += take;
                n -= take;
                continue;
            }
            size_t head_bytes = (size_t)(end + 4 - c->head), extra = c->head_len - head_bytes;
            p += take - extra;
            n -= take - extra;
            if (!parse_head(c, head_bytes)) {
                lost(c);
                return;
            }
            c->in_body = true;
        }
        size_t take = (long long)n < c->body_left ? n : (size_t)c->body_left;
        p += take;
        n -= take;
        c->body_left -= (long long)take;
        if (c->body_left == 0) {
            c->in_body = false;
            c->head_len = 0;
            response_done(c);
        }
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    conn_t *c = h->data;
    *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_connect(uv_connect_t *req, int status) {
    conn_t *c = req->data;
    if (status < 0) {
        fprintf(stderr, "http_load: connect: %s\n", uv_strerror(status));
        exit(1);
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    L.connected++;
    set_idle(c);
    if (L.running) pump();
}

static void start_connect(conn_t *c) {
    c->closing = c->busy = false;
    uv_tcp_init(L.loop, &c->tcp);
    c->tcp.data = c->connect.data = c;
    uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&L.addr, on_connect);
}

static double sched_of(long i) { return L.t0 + (double)i * 1000.0 / L.rate; }

/* Sends what is due on the idle connections, then sets the timer for the next scheduled send
 * (none while due requests wait for a connection: an answer will call pump again). */
static void pump(void) {
    double t = now_ms();
    while (L.next < L.total && sched_of(L.next) <= t && L.idle) {
        conn_t *c = L.idle;
        L.idle = c->next_idle;
        send_request(c, sched_of(L.next++));
    }
    double at = L.next < L.total && sched_of(L.next) > t ? sched_of(L.next) : 0;
    if (at == L.armed) return; /* (a syscall saved on most answers) */
    L.armed = at;
    struct itimerspec its = {0};
    if (at > 0) {
        its.it_value.tv_sec = (time_t)(at / 1e3);
        its.it_value.tv_nsec = (long)((at - (double)its.it_value.tv_sec * 1e3) * 1e6);
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec) its.it_value.tv_nsec = 1;
    }
    timerfd_settime(L.tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_tick(uv_poll_t *h, int status, int events) {
    uint64_t expirations;
    if (read(L.tfd, &expirations, sizeof expirations) < 0) { /* not yet due: spurious */
    }
    L.armed = 0; /* it fired */
    pump();
}

static void stop_all(void) {
    L.running = false;
    L.done = true;
    uv_stop(L.loop);
}

static void finish_if_done(void) {
    if (L.running && L.next == L.total && L.in_flight == 0) stop_all();
}

static void on_deadline(uv_timer_t *t) {
    L.errors += (L.total - L.next) + L.in_flight; /* never sent, or never answered */
    stop_all();
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p) {
    if (n == 0) return 0;
    long i = (long)ceil(p * (double)n) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static void close_cb(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

int main(int argc, char **argv) {
    if (argc != 7 && !(argc == 8 && !strcmp(argv[7], "any"))) {
        fprintf(stderr, "usage: http_load HOST PORT PATH RATE SECONDS CONNECTIONS [any]\n");
        return 2;
    }
    const char *host = argv[1], *path = argv[3];
    int port = atoi(argv[2]);
    L.rate = atof(argv[4]);
    double seconds = atof(argv[5]);
    L.n_conns = atoi(argv[6]);
    L.any_status = argc == 8;
    if (port <= 0 || L.rate <= 0 || seconds <= 0 || L.n_conns <= 0 ||
        uv_ip4_addr(host, port, &L.addr) != 0) {
        fprintf(stderr, "http_load: bad arguments (HOST is an IPv4 address)\n");
        return 2;
    }
    L.total = (long)(L.rate * seconds);
    L.lat = calloc((size_t)L.total, sizeof *L.lat);
    L.lag = calloc((size_t)L.total, sizeof *L.lag);
    char *req = malloc(strlen(path) + strlen(host) + 64);
    int len = sprintf(req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);
    L.request = uv_buf_init(req, (unsigned)len);

    uv_loop_t loop;
    uv_loop_init(&loop);
    L.loop = &loop;
    L.conns = calloc((size_t)L.n_conns, sizeof *L.conns);
    for (int i = 0; i < L.n_conns; i++) start_connect(&L.conns[i]);
    while (L.connected < L.n_conns) uv_run(&loop, UV_RUN_ONCE); /* all open before the clock */

    L.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    uv_poll_init(&loop, &L.tick, L.tfd);
    uv_poll_start(&L.tick, UV_READABLE, on_tick);
    uv_timer_init(&loop, &L.deadline);
    uv_timer_start(&L.deadline, on_deadline, (uint64_t)(seconds * 1e3 + DRAIN_MS), 0);
    const char *server_pid = getenv("SERVER_PID");
    double srv0 = cpu_of_pid_s(server_pid), cli0 = cpu_self_s();
    L.running = true;
    L.t0 = now_ms();
    pump();
    uv_run(&loop, UV_RUN_DEFAULT);
    double wall_s = ((L.last_done > L.t0 ? L.last_done : now_ms()) - L.t0) / 1e3;
    double srv1 = cpu_of_pid_s(server_pid), cli1 = cpu_self_s();

    qsort(L.lat, (size_t)L.ok, sizeof *L.lat, cmp_double);
    qsort(L.lag, (size_t)L.n_lag, sizeof *L.lag, cmp_double);
    char srv_pct[32] = "-";
    if (srv0 >= 0 && srv1 >= 0)
        snprintf(srv_pct, sizeof srv_pct, "%.0f", (srv1 - srv0) / wall_s * 100);
    printf(
        "| %s | %.0f | %ld | %ld | %.0f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %s | %.0f |\n",
        path, L.rate, L.total, L.errors, (double)L.ok / wall_s, pct(L.lat, L.ok, 0.5),
        pct(L.lat, L.ok, 0.9), pct(L.lat, L.ok, 0.99), pct(L.lat, L.ok, 0.999),
        L.ok ? L.lat[L.ok - 1] : 0.0, pct(L.lag, L.n_lag, 0.99), srv_pct,
        (cli1 - cli0) / wall_s * 100);

    uv_walk(&loop, close_cb, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    close(L.tfd);
    free(L.conns);
    free(L.lat);
    free(L.lag);
    free(req);
    return L.errors ? 1 : 0;
}
