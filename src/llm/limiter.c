#include "llm/limiter.h"
#include "util/xalloc.h"

#include <stdlib.h>

typedef struct waiter {
    void *who;
    uint64_t deadline;
    struct waiter *next;
} waiter_t;

struct limiter {
    uv_loop_t *loop;
    uv_timer_t timer;       /* runs while someone waits: refills, grants, expires */
    int max_concurrency, in_flight;
    double rpm, tokens, capacity;
    uint64_t refilled_at, queue_timeout_ms;
    waiter_t *head, *tail;
    size_t queued;
    limiter_fn grant, expire;
};

static void refill(limiter_t *l) {
    if (l->rpm <= 0) return;
    uint64_t now = uv_now(l->loop);
    l->tokens += (double)(now - l->refilled_at) * l->rpm / 60000.0;
    if (l->tokens > l->capacity) l->tokens = l->capacity;
    l->refilled_at = now;
}

static bool has_slot(limiter_t *l) {
    refill(l);
    return (l->max_concurrency <= 0 || l->in_flight < l->max_concurrency) &&
           (l->rpm <= 0 || l->tokens >= 1.0);
}

static void take(limiter_t *l) {
    l->in_flight++;
    if (l->rpm > 0) l->tokens -= 1.0;
}

static void pump(limiter_t *l);

static void timer_cb(uv_timer_t *t) { pump(t->data); }

/* Grants slots to waiters in order, expires the overdue, and re-arms the timer while any wait. */
static void pump(limiter_t *l) {
    uint64_t now = uv_now(l->loop);
    while (l->head) {
        waiter_t *w = l->head;
        bool grant = has_slot(l), expired = !grant && now >= w->deadline;
        if (!grant && !expired) break;
        l->head = w->next;
        if (!l->head) l->tail = NULL;
        l->queued--;
        void *who = w->who;
        free(w);
        if (grant) {
            take(l);
            l->grant(who);
        } else {
            l->expire(who);
        }
    }
    if (!l->head) {
        uv_timer_stop(&l->timer);
        return;
    }
    /* Wake for the next token, or the head's deadline, whichever comes first. */
    uint64_t wait = l->head->deadline > now ? l->head->deadline - now : 0;
    if (l->rpm > 0 && l->tokens < 1.0) {
        uint64_t token = (uint64_t)((1.0 - l->tokens) * 60000.0 / l->rpm) + 1;
        if (token < wait) wait = token;
    }
    uv_timer_start(&l->timer, timer_cb, wait, 0);
}

limiter_t *limiter_new(uv_loop_t *loop, int max_concurrency, double requests_per_minute,
                       uint64_t queue_timeout_ms, limiter_fn grant, limiter_fn expire) {
    limiter_t *l = xcalloc(1, sizeof *l);
    l->loop = loop;
    l->max_concurrency = max_concurrency;
    l->rpm = requests_per_minute;
    l->capacity = requests_per_minute > 6 ? requests_per_minute / 6 : 1;
    l->tokens = l->capacity;
    l->refilled_at = uv_now(loop);
    l->queue_timeout_ms = queue_timeout_ms;
    l->grant = grant;
    l->expire = expire;
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    return l;
}

static void timer_closed(uv_handle_t *h) { free(h->data); }

void limiter_free(limiter_t *l) {
    if (!l) return;
    while (l->head) {
        waiter_t *w = l->head;
        l->head = w->next;
        free(w);
    }
    uv_close((uv_handle_t *)&l->timer, timer_closed);
}

bool limiter_try(limiter_t *l) {
    if (l->head || !has_slot(l)) return false; /* FIFO: nobody overtakes a waiter */
    take(l);
    return true;
}

/* Grants and expiries happen on a later loop turn, never inside the caller's own call (the
 * router is in the middle of a call when it waits or releases). */
static void pump_soon(limiter_t *l) {
    if (l->head) uv_timer_start(&l->timer, timer_cb, 0, 0);
}

void limiter_wait(limiter_t *l, void *who) {
    waiter_t *w = xcalloc(1, sizeof *w);
    w->who = who;
    w->deadline = uv_now(l->loop) + l->queue_timeout_ms;
    if (l->tail) l->tail->next = w;
    else l->head = w;
    l->tail = w;
    l->queued++;
    pump_soon(l);
}

void limiter_forget(limiter_t *l, void *who) {
    for (waiter_t **p = &l->head, *prev = NULL; *p; prev = *p, p = &(*p)->next) {
        if ((*p)->who != who) continue;
        waiter_t *w = *p;
        *p = w->next;
        if (l->tail == w) l->tail = prev;
        l->queued--;
        free(w);
        if (!l->head) uv_timer_stop(&l->timer); /* nobody waits: nothing keeps the loop alive */
        return;
    }
}

void limiter_release(limiter_t *l) {
    if (l->in_flight > 0) l->in_flight--;
    pump_soon(l);
}

json_t *limiter_describe(const limiter_t *l) {
    return json_pack("{s:i, s:f, s:i, s:I}", "max_concurrency", l->max_concurrency,
                     "requests_per_minute", l->rpm, "in_flight", l->in_flight, "queued",
                     (json_int_t)l->queued);
}
