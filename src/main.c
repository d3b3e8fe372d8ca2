/* main.c - `baton`: one binary for the CLI, the server and the engine. The commands live in
 * one table (cli/commands.c); the rules every command follows are applied here once:
 * -h/--help anywhere prints the command's help on stdout (exit 0); an unknown command or
 * subcommand is a usage error on stderr (exit 2) with a "did you mean". */
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/opts.h"

#include <stdio.h>
#include <string.h>

static bool wants_help(int argc, char **argv) {
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--")) return false;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return true;
    }
    return false;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        cli_commands_overview(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version")) cmd = "version";
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) cmd = "help";
    const cli_command_t *c = cli_command_find(cmd);
    if (!c) {
        const char *names[34];
        size_t n = 0;
        for (; n < cli_n_commands && n < 32; n++) names[n] = cli_commands[n].name;
        names[n++] = "--help";
        names[n++] = "--version";
        cli_unknown("", cmd[0] == '-' ? "option" : "command", cmd, names, n);
        return EXIT_USAGE;
    }
    if (wants_help(argc, argv)) {
        c->usage(stdout);
        return EXIT_OK;
    }
    if (c->subcommands) {
        size_t n = 0;
        bool known = false;
        for (; c->subcommands[n]; n++)
            known = known || (argc > 2 && !strcmp(argv[2], c->subcommands[n]));
        if (argc < 3 || argv[2][0] == '-') {
            fprintf(stderr, "baton %s: which one? ", c->name);
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, "%s%s", i ? ", " : "", c->subcommands[i]);
            fprintf(stderr, "\nrun 'baton %s --help' for usage\n", c->name);
            return EXIT_USAGE;
        }
        if (!known) {
            cli_unknown(c->name, "subcommand", argv[2], c->subcommands, n);
            return EXIT_USAGE;
        }
    }
    return c->run(argc - 1, argv + 1);
}
