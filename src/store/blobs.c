/* blobs.c - content-addressed files: write once, verify on every read. */
#include "store/blobs.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void blob_sha256_hex(const void *data, size_t len, char out[BLOB_HEX_LEN + 1]) {
    static const char digits[] = "0123456789abcdef";
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, data, len);
    for (size_t i = 0; i < sizeof d; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[BLOB_HEX_LEN] = '\0';
}

bool blob_valid_hash(const char *s) {
    if (!s) return false;
    size_t i = 0;
    for (; s[i]; i++)
        if (i == BLOB_HEX_LEN || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == BLOB_HEX_LEN;
}

char *blob_rel_path(const char *sha) { return xasprintf("blobs/%.2s/%s", sha, sha); }

/* The advice every integrity error ends with: the two ways to get the bytes back. */
static char *advice(const char *data_dir) {
    return xasprintf("restore %s from a backup (baton backup), or re-run the task that wrote it",
                     data_dir);
}

static int write_all(int fd, const unsigned char *p, size_t len) {
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Whether the file holds exactly the bytes named sha. */
static bool blob_matches(const char *path, const char *sha, size_t len) {
    char *err = NULL;
    size_t got;
    char *bytes = fs_read_regular(path, len, &got, &err);
    bool ok = false;
    if (bytes && got == len) {
        char hex[BLOB_HEX_LEN + 1];
        blob_sha256_hex(bytes, got, hex);
        ok = !strcmp(hex, sha);
    }
    free(bytes);
    free(err);
    return ok;
}

int blob_put(const char *data_dir, const void *data, size_t len, char sha[BLOB_HEX_LEN + 1],
             char **err) {
    blob_sha256_hex(data, len, sha);
    char *dir = xasprintf("%s/blobs/%.2s", data_dir, sha);
    char *path = xasprintf("%s/%s", dir, sha);
    char *tmp = xasprintf("%s.tmp-XXXXXX", path);
    int rc = -1, fd = -1;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size == len &&
        blob_matches(path, sha, len)) {
        /* These bytes are stored already (checked: a damaged blob of the right size must be
         * repairable by storing its bytes again). Touch it: the collector's grace period counts
         * from the last use, and this use will be referenced only once its event commits. */
        utimensat(AT_FDCWD, path, NULL, 0);
        rc = 0;
        goto out;
    }
    /* A unique temporary name: two processes may store the same bytes at the same time, and
     * each must rename a complete file of its own. */
    if (fs_mkdir_p(dir) != 0 || (fd = mkstemp(tmp)) < 0) {
        *err = xasprintf("cannot store blob %s: %s", path, strerror(errno));
        goto out;
    }
    /* Read-only before it gets its name: nothing should ever change a blob in place (the
     * per-run files are hard links to it). */
    if (write_all(fd, data, len) != 0 || fchmod(fd, 0444) != 0) {
        *err = xasprintf("cannot store blob %s: %s", path, strerror(errno));
        goto out;
    }
    int c = close(fd);
    fd = -1;
    if (c != 0 || rename(tmp, path) != 0) {
        *err = xasprintf("cannot store blob %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) close(fd);
    if (rc != 0) unlink(tmp);
    free(dir);
    free(path);
    free(tmp);
    return rc;
}

char *blob_read_file_verified(const char *path, const char *sha, long long bytes,
                              const char *data_dir, size_t *len, char **err) {
    char *what = advice(data_dir);
    char *why = NULL, *data = NULL;
    size_t n = 0;
    struct stat sb;
    /* Artifacts from before blobs are read from their own file: call it that. */
    const char *kind = strstr(path, "blobs/") ? "blob" : "file";
    if (!blob_valid_hash(sha)) {
        *err = xasprintf("%s: the journal records no valid sha256 for it ('%s'); %s", path,
                         sha ? sha : "", what);
        goto out;
    }
    /* A size that differs says enough, and a file grown huge is not worth reading. */
    if (bytes >= 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size != bytes) {
        *err = xasprintf("%s %s is damaged: it has %lld bytes, the journal recorded %lld "
                         "(sha256 %s); %s",
                         kind, path, (long long)sb.st_size, bytes, sha, what);
        goto out;
    }
    data = fs_read_regular(path, bytes >= 0 ? (size_t)bytes : BLOB_READ_MAX, &n, &why);
    if (!data) {
        /* fs_read_regular's message starts with the path, which this one names already. */
        size_t pl = strlen(path);
        const char *reason =
            !strncmp(why, path, pl) && !strncmp(why + pl, ": ", 2) ? why + pl + 2 : why;
        *err = xasprintf("%s %s cannot be read (%s): expected sha256 %s; %s", kind, path, reason,
                         sha, what);
        goto out;
    }
    char actual[BLOB_HEX_LEN + 1];
    blob_sha256_hex(data, n, actual);
    if (strcmp(actual, sha) != 0) {
        *err = xasprintf("%s %s is corrupted: expected sha256 %s, found %s (%zu bytes); %s", kind,
                         path, sha, actual, n, what);
        free(data);
        data = NULL;
        goto out;
    }
    if (len) *len = n;
out:
    free(why);
    free(what);
    return data;
}

char *blob_read_verified(const char *data_dir, const char *sha, long long bytes, size_t *len,
                         char **err) {
    if (!blob_valid_hash(sha)) {
        char *what = advice(data_dir);
        *err = xasprintf("'%s' is not a blob name (64 hex digits); %s", sha ? sha : "", what);
        free(what);
        return NULL;
    }
    char *path = xasprintf("%s/blobs/%.2s/%s", data_dir, sha, sha);
    char *data = blob_read_file_verified(path, sha, bytes, data_dir, len, err);
    free(path);
    return data;
}
