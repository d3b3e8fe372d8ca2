/* offline.h - the deterministic offline model: no network, the default provider.
 *
 * Promises:
 *  - Same request (agent, inputs, prompt, feedback, attempt-independent) -> same output, byte
 *    for byte, on every machine.
 *  - markdown/text: a plausible structured document built from the agent's role and goal and the
 *    inputs it was given (headings, bullet points, the input values quoted), never longer than
 *    word_limit words when one is set.
 *  - json: a value valid against the agent's schema (core/jsonschema.h keywords), with strings
 *    drawn from the inputs where the property names match, numbers inside min/max, enums
 *    respected, required properties present.
 *  - Token counts are filled (estimated from the text); cost is computed by the caller from the
 *    configured prices (offline's price defaults to zero). */
#ifndef BATON_LLM_OFFLINE_H
#define BATON_LLM_OFFLINE_H

#include "llm/llm.h"

/* Fills resp (caller frees with llm_response_free). Returns 0; -1 only if the schema cannot be
 * satisfied (e.g. contradictory constraints), with a message in resp->text. */
int offline_generate(const llm_request_t *req, llm_response_t *resp);

/* The offline embedding (the algorithm is described in offline_embed.c): fills out[0..dims) with
 * the L2-normalised vector of `text` (NULL is the empty text). Deterministic everywhere. */
#define OFFLINE_EMBED_DIMENSIONS 256 /* when a request asks for no particular size */
void offline_embed(const char *text, size_t dims, float *out);

#endif
