/* cmd_validate.c - `baton validate FILE...`: every error of every file, located. */
#include "cli/cli.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <string.h>

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
            fprintf(stderr, "usage: baton validate [--json] FILE...\n");
            return EXIT_USAGE;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "usage: baton validate [--json] FILE...\n");
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
