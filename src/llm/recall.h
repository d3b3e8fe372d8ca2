/* recall.h - what stands between the engine and the router: the response cache, record and
 * replay, and reference-model pricing (docs/models.md, "Cache", "Record and replay", "Savings").
 *
 * Configuration (baton.yaml):
 *   cache:   {enabled: true, ttl: 24h, include_nonzero_temperature: false, max_entries: 10000}
 *   routing: {mode: live | record | replay, recordings: FILE, reference_model: openai/gpt-4o}
 * `baton run --llm-mode MODE --recordings FILE` overrides routing.mode and routing.recordings.
 *
 * Promises:
 *  - Every request is keyed by llm/reqkey.h. A cache hit (enabled, and temperature 0 unless
 *    include_nonzero_temperature) answers without any provider, on a later loop turn, and is
 *    reported to the observer as one call with cached = true, cost 0 and the stored tokens. A
 *    miss goes to the router; its successful answer is stored (store/respcache.h).
 *  - record: every successful answer (from any provider, or the cache) is added to the
 *    recordings, written to the file by recall_flush.
 *  - replay: answers come only from the recordings: no provider is ever called; a missing key
 *    fails the call with a message naming the task, the key and the file, and does not fall back.
 *  - With a reference model, every reported call carries what its tokens would have cost there. */
#ifndef BATON_LLM_RECALL_H
#define BATON_LLM_RECALL_H

#include "llm/router.h"

typedef struct recall recall_t;

typedef struct recall_opts {
    const json_t *config;   /* the whole configuration, or NULL */
    const char *db_path;    /* baton.db, for the cache table */
    const char *mode;       /* "live", "record", "replay": overrides routing.mode; or NULL */
    const char *recordings; /* overrides routing.recordings; or NULL */
    const char *default_recordings; /* used when neither names a file */
} recall_opts_t;

/* Wraps the router (which keeps its own life). NULL with *err on a configuration error or a
 * recordings file that cannot be read. Installs itself as the router's observer. */
recall_t *recall_new(uv_loop_t *loop, router_t *router, const recall_opts_t *o, char **err);

/* The provider the engine calls. Owned by the layer. */
llm_provider_t *recall_provider(recall_t *r);

/* Every call the engine's requests lead to: the router's physical calls and cache or replay
 * answers, priced on the reference model when there is one. */
void recall_set_observer(recall_t *r, router_call_fn fn, void *ud);

/* Record mode: writes the recordings file (a no-op otherwise). 0, or -1 with *err. */
int recall_flush(recall_t *r, char **err);

/* Closes the cache (its writes in flight finish on the loop's next turns) and frees the layer.
 * Calls in flight must have ended or been cancelled. */
void recall_free(recall_t *r);

#endif
