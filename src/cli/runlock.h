/* runlock.h - which process drives a run of a data dir. The journal has one writer per run:
 * `baton run` (and --resume, --retry, approvals respond, runs fork) holds the run's lock while
 * it drives it, `baton serve` holds the data dir's server lock while it serves. A command that
 * would bring a run back from its journal in a second process (runs cancel|pause|message
 * without --server) checks both first, so it never writes beside a live process.
 *
 * The locks are flock(2) locks on files under DATA_DIR/locks/: the kernel drops them when the
 * process ends, however it ends, so a crashed process never leaves a run locked. */
#ifndef BATON_CLI_RUNLOCK_H
#define BATON_CLI_RUNLOCK_H

/* Takes the lock of run_id (a whole id), or of the server when run_id is NULL, without
 * waiting: the descriptor that holds it (close it, or exit, to let go), or -1 with *err (caller
 * frees) naming the process that holds it. */
int runlock_take(const char *data_dir, const char *run_id, char **err);

/* Whether a `baton serve` holds the data dir now (0 no, 1 yes with *err saying so). */
int runlock_served(const char *data_dir, char **err);

#endif
