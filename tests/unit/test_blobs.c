/* test_blobs.c - store/blobs: bytes stored once under their SHA-256, read-only, and every read
 * checked: a blob that is altered, truncated or missing is an error naming it, both hashes and
 * what to do, and its bytes are never returned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/blobs.h"
#include "util/xalloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state) {
    (void)state;
    if (sodium_init() < 0) return -1;
    snprintf(dir, sizeof dir, "/tmp/baton-blobs-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char *cmd = xasprintf("chmod -R u+w %s && rm -rf %s", dir, dir);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static const char TEXT[] = "hello blobs\n";

static char *blob_path(const char *sha) { return xasprintf("%s/blobs/%.2s/%s", dir, sha, sha); }

static void put_names_the_bytes_by_their_hash(void **state) {
    (void)state;
    char sha[BLOB_HEX_LEN + 1], expect[BLOB_HEX_LEN + 1], *err = NULL;
    blob_sha256_hex(TEXT, strlen(TEXT), expect);
    assert_int_equal(blob_put(dir, TEXT, strlen(TEXT), sha, &err), 0);
    assert_string_equal(sha, expect);
    assert_true(blob_valid_hash(sha));
    char *rel = blob_rel_path(sha), *want = xasprintf("blobs/%.2s/%s", sha, sha);
    assert_string_equal(rel, want);
    char *p = blob_path(sha);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0444);
    /* the same bytes again: the file is kept, not rewritten */
    ino_t ino = sb.st_ino;
    assert_int_equal(blob_put(dir, TEXT, strlen(TEXT), sha, &err), 0);
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_ino, ino);
    size_t len;
    char *back = blob_read_verified(dir, sha, (long long)strlen(TEXT), &len, &err);
    assert_non_null(back);
    assert_int_equal(len, strlen(TEXT));
    assert_memory_equal(back, TEXT, len);
    free(back);
    /* size unknown: read anyway, still checked */
    back = blob_read_verified(dir, sha, -1, &len, &err);
    assert_non_null(back);
    free(back);
    free(rel);
    free(want);
    free(p);
}

static void hash_names_are_checked(void **state) {
    (void)state;
    assert_false(blob_valid_hash(NULL));
    assert_false(blob_valid_hash(""));
    assert_false(blob_valid_hash("../../etc/passwd"));
    assert_false(
        blob_valid_hash("E6E2B49DEAB1CB7CCD6B1BB2C23E26FC9A3FB4EE2BB7D0E7D7C25DD0D2AEF0F9"));
    char *err = NULL;
    assert_null(blob_read_verified(dir, "../x", 1, NULL, &err));
    assert_non_null(strstr(err, "not a blob name"));
    free(err);
}

static void corrupted_blob_is_reported(void **state) {
    (void)state;
    char sha[BLOB_HEX_LEN + 1], *err = NULL;
    const char *text = "to be damaged\n";
    assert_int_equal(blob_put(dir, text, strlen(text), sha, &err), 0);
    char *p = blob_path(sha);
    chmod(p, 0644);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    fputc('X', f); /* same size, other bytes */
    fclose(f);
    assert_null(blob_read_verified(dir, sha, (long long)strlen(text), NULL, &err));
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, "corrupted"));
    assert_non_null(strstr(err, sha));
    char actual[BLOB_HEX_LEN + 1];
    blob_sha256_hex("Xo be damaged\n", strlen(text), actual);
    assert_non_null(strstr(err, actual));
    assert_non_null(strstr(err, "baton backup"));
    assert_non_null(strstr(err, "re-run the task"));
    free(err);
    /* truncated: reported by size, without hashing */
    assert_int_equal(truncate(p, 3), 0);
    assert_null(blob_read_verified(dir, sha, (long long)strlen(text), NULL, &err));
    assert_non_null(strstr(err, "has 3 bytes"));
    free(err);
    /* unknown size: the hash still catches it */
    assert_null(blob_read_verified(dir, sha, -1, NULL, &err));
    assert_non_null(strstr(err, "corrupted"));
    free(err);
    /* storing the bytes again repairs a blob of the wrong size */
    assert_int_equal(blob_put(dir, text, strlen(text), sha, &err), 0);
    char *back = blob_read_verified(dir, sha, (long long)strlen(text), NULL, &err);
    assert_non_null(back);
    free(back);
    free(p);
}

static void missing_blob_is_reported(void **state) {
    (void)state;
    char sha[BLOB_HEX_LEN + 1], *err = NULL;
    const char *text = "to be deleted\n";
    assert_int_equal(blob_put(dir, text, strlen(text), sha, &err), 0);
    char *p = blob_path(sha);
    assert_int_equal(unlink(p), 0);
    assert_null(blob_read_verified(dir, sha, (long long)strlen(text), NULL, &err));
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, "cannot be read"));
    assert_non_null(strstr(err, sha));
    assert_non_null(strstr(err, "baton backup"));
    free(err);
    free(p);
}

static void empty_bytes_are_a_blob_too(void **state) {
    (void)state;
    char sha[BLOB_HEX_LEN + 1], *err = NULL;
    assert_int_equal(blob_put(dir, "", 0, sha, &err), 0);
    assert_string_equal(sha, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    size_t len = 99;
    char *back = blob_read_verified(dir, sha, 0, &len, &err);
    assert_non_null(back);
    assert_int_equal(len, 0);
    free(back);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_names_the_bytes_by_their_hash),
        cmocka_unit_test(hash_names_are_checked),
        cmocka_unit_test(corrupted_blob_is_reported),
        cmocka_unit_test(missing_blob_is_reported),
        cmocka_unit_test(empty_bytes_are_a_blob_too),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
