/* router.h - which model answers each call: candidates from the configuration, local first,
 * falling back to the next candidate on errors that another model could avoid.
 *
 * Configuration (the `providers`, `tiers` and `routing` keys of baton.yaml, docs/models.md):
 *
 *   providers:
 *     local:  {type: openai, base_url: "http://127.0.0.1:8000/v1", local: true,
 *              models: {llama3.1: {input_per_million: 0, output_per_million: 0}}}
 *     openai: {type: openai, base_url: "https://api.openai.com/v1", api_key_env: OPENAI_API_KEY,
 *              timeouts: {connect: 5s, first_byte: 30s, total: 5m},
 *              models: {gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.6,
 *                                     cached_input_per_million: 0.075}}}
 *   tiers:
 *     balanced: [local/llama3.1, openai/gpt-4o-mini]
 *   routing: {policy: local-first}
 *
 * The offline provider always exists as `offline/offline-1`; a tier that is not configured, and
 * a run with no configuration at all, use it. The offline embedding model always exists too, as
 * `offline/offline-embed-1` (embedding requests go through llm/embed.h). Prices come only from
 * the configuration.
 *
 * routing.policy orders each call's candidates: local-first (default), ordered, cost, latency or
 * score (llm/policy.h says what each means).
 *
 * Promises: a call walks its candidates in policy order; on a timeout, connection error, 429,
 * 5xx, overload, budget refusal, authentication failure or a malformed/cut response it moves to
 * the next one; it fails with the last error (and its Retry-After) when none is left. API keys
 * are read from the environment variable the configuration names and never appear in errors. */
#ifndef BATON_LLM_ROUTER_H
#define BATON_LLM_ROUTER_H

#include "llm/provider.h"

#include <jansson.h>

typedef struct router router_t;

/* config: the whole configuration object (NULL: offline only). offline_* configure the offline
 * provider as before. Returns NULL with *err on a configuration error. */
router_t *router_new(uv_loop_t *loop, const json_t *config, uint64_t offline_latency_ms,
                     llm_prices_t offline_prices, const json_t *offline_fail_attempts, char **err);

/* The provider the engine calls: it routes every request. Owned by the router. */
llm_provider_t *router_provider(router_t *r);

/* Called for every physical call the router makes (each candidate tried), on the loop thread:
 * the engine journals them as llm.call events. */
typedef void (*router_call_fn)(void *ud, const llm_call_record_t *rec);
void router_set_observer(router_t *r, router_call_fn fn, void *ud);

/* Prices of the first candidate for a model (tier, name or list): budget estimates. */
llm_prices_t router_prices(router_t *r, const json_t *model);

/* Every candidate: {id, local, prices: {input, output, cached_input}, breaker, failures}. */
json_t *router_describe(router_t *r);

/* The candidate list of a tier as configured (borrowed), or NULL when it is not a tier. */
const json_t *router_tier(router_t *r, const char *name);

/* Whether a call for `model` (tier, "provider/model" or list; NULL: the offline default) may be
 * answered by the offline model: it is one of the candidates, or none of them is configured
 * (the router then falls back to it). What `baton run` warns about before a run starts. */
bool router_may_simulate(router_t *r, const json_t *model);

/* The provider behind one candidate ("provider/model"), or NULL. Owned by the router. */
llm_provider_t *router_candidate(router_t *r, const char *id);

void router_free(router_t *r);

#endif
