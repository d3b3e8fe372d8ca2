/* provider.h - the asynchronous model-call interface the engine drives.
 *
 * A provider answers llm_request_t's on the libuv loop. Promises every provider keeps:
 *  - `done` is called exactly once per successful provider_call, and never from inside
 *    provider_call itself (always from a later loop callback), so callers need not be reentrant.
 *  - provider_cancel stops a call: `done` is then never called, and the call's memory is freed.
 *  - A failure is reported through `done` with resp NULL and a message; the message says what
 *    failed in words a user can act on (never an API key).
 * The request is borrowed only for the duration of provider_call: providers copy what they need. */
#ifndef BATON_LLM_PROVIDER_H
#define BATON_LLM_PROVIDER_H

#include "llm/llm.h"

#include <uv.h>

typedef struct llm_call llm_call_t;
typedef struct llm_provider llm_provider_t;

/* resp is owned by the callee (free with llm_response_free) and NULL on failure. */
typedef void (*llm_done_fn)(void *ud, llm_response_t *resp, const char *error);

struct llm_provider {
    const char *name;
    llm_call_t *(*call)(llm_provider_t *p, const llm_request_t *req, llm_done_fn done, void *ud);
    void (*cancel)(llm_call_t *c);
    void (*destroy)(llm_provider_t *p);
};

static inline llm_call_t *provider_call(llm_provider_t *p, const llm_request_t *req,
                                        llm_done_fn done, void *ud) {
    return p->call(p, req, done, ud);
}
static inline void provider_cancel(llm_provider_t *p, llm_call_t *c) { p->cancel(c); }
static inline void provider_destroy(llm_provider_t *p) { if (p) p->destroy(p); }

/* Prices in USD per million tokens, from the configuration (never from code). */
typedef struct llm_prices {
    double input_per_million, output_per_million;
} llm_prices_t;

/* The offline model on the loop: generates with offline_generate and answers after
 * `latency_ms` (0: on the next loop turn). Costs are computed from `prices`. `fail_attempts`
 * ({TASK_ID: N}, may be NULL; borrowed for the provider's life) makes attempts 1..N of a task
 * fail like a provider outage would, so a workflow's retries can be exercised offline; by
 * attempt number, so a resumed run meets the same faults. */
llm_provider_t *offline_provider_new(uv_loop_t *loop, uint64_t latency_ms, llm_prices_t prices,
                                     const json_t *fail_attempts);

double llm_cost(const llm_prices_t *p, int64_t input_tokens, int64_t output_tokens);

#endif
