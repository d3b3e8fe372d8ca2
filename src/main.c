/* main.c - `baton`: one binary for the CLI (and, as they land, the server and the worker). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("baton " BATON_VERSION " - run teams of LLM agents\n\n"
          "usage: baton COMMAND [options]\n\n"
          "  run FILE          run a workflow live in the terminal (--help for options)\n"
          "  serve             the HTTP API on 127.0.0.1:8080 (health, runs, validation so far)\n"
          "  run --resume ID   carry on an unfinished run from its journal\n"
          "  validate FILE...  check workflows; every error with file:line:column\n"
          "  runs ls|show|events   what the data dir knows about runs\n"
          "  approvals ls|respond  human steps waiting for an answer\n"
          "  admin rebuild|check|sweep   projections, integrity, retention\n"
          "  providers ls|test     configured models, breakers, spend today; one round trip\n"
          "  embed TEXT...         embedding vectors of texts (--model, --json)\n"
          "  backup FILE | restore FILE  online backup of the database, and back\n"
          "  artifacts ls|cat|diff  versions of what a run wrote: list, print, diff\n"
          "  workflows ls|show|push|rm  stored, versioned workflows (data dir or --server)\n"
          "  version           print the version\n\n"
          "docs: docs/workflow-language.md, docs/cli.md\n",
          f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "validate")) return cmd_validate(argc - 1, argv + 1);
    if (!strcmp(cmd, "runs")) return cmd_runs(argc - 1, argv + 1);
    if (!strcmp(cmd, "approvals")) return cmd_approvals(argc - 1, argv + 1);
    if (!strcmp(cmd, "admin")) return cmd_admin(argc - 1, argv + 1);
    if (!strcmp(cmd, "providers")) return cmd_providers(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "embed")) return cmd_embed(argc - 1, argv + 1);
    if (!strcmp(cmd, "backup") || !strcmp(cmd, "restore")) return cmd_backup(argc - 1, argv + 1);
    if (!strcmp(cmd, "artifacts")) return cmd_artifacts(argc - 1, argv + 1);
    if (!strcmp(cmd, "workflows")) return cmd_workflows(argc - 1, argv + 1);
    if (!strcmp(cmd, "config")) return cmd_config(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        puts("baton " BATON_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "baton: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
