/* http_strict.h - the checks Baton makes on a request's head beyond those of libwebsockets:
 * the shapes that let a proxy in front and this server read one request two ways. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* What the server knows of an HTTP/1.x head, as libwebsockets gives it: the request line's
 * version ("" when it had none), the Content-Length headers one per entry (values without the
 * white space around them, not joined; none NULL), whether a Host and a Transfer-Encoding
 * header came. */
typedef struct {
    const char *version;
    const char *const *content_length;
    size_t n_content_length;
    bool has_host;
    bool has_transfer_encoding;
} http_strict_head_t;

/* The reason to refuse the head with a 400 (a static sentence), or NULL when it is fine. */
const char *http_strict_check(const http_strict_head_t *h);

/* Whether s is a Content-Length value: 1 to 15 ASCII digits, nothing else (no sign, no
 * spaces, no list). */
bool http_strict_length(const char *s);
