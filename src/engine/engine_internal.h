/* engine_internal.h - what the engine's files share. Not for other modules.
 *
 * Files: engine.c (runs, the journal pump, scheduling), attempt.c (the attempt lifecycle every
 * task type shares: start, dispatch, retries, loops, completion), task_agent.c (agent calls,
 * timeouts, schema repairs), task_human.c (human steps and answers), task_consensus.c (votes),
 * prompt.c (what an agent is told), inputs.c (run inputs), artifacts.c (files on disk),
 * tool_loop.c (an agent's tool calls within an attempt), tools.c and tool_http.c (the tools). */
#ifndef BATON_ENGINE_INTERNAL_H
#define BATON_ENGINE_INTERNAL_H

#include "core/template.h"
#include "engine/engine.h"
#include "llm/http.h"
#include "store/writer.h"
#include "util/strbuf.h"

typedef struct task_exec task_exec_t;

/* Runtime of one task of one run: what is in flight. Owned by the run. */
struct task_exec {
    engine_run_t *run;
    uint32_t index;
    uv_timer_t timer;  /* timeout while running, backoff while retrying, human deadline */
    bool timer_ready;  /* uv_timer_init done (lazily: most tasks of a big run need none) */
    llm_call_t *call;  /* in-flight agent call */
    int repairs;       /* schema repair round trips in this attempt */
    char *repair_note; /* validator message for the next repair call */
    json_t *inputs;    /* rendered inputs of the attempt in flight */
    /* consensus */
    llm_call_t **vote_calls;   /* one per agent; NULL once answered */
    struct vote_ctx *vote_ctx; /* one per agent: what each answer belongs to */
    json_t *votes;             /* array, one slot per agent (null = not yet / abstained) */
    size_t votes_pending;
    bool dispatch_queued;
    int64_t retry_after_ms;   /* the last failed call's Retry-After (0 or -1: none) */
    bool due_queued;          /* an attempt of this task waits in the run's due list */
    bool timer_is_deadline;   /* consensus: the timer is the vote deadline, not the timeout */
    char *question;           /* consensus: the rendered question */
    double spend_refused_usd; /* consensus: estimates of the votes the spending limits refused */
    char *spend_note;         /* consensus: the router's reason for the first of them */
    /* tools */
    json_t *transcript; /* this attempt's tool turns (llm.h), folded from its tool.*
                         * events (tool_loop_observe), so a resume rebuilds it */
    int transcript_attempt, transcript_iteration; /* whose turns they are */
    struct tool_fetch *fetch;                     /* the http_fetch in flight, or NULL */
};

/* An attempt waiting to start: a retry whose backoff is over, a re-run asked for by a reviewer,
 * the next loop iteration. The pump starts it when the run has a free slot (a loop iteration
 * already holds one) and the budget allows. */
typedef struct due_attempt {
    uint32_t task;
    int attempt, iteration;
} due_attempt_t;

struct engine_run {
    engine_t *eng;
    const workflow_t *wf;
    run_state_t st;
    task_exec_t *exec;
    json_t *scope;       /* root names for templates: inputs, variables, tasks, run, artifacts */
    json_t *scope_tasks; /* scope["tasks"]: id -> {status, output, outputs, cost} */
    json_t *scope_artifacts;
    json_t *artifact_versions; /* name -> versions written so far in this run */
    json_t *artifact_owner;    /* name -> the task that wrote its newest version */
    due_attempt_t *due;
    size_t n_due, cap_due;
    run_status_t reported; /* the status last journaled (run.status), to journal changes */
    uint64_t rng;          /* jitter */
    bool dirty;            /* has work for the next pump */
    bool freed;
    engine_run_t *next;    /* engine's list */
    uint32_t open_handles; /* timers not yet closed; the run is freed when it reaches 0 */
};

/* What a batch of events announces: notifications for observers, and effects (model calls,
 * human requests) to start once the batch is durable. */
typedef struct effects {
    struct pending_event {
        engine_run_t *run;
        uint64_t seq;
        int64_t ts;
        char *type;
        json_t *data;
    } * notes;
    size_t n_notes, cap_notes;
    task_exec_t **dispatch;
    size_t n_dispatch, cap_dispatch;
    bool results; /* the batch carries results effects may read (is_result_event) */
} effects_t;

struct engine {
    engine_opts_t o;
    uv_idle_t flush; /* runs the pump + group commit once per loop turn when dirty */
    bool flush_active;
    engine_run_t *runs;
    store_writer_t *writer; /* commits each turn's batch on the writer thread */
    effects_t next;         /* what this loop turn's events announce, not yet handed over */
    /* Batches handed to the writer, oldest first: their effects wait for their commit. */
    struct in_flight {
        uint64_t ticket;
        effects_t fx;
    } * flying;
    size_t n_flying, cap_flying;
    char *error;
    bool closing;           /* engine_free is under way: nothing is journaled any more */
    engine_daily_t daily;   /* the daily limits, and today's spending kept up to date */
    json_t *workflow_spent; /* {NAME: USD} spent today, for the workflows with a daily limit */
    uint64_t gateway_seq;   /* the last seq of the gateway's ledger (0: not read yet) */
    http_client_t *http;    /* http_fetch's client, made on first use */
};

/* Journals one event for run: applies it to the run state (the reducer must accept it: the
 * engine only emits valid transitions), queues it for the next group commit and for observers.
 * Steals the reference to data. */
void run_emit(engine_run_t *run, const char *type, json_t *data);
/* Asks for a pump + commit at the end of this loop turn. */
void run_touch(engine_run_t *run);
/* Queues the task's effect (model call, human request) to start after the next commit. */
void run_defer_dispatch(engine_run_t *run, uint32_t i);
/* Checks the run's budget before a call of task i: 0 go on (perhaps on a cheaper tier after
 * budget.downgraded); 1 the budget stopped the run
 * (journaled: budget.exceeded, then run.failed or run.paused as on_exceed says). */
int run_check_budget(engine_run_t *run, uint32_t i);
/* What the spending limits (the run's budget, the daily limits) leave for run's next call; false
 * when none applies. */
bool run_spend_room(const engine_run_t *run, double *left);
/* The router refused task i's call because every candidate could pass the spending limits (the
 * cheapest estimated at `estimate`): journals budget.exceeded and applies on_exceed, as
 * run_check_budget does. */
int run_budget_refused(engine_run_t *run, uint32_t i, double estimate, const char *detail);
/* The model task i calls: a budget downgrade's tier, else the task's own (NULL: the agent's). */
const json_t *run_task_model(const engine_run_t *run, uint32_t i);
/* Queues an attempt to start when the run has room for it (see due_attempt_t). */
void run_queue_attempt(engine_run_t *run, uint32_t i, int attempt, int iteration);

/* The scope templates of task i see, with `extra` (item, iteration, previous...) on top. */
typedef struct task_scope {
    expr_scope_t run_scope, local;
    json_t *locals;
} task_scope_t;
/* attempt.c */
void task_scope_init(task_scope_t *ts, engine_run_t *run, uint32_t i);
void task_scope_free(task_scope_t *ts);

/* attempt.c: the attempt lifecycle, shared by every task type. */

/* Starts attempt `attempt` of task i (journals task.started; effect follows the commit). */
void task_begin_attempt(engine_run_t *run, uint32_t i, int attempt, int iteration);
/* Starts the effect of the task's current attempt (called after commit). */
void task_dispatch(engine_run_t *run, uint32_t i);
/* The attempt in flight failed: retry with backoff or fail for good. */
void task_attempt_failed(engine_run_t *run, uint32_t i, const char *error, bool retryable,
                         double cost_usd);
/* The attempt produced output: approval, loop, artifact, completion. */
void task_attempt_succeeded(engine_run_t *run, uint32_t i, const char *output, json_t *outputs,
                            double cost_usd, bool skip_approval);
/* Arms the backoff timer: the next attempt of task i starts after delay_ms. */
void task_schedule_retry(engine_run_t *run, uint32_t i, uint64_t delay_ms);
/* Stops whatever is in flight for task i (call, timer). */
void task_stop_effects(engine_run_t *run, uint32_t i);
void task_timer_start(engine_run_t *run, uint32_t i, uint64_t ms, uv_timer_cb cb);

void agent_dispatch(engine_run_t *run, uint32_t i);
void human_dispatch(engine_run_t *run, uint32_t i);
void consensus_dispatch(engine_run_t *run, uint32_t i);
void consensus_cancel(engine_run_t *run, uint32_t i);
/* Acts on a recorded answer (approval.responded) of task i. */
void human_apply_answer(engine_run_t *run, uint32_t i);
/* After a resume: act on a recorded answer, or re-arm the deadline of a pending request. */
void human_resume(engine_run_t *run, uint32_t i);
/* Requests a human step for task i: journals approval.requested. */
void human_request(engine_run_t *run, uint32_t i, json_t *request);

/* prompt.c: the system and user messages for an agent call: instructions, the task's prompt
 * and inputs, a reviewer's feedback, guidance posted to the run for this attempt
 * ([{text, from}]), a schema validator's complaint about the last answer, and the previous loop
 * iteration's output (each may be NULL). Caller frees both. */
void prompt_compose(const wf_task_t *task, const wf_agent_t *agent, const char *task_prompt,
                    const json_t *inputs, const char *feedback, const json_t *guidance,
                    const char *repair, const json_t *previous, char **system, char **user);

/* inputs.c: checks run inputs against the declaration and applies defaults. New reference or
 * NULL with *err. */
json_t *inputs_resolve(const workflow_t *wf, const json_t *given, char **err);

/* artifacts.c: writes version `version` of an artifact: its bytes as a blob of the data dir
 * (dir's parent: <data-dir>/blobs/, see store/blobs.h), and under <dir>/<run_id>/ a hard link
 * to it (a copy where links fail): the first as <name>, later ones as <stem>.v<N><ext>, so every
 * version's file keeps its recorded hash. Returns the artifact.written event data (new
 * reference; "blob" is the blob's path relative to the data dir) or NULL with *err. */
json_t *artifact_write(const char *dir, const char *run_id, const char *task_id,
                       const char *agent_id, const char *name, int version, const char *content,
                       size_t len, char **err);
/* The first line of a Markdown artifact the offline model wrote (docs/models.md). */
#define ARTIFACT_SIMULATED_NOTICE                                                                  \
    "> Simulated by Baton's offline model: no model wrote this. See docs/models.md to configure "  \
    "one."
/* What a simulated task's artifact holds (task_state_t.simulated): a Markdown one (named *.md or
 * *.markdown, or dotless from a markdown agent) starts with ARTIFACT_SIMULATED_NOTICE, so the
 * file never passes for real work wherever it is copied. NULL for other formats (JSON has no
 * place for a notice: the API's "simulated" says it). Caller frees. */
char *artifact_simulated_content(const char *name, output_format_t format, const char *content);
/* Reads back the bytes an artifact.written event (`written`, borrowed) recorded, from its blob
 * (or, for events from before blobs, its file), checked against the recorded size and sha256.
 * NULL with *err (which names the blob, what was expected and found, and what to do) when they
 * are missing or damaged. Caller frees. */
char *artifact_read(const char *dir, const char *run_id, const json_t *written, size_t *len,
                    char **err);
/* The data dir an artifacts dir (<data-dir>/artifacts) belongs to. Caller frees. */
char *artifact_data_dir(const char *artifacts_dir);
/* Keeps [A-Za-z0-9._-], maps the rest to '_', refuses traversal; caller frees. */
char *artifact_sanitize_name(const char *name);
const char *artifact_mime(const char *name);

double engine_random01(engine_run_t *run);

/* ---- tools ------------------------------------------------------------------------------- */

/* tool_loop.c: the tool loop of an agent attempt. The model's tool calls are journaled
 * (tool.requested) before any runs, each result (tool.result) before the model sees it, so a
 * resume runs only the calls without a result and never asks a person twice. */

/* Folds a journaled event into the run's tool state: task.started empties the task's transcript,
 * tool.requested and tool.result add to it, artifact.written records who wrote what. Called
 * for every event, live (run_emit) and on replay. */
void tool_loop_observe(engine_run_t *run, const char *type, const json_t *data);
/* Whether the last tool turn of task i has calls without a result. */
bool tool_loop_pending(engine_run_t *run, uint32_t i);
/* Runs the pending calls of task i in order; when none is left, the next model call follows
 * (after the results are durable). Stops at a call that waits (http_fetch, ask_human). */
void tool_loop_run(engine_run_t *run, uint32_t i);
/* A model response: when it asks for tools, journals the request, schedules the calls and
 * returns true (resp is then freed); false when it is an answer to handle as usual. Fails the
 * attempt when the agent's max_tool_iterations are used up. */
bool tool_loop_requested(engine_run_t *run, uint32_t i, llm_response_t *resp);
/* Journals one call's result (tool.result). */
void tool_loop_result(engine_run_t *run, uint32_t i, const json_t *call, const char *content,
                      bool is_error, int64_t ms);
/* The person answered an ask_human of task i (its approval.responded is journaled): the answer
 * becomes the call's result and the loop goes on. */
void tool_loop_answer(engine_run_t *run, uint32_t i);

/* tools.c / tool_http.c: the registry. */
typedef enum {
    TOOL_DONE,    /* finished: *content (caller frees) and *is_error are the result */
    TOOL_PENDING, /* running (http_fetch): its result reaches tool_loop_result later */
    TOOL_HUMAN,   /* a person was asked (approval.requested journaled) */
} tool_status_t;
/* How a tool that finished later (http_fetch) reports: the agent loop journals the result and
 * goes on; a `type: tool` task ends with it. */
typedef void (*tool_done_fn)(engine_run_t *run, uint32_t i, const json_t *call, const char *content,
                             bool is_error, int64_t ms);
/* The definitions the agent of task i is offered ([{name, description, parameters}]), NULL without
 * tools. New reference. */
json_t *tools_definitions(engine_run_t *run, uint32_t task);
/* Runs one call ({id, name, arguments}) of agent task i. Unknown tools, tools the agent does
 * not have and bad arguments are results with is_error, never failures of the task. */
tool_status_t tools_start(engine_run_t *run, uint32_t i, const json_t *call, char **content,
                          bool *is_error);
/* Runs one call of any tool the registry has, for task i (no agent check); a TOOL_PENDING
 * result reaches `done`. */
tool_status_t tools_run(engine_run_t *run, uint32_t i, const json_t *call, tool_done_fn done,
                        char **content, bool *is_error);
tool_status_t tool_http_fetch(engine_run_t *run, uint32_t i, const json_t *call, tool_done_fn done,
                              char **content, bool *is_error);
/* task_tool.c: a `type: tool` task: its args rendered, its tool run through the registry. */
void tool_task_dispatch(engine_run_t *run, uint32_t i);
/* task_agent.c: arms the attempt's timeout unless it is running already. */
void task_arm_timeout(engine_run_t *run, uint32_t i);
/* Stops the tool in flight of task i (its result is never reported). */
void tools_cancel(engine_run_t *run, uint32_t i);

#endif
