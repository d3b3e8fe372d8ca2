/* test_template.c - "{{ expr }}" templates of spec section 3: literals, type-keeping single
 * holes, formatting of mixed text, error offsets into the template, deep rendering and
 * checking, scope chains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/template.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SCOPE_JSON =
    "{\"inputs\": {\"name\": \"Ada\", \"n\": 3, \"half\": 0.5, \"flag\": true,"
    "  \"list\": [1, 2, 3], \"obj\": {\"a\": 1, \"b\": [true, null]}, \"nul\": \"a\\u0000b\"},"
    " \"tasks\": {\"task-2\": {\"outputs\": {\"x\": 1}}}}";

static json_t *vars;
static expr_scope_t scope;

static int setup(void **state) {
    (void)state;
    vars = json_loads(SCOPE_JSON, JSON_ALLOW_NUL, NULL);
    scope.vars = vars;
    scope.parent = NULL;
    return vars ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    json_decref(vars);
    return 0;
}

static json_t *render_ok(const char *src, const expr_scope_t *sc) {
    expr_error_t err;
    json_t *v = NULL;
    if (tmpl_render_str(src, sc, &v, &err) != 0)
        fail_msg("render '%s': %s (offset %zu)", src, err.message, err.offset);
    assert_non_null(v);
    return v;
}

/* The rendered value as compact JSON, so the type shows: 3 vs "3". */
static void expect(const char *src, const char *want) {
    json_t *v = render_ok(src, &scope);
    char *got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (strcmp(got, want) != 0) fail_msg("'%s' rendered %s, want %s", src, got, want);
    free(got);
}

static void expect_parse_err(const char *src, const char *part, size_t off) {
    expr_error_t err;
    tmpl_t *t = tmpl_parse(src, strlen(src), &err);
    if (t) fail_msg("'%s' parsed, want error '%s'", src, part);
    if (!strstr(err.message, part)) fail_msg("'%s': got '%s', want '%s'", src, err.message, part);
    if (err.offset != off)
        fail_msg("'%s': offset %zu, want %zu (%s)", src, err.offset, off, err.message);
}

static void test_literal(void **state) {
    (void)state;
    static const char *const lits[] = {"hello world", "", "a { b } c", "}} {", "{ {x} }", "x{"};
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        expr_error_t err;
        tmpl_t *t = tmpl_parse(lits[i], strlen(lits[i]), &err);
        assert_non_null(t);
        assert_true(tmpl_is_literal(t));
        json_t *v;
        assert_int_equal(tmpl_render(t, &scope, &v, &err), 0);
        assert_string_equal(json_string_value(v), lits[i]);
        json_decref(v);
        tmpl_free(t);
    }
    tmpl_t *t = tmpl_parse("a {{ b }}", 9, NULL);
    assert_false(tmpl_is_literal(t));
    tmpl_free(t);
    tmpl_free(NULL);
}

static void test_single_hole_keeps_type(void **state) {
    (void)state;
    expect("{{ inputs.n }}", "3");
    expect("{{inputs.n}}", "3");
    expect("{{\n  inputs.half\t}}", "0.5");
    expect("{{ inputs.flag }}", "true");
    expect("{{ inputs.n > 5 }}", "false");
    expect("{{ inputs.list }}", "[1,2,3]");
    expect("{{ inputs.obj }}", "{\"a\":1,\"b\":[true,null]}");
    expect("{{ inputs.missing }}", "null");
    expect("{{ inputs.name }}", "\"Ada\"");
    /* anything outside the braces makes it a string */
    expect(" {{ inputs.n }}", "\" 3\"");
    expect("{{ inputs.n }} ", "\"3 \"");
    expect("{{ inputs.n }}{{ inputs.n }}", "\"33\"");
}

static void test_mixed_text(void **state) {
    (void)state;
    expect("score: {{ inputs.n }}, obj={{ inputs.obj }}, list={{inputs.list}}, "
           "none=[{{ inputs.missing }}], b={{ true }}, r={{ inputs.half }}, w={{ 2.0 }}, "
           "s={{ inputs.name }}",
           "\"score: 3, obj={\\\"a\\\":1,\\\"b\\\":[true,null]}, list=[1,2,3], none=[], "
           "b=true, r=0.5, w=2.0, s=Ada\"");
    expect("{{ 'a' }}{{ 'b' }}c", "\"abc\"");
    expect("h\xc3\xa9 {{ inputs.name }}", "\"h\xc3\xa9 Ada\"");

    /* a string value with a NUL byte keeps its length */
    json_t *v = render_ok("[{{ inputs.nul }}]", &scope);
    assert_int_equal(json_string_length(v), 5);
    assert_memory_equal(json_string_value(v), "[a\0b]", 5);
    json_decref(v);
}

static void test_errors(void **state) {
    (void)state;
    expect_parse_err("abc {{ inputs.n", "unclosed '{{'", 4);
    expect_parse_err("{{ a }} and {{ b", "unclosed '{{'", 12);
    expect_parse_err("{{", "unclosed '{{'", 0);
    expect_parse_err("x {{ '}}' ", "unclosed '{{'", 2); /* the "}}" is inside a string */
    expect_parse_err("{{ 'abc }}", "unclosed '{{'", 0);
    /* errors inside a hole are offset into the whole template */
    expect_parse_err("Hello {{ foo(1) }}", "unknown function 'foo'", 9);
    expect_parse_err("ab {{ 1 + }}", "unexpected end of expression", 10);
    expect_parse_err("{{ }}", "empty expression", 3);
    expect_parse_err("{{{ 1 }}}", "unexpected character '{'", 2);
    expect_parse_err("ok {{ 1 }} \xff", "invalid UTF-8", 10);

    expr_error_t err;
    json_t *v = (json_t *)0x1;
    assert_int_equal(tmpl_render_str("x = {{ 'a' < 1 }}", &scope, &v, &err), -1);
    assert_null(v);
    assert_int_equal(err.offset, 11);
    assert_string_equal(err.message, "cannot compare string with number using '<' at offset 11");
    assert_int_equal(tmpl_render_str("{{ 1 / 0 }}", &scope, &v, &err), -1);
    assert_int_equal(err.offset, 5);
    assert_int_equal(tmpl_render_str(NULL, &scope, &v, &err), 0); /* NULL is the empty string */
    assert_string_equal(json_string_value(v), "");
    json_decref(v);
    assert_int_equal(tmpl_render(NULL, &scope, &v, &err), -1);
}

static void test_braces_in_strings(void **state) {
    (void)state;
    expect("{{ '}}' + inputs.name }}", "\"}}Ada\"");
    expect("a{{ \"x}}y\" }}b", "\"ax}}yb\"");
    expect("{{ 'it\\'s }}' }}", "\"it's }}\"");
    expect("{{ \"q\\\"}}\" }}", "\"q\\\"}}\"");
    expect("{{ '{{' }}", "\"{{\"");
}

static void collect_ref(void *ud, const char *root, const char *member, size_t offset) {
    sb_printf(ud, "%s:%s@%zu ", root, member ? member : "-", offset);
}

static void test_refs(void **state) {
    (void)state;
    const char *src = "{{ tasks.a.outputs.x }} and {{ inputs.y + len(item) }}";
    tmpl_t *t = tmpl_parse(src, strlen(src), NULL);
    assert_non_null(t);
    strbuf_t sb = {0};
    tmpl_visit_refs(t, collect_ref, &sb);
    assert_string_equal(sb_str(&sb), "tasks:a@3 inputs:y@31 item:-@46 ");
    sb_free(&sb);
    tmpl_free(t);
}

static void test_render_value(void **state) {
    (void)state;
    json_t *in = json_loads("{\"a\": \"{{ inputs.n }}\", \"b\": [\"x {{ inputs.name }}\", 5,"
                            " {\"c\": \"{{ inputs.list }}\", \"d\": null, \"e\": 1.5}],"
                            " \"{{ key }}\": true, \"f\": \"plain\"}",
                            JSON_PRESERVE_ORDER, NULL);
    assert_non_null(in);
    json_t *out;
    expr_error_t err;
    assert_int_equal(tmpl_render_value(in, &scope, &out, &err), 0);
    char *got = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(got, "{\"a\":3,\"b\":[\"x Ada\",5,{\"c\":[1,2,3],\"d\":null,\"e\":1.5}],"
                             "\"{{ key }}\":true,\"f\":\"plain\"}");
    free(got);
    json_decref(out);
    json_decref(in);

    in = json_pack("{s:[s,s]}", "a", "fine", "{{ 1 / 0 }}");
    out = (json_t *)0x1;
    assert_int_equal(tmpl_render_value(in, &scope, &out, &err), -1);
    assert_null(out);
    assert_int_equal(err.offset, 5);
    json_decref(in);

    in = json_pack("[s]", "{{ nope(1) }}");
    assert_int_equal(tmpl_render_value(in, &scope, &out, &err), -1);
    assert_non_null(strstr(err.message, "unknown function"));
    json_decref(in);

    in = json_integer(7);
    assert_int_equal(tmpl_render_value(in, &scope, &out, &err), 0);
    assert_int_equal(json_integer_value(out), 7);
    json_decref(out);
    json_decref(in);
    assert_int_equal(tmpl_render_value(NULL, &scope, &out, &err), -1);
}

typedef struct check_log {
    int ok, failed;
    strbuf_t msgs;
} check_log_t;

static void on_check(void *ud, const json_t *node, const tmpl_t *t, const expr_error_t *err) {
    check_log_t *log = ud;
    assert_true(json_is_string(node));
    assert_non_null(err);
    if (t) {
        log->ok++;
    } else {
        log->failed++;
        sb_printf(&log->msgs, "%s|%s@%zu;", json_string_value(node), err->message, err->offset);
    }
}

static void test_check_value(void **state) {
    (void)state;
    json_t *in = json_pack("{s:s,s:[s,s,i],s:{s:s}}", "a", "ok {{ inputs.n }}", "b", "{{ nope( }}",
                           "plain", 3, "c", "d", "x {{ a");
    check_log_t log = {0};
    tmpl_check_value(in, on_check, &log);
    assert_int_equal(log.ok, 2);
    assert_int_equal(log.failed, 2);
    assert_non_null(strstr(sb_str(&log.msgs), "{{ nope( }}|unknown function 'nope'"));
    assert_non_null(strstr(sb_str(&log.msgs), "x {{ a|unclosed '{{' (no matching '}}')@2;"));
    sb_free(&log.msgs);
    json_decref(in);
    tmpl_check_value(NULL, on_check, &log); /* tolerated */
}

static void test_scope_chain(void **state) {
    (void)state;
    json_t *inner_vars = json_pack("{s:{s:s},s:{s:i}}", "item", "name", "x", "inputs", "n", 10);
    expr_scope_t inner = {.vars = inner_vars, .parent = &scope};
    json_t *v = render_ok("{{ item.name }}-{{ inputs.n }}-{{ tasks.task-2.outputs.x }}", &inner);
    assert_string_equal(json_string_value(v), "x-10-1");
    json_decref(v);
    /* the outer scope alone does not see the inner names */
    v = render_ok("[{{ item.name }}]", &scope);
    assert_string_equal(json_string_value(v), "[]");
    json_decref(v);
    json_decref(inner_vars);
}

static void test_not_nul_terminated(void **state) {
    (void)state;
    static const char *const cases[] = {"a {{ inputs.n }}",      "{{ '",  "{{ 'x' }", "{", "{{",
                                        "x {{ inputs.name }} y", "{{ '\\"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        char *buf = malloc(n);
        memcpy(buf, cases[i], n);
        tmpl_t *t = tmpl_parse(buf, n, NULL);
        if (t) {
            json_t *v = NULL;
            if (tmpl_render(t, &scope, &v, NULL) == 0) json_decref(v);
        }
        tmpl_free(t);
        free(buf);
    }
    tmpl_t *t = tmpl_parse("{{ 1 }}{{ broken", 7, NULL); /* only the first 7 bytes count */
    assert_non_null(t);
    json_t *v;
    assert_int_equal(tmpl_render(t, NULL, &v, NULL), 0);
    assert_int_equal(json_integer_value(v), 1);
    json_decref(v);
    assert_int_equal(tmpl_render(t, NULL, NULL, NULL), 0); /* no out: nothing leaks */
    tmpl_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),           cmocka_unit_test(test_single_hole_keeps_type),
        cmocka_unit_test(test_mixed_text),        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_braces_in_strings), cmocka_unit_test(test_refs),
        cmocka_unit_test(test_render_value),      cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_scope_chain),       cmocka_unit_test(test_not_nul_terminated),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
