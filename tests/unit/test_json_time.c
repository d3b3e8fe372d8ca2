/* test_json_time.c - RFC 3339 times at the edge (core/json_time.h): the form every answer writes,
 * reading it back from queries, and which fields json_time_present turns into it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/json_time.h"

#include <stdlib.h>
#include <string.h>

static void formats_utc_with_milliseconds(void **s) {
    (void)s;
    char buf[JSON_TIME_LEN];
    json_time_format(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    json_time_format(1796691723456, buf); /* date -u -d @1796691723.456 */
    assert_string_equal(buf, "2026-12-08T01:02:03.456Z");
    json_time_format(951782400000 - 1, buf); /* the last millisecond of 2000-02-28... */
    assert_string_equal(buf, "2000-02-28T23:59:59.999Z");
    json_time_format(951782400000, buf); /* ...and a leap day */
    assert_string_equal(buf, "2000-02-29T00:00:00.000Z");
    json_time_format(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

static void parses_what_it_writes_and_more(void **s) {
    (void)s;
    int64_t ms;
    assert_true(json_time_parse("2026-12-08T01:02:03.456Z", &ms));
    assert_int_equal(ms, 1796691723456);
    assert_true(json_time_parse("2026-12-08T01:02:03Z", &ms));
    assert_int_equal(ms, 1796691723000);
    assert_true(json_time_parse("2026-12-08T02:02:03.4+01:00", &ms)); /* an offset, a tenth */
    assert_int_equal(ms, 1796691723400);
    assert_true(json_time_parse("2026-12-08", &ms)); /* a date: its midnight UTC */
    assert_int_equal(ms, 1796688000000);
    for (int64_t t = -86400001; t < 4102444800000; t += 987654321987) {
        char buf[JSON_TIME_LEN];
        json_time_format(t, buf);
        assert_true(json_time_parse(buf, &ms));
        assert_int_equal(ms, t);
    }
    static const char *const bad[] = {"",
                                      "1234",
                                      "2026-13-01",
                                      "2026-12-08T01:02",
                                      "2026-12-08T01:02:03",
                                      "2026-12-08T01:02:03.Z",
                                      "2026-12-08T25:00:00Z",
                                      "2026-12-08T01:02:03Zjunk",
                                      "2026-12-08T01:02:03+0100",
                                      NULL};
    for (const char *const *b = bad; *b; b++)
        if (json_time_parse(*b, &ms)) fail_msg("'%s' was taken for a time", *b);
    assert_false(json_time_parse(NULL, &ms));
}

static void presents_times_but_not_what_was_written(void **s) {
    (void)s;
    json_t *v =
        json_pack("{s:I, s:n, s:I, s:I, s:{s:I}, s:[{s:I, s:I}], s:{s:I}, s:I, s:s}", "created_at",
                  (json_int_t)0, "finished_at", "retry_at_ms", (json_int_t)1000, "total_ms",
                  (json_int_t)5, "estimate", "finished_at", (json_int_t)2000, "errors", "at",
                  (json_int_t)3000, "seq", (json_int_t)1, "data", "requested_at", (json_int_t)4000,
                  "count", (json_int_t)7, "started_at", "2026-12-08T01:02:03.456Z");
    json_time_present(v);
    char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        text, "{\"count\":7,\"created_at\":\"1970-01-01T00:00:00.000Z\",\"data\":{\"requested_at\":"
              "4000},\"errors\":[{\"at\":\"1970-01-01T00:00:03.000Z\",\"seq\":1}],\"estimate\":{"
              "\"finished_at\":\"1970-01-01T00:00:02.000Z\"},\"finished_at\":null,\"retry_at\":"
              "\"1970-01-01T00:00:01.000Z\",\"started_at\":\"2026-12-08T01:02:03.456Z\","
              "\"total_ms\":5}");
    free(text);
    json_decref(v);
    json_time_present(NULL); /* nothing to do, no crash */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_utc_with_milliseconds),
        cmocka_unit_test(parses_what_it_writes_and_more),
        cmocka_unit_test(presents_times_but_not_what_was_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
