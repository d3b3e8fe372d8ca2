/* test_reqkey.c - llm/reqkey: the key of the response cache and of recordings. The same request
 * written in another field order hashes the same; every field the model sees changes the key;
 * the run, task and attempt do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "llm/reqkey.h"

#include <sodium.h>
#include <string.h>

static json_t *schema_ab, *schema_ba, *tiers;

static int setup(void **state) {
    (void)state;
    if (sodium_init() < 0) return -1;
    schema_ab = json_loads("{\"type\":\"object\",\"required\":[\"a\"],\"properties\":"
                           "{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"string\"}}}",
                           0, NULL);
    schema_ba = json_loads("{\"properties\":{\"b\":{\"type\":\"string\"},\"a\":{\"type\":"
                           "\"number\"}},\"required\":[\"a\"],\"type\":\"object\"}",
                           0, NULL);
    tiers =
        json_loads("{\"fast\":[\"local/llama\",\"paid/gpt\"],\"other\":[\"paid/gpt\"]}", 0, NULL);
    return schema_ab && schema_ba && tiers ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    json_decref(schema_ab);
    json_decref(schema_ba);
    json_decref(tiers);
    return 0;
}

static llm_request_t base(json_t *model) {
    return (llm_request_t){.run_id = "run-1",
                           .task_id = "write",
                           .attempt = 1,
                           .iteration = 1,
                           .system = "You are a writer.",
                           .prompt = "Write about tide pools.",
                           .model = model,
                           .format = OUTPUT_JSON,
                           .schema = schema_ab,
                           .max_tokens = 200,
                           .temperature = 0,
                           .word_limit = 0};
}

static void key(const llm_request_t *r, char out[REQKEY_HEX_LEN + 1]) {
    reqkey_hash(r, tiers, out);
}

static void same_request_same_key_whatever_the_order(void **state) {
    (void)state;
    json_t *m = json_string("fast");
    llm_request_t a = base(m), b = base(m);
    b.schema = schema_ba;
    char ka[REQKEY_HEX_LEN + 1], kb[REQKEY_HEX_LEN + 1];
    key(&a, ka);
    key(&b, kb);
    assert_int_equal(strlen(ka), 64);
    assert_string_equal(ka, kb);
    /* Who asks, and how often, is not part of the question. */
    b.run_id = "run-2";
    b.task_id = "other";
    b.attempt = 3;
    b.iteration = 2;
    key(&b, kb);
    assert_string_equal(ka, kb);
    /* A tier is its candidates: naming them directly is the same request. */
    json_t *list = json_pack("[s,s]", "local/llama", "paid/gpt");
    b.model = list;
    key(&b, kb);
    assert_string_equal(ka, kb);
    json_decref(list);
    json_decref(m);
}

static void every_field_changes_the_key(void **state) {
    (void)state;
    json_t *m = json_string("fast"), *m2 = json_string("other"), *m3 = json_string("paid/gpt");
    json_t *s2 = json_loads("{\"type\":\"object\",\"required\":[\"b\"]}", 0, NULL);
    llm_request_t a = base(m);
    char ka[REQKEY_HEX_LEN + 1], kb[REQKEY_HEX_LEN + 1];
    key(&a, ka);
    json_t *tools =
        json_loads("[{\"name\":\"read_artifact\",\"parameters\":{\"type\":\"object\"}}]", 0, NULL);
    json_t *transcript =
        json_loads("[{\"role\":\"tool\",\"id\":\"call_1\",\"content\":\"kelp\"}]", 0, NULL);
    llm_request_t v[12];
    for (int i = 0; i < 12; i++) v[i] = base(m);
    v[0].model = m2;
    v[1].system = "You are a critic.";
    v[2].prompt = "Write about kelp.";
    v[3].feedback = "Shorter, please.";
    v[4].format = OUTPUT_MARKDOWN;
    v[5].schema = s2;
    v[6].max_tokens = 201;
    v[7].temperature = 0.2;
    v[8].word_limit = 50;
    v[9].model = NULL;
    v[10].tools = tools;
    v[11].transcript = transcript;
    char seen[12][REQKEY_HEX_LEN + 1];
    for (int i = 0; i < 12; i++) {
        key(&v[i], kb);
        assert_string_not_equal(ka, kb);
        strcpy(seen[i], kb);
        for (int j = 0; j < i; j++) assert_string_not_equal(seen[j], kb);
    }
    /* "other" is [paid/gpt]: the same candidates as naming paid/gpt directly. */
    v[0].model = m3;
    key(&v[0], kb);
    assert_string_equal(kb, seen[0]);
    json_decref(m);
    json_decref(m2);
    json_decref(m3);
    json_decref(s2);
    json_decref(tools);
    json_decref(transcript);
}

static void canonical_form_is_sorted_and_complete(void **state) {
    (void)state;
    json_t *m = json_string("fast");
    llm_request_t a = base(m);
    a.feedback = NULL;
    json_t *c = reqkey_canonical(&a, tiers);
    char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(strstr(text, "\"feedback\":null,\"format\":\"json\",\"max_tokens\":200,"
                                 "\"model\":[\"local/llama\",\"paid/gpt\"]"));
    assert_non_null(strstr(
        text, "\"temperature\":0.0,\"tools\":null,\"transcript\":null,\"v\":2,\"word_limit\":0}"));
    free(text);
    json_decref(c);
    /* A markdown request's schema (none is sent) does not split the key. */
    a.format = OUTPUT_MARKDOWN;
    char k1[REQKEY_HEX_LEN + 1], k2[REQKEY_HEX_LEN + 1];
    key(&a, k1);
    a.schema = NULL;
    key(&a, k2);
    assert_string_equal(k1, k2);
    json_decref(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_request_same_key_whatever_the_order),
        cmocka_unit_test(every_field_changes_the_key),
        cmocka_unit_test(canonical_form_is_sorted_and_complete),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
