/* limiter.h - a provider's concurrency and request-rate limits, enforced before sending.
 *
 * Under pressure a call waits in a FIFO queue instead of failing (what a user of a rate-limited
 * API wants); it fails only when it has waited longer than the queue timeout. Requests per
 * minute are a token bucket refilled continuously, holding at most ten seconds' worth, so a
 * quiet provider does not let a whole minute's quota through at once. Loop thread only. */
#ifndef BATON_LLM_LIMITER_H
#define BATON_LLM_LIMITER_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

typedef struct limiter limiter_t;

typedef void (*limiter_fn)(void *waiter);

/* max_concurrency 0 = unlimited; requests_per_minute 0 = unlimited. `grant` is called when a
 * queued waiter gets its slot (it holds it until limiter_release), `expire` when its wait passed
 * queue_timeout_ms (it holds nothing). */
limiter_t *limiter_new(uv_loop_t *loop, int max_concurrency, double requests_per_minute,
                       uint64_t queue_timeout_ms, limiter_fn grant, limiter_fn expire);
void limiter_free(limiter_t *l);

bool limiter_try(limiter_t *l);                  /* takes a slot now if one is free */
void limiter_wait(limiter_t *l, void *waiter);   /* queues for a slot */
void limiter_forget(limiter_t *l, void *waiter); /* a queued waiter that gave up */
void limiter_release(limiter_t *l);              /* a call that held a slot finished */

/* {max_concurrency, requests_per_minute, in_flight, queued}. New reference. */
json_t *limiter_describe(const limiter_t *l);

#endif
