/* test_idemstore.c - store/idemstore: a kept answer comes back byte for byte (a body with NULs
 * too), under its scope and key only; one older than the caller's bound is not returned; the
 * sweep deletes exactly the entries older than its bound; a put replaces; entries outlive the
 * connection that wrote them (a restart). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/idemstore.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmp_db.h" /* dir, db, setup, teardown */

#define HOUR (3600LL * 1000)
#define NOW  (1000LL * HOUR)

static idemstore_entry_t entry(int status, const char *body, size_t len, int64_t at) {
    return (idemstore_entry_t){.body_sha256 = "ab12",
                               .status = status,
                               .content_type = "application/json",
                               .headers = "{\"Location\":\"/api/v1/runs/r-1\"}",
                               .body = (char *)body,
                               .body_len = len,
                               .created_at = at};
}

static void put(idemstore_t *s, const char *scope, const char *key, idemstore_entry_t e) {
    char *err = NULL;
    if (idemstore_put(s, scope, key, &e, &err) != 0) fail_msg("put: %s", err);
}

static int get(idemstore_t *s, const char *scope, const char *key, int64_t not_before,
               idemstore_entry_t *out) {
    char *err = NULL;
    int rc = idemstore_get(s, scope, key, not_before, out, &err);
    if (rc < 0) fail_msg("get: %s", err);
    return rc;
}

static void test_round_trip_and_scope(void **state) {
    (void)state;
    char *err = NULL;
    store_t *st = store_open(db, STORE_DURABILITY_NORMAL, &err);
    assert_non_null(st);
    idemstore_t *s = idemstore_open(st, &err);
    assert_non_null(s);
    static const char body[] = "{\"a\":1}\0tail";
    put(s, "POST /api/v1/runs", "k1", entry(201, body, sizeof body - 1, NOW));
    idemstore_entry_t e;
    assert_int_equal(get(s, "POST /api/v1/runs", "k1", NOW - HOUR, &e), 1);
    assert_int_equal(e.status, 201);
    assert_string_equal(e.body_sha256, "ab12");
    assert_string_equal(e.content_type, "application/json");
    assert_string_equal(e.headers, "{\"Location\":\"/api/v1/runs/r-1\"}");
    assert_int_equal(e.body_len, sizeof body - 1);
    assert_memory_equal(e.body, body, sizeof body - 1);
    assert_int_equal(e.created_at, NOW);
    idemstore_entry_free(&e);
    /* another scope or key is another entry */
    assert_int_equal(get(s, "POST /api/v1/workflows", "k1", 0, &e), 0);
    assert_int_equal(get(s, "POST /api/v1/runs", "k2", 0, &e), 0);
    /* too old for the caller */
    assert_int_equal(get(s, "POST /api/v1/runs", "k1", NOW + 1, &e), 0);
    /* a put replaces */
    put(s, "POST /api/v1/runs", "k1", entry(200, "", 0, NOW + 5));
    assert_int_equal(get(s, "POST /api/v1/runs", "k1", 0, &e), 1);
    assert_int_equal(e.status, 200);
    assert_int_equal(e.body_len, 0);
    assert_string_equal(e.body, "");
    idemstore_entry_free(&e);
    idemstore_close(s);
    store_close(st);
}

static void test_sweep_and_restart(void **state) {
    (void)state;
    char *err = NULL;
    store_t *st = store_open(db, STORE_DURABILITY_NORMAL, &err);
    idemstore_t *s = idemstore_open(st, &err);
    put(s, "POST /a", "old1", entry(201, "x", 1, NOW - 25 * HOUR));
    put(s, "POST /a", "old2", entry(201, "x", 1, NOW - 24 * HOUR - 1));
    put(s, "POST /a", "young", entry(201, "y", 1, NOW - 23 * HOUR));
    idemstore_close(s);
    store_close(st);
    /* a new process: the entries are still there */
    st = store_open(db, STORE_DURABILITY_NORMAL, &err);
    s = idemstore_open(st, &err);
    idemstore_entry_t e;
    assert_int_equal(get(s, "POST /a", "old1", 0, &e), 1);
    idemstore_entry_free(&e);
    assert_int_equal(idemstore_sweep(s, NOW - 24 * HOUR, &err), 2);
    assert_int_equal(get(s, "POST /a", "old1", 0, &e), 0);
    assert_int_equal(get(s, "POST /a", "old2", 0, &e), 0);
    assert_int_equal(get(s, "POST /a", "young", 0, &e), 1);
    assert_string_equal(e.body, "y");
    idemstore_entry_free(&e);
    assert_int_equal(idemstore_sweep(s, NOW - 24 * HOUR, &err), 0);
    idemstore_close(s);
    store_close(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_and_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_and_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
