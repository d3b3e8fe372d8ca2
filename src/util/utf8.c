/* utf8.c - valid UTF-8 copies (see utf8.h). */
#include "util/utf8.h"
#include "util/strbuf.h"

#include <stdbool.h>
#include <stdint.h>

/* The length of the well-formed sequence at s (at most n bytes), 0 when there is none; *cut is
 * set when a sequence that was well-formed so far runs past the end. RFC 3629 table 3-7. */
static size_t sequence(const unsigned char *s, size_t n, bool *cut) {
    unsigned char c = s[0];
    *cut = false;
    if (c >= 0x01 && c <= 0x7F) return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* the bounds of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlongs */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    for (size_t k = 1; k < need; k++) {
        if (k >= n) {
            *cut = true;
            return 0;
        }
        unsigned char b = s[k];
        if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return 0;
    }
    return need;
}

char *utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    strbuf_t out = {0};
    sb_grow(&out, n + 1);
    size_t i = 0;
    while (i < n) {
        bool cut;
        size_t len = sequence(p + i, n - i, &cut);
        if (cut) break;
        if (len) {
            sb_append(&out, (const char *)p + i, len);
            i += len;
        } else {
            sb_putc(&out, '?');
            i++;
        }
    }
    return sb_take(&out);
}
