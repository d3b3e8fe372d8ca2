/* fuzz_http_request.c - the strict checks on a request's head (net/http_strict.h), fed raw
 * request lines and headers. The harness reads the head as libwebsockets hands it to the server
 * (the request line's version, each Content-Length value with the white space around it taken
 * off, whether Host and Transfer-Encoding came) and checks: never a crash or a leak; a head
 * passed has HTTP/1.1 or HTTP/1.0, a Host on HTTP/1.1, at most one Content-Length, never with
 * Transfer-Encoding, and that one plain digits that strtoull reads whole to below 10^15. */
#include "net/http_strict.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_CL 8

static char *trimmed(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    char *t = malloc(n + 1);
    memcpy(t, s, n);
    t[n] = '\0';
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *in = (const char *)data, *end = in + size;
    char *version = NULL, *cl[MAX_CL];
    size_t n_cl = 0;
    bool host = false, te = false;
    for (const char *line = in; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = (size_t)((nl ? nl : end) - line);
        if (!version) { /* the request line: METHOD SP URI SP VERSION */
            const char *sp = memchr(line, ' ', len);
            const char *sp2 = sp ? memchr(sp + 1, ' ', len - (size_t)(sp + 1 - line)) : NULL;
            version = sp2 ? trimmed(sp2 + 1, len - (size_t)(sp2 + 1 - line)) : trimmed("", 0);
        } else {
            const char *colon = memchr(line, ':', len);
            size_t name = colon ? (size_t)(colon - line) : 0;
            const char *value = colon ? colon + 1 : NULL;
            size_t vlen = colon ? len - name - 1 : 0;
            if (name == 14 && !strncasecmp(line, "content-length", 14) && n_cl < MAX_CL)
                cl[n_cl++] = trimmed(value, vlen);
            else if (name == 4 && !strncasecmp(line, "host", 4))
                host = true;
            else if (name == 17 && !strncasecmp(line, "transfer-encoding", 17))
                te = true;
        }
        line = nl ? nl + 1 : end;
    }
    if (!version) version = trimmed("", 0);
    http_strict_head_t h = {.version = version,
                            .content_length = (const char *const *)cl,
                            .n_content_length = n_cl,
                            .has_host = host,
                            .has_transfer_encoding = te};
    const char *why = http_strict_check(&h);
    if (why != http_strict_check(&h)) abort(); /* one verdict for one head */
    if (!why) {
        bool v11 = !strcmp(version, "HTTP/1.1");
        if (!v11 && strcmp(version, "HTTP/1.0")) abort();
        if (v11 && !host) abort();
        if (n_cl > 1 || (n_cl && te)) abort();
    }
    for (size_t i = 0; i < n_cl; i++) {
        if (http_strict_length(cl[i])) {
            char *stop;
            unsigned long long v = strtoull(cl[i], &stop, 10);
            if (*stop || v >= 1000000000000000ULL || cl[i][0] == '+' || cl[i][0] == '-') abort();
        } else if (!why && n_cl == 1) {
            abort(); /* a length not taken must not pass */
        }
        free(cl[i]);
    }
    free(version);
    return 0;
}
