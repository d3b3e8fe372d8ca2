/* test_sse.c - SSE framing: events end at a blank line, data lines join with newlines, one
 * space after the colon is dropped, CRLF streams read like LF ones, chunk boundaries anywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "llm/sse.h"

#include <stdlib.h>
#include <string.h>

static void collect(void *ud, const char *event, const char *data) {
    sb_printf(ud, "[%s]%s;", event ? event : "", data);
}

static char *feed_in_pieces(const char *stream, size_t piece) {
    strbuf_t raw = {0}, out = {0};
    size_t parsed = 0, len = strlen(stream);
    for (size_t i = 0; i < len; i += piece)
        sse_feed(&raw, &parsed, stream + i, len - i < piece ? len - i : piece, collect, &out);
    sb_free(&raw);
    return sb_take(&out);
}

static void framing(void **state) {
    (void)state;
    const char *s = "event: message_start\ndata: {\"a\":1}\n\ndata:x\ndata: y\n\n: "
                    "comment\n\nevent: e\n\ndata: [DONE]\n\n";
    const char *want = "[message_start]{\"a\":1};[]x\ny;[][DONE];";
    for (size_t piece = 1; piece <= strlen(s); piece++) {
        char *got = feed_in_pieces(s, piece);
        assert_string_equal(got, want);
        free(got);
    }
}

static void crlf(void **state) {
    (void)state;
    char *got = feed_in_pieces("event: ping\r\ndata: {}\r\n\r\ndata: z\r\n\r\n", 3);
    assert_string_equal(got, "[ping]{};[]z;");
    free(got);
}

static void incomplete_event_waits(void **state) {
    (void)state;
    strbuf_t raw = {0}, out = {0};
    size_t parsed = 0;
    sse_feed(&raw, &parsed, "data: half", 10, collect, &out);
    assert_int_equal(out.len, 0);
    sse_feed(&raw, &parsed, "\n\n", 2, collect, &out);
    assert_string_equal(sb_str(&out), "[]half;");
    sb_free(&raw);
    sb_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(framing),
        cmocka_unit_test(crlf),
        cmocka_unit_test(incomplete_event_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
