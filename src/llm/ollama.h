/* ollama.h - the Ollama native chat provider (POST {base_url}/api/chat, base_url like
 * http://127.0.0.1:11434, without /v1; Ollama's /v1 is OpenAI-compatible and goes through
 * openai.h instead).
 *
 * Every call streams (`stream: true`, newline-delimited JSON), so the first token's latency is
 * known and a cut call still accounts for what it delivered. `options` carries temperature and
 * num_predict (the agent's max_tokens). JSON outputs send the agent's schema as `format` (Ollama
 * turns it into a grammar), or `format: "json"` without one. The last line (`done: true`) gives
 * prompt_eval_count and eval_count. Ollama has no authentication: an Authorization: Bearer
 * header is sent only when a key is configured (for a proxy in front of it). Errors
 * ({"error": "..."}) are classified for the router (llm_error_t). */
#ifndef BATON_LLM_OLLAMA_H
#define BATON_LLM_OLLAMA_H

#include "llm/http_provider.h"

typedef http_provider_opts_t ollama_opts_t; /* see http_provider.h */

/* The provider borrows `http` (shared by every provider of a loop) and copies the options. */
llm_provider_t *ollama_provider_new(http_client_t *http, const ollama_opts_t *o);

#endif
