#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_grow(strbuf_t *sb, size_t extra) {
    if (sb->len + extra + 1 <= sb->cap) return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1) cap *= 2;
    bool fresh = !sb->buf;
    sb->buf = xrealloc(sb->buf, cap);
    sb->cap = cap;
    if (fresh) sb->buf[0] = '\0'; /* always NUL-terminated, even before the first byte */
}

void sb_append(strbuf_t *sb, const char *s, size_t n) {
    sb_grow(sb, n);
    if (n) memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void sb_puts(strbuf_t *sb, const char *s) { sb_append(sb, s, strlen(s)); }

void sb_putc(strbuf_t *sb, char c) { sb_append(sb, &c, 1); }

void sb_vprintf(strbuf_t *sb, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n > 0) {
        sb_grow(sb, (size_t)n);
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
        sb->len += (size_t)n;
    }
    va_end(ap2);
}

void sb_printf(strbuf_t *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

const char *sb_str(const strbuf_t *sb) { return sb->buf ? sb->buf : ""; }

char *sb_take(strbuf_t *sb) {
    char *p = sb->buf ? sb->buf : xstrdup("");
    sb->buf = NULL;
    sb->len = sb->cap = 0;
    return p;
}

void sb_reset(strbuf_t *sb) {
    sb->len = 0;
    if (sb->buf) sb->buf[0] = '\0';
}

void sb_free(strbuf_t *sb) {
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
}
