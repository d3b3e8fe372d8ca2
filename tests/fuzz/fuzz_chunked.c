/* fuzz_chunked.c - the chunked request body decoder under arbitrary input: never a crash, a
 * leak or more than max_out bytes out; the same verdict and the same bytes whether the input
 * comes whole or cut in pieces (at every split point derived from the input's first byte); a
 * body it accepts re-encodes (one chunk) to a body it decodes to the same bytes. */
#include "net/chunked.h"
#include "util/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OUT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *in = (const char *)data;
    chunked_t whole = {0};
    strbuf_t a = {0}, b = {0};
    size_t used_whole = 0;
    chunked_rc_t rc = chunked_feed(&whole, in, size, &used_whole, &a, MAX_OUT);
    if (a.len > MAX_OUT) abort();
    if (rc == CHUNKED_MORE && used_whole != size) abort();
    /* in pieces of `step` bytes */
    size_t step = size ? (size_t)data[0] % 7 + 1 : 1;
    chunked_t cut = {0};
    chunked_rc_t rc2 = CHUNKED_MORE;
    size_t used_cut = 0;
    for (size_t off = 0; off < size && rc2 == CHUNKED_MORE; off += step) {
        size_t n = size - off < step ? size - off : step, used = 0;
        rc2 = chunked_feed(&cut, in + off, n, &used, &b, MAX_OUT);
        used_cut += used;
    }
    if (rc2 != rc || (rc == CHUNKED_DONE && used_cut != used_whole)) abort();
    if (rc != CHUNKED_TOO_LARGE && (a.len != b.len || memcmp(sb_str(&a), sb_str(&b), a.len)))
        abort();
    /* finished means finished */
    if (rc != CHUNKED_MORE && chunked_feed(&whole, "0\r\n\r\n", 5, NULL, &a, MAX_OUT) != rc)
        abort();
    if (rc == CHUNKED_DONE) {
        strbuf_t enc = {0}, dec = {0};
        if (a.len) sb_printf(&enc, "%zx\r\n", a.len);
        sb_append(&enc, sb_str(&a), a.len);
        sb_puts(&enc, a.len ? "\r\n0\r\n\r\n" : "0\r\n\r\n");
        chunked_t again = {0};
        if (chunked_feed(&again, sb_str(&enc), enc.len, NULL, &dec, MAX_OUT) != CHUNKED_DONE ||
            dec.len != a.len || memcmp(sb_str(&dec), sb_str(&a), a.len))
            abort();
        sb_free(&enc);
        sb_free(&dec);
    }
    sb_free(&a);
    sb_free(&b);
    return 0;
}
