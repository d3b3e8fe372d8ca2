/* fuzz_sse.c - the SSE framing under arbitrary bytes, split at arbitrary points: never a crash
 * or a leak, and the same events whichever way the bytes arrive. */
#include "llm/sse.h"
#include "util/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    strbuf_t seen;
} sink_t;

static void on_event(void *ud, const char *event, const char *data) {
    sink_t *s = ud;
    sb_printf(&s->seen, "%s|%s\n", event ? event : "-", data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size) return 0;
    size_t split = data[0] % (size + 1); /* where the stream is cut in two */
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    if (split > len) split = len;

    strbuf_t raw1 = {0}, raw2 = {0};
    size_t parsed1 = 0, parsed2 = 0;
    sink_t whole = {0}, pieces = {0};
    sse_feed(&raw1, &parsed1, body, len, on_event, &whole);
    sse_feed(&raw2, &parsed2, body, split, on_event, &pieces);
    sse_feed(&raw2, &parsed2, body + split, len - split, on_event, &pieces);
    /* Framing must not depend on how the bytes were delivered. */
    if (strcmp(sb_str(&whole.seen), sb_str(&pieces.seen)) != 0) abort();
    sb_free(&raw1);
    sb_free(&raw2);
    sb_free(&whole.seen);
    sb_free(&pieces.seen);
    return 0;
}
