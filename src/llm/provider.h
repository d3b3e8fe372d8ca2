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

#include <stdbool.h>
#include <uv.h>

typedef struct llm_call llm_call_t;
typedef struct llm_provider llm_provider_t;

/* Why a call failed, so the router can decide to move on and the engine when to retry. */
typedef enum {
    LLM_ERR_OTHER,       /* not worth another candidate (a bug, a bad request we built) */
    LLM_ERR_TIMEOUT,     /* connect, first byte or total */
    LLM_ERR_CONNECTION,  /* refused, reset, DNS */
    LLM_ERR_RATE_LIMIT,  /* 429 */
    LLM_ERR_SERVER,      /* 5xx */
    LLM_ERR_OVERLOADED,  /* 529, overloaded_error */
    LLM_ERR_BUDGET,      /* 402, insufficient_quota: the provider refuses to spend */
    LLM_ERR_AUTH,        /* 401/403: a key is missing or wrong */
    LLM_ERR_MALFORMED,   /* a response that does not parse, a stream cut before its end */
    LLM_ERR_QUALITY,     /* every candidate answered below the task's quality threshold */
    LLM_ERR_SPEND_LIMIT, /* every candidate left could pass req.max_cost_usd: none was called */
} llm_error_kind_t;

typedef struct llm_error {
    llm_error_kind_t kind;
    int status;             /* HTTP status, 0 when none */
    int64_t retry_after_ms; /* the provider's Retry-After, -1 when it gave none */
    const char *message;    /* for people: what failed, never a key */
    int64_t output_tokens;  /* what a cut stream delivered before it broke (0: none) */
    int64_t total_ms;
    double estimate_usd; /* LLM_ERR_SPEND_LIMIT: the cheapest candidate's estimate */
} llm_error_t;

/* One physical call, as `llm.call` journals it: every call, answered, failed or cancelled. */
typedef struct llm_call_record {
    const char *run_id, *task_id;
    int attempt;
    const char *candidate; /* "provider/model" */
    const char *status;    /* "ok", "error", "cancelled", "rejected" (below the quality
                            * threshold: the router moved on) */
    const char *error;     /* NULL when ok */
    int64_t input_tokens, output_tokens, cached_tokens;
    double cost_usd;
    int64_t first_token_ms, total_ms;
    bool cached;               /* answered from the response cache or a recording: cost 0 */
    bool simulated;            /* the answer is the offline model's (llm_response_t.simulated) */
    bool has_reference;        /* a reference model is configured (routing.reference_model) */
    double reference_cost_usd; /* what the same tokens would have cost on it */
} llm_call_record_t;

/* Whether the next candidate should be tried after this error. */
bool llm_error_moves_on(const llm_error_t *e);

/* resp is owned by the callee (free with llm_response_free) and NULL on failure, when err says
 * why (err and its message are valid during the call only). */
typedef void (*llm_done_fn)(void *ud, llm_response_t *resp, const llm_error_t *err);

struct llm_provider {
    const char *name;
    llm_call_t *(*call)(llm_provider_t *p, const llm_request_t *req, llm_done_fn done, void *ud);
    void (*cancel)(llm_call_t *c);
    void (*destroy)(llm_provider_t *p);
    /* Embedding requests (req->texts set), NULL when the protocol has none. Its calls are
     * cancelled with `cancel` like chat calls, and keep the same promises. */
    llm_call_t *(*embed)(llm_provider_t *p, const llm_request_t *req, llm_done_fn done, void *ud);
    /* Optional: the output tokens a call in flight has streamed so far (its text at 4 bytes per
     * token), asked just before it is cancelled so the call is billed for what it delivered.
     * NULL: the provider cannot tell (nothing is billed). */
    int64_t (*received)(llm_call_t *c);
};

/* An embedding request goes to the provider's `embed`; the router has none of its own and
 * routes both kinds through `call` (its candidates then dispatch). Only send embedding requests
 * to providers for which provider_embeds is true, or to the router through llm/embed.h. */
static inline llm_call_t *provider_call(llm_provider_t *p, const llm_request_t *req,
                                        llm_done_fn done, void *ud) {
    return req->texts && p->embed ? p->embed(p, req, done, ud) : p->call(p, req, done, ud);
}
static inline bool provider_embeds(const llm_provider_t *p) { return p && p->embed; }
static inline void provider_cancel(llm_provider_t *p, llm_call_t *c) { p->cancel(c); }
static inline void provider_destroy(llm_provider_t *p) {
    if (p) p->destroy(p);
}

/* Prices in USD per million tokens, from the configuration (never from code). */
typedef struct llm_prices {
    double input_per_million, output_per_million;
    double cached_input_per_million; /* prompt tokens served from the provider's cache */
} llm_prices_t;

/* The offline model on the loop: generates with offline_generate and answers after
 * `latency_ms` (0: on the next loop turn). Costs are computed from `prices`. `fail_attempts`
 * ({TASK_ID: N}, may be NULL; borrowed for the provider's life) makes attempts 1..N of a task
 * fail like a provider outage would, so a workflow's retries can be exercised offline; by
 * attempt number, so a resumed run meets the same faults. */
llm_provider_t *offline_provider_new(uv_loop_t *loop, uint64_t latency_ms, llm_prices_t prices,
                                     const json_t *fail_attempts);

/* The built-in offline embedding model (offline/offline-embed-1, see offline_embed.c): vectors
 * from offline_embed, answered on the next loop turn; input tokens estimated, priced with
 * `prices`. A chat request gets an error: it is an embedding model. */
llm_provider_t *offline_embed_provider_new(uv_loop_t *loop, llm_prices_t prices);

double llm_cost(const llm_prices_t *p, int64_t input_tokens, int64_t output_tokens);

#endif
