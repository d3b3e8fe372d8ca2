/* runlock.c - flock(2) locks on DATA_DIR/locks/ (see runlock.h). */
#include "cli/runlock.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* *busy tells "someone holds it" apart from "cannot even open the file". */
static int take(const char *data_dir, const char *run_id, char **err, int *busy) {
    char *dir = xasprintf("%s/locks", data_dir);
    mkdir(dir, 0700);
    char *path =
        run_id ? xasprintf("%s/run-%s.lock", dir, run_id) : xasprintf("%s/serve.lock", dir);
    free(dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        *busy = 0;
        *err = xasprintf("cannot open %s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        *busy = 1;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        *err = run_id ? xasprintf("run %s is being driven by another baton process%s%s%s", run_id,
                                  *pid ? " (pid " : "", pid, *pid ? ")" : "")
                      : xasprintf("baton serve%s%s%s is serving this data dir",
                                  *pid ? " (pid " : "", pid, *pid ? ")" : "");
        close(fd);
        free(path);
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        /* the pid is only for messages: the lock holds without it */
    }
    free(path);
    return fd;
}

int runlock_take(const char *data_dir, const char *run_id, char **err) {
    int busy;
    return take(data_dir, run_id, err, &busy);
}

int runlock_served(const char *data_dir, char **err) {
    int busy = 0;
    int fd = take(data_dir, NULL, err, &busy);
    if (fd < 0 && !busy) { /* a data dir we cannot write to: no server writes there either */
        free(*err);
        *err = NULL;
        return 0;
    }
    if (fd < 0) return 1;
    close(fd);
    return 0;
}
