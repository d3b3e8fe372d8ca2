/* opts.c - option parsing with the same rules for every command (see opts.h). */
#include "cli/opts.h"
#include "core/diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "runs ls" -> "runs": the help is per command. */
static void help_hint(const char *cmd) {
    size_t n = strcspn(cmd, " ");
    fprintf(stderr, "run 'baton %.*s --help' for usage\n", (int)n, cmd);
}

void cli_unknown(const char *cmd, const char *what, const char *word, const char *const *candidates,
                 size_t n) {
    char hint[160];
    const char *dym = diag_did_you_mean(hint, sizeof hint, word, candidates, n);
    fprintf(stderr, "baton%s%s: unknown %s '%s'%s%s%s\n", *cmd ? " " : "", cmd, what, word,
            dym ? " (" : "", dym ? dym : "", dym ? ")" : "");
    if (*cmd)
        help_hint(cmd);
    else
        fputs("run 'baton --help' for the commands\n", stderr);
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               const char *cmd) {
    char spec[64];
    snprintf(spec, sizeof spec, ":%s", shortopts);
    opterr = 0;
    int c = getopt_long(argc, argv, spec, longopts, NULL);
    if (c != '?' && c != ':') return c;
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    char word[128];
    if (!strncmp(arg, "--", 2)) {
        snprintf(word, sizeof word, "%.*s", (int)strcspn(arg, "="), arg);
    } else {
        snprintf(word, sizeof word, "-%c", optopt ? optopt : '?');
    }
    if (c == ':') {
        fprintf(stderr, "baton %s: option '%s' needs a value\n", cmd, word);
        help_hint(cmd);
        return '?';
    }
    /* Candidates: every long option as --NAME, and the short ones as -X. */
    const char *cands[64];
    char names[64][40];
    size_t n = 0;
    for (const struct option *o = longopts; o && o->name && n < 48; o++) {
        snprintf(names[n], sizeof names[n], "--%s", o->name);
        cands[n] = names[n];
        n++;
    }
    bool ambiguous = false;
    if (!strncmp(word, "--", 2)) {
        size_t len = strlen(word + 2), hits = 0;
        for (const struct option *o = longopts; o && o->name; o++)
            if (len && !strncmp(o->name, word + 2, len)) hits++;
        ambiguous = hits > 1;
    }
    if (ambiguous) {
        fprintf(stderr, "baton %s: option '%s' is ambiguous (more than one option starts so)\n",
                cmd, word);
        help_hint(cmd);
    } else {
        cli_unknown(cmd, "option", word, cands, n);
    }
    return '?';
}

bool cli_opt_number(const char *cmd, const char *opt, const char *val, long long min, long long max,
                    long long *out) {
    char *end = NULL;
    errno = 0;
    long long v = val && *val ? strtoll(val, &end, 10) : 0;
    if (!val || !*val || *end || errno || v < min || v > max) {
        fprintf(stderr, "baton %s: %s takes a whole number from %lld to %lld, not '%s'\n", cmd, opt,
                min, max, val ? val : "");
        help_hint(cmd);
        return false;
    }
    *out = v;
    return true;
}

bool cli_opt_choice(const char *cmd, const char *opt, const char *val, const char *const *choices) {
    size_t n = 0;
    for (; choices[n]; n++)
        if (!strcmp(val, choices[n])) return true;
    char list[512] = "";
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", choices[i]);
    }
    char hint[160];
    const char *dym = diag_did_you_mean(hint, sizeof hint, val, choices, n);
    fprintf(stderr, "baton %s: %s is one of %s, not '%s'%s%s%s\n", cmd, opt, list, val,
            dym ? " (" : "", dym ? dym : "", dym ? ")" : "");
    return false;
}
