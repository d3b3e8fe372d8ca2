/* embed.h - embeddings through the router: one or more texts in, one vector per text out.
 *
 * An embedding call is an ordinary router call whose request carries texts (llm_request_t.texts):
 * it walks its candidates in policy order with the same fallback, circuit breakers, provider
 * limits and observer records (llm.call, hence llm_calls) as a chat call; every physical call
 * is reported. What this module adds is choosing the candidates:
 *
 *   model NULL            the `embedding` tier; when it is not configured, or none of its
 *                         models is available (no key set), offline/offline-embed-1
 *   a tier name           its models that can embed; offline/offline-embed-1 when none is
 *                         available; an error when it lists only models that cannot embed
 *   "provider/model"      that model; an error when it is not configured or cannot embed
 *   a list of ids         those that are available and can embed; an error when none is
 *
 * Models that can embed are those of the openai, gemini and ollama provider types (their
 * embedding endpoints: embed_wire.h) and offline/offline-embed-1 (offline_embed.c); Anthropic
 * has no embeddings API. The offline model is never added behind configured ones: vectors of
 * different models live in different spaces, and a silent switch would mix them. The answer
 * names the model that made the vectors (resp->provider, resp->model). */
#ifndef BATON_LLM_EMBED_H
#define BATON_LLM_EMBED_H

#include "llm/router.h"

typedef struct llm_embed_request {
    const char *run_id, *task_id; /* for the observer's records; NULL outside a run */
    int attempt;                  /* 1-based; 0 counts as 1 */
    const json_t *model;          /* see above */
    const char *const *texts;     /* n_texts non-empty strings; copied */
    size_t n_texts;
    int dimensions; /* 0: the model's own size */
} llm_embed_request_t;

typedef struct llm_embed_call llm_embed_call_t;

/* Starts the call. `done` is called once, on a later loop turn, with a response holding
 * resp->n_vectors vectors of resp->dimensions floats (resp->vectors, row after row), the input
 * tokens, the cost and the latency; or with the last candidate's error. Returns NULL with *err
 * (malloc'd, a message naming the bad input) when the request cannot be made: no text, an
 * empty text, dimensions out of range, a model that names nothing that can embed. */
llm_embed_call_t *llm_embed(router_t *r, const llm_embed_request_t *req, llm_done_fn done, void *ud,
                            char **err);

/* Stops the call: `done` is not called, the memory is freed. */
void llm_embed_cancel(llm_embed_call_t *c);

#endif
