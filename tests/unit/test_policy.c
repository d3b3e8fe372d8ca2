/* test_policy.c - the candidate order of each routing policy (llm/policy.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "llm/policy.h"

#include <math.h>

/* Three candidates as listed in a tier: a paid fast dear one, a local slow free one, a paid
 * cheap one never measured. */
static const policy_view_t views[] = {
    {.local = false, .cost_usd = 0.010, .latency_ms = 200, .success = 1.0, .availability = 1},
    {.local = true, .cost_usd = 0.0, .latency_ms = 2000, .success = 1.0, .availability = 1},
    {.local = false, .cost_usd = 0.002, .latency_ms = -1, .success = 1.0, .availability = 1},
};

static void expect_order(policy_t p, const policy_view_t *v, size_t n, const size_t *want) {
    size_t got[8];
    policy_order(p, v, n, got);
    for (size_t i = 0; i < n; i++) assert_int_equal(got[i], want[i]);
}

static void test_parse(void **s) {
    (void)s;
    policy_t p;
    assert_true(policy_parse("cost", &p));
    assert_int_equal(p, POLICY_COST);
    assert_string_equal(policy_name(POLICY_SCORE), "score");
    assert_false(policy_parse("cheapest", &p));
    assert_false(policy_parse(NULL, &p));
}

static void test_local_first_is_stable(void **s) {
    (void)s;
    expect_order(POLICY_LOCAL_FIRST, views, 3, (size_t[]){1, 0, 2});
}

static void test_ordered(void **s) {
    (void)s;
    expect_order(POLICY_ORDERED, views, 3, (size_t[]){0, 1, 2});
}

static void test_cost(void **s) {
    (void)s;
    expect_order(POLICY_COST, views, 3, (size_t[]){1, 2, 0});
}

static void test_latency_measures_the_unknown_first(void **s) {
    (void)s;
    expect_order(POLICY_LATENCY, views, 3, (size_t[]){2, 0, 1});
}

static void test_score_formula(void **s) {
    (void)s;
    /* candidate 0: 0.5*1*(200/200) + 0.3*(1-1) + 0.2*1 = 0.7
     * candidate 1: 0.5*1*(200/2000) + 0.3*(1-0) + 0.2*1 = 0.55
     * candidate 2: 0.5*1*1 (unmeasured) + 0.3*(1-0.2) + 0.2*1 = 0.94 */
    assert_true(fabs(policy_score(views, 3, 0) - 0.70) < 1e-9);
    assert_true(fabs(policy_score(views, 3, 1) - 0.55) < 1e-9);
    assert_true(fabs(policy_score(views, 3, 2) - 0.94) < 1e-9);
    expect_order(POLICY_SCORE, views, 3, (size_t[]){2, 0, 1});
}

static void test_score_punishes_failures_and_open_breakers(void **s) {
    (void)s;
    policy_view_t v[2] = {
        {.cost_usd = 0.001, .latency_ms = 100, .success = 0.2, .availability = 0},
        {.cost_usd = 0.001, .latency_ms = 300, .success = 1.0, .availability = 1},
    };
    expect_order(POLICY_SCORE, v, 2, (size_t[]){1, 0});
}

static void test_empty(void **s) {
    (void)s;
    size_t none[1];
    policy_order(POLICY_SCORE, views, 0, none);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_local_first_is_stable),
        cmocka_unit_test(test_ordered),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_latency_measures_the_unknown_first),
        cmocka_unit_test(test_score_formula),
        cmocka_unit_test(test_score_punishes_failures_and_open_breakers),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
