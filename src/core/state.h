/* state.h - run state derived from the journal by one pure reducer.
 *
 *     state = state_apply(state, event)
 *
 * The engine, `baton run --resume`, the projections and the tests all use this one function, so
 * what the journal says and what the engine believes cannot drift apart. The reducer does only
 * bookkeeping: it moves statuses as events say and derives what follows mechanically (a task is
 * `ready` once every dependency is satisfied). Every *decision* (a condition skips a task, a
 * failure is retried, the run is over) is made by the engine and journaled as its own event.
 *
 * Dependency rules (spec section 2, and docs/workflow-language.md for the choices):
 *  - satisfied: completed; skipped by a condition; failed with `on_failure: continue`.
 *  - blocked:   failed (fail_run); skipped because upstream failed; cancelled. A blocked
 *               dependency makes a pending task "doomed": the engine skips it with reason
 *               upstream_failed, which in turn blocks its own dependents (transitively).
 *
 * Events are (type, data) pairs; see state_apply for the types and their data. An event the
 * reducer cannot apply (unknown task, impossible transition) is refused with a message and the
 * state is unchanged: a journal is never half-applied. */
#ifndef BATON_CORE_STATE_H
#define BATON_CORE_STATE_H

#include "core/workflow.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TS_PENDING,
    TS_READY,
    TS_RUNNING,
    TS_RETRYING,
    TS_WAITING_HUMAN,
    TS_COMPLETED,
    TS_FAILED,
    TS_SKIPPED,
    TS_CANCELLED
} task_status_t;

typedef enum {
    RS_PENDING,
    RS_RUNNING,
    RS_PAUSED,
    RS_WAITING_HUMAN,
    RS_COMPLETED,
    RS_FAILED,
    RS_CANCELLED
} run_status_t;

typedef struct task_state {
    task_status_t status;
    int attempt;             /* attempts started so far (1-based once started) */
    int iteration;           /* loop iteration of the current/last attempt, 1-based */
    int failures;            /* failed attempts in the current iteration (for max_retries) */
    bool between_iterations; /* task.iterated seen, the next iteration's task.started not yet */
    uint32_t deps_left;      /* dependencies not yet satisfied */
    bool doomed;             /* a dependency is blocked: the engine must skip this task */
    bool queued;             /* on the ready or doomed queue already */
    char *output;            /* raw text of the last completed attempt (or NULL) */
    json_t *outputs;         /* parsed outputs ({"text":...} for markdown/text), or NULL */
    json_t *previous;        /* outputs of the previous loop iteration, or NULL */
    json_t *proposal;        /* output awaiting approval: {output, outputs} */
    json_t *human;           /* the pending human request (approval.requested data) */
    json_t *answer;          /* the human's answer not yet acted upon (approval.responded) */
    char *feedback;          /* human feedback to pass to the next attempt */
    json_t *guidance;        /* run.message texts for the next attempt: [{text, from}], or NULL */
    json_t *guidance_used;   /* what the current attempt was given (moved from guidance when it
                              * started, so a re-dispatch after a crash sends the same prompt) */
    json_t *model;           /* the cheaper model a budget downgrade chose (a tier), or NULL */
    char *error;             /* why it failed, was skipped or cancelled */
    double cost_usd;
    int64_t started_ms, finished_ms;
    int64_t retry_at_ms; /* when the next attempt is due (TS_RETRYING) */
    bool simulated;      /* an answered model call of this task was the offline model's: what
                          * it produced is a stand-in (state_call_simulated); never cleared */
} task_state_t;

typedef struct run_state {
    const workflow_t *wf;
    char *run_id;
    run_status_t status; /* RS_WAITING_HUMAN is derived: see state_run_status */
    json_t *inputs;      /* effective inputs (declared defaults applied) */
    char *error;         /* why the run failed, was cancelled, or is paused */
    double cost_usd;
    int64_t created_ms, started_ms, finished_ms;
    uint64_t seq;   /* last event applied */
    bool simulated; /* some task is simulated (task_state_t.simulated) */

    task_state_t *tasks;   /* wf->n_tasks entries */
    uint32_t **dependents; /* dependents[i]: tasks that list task i in depends_on */
    uint32_t *n_dependents;

    /* Work the reducer discovered for the engine, in discovery order. */
    uint32_t *ready_q, *doomed_q;
    size_t ready_head, ready_len, doomed_head, doomed_len;

    uint32_t n_running;  /* TS_RUNNING */
    uint32_t n_waiting;  /* TS_WAITING_HUMAN */
    uint32_t n_finished; /* terminal tasks */
    uint32_t n_failed;   /* failed and not on_failure: continue */
} run_state_t;

/* Prepares an empty state for wf (borrowed; must outlive the state). */
void state_init(run_state_t *s, const workflow_t *wf);
void state_free(run_state_t *s);

/* Applies one event. Returns 0, or -1 with a message in err when the event does not fit the
 * state (the state is then unchanged). `data` is borrowed. */
int state_apply(run_state_t *s, uint64_t seq, int64_t ts_ms, const char *type, const json_t *data,
                char *err, size_t errlen);

/* Whether task i ended without satisfying its dependents: failed (not on_failure: continue),
 * skipped because of an upstream failure, or cancelled. These are what run.retried resets. */
bool state_task_blocked(const run_state_t *s, uint32_t i);

/* Pops the next task the reducer found ready (or doomed); -1 when none. */
int state_next_ready(run_state_t *s);
int state_next_doomed(run_state_t *s);
/* Puts back a task popped by state_next_ready that could not start (e.g. the run paused). */
void state_requeue_ready(run_state_t *s, uint32_t i);

/* The status users see: running with only human-blocked work left reports waiting_human. */
run_status_t state_run_status(const run_state_t *s);
bool state_all_finished(const run_state_t *s);
bool task_status_terminal(task_status_t st);

const char *task_status_name(task_status_t st);
const char *run_status_name(run_status_t st);
int task_status_parse(const char *name); /* -1 when unknown */
int run_status_parse(const char *name);

/* The outputs an event carries. Events omit "outputs" when it is just {"text": output}, so the
 * journal holds a text once; this puts it back. New reference, or NULL when there is none. */
json_t *state_event_outputs(const json_t *data);

/* Whether an llm.call event's data marks simulated output: an answered call ("status": "ok")
 * with "simulated": true. Journals written before the flag existed have none: there the
 * candidate says it ("offline/..." is the offline model's reserved name). */
bool state_call_simulated(const json_t *data);

/* The `tasks.ID` object templates read: {status, output, outputs, cost}. New reference. */
json_t *state_task_view(const run_state_t *s, uint32_t i);

#endif
