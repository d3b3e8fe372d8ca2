/* test_redact.c - util/redact: configured secret values and the shapes of common keys become
 * [redacted]; ordinary text (task ids, hashes, prose) stays as written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/redact.h"

#include <stdlib.h>
#include <string.h>

static void expect_with(const char *in, const char *const *secrets, const char *want) {
    char *got = redact_with(in, secrets);
    assert_string_equal(got, want);
    free(got);
}
static void expect(const char *in, const char *want) { expect_with(in, NULL, want); }

static void openai_and_anthropic_keys(void **s) {
    (void)s;
    expect("Incorrect API key provided: sk-abc12345xyz. You can find your API key at x.",
           "Incorrect API key provided: [redacted]. You can find your API key at x.");
    expect("key sk-proj-AbC_dEf-123456789 here", "key [redacted] here");
    expect("sk-ant-api03-Zz9_yY8-xX7wW6vV5uU4-AAAA", "[redacted]");
    expect("(sk-0123456789)", "([redacted])");
}

static void google_keys_and_query_parameters(void **s) {
    (void)s;
    expect("bad key AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "bad key [redacted]");
    expect("POST https://g.example/v1beta/models/m:generateContent?key=abc123DEF&alt=sse",
           "POST https://g.example/v1beta/models/m:generateContent?key=[redacted]&alt=sse");
    expect("GET /x?alt=sse&key=zzzzzz", "GET /x?alt=sse&key=[redacted]");
}

static void headers(void **s) {
    (void)s;
    expect("Authorization: Bearer eyJhbGciOi.J9eyJzdWIi.Ij1234=",
           "Authorization: Bearer [redacted]");
    expect("authorization: bearer   tok_12345", "authorization: bearer   [redacted]");
    expect("x-api-key: my-anthropic-key-1", "x-api-key: [redacted]");
    expect("X-Goog-Api-Key:abc.def", "X-Goog-Api-Key:[redacted]");
    expect("{\"api_key\": \"k-999999\"}", "{\"api_key\": \"[redacted]\"}");
    expect("invalid x-api-key", "invalid x-api-key"); /* the header's name alone says nothing */
}

static void configured_values(void **s) {
    (void)s;
    const char *const keys[] = {"plainSECRET42", "short", NULL};
    expect_with("the key plainSECRET42 was refused (plainSECRET42)", keys,
                "the key [redacted] was refused ([redacted])");
    /* a value too short to be told from a word is left alone */
    expect_with("a short note", keys, "a short note");
    redact_register("registeredVALUE-77");
    redact_register("registeredVALUE-77");
    redact_register(NULL);
    redact_register("");
    char *got = redact_text("said registeredVALUE-77!");
    assert_string_equal(got, "said [redacted]!");
    free(got);
    redact_reset();
    got = redact_text("said registeredVALUE-77!");
    assert_string_equal(got, "said registeredVALUE-77!");
    free(got);
    assert_null(redact_text(NULL));
}

static void no_false_positives(void **s) {
    (void)s;
    const char *keep[] = {
        "task-sketch",
        "task-sketching-the-outline",
        "risk-assessment-of-the-plan",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "a desk-lamp and an sk- prefix and sk-short",
        "Bearer of bad news:",
        "the monkey=banana parameter",
        "AIza is how Google keys begin",
        "paid/gpt-test: HTTP 429: Rate limit reached for requests",
        "",
    };
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) expect(keep[i], keep[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(openai_and_anthropic_keys),
        cmocka_unit_test(google_keys_and_query_parameters),
        cmocka_unit_test(headers),
        cmocka_unit_test(configured_values),
        cmocka_unit_test(no_false_positives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
