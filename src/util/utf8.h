/* utf8.h - text that must be valid UTF-8 before it becomes a JSON string (jansson refuses
 * anything else, and an event whose data cannot be built must never be journaled as empty). */
#ifndef BATON_UTIL_UTF8_H
#define BATON_UTIL_UTF8_H

#include <stddef.h>

/* A copy of s[0..n) that is valid UTF-8 with no NUL: each byte that does not start a
 * well-formed sequence (stray continuation bytes, overlongs, surrogates, code points past
 * U+10FFFF, NUL) becomes '?', and a sequence cut off at the end is dropped (a text clipped at a
 * byte count). The caller frees it; never NULL. s may be NULL when n is 0. */
char *utf8_valid(const char *s, size_t n);

#endif
