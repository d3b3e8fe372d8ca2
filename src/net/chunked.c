/* chunked.c - the chunked request body decoder (see chunked.h). A byte-at-a-time state
 * machine but for chunk data, which is copied in runs. */
#include "net/chunked.h"

enum {
    S_SIZE,        /* hex digits of a chunk size */
    S_EXT,         /* after ';': a chunk extension, skipped to the CR */
    S_SIZE_LF,     /* the LF of the size line */
    S_DATA,        /* the chunk's bytes */
    S_DATA_CR,     /* the CR after them */
    S_DATA_LF,     /* and its LF */
    S_TRAILER,     /* the start of a trailer line (CR: the end of the body) */
    S_TRAILER_RUN, /* inside a trailer line, to its CR */
    S_TRAILER_LF,  /* the LF ending a trailer line */
    S_END_LF,      /* the LF of the last, empty line */
};

static int hex(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* A byte of a size, extension or trailer line: the next state, or -1 when it does not fit. */
static int line_byte(chunked_t *c, char ch) {
    switch (c->state) {
    case S_SIZE: {
        int h = hex(ch);
        if (h >= 0) {
            if (++c->digits > 15) return -1;
            c->size = c->size * 16 + (uint64_t)h;
            return S_SIZE;
        }
        if (!c->digits) return -1;
        if (ch == ';') {
            c->line = 0;
            return S_EXT;
        }
        return ch == '\r' ? S_SIZE_LF : -1;
    }
    case S_EXT:
    case S_TRAILER_RUN:
        if (ch == '\r') return c->state == S_EXT ? S_SIZE_LF : S_TRAILER_LF;
        if (ch == '\n' || ++c->line > CHUNKED_MAX_LINE) return -1;
        return c->state;
    case S_SIZE_LF:
        if (ch != '\n') return -1;
        return c->size ? S_DATA : S_TRAILER;
    case S_DATA_CR:
        return ch == '\r' ? S_DATA_LF : -1;
    case S_DATA_LF:
        if (ch != '\n') return -1;
        c->digits = 0;
        c->size = 0;
        return S_SIZE;
    case S_TRAILER:
        if (ch == '\r') return S_END_LF;
        if (ch == '\n') return -1;
        c->line = 1;
        return S_TRAILER_RUN;
    case S_TRAILER_LF:
        return ch == '\n' ? S_TRAILER : -1;
    default: /* S_END_LF */
        return ch == '\n' ? -2 : -1;
    }
}

chunked_rc_t chunked_feed(chunked_t *c, const char *in, size_t len, size_t *used, strbuf_t *out,
                          size_t max_out) {
    size_t i = 0;
    while (c->rc == CHUNKED_MORE && i < len) {
        if (c->state == S_DATA) {
            size_t n = len - i;
            if ((uint64_t)n > c->size) n = (size_t)c->size;
            sb_append(out, in + i, n);
            i += n;
            c->size -= n;
            if (!c->size) c->state = S_DATA_CR;
            continue;
        }
        int next = line_byte(c, in[i++]);
        if (next == -2) {
            c->rc = CHUNKED_DONE;
        } else if (next < 0) {
            c->rc = CHUNKED_BAD;
        } else {
            /* the size line is whole: refuse a chunk that would pass the limit before its data */
            if (next == S_DATA && (out->len > max_out || c->size > (uint64_t)(max_out - out->len)))
                c->rc = CHUNKED_TOO_LARGE;
            c->state = next;
        }
    }
    if (used) *used = i;
    return c->rc;
}
