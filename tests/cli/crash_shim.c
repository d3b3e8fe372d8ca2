/* crash_shim.c - LD_PRELOAD library for the crash tests (tests/cli/test_crash*.sh): kills the
 * process with SIGKILL at its K-th journal commit, so a test can stop a run at every transaction
 * boundary without any hook in Baton itself. It interposes sqlite3_exec and counts the calls
 * whose SQL is exactly "COMMIT" (what store_commit runs).
 *
 *   BATON_CRASH_AFTER_COMMITS=K   kill right after the K-th successful COMMIT (absent or 0: never)
 *   BATON_CRASH_BEFORE=1          kill just before the K-th COMMIT instead: its transaction is
 *                                 lost, but whatever the process did before it (artifact files)
 *                                 is on disk
 *   BATON_CRASH_COUNT_FILE=F      keep the number of commits so far in F (to size the test) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sqlite3 sqlite3;
typedef int (*exec_callback)(void *, int, char **, char **);
typedef int (*exec_fn)(sqlite3 *, const char *, exec_callback, void *, char **);

int sqlite3_exec(sqlite3 *db, const char *sql, exec_callback cb, void *arg, char **errmsg);

static unsigned long commits; /* only touched with __atomic builtins: a writer thread commits */

static unsigned long env_ulong(const char *name) {
    const char *v = getenv(name);
    return v ? strtoul(v, NULL, 10) : 0;
}

static void record(unsigned long n) {
    const char *path = getenv("BATON_CRASH_COUNT_FILE");
    if (!path || !*path) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%lu\n", n);
    if (write(fd, buf, (size_t)len) != len) { /* best effort: the test checks the number it reads */
    }
    close(fd);
}

int sqlite3_exec(sqlite3 *db, const char *sql, exec_callback cb, void *arg, char **errmsg) {
    static exec_fn real;
    if (!real) real = (exec_fn)dlsym(RTLD_NEXT, "sqlite3_exec");
    bool is_commit = sql && strcmp(sql, "COMMIT") == 0;
    unsigned long limit = is_commit ? env_ulong("BATON_CRASH_AFTER_COMMITS") : 0;
    if (is_commit && limit && env_ulong("BATON_CRASH_BEFORE") &&
        __atomic_load_n(&commits, __ATOMIC_SEQ_CST) + 1 == limit)
        kill(getpid(), SIGKILL);
    int rc = real(db, sql, cb, arg, errmsg);
    if (is_commit && rc == 0 /* SQLITE_OK */) {
        unsigned long n = __atomic_add_fetch(&commits, 1, __ATOMIC_SEQ_CST);
        record(n);
        if (limit && n == limit) kill(getpid(), SIGKILL);
    }
    return rc;
}
