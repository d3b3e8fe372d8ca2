/* test_jsonschema.c - every supported keyword passing and failing, the paths and wording of
 * messages, malformed schemas caught by jsonschema_check, and the depth bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/jsonschema.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *J(const char *text) {
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v) fail_msg("bad JSON in test: %s: %s", text, e.text);
    return v;
}

/* Validates `value` against `schema`; returns the rc and copies the message to msg. */
static int run(const char *schema, const char *value, char *msg, size_t len) {
    json_t *s = J(schema), *v = J(value);
    int rc = jsonschema_validate(s, v, msg, len);
    json_decref(s);
    json_decref(v);
    return rc;
}

static void ok(const char *schema, const char *value) {
    char msg[512];
    if (run(schema, value, msg, sizeof msg) != 0)
        fail_msg("expected %s to be valid for %s, got: %s", value, schema, msg);
}

static void bad(const char *schema, const char *value, const char *want) {
    char msg[512];
    if (run(schema, value, msg, sizeof msg) == 0)
        fail_msg("expected %s to be invalid for %s", value, schema);
    if (want && strcmp(msg, want) != 0) fail_msg("message\n  got:  %s\n  want: %s", msg, want);
}

static void check_ok(const char *schema) {
    char msg[512];
    json_t *s = J(schema);
    int rc = jsonschema_check(s, msg, sizeof msg);
    json_decref(s);
    if (rc != 0) fail_msg("expected schema %s to be well formed, got: %s", schema, msg);
}

static void check_bad(const char *schema, const char *want) {
    char msg[512];
    json_t *s = J(schema);
    int rc = jsonschema_check(s, msg, sizeof msg);
    json_decref(s);
    if (rc == 0) fail_msg("expected schema %s to be rejected", schema);
    if (want && strcmp(msg, want) != 0) fail_msg("message\n  got:  %s\n  want: %s", msg, want);
}

static bool valid_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80         ? 1
                   : (*p >> 5) == 6  ? 2
                   : (*p >> 4) == 14 ? 3
                   : (*p >> 3) == 30 ? 4
                                     : 0;
        if (!n) return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += n;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------- */

static void test_type(void **state) {
    (void)state;
    ok("{\"type\":\"string\"}", "\"a\"");
    ok("{\"type\":\"integer\"}", "3");
    ok("{\"type\":\"integer\"}", "3.0"); /* JSON Schema: integral numbers are integers */
    ok("{\"type\":\"number\"}", "3");
    ok("{\"type\":\"number\"}", "3.5");
    ok("{\"type\":\"boolean\"}", "false");
    ok("{\"type\":\"null\"}", "null");
    ok("{\"type\":\"array\"}", "[]");
    ok("{\"type\":\"object\"}", "{}");
    ok("{\"type\":[\"string\",\"null\"]}", "null");
    bad("{\"type\":\"integer\"}", "3.5", "/: expected integer, got number 3.5");
    bad("{\"type\":\"string\"}", "12", "/: expected string, got integer 12");
    bad("{\"type\":\"boolean\"}", "\"true\"", "/: expected boolean, got string \"true\"");
    bad("{\"type\":\"null\"}", "0", NULL);
    bad("{\"type\":\"object\"}", "[1]", "/: expected object, got array");
    bad("{\"type\":\"array\"}", "{}", "/: expected array, got object");
    bad("{\"type\":[\"string\",\"null\"]}", "1", "/: expected string or null, got integer 1");
}

static void test_properties_and_paths(void **state) {
    (void)state;
    const char *s =
        "{\"type\":\"object\",\"properties\":{\"findings\":{\"type\":\"array\",\"items\":"
        "{\"type\":\"object\",\"properties\":{\"severity\":{\"enum\":[\"low\",\"medium\","
        "\"high\"]}}}}}}";
    ok(s, "{\"findings\":[{\"severity\":\"low\"}]}");
    ok(s, "{\"findings\":[], \"other\": 1}");
    bad(s, "{\"findings\":[{\"severity\":\"low\"},{\"severity\":\"urgent\"}]}",
        "/findings/1/severity: \"urgent\" is not one of [\"low\",\"medium\",\"high\"]");
    bad(s, "{\"findings\":[{\"severity\":\"urgent\"}]}",
        "/findings/0/severity: \"urgent\" is not one of [\"low\",\"medium\",\"high\"]");
    /* Pointer escaping of "/" and "~" in names (RFC 6901). */
    bad("{\"properties\":{\"a/b~c\":{\"type\":\"string\"}}}", "{\"a/b~c\":1}",
        "/a~1b~0c: expected string, got integer 1");
}

static void test_required(void **state) {
    (void)state;
    const char *s = "{\"type\":\"object\",\"required\":[\"quality_score\",\"security_score\"],"
                    "\"properties\":{\"meta\":{\"type\":\"object\",\"required\":[\"by\"]}}}";
    ok(s, "{\"quality_score\":1,\"security_score\":2}");
    bad(s, "{\"quality_score\":1}", "/: missing required property \"security_score\"");
    bad(s, "{\"quality_score\":1,\"security_score\":2,\"meta\":{}}",
        "/meta: missing required property \"by\"");
    /* required only applies to objects */
    ok("{\"required\":[\"a\"]}", "[1]");
}

static void test_additional_properties(void **state) {
    (void)state;
    const char *closed = "{\"properties\":{\"a\":{}},\"additionalProperties\":false}";
    ok(closed, "{\"a\":1}");
    bad(closed, "{\"a\":1,\"b\":2}",
        "/: property \"b\" is not allowed (additionalProperties is false)");
    const char *typed =
        "{\"properties\":{\"a\":{}},\"additionalProperties\":{\"type\":\"number\"}}";
    ok(typed, "{\"a\":\"x\",\"b\":2,\"c\":3.5}");
    bad(typed, "{\"a\":\"x\",\"b\":\"two\"}", "/b: expected number, got string \"two\"");
    ok("{\"additionalProperties\":true}", "{\"z\":null}");
}

static void test_items_and_counts(void **state) {
    (void)state;
    const char *s =
        "{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":1,\"maxItems\":2}";
    ok(s, "[\"a\"]");
    ok(s, "[\"a\",\"b\"]");
    bad(s, "[]", "/: array has 0 items, fewer than the minimum 1");
    bad(s, "[\"a\",\"b\",\"c\"]", "/: array has 3 items, more than the maximum 2");
    bad(s, "[\"a\",3]", "/1: expected string, got integer 3");
    ok("{\"items\":false}", "[]");
    bad("{\"items\":false}", "[1]", "/0: no value is allowed here (the schema is false)");
}

static void test_enum_and_const(void **state) {
    (void)state;
    ok("{\"enum\":[1,\"a\",null,{\"k\":[1]}]}", "1.0"); /* numbers compare by value */
    ok("{\"enum\":[1,\"a\",null,{\"k\":[1]}]}", "{\"k\":[1]}");
    ok("{\"enum\":[1,\"a\",null]}", "null");
    bad("{\"enum\":[1,\"a\"]}", "\"b\"", "/: \"b\" is not one of [1,\"a\"]");
    bad("{\"enum\":[1,\"a\"]}", "true", "/: true is not one of [1,\"a\"]");
    ok("{\"const\":\"x\"}", "\"x\"");
    ok("{\"const\":2}", "2.0");
    bad("{\"const\":\"x\"}", "\"y\"", "/: \"y\" is not equal to the constant \"x\"");
    bad("{\"const\":{\"a\":1}}", "{\"a\":1,\"b\":2}", NULL);
}

static void test_numbers(void **state) {
    (void)state;
    const char *s =
        "{\"properties\":{\"quality_score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":10}}}";
    ok(s, "{\"quality_score\":10}");
    ok(s, "{\"quality_score\":0}");
    bad(s, "{\"quality_score\":12}", "/quality_score: 12 is greater than the maximum 10");
    bad(s, "{\"quality_score\":-0.5}", "/quality_score: -0.5 is less than the minimum 0");
    bad(s, "{\"quality_score\":10.1}", "/quality_score: 10.1 is greater than the maximum 10");
    const char *ex = "{\"exclusiveMinimum\":0,\"exclusiveMaximum\":1}";
    ok(ex, "0.5");
    bad(ex, "0", "/: 0 is not greater than the exclusive minimum 0");
    bad(ex, "1", "/: 1 is not less than the exclusive maximum 1");
    /* draft-4 boolean form */
    const char *d4 =
        "{\"minimum\":0,\"exclusiveMinimum\":true,\"maximum\":1,\"exclusiveMaximum\":true}";
    ok(d4, "0.5");
    bad(d4, "0", "/: 0 is not greater than the exclusive minimum 0");
    bad(d4, "1.0", "/: 1 is not less than the exclusive maximum 1");
    /* exact comparison beyond 2^53 */
    bad("{\"maximum\":9007199254740992}", "9007199254740993", NULL);
    ok("{\"maximum\":9007199254740993}", "9007199254740993");
    ok("{\"minimum\":0.5}", "1");
    bad("{\"maximum\":0.5}", "1", "/: 1 is greater than the maximum 0.5");
    /* bounds ignore other types */
    ok("{\"minimum\":5}", "\"abc\"");
}

static void test_strings(void **state) {
    (void)state;
    const char *s = "{\"type\":\"string\",\"minLength\":2,\"maxLength\":5}";
    ok(s, "\"ab\"");
    ok(s, "\"h\\u00e9llo\""); /* 5 code points, 6 bytes */
    ok(s, "\"\\u65e5\\u672c\"");
    bad(s, "\"a\"", "/: \"a\" is shorter than the minimum length 2");
    bad(s, "\"abcdef\"", "/: \"abcdef\" is longer than the maximum length 5");
    /* pattern and format are enforced (more in test_jsonschema_subset.c) */
    bad("{\"pattern\":\"^a$\"}", "\"zzz\"", "/: \"zzz\" does not match the pattern \"^a$\"");
    bad("{\"format\":\"email\"}", "\"zzz\"", "/: \"zzz\" is not a valid email (format)");
    ok("{\"minLength\":3}", "12");
}

static void test_boolean_schemas_and_annotations(void **state) {
    (void)state;
    ok("true", "{\"anything\":[1,2]}");
    bad("false", "1", "/: no value is allowed here (the schema is false)");
    ok("{\"title\":\"T\",\"description\":\"D\",\"default\":1,\"examples\":[1],\"$schema\":\"x\"}",
       "\"s\"");
    ok("{}", "null");
    char msg[64];
    json_t *v = J("1");
    assert_int_equal(jsonschema_validate(NULL, v, msg, sizeof msg), 0);
    json_t *s = J("{}");
    assert_int_equal(jsonschema_validate(s, NULL, msg, sizeof msg), -1);
    json_decref(s);
    json_decref(v);
}

static void test_small_and_null_error_buffers(void **state) {
    (void)state;
    json_t *s = J("{\"properties\":{\"\\u00e9\\u00e9\\u00e9\\u00e9\":{\"enum\":["
                  "\"\\u65e5\\u65e5\\u65e5\"]}}}");
    json_t *v =
        J("{\"\\u00e9\\u00e9\\u00e9\\u00e9\":\"\\u65e5\\u672c\\u8a9e\\u65e5\\u672c\\u8a9e\"}");
    assert_int_equal(jsonschema_validate(s, v, NULL, 0), -1);
    for (size_t len = 1; len < 80; len++) {
        char buf[80];
        memset(buf, 'Z', sizeof buf);
        assert_int_equal(jsonschema_validate(s, v, buf, len), -1);
        assert_true(strlen(buf) < len);
        assert_true(valid_utf8(buf));
        assert_int_equal(buf[len], 'Z'); /* nothing written past len */
    }
    json_decref(s);
    json_decref(v);
}

static void test_long_values_are_cut_in_messages(void **state) {
    (void)state;
    char big[4096];
    memset(big, 'x', sizeof big);
    big[0] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    char msg[512];
    assert_int_equal(run("{\"maxLength\":3}", big, msg, sizeof msg), -1);
    assert_true(strlen(msg) < 200);
    assert_non_null(strstr(msg, "…"));
}

static void test_long_paths_are_marked(void **state) {
    (void)state;
    /* Six levels of 200-character names do not fit the path buffer: the tail becomes "/…". */
    char name[201];
    memset(name, 'k', 200);
    name[200] = '\0';
    json_t *schema = json_pack("{s:s}", "type", "string"), *value = json_integer(1);
    for (int i = 0; i < 6; i++) {
        schema = json_pack("{s:{s:o}}", "properties", name, schema);
        value = json_pack("{s:o}", name, value);
    }
    char msg[2048];
    assert_int_equal(jsonschema_validate(schema, value, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "/…: expected string, got integer 1"));
    json_decref(schema);
    json_decref(value);
}

static json_t *nested_schema(int levels) {
    json_t *s = json_pack("{s:s}", "type", "integer");
    for (int i = 0; i < levels; i++)
        s = json_pack("{s:s, s:{s:o}}", "type", "object", "properties", "a", s);
    return s;
}

static json_t *nested_value(int levels) {
    json_t *v = json_integer(1);
    for (int i = 0; i < levels; i++) v = json_pack("{s:o}", "a", v);
    return v;
}

static void test_depth_is_bounded(void **state) {
    (void)state;
    char msg[512];
    json_t *s = nested_schema(JSONSCHEMA_MAX_DEPTH - 1),
           *v = nested_value(JSONSCHEMA_MAX_DEPTH - 1);
    assert_int_equal(jsonschema_check(s, msg, sizeof msg), 0);
    assert_int_equal(jsonschema_validate(s, v, msg, sizeof msg), 0);
    json_decref(s);
    json_decref(v);

    s = nested_schema(500);
    v = nested_value(500);
    assert_int_equal(jsonschema_check(s, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "deeper than 64 levels"));
    assert_int_equal(jsonschema_validate(s, v, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "deeper than 64 levels"));
    json_decref(s);
    json_decref(v);

    /* A deep value under a shallow schema is fine: only the schema drives recursion. */
    s = J("{\"type\":\"object\"}");
    v = nested_value(2000);
    assert_int_equal(jsonschema_validate(s, v, msg, sizeof msg), 0);
    json_decref(s);
    json_decref(v);
}

static void test_check_accepts_agent_schemas(void **state) {
    (void)state;
    check_ok("{\"type\":\"object\",\"required\":[\"quality_score\",\"security_score\",\"modified_"
             "files\"],"
             "\"properties\":{\"quality_score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":10},"
             "\"security_score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":10},"
             "\"modified_files\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}");
    check_ok("{\"type\":\"object\",\"properties\":{\"decision\":{\"type\":\"string\",\"enum\":["
             "\"a\",\"b\"]},"
             "\"confidence\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},\"rationale\":{"
             "\"type\":\"string\","
             "\"minLength\":1,\"maxLength\":2000}},\"required\":[\"decision\"],"
             "\"additionalProperties\":false,"
             "\"title\":\"Vote\",\"description\":\"d\",\"$schema\":\"http://json-schema.org/"
             "draft-07/schema#\"}");
    check_ok("true");
    check_ok("{}");
    check_ok(
        "{\"type\":[\"string\",\"null\"],\"pattern\":\"^x\",\"format\":\"date-time\",\"x-ui\":{"
        "\"w\":1}}");
    check_ok("{\"minimum\":0,\"exclusiveMinimum\":true,\"exclusiveMaximum\":5,\"minItems\":2.0}");
    check_ok("{\"items\":{\"additionalProperties\":{\"type\":\"integer\"}},\"const\":[]}");
    check_ok("{\"minimum\":1,\"maximum\":1}");
}

static void test_check_rejects_malformed(void **state) {
    (void)state;
    check_bad("5", "/: a schema must be an object or a boolean, got integer");
    check_bad(
        "{\"type\":\"strng\"}",
        "/type: \"strng\" is not a type (null, boolean, integer, number, string, array, object)");
    check_bad("{\"type\":[]}", "/type: must be a type name or a non-empty array of type names");
    check_bad("{\"type\":7}", NULL);
    check_bad(
        "{\"type\":[\"string\",\"nul\"]}",
        "/type/1: \"nul\" is not a type (null, boolean, integer, number, string, array, object)");
    check_bad("{\"type\":[\"string\",\"string\"]}", "/type/1: type \"string\" is listed twice");
    check_bad("{\"properties\":[]}", "/properties: must be an object mapping names to schemas");
    check_bad(
        "{\"properties\":{\"a\":{\"properties\":{\"b\":{\"type\":\"int\"}}}}}",
        "/properties/a/properties/b/type: \"int\" is not a type (null, boolean, integer, number, "
        "string, array, object)");
    check_bad("{\"properties\":{\"a\":5}}",
              "/properties/a: a schema must be an object or a boolean, got integer");
    check_bad("{\"required\":\"a\"}", "/required: must be an array of property names");
    check_bad("{\"required\":[\"a\",1]}",
              "/required/1: must be a string (a property name), got integer");
    check_bad("{\"additionalProperties\":5}",
              "/additionalProperties: a schema must be an object or a boolean, got integer");
    check_bad("{\"items\":[{}]}",
              "/items: the array form of items is not supported; use one schema");
    check_bad("{\"items\":{\"type\":\"x\"}}", NULL);
    check_bad("{\"enum\":[]}", "/enum: must be a non-empty array");
    check_bad("{\"enum\":\"a\"}", "/enum: must be a non-empty array");
    check_bad("{\"minimum\":\"0\"}", "/minimum: must be a number");
    check_bad("{\"exclusiveMaximum\":\"0\"}",
              "/exclusiveMaximum: must be a number (or a boolean, as in draft 4)");
    check_bad("{\"minLength\":-1}", "/minLength: must be a non-negative integer");
    check_bad("{\"maxItems\":1.5}", "/maxItems: must be a non-negative integer");
    check_bad("{\"maxLength\":\"3\"}", NULL);
    check_bad("{\"pattern\":1}", "/pattern: must be a string");
    check_bad("{\"anyOf\":[{}]}",
              "/anyOf: keyword \"anyOf\" is not supported by Baton's validator");
    check_bad("{\"properties\":{\"a\":{\"$ref\":\"#/x\"}}}", NULL);
    check_bad("{\"minimum\":5,\"maximum\":4}",
              "/minimum: minimum 5 leaves no room under maximum 4");
    check_bad("{\"minLength\":5,\"maxLength\":4}", NULL);
    check_bad("{\"minItems\":3,\"maxItems\":2}", NULL);
    check_bad("{\"exclusiveMinimum\":1,\"exclusiveMaximum\":1}", NULL);
    check_bad("{\"minimum\":1,\"maximum\":1,\"exclusiveMaximum\":true}", NULL);
    check_bad(
        "{\"required\":[\"a\",\"b\"],\"properties\":{\"a\":{}},\"additionalProperties\":false}",
        "/required/1: required property \"b\" is not in properties and additionalProperties is "
        "false");
    char msg[64];
    assert_int_equal(jsonschema_check(NULL, msg, sizeof msg), -1);
    json_t *s = J("{\"type\":\"nope\"}");
    assert_int_equal(jsonschema_check(s, NULL, 0), -1);
    json_decref(s);
}

/* A malformed schema given straight to validate (as the gateway does with a client's schema)
 * fails every value with the check's message: nothing in it is half applied or ignored. */
static void test_validate_refuses_malformed(void **state) {
    (void)state;
    bad("{\"type\":\"strng\"}", "\"a\"",
        "invalid schema: /type: \"strng\" is not a type (null, boolean, integer, number, string, "
        "array, object)");
    bad("{\"properties\":5}", "{\"a\":1}",
        "invalid schema: /properties: must be an object mapping names to schemas");
    bad("{\"required\":[1,\"a\"]}", "{\"a\":1}", NULL);
    bad("{\"minimum\":\"x\",\"minLength\":-3,\"items\":7}", "[1]", NULL);
    bad("5", "1", "invalid schema: /: a schema must be an object or a boolean, got integer");
    bad("{\"anyOf\":[{\"type\":\"string\"}]}", "1",
        "invalid schema: /anyOf: keyword \"anyOf\" is not supported by Baton's validator");
}

/* A misspelt keyword would silently check nothing: it is an error with the closest keyword;
 * annotations and x- extensions are fine. */
static void test_check_rejects_unknown_keywords(void **state) {
    (void)state;
    char err[256];
    json_t *s = json_loads("{\"type\": \"string\", \"maxLenght\": 3}", 0, NULL);
    assert_int_equal(jsonschema_check(s, err, sizeof err), -1);
    assert_non_null(strstr(err, "maxLenght"));
    assert_non_null(strstr(err, "did you mean \"maxLength\""));
    json_decref(s);
    s = json_loads("{\"type\": \"object\", \"properties\": {\"a\": {\"typ\": \"string\"}}}", 0,
                   NULL);
    assert_int_equal(jsonschema_check(s, err, sizeof err), -1);
    assert_non_null(strstr(err, "/properties/a"));
    json_decref(s);
    s = json_loads("{\"type\": \"string\", \"title\": \"T\", \"examples\": [\"x\"], "
                   "\"x-ui\": {\"widget\": \"text\"}, \"$comment\": \"c\"}",
                   0, NULL);
    assert_int_equal(jsonschema_check(s, err, sizeof err), 0);
    json_decref(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type),
        cmocka_unit_test(test_properties_and_paths),
        cmocka_unit_test(test_required),
        cmocka_unit_test(test_additional_properties),
        cmocka_unit_test(test_items_and_counts),
        cmocka_unit_test(test_enum_and_const),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_boolean_schemas_and_annotations),
        cmocka_unit_test(test_small_and_null_error_buffers),
        cmocka_unit_test(test_long_values_are_cut_in_messages),
        cmocka_unit_test(test_long_paths_are_marked),
        cmocka_unit_test(test_depth_is_bounded),
        cmocka_unit_test(test_check_accepts_agent_schemas),
        cmocka_unit_test(test_check_rejects_malformed),
        cmocka_unit_test(test_validate_refuses_malformed),
        cmocka_unit_test(test_check_rejects_unknown_keywords),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
