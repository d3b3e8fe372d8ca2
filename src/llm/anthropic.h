/* anthropic.h - the Anthropic Messages provider (POST {base_url}/messages, base_url like
 * https://api.anthropic.com/v1).
 *
 * Every call streams (`stream: true`), so the first token's latency is known and a cut call still
 * accounts for what it delivered. The key goes in `x-api-key` with `anthropic-version:
 * 2023-06-01`. JSON outputs with a schema force a tool (`tools: [{name: "output", input_schema}]`,
 * `tool_choice: {type: tool, name: output}`), the structured-output route Anthropic recommends,
 * and the tool's input becomes the answer text (compact JSON). Usage comes from message_start and
 * message_delta, prompt caching included: cache reads cost the cached-input price, cache writes
 * 1.25 times the input price. Errors are classified for the router (llm_error_t), with the
 * provider's own message and Retry-After. */
#ifndef BATON_LLM_ANTHROPIC_H
#define BATON_LLM_ANTHROPIC_H

#include "llm/http_provider.h"

typedef http_provider_opts_t anthropic_opts_t; /* see http_provider.h */

/* The provider borrows `http` (shared by every provider of a loop) and copies the options. */
llm_provider_t *anthropic_provider_new(http_client_t *http, const anthropic_opts_t *o);

#endif
