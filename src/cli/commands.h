/* commands.h - the table of `baton` commands: one row per command with its subcommands, the
 * function that runs it and the one that prints its help. `baton --help`, `baton help CMD`,
 * the shell completions (`baton completion`) and the man page (`baton help --man`) are all
 * generated from it and from each command's help text, so they cannot drift apart. */
#ifndef BATON_CLI_COMMANDS_H
#define BATON_CLI_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

typedef struct cli_command {
    const char *name;
    const char *args;                  /* after the name in the overview: "ls|show|events ..." */
    const char *summary;               /* one line */
    const char *const *subcommands;    /* NULL-terminated, or NULL: takes none */
    int (*run)(int argc, char **argv); /* argv[0] is the command's name */
    void (*usage)(FILE *f);            /* the command's whole help text */
} cli_command_t;

extern const cli_command_t cli_commands[];
extern const size_t cli_n_commands;

/* The row named name, or NULL. */
const cli_command_t *cli_command_find(const char *name);

/* The overview `baton --help` prints. */
void cli_commands_overview(FILE *f);

/* Every distinct --option a command's help text names, in order (NULL-terminated; caller
 * frees the array and its strings with cli_words_free). */
char **cli_command_options(const cli_command_t *c);
void cli_words_free(char **words);

/* Each command's help text (cmd_*.c). */
void cmd_run_usage(FILE *f);
void cmd_validate_usage(FILE *f);
void cmd_runs_usage(FILE *f);
void cmd_approvals_usage(FILE *f);
void cmd_admin_usage(FILE *f);
void cmd_providers_usage(FILE *f);
void cmd_serve_usage(FILE *f);
void cmd_embed_usage(FILE *f);
void cmd_artifacts_usage(FILE *f);
void cmd_workflows_usage(FILE *f);
void cmd_config_usage(FILE *f);
void cmd_completion_usage(FILE *f);
void cmd_help_usage(FILE *f);
void cmd_version_usage(FILE *f);

/* `baton completion bash|zsh|fish` and `baton help [CMD | --man]` (completion.c). */
int cmd_completion(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
