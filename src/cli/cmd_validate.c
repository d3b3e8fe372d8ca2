/* cmd_validate.c - `baton validate FILE...`: every error of every file, located. */
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/cli.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <string.h>

void cmd_validate_usage(FILE *f) {
    fputs("usage: baton validate [--json] FILE...\n"
          "  checks each workflow file (and the agents and subflows it uses) without running it;\n"
          "  every error as FILE:LINE:COLUMN: error: MESSAGE, with a hint where one helps\n"
          "  --json   print an array of {file, line, column, message, hint} instead\n"
          "exit: 0 all valid, 1 any file invalid, 2 usage\n",
          f);
}

int cmd_validate(int argc, char **argv) {
    bool json = false;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--json"))
            json = true;
        else if (!strcmp(argv[first], "--")) {
            first++;
            break;
        } else {
            static const char *const known[] = {"--json", "--help"};
            cli_unknown("validate", "option", argv[first], known, 2);
            return EXIT_USAGE;
        }
    }
    if (first >= argc) {
        cmd_validate_usage(stderr);
        return EXIT_USAGE;
    }
    json_t *all = json_array();
    int invalid = 0;
    for (int i = first; i < argc; i++) {
        const char *path = argv[i];
        diag_list_t dl = {0};
        size_t len;
        free(cli_check_workflow_file(path, &len, NULL, &dl));
        if (dl.n) invalid++;
        if (json) {
            for (size_t k = 0; k < dl.n; k++)
                json_array_append_new(
                    all, json_pack("{s:s, s:i, s:i, s:s, s:s?}", "file", dl.items[k].file, "line",
                                   dl.items[k].loc.line, "column", dl.items[k].loc.col, "message",
                                   dl.items[k].message, "hint", dl.items[k].hint));
        } else if (dl.n) {
            cli_print_diags(&dl);
        } else {
            printf("%s: ok\n", path);
        }
        diag_list_free(&dl);
    }
    if (json) {
        cli_print_json(all);
    }
    json_decref(all);
    return invalid ? EXIT_FAILED : EXIT_OK;
}
