/* test_jsonschema_subset.c - what the subset added over plain types and bounds: pattern and
 * patternProperties (PCRE2 near ECMA-262), the four enforced formats checked case by case
 * (including the cases newer releases of the JSON-Schema-Test-Suite have and Debian's 2.0.0 lacks),
 * unknown formats and keywords refused with a location and a did-you-mean, and the bounds on
 * hostile patterns. Schemas are written with ' for " to stay readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/jsonschema.h"
#include "core/jsonschema_format.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* JSON with ' in place of " (a real apostrophe is written \u0027). */
static json_t *J(const char *text) {
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *p = buf; *p; p++)
        if (*p == '\'') *p = '"';
    json_error_t e;
    json_t *v = json_loads(buf, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v) fail_msg("bad JSON in test: %s: %s", buf, e.text);
    return v;
}

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
    if (want && !strstr(msg, want)) fail_msg("message\n  got:  %s\n  want: %s", msg, want);
}

/* The check's message and the pointer it reports. */
static void refused(const char *schema, const char *where, const char *want) {
    char msg[512], at[256];
    json_t *s = J(schema);
    int rc = jsonschema_check_at(s, msg, sizeof msg, at, sizeof at);
    json_decref(s);
    if (rc == 0) fail_msg("expected schema %s to be refused", schema);
    if (strcmp(at, where)) fail_msg("pointer\n  got:  %s\n  want: %s", at, where);
    if (want && !strstr(msg, want)) fail_msg("message\n  got:  %s\n  want: %s", msg, want);
}

static void fmt(const char *format, const char *s, bool want) {
    if (jsonschema_format_valid(format, s, strlen(s)) != want)
        fail_msg("%s: \"%s\" should be %s", format, s, want ? "valid" : "invalid");
}

/* ---------------------------------------------------------------------------------------- */

static void test_pattern(void **state) {
    (void)state;
    ok("{'pattern':'^[a-z]+-[0-9]{3}$'}", "'abc-123'");
    bad("{'pattern':'^[a-z]+-[0-9]{3}$'}", "'abc-12'",
        "/: \"abc-12\" does not match the pattern \"^[a-z]+-[0-9]{3}$\"");
    ok("{'pattern':'b+'}", "'abbbc'");                   /* a search, not anchored */
    ok("{'pattern':'^a'}", "12");                        /* only strings are checked */
    ok("{'pattern':'^.$'}", "'\\u00e9'");                /* UTF: one code point, two bytes */
    ok("{'pattern':'^\\\\p{Lu}'}", "'\\u00c9t\\u00e9'"); /* Unicode properties */
    bad("{'pattern':'^a$'}", "'a\\n'", NULL);        /* $ only at the very end, as in ECMA-262 */
    bad("{'pattern':'^\\\\d$'}", "'\\u0663'", NULL); /* \d is ASCII, as in ECMA-262 */
    ok("{'pattern':'^\\\\u0041\\\\x42$'}", "'AB'");  /* ECMAScript escapes */
    ok("{'pattern':'^[^]$'}", "'\\n'");              /* [^] is any character */
    bad("{'pattern':'[]'}", "'a'", NULL);            /* [] is no character */
    ok("{'pattern':'^\\\\u{1F600}$'}", "'\\ud83d\\ude00'"); /* \u{...} is one code point */
    refused("{'pattern':'(?<=a+)b'}", "/pattern", "does not compile"); /* unbounded lookbehind */
    bad("{'pattern':'^a.b$'}", "'a\\nb'", NULL); /* . stops at line terminators */
    ok("{'pattern':'^(a)?\\\\1b$'}", "'b'");     /* a backreference to an unset group */
    ok("{'properties':{'id':{'pattern':'^x'}}}", "{'id':'xy'}");
    bad("{'properties':{'id':{'pattern':'^x'}}}", "{'id':'yx'}", "/id: \"yx\" does not match");
    /* a NUL inside the pattern and the subject is a character like any other */
    ok("{'pattern':'^a\\u0000b$'}", "'a\\u0000b'");
}

static void test_pattern_refused_when_checked(void **state) {
    (void)state;
    refused("{'properties':{'a':{'pattern':'(ab'}}}", "/properties/a/pattern",
            "/properties/a/pattern: the pattern does not compile: missing closing parenthesis at "
            "offset 3");
    refused("{'pattern':'a{2,1}'}", "/pattern", "does not compile");
    refused("{'pattern':'\\\\C'}", "/pattern", "does not compile"); /* would split UTF-8 */
    refused("{'patternProperties':{'^ok':{},'[':{}}}", "/patternProperties/[",
            "/patternProperties/[: the pattern does not compile");
    refused("{'patternProperties':[]}", "/patternProperties",
            "must be an object mapping regular expressions to schemas");
    refused("{'patternProperties':{'^a':{'typ':'string'}}}", "/patternProperties/^a/typ",
            "did you mean \"type\"");
    /* and the same schema given straight to validate fails every value */
    bad("{'pattern':'(ab'}", "'ab'", "invalid schema: /pattern: the pattern does not compile");
}

/* A catastrophic pattern is stopped by the match limit: an error, quickly, never a match. */
static void test_pattern_match_is_bounded(void **state) {
    (void)state;
    char value[128];
    memset(value, 'a', 40);
    strcpy(value + 40, "!'");
    char v[140];
    snprintf(v, sizeof v, "'%s", value);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bad("{'pattern':'^(a+)+$'}", v, "could not be checked: the match took too many steps");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (secs > 5) fail_msg("the bounded match took %.1f s", secs);
}

static void test_pattern_properties(void **state) {
    (void)state;
    const char *s = "{'properties':{'name':{'type':'string'}},"
                    "'patternProperties':{'^x-':{'type':'integer'},'_at$':{'format':'date-time'}},"
                    "'additionalProperties':false}";
    ok(s, "{'name':'n','x-a':1,'x-b':2,'due_at':'2025-01-02T03:04:05Z'}");
    bad(s, "{'x-a':'one'}", "/x-a: expected integer, got string \"one\"");
    bad(s, "{'due_at':'tomorrow'}", "/due_at: \"tomorrow\" is not a valid date-time (format)");
    bad(s, "{'other':1}", "/: property \"other\" is not allowed (additionalProperties is false)");
    /* a name matching several patterns meets all of them; properties and patterns both apply */
    const char *both = "{'properties':{'ab':{'minLength':2}},"
                       "'patternProperties':{'^a':{'maxLength':3},'b$':{'pattern':'z'}}}";
    ok(both, "{'ab':'zz'}");
    bad(both, "{'ab':'z'}", "shorter than the minimum length 2");
    bad(both, "{'ab':'zzzz'}", "longer than the maximum length 3");
    bad(both, "{'ab':'yy'}", "does not match the pattern \"z\"");
    /* additionalProperties as a schema covers only the names nothing else named */
    const char *addl = "{'patternProperties':{'^n':{'type':'number'}},"
                       "'additionalProperties':{'type':'string'}}";
    ok(addl, "{'n1':1,'s':'x'}");
    bad(addl, "{'s':1}", "/s: expected string");
}

static void test_format_date_time(void **state) {
    (void)state;
    fmt("date-time", "1963-06-19T08:30:06.283185Z", true);
    fmt("date-time", "1963-06-19t08:30:06z", true);
    fmt("date-time", "1937-01-01T12:00:27.87+00:20", true);
    fmt("date-time", "2024-02-29T00:00:00Z", true);
    fmt("date-time", "2023-02-29T00:00:00Z", false); /* not a leap year */
    fmt("date-time", "1900-02-29T00:00:00Z", false);
    fmt("date-time", "2000-02-29T00:00:00Z", true);
    fmt("date-time", "2024-04-31T00:00:00Z", false);
    fmt("date-time", "1998-12-31T23:59:60Z", true); /* the leap second, in UTC */
    fmt("date-time", "1998-12-31T15:59:60.123-08:00", true);
    fmt("date-time", "1998-12-31T23:59:61Z", false);
    fmt("date-time", "1998-12-31T23:58:60Z", false);
    fmt("date-time", "1998-12-31T22:59:60Z", false);
    fmt("date-time", "1990-12-31T15:59:59-24:00", false);
    fmt("date-time", "1990-12-31T15:59:59+05:60", false);
    fmt("date-time", "1990-12-31T24:00:00Z", false);
    fmt("date-time", "1990-12-31T15:59:59", false); /* the offset is required */
    fmt("date-time", "1990-12-31 15:59:59Z", false);
    fmt("date-time", "1990-12-31T15:59:59.Z", false);
    fmt("date-time", "2013-350T01:01:01", false);
    fmt("date-time", "1963-06-1\xe0\xa7\xaaT00:00:00Z", false); /* a Bengali digit */
    fmt("date-time", "1990-12-31T15:59:59Z ", false);
    fmt("date-time", "", false);
}

static void test_format_email(void **state) {
    (void)state;
    fmt("email", "joe.bloggs@example.com", true);
    fmt("email", "te~st@example.com", true);
    fmt("email", "~test@example.com", true);
    fmt("email", "te.s.t@example.com", true);
    fmt("email", "o'brien+tag@mail.example.org", true);
    fmt("email", "\"joe bloggs\"@example.com", true);
    fmt("email", "\"joe..bloggs\"@example.com", true);
    fmt("email", "\"joe@bloggs\"@example.com", true);
    fmt("email", "joe.bloggs@[127.0.0.1]", true);
    fmt("email", "joe.bloggs@[IPv6:::1]", true);
    fmt("email", "joe.bloggs@[IPv6:2001:db8::7]", true);
    fmt("email", "joe@localhost", true);
    fmt("email", "2962", false);
    fmt("email", ".test@example.com", false);
    fmt("email", "test.@example.com", false);
    fmt("email", "te..st@example.com", false);
    fmt("email", "joe.bloggs@invalid=domain.com", false);
    fmt("email", "joe.bloggs@[127.0.0.300]", false);
    fmt("email", "joe@-example.com", false);
    fmt("email", "joe@example..com", false);
    fmt("email", "joe@example.com.", false);
    fmt("email", "@example.com", false);
    fmt("email", "joe@", false);
    fmt("email", "jo e@example.com", false);
    fmt("email", "\"unterminated@example.com", false);
    fmt("email", "j\xc3\xb6@example.com", false); /* non-ASCII is idn-email */
    /* the IPv6 grammar behind address literals (and URI hosts) */
    fmt("email", "a@[IPv6:1:2:3:4:5:6:7:8]", true);
    fmt("email", "a@[IPv6:1:2:3:4:5:6:7:8:9]", false);
    fmt("email", "a@[IPv6:::ffff:192.0.2.1]", true);
    fmt("email", "a@[IPv6:1:2:3:4:5:6:1.2.3.4]", true);
    fmt("email", "a@[IPv6:1:2:3:4:5:6:7:1.2.3.4]", false);
    fmt("email", "a@[IPv6:1::2::3]", false);
    fmt("email", "a@[IPv6:12345::]", false);
    fmt("email", "a@[IPv6::1::]", false);
    fmt("email", "a@[IPv6:1:2:3:4:5:6:7::]", true);
    fmt("email", "a@[IPv6:1:2:3:4:5:6:7:8::]", false);
    fmt("email", "a@[IPv6:fe80::1:]", false);
    fmt("email", "a@[01.2.3.4]", false); /* no leading zeros */
}

static void test_format_uri(void **state) {
    (void)state;
    fmt("uri", "http://foo.bar/?baz=qux#quux", true);
    fmt("uri", "http://foo.com/blah_(wikipedia)_blah#cite-1", true);
    fmt("uri", "http://-.~_!$&'()*+,;=:%40:80%2f::::::@example.com", true);
    fmt("uri", "http://223.255.255.254", true);
    fmt("uri", "ldap://[2001:db8::7]/c=GB?objectClass?one", true);
    fmt("uri", "http://[v1.fe80::a+en1]:8080/", true);
    fmt("uri", "https://example.com:8443/a/b?c=d&e#f/g?h", true);
    fmt("uri", "mailto:John.Doe@example.com", true);
    fmt("uri", "urn:oasis:names:specification:docbook:dtd:xml:4.1.2", true);
    fmt("uri", "tel:+1-816-555-1212", true);
    fmt("uri", "file:///etc/hosts", true);
    fmt("uri", "//foo.bar/?baz=qux#quux", false);
    fmt("uri", "/abc", false);
    fmt("uri", "abc", false);
    fmt("uri", "\\\\WINDOWS\\fileshare", false);
    fmt("uri", "http:// shouldfail.com", false);
    fmt("uri", ":// should fail", false);
    fmt("uri", "ht,tp://example.com", false);
    fmt("uri", "http://example.com:80a/", false);
    fmt("uri", "http://[2001:db8::7/", false);
    fmt("uri", "http://[::1::2]/", false);
    fmt("uri", "http://example.com/%zz", false);
    fmt("uri", "http://example.com/a b", false);
    fmt("uri", "http://example.com/#a#b", false);
    fmt("uri", "http://ex\xc3\xa4mple.com/", false); /* non-ASCII is iri */
}

static void test_format_uuid(void **state) {
    (void)state;
    fmt("uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d16380", true);
    fmt("uuid", "2EB8AA08-AA98-11EA-B4AA-73B441D16380", true);
    fmt("uuid", "2eb8aa08-AA98-11ea-B4Aa-73B441D16380", true);
    fmt("uuid", "00000000-0000-0000-0000-000000000000", true);
    fmt("uuid", "98d80576-482e-f27d-8aa8-1b0d1a2b3c4d", true); /* any version */
    fmt("uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d1638", false);
    fmt("uuid", "2eb8aa08-aa98-11ea-73b441d16380", false);
    fmt("uuid", "2eb8aa08-aa98-11ea-b4ga-73b441d16380", false);
    fmt("uuid", "2eb8aa08aa9811eab4aa73b441d16380", false);
    fmt("uuid", "2eb8aa08aa98-11ea-b4aa73b441d16380", false);
    fmt("uuid", "2eb8-aa08-aa98-11ea-b4aa73b44-1d16380", false);
    fmt("uuid", "2eb8aa08aa9811eab4aa73b441d16380----", false);
    /* through the validator: strings only, located */
    ok("{'format':'uuid'}", "12");
    bad("{'items':{'format':'uuid'}}", "['2eb8aa08-aa98-11ea-b4aa-73b441d16380','x']",
        "/1: \"x\" is not a valid uuid (format)");
}

static void test_unknown_formats_refused(void **state) {
    (void)state;
    refused("{'format':'date'}", "/format",
            "format \"date\" is not supported; Baton checks date-time, email, uri and uuid");
    refused("{'properties':{'when':{'format':'datetime'}}}", "/properties/when/format",
            "format \"datetime\" is not supported (did you mean \"date-time\"?)");
    refused("{'format':'hostname'}", "/format", NULL);
    refused("{'format':7}", "/format", "must be a string");
    bad("{'format':'ipv4'}", "'1.2.3.4'", "invalid schema: /format: format \"ipv4\"");
}

/* Every keyword outside the subset is refused where it is, with a hint for near misses;
 * annotations pass. */
static void test_keywords_outside_the_subset(void **state) {
    (void)state;
    refused("{'type':'object','properties':{'a':{'proprties':{}}}}", "/properties/a/proprties",
            "unknown keyword \"proprties\" (did you mean \"properties\"?)");
    refused("{'patternProperty':{}}", "/patternProperty", "did you mean \"patternProperties\"?");
    refused("{'items':{'anyOf':[]}}", "/items/anyOf",
            "keyword \"anyOf\" is not supported by Baton's validator");
    refused("{'$defs':{'a':{}}}", "/$defs", "not supported");
    refused("{'uniqueItems':true}", "/uniqueItems", "not supported");
    refused("{'contentMediaType':'application/json'}", "/contentMediaType", "not supported");
    refused("{'properties':{'a/b':{'typo':1}}}", "/properties/a~1b/typo", NULL);
    char msg[256], at[64];
    json_t *s = J("{'$schema':'http://json-schema.org/draft-07/schema#','$id':'x','title':'t',"
                  "'description':'d','default':1,'examples':[1],'$comment':'c','deprecated':true,"
                  "'readOnly':false,'writeOnly':false,'x-ui':{'w':1},'const':1}");
    assert_int_equal(jsonschema_check_at(s, msg, sizeof msg, at, sizeof at), 0);
    json_decref(s);
    /* a NULL `where` is allowed, and a short one is cut, not overrun */
    s = J("{'properties':{'abcdefghij':{'nope':1}}}");
    assert_int_equal(jsonschema_check_at(s, msg, sizeof msg, at, 8), -1);
    assert_string_equal(at, "/proper");
    assert_int_equal(jsonschema_check_at(s, NULL, 0, NULL, 0), -1);
    json_decref(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern),
        cmocka_unit_test(test_pattern_refused_when_checked),
        cmocka_unit_test(test_pattern_match_is_bounded),
        cmocka_unit_test(test_pattern_properties),
        cmocka_unit_test(test_format_date_time),
        cmocka_unit_test(test_format_email),
        cmocka_unit_test(test_format_uri),
        cmocka_unit_test(test_format_uuid),
        cmocka_unit_test(test_unknown_formats_refused),
        cmocka_unit_test(test_keywords_outside_the_subset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
