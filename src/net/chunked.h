/* chunked.h - a decoder for HTTP/1.1 request bodies sent with "Transfer-Encoding: chunked"
 * (RFC 9112 section 7.1), fed the bytes as they arrive. Pure: no I/O; fuzzed
 * (tests/fuzz/fuzz_chunked.c).
 *
 * Promises:
 *  - Input may be cut anywhere: feeding a body in any number of pieces decodes to the same bytes
 *    as feeding it whole.
 *  - Strict framing: hexadecimal chunk sizes (at most 15 digits), lines ended by CRLF, chunk
 *    extensions and trailer fields skipped (each line at most CHUNKED_MAX_LINE bytes). Anything
 *    else is CHUNKED_BAD, never a guess: a body framed two ways is how requests are smuggled.
 *  - At most max_out decoded bytes are ever appended to out: a larger body is CHUNKED_TOO_LARGE
 *    as soon as its sizes say so, before its data arrives.
 *  - After DONE, BAD or TOO_LARGE the decoder takes nothing more (the same answer again). */
#ifndef BATON_NET_CHUNKED_H
#define BATON_NET_CHUNKED_H

#include "util/strbuf.h"

#include <stddef.h>
#include <stdint.h>

#define CHUNKED_MAX_LINE 4096

typedef enum { CHUNKED_MORE, CHUNKED_DONE, CHUNKED_BAD, CHUNKED_TOO_LARGE } chunked_rc_t;

/* A zeroed chunked_t is a decoder at the start of a body. */
typedef struct chunked {
    int state;
    uint64_t size;   /* the chunk size being read, then what is left of the chunk's data */
    int digits;      /* hex digits of the size read so far */
    size_t line;     /* bytes of the current extension or trailer line */
    chunked_rc_t rc; /* once not MORE, final */
} chunked_t;

/* Decodes len bytes of in, appending the body's bytes to out (never past max_out in all).
 * *used (may be NULL): bytes of in taken; less than len only once the decoder has finished
 * (after DONE, what follows the body is not the body's). */
chunked_rc_t chunked_feed(chunked_t *c, const char *in, size_t len, size_t *used, strbuf_t *out,
                          size_t max_out);

#endif
