/* test_utf8.c - valid UTF-8 copies (util/utf8.h): what jansson will take as a JSON string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/utf8.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void expect(const char *in, size_t n, const char *want) {
    char *got = utf8_valid(in, n);
    assert_string_equal(got, want);
    json_t *j = json_string(got); /* the point: jansson accepts every result */
    assert_non_null(j);
    json_decref(j);
    free(got);
}

static void keeps_valid_text(void **s) {
    (void)s;
    expect("plain", 5, "plain");
    expect("caf\xc3\xa9 \xe3\x83\x84 \xf0\x9f\x8c\x8a", 14,
           "caf\xc3\xa9 \xe3\x83\x84 \xf0\x9f\x8c\x8a");
    expect(NULL, 0, "");
}

static void replaces_what_is_not(void **s) {
    (void)s;
    expect("a\x80z", 3, "a?z");            /* stray continuation byte */
    expect("\xc0\xaf", 2, "??");           /* overlong '/' */
    expect("\xed\xa0\x80", 3, "???");      /* a surrogate */
    expect("\xf4\x90\x80\x80", 4, "????"); /* past U+10FFFF */
    expect("a\0b", 3, "a?b");              /* NUL */
    expect("\xff\xfe", 2, "??");
}

static void drops_a_character_cut_at_the_end(void **s) {
    (void)s;
    /* "ツ" is e3 83 84: clipped after two bytes, as "%.Ns" may do */
    expect("ab\xe3\x83", 4, "ab");
    expect("ab\xe3\x83\x84", 5, "ab\xe3\x83\x84");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keeps_valid_text),
        cmocka_unit_test(replaces_what_is_not),
        cmocka_unit_test(drops_a_character_cut_at_the_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
