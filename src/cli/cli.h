/* cli.h - the `baton` command line: subcommands and what they share.
 *
 * Exit statuses (DESIGN and issue contract): 0 completed / ok, 1 failed or cancelled (or an
 * invalid file for `validate`), 2 invalid workflow or usage, 3 waiting for a human. */
#ifndef BATON_CLI_CLI_H
#define BATON_CLI_CLI_H

#include "core/config.h"
#include "core/workflow.h"
#include "engine/engine.h"
#include "llm/provider.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_WAITING = 3 };

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_approvals(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_providers(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_backup(int argc, char **argv); /* backup and restore */
int cmd_artifacts(int argc, char **argv);
int cmd_workflows(int argc, char **argv);
int cmd_config(int argc, char **argv); /* config show | check */

/* ---- workspace.c: files, data dir, catalog, configuration ---- */

/* Reads a whole file (at most max bytes; larger files are refused with a message naming the
 * limit). Returns NULL with *err. Caller frees; *len excludes the terminating NUL. */
char *cli_read_file(const char *path, size_t max, size_t *len, char **err);

/* Loads the agent catalog (one YAML file per agent) from the first folder that exists of:
 * $BATON_AGENTS_DIR, ./agents, the workflow file's ../agents, the binary's ../agents and
 * ../share/baton/agents. Problems go to diags. Returns 0 even when no folder exists (then only
 * inline agents are known). */
int cli_load_catalog(agent_catalog_t *cat, const char *workflow_path, diag_list_t *diags);

/* The shipped workflow templates' folder, found as the catalog is ($BATON_WORKFLOWS_DIR,
 * ./workflows, the binary's ../workflows, ../share/baton/workflows); NULL if none. Caller frees. */
char *cli_templates_dir(void);

/* The binary's own folder (/proc/self/exe), or NULL. Caller frees. */
char *cli_exe_dir(void);

/* --data-dir's default: $BATON_DATA_DIR when set, else ./baton-data. */
const char *cli_default_data_dir(void);

/* Opens <data_dir>/baton.db, creating the folder (and artifacts/) as needed. */
store_t *cli_open_store(const char *data_dir, store_durability_t d, char **err);

/* Opens an existing data dir only (commands that read or maintain one): a mistyped
 * --data-dir must not create an empty one and report it healthy. NULL with *err when there is
 * no database there; *missing tells that case apart from a damaged one. */
store_t *cli_open_existing_store(const char *data_dir, bool *missing, char **err);

/* ---- config_load.c: the configuration (docs/configuration.md) ---- */

typedef struct cli_config {
    uint64_t offline_latency_ms;
    llm_prices_t offline_prices;
    json_t *offline_fail_attempts; /* {TASK_ID: N}: attempts 1..N of that task fail */
    double retention_runs_s;       /* retention.runs: completed/cancelled runs kept; 0 = for ever */
    double retention_failed_s;     /* retention.keep_failed: failed runs kept; 0 = for ever */
    json_t *root;                  /* the whole configuration (providers, tiers, routing) */
    /* budgets: {daily_usd: N, workflows: {NAME: {daily_usd: N}}}: 0 = no limit */
    double daily_usd;
    json_t *workflow_daily_usd; /* {NAME: N}, or NULL */
} cli_config_t;

/* Where a configuration came from: the file read and how it was found, the shipped defaults
 * merged in, and the origin of every value (core/config.h). cli_config_source_free. */
typedef struct cli_config_source {
    char *file;          /* the configuration file read, or NULL (built-in defaults only) */
    const char *found;   /* how: "--config", "BATON_CONFIG", "./baton.yaml", "XDG", or NULL */
    char *defaults_file; /* config/defaults.yaml when its providers were merged in, or NULL */
    config_origins_t origins;
} cli_config_source_t;
void cli_config_source_free(cli_config_source_t *s);

/* The daily limits, with what every run spent today (since local midnight) read from the store:
 * the engine's daily options (the engine reads each workflow's own spending). */
engine_daily_t cli_daily_limits(const cli_config_t *cfg, store_t *st);

/* Deletes the runs past cfg's retention policy (journal, projections, their artifacts folder)
 * and the blobs no artifact references any more; appends the deleted run ids. 0 or -1 + *err. */
int cli_retention_sweep(store_t *st, const char *data_dir, const cli_config_t *cfg, json_t *deleted,
                        char **err);

/* Reads the configuration: the file `path` (--config; NULL: $BATON_CONFIG, else ./baton.yaml,
 * else $XDG_CONFIG_HOME/baton/config.yaml with ~/.config as XDG_CONFIG_HOME, else none), the
 * shipped defaults' providers, tiers and routing when it names no providers, then BATON__
 * variables. Every unknown key, wrong type or bad variable is an error. 0, or -1 with *err (all
 * the located errors, one a line). cli_config_free releases it. */
int cli_load_config(const char *path, cli_config_t *cfg, char **err);
void cli_config_free(cli_config_t *cfg);

/* cli_load_config with the details: what it read (src, always to be freed), and its problems
 * located in dl (then -1; *err is set only for problems without a place, e.g. a missing file).
 * With env false, only the file is read: no defaults, no variables (baton config check). */
int cli_config_read(const char *path, bool env, cli_config_t *cfg, cli_config_source_t *src,
                    diag_list_t *dl, char **err);

/* "FILE:LINE:COL: error: MESSAGE" (+ "\n    hint: HINT") for each, one a line; without a
 * position (a variable), "NAME: error: MESSAGE". Caller frees. */
char *cli_format_diags(const diag_list_t *dl);

/* Checks the workflow in file `path` as `baton validate` does (the catalog next to it, its
 * subflows beside it): its text (caller frees; *len) and, when name is not NULL, its name
 * (caller frees) when it is valid; NULL with every problem, located and sorted, in dl (an
 * unreadable file too). */
char *cli_check_workflow_file(const char *path, size_t *len, char **name, diag_list_t *dl);

/* Prints diagnostics as "FILE:LINE:COL: error: MESSAGE" (+ hint) to stderr. */
void cli_print_diags(const diag_list_t *dl);

/* ---- summary.c: the JSON a finished (or stopped) run reports ---- */

/* "reference  $R  savings $S  (N cached calls)" from a summary's llm usage: nothing when no
 * reference model priced the calls and none was cached. */
void cli_print_savings(FILE *out, const json_t *sum);
/* The notice of a run the offline model answers (or answered) for: that its output is simulated
 * and how to configure a real model. `tasks`: the tasks concerned, or NULL. */
void cli_print_simulated_notice(FILE *out, const char *tasks);

int cli_exit_for_status(const char *status);

/* Prints a JSON value to stdout, indented, keys in their order. */
void cli_print_json(const json_t *v);

/* Colour only on a terminal, never with NO_COLOR set. */
bool cli_use_color(int fd);

#endif
