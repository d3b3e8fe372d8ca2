#include "util/fs.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char *fail(char **err, char *msg) {
    if (err)
        *err = msg;
    else
        free(msg);
    return NULL;
}

/* Reads f (closed here) up to max bytes; path names it in messages. */
static char *read_all(FILE *f, const char *path, size_t max, size_t *len, char **err) {
    /* Read at most max+1 bytes: enough to know the file is too large without reading it all. */
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        size_t want = cap - n;
        if (n + want > max + 1) want = max + 1 - n;
        size_t got = fread(buf + n, 1, want, f);
        n += got;
        if (got < want || n > max) break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad || n > max) {
        free(buf);
        return fail(err, bad ? xasprintf("%s: read error", path)
                             : xasprintf("%s: file is larger than the %zu-byte limit", path, max));
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

char *fs_read_file(const char *path, size_t max, size_t *len, char **err) {
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, xasprintf("%s: %s", path, strerror(errno)));
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(f);
        return fail(err, xasprintf("%s: is a directory", path));
    }
    return read_all(f, path, max, len, err);
}

char *fs_read_regular(const char *path, size_t max, size_t *len, char **err) {
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, for ever; it is
     * cleared again once fstat has shown a regular file (whose reads never block on it). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return fail(err, xasprintf("%s: %s", path, strerror(errno)));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return fail(err, xasprintf("%s: not a regular file", path));
    }
    int fl = fcntl(fd, F_GETFL);
    FILE *f = fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        close(fd);
        return fail(err, xasprintf("%s: %s", path, strerror(errno)));
    }
    return read_all(f, path, max, len, err);
}

int fs_mkdir_p(const char *path) {
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = p + 1; *s && rc == 0; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) rc = -1;
        *s = '/';
    }
    if (rc == 0 && mkdir(p, 0755) != 0 && errno != EEXIST) rc = -1;
    free(p);
    return rc;
}
