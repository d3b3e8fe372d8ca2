#include "llm/sse.h"
#include "util/xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void sse_feed(strbuf_t *raw, size_t *parsed, const char *data, size_t len, sse_event_fn fn,
              void *ud) {
    for (const char *s = data, *end = data + len; s < end;) {
        const char *cr = memchr(s, '\r', (size_t)(end - s));
        size_t n = cr ? (size_t)(cr - s) : (size_t)(end - s);
        sb_append(raw, s, n);
        s += n + (cr ? 1 : 0);
    }
    if (!raw->buf) return;
    for (;;) {
        const char *start = raw->buf + *parsed;
        const char *end = strstr(start, "\n\n");
        if (!end) break;
        char *event = NULL;
        strbuf_t value = {0};
        bool has_data = false;
        for (const char *line = start; line < end;) {
            const char *nl = memchr(line, '\n', (size_t)(end - line));
            if (!nl) nl = end;
            const char *v = NULL;
            if (!strncmp(line, "data:", 5))
                v = line + 5;
            else if (!strncmp(line, "event:", 6))
                v = line + 6;
            if (v && v < nl && *v == ' ') v++; /* one space after the colon is not part of it */
            if (v && line[0] == 'd') {
                if (has_data) sb_putc(&value, '\n');
                sb_append(&value, v, (size_t)(nl - v));
                has_data = true;
            } else if (v) {
                free(event);
                event = xstrndup(v, (size_t)(nl - v));
            }
            line = nl + 1;
        }
        *parsed = (size_t)(end + 2 - raw->buf);
        if (has_data) fn(ud, event, sb_str(&value));
        free(event);
        sb_free(&value);
    }
}
