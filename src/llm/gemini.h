/* gemini.h - the Google Gemini provider (generativelanguage API: POST
 * {base_url}/models/{model}:streamGenerateContent?alt=sse, base_url like
 * https://generativelanguage.googleapis.com/v1beta).
 *
 * Every call streams (SSE), so the first token's latency is known and a cut call still accounts
 * for what it delivered. The key goes in `x-goog-api-key` (never in the URL, where proxies and
 * logs would keep it). The system prompt is `systemInstruction`, the prompt one user turn, and
 * `generationConfig` carries temperature and maxOutputTokens. JSON outputs ask for
 * `responseMimeType: application/json` with `responseSchema`: the agent's JSON Schema converted
 * to Gemini's OpenAPI subset (see gemini.c). Usage comes from `usageMetadata` (the last count
 * wins; cached prompt tokens at the cached-input price, thinking tokens as output). A stream
 * is whole once a chunk carries `finishReason`. Errors are classified for the router
 * (llm_error_t), with Google's own message, and RetryInfo's delay as the Retry-After. */
#ifndef BATON_LLM_GEMINI_H
#define BATON_LLM_GEMINI_H

#include "llm/http_provider.h"

typedef http_provider_opts_t gemini_opts_t; /* see http_provider.h */

/* The provider borrows `http` (shared by every provider of a loop) and copies the options. */
llm_provider_t *gemini_provider_new(http_client_t *http, const gemini_opts_t *o);

#endif
