/* static_files.c - the console's files (`baton serve --ui-dir DIR`): a GET of any path the API
 * does not own is a file under DIR, "/" and paths without an extension are DIR/index.html (a
 * single-page app routes them itself). Paths with "..", "//" or bytes below space are refused;
 * symbolic links are followed only when they stay inside DIR (realpath). */
#include "api/answer.h"
#include "api/handlers.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
    {".wasm", "application/wasm"},
};

static const char *type_of(const char *path) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return NULL;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strcmp(dot, types[i].ext)) return types[i].type;
    return "application/octet-stream";
}

static bool safe_path(const char *p) {
    if (p[0] != '/' || strstr(p, "..") || strstr(p, "//")) return false;
    for (const unsigned char *c = (const unsigned char *)p; *c; c++)
        if (*c < 0x20 || *c == '\\') return false;
    return true;
}

bool api_static(http_req_t *req, api_t *a) {
    if (!a->ui_dir || strcmp(req->method, "GET") || !strncmp(req->path, "/api/", 5) ||
        !strncmp(req->path, "/v1/", 4))
        return false;
    if (!safe_path(req->path)) {
        api_error(req, 400, "bad_request", "not a file path");
        return true;
    }
    const char *type = type_of(req->path);
    char *file =
        type ? xasprintf("%s%s", a->ui_dir, req->path) : xasprintf("%s/index.html", a->ui_dir);
    if (!type) type = "text/html; charset=utf-8";
    char real[PATH_MAX], root[PATH_MAX];
    size_t len = 0;
    char *err = NULL, *body = NULL;
    if (realpath(file, real) && realpath(a->ui_dir, root) && !strncmp(real, root, strlen(root)) &&
        (real[strlen(root)] == '/' || !real[strlen(root)]))
        body = fs_read_regular(real, 64u << 20, &len, &err);
    if (body)
        http_respond(req, 200, type, body, len);
    else
        api_error(req, 404, "not_found", "no file %.200s", req->path);
    free(body);
    free(err);
    free(file);
    return true;
}
