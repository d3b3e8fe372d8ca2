/* limiter.h - a provider's concurrency, request-rate and token-rate limits, enforced before
 * sending.
 *
 * Under pressure a call waits in a FIFO queue instead of failing (what a user of a rate-limited
 * API wants); it fails only when it has waited longer than the queue timeout. Requests and
 * tokens per minute are token buckets refilled continuously, each holding at most ten seconds'
 * worth, so a quiet provider does not let a whole minute's quota through at once.
 *
 * Tokens are charged when a call is admitted, at the router's estimate (prompt + max_tokens, as
 * OpenAI's own limiter counts them), and settled when it ends: what the call did not use goes
 * back, what it used beyond the estimate is owed. A call bigger than ten seconds' worth is let
 * through when the bucket is full and leaves it in debt, so it waits but never starves.
 * Loop thread only. */
#ifndef BATON_LLM_LIMITER_H
#define BATON_LLM_LIMITER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct limiter limiter_t;

typedef void (*limiter_fn)(void *waiter);

/* 0 in any field: that limit is off. */
typedef struct limiter_limits {
    int concurrency;
    double requests_per_minute;
    double tokens_per_minute;
    uint64_t queue_timeout_ms;
} limiter_limits_t;

/* `grant` is called when a queued waiter gets its slot (it holds it until limiter_release),
 * `expire` when its wait passed the queue timeout (it holds nothing). */
limiter_t *limiter_new(uv_loop_t *loop, limiter_limits_t limits, limiter_fn grant,
                       limiter_fn expire);
void limiter_free(limiter_t *l);

bool limiter_try(limiter_t *l, int64_t tokens);                /* takes a slot now if one is free */
void limiter_wait(limiter_t *l, void *waiter, int64_t tokens); /* queues for a slot */
void limiter_forget(limiter_t *l, void *waiter);               /* a queued waiter that gave up */
/* A call that held a slot finished: `charged` is what it was admitted with, `used` what it
 * really consumed (< 0: unknown, the charge stands). */
void limiter_release(limiter_t *l, int64_t charged, int64_t used);

/* {max_concurrency, requests_per_minute, tokens_per_minute, in_flight, queued}. New reference. */
json_t *limiter_describe(const limiter_t *l);

#endif
