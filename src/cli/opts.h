/* opts.h - the rules every `baton` command's options follow, in one place:
 *  - an unknown option is a usage error with a "did you mean" over the command's own options;
 *  - an option without its value says so;
 *  - numbers and choices are checked: `--limit abc` or `--status bogus` is an error (exit 2 with
 *    a message on stderr), never a silent default.
 * Every message goes to stderr as "baton CMD: ...", followed by where the help is. */
#ifndef BATON_CLI_OPTS_H
#define BATON_CLI_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/* getopt_long with the messages above: returns the option's value, -1 at the end, or '?' after
 * printing what was wrong (the caller exits EXIT_USAGE). cmd names the command in messages
 * ("runs ls"). The caller sets optind first, as with getopt_long. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               const char *cmd);

/* A whole number in [min, max] from option opt's value; false after printing why not. */
bool cli_opt_number(const char *cmd, const char *opt, const char *val, long long min, long long max,
                    long long *out);

/* Whether val is one of choices (NULL-terminated); false after printing the choices and the
 * nearest one. */
bool cli_opt_choice(const char *cmd, const char *opt, const char *val, const char *const *choices);

/* Prints "baton CMD: unknown WHAT 'word' (did you mean 'x'?)" and the help hint. */
void cli_unknown(const char *cmd, const char *what, const char *word, const char *const *candidates,
                 size_t n);

#endif
