/* crash_shim.c - LD_PRELOAD library for the crash and I/O-fault tests (tests/cli/test_crash*.sh,
 * tests/cli/test_io_fault.sh): kills the process with SIGKILL at its K-th journal commit, or
 * makes that commit meet a disk error, so a test can stop a run at every transaction boundary
 * without any hook in Baton itself. It interposes sqlite3_exec and counts the calls whose SQL is
 * exactly "COMMIT" (what store_commit runs).
 *
 *   BATON_CRASH_AFTER_COMMITS=K   kill right after the K-th successful COMMIT (absent or 0: never)
 *   BATON_CRASH_BEFORE=1          kill just before the K-th COMMIT instead: its transaction is
 *                                 lost, but whatever the process did before it (artifact files)
 *                                 is on disk
 *   BATON_CRASH_COUNT_FILE=F      keep the number of commits so far in F (to size the test)
 *   BATON_FAIL_COMMIT=K           the K-th COMMIT meets a disk error (EIO): while SQLite runs
 *                                 it, on that thread, the file writes (write, pwrite, pwrite64)
 *                                 or syncs fail, so SQLite itself reports SQLITE_IOERR ("disk
 *                                 I/O error") as it would for a failing disk. The process is
 *                                 not killed: the test sees how Baton stops.
 *   BATON_FAIL_OP=write|sync      what fails (default write: nothing of the transaction reaches
 *                                 the WAL; sync: its frames are written, the fsync fails)
 *   BATON_SLOW_COMMIT_MS=N        a slow disk for the journal writer thread: each transaction it
 *                                 begins waits N ms before its BEGIN IMMEDIATE (without holding
 *                                 the write lock). Only off the main thread: the small batches the
 *                                 event loop commits itself (store/writer.h) are not held, so the
 *                                 loop keeps answering while a request waits for its commit. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <errno.h>
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

static unsigned long commits;  /* only touched with __atomic builtins: a writer thread commits */
static unsigned long attempts; /* COMMITs started, successful or not (for BATON_FAIL_COMMIT) */

/* Set on the thread running the COMMIT chosen to fail, only while SQLite runs it. */
static __thread int failing; /* 0 no, 1 writes fail, 2 syncs fail */

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

/* ---- the disk error: libc's file writes and syncs, failing only while `failing` is set ---- */

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef int (*sync_fn)(int);

/* libc's own function, looked up once (every write of the process passes here) */
static void *real_fn(void **slot, const char *name) {
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        f = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

static void *real_write, *real_pwrite, *real_pwrite64, *real_fsync, *real_fdatasync;

static bool fail_now(int op) {
    if (!failing || (op == 1 && failing != 1)) return false;
    errno = EIO;
    return true;
}

ssize_t write(int fd, const void *buf, size_t n) {
    if (fail_now(1)) return -1;
    return ((write_fn)real_fn(&real_write, "write"))(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
    if (fail_now(1)) return -1;
    return ((pwrite_fn)real_fn(&real_pwrite, "pwrite"))(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
    if (fail_now(1)) return -1;
    return ((pwrite64_fn)real_fn(&real_pwrite64, "pwrite64"))(fd, buf, n, off);
}

/* A sync fails in both modes: in write mode the writes failed before it anyway. */
int fsync(int fd) {
    if (fail_now(2)) return -1;
    return ((sync_fn)real_fn(&real_fsync, "fsync"))(fd);
}

int fdatasync(int fd) {
    if (fail_now(2)) return -1;
    return ((sync_fn)real_fn(&real_fdatasync, "fdatasync"))(fd);
}

int sqlite3_exec(sqlite3 *db, const char *sql, exec_callback cb, void *arg, char **errmsg) {
    static exec_fn real;
    if (!real) real = (exec_fn)dlsym(RTLD_NEXT, "sqlite3_exec");
    bool is_commit = sql && strcmp(sql, "COMMIT") == 0;
    if (sql && !strcmp(sql, "BEGIN IMMEDIATE") && gettid() != getpid()) {
        unsigned long slow_ms = env_ulong("BATON_SLOW_COMMIT_MS");
        if (slow_ms) usleep((useconds_t)(slow_ms * 1000));
    }
    unsigned long fail_at = is_commit ? env_ulong("BATON_FAIL_COMMIT") : 0;
    if (fail_at && __atomic_add_fetch(&attempts, 1, __ATOMIC_SEQ_CST) == fail_at) {
        const char *op = getenv("BATON_FAIL_OP");
        failing = op && !strcmp(op, "sync") ? 2 : 1;
        int rc = real(db, sql, cb, arg, errmsg);
        failing = 0;
        return rc;
    }
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
