/* test_jsonschema_suite.c - the official JSON-Schema-Test-Suite (Debian json-schema-test-suite),
 * draft 7, against Baton's subset.
 *
 * Every case whose schema uses only the subset's keywords (the list below, kept apart from the
 * validator's own so a keyword dropped from one shows) runs: jsonschema_check must accept the
 * schema and jsonschema_validate must give the suite's verdict. Every other case is skipped, and
 * then jsonschema_check must refuse its schema: a keyword outside the subset is never ignored.
 * Draft 7 is the newest draft the packaged suite has, and the subset's keywords mean there what
 * they mean in 2020-12. optional/ is included: the subset enforces format and pattern, and
 * optional/bignum.json is read with big integers as doubles (jansson has no bignums). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/jsonschema.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_DEFAULT "/usr/share/json-schema-test-suite/tests/draft7"

static const char *const SUBSET[] = {
    "type",
    "properties",
    "patternProperties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "format",
};
static const char *const ANNOTATIONS[] = {"title",    "description", "default",  "examples",
                                          "$schema",  "$id",         "$comment", "deprecated",
                                          "readOnly", "writeOnly"};
static const char *const FORMATS[] = {"date-time", "email", "uri", "uuid"};

static bool listed(const char *k, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(k, list[i])) return true;
    return false;
}
#define LISTED(k, a) listed((k), (a), sizeof(a) / sizeof *(a))

/* Whether every keyword of the schema, at every depth, is in the subset. */
static bool in_subset(const json_t *s) {
    if (json_is_boolean(s)) return true;
    if (!json_is_object(s)) return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)s, k, v) {
        if (LISTED(k, ANNOTATIONS) || !strncmp(k, "x-", 2)) continue;
        if (!LISTED(k, SUBSET)) return false;
        if (!strcmp(k, "format") && !(json_is_string(v) && LISTED(json_string_value(v), FORMATS)))
            return false;
        if (!strcmp(k, "items") || !strcmp(k, "additionalProperties")) {
            if (json_is_object(v) || json_is_boolean(v) ? !in_subset(v) : !json_is_boolean(v))
                return false;
        }
        if (!strcmp(k, "properties") || !strcmp(k, "patternProperties")) {
            const char *pk;
            json_t *sub;
            json_object_foreach(v, pk, sub) if (!in_subset(sub)) return false;
        }
    }
    return true;
}

typedef struct counts {
    size_t files, run, passed, skipped, failed;
} counts_t;

static void run_file(const char *path, const char *name, counts_t *n) {
    json_error_t e;
    json_t *groups = json_load_file(path, 0, &e);
    if (!groups) groups = json_load_file(path, JSON_DECODE_INT_AS_REAL, &e);
    if (!json_is_array(groups)) {
        printf("FAIL %s: cannot read: %s\n", name, e.text);
        n->failed++;
        json_decref(groups);
        return;
    }
    n->files++;
    size_t run0 = n->run, skipped0 = n->skipped;
    size_t gi;
    json_t *g;
    json_array_foreach(groups, gi, g) {
        const json_t *schema = json_object_get(g, "schema"), *tests = json_object_get(g, "tests");
        const char *gdesc = json_string_value(json_object_get(g, "description"));
        char err[512];
        if (!in_subset(schema)) {
            n->skipped += json_array_size(tests);
            if (jsonschema_check(schema, err, sizeof err) == 0) {
                printf("FAIL %s / %s: the schema is outside the subset, yet accepted\n", name,
                       gdesc);
                n->failed++;
            }
            continue;
        }
        if (jsonschema_check(schema, err, sizeof err) != 0) {
            printf("FAIL %s / %s: the schema is refused: %s\n", name, gdesc, err);
            n->failed += json_array_size(tests);
            n->run += json_array_size(tests);
            continue;
        }
        size_t ti;
        json_t *t;
        json_array_foreach(tests, ti, t) {
            bool want = json_is_true(json_object_get(t, "valid"));
            bool got =
                jsonschema_validate(schema, json_object_get(t, "data"), err, sizeof err) == 0;
            n->run++;
            if (got == want) {
                n->passed++;
                continue;
            }
            n->failed++;
            char *data = json_dumps(json_object_get(t, "data"), JSON_ENCODE_ANY | JSON_COMPACT);
            printf("FAIL %s / %s / %s: data %s should be %s%s%s\n", name, gdesc,
                   json_string_value(json_object_get(t, "description")), data,
                   want ? "valid" : "invalid", got ? "" : ", got: ", got ? "" : err);
            free(data);
        }
    }
    printf("  %-36s %3zu run, %3zu skipped\n", name, n->run - run0, n->skipped - skipped0);
    json_decref(groups);
}

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs every .json file of dir (sorted, so the output reads the same on every machine). */
static bool run_dir(const char *dir, const char *prefix, counts_t *n) {
    struct dirent **list;
    int count = scandir(dir, &list, NULL, by_name);
    if (count < 0) return false;
    for (int i = 0; i < count; i++) {
        const char *f = list[i]->d_name;
        size_t len = strlen(f);
        if (len > 5 && !strcmp(f + len - 5, ".json")) {
            char path[1024], name[256];
            snprintf(path, sizeof path, "%s/%s", dir, f);
            snprintf(name, sizeof name, "%s%s", prefix, f);
            run_file(path, name, n);
        }
        free(list[i]);
    }
    free(list);
    return true;
}

static void test_draft7_suite(void **state) {
    (void)state;
    const char *root = getenv("BATON_JSON_SCHEMA_TEST_SUITE");
    if (!root || !*root) root = SUITE_DEFAULT;
    counts_t n = {0};
    char sub[1024];
    if (!run_dir(root, "", &n))
        fail_msg("the JSON-Schema-Test-Suite is not at %s: install it with `apt-get install "
                 "json-schema-test-suite` (scripts/deps.sh does), or set "
                 "BATON_JSON_SCHEMA_TEST_SUITE to its tests/draft7 folder",
                 root);
    snprintf(sub, sizeof sub, "%s/optional", root);
    run_dir(sub, "optional/", &n);
    snprintf(sub, sizeof sub, "%s/optional/format", root);
    run_dir(sub, "optional/format/", &n);
    printf("JSON-Schema-Test-Suite draft7 (%s): %zu files, %zu cases run, %zu passed, %zu failed, "
           "%zu skipped because their schema is outside the subset\n",
           root, n.files, n.run, n.passed, n.failed, n.skipped);
    fflush(stdout); /* before cmocka's own lines */
    /* A suite that ran next to nothing (a wrong folder, a broken classifier) proves nothing. */
    if (n.run < 100) fail_msg("only %zu cases ran; expected the draft 7 suite", n.run);
    assert_int_equal(n.failed, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draft7_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
