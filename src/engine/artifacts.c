/* artifacts.c - task outputs stored as named files under the data dir, one folder per run.
 *
 * Written to a temporary file and renamed, so a crash never leaves half a file under the final
 * name. Names come from workflows (user input): they are sanitised so no name can leave the run's
 * folder. */
#include "engine/engine_internal.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARTIFACT_NAME_MAX 128

char *artifact_sanitize_name(const char *name) {
    size_t n = strlen(name);
    char *out = xmalloc(n + 2);
    size_t j = 0;
    for (size_t i = 0; i < n && j < ARTIFACT_NAME_MAX; i++) {
        unsigned char c = (unsigned char)name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_';
        /* No leading dots: neither hidden files nor "." / ".." can come out of this. */
        if (c == '.' && j == 0) continue;
        out[j++] = ok ? (char)c : '_';
    }
    out[j] = '\0';
    if (j == 0) {
        free(out);
        return xstrdup("artifact");
    }
    return out;
}

const char *artifact_mime(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return "text/plain";
    static const struct { const char *ext, *mime; } types[] = {
        {".md", "text/markdown"}, {".markdown", "text/markdown"}, {".txt", "text/plain"},
        {".json", "application/json"}, {".yaml", "application/yaml"}, {".yml", "application/yaml"},
        {".html", "text/html"}, {".csv", "text/csv"}, {".xml", "application/xml"},
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcasecmp(dot, types[i].ext)) return types[i].mime;
    return "application/octet-stream";
}

static void hex(const unsigned char *in, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* report.md, report.v2.md, report.v3.md, ... (a dotless name gets the suffix at its end) */
static char *version_file(const char *folder, const char *safe, int version) {
    if (version <= 1) return xasprintf("%s/%s", folder, safe);
    const char *dot = strrchr(safe, '.');
    if (!dot) return xasprintf("%s/%s.v%d", folder, safe, version);
    return xasprintf("%s/%.*s.v%d%s", folder, (int)(dot - safe), safe, version, dot);
}

json_t *artifact_write(const char *dir, const char *run_id, const char *task_id,
                       const char *agent_id, const char *name, int version, const char *content,
                       size_t len, char **err) {
    char *safe = artifact_sanitize_name(name);
    char *folder = xasprintf("%s/%s", dir, run_id);
    char *path = version_file(folder, safe, version);
    char *tmp = xasprintf("%s.tmp", path);
    json_t *out = NULL;
    FILE *f = NULL;
    if (fs_mkdir_p(folder) != 0 || !(f = fopen(tmp, "wb")) || fwrite(content, 1, len, f) != len ||
        fflush(f) != 0) {
        *err = xasprintf("cannot write artifact %s: %s", path, strerror(errno));
        goto out;
    }
    fclose(f);
    f = NULL;
    if (rename(tmp, path) != 0) {
        *err = xasprintf("cannot write artifact %s: %s", path, strerror(errno));
        goto out;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    char sha[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256(digest, (const unsigned char *)content, len);
    hex(digest, sizeof digest, sha);
    out = json_pack("{s:s, s:s, s:i, s:s?, s:s, s:s, s:I, s:s}", "task", task_id, "name", safe,
                    "version", version, "agent", agent_id, "path", path, "sha256", sha,
                    "bytes", (json_int_t)len, "mime", artifact_mime(safe));
out:
    if (f) fclose(f);
    if (!out) unlink(tmp);
    free(safe);
    free(folder);
    free(path);
    free(tmp);
    return out;
}
