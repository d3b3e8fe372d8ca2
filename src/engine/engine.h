/* engine.h - runs workflows on the libuv loop.
 *
 * The engine turns a loaded workflow into a run: it schedules ready tasks within the run's
 * concurrency limit, evaluates conditions, calls the model provider, retries with backoff,
 * enforces timeouts and budgets, waits for humans, writes artifacts, and journals every state
 * change as an event (core/state.h lists them). State is never kept beside the journal: each
 * event is applied to the run's state with the same pure reducer a resume or a test uses.
 *
 * Durability: events produced during one loop turn are committed in one transaction at the end
 * of the turn (group commit); a model call or any other effect that depends on an event is
 * started only after that event's transaction committed.
 *
 * Threading: everything happens on the loop thread that owns `loop`. */
#ifndef BATON_ENGINE_ENGINE_H
#define BATON_ENGINE_ENGINE_H

#include "core/state.h"
#include "core/workflow.h"
#include "llm/provider.h"
#include "store/store.h"

#include <uv.h>

typedef struct engine engine_t;
typedef struct engine_run engine_run_t;

/* Called after each committed event, in journal order. data is borrowed. */
typedef void (*engine_event_fn)(void *ud, engine_run_t *run, uint64_t seq, int64_t ts,
                                const char *type, const json_t *data);

/* Daily spending limits (budgets.daily_usd and budgets.workflows.NAME.daily_usd in the
 * configuration), checked with the run's own budget before every call. What every run spent
 * today before the engine started is read from the store by the caller; what a workflow spent
 * today is read from the store when its first run starts. The engine adds what its own calls
 * cost from then on. */
typedef struct engine_daily {
    double limit_usd;              /* every run together; 0: no limit */
    double spent_usd;              /* spent today before the engine started */
    const json_t *workflow_limits; /* {NAME: USD} per workflow, or NULL; borrowed for the
                                    * engine's life */
    int64_t since_ms;              /* where "today" started (local midnight) */
} engine_daily_t;

typedef struct engine_opts {
    uv_loop_t *loop;
    store_t *store;
    llm_provider_t *provider;
    llm_prices_t prices; /* used for budget estimates before a call... */
    /* ...unless the router can say what a model costs (its first candidate's prices). */
    llm_prices_t (*prices_for)(void *ud, const json_t *model);
    void *prices_ud;
    const char *artifacts_dir; /* <data-dir>/artifacts */
    engine_event_fn on_event;
    void *on_event_ud;
    /* Optional (ud: on_event_ud): an agent's answer text as it streams in (not journaled: the
     * answer is, with task.completed). Provisional: a candidate that fails or is rejected had
     * its text shown. */
    void (*on_delta)(void *ud, engine_run_t *run, const char *task, int attempt,
                     const char *candidate, const char *piece);
    uint64_t seed;              /* seeds retry jitter; 0 picks one from the clock */
    engine_daily_t daily;       /* daily spending limits; zero: none */
    const json_t *tools_config; /* the configuration's `tools` section (engine/tools.h), or NULL;
                                 * borrowed for the engine's life */
} engine_opts_t;

engine_t *engine_new(const engine_opts_t *opts);
/* Cancels nothing: call engine_cancel first if runs must stop. Frees every run. */
void engine_free(engine_t *e);

/* The stored workflow version a run starts from (store.h, stored workflows): journaled in
 * run.created as workflow_id and workflow_version, so the run names what it is pinned to. */
typedef struct engine_workflow_ref {
    const char *id;  /* "wf-..." */
    int64_t version; /* 1, 2, ... */
} engine_workflow_ref_t;

/* Starts a run of wf (borrowed: it must outlive the run). `source` (the workflow text) and
 * `file` are journaled with the run so it can be resumed, inspected or forked later; so is
 * `ref` (NULL: the workflow is no stored one). inputs is borrowed. Returns NULL with *err
 * (caller frees) when the inputs do not fit the declaration. */
engine_run_t *engine_start(engine_t *e, const workflow_t *wf, const char *source, const char *file,
                           const engine_workflow_ref_t *ref, const json_t *inputs, char **err);

/* Rebuilds a run from its journal and carries on: completed tasks stay completed, tasks that
 * were running are dispatched again with the same attempt number, retry timers and human waits
 * are restored. wf must be the workflow the run was started with. */
engine_run_t *engine_resume(engine_t *e, const workflow_t *wf, const char *run_id, char **err);

/* Starts a new run that shares `parent`'s history up to event `at` and carries on from there
 * (the child records parent_run_id and fork_seq). `inputs`, when not NULL or empty, replaces the
 * run's inputs (the parent's merged with these, checked against the declaration): tasks that
 * finished before `at` keep their results, later ones see the new inputs. */
engine_run_t *engine_fork(engine_t *e, const workflow_t *wf, const char *parent, uint64_t at,
                          const json_t *inputs, char **err);

/* A new run id: "r-" + the millisecond clock in base 32 + 4 random characters. Caller frees. */
char *engine_new_run_id(void);

/* Why a request to change a run was refused: the caller branches on the code (the API picks
 * its status from it), and *err still says it in words for people.
 * ENGINE_OK is 0; every refusal leaves the run as it was (nothing journaled). Two kinds:
 *  - the request itself is wrong, whatever the run's state (an API's 400): ENGINE_E_NO_TASK,
 *    ENGINE_E_BAD_DECISION, ENGINE_E_SCHEMA;
 *  - the run's state does not allow it now (an API's 409): every other code. */
typedef enum engine_rc {
    ENGINE_OK = 0,
    ENGINE_E_NO_TASK,          /* the run has no task with that id */
    ENGINE_E_NOT_WAITING,      /* the task is not waiting for a human (never asked, or done) */
    ENGINE_E_ANSWERED,         /* the request has an answer already, not yet acted on */
    ENGINE_E_BAD_DECISION,     /* the decision is not one of the request's options */
    ENGINE_E_SCHEMA,           /* the edited output does not fit the agent's output schema */
    ENGINE_E_NOT_RUNNING,      /* pause: the run is not running */
    ENGINE_E_NOT_PAUSED,       /* unpause: the run is not paused */
    ENGINE_E_FINISHED,         /* cancel, message: the run finished already */
    ENGINE_E_NOT_RETRYABLE,    /* retry: the run is neither failed nor cancelled */
    ENGINE_E_NOTHING_TO_RETRY, /* retry: no failed, blocked or cancelled task to run again */
    ENGINE_E_NO_RECIPIENT,     /* message: no unfinished agent task the guidance would reach */
} engine_rc_t;

/* The code's name ("ENGINE_E_ANSWERED"), for logs and tests; static storage. */
const char *engine_rc_name(engine_rc_t rc);
/* Whether rc says the request itself is wrong (the first kind above), not the run's state. */
bool engine_rc_bad_request(engine_rc_t rc);

/* Each of these journals its change (on the engine of the run) and returns ENGINE_OK, or
 * returns a reason code with *err (caller frees; err may be NULL when the words are not
 * wanted) and changes nothing. The loop thread, as every engine call. */

/* Answers a human step. answer (borrowed): {decision, feedback, edited_output, answers,
 * answered_by}. Refusals: ENGINE_E_NO_TASK, ENGINE_E_NOT_WAITING, ENGINE_E_ANSWERED,
 * ENGINE_E_BAD_DECISION, ENGINE_E_SCHEMA. */
engine_rc_t engine_respond(engine_run_t *run, const char *task_id, const json_t *answer,
                           char **err);
/* Stops whatever is in flight, cancels the unfinished tasks and ends the run (run.cancelled).
 * ENGINE_E_FINISHED for a run that finished already. */
engine_rc_t engine_cancel(engine_run_t *run, const char *reason, char **err);
/* Pauses a running run (run.paused): nothing new starts until engine_unpause. ENGINE_E_NOT_RUNNING
 * otherwise. */
engine_rc_t engine_pause(engine_run_t *run, const char *reason, char **err);
/* Carries a paused run on (run.resumed). ENGINE_E_NOT_PAUSED otherwise. */
engine_rc_t engine_unpause(engine_run_t *run, char **err);
/* Guidance for a running run (run.message): `text` is added to the next model call of each
 * unfinished agent task, of `task` only, or of the tasks of `agent` only (both may be NULL).
 * *tasks: the ids of the tasks it will reach (new reference). Refusals: ENGINE_E_FINISHED,
 * ENGINE_E_NO_TASK, ENGINE_E_NO_RECIPIENT (*tasks NULL). */
engine_rc_t engine_message(engine_run_t *run, const char *task, const char *agent, const char *text,
                           const char *from, json_t **tasks, char **err);
/* Runs a failed or cancelled run again from where it stopped (run.retried): its failed,
 * blocked and cancelled tasks start afresh (new attempt numbers), completed ones keep their
 * results. Refusals: ENGINE_E_NOT_RETRYABLE, ENGINE_E_NOTHING_TO_RETRY. */
engine_rc_t engine_retry(engine_run_t *run, char **err);

/* Lets a finished run go from memory (its journal stays): true when it did, false while the
 * run is not finished or some of its events are still on their way to the journal or to
 * on_event (try again on a later loop turn). run is invalid after true. */
bool engine_forget(engine_t *e, engine_run_t *run);

const run_state_t *engine_run_state(const engine_run_t *run);
const char *engine_run_id(const engine_run_t *run);
const workflow_t *engine_run_workflow(const engine_run_t *run);

/* The last journal write error, or NULL. A run whose events cannot be written stops. */
const char *engine_error(const engine_t *e);

/* Journals one model call (llm.call) in the run it belongs to; ignored for unknown runs and for
 * calls made outside any run (no run_id, as `baton embed`'s). An answered call's cost is
 * informational here (call_cost_usd): the result's cost reaches the run through the task's own
 * events, so nothing is counted twice. A call that delivered nothing the task used (failed,
 * rejected, cancelled) adds its cost to the run here (cost_usd). Calls of ENGINE_GATEWAY_RUN go
 * to the gateway's ledger. */
void engine_record_call(engine_t *e, const llm_call_record_t *rec);

/* The journal the OpenAI-compatible gateway's model calls go to: calls whose record has this
 * run_id are journaled as llm.call events there (no runs row), so llm_calls prices them and the
 * daily limits count them. */
#define ENGINE_GATEWAY_RUN STORE_LEDGER_RUN

/* What the daily limit for every run leaves (a call outside any run: the gateway's); false when
 * there is no such limit. */
bool engine_daily_room(const engine_t *e, double *left);

/* Milliseconds since the epoch; the clock every journal timestamp uses. */
int64_t engine_now_ms(void);

#endif
