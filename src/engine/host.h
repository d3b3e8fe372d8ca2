/* host.h - one process's engine with everything around it: the model router behind its cache
 * and recordings, the engine, and the workflows its runs borrow. `baton run` hosts one run,
 * `baton serve` many.
 *
 * Promises:
 *  - host_start loads a workflow from text (YAML or JSON) with the host's agent catalog and
 *    starts it; the workflow lives as long as the run stays in memory.
 *  - host_run finds a run by its exact id: a run in memory, or one rebuilt from its
 *    journal with the workflow text and agents it started with (a run paused or waiting for a
 *    person when the process stopped carries on from where it was).
 *  - A finished run leaves memory once its last event has been journaled and observed (unless
 *    keep_finished); its journal stays, and host_run brings it back when asked.
 *  - on_event sees every committed event of every run, in journal order.
 *  - host_resume_left brings back the runs a process left going (journaled as running or
 *    waiting for a person), a few per loop turn, so a server restarted carries them on without
 *    being asked.
 *
 * Threading: the loop thread, as the engine. */
#ifndef BATON_ENGINE_HOST_H
#define BATON_ENGINE_HOST_H

#include "core/diag.h"
#include "engine/engine.h"
#include "llm/recall.h"
#include "llm/router.h"

typedef struct host host_t;

typedef struct host_opts {
    uv_loop_t *loop;
    store_t *store;
    const char *data_dir;        /* artifacts under it; recordings.json by default */
    const json_t *config;        /* the configuration (providers, tiers, routing, tools) */
    uint64_t offline_latency_ms; /* the offline model's settings (llm/offline.h) */
    llm_prices_t offline_prices;
    const json_t *offline_fail_attempts;
    engine_daily_t daily;
    const char *llm_mode;           /* live, record or replay (NULL: routing.mode) */
    const char *recordings;         /* NULL: routing.recordings, else data_dir/recordings.json */
    const agent_catalog_t *catalog; /* borrowed for the host's life */
    engine_event_fn on_event;
    void *on_event_ud;
    /* answer text as it streams in (engine_opts_t.on_delta; ud: on_event_ud), or NULL */
    void (*on_delta)(void *ud, engine_run_t *run, const char *task, int attempt,
                     const char *candidate, const char *piece);
    bool keep_finished; /* keep finished runs in memory (a command that reports
                         * on its run after it finished) */
} host_opts_t;

/* NULL with *err (caller frees) when the router or the recordings cannot be set up. */
host_t *host_new(const host_opts_t *o, char **err);
/* Closes the engine, the router and their handles. Stops nothing: a run still going stays
 * journaled as it is (resumable). The runs' timers close with the loop: run it dry, then
 * host_free releases what they read until then (the workflows). */
void host_close(host_t *h);
void host_free(host_t *h);

engine_t *host_engine(host_t *h);
const json_t *host_config(host_t *h);
router_t *host_router(host_t *h);
recall_t *host_recall(host_t *h);

/* Starts a run of the workflow in text (`file` names it in messages and the journal;
 * subflow_dir, or NULL, is where its subflows are looked up; ref, or NULL, the stored workflow
 * version the text is, journaled with the run). NULL when the workflow is invalid (located
 * errors in *dl) or the inputs do not fit it (*err, caller frees). */
engine_run_t *host_start(host_t *h, const char *text, size_t len, const char *file,
                         const char *subflow_dir, const engine_workflow_ref_t *ref,
                         const json_t *inputs, diag_list_t *dl, char **err);

/* The run with exactly this id (never a prefix: callers that take prefixes resolve them first,
 * with store_resolve_run), in memory or rebuilt from its journal; NULL with *missing (no such
 * run; *err NULL) or with *err (a journal that cannot be read or replayed; caller frees). */
engine_run_t *host_run(host_t *h, const char *id, bool *missing, char **err);

/* Called once per run host_resume_left resumed (run set, err NULL) or could not (run NULL, err
 * says why); both borrowed for the call. */
typedef void (*host_resumed_fn)(void *ud, const char *run_id, engine_run_t *run, const char *err);

/* Resumes every run the store lists as running or waiting_human and not in memory: rebuilt
 * from its journal as host_run does (tasks that were running are dispatched again with the same
 * attempt number; retry timers and human deadlines are armed again). Returns at once: the runs
 * are resumed from the loop, HOST_RESUME_BATCH per turn, so requests are answered between
 * batches; a run a request brought back meanwhile is skipped. Paused runs stay paused. Call
 * once, after host_new; host_close stops what is left. Returns how many runs it will try. */
enum { HOST_RESUME_BATCH = 8 };
size_t host_resume_left(host_t *h, host_resumed_fn fn, void *ud);

/* How many runs in memory are running now (not paused, waiting for a person, or finished). */
size_t host_active(host_t *h);

/* Whether the run with this (whole) id is in memory: running here, or kept for a while. */
bool host_has(host_t *h, const char *run_id);

/* A new run sharing `parent`'s history up to event `at` (engine_fork). NULL with *err. */
engine_run_t *host_fork(host_t *h, const char *parent, uint64_t at, const json_t *inputs,
                        char **err);

/* Whether workflow NAME.yaml (or .yml) exists in folder ud (a workflow_load subflow check). */
bool host_subflow_exists(void *ud, const char *name);

#endif
