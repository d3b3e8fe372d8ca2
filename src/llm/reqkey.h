/* reqkey.h - one normalisation of a model request, and its hash: the key of the response cache
 * and of record/replay recordings (docs/models.md, "Cache" and "Record and replay").
 *
 * What belongs in the key is what the model sees and what shapes its answer:
 *   model        the candidate ids the request may go to: a tier expanded through `tiers`, one
 *                "provider/model", or a list (null when the request names none)
 *   system, prompt, feedback, format, schema, max_tokens, temperature, word_limit, and the
 *   tools offered with the transcript of the attempt's earlier tool rounds
 * What does not: run id, task id, attempt, iteration and the raw inputs (they are already
 * rendered into the prompt), so the same question asked by another run or task is the same key.
 *
 * Promises: the canonical JSON has sorted keys at every depth and no whitespace, so the key does
 * not depend on the order fields were written in (a schema's properties included); any change
 * in a field above changes the key. Needs sodium_init() (SHA-256 from libsodium). */
#ifndef BATON_LLM_REQKEY_H
#define BATON_LLM_REQKEY_H

#include "llm/llm.h"

#include <jansson.h>

#define REQKEY_HEX_LEN 64

/* The request's model spec (req->model, else the agent's) as candidate ids: new reference. */
json_t *reqkey_model_ids(const llm_request_t *req, const json_t *tiers);

/* The canonical object the key hashes (new reference): {v, model, system, prompt, ...}. */
json_t *reqkey_canonical(const llm_request_t *req, const json_t *tiers);

/* SHA-256 of the canonical JSON as 64 lowercase hex digits and a NUL. */
void reqkey_hash(const llm_request_t *req, const json_t *tiers, char out[REQKEY_HEX_LEN + 1]);

#endif
