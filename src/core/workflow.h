/* workflow.h - the workflow model: what a YAML workflow means once loaded and checked.
 *
 * A workflow_t is produced by workflow_load (core/loader.c) from YAML or JSON text and is
 * immutable afterwards; the engine, the validator and the API read it. All of its memory lives in
 * its arena (strings, arrays) except the jansson values, which it owns one reference of;
 * workflow_free releases everything.
 *
 * Defaults from the spec are already applied: a task's timeout, retries, backoff and model are
 * filled from `defaults` when the task does not set them, `name` defaults to the id, and
 * `agent: human_review` has become `type: human`. Indices (deps, agents) are resolved, so the
 * engine never looks anything up by name. */
#ifndef BATON_CORE_WORKFLOW_H
#define BATON_CORE_WORKFLOW_H

#include "core/diag.h"
#include "util/arena.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of spec section 8, enforced by the loader before memory is spent. */
#define WF_MAX_DOC_BYTES   (1u << 20) /* 1 MiB */
#define WF_MAX_DEPTH       64
#define WF_MAX_TASKS       10000
#define WF_MAX_ALIAS_NODES 10000        /* nodes that aliases may expand to */
#define WF_MAX_STRING      (256u << 10) /* 256 KiB */
#define WF_MAX_CONCURRENCY 100000

typedef enum {
    TASK_AGENT,
    TASK_HUMAN,
    TASK_CONSENSUS,
    TASK_MAP,
    TASK_TOOL,
    TASK_SUBFLOW
} task_type_t;
typedef enum { COND_EXECUTE, COND_SKIP, COND_FAIL } cond_action_t;
typedef enum { ON_FAILURE_FAIL_RUN, ON_FAILURE_CONTINUE } on_failure_t;
typedef enum { OUTPUT_MARKDOWN, OUTPUT_TEXT, OUTPUT_JSON } output_format_t;
typedef enum { BUDGET_FAIL, BUDGET_PAUSE, BUDGET_DOWNGRADE } budget_action_t;
typedef enum { HUMAN_APPROVAL, HUMAN_INPUT, HUMAN_DECISION } human_kind_t;
typedef enum { TIMEOUT_REJECT, TIMEOUT_APPROVE, TIMEOUT_FAIL } human_timeout_t;
typedef enum { CONSENSUS_MAJORITY, CONSENSUS_UNANIMOUS, CONSENSUS_WEIGHTED } consensus_method_t;
typedef enum { NO_CONSENSUS_HUMAN, NO_CONSENSUS_FAIL, NO_CONSENSUS_CONTINUE } no_consensus_t;

typedef struct wf_backoff {
    double initial_s; /* default 2 */
    double factor;    /* default 2 */
    double max_s;     /* default 60 */
    bool jitter;      /* default true */
} wf_backoff_t;

/* A string that may hold templates, with where it came from so errors can be located. */
typedef struct wf_text {
    const char *src; /* NULL when absent */
    src_loc_t loc;
} wf_text_t;

typedef struct wf_agent {
    const char *id;
    const char *name, *role, *goal, *instructions;
    json_t *model;      /* tier string or array of "provider/model"; NULL = task/default */
    double temperature; /* default 0.2 */
    int max_tokens;     /* default 1500 */
    int word_limit;     /* 0 = none */
    const char **tools;
    size_t n_tools;
    int max_tool_iterations;  /* tool-call rounds per attempt; 0 = the default (8) */
    output_format_t format;   /* default markdown */
    json_t *schema;           /* JSON Schema when format is json, else NULL */
    const char *artifact;     /* output.artifact, or NULL */
    double quality_threshold; /* default 0 */
    bool is_human;            /* the human_review agent */
    const char *file;         /* where it was defined (catalog file or the workflow) */
    const char *source;       /* a catalog agent's file text (NULL for inline agents): runs
                               * journal it, so a resume uses the agent the run started with */
    src_loc_t loc;
} wf_agent_t;

typedef struct wf_condition {
    wf_text_t when; /* the `if` template */
    cond_action_t then_action;
    cond_action_t else_action; /* default skip */
    src_loc_t loc;
} wf_condition_t;

typedef struct wf_task wf_task_t;

struct wf_task {
    const char *id, *name;
    task_type_t type;
    src_loc_t loc;

    /* agent */
    const char *agent_id;    /* as written; NULL for types without an agent */
    const wf_agent_t *agent; /* resolved (catalog or inline) */
    wf_text_t prompt;
    json_t *inputs;           /* object (may be empty); strings may hold templates */
    json_t *model;            /* task override, else the agent's, else defaults.model, else NULL */
    double quality_threshold; /* task override or the agent's */

    /* graph */
    const char **depends_on;
    src_loc_t *depends_on_loc;
    size_t n_deps;
    uint32_t *dep_index; /* indices into workflow_t.tasks, resolved */

    wf_condition_t *conditions;
    size_t n_conditions;

    /* execution policy */
    double timeout_s; /* default 300 */
    int max_retries;  /* default 3 */
    wf_backoff_t backoff;
    on_failure_t on_failure;
    double estimated_cost; /* USD, 0 if unknown */
    const char *artifact;  /* task.artifact, else agent output.artifact, else NULL */

    bool requires_approval;
    const char **approvers;
    size_t n_approvers;
    double approval_timeout_s; /* 0 = none */
    human_timeout_t approval_on_timeout;

    wf_text_t loop_until;    /* src NULL = no loop */
    int loop_max_iterations; /* default 3 when loop is given */

    /* human */
    human_kind_t human_kind; /* default approval */
    wf_text_t title, description;
    json_t *options;        /* array of strings or NULL */
    double human_timeout_s; /* 0 = none */
    human_timeout_t human_on_timeout;

    /* consensus */
    const char **consensus_agents;
    const wf_agent_t **consensus_agent_refs;
    size_t n_consensus_agents;
    wf_text_t question;
    consensus_method_t method;
    double deadline_s;
    no_consensus_t on_no_consensus;

    /* map */
    wf_text_t over;
    int map_concurrency; /* default 10 */
    wf_task_t *map_task; /* the per-item task template (id = parent id) */

    /* tool */
    const char *tool;
    json_t *args;

    /* subflow */
    const char *subflow;
};

typedef struct workflow {
    const char *file; /* as given to the loader, used in diagnostics */
    const char *name, *description, *version;
    json_t *inputs;    /* object: name -> {type, required, default, description} */
    json_t *variables; /* object */
    json_t *triggers;  /* object or NULL; validated, executed by the scheduler later */

    double default_timeout_s;
    int default_max_retries;
    wf_backoff_t default_backoff;
    json_t *default_model; /* NULL when not set */

    int concurrency;           /* default 10 */
    double budget_usd;         /* < 0: no budget */
    budget_action_t on_exceed; /* default fail */

    wf_agent_t *agents; /* inline agents (overrides of the catalog) */
    size_t n_agents;
    /* Copies of the catalog agents that tasks use (tasks point into these or into `agents`), so
     * a loaded workflow does not depend on the catalog staying alive or unchanged. */
    wf_agent_t *catalog_copies;
    size_t n_catalog_copies;
    wf_task_t *tasks;
    size_t n_tasks;

    /* id -> task index (open addressing over arena strings), kept from loading: the reducer
     * looks a task up for every event, so this must not be a scan. */
    const char **index_keys;
    uint32_t *index_vals;
    size_t index_cap;

    arena_t arena;
} workflow_t;

/* The agent catalog: the agents/ directory (one YAML file per agent), loaded once and shared by
 * many workflows. */
typedef struct agent_catalog {
    wf_agent_t *agents;
    size_t n;
    arena_t arena;
} agent_catalog_t;

/* Looks a task up by id; NULL when absent. */
const wf_task_t *workflow_task(const workflow_t *wf, const char *id);
int workflow_task_index(const workflow_t *wf, const char *id); /* -1 when absent */
const wf_agent_t *catalog_agent(const agent_catalog_t *cat, const char *id);

/* Loads and validates a workflow from text. `file` names it in diagnostics; `catalog` may be
 * NULL (then only inline agents exist). Returns NULL when there is any error, with every error
 * in `diags` (never only the first). `subflow_exists` may be NULL (subflow names are then only
 * checked for syntax); otherwise it says whether a workflow of that name can be found. */
typedef bool (*wf_exists_fn)(void *ud, const char *name);
workflow_t *workflow_load(const char *text, size_t len, const char *file,
                          const agent_catalog_t *catalog, wf_exists_fn subflow_exists,
                          void *subflow_ud, diag_list_t *diags);
void workflow_free(workflow_t *wf);

/* journaled.c: the workflow a run started with, from its run.created event's data: the
 * journaled `source` loaded with the journaled catalog `agents` (as the run saw them, not as the
 * agents/ folder is today). NULL with diagnostics when it does not load (or has no source). */
workflow_t *workflow_load_journaled(const json_t *created, wf_exists_fn subflow_exists,
                                    void *subflow_ud, diag_list_t *diags);
/* {task id: agent id} for every task: the agent an agent or human task names, null for tasks
 * with none or several (consensus). New reference. */
json_t *workflow_task_agents(const workflow_t *wf);

/* Parses one agent definition file (YAML mapping with an `id` or the id given) into the catalog.
 * Returns 0, or -1 with diagnostics. */
int catalog_add_yaml(agent_catalog_t *cat, const char *text, size_t len, const char *file,
                     diag_list_t *diags);
void catalog_free(agent_catalog_t *cat);

/* "300", 300, "5m", "24h", "2s", "1h30m", "500ms" -> seconds. -1 on a malformed value. */
double wf_parse_duration(const char *s);
/* A configuration duration (a number of seconds, or a string as above) in milliseconds; dflt
 * when v is absent, malformed or negative. */
long wf_duration_ms(const json_t *v, long dflt);

/* Names used in messages and events. */
const char *task_type_name(task_type_t t);

#endif
