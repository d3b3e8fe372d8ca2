/* strbuf.h - a growable, always NUL-terminated byte string.
 *
 * A zeroed strbuf_t is an empty buffer. sb_take hands the bytes to the caller (free() them) and
 * leaves the buffer empty. */
#ifndef BATON_UTIL_STRBUF_H
#define BATON_UTIL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char *buf;
    size_t len, cap;
} strbuf_t;

void sb_grow(strbuf_t *sb, size_t extra);
void sb_append(strbuf_t *sb, const char *s, size_t n);
void sb_puts(strbuf_t *sb, const char *s);
void sb_putc(strbuf_t *sb, char c);
void sb_printf(strbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(strbuf_t *sb, const char *fmt, va_list ap);
const char *sb_str(const strbuf_t *sb); /* "" when empty; valid until the next write */
char *sb_take(strbuf_t *sb);            /* caller frees; never NULL */
void sb_reset(strbuf_t *sb);            /* empty, keeps capacity */
void sb_free(strbuf_t *sb);

#endif
