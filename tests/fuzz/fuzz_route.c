/* fuzz_route.c - the API's path patterns and query strings under arbitrary input: never a
 * crash or a leak; a match captures exactly the pattern's parameters, each a non-empty segment
 * without '/'; a query value found is NUL-terminated within its buffer. Input: a path, a NUL,
 * a query (bytes after the first NUL; NUL-free copies are what the server hands over). */
#include "api/route.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const patterns[] = {"/health",           "/api/v1/runs",
                                       "/api/v1/runs/{id}", "/api/v1/runs/{id}/events",
                                       "/a/{x}/b/{y}",      "/{x}"};
static const char *const keys[] = {"limit", "cursor", "status", "", "a=b", "&"};

static char *cstr(const uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i]) s[k++] = (char)p[i];
    s[k] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    char *path = cstr(data, plen);
    char *query = nul ? cstr(nul + 1, size - plen - 1) : cstr(data, 0);
    for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
        char *params[2] = {0};
        bool hit = route_match(patterns[i], path, params, 2);
        int want = 0;
        for (const char *p = patterns[i]; (p = strchr(p, '{')); p++) want++;
        for (int k = 0; k < 2; k++) {
            if (hit && k < want && (!params[k] || !*params[k] || strchr(params[k], '/'))) abort();
            if ((!hit || k >= want) && params[k]) abort();
            free(params[k]);
        }
    }
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char out[16];
        memset(out, 'x', sizeof out);
        if (route_query(query, keys[i], out, sizeof out) && !memchr(out, '\0', sizeof out)) abort();
    }
    free(path);
    free(query);
    return 0;
}
