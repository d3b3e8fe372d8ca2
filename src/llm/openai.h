/* openai.h - the OpenAI-compatible Chat Completions provider: OpenAI, vLLM, llama.cpp server,
 * LM Studio, DeepInfra, Ollama's /v1 (a base URL per provider).
 *
 * Every call streams (`stream: true` with `stream_options.include_usage`), so the first token's
 * latency is known and a cancelled or cut call still accounts for the tokens received. JSON
 * outputs ask for `response_format: json_schema` with the agent's schema. Errors are classified
 * for the router (llm_error_t), with the provider's own message and Retry-After. */
#ifndef BATON_LLM_OPENAI_H
#define BATON_LLM_OPENAI_H

#include "llm/http_provider.h"

typedef http_provider_opts_t openai_opts_t; /* see http_provider.h */

/* The provider borrows `http` (shared by every provider of a loop) and copies the options. */
llm_provider_t *openai_provider_new(http_client_t *http, const openai_opts_t *o);

#endif
