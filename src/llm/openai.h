/* openai.h - the OpenAI-compatible Chat Completions provider: OpenAI, vLLM, llama.cpp server,
 * LM Studio, DeepInfra, Ollama's /v1 (a base URL per provider).
 *
 * Every call streams (`stream: true` with `stream_options.include_usage`), so the first token's
 * latency is known and a cancelled or cut call still accounts for the tokens received. JSON
 * outputs ask for `response_format: json_schema` with the agent's schema. Errors are classified
 * for the router (llm_error_t), with the provider's own message and Retry-After. */
#ifndef BATON_LLM_OPENAI_H
#define BATON_LLM_OPENAI_H

#include "llm/http.h"
#include "llm/provider.h"

typedef struct openai_opts {
    const char *name;         /* the provider's name in the configuration (journaled) */
    const char *base_url;     /* e.g. https://api.openai.com/v1 */
    const char *api_key;      /* NULL for servers without one; never logged */
    const char *model;        /* the model id sent to the server */
    llm_prices_t prices;
    long connect_timeout_ms, first_byte_timeout_ms, total_timeout_ms;
} openai_opts_t;

/* The provider borrows `http` (shared by every provider of a loop) and copies the options. */
llm_provider_t *openai_provider_new(http_client_t *http, const openai_opts_t *o);

#endif
