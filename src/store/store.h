/* store.h - the journal and its projections, in SQLite.
 *
 * The journal (table `events`) is the truth; `runs`, `tasks`, `artifacts` and `approvals` are
 * projections written in the same transaction as the events that change them, by one function
 * (store/projection.c) that a rebuild can run again over the journal.
 *
 * Writes are batched: store_append queues an event in memory, store_commit writes every queued
 * event and its projections in one transaction (group commit). Nothing is visible to readers, or
 * durable, before store_commit returns 0. The engine commits once per loop turn.
 *
 * A store_t is used from one thread at a time. Stored workflows (below) are definitions kept
 * beside the journal, in tables of their own. */
#ifndef BATON_STORE_STORE_H
#define BATON_STORE_STORE_H

#include "util/diff.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 6

typedef struct store store_t;

typedef enum { STORE_DURABILITY_NORMAL, STORE_DURABILITY_FULL } store_durability_t;

/* Opens (creating if needed) the database at path and runs migrations. On error returns NULL
 * and *err holds a message the caller frees. */
store_t *store_open(const char *path, store_durability_t durability, char **err);
void store_close(store_t *st);

/* Queues one event; `data` is borrowed (serialized at once). */
void store_append(store_t *st, const char *run_id, uint64_t seq, int64_t ts_ms, const char *type,
                  const json_t *data);
size_t store_pending(const store_t *st);
/* Commits the queued events and their projections in one transaction. 0 or -1 with *err. */
int store_commit(store_t *st, char **err);

/* Reads. Each returns a new JSON value or NULL when not found. */
json_t *store_run(store_t *st, const char *run_id); /* the runs row */
/* Whether a run has exactly this id: 1 yes, 0 no, -1 the database did not answer. */
int store_run_exists(store_t *st, const char *run_id);
json_t *store_runs(store_t *st, const char *status, int limit); /* newest first */
/* One page of runs, newest first: filters are NULL/0 when unused; the page starts after the run
 * (after_created_ms, after_id) when after_id is set. New reference (NULL on a database error). */
typedef struct store_runs_query {
    const char *status, *workflow; /* workflow: by name */
    const char *workflow_id;       /* runs of a stored workflow */
    const char *file;              /* runs of the workflow file (a template's) */
    int64_t since_ms;
    int64_t after_created_ms;
    const char *after_id;
    int limit;
} store_runs_query_t;
json_t *store_runs_page(store_t *st, const store_runs_query_t *q);
json_t *store_tasks(store_t *st, const char *run_id); /* tasks rows, in workflow order */
json_t *store_artifacts(store_t *st, const char *run_id);
json_t *store_approvals(store_t *st, const char *run_id, const char *status);
/* A run's model calls added up: {calls, failed, cached, input_tokens, output_tokens,
 * cached_tokens, cost_usd, reference_cost_usd, savings_usd} (cost of every call, failed and
 * cancelled ones included; cached counts the calls answered from the response cache or a
 * recording; reference_cost_usd and savings_usd are null when no reference model priced them). */
json_t *store_llm_usage(store_t *st, const char *run_id);
/* Model calls since a time, per candidate: {ID: {calls, failed, cost_usd}}. */
json_t *store_llm_spend_since(store_t *st, int64_t since_ms);
/* {status: runs} over every run. */
json_t *store_run_counts(store_t *st);
/* What every model call since a time cost, over all runs (workflow NULL) or the runs of one
 * workflow (by name). 0 on a database error. */
double store_spend_since(store_t *st, int64_t since_ms, const char *workflow);
/* run_summary.c: a runs row as clients see it (new reference): no `file` (a server path),
 * `error` only when the run failed, the reason of a pause or a cancel in `paused_reason` or
 * `cancelled_reason`. Lists of runs show this; the summary adds to it. */
json_t *store_run_view(const json_t *row);
/* store_run_view of each row: a new array; `rows` is borrowed. */
json_t *store_run_views(const json_t *rows);
/* run_summary.c: a journal event's data as clients see it (new reference; `data` is borrowed):
 * without the server's file paths the journal keeps for itself (run.created's `file` and each
 * of its agents' `file`, artifact.written's `path` and `blob`); any other event's data as it
 * is. Artifacts are addressed by run, name and version instead. */
json_t *store_event_view(const char *type, const json_t *data);
/* Whether store_event_view changes events of this type (the others can be sent as stored). */
bool store_event_has_paths(const char *type);
/* run_summary.c: the run as store_run_view shows it, and tasks: [{id, status, attempts_total,
 * outputs, error, cost_usd}] in workflow order, artifacts: [{id, name (the same), sha256,
 * bytes, task_id, version, created_at}] (the latest version of each), progress, current,
 * estimate and llm. New reference, or NULL for an unknown run. */
json_t *store_run_summary(store_t *st, const char *run_id);
/* The journal of model calls made outside any run (the OpenAI-compatible gateway's): llm.call
 * events only, so priced in llm_calls and counted by the daily limits, with no runs row and no
 * run.created. */
#define STORE_LEDGER_RUN "gateway"

/* The seq of the run's last committed event (0: none). */
uint64_t store_last_seq(store_t *st, const char *run_id);
/* The summary, and a seq it includes every event up to (read seq first: the summary may also
 * include a few events after it, committed in between, never fewer). */
json_t *store_run_snapshot(store_t *st, const char *run_id, uint64_t *seq);
/* Whether the database answers and holds this release's schema: 0, or -1 with *err. */
int store_ping(store_t *st, char **err);
/* artifact_query.c: the artifacts rows of a run ordered by name, then version (name NULL: every
 * name): [{name, version, task_id, agent, path, blob, sha256, bytes, mime, created_at}]. blob is
 * null for artifacts written before blobs. New reference, or NULL on a database error. */
json_t *store_artifact_versions(store_t *st, const char *run_id, const char *name);
/* The row of `version` among one name's rows from store_artifact_versions (borrowed); version 0
 * means the latest. NULL when there is no such version. */
const json_t *store_artifact_version(const json_t *rows, long long version);
/* The bytes of one version (a row of store_artifact_versions), read from its blob under
 * data_dir (or, for artifacts written before blobs, its file) and checked against the size and
 * SHA-256 the journal recorded: NUL-terminated (caller frees; *len excludes the NUL), or NULL
 * with *err (caller frees) naming the artifact, the blob, what was expected and found, and what
 * to do. Damaged bytes are never returned. Needs sodium_init(). */
char *store_artifact_read(const char *data_dir, const char *run_id, const json_t *row, size_t *len,
                          char **err);
/* Appends the unified diff (util/diff.h) turning version `from` into version `to` (rows of one
 * name) to out, labelled "NAME@vA" and "NAME@vB"; nothing when they are identical. Both sides
 * are read as store_artifact_read reads them: 0, or -1 with *err when either is damaged (out
 * untouched). */
int store_artifact_diff(const char *data_dir, const char *run_id, const json_t *from,
                        const json_t *to, strbuf_t *out, diff_result_t *result, char **err);

/* task_query.c: the data of the run's run.created event (its workflow's source, agents,
 * inputs), or NULL when it has none. New reference. */
json_t *store_run_created(store_t *st, const char *run_id);
/* A task's model calls (llm_calls rows), in journal order: [{seq, attempt, candidate, status,
 * error, input_tokens, output_tokens, cached_tokens, cost_usd, cached (true: the response cache
 * or a recording answered), reference_cost_usd, first_token_ms, total_ms, created_at}]. New
 * reference, or NULL on a database error. */
json_t *store_task_calls(store_t *st, const char *run_id, const char *task_id);
/* Every task of every run that has started (attempts > 0), with its run's status and its model
 * calls added up: [{run_id, task_id, status, run_status, started_at, finished_at, cost_usd,
 * calls, failed_calls, input_tokens, output_tokens, call_ms}], by run. New reference, or NULL
 * on a database error. */
json_t *store_task_activity(store_t *st);

/* Calls fn for each event of a run with seq > after, in order. Stops early when fn returns
 * non-zero and returns that value; 0 when all were visited; -1 on a database error. */
typedef int (*store_event_fn)(void *ud, uint64_t seq, int64_t ts_ms, const char *type,
                              json_t *data);
int store_events(store_t *st, const char *run_id, uint64_t after, store_event_fn fn, void *ud);
/* The same with each event's data as the journal stores it (compact JSON text, not parsed: for
 * readers that only pass it on, such as a WebSocket replay). */
typedef int (*store_event_raw_fn)(void *ud, uint64_t seq, int64_t ts_ms, const char *type,
                                  const char *data, size_t len);
int store_events_raw(store_t *st, const char *run_id, uint64_t after, store_event_raw_fn fn,
                     void *ud);

/* Drops the queued events without writing them. */
void store_discard(store_t *st);

/* Writes a new run `child` whose journal is `parent`'s events 1..at (run.created rewritten with
 * the child's id, parent_run_id, fork_seq and `inputs` when given), committed at once. The
 * caller resumes the child to carry it on. 0, or -1 with *err. */
int store_fork(store_t *st, const char *parent, uint64_t at, const char *child,
               const json_t *inputs, char **err);

/* Deletes a run's journal and rows in one transaction (a fork that could not start). */
int store_delete_run(store_t *st, const char *run_id, char **err);

/* ---- stored workflows (workflows.c) ---------------------------------------------------------
 * A stored workflow is an id ("wf-" + the millisecond clock in base 32 + 6 random characters, so
 * ids sort by creation time) and its versions 1, 2, ...: each keeps the text exactly as given,
 * its format and its SHA-256, and is never changed; every change is a new version. Deleting is
 * soft: the workflow then reads as missing, its rows stay (runs journal their own source and do
 * not need them).
 *
 * These are definitions, not journal events: they are written through a connection of the
 * store's own, so they are safe while the journal writer thread runs (writer.h). The store keeps
 * text and checks nothing: callers load the workflow (workflow_load) before they store it.
 *
 * Each returns 0, STORE_NOT_FOUND (no such workflow or version, or a deleted one), STORE_BUSY
 * (the database stayed locked past the busy timeout: try again) or -1, with *err (caller frees)
 * on anything but 0. */
#define STORE_NOT_FOUND (-2)
#define STORE_BUSY      (-3)

typedef enum { STORE_WF_YAML, STORE_WF_JSON } store_wf_format_t;

typedef struct store_wf_source {
    const char *name; /* the workflow's `name` */
    const char *text; /* len bytes, stored as they are */
    size_t len;
    store_wf_format_t format;
} store_wf_source_t;

/* Stores a new workflow whose version 1 is src: *id (caller frees). */
int store_workflow_create(store_t *st, const store_wf_source_t *src, char **id, char **err);
/* Adds src as the next version of workflow id, unless it is byte for byte the latest version:
 * then nothing changes. *version: the latest version after the call; *changed: whether one was
 * added. */
int store_workflow_update(store_t *st, const char *id, const store_wf_source_t *src,
                          int64_t *version, bool *changed, char **err);
/* Soft-deletes workflow id. */
int store_workflow_delete(store_t *st, const char *id, char **err);
/* Workflow id: {id, name, version (the latest), format, sha256, created_at, updated_at,
 * versions: [{version, format, sha256, created_at}] (oldest first)}, with the latest version's
 * `source` when with_source. *out: new reference. */
int store_workflow_get(store_t *st, const char *id, bool with_source, json_t **out, char **err);
/* One version (0: the latest): {workflow_id, version, format, sha256, created_at, source}.
 * *out: new reference. */
int store_workflow_version(store_t *st, const char *id, int64_t version, json_t **out, char **err);
/* Up to `limit` workflows, newest first, after the workflow after_id (NULL: from the newest):
 * [{id, name, version, created_at, updated_at}], deleted ones left out. New reference, or NULL
 * with *err. */
json_t *store_workflows_page(store_t *st, const char *after_id, int limit, char **err);

/* Finds a run id by unique prefix. 0 and *full (caller frees); -2 with *err when no run has
 * it, -1 with *err when several do (or the database fails). */
int store_resolve_run(store_t *st, const char *prefix, char **full, char **err);

#endif
