/* run_session.h - drives one run in this process until it finishes, fails, or needs a human
 * nobody here can be: used by `baton run`, `baton run --resume` (a paused run is resumed too),
 * `baton run --retry` and `baton approvals respond`.
 *
 * Humans: on a terminal the session prompts (approve / reject / modify with feedback; choose an
 * option; type an answer); with auto_approve it answers for them (approve, the first option,
 * "auto-approved"); otherwise it stops, prints how to answer, and reports waiting_human.
 *
 * One process drives a run at a time (runlock.h): a run another `baton run` drives, or any run
 * of a data dir a `baton serve` serves, is refused with a message naming that process. */
#ifndef BATON_CLI_RUN_SESSION_H
#define BATON_CLI_RUN_SESSION_H

#include "cli/cli.h"
#include "engine/engine.h"

typedef struct run_session_opts {
    const char *data_dir;
    const char *config_path;
    store_durability_t durability;
    bool auto_approve;
    bool json;
    const char *llm_mode;   /* --llm-mode: live, record or replay (NULL: routing.mode) */
    const char *recordings; /* --recordings FILE (NULL: routing.recordings, else
                             * <data_dir>/recordings.json) */
} run_session_opts_t;

typedef enum {
    SESSION_START,
    SESSION_RESUME,
    SESSION_RESPOND,
    SESSION_FORK,
    SESSION_RETRY,
    /* `baton runs cancel|pause|message` without a server: the run is brought back from its
     * journal (when no other process drives it), steered, and left as it is then. */
    SESSION_CANCEL,
    SESSION_PAUSE,
    SESSION_MESSAGE
} session_kind_t;

typedef struct run_session_req {
    session_kind_t kind;
    const char *workflow_path; /* SESSION_START */
    const json_t *inputs;      /* SESSION_START; SESSION_FORK: inputs that replace the parent's */
    const char *run_id;        /* RESUME / RESPOND / RETRY / FORK's parent (a unique prefix is
                                * enough) */
    uint64_t fork_at;          /* SESSION_FORK: the last event of the parent the fork keeps */
    const char *task_id;       /* RESPOND */
    const json_t *answer;      /* RESPOND */
    const char *reason;        /* CANCEL, PAUSE (NULL: a default saying where it came from) */
    const char *text;          /* MESSAGE: the guidance */
    const char *task, *agent;  /* MESSAGE: only that task's / agent's tasks (NULL: all) */
} run_session_req_t;

/* What --auto-approve answers to a human request (approval.requested data): approve a proposal,
 * "auto-approved" for an input, else the first option. New reference. */
json_t *run_session_auto_answer(const json_t *req);

/* Runs and returns the process exit status (cli.h). */
int run_session(const run_session_opts_t *o, const run_session_req_t *req);

#endif
