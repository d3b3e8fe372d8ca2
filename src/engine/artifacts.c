/* artifacts.c - task outputs stored as named files under the data dir, one folder per run.
 *
 * The bytes live once, content-addressed, in <data-dir>/blobs/ (store/blobs.h); the run's folder
 * holds a hard link to the blob under the artifact's name, so people find it where they look.
 * Everything is written to a temporary file and renamed, so a crash never leaves half a file
 * under a final name. Names come from workflows (user input): they are sanitised so no name can
 * leave the run's folder. */
#include "engine/engine_internal.h"
#include "store/blobs.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <errno.h>
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
    static const struct {
        const char *ext, *mime;
    } types[] = {
        {".md", "text/markdown"},      {".markdown", "text/markdown"}, {".txt", "text/plain"},
        {".json", "application/json"}, {".yaml", "application/yaml"},  {".yml", "application/yaml"},
        {".html", "text/html"},        {".csv", "text/csv"},           {".xml", "application/xml"},
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcasecmp(dot, types[i].ext)) return types[i].mime;
    return "application/octet-stream";
}

char *artifact_simulated_content(const char *name, output_format_t format, const char *content) {
    bool markdown = !strcmp(artifact_mime(name), "text/markdown") ||
                    (!strchr(name, '.') && format == OUTPUT_MARKDOWN);
    if (!markdown || !content) return NULL;
    return xasprintf("%s\n\n%s", ARTIFACT_SIMULATED_NOTICE, content);
}

/* report.md, report.v2.md, report.v3.md, ... (a dotless name gets the suffix at its end) */
static char *version_file(const char *folder, const char *safe, int version) {
    if (version <= 1) return xasprintf("%s/%s", folder, safe);
    const char *dot = strrchr(safe, '.');
    if (!dot) return xasprintf("%s/%s.v%d", folder, safe, version);
    return xasprintf("%s/%.*s.v%d%s", folder, (int)(dot - safe), safe, version, dot);
}

char *artifact_data_dir(const char *artifacts_dir) {
    size_t n = strlen(artifacts_dir);
    while (n > 1 && artifacts_dir[n - 1] == '/') n--;
    size_t slash = n;
    while (slash > 0 && artifacts_dir[slash - 1] != '/') slash--;
    if (slash == 0) return xstrdup(".");
    while (slash > 1 && artifacts_dir[slash - 1] == '/') slash--;
    return xstrndup(artifacts_dir, slash);
}

/* The per-run file: a hard link to the blob, so it costs no space and always holds the blob's
 * bytes; a copy where links are not possible (another file system, FAT, some network mounts).
 * Made under a temporary name and renamed, so the final name never shows half a file. */
static int place_run_file(const char *blob, const char *path, const char *content, size_t len,
                          char **err) {
    struct stat bs, ps;
    if (stat(blob, &bs) == 0 && stat(path, &ps) == 0 && bs.st_dev == ps.st_dev &&
        bs.st_ino == ps.st_ino)
        return 0; /* already linked: a task re-run after a crash wrote the same bytes */
    char *tmp = xasprintf("%s.tmp", path);
    unlink(tmp); /* a leftover of a crash would make link() fail */
    int rc = -1;
    if (link(blob, tmp) != 0) {
        FILE *f = fopen(tmp, "wb");
        bool ok = f && fwrite(content, 1, len, f) == len && fflush(f) == 0;
        if (f && fclose(f) != 0) ok = false;
        if (!ok) {
            *err = xasprintf("cannot write artifact %s: %s", path, strerror(errno));
            goto out;
        }
    }
    if (rename(tmp, path) != 0) {
        *err = xasprintf("cannot write artifact %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    /* Also after a successful rename: when tmp and path are links to one file (another process
     * placed it meanwhile), rename() does nothing and leaves tmp behind. */
    unlink(tmp);
    free(tmp);
    return rc;
}

json_t *artifact_write(const char *dir, const char *run_id, const char *task_id,
                       const char *agent_id, const char *name, int version, const char *content,
                       size_t len, char **err) {
    char *safe = artifact_sanitize_name(name);
    char *folder = xasprintf("%s/%s", dir, run_id);
    char *path = version_file(folder, safe, version);
    char *data_dir = artifact_data_dir(dir);
    char sha[BLOB_HEX_LEN + 1];
    char *rel = NULL, *blob = NULL;
    json_t *out = NULL;
    /* The blob first: once the per-run file exists, its bytes are stored for good. */
    if (blob_put(data_dir, content, len, sha, err) != 0) goto out;
    rel = blob_rel_path(sha);
    blob = xasprintf("%s/%s", data_dir, rel);
    if (fs_mkdir_p(folder) != 0) {
        *err = xasprintf("cannot write artifact %s: %s", path, strerror(errno));
        goto out;
    }
    if (place_run_file(blob, path, content, len, err) != 0) goto out;
    out = json_pack("{s:s, s:s, s:i, s:s?, s:s, s:s, s:s, s:I, s:s}", "task", task_id, "name", safe,
                    "version", version, "agent", agent_id, "path", path, "blob", rel, "sha256", sha,
                    "bytes", (json_int_t)len, "mime", artifact_mime(safe));
out:
    free(safe);
    free(folder);
    free(path);
    free(data_dir);
    free(rel);
    free(blob);
    return out;
}

char *artifact_read(const char *dir, const char *run_id, const json_t *written, size_t *len,
                    char **err) {
    const char *sha = json_string_value(json_object_get(written, "sha256"));
    const char *path = json_string_value(json_object_get(written, "path"));
    const json_t *b = json_object_get(written, "bytes");
    long long bytes = json_is_integer(b) ? (long long)json_integer_value(b) : -1;
    char *data_dir = artifact_data_dir(dir);
    char *data;
    /* The recorded sha256 is what the bytes must hash to, wherever they are read from. */
    if (json_object_get(written, "blob") || !path) {
        data = blob_read_verified(data_dir, sha, bytes, len, err);
    } else {
        /* Before blobs, the path was journaled as the run's working directory saw it; from
         * another one the file is still in this artifacts dir's folder for the run. */
        const char *base = strrchr(path, '/');
        char *here = xasprintf("%s/%s/%s", dir, run_id ? run_id : "", base ? base + 1 : path);
        data = blob_read_file_verified(access(path, F_OK) == 0 ? path : here, sha, bytes, data_dir,
                                       len, err);
        free(here);
    }
    free(data_dir);
    return data;
}
