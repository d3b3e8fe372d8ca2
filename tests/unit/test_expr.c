/* test_expr.c - the expression language of spec section 3: parsing, precedence, every operator
 * and function, null semantics, errors with offsets, nesting limits, refs, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/expr.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SCOPE_JSON =
    "{\"inputs\": {\"name\": \"Ada\", \"n\": 3, \"half\": 0.5, \"list\": [1, 2, 3],"
    "  \"empty\": \"\", \"obj\": {\"a\": 1, \"b\": [true, null]}, \"nothing\": null,"
    "  \"caps\": \"MiXeD\", \"pad\": \"  hi \\n\", \"utf\": \"h\\u00e9llo\"},"
    " \"tasks\": {\"code_analysis\": {\"status\": \"succeeded\","
    "    \"outputs\": {\"security_score\": 7, \"issues\": [{\"sev\": \"high\"}, {\"sev\": "
    "\"low\"}]}},"
    "  \"task-2\": {\"outputs\": {\"x\": 1}}, \"3d\": {\"outputs\": {\"y\": 2}}},"
    " \"variables\": {\"k\": \"b\"}}";

static json_t *vars;
static expr_scope_t scope;

static int setup(void **state) {
    (void)state;
    json_error_t jerr;
    vars = json_loads(SCOPE_JSON, 0, &jerr);
    if (!vars) fprintf(stderr, "scope json: %s\n", jerr.text);
    scope.vars = vars;
    scope.parent = NULL;
    return vars ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    json_decref(vars);
    return 0;
}

/* Parses and evaluates against `sc`; fails the test on any error. */
static json_t *eval_ok(const char *src, const expr_scope_t *sc) {
    expr_error_t err;
    expr_t *e = expr_parse(src, strlen(src), &err);
    if (!e) fail_msg("parse '%s': %s (offset %zu)", src, err.message, err.offset);
    json_t *v = NULL;
    int rc = expr_eval(e, sc, &v, &err);
    expr_free(e);
    if (rc != 0) fail_msg("eval '%s': %s", src, err.message);
    assert_non_null(v);
    return v;
}

/* The value wrapped in a list and formatted, so the type shows: [7], [7.0], ["7"], [null]. */
static void expect(const char *src, const char *want) {
    json_t *v = eval_ok(src, &scope);
    json_t *wrap = json_pack("[o]", v);
    char *got = expr_format(wrap);
    json_decref(wrap);
    if (strcmp(got, want) != 0) fail_msg("'%s' gave %s, want %s", src, got, want);
    free(got);
}

/* The value formatted as for string interpolation. */
static void expect_str(const char *src, const char *want) {
    json_t *v = eval_ok(src, &scope);
    char *got = expr_format(v);
    json_decref(v);
    if (strcmp(got, want) != 0) fail_msg("'%s' gave '%s', want '%s'", src, got, want);
    free(got);
}

static void expect_eval_err(const char *src, const char *msg, size_t off) {
    expr_error_t err;
    expr_t *e = expr_parse(src, strlen(src), &err);
    if (!e) fail_msg("parse '%s': %s", src, err.message);
    json_t *v = (json_t *)0x1;
    int rc = expr_eval(e, &scope, &v, &err);
    expr_free(e);
    if (rc == 0) fail_msg("'%s' evaluated, want error '%s'", src, msg);
    assert_null(v);
    if (strcmp(err.message, msg) != 0) fail_msg("'%s': got '%s', want '%s'", src, err.message, msg);
    if (err.offset != off) fail_msg("'%s': offset %zu, want %zu", src, err.offset, off);
}

/* Parse errors: `part` must appear in the message. */
static void expect_parse_err(const char *src, size_t len, const char *part, size_t off) {
    expr_error_t err;
    expr_t *e = expr_parse(src, len, &err);
    if (e) fail_msg("'%s' parsed, want error '%s'", src, part);
    if (!strstr(err.message, part)) fail_msg("'%s': got '%s', want '%s'", src, err.message, part);
    if (err.offset != off)
        fail_msg("'%s': offset %zu, want %zu (%s)", src, err.offset, off, err.message);
}
#define PARSE_ERR(src, part, off) expect_parse_err(src, strlen(src), part, off)

static void test_precedence(void **state) {
    (void)state;
    expect("1 + 2 * 3", "[7]");
    expect("(1 + 2) * 3", "[9]");
    expect("10 - 4 - 3", "[3]");
    expect("2 * 3 % 4", "[2]");
    expect("1 + 2 < 4", "[true]");
    expect("1 < 2 == true", "[true]");
    expect("1 == 1 in [true]", "[true]");
    expect("1 + 2 in [3]", "[true]");
    expect("true or false and false", "[true]");
    expect("(true or false) and false", "[false]");
    expect("true || false && false", "[true]");
    expect("not false == false", "[false]"); /* not binds tightest: (not false) == false */
    expect("!true || true", "[true]");
    expect("-2 * 3", "[-6]");
    expect("- -4", "[4]");
    expect("-inputs.n + 1", "[-2]");
    expect("2 * -inputs.n", "[-6]");
    /* `in` is looser than `==`: 'a' in ('cab' == true) */
    expect_eval_err("'a' in 'cab' == true", "cannot apply 'in' to string and bool at offset 4", 4);
}

static void test_arithmetic(void **state) {
    (void)state;
    expect("7 + 2", "[9]");
    expect("7 + 2.5", "[9.5]");
    expect("1.5 + 1.5", "[3.0]");
    expect("7 - 10", "[-3]");
    expect("1.5 - 0.5", "[1.0]");
    expect("6 * 7", "[42]");
    expect("6 / 3", "[2]");
    expect("7 / 2", "[3.5]");
    expect("1 / 4", "[0.25]");
    expect("6.0 / 3", "[2.0]");
    expect("7 % 3", "[1]");
    expect("-7 % 3", "[-1]");
    expect("7.5 % 2", "[1.5]");
    expect("0.1 + 0.2", "[0.30000000000000004]");
    expect("'ab' + \"cd\"", "[\"abcd\"]");
    expect("[1] + [2, 'x']", "[[1,2,\"x\"]]");
    expect("[] + []", "[[]]");
    /* 64-bit overflow turns into a real rather than wrapping */
    expect("9223372036854775807 + 1", "[9.223372036854776e+18]");
    expect("-9223372036854775807 - 1", "[-9223372036854775808]");
    expect("(-9223372036854775807 - 1) / -1", "[9.223372036854776e+18]");
    expect("(-9223372036854775807 - 1) % -1", "[0]");
    expect("-(-9223372036854775807 - 1)", "[9.223372036854776e+18]");
    expect("4611686018427387904 * 4", "[1.8446744073709552e+19]");
    expect_eval_err("1e308 * 10", "result of '*' is out of range at offset 6", 6);
}

static void test_division_by_zero(void **state) {
    (void)state;
    expect_eval_err("1 / 0", "division by zero at offset 2", 2);
    expect_eval_err("1 % 0", "division by zero at offset 2", 2);
    expect_eval_err("1.5 / 0.0", "division by zero at offset 4", 4);
    expect_eval_err("1 / 0.0", "division by zero at offset 2", 2);
    expect_eval_err("2.5 % 0", "division by zero at offset 4", 4);
    expect_eval_err("inputs.n / (inputs.n - 3)", "division by zero at offset 9", 9);
}

static void test_type_errors(void **state) {
    (void)state;
    expect_eval_err("'abc' < 8", "cannot compare string with number using '<' at offset 6", 6);
    expect_eval_err("8 >= 'abc'", "cannot compare number with string using '>=' at offset 2", 2);
    expect_eval_err("[1] < [2]", "cannot compare list with list using '<' at offset 4", 4);
    expect_eval_err("inputs.obj > 1", "cannot compare object with number using '>' at offset 11",
                    11);
    expect_eval_err("true <= false", "cannot compare bool with bool using '<=' at offset 5", 5);
    expect_eval_err("'ab' + 1", "cannot apply '+' to string and number at offset 5", 5);
    expect_eval_err("1 + 'ab'", "cannot apply '+' to number and string at offset 2", 2);
    expect_eval_err("[1] + 'ab'", "cannot apply '+' to list and string at offset 4", 4);
    expect_eval_err("true * 2", "cannot apply '*' to bool and number at offset 5", 5);
    expect_eval_err("'a' - 'b'", "cannot apply '-' to string and string at offset 4", 4);
    expect_eval_err("'a' / 2", "cannot apply '/' to string and number at offset 4", 4);
    expect_eval_err("[1] % 2", "cannot apply '%' to list and number at offset 4", 4);
    expect_eval_err("-'x'", "cannot apply '-' to string at offset 0", 0);
    expect_eval_err("1 in 5", "cannot apply 'in' to number and number at offset 2", 2);
    expect_eval_err("1 in 'abc'", "cannot apply 'in' to number and string at offset 2", 2);
    expect_eval_err("1 in inputs.obj", "cannot apply 'in' to number and object at offset 2", 2);
    expect_eval_err("inputs.missing + 1", "cannot apply '+' to null and number at offset 15", 15);
    expect_eval_err("1 + (2 < 'x')", "cannot compare number with string using '<' at offset 7", 7);
    /* the error inside a list or an index propagates */
    expect_eval_err("[1, 2 / 0]", "division by zero at offset 6", 6);
    expect_eval_err("inputs.list[1 / 0]", "division by zero at offset 14", 14);
}

static void test_comparisons(void **state) {
    (void)state;
    expect("1 < 2", "[true]");
    expect("2 <= 2", "[true]");
    expect("3 > 2.5", "[true]");
    expect("2 >= 3", "[false]");
    expect("'abc' < 'abd'", "[true]");
    expect("'ab' < 'abc'", "[true]");
    expect("'b' > 'a'", "[true]");
    expect("'B' < 'a'", "[true]"); /* byte order */
    expect("1 == 1.0", "[true]");
    expect("[1, 'a'] == [1.0, 'a']", "[true]");
    expect("inputs.obj == inputs.obj", "[true]");
    expect("[1, 2] == [2, 1]", "[false]");
    expect("1 != 2", "[true]");
    expect("'1' == 1", "[false]");
    expect("true == 1", "[false]");
    expect("[] == []", "[true]");
    expect("tasks.code_analysis.outputs.security_score < 8", "[true]");
}

static void test_null_semantics(void **state) {
    (void)state;
    expect("inputs.missing", "[null]");
    expect("nope", "[null]");
    expect("nope.x.y[3]", "[null]");
    expect("inputs.list[10]", "[null]");
    expect("inputs.n.x", "[null]");
    expect("inputs.missing < 1", "[false]");
    expect("1 > inputs.missing", "[false]");
    expect("null <= null", "[false]");
    expect("null >= 'a'", "[false]");
    expect("null == null", "[true]");
    expect("inputs.missing == null", "[true]");
    expect("inputs.nothing == null", "[true]");
    expect("inputs.missing != null", "[false]");
    expect("null == 0", "[false]");
    expect("1 in inputs.missing", "[false]");
    expect("null in [1]", "[false]");
    expect("null in [null]", "[true]");
    /* a missing path stops: the index expression after it is not evaluated */
    expect("nope[1 / 0]", "[null]");
}

static void test_in(void **state) {
    (void)state;
    expect("2 in [1, 2]", "[true]");
    expect("5 in inputs.list", "[false]");
    expect("1.0 in [1]", "[true]");
    expect("[1] in [[1], 2]", "[true]");
    expect("'ell' in 'hello'", "[true]");
    expect("'' in 'x'", "[true]");
    expect("'xyz' in 'xy'", "[false]");
    expect("'a' in inputs.obj", "[true]");
    expect("'z' in inputs.obj", "[false]");
}

static void test_logic(void **state) {
    (void)state;
    expect("1 and 'x'", "[true]");
    expect("0 or ''", "[false]");
    expect("0 or 'x'", "[true]");
    expect("inputs.list and inputs.name", "[true]");
    expect("inputs.missing or false", "[false]");
    expect("not 0", "[true]");
    expect("!'x'", "[false]");
    expect("not []", "[true]");
    expect("not inputs.missing", "[true]");
    expect("1 and 2 and 0", "[false]");
    expect("0 or 0 or 3", "[true]");
    /* short-circuit: the erroring side is never evaluated */
    expect("false and 1 / 0", "[false]");
    expect("true or 1 / 0", "[true]");
    expect_eval_err("true and 1 / 0", "division by zero at offset 11", 11);
    expect_eval_err("false || 1 / 0", "division by zero at offset 11", 11);
}

static void test_paths(void **state) {
    (void)state;
    expect("inputs.name", "[\"Ada\"]");
    expect("inputs.list[1]", "[2]");
    expect("inputs.list[-1]", "[3]");
    expect("inputs.list[-4]", "[null]");
    expect("inputs.list[1.0]", "[2]");
    expect("inputs.list[0.5]", "[null]");
    expect("inputs.list['a']", "[null]");
    expect("inputs.list[inputs.n - 2]", "[2]");
    expect("inputs.obj['a']", "[1]");
    expect("inputs.obj[\"b\"][0]", "[true]");
    expect("inputs.obj[variables.k][1]", "[null]");
    expect("inputs.obj[0]", "[null]");
    expect("tasks.code_analysis.outputs.issues[0].sev", "[\"high\"]");
    expect("tasks.code_analysis.outputs.issues[1]['sev']", "[\"low\"]");
    expect("tasks.task-2.outputs.x", "[1]"); /* task ids may contain '-' */
    expect("tasks.3d.outputs.y", "[2]");     /* ... and start with a digit */
    expect("inputs.n-1", "[null]");          /* so this is member "n-1" */
    expect("inputs.n - 1", "[2]");
    expect("tasks . code_analysis . status", "[\"succeeded\"]");
    expect("[10, 20][1]", "[20]");
    expect("(inputs.list)[0]", "[1]");
    expect("default(inputs.missing, inputs.obj).a", "[1]");
    expect("'abc'[0]", "[null]");
    expect("inputs.list.0", "[null]");
    expect("inputs.obj.and", "[null]"); /* keywords are fine as members */
}

static void test_literals(void **state) {
    (void)state;
    expect("'it\\'s'", "[\"it's\"]");
    expect("\"a\\nb\\t\\\\\\\"\\r\"", "[\"a\\nb\\t\\\\\\\"\\r\"]");
    expect("'}}'", "[\"}}\"]");
    expect("1.5e2", "[150.0]");
    expect("2E-1", "[0.2]");
    expect("007", "[7]");
    expect("true", "[true]");
    expect("false", "[false]");
    expect("null", "[null]");
    expect("[]", "[[]]");
    expect("[1, [2, []], 'x']", "[[1,[2,[]],\"x\"]]");
    expect("'h\xc3\xa9'", "[\"h\xc3\xa9\"]");
    expect("  \t\n 42 \n", "[42]");
}

static void test_functions(void **state) {
    (void)state;
    expect("len('h\xc3\xa9llo')", "[5]");
    expect("len(inputs.utf)", "[5]");
    expect("len('\xf0\x9f\x98\x80!')", "[2]");
    expect("len(inputs.list)", "[3]");
    expect("len(inputs.obj)", "[2]");
    expect("len(inputs.missing)", "[0]");
    expect("len('')", "[0]");
    expect_eval_err("len(5)", "len() expects a string, list or object, got number at offset 0", 0);
    expect_eval_err("1 + len(true)", "len() expects a string, list or object, got bool at offset 4",
                    4);

    expect("lower(inputs.caps)", "[\"mixed\"]");
    expect("upper('abc1')", "[\"ABC1\"]");
    expect("upper('\xc3\xa9')", "[\"\xc3\xa9\"]"); /* ASCII only */
    expect("lower(null)", "[null]");
    expect_eval_err("upper(1)", "upper() expects a string, got number at offset 0", 0);
    expect("trim(inputs.pad)", "[\"hi\"]");
    expect("trim('   ')", "[\"\"]");
    expect("trim(null)", "[null]");
    expect_eval_err("trim([])", "trim() expects a string, got list at offset 0", 0);

    expect("contains('hello', 'ell')", "[true]");
    expect("contains('hello', 'z')", "[false]");
    expect("contains(inputs.list, 2)", "[true]");
    expect("contains(inputs.list, 5)", "[false]");
    expect("contains(null, 1)", "[false]");
    expect("contains(inputs.obj, 'a')", "[true]");
    expect_eval_err("contains(1, 2)", "cannot apply 'contains' to number and number at offset 0",
                    0);

    expect("default(inputs.missing, 'x')", "[\"x\"]");
    expect("default(inputs.n, 'x')", "[3]");
    expect("default(inputs.empty, 'x')", "[\"\"]");
    expect("default(false, 'x')", "[false]");
    expect("default(1, 1 / 0)", "[1]"); /* the fallback is lazy */
    expect_eval_err("default(null, 1 / 0)", "division by zero at offset 16", 16);

    expect_str("json(inputs.obj)", "{\"a\":1,\"b\":[true,null]}");
    expect_str("json('a\"b')", "\"a\\\"b\"");
    expect_str("json(null)", "null");
    expect_str("json(0.1)", "0.1");
    expect_str("json([1, 2.0, 'x'])", "[1,2.0,\"x\"]");
    expect("json(1)", "[\"1\"]");
}

static void test_parse_errors(void **state) {
    (void)state;
    PARSE_ERR("", "empty expression", 0);
    PARSE_ERR("   ", "empty expression", 3);
    PARSE_ERR("1 +", "unexpected end of expression", 3);
    PARSE_ERR("foo(1)", "unknown function 'foo'", 0);
    PARSE_ERR("1 + bar(2)", "unknown function 'bar'", 4);
    PARSE_ERR("[len(1), Upper('x')]", "unknown function 'Upper'", 9);
    PARSE_ERR("len(1, 2)", "len() takes 1 argument, got 2", 0);
    PARSE_ERR("len()", "len() takes 1 argument, got 0", 0);
    PARSE_ERR("x + default(1)", "default() takes 2 arguments, got 1", 4);
    PARSE_ERR("'abc", "unterminated string literal", 0);
    PARSE_ERR("'abc\\", "unterminated string literal", 0);
    PARSE_ERR("'a\\qb'", "unknown escape sequence", 2);
    PARSE_ERR("1 = 2", "'=='", 2);
    PARSE_ERR("a & b", "'&&'", 2);
    PARSE_ERR("a | b", "'||'", 2);
    PARSE_ERR("(1 + 2", "expected ')'", 6);
    PARSE_ERR("(1 2", "expected ')'", 3);
    PARSE_ERR("[1, 2", "expected ',' or ']'", 5);
    PARSE_ERR("[1, ]", "unexpected ']'", 4);
    PARSE_ERR("len(1", "expected ',' or ')'", 5);
    PARSE_ERR("a.", "expected a name after '.'", 2);
    PARSE_ERR("a.'b'", "expected a name after '.'", 2);
    PARSE_ERR("a[1", "expected ']'", 3);
    PARSE_ERR("1 2", "unexpected '2'", 2);
    PARSE_ERR("a b", "unexpected 'b'", 2);
    PARSE_ERR(")", "unexpected ')'", 0);
    PARSE_ERR("12abc", "invalid number literal", 0);
    PARSE_ERR("1 + 99999999999999999999", "integer literal out of range", 4);
    PARSE_ERR("1e999", "number literal out of range", 0);
    PARSE_ERR("#", "unexpected character '#'", 0);
    PARSE_ERR("1 + \x01", "unexpected byte 0x01", 4);
    PARSE_ERR("'\xff'", "invalid UTF-8", 1);
    PARSE_ERR("'ok\xc3'", "invalid UTF-8", 3);
    PARSE_ERR("'\xed\xa0\x80'", "invalid UTF-8", 1); /* a surrogate */
    PARSE_ERR("not", "unexpected end of expression", 3);
    expect_parse_err("1 +\0 2", 6, "unexpected byte 0x00", 3);

    /* a NULL err is allowed */
    assert_null(expr_parse("(", 1, NULL));
}

static void test_not_nul_terminated(void **state) {
    (void)state;
    /* An exactly sized heap copy: ASan reports any read past the end. */
    static const char *const cases[] = {"inputs.n + 1",  "'abc",         "a.",  "12",
                                        "inputs.list[0", "tasks.task-2", "1.",  "1e",
                                        "'\\",           "!=",           "nope"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        char *buf = malloc(n);
        memcpy(buf, cases[i], n);
        expr_error_t err;
        expr_t *e = expr_parse(buf, n, &err);
        if (e) {
            json_t *v = NULL;
            if (expr_eval(e, &scope, &v, &err) == 0) json_decref(v);
        }
        expr_free(e);
        free(buf);
    }
    /* only the first len bytes count */
    expr_error_t err;
    expr_t *e = expr_parse("1 + 2 garbage", 5, &err);
    assert_non_null(e);
    json_t *v;
    assert_int_equal(expr_eval(e, NULL, &v, &err), 0);
    assert_int_equal(json_integer_value(v), 3);
    json_decref(v);
    expr_free(e);
}

static char *repeat(const char *open, size_t n, const char *mid, const char *close) {
    strbuf_t sb = {0};
    for (size_t i = 0; i < n; i++) sb_puts(&sb, open);
    sb_puts(&sb, mid);
    for (size_t i = 0; i < n; i++) sb_puts(&sb, close);
    return sb_take(&sb);
}

static void test_depth_limit(void **state) {
    (void)state;
    /* The whole expression is level 1, so 63 parentheses reach the limit of 64. */
    char *ok = repeat("(", EXPR_MAX_DEPTH - 1, "1", ")");
    expect(ok, "[1]");
    free(ok);
    char *deep = repeat("(", EXPR_MAX_DEPTH, "1", ")");
    PARSE_ERR(deep, "nested too deeply", EXPR_MAX_DEPTH);
    free(deep);

    /* Hostile depths fail cleanly instead of overflowing the stack. */
    static const char *const opens[] = {"(", "[", "!", "-", "not ", "len(", "x[", "default(1,"};
    static const char *const closes[] = {")", "]", "", "", "", ")", "]", ")"};
    for (size_t i = 0; i < sizeof opens / sizeof opens[0]; i++) {
        char *s = repeat(opens[i], 100000, "1", closes[i]);
        expr_error_t err;
        expr_t *e = expr_parse(s, strlen(s), &err);
        if (e) fail_msg("%zu x '%s' parsed", (size_t)100000, opens[i]);
        assert_non_null(strstr(err.message, "nested too deeply"));
        free(s);
    }

    /* A long flat chain is not nesting: it parses and evaluates without deep recursion. */
    strbuf_t sb = {0};
    sb_puts(&sb, "1");
    for (int i = 1; i < 20000; i++) sb_puts(&sb, i % 2 ? " + 1" : " and 1 or 1 == 1 - 1");
    expr_error_t err;
    expr_t *e = expr_parse(sb_str(&sb), sb.len, &err);
    assert_non_null(e);
    json_t *v;
    assert_int_equal(expr_eval(e, &scope, &v, &err), 0);
    json_decref(v);
    expr_free(e);
    sb_free(&sb);
}

static void collect_ref(void *ud, const char *root, const char *member, size_t offset) {
    sb_printf(ud, "%s:%s@%zu ", root, member ? member : "-", offset);
}

static char *refs_of(const char *src) {
    expr_error_t err;
    expr_t *e = expr_parse(src, strlen(src), &err);
    if (!e) fail_msg("parse '%s': %s", src, err.message);
    strbuf_t sb = {0};
    expr_visit_refs(e, collect_ref, &sb);
    expr_free(e);
    return sb_take(&sb);
}

static void expect_refs(const char *src, const char *want) {
    char *got = refs_of(src);
    if (strcmp(got, want) != 0) fail_msg("refs of '%s': '%s', want '%s'", src, got, want);
    free(got);
}

static void test_refs(void **state) {
    (void)state;
    expect_refs("tasks.code_analysis.outputs.security_score < 8", "tasks:code_analysis@0 ");
    expect_refs("1 + 2", "");
    expect_refs("item", "item:-@0 ");
    expect_refs("tasks.task-2.status", "tasks:task-2@0 ");
    expect_refs("len(inputs.list) + default(tasks.a.output, [item, index])[variables.x] > 0 "
                "and run.id in tasks['b']",
                "inputs:list@4 tasks:a@27 item:-@44 index:-@50 variables:x@58 run:id@79 "
                "tasks:-@89 ");
    expect_refs("not -previous[iteration].x", "previous:-@5 iteration:-@14 ");
    expect_refs("[artifacts.report][0]", "artifacts:report@1 ");
    expr_visit_refs(NULL, collect_ref, NULL); /* tolerated */
}

static void collect_path(void *ud, const expr_path_t *p) {
    sb_printf(ud, "%s@%zu", p->root, p->off);
    for (size_t i = 0; i < p->n; i++) sb_printf(ud, ".%s@%zu", p->keys[i], p->key_off[i]);
    sb_puts(ud, " ");
}

static void expect_paths(const char *src, const char *want) {
    expr_error_t err;
    expr_t *e = expr_parse(src, strlen(src), &err);
    if (!e) fail_msg("parse '%s': %s", src, err.message);
    strbuf_t sb = {0};
    expr_visit_paths(e, collect_path, &sb);
    expr_free(e);
    if (strcmp(sb_str(&sb), want) != 0)
        fail_msg("paths of '%s': '%s', want '%s'", src, sb_str(&sb), want);
    sb_free(&sb);
}

/* Every leading .member of a path with the offset of its name; the run stops at an index. */
static void test_visit_paths(void **state) {
    (void)state;
    expect_paths("tasks.scan.outputs.score < 8", "tasks@0.scan@6.outputs@11.score@19 ");
    expect_paths("tasks . scan.outputs", "tasks@0.scan@8.outputs@13 ");
    expect_paths("tasks.s.outputs.findings[0].severity", "tasks@0.s@6.outputs@8.findings@16 ");
    expect_paths("tasks.s.outputs[tasks.t.outputs.k]",
                 "tasks@0.s@6.outputs@8 tasks@16.t@22.outputs@24.k@32 ");
    expect_paths("1 + len(item)", "item@8 ");
    expect_paths("a.b.c.d.e.f.g.h.i.j", "a@0.b@2.c@4.d@6.e@8.f@10.g@12.h@14.i@16 ");
    expr_visit_paths(NULL, collect_path, NULL); /* tolerated */
}

static void expect_format(json_t *v, const char *want) {
    char *got = expr_format(v);
    json_decref(v);
    if (strcmp(got, want) != 0) fail_msg("format gave '%s', want '%s'", got, want);
    free(got);
}

static void test_format(void **state) {
    (void)state;
    expect_format(json_string("abc \"q\""), "abc \"q\"");
    expect_format(json_null(), "");
    expect_format(json_integer(42), "42");
    expect_format(json_integer(-9), "-9");
    expect_format(json_real(0.1), "0.1");
    expect_format(json_real(8.5), "8.5");
    expect_format(json_real(2.0), "2.0");
    expect_format(json_real(-0.0), "-0.0");
    expect_format(json_real(150.0), "150.0");
    expect_format(json_real(123456.789), "123456.789");
    expect_format(json_real(1e16), "10000000000000000.0");
    expect_format(json_real(1e17), "1e+17");
    expect_format(json_real(0.00001), "0.00001");
    expect_format(json_real(1e-6), "1e-06");
    expect_format(json_real(1e20), "1e+20");
    expect_format(json_real(1.5e-7), "1.5e-07");
    expect_format(json_real(1.0 / 3.0), "0.3333333333333333");
    expect_format(json_true(), "true");
    expect_format(json_false(), "false");
    expect_format(json_pack("[i,s,n,f]", 1, "a", 2.5), "[1,\"a\",null,2.5]");
    expect_format(json_pack("{s:i,s:{s:[]}}", "b", 1, "a", "c"), "{\"b\":1,\"a\":{\"c\":[]}}");
    expect_format(json_pack("[s]", "a\"\\\n\x01/\b\f"), "[\"a\\\"\\\\\\n\\u0001/\\b\\f\"]");
    char *s = expr_format(NULL);
    assert_string_equal(s, "");
    free(s);

    json_t *vals[] = {json_null(),    json_true(),     json_false(), json_integer(1),
                      json_real(1.5), json_string(""), json_array(), json_object()};
    const char *names[] = {"null", "bool", "bool", "number", "number", "string", "list", "object"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        assert_string_equal(expr_type_name(vals[i]), names[i]);
        json_decref(vals[i]);
    }
    assert_string_equal(expr_type_name(NULL), "null");
}

static void expect_truthy(json_t *v, bool want) {
    assert_int_equal(expr_truthy(v), want);
    json_decref(v);
}

static void test_truthy(void **state) {
    (void)state;
    expect_truthy(json_null(), false);
    expect_truthy(json_false(), false);
    expect_truthy(json_true(), true);
    expect_truthy(json_integer(0), false);
    expect_truthy(json_real(0.0), false);
    expect_truthy(json_integer(1), true);
    expect_truthy(json_real(-0.5), true);
    expect_truthy(json_string(""), false);
    expect_truthy(json_string("0"), true);
    expect_truthy(json_string("false"), true);
    expect_truthy(json_array(), false);
    expect_truthy(json_pack("[i]", 0), true);
    expect_truthy(json_object(), false);
    expect_truthy(json_pack("{s:n}", "a"), true);
    assert_false(expr_truthy(NULL));
}

static void test_scope_chain(void **state) {
    (void)state;
    json_t *inner_vars = json_pack("{s:i,s:{s:i},s:n}", "item", 5, "inputs", "n", 99, "index");
    expr_scope_t inner = {.vars = inner_vars, .parent = &scope};
    json_t *v = eval_ok("[item, inputs.n, tasks.task-2.outputs.x, index, inputs.name]", &inner);
    char *got = expr_format(v);
    /* inner shadows outer for "inputs" entirely; an explicit null also shadows */
    assert_string_equal(got, "[5,99,1,null,null]");
    free(got);
    json_decref(v);

    /* no scope at all: every name is null */
    v = eval_ok("inputs.n", NULL);
    assert_true(json_is_null(v));

    /* a scope whose vars is not an object is skipped */
    json_t *bad = json_integer(1);
    expr_scope_t odd = {.vars = bad, .parent = &scope};
    v = eval_ok("inputs.n", &odd);
    assert_int_equal(json_integer_value(v), 3);
    json_decref(v);
    json_decref(bad);
    json_decref(inner_vars);
}

static void test_eval_api(void **state) {
    (void)state;
    expr_error_t err;
    json_t *v = (json_t *)0x1;
    assert_int_equal(expr_eval(NULL, &scope, &v, &err), -1);
    assert_null(v);
    expr_t *e = expr_parse("1 / 0", 5, &err);
    assert_int_equal(expr_eval(e, &scope, &v, NULL), -1); /* NULL err is allowed */
    assert_null(v);
    assert_int_equal(expr_eval(e, &scope, NULL, &err), -1); /* NULL out is allowed */
    expr_free(e);
    expr_free(NULL);
    /* an expression is reusable and evaluations are independent */
    e = expr_parse("[inputs.n, 'x']", 15, &err);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(expr_eval(e, &scope, &v, &err), 0);
        assert_int_equal(json_array_size(v), 2);
        json_decref(v);
    }
    expr_free(e);
    /* parse_at shifts every offset */
    e = expr_parse_at("'a' < 1", 7, 100, &err);
    assert_int_equal(expr_eval(e, &scope, &v, &err), -1);
    assert_int_equal(err.offset, 104);
    assert_string_equal(err.message, "cannot compare string with number using '<' at offset 104");
    expr_free(e);
    assert_null(expr_parse_at("1 +", 3, 10, &err));
    assert_int_equal(err.offset, 13);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_division_by_zero),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_null_semantics),
        cmocka_unit_test(test_in),
        cmocka_unit_test(test_logic),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_visit_paths),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_truthy),
        cmocka_unit_test(test_scope_chain),
        cmocka_unit_test(test_eval_api),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
