/* test_diff.c - util/diff: the unified format diff -u prints (headers, ranges, context, merged
 * hunks, missing final newlines, empty files), and, on random inputs, that every diff turns A
 * into B and changes no more lines than the longest common subsequence allows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/diff.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *udiff(const char *a, const char *b, diff_result_t *r) {
    strbuf_t sb = {0};
    diff_result_t tmp;
    diff_unified(a, strlen(a), b, strlen(b), "a", "b", NULL, &sb, r ? r : &tmp);
    return sb_take(&sb);
}

static void expect_diff(const char *a, const char *b, const char *want) {
    char *got = udiff(a, b, NULL);
    if (strcmp(got, want)) fprintf(stderr, "--- want\n%s--- got\n%s", want, got);
    assert_string_equal(got, want);
    free(got);
}

/* "1\n2\n...n\n", with line `at` replaced by `with` (at 0: none) */
static char *numbers(int n, int at, const char *with, int at2, const char *with2) {
    strbuf_t sb = {0};
    for (int i = 1; i <= n; i++) {
        if (i == at)
            sb_printf(&sb, "%s\n", with);
        else if (i == at2)
            sb_printf(&sb, "%s\n", with2);
        else
            sb_printf(&sb, "%d\n", i);
    }
    return sb_take(&sb);
}

static void identical_prints_nothing(void **state) {
    (void)state;
    diff_result_t r;
    char *out = udiff("a\nb\n", "a\nb\n", &r);
    assert_string_equal(out, "");
    assert_int_equal(r.hunks, 0);
    assert_false(r.approximate);
    free(out);
    expect_diff("", "", "");
    expect_diff("no newline", "no newline", "");
}

static void insert_line(void **state) {
    (void)state;
    expect_diff("1\n2\n3\n", "1\n2\nX\n3\n", "--- a\n+++ b\n@@ -1,3 +1,4 @@\n 1\n 2\n+X\n 3\n");
    expect_diff("1\n", "0\n1\n", "--- a\n+++ b\n@@ -1 +1,2 @@\n+0\n 1\n");
}

static void delete_line_with_three_lines_of_context(void **state) {
    (void)state;
    char *a = numbers(8, 0, NULL, 0, NULL);
    expect_diff(a, "1\n2\n3\n4\n6\n7\n8\n",
                "--- a\n+++ b\n@@ -2,7 +2,6 @@\n 2\n 3\n 4\n-5\n 6\n 7\n 8\n");
    free(a);
}

static void change_line(void **state) {
    (void)state;
    expect_diff("a\nb\nc\n", "a\nB\nc\n", "--- a\n+++ b\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    /* deletions of a change come before its insertions, as diff -u prints them */
    expect_diff("a\nb\nc\nd\n", "a\nX\nY\nd\n",
                "--- a\n+++ b\n@@ -1,4 +1,4 @@\n a\n-b\n-c\n+X\n+Y\n d\n");
}

static void nearby_hunks_merge(void **state) {
    (void)state;
    diff_result_t r;
    /* 6 unchanged lines between the changes (6..11): one hunk, context shared */
    char *a = numbers(20, 0, NULL, 0, NULL), *b = numbers(20, 5, "five", 12, "twelve");
    char *out = udiff(a, b, &r);
    assert_int_equal(r.hunks, 1);
    assert_non_null(strstr(out, "@@ -2,14 +2,14 @@\n"));
    free(out);
    free(b);
    /* 7 unchanged lines (6..12): two hunks */
    b = numbers(20, 5, "five", 13, "thirteen");
    out = udiff(a, b, &r);
    assert_int_equal(r.hunks, 2);
    assert_string_equal(out, "--- a\n+++ b\n"
                             "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
                             "@@ -10,7 +10,7 @@\n 10\n 11\n 12\n-13\n+thirteen\n 14\n 15\n 16\n");
    assert_int_equal(r.deleted, 2);
    assert_int_equal(r.inserted, 2);
    free(out);
    free(b);
    free(a);
}

static void missing_final_newline(void **state) {
    (void)state;
    expect_diff("x\ny", "x\nz",
                "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n"
                "+z\n\\ No newline at end of file\n");
    /* "x" and "x\n" are different lines */
    expect_diff("x\n", "x", "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+x\n\\ No newline at end of file\n");
    /* a context line can be the one without a newline */
    expect_diff("a\nb\nlast", "A\nb\nlast",
                "--- a\n+++ b\n@@ -1,3 +1,3 @@\n-a\n+A\n b\n last\n\\ No newline at end of file\n");
}

static void empty_files(void **state) {
    (void)state;
    expect_diff("", "a\nb\n", "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    expect_diff("a\nb\n", "", "--- a\n+++ b\n@@ -1,2 +0,0 @@\n-a\n-b\n");
    expect_diff("a\n", "", "--- a\n+++ b\n@@ -1 +0,0 @@\n-a\n");
}

static void labels_are_the_headers(void **state) {
    (void)state;
    strbuf_t sb = {0};
    diff_unified("a\n", 2, "b\n", 2, "report.md@v1", "report.md@v2", NULL, &sb, NULL);
    assert_string_equal(sb_str(&sb), "--- report.md@v1\n+++ report.md@v2\n@@ -1 +1 @@\n-a\n+b\n");
    sb_free(&sb);
}

/* Applies a unified diff made by diff_unified to a (the test's own reading of the format). */
static char *apply(const char *a, const char *diff) {
    strbuf_t out = {0};
    const char *p = diff, *ap = a;
    size_t line = 1;            /* next line of a, 1-based */
    if (!*p) return xstrdup(a); /* identical: nothing printed */
    p = strchr(p, '\n') + 1;
    p = strchr(p, '\n') + 1;
    while (*p) {
        unsigned long start, n0, n1, s1;
        assert_true(!strncmp(p, "@@ -", 4));
        const char *q = p + 4;
        start = strtoul(q, (char **)&q, 10);
        n0 = *q == ',' ? strtoul(q + 1, (char **)&q, 10) : 1;
        s1 = strtoul(q + 2, (char **)&q, 10);
        n1 = *q == ',' ? strtoul(q + 1, (char **)&q, 10) : 1;
        (void)s1;
        (void)n1;
        size_t first = n0 ? start : start + 1; /* an empty range names the line before */
        while (line < first) {                 /* copy unchanged lines */
            const char *e = strchr(ap, '\n');
            size_t len = e ? (size_t)(e - ap + 1) : strlen(ap);
            sb_append(&out, ap, len);
            ap += len;
            line++;
        }
        p = strchr(p, '\n') + 1;
        while (*p && *p != '@') {
            char mark = *p++;
            const char *e = strchr(p, '\n');
            size_t len = (size_t)(e - p + 1);
            bool nonl = !strncmp(e + 1, "\\ No newline", 12);
            if (mark == ' ' || mark == '+') sb_append(&out, p, nonl ? len - 1 : len);
            if (mark == ' ' || mark == '-') {
                const char *ae = strchr(ap, '\n');
                ap += ae ? (size_t)(ae - ap + 1) : strlen(ap);
                line++;
            }
            p = e + 1;
            if (nonl) p = strchr(p, '\n') + 1;
        }
    }
    sb_puts(&out, ap);
    return sb_take(&out);
}

static size_t count_lines(const char *s) {
    size_t n = 0, len = strlen(s);
    for (size_t i = 0; i < len; i++) n += s[i] == '\n';
    return n + (len && s[len - 1] != '\n');
}

/* Length of the longest common subsequence of lines, by dynamic programming (small inputs). */
static size_t lcs(const char *a, const char *b) {
    size_t na = count_lines(a), nb = count_lines(b);
    const char **la = xcalloc(na + 1, sizeof *la), **lb = xcalloc(nb + 1, sizeof *lb);
    size_t *lena = xcalloc(na + 1, sizeof *lena), *lenb = xcalloc(nb + 1, sizeof *lenb);
    const char *p = a;
    for (size_t i = 0; i < na; i++) {
        const char *e = strchr(p, '\n');
        la[i] = p;
        lena[i] = e ? (size_t)(e - p + 1) : strlen(p);
        p += lena[i];
    }
    p = b;
    for (size_t i = 0; i < nb; i++) {
        const char *e = strchr(p, '\n');
        lb[i] = p;
        lenb[i] = e ? (size_t)(e - p + 1) : strlen(p);
        p += lenb[i];
    }
    size_t *t = xcalloc((na + 1) * (nb + 1), sizeof *t);
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            bool eq = lena[i - 1] == lenb[j - 1] && !memcmp(la[i - 1], lb[j - 1], lena[i - 1]);
            size_t up = t[(i - 1) * (nb + 1) + j], left = t[i * (nb + 1) + j - 1];
            t[i * (nb + 1) + j] = eq ? t[(i - 1) * (nb + 1) + j - 1] + 1 : up > left ? up : left;
        }
    size_t r = t[na * (nb + 1) + nb];
    free(t);
    free(la);
    free(lb);
    free(lena);
    free(lenb);
    return r;
}

static char *random_text(unsigned *seed, int alphabet) {
    strbuf_t sb = {0};
    int n = rand_r(seed) % 40;
    for (int i = 0; i < n; i++) sb_printf(&sb, "l%d\n", rand_r(seed) % alphabet);
    if (sb.len && rand_r(seed) % 4 == 0) sb.buf[--sb.len] = '\0'; /* no final newline */
    return sb_take(&sb);
}

static void random_diffs_apply_and_are_minimal(void **state) {
    (void)state;
    unsigned seed = 12345;
    for (int it = 0; it < 2000; it++) {
        int alphabet = 2 + it % 12;
        char *a = random_text(&seed, alphabet), *b = random_text(&seed, alphabet);
        diff_result_t r;
        char *d = udiff(a, b, &r);
        char *got = apply(a, d);
        if (strcmp(got, b)) fprintf(stderr, "a:\n%s\nb:\n%s\ndiff:\n%s", a, b, d);
        assert_string_equal(got, b);
        size_t common = lcs(a, b);
        assert_int_equal(r.deleted, count_lines(a) - common);
        assert_int_equal(r.inserted, count_lines(b) - common);
        assert_false(r.approximate);
        free(got);
        free(d);
        free(a);
        free(b);
    }
}

/* Over budget: still a correct diff, flagged as not minimal. */
static void budget_falls_back_to_replacing(void **state) {
    (void)state;
    char *a = numbers(50, 0, NULL, 0, NULL), *b = numbers(50, 10, "ten", 40, "forty");
    strbuf_t sb = {0};
    diff_result_t r;
    diff_opts_t o = {.context = 3, .max_work = 1};
    diff_unified(a, strlen(a), b, strlen(b), "a", "b", &o, &sb, &r);
    assert_true(r.approximate);
    assert_int_equal(r.deleted, 31); /* lines 10..40: everything between the common ends */
    assert_int_equal(r.inserted, 31);
    char *got = apply(a, sb_str(&sb));
    assert_string_equal(got, b);
    free(got);
    sb_free(&sb);
    /* the same inputs within budget: two small hunks */
    diff_unified(a, strlen(a), b, strlen(b), "a", "b", NULL, &sb, &r);
    assert_false(r.approximate);
    assert_int_equal(r.hunks, 2);
    sb_free(&sb);
    free(a);
    free(b);
}

/* Large, very different inputs finish quickly, within the default budget's fallback. */
static void large_inputs_stay_bounded(void **state) {
    (void)state;
    strbuf_t a = {0}, b = {0};
    for (int i = 0; i < 100000; i++) {
        sb_printf(&a, "%d\n", i);
        sb_printf(&b, "%d\n", (i * 7919) % 100003);
    }
    strbuf_t out = {0};
    diff_result_t r;
    diff_opts_t o = {.context = 3, .max_work = 2000000};
    diff_unified(a.buf, a.len, b.buf, b.len, "a", "b", &o, &out, &r);
    assert_true(r.approximate);
    char *got = apply(a.buf, sb_str(&out));
    assert_string_equal(got, b.buf);
    free(got);
    sb_free(&out);
    sb_free(&a);
    sb_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identical_prints_nothing),
        cmocka_unit_test(insert_line),
        cmocka_unit_test(delete_line_with_three_lines_of_context),
        cmocka_unit_test(change_line),
        cmocka_unit_test(nearby_hunks_merge),
        cmocka_unit_test(missing_final_newline),
        cmocka_unit_test(empty_files),
        cmocka_unit_test(labels_are_the_headers),
        cmocka_unit_test(random_diffs_apply_and_are_minimal),
        cmocka_unit_test(budget_falls_back_to_replacing),
        cmocka_unit_test(large_inputs_stay_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
