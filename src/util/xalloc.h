/* xalloc.h - allocation that aborts on out-of-memory.
 *
 * Baton treats OOM as fatal (as Redis and SQLite's callers commonly do): no input can make these
 * fail, so callers need no error path for them. Bad *input* is always an error value instead. */
#ifndef BATON_UTIL_XALLOC_H
#define BATON_UTIL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
