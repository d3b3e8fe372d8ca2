/* task_history.h - one task's attempts and errors, folded from its run's journal. Pure: the
 * caller feeds the run's events in journal order (events of other tasks are ignored); no I/O.
 *
 * What the API's task detail shows beside the projection's one row per task (which keeps only
 * the last attempt): every attempt with its own start, end, status, error, output and cost.
 *
 *  - An attempt begins with task.started and is numbered by its `attempt`. A re-run after a
 *    reviewer's "modify" keeps its number (docs/events.md), so it continues the same attempt.
 *  - Events that name an attempt (task.completed, task.failed, llm.call, ...) apply to it; others
 *    to the latest attempt. A task.failed before any start (a condition's fail) has none.
 *  - cost_usd: what the reducer adds to the task (core/state.h), split by attempt; so the
 *    attempts add up to the task's cost, except for cost journaled before the first start.
 *  - errors: every task.failed, task.output_rejected and budget.exceeded of the task, in order.
 *
 * The journal does not keep the prompt an attempt sent, so there is none here.
 *
 * Ownership: the caller owns the task_history_t (on its stack or in a struct it frees) and
 * releases what init and apply allocated with task_history_free; `task` and the two arrays
 * belong to it (read them, or json_incref what must outlive the history). task_id and each
 * event's type and data are borrowed for the call; values the history keeps from data (output,
 * outputs, error, limit, retry_at_ms) are shared by reference (json_incref), not copied, so the
 * caller must not change them in place afterwards.
 * Threading: pure, no shared state: any thread, one thread per history at a time. */
#ifndef BATON_CORE_TASK_HISTORY_H
#define BATON_CORE_TASK_HISTORY_H

#include <jansson.h>
#include <stdint.h>

typedef struct task_history {
    char *task;
    /* [{attempt, iteration, status, started_at, finished_at, error, retry_at_ms, output,
     *   outputs, cost_usd}]: status is running, waiting_human, iterated (a loop iteration
     *   ended and another follows), completed, failed or cancelled; outputs only when the
     *   result was structured (a JSON agent), else null and the text is in output. */
    json_t *attempts;
    /* [{seq, ts, type, attempt, error}] (attempt null when the event names none and no attempt
     * was open; budget.exceeded also has limit). */
    json_t *errors;
} task_history_t;

void task_history_init(task_history_t *h, const char *task_id);
void task_history_apply(task_history_t *h, uint64_t seq, int64_t ts_ms, const char *type,
                        const json_t *data);
void task_history_free(task_history_t *h);

#endif
