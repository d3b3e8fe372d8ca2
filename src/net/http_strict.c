/* http_strict.c - the checks on a request's head (see http_strict.h). */
#include "net/http_strict.h"

#include <string.h>

bool http_strict_length(const char *s) {
    size_t n = strspn(s, "0123456789");
    return n >= 1 && n <= 15 && !s[n];
}

const char *http_strict_check(const http_strict_head_t *h) {
    bool v11 = !strcmp(h->version, "HTTP/1.1");
    /* any other version would be answered as HTTP/1.0 by libwebsockets: a guess, not a reading */
    if (!v11 && strcmp(h->version, "HTTP/1.0"))
        return "the HTTP version must be HTTP/1.1 or HTTP/1.0";
    if (v11 && !h->has_host) return "an HTTP/1.1 request needs a Host header";
    if (h->n_content_length > 1) return "a request carries one Content-Length header, not several";
    if (h->n_content_length && h->has_transfer_encoding)
        return "a body is framed by Content-Length or Transfer-Encoding, not both";
    if (h->n_content_length && !http_strict_length(h->content_length[0]))
        return "Content-Length must be plain digits";
    return NULL;
}
