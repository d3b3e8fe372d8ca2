/* limiter.c - concurrency and rate limits with a FIFO queue (see limiter.h). */
#include "llm/limiter.h"
#include "util/xalloc.h"

#include <stdlib.h>

/* A token bucket refilled continuously; `level` may go below zero (a debt) after a charge
 * bigger than what was there. per_minute <= 0: no limit. */
typedef struct bucket {
    double per_minute, level, capacity;
    uint64_t refilled_at;
} bucket_t;

static void bucket_init(bucket_t *b, double per_minute, uint64_t now) {
    b->per_minute = per_minute;
    b->capacity = per_minute > 6 ? per_minute / 6 : 1; /* ten seconds' worth */
    b->level = b->capacity;
    b->refilled_at = now;
}

static void bucket_refill(bucket_t *b, uint64_t now) {
    if (b->per_minute <= 0) return;
    b->level += (double)(now - b->refilled_at) * b->per_minute / 60000.0;
    if (b->level > b->capacity) b->level = b->capacity;
    b->refilled_at = now;
}

/* What must be in the bucket before a charge of `cost`: all of it, or a full bucket. */
static double bucket_needs(const bucket_t *b, double cost) {
    return cost < b->capacity ? cost : b->capacity;
}

static bool bucket_ready(const bucket_t *b, double cost) {
    return b->per_minute <= 0 || b->level >= bucket_needs(b, cost);
}

static void bucket_take(bucket_t *b, double cost) {
    if (b->per_minute > 0) b->level -= cost;
}

static void bucket_credit(bucket_t *b, double amount) {
    if (b->per_minute <= 0) return;
    b->level += amount;
    if (b->level > b->capacity) b->level = b->capacity;
}

/* Milliseconds until a charge of `cost` could be taken (0: now). */
static uint64_t bucket_wait_ms(const bucket_t *b, double cost) {
    if (bucket_ready(b, cost)) return 0;
    return (uint64_t)((bucket_needs(b, cost) - b->level) * 60000.0 / b->per_minute) + 1;
}

typedef struct waiter {
    void *who;
    int64_t tokens;
    uint64_t deadline;
    struct waiter *next;
} waiter_t;

struct limiter {
    uv_loop_t *loop;
    uv_timer_t timer; /* runs while someone waits: refills, grants, expires */
    int max_concurrency, in_flight;
    bucket_t requests, tokens;
    uint64_t queue_timeout_ms;
    waiter_t *head, *tail;
    size_t queued;
    limiter_fn grant, expire;
};

static bool has_slot(limiter_t *l, int64_t tokens) {
    uint64_t now = uv_now(l->loop);
    bucket_refill(&l->requests, now);
    bucket_refill(&l->tokens, now);
    return (l->max_concurrency <= 0 || l->in_flight < l->max_concurrency) &&
           bucket_ready(&l->requests, 1) && bucket_ready(&l->tokens, (double)tokens);
}

static void take(limiter_t *l, int64_t tokens) {
    l->in_flight++;
    bucket_take(&l->requests, 1);
    bucket_take(&l->tokens, (double)tokens);
}

static void pump(limiter_t *l);

static void timer_cb(uv_timer_t *t) { pump(t->data); }

/* Grants slots to waiters in order, expires the overdue, and re-arms the timer while any wait. */
static void pump(limiter_t *l) {
    uint64_t now = uv_now(l->loop);
    while (l->head) {
        waiter_t *w = l->head;
        bool grant = has_slot(l, w->tokens), expired = !grant && now >= w->deadline;
        if (!grant && !expired) break;
        l->head = w->next;
        if (!l->head) l->tail = NULL;
        l->queued--;
        void *who = w->who;
        int64_t tokens = w->tokens;
        free(w);
        if (grant) {
            take(l, tokens);
            l->grant(who);
        } else {
            l->expire(who);
        }
    }
    if (!l->head) {
        uv_timer_stop(&l->timer);
        return;
    }
    /* Wake when the head's buckets have refilled enough, or at its deadline, whichever is
     * first (a free concurrency slot wakes the queue through limiter_release). */
    uint64_t wait = l->head->deadline > now ? l->head->deadline - now : 0;
    uint64_t refill = bucket_wait_ms(&l->requests, 1);
    uint64_t t = bucket_wait_ms(&l->tokens, (double)l->head->tokens);
    if (t > refill) refill = t;
    if (refill > 0 && refill < wait) wait = refill;
    uv_timer_start(&l->timer, timer_cb, wait, 0);
}

limiter_t *limiter_new(uv_loop_t *loop, limiter_limits_t limits, limiter_fn grant,
                       limiter_fn expire) {
    limiter_t *l = xcalloc(1, sizeof *l);
    l->loop = loop;
    l->max_concurrency = limits.concurrency;
    bucket_init(&l->requests, limits.requests_per_minute, uv_now(loop));
    bucket_init(&l->tokens, limits.tokens_per_minute, uv_now(loop));
    l->queue_timeout_ms = limits.queue_timeout_ms;
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

bool limiter_try(limiter_t *l, int64_t tokens) {
    if (l->head || !has_slot(l, tokens)) return false; /* FIFO: nobody overtakes a waiter */
    take(l, tokens);
    return true;
}

/* Grants and expiries happen on a later loop turn, never inside the caller's own call (the
 * router is in the middle of a call when it waits or releases). */
static void pump_soon(limiter_t *l) {
    if (l->head) uv_timer_start(&l->timer, timer_cb, 0, 0);
}

void limiter_wait(limiter_t *l, void *who, int64_t tokens) {
    waiter_t *w = xcalloc(1, sizeof *w);
    w->who = who;
    w->tokens = tokens;
    w->deadline = uv_now(l->loop) + l->queue_timeout_ms;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
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

void limiter_release(limiter_t *l, int64_t charged, int64_t used) {
    if (l->in_flight > 0) l->in_flight--;
    if (used >= 0) {
        bucket_refill(&l->tokens, uv_now(l->loop));
        bucket_credit(&l->tokens, (double)(charged - used));
    }
    pump_soon(l);
}

json_t *limiter_describe(const limiter_t *l) {
    return json_pack("{s:i, s:f, s:f, s:i, s:I}", "max_concurrency", l->max_concurrency,
                     "requests_per_minute", l->requests.per_minute, "tokens_per_minute",
                     l->tokens.per_minute, "in_flight", l->in_flight, "queued",
                     (json_int_t)l->queued);
}
