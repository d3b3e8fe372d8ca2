/* commands.c - the command table (see commands.h). */
#include "cli/commands.h"
#include "cli/cli.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const RUNS_SUBS[] = {"ls",    "show",   "events",  "fork", "cancel",
                                        "pause", "resume", "message", NULL};
static const char *const APPROVALS_SUBS[] = {"ls", "respond", NULL};
static const char *const ADMIN_SUBS[] = {"rebuild", "check", "sweep", NULL};
static const char *const PROVIDERS_SUBS[] = {"ls", "test", NULL};
static const char *const ARTIFACTS_SUBS[] = {"ls", "cat", "diff", NULL};
static const char *const WORKFLOWS_SUBS[] = {"ls", "show", "push", "rm", NULL};
static const char *const CONFIG_SUBS[] = {"show", "check", NULL};
static const char *const COMPLETION_SUBS[] = {"bash", "zsh", "fish", NULL};

const cli_command_t cli_commands[] = {
    {"run", "FILE | --resume ID | --retry ID",
     "run a workflow live in the terminal (or on a server)", NULL, cmd_run, cmd_run_usage},
    {"validate", "FILE...", "check workflows; every error with file:line:column", NULL,
     cmd_validate, cmd_validate_usage},
    {"runs", "ls|show|events|fork|cancel|pause|resume|message",
     "what the data dir (or a server) knows about runs, and steering them", RUNS_SUBS, cmd_runs,
     cmd_runs_usage},
    {"approvals", "ls|respond", "human steps waiting for an answer", APPROVALS_SUBS, cmd_approvals,
     cmd_approvals_usage},
    {"serve", "", "the HTTP API and web UI on 127.0.0.1:8080", NULL, cmd_serve, cmd_serve_usage},
    {"workflows", "ls|show|push|rm", "stored, versioned workflows (data dir or --server)",
     WORKFLOWS_SUBS, cmd_workflows, cmd_workflows_usage},
    {"artifacts", "ls|cat|diff", "versions of what a run wrote: list, print, diff", ARTIFACTS_SUBS,
     cmd_artifacts, cmd_artifacts_usage},
    {"providers", "ls|test", "configured models, breakers, spend today; one round trip",
     PROVIDERS_SUBS, cmd_providers, cmd_providers_usage},
    {"embed", "TEXT...", "embedding vectors of texts", NULL, cmd_embed, cmd_embed_usage},
    {"admin", "rebuild|check|sweep", "projections, integrity, retention", ADMIN_SUBS, cmd_admin,
     cmd_admin_usage},
    {"backup", "FILE", "online backup of the database", NULL, cmd_backup, cmd_admin_usage},
    {"restore", "FILE", "replace the database with a backup", NULL, cmd_backup, cmd_admin_usage},
    {"config", "show|check", "the configuration in effect (with sources), or check a file",
     CONFIG_SUBS, cmd_config, cmd_config_usage},
    {"completion", "bash|zsh|fish", "the shell completion script", COMPLETION_SUBS, cmd_completion,
     cmd_completion_usage},
    {"help", "[COMMAND | --man]", "this overview, a command's help, or the man page", NULL,
     cmd_help, cmd_help_usage},
    {"version", "", "print the version", NULL, cmd_version, cmd_version_usage},
};
const size_t cli_n_commands = sizeof cli_commands / sizeof *cli_commands;

const cli_command_t *cli_command_find(const char *name) {
    for (size_t i = 0; i < cli_n_commands; i++)
        if (!strcmp(cli_commands[i].name, name)) return &cli_commands[i];
    return NULL;
}

void cli_commands_overview(FILE *f) {
    fputs("baton " BATON_VERSION " - run teams of LLM agents\n\n"
          "usage: baton COMMAND [options]   (baton COMMAND --help for its options)\n\n",
          f);
    for (size_t i = 0; i < cli_n_commands; i++) {
        const cli_command_t *c = &cli_commands[i];
        char head[96];
        snprintf(head, sizeof head, "%s %s", c->name, c->args);
        fprintf(f, "  %-34s %s\n", head, c->summary);
    }
    fputs("\nenvironment: BATON_SERVER (a server instead of the data dir), BATON_AGENTS_DIR,\n"
          "BATON_WORKFLOWS_DIR, NO_COLOR\n"
          "exit: 0 ok, 1 failed or cancelled, 2 usage or invalid workflow, 3 waiting for a human\n"
          "docs: docs/cli.md, docs/workflow-language.md (man baton)\n",
          f);
}

void cli_words_free(char **words) {
    for (size_t i = 0; words && words[i]; i++) free(words[i]);
    free(words);
}

char **cli_command_options(const cli_command_t *c) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return xcalloc(1, sizeof(char *));
    c->usage(f);
    fclose(f);
    size_t n = 0, cap = 8;
    char **words = xcalloc(cap, sizeof *words);
    bool quoted = false; /* `baton run --resume ID` in a help text is another command's */
    for (const char *p = text; *p;) {
        if (*p == '`') quoted = !quoted;
        if (quoted || strncmp(p, "--", 2)) {
            p++;
            continue;
        }
        const char *s = p + 2, *e = s;
        while (islower((unsigned char)*e) || *e == '-') e++;
        /* "--" alone, or inside a word, is not an option */
        bool word =
            e > s && isalpha((unsigned char)*s) && (p == text || !isalnum((unsigned char)p[-1]));
        if (word) {
            char *opt = xasprintf("--%.*s", (int)(e - s), s);
            bool seen = false;
            for (size_t i = 0; i < n; i++) seen = seen || !strcmp(words[i], opt);
            if (seen) {
                free(opt);
            } else {
                if (n + 2 > cap) words = xrealloc(words, (cap *= 2) * sizeof *words);
                words[n++] = opt;
            }
        }
        p = e > s ? e : p + 2;
    }
    words[n] = NULL;
    free(text);
    return words;
}
