/* route.c - path patterns and query strings (see route.h). */
#include "api/route.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool route_query(const char *query, const char *key, char *out, size_t outlen) {
    size_t kl = strlen(key);
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            snprintf(out, outlen, "%.*s", (int)(len - kl - 1), p + kl + 1);
            return true;
        }
        p = amp ? amp + 1 : NULL;
    }
    return false;
}

bool route_match(const char *pattern, const char *path, char **params, int max) {
    int n = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/') goto no;
        pattern++;
        path++;
        size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
        if (pattern[0] == '{') {
            if (!sl || n >= max) goto no;
            params[n++] = xstrndup(path, sl);
        } else if (pl != sl || strncmp(pattern, path, pl)) {
            goto no;
        }
        pattern += pl;
        path += sl;
    }
    if (!*pattern && !*path) return true;
no:
    for (int k = 0; k < n; k++) {
        free(params[k]);
        params[k] = NULL;
    }
    return false;
}
