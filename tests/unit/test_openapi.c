/* test_openapi.c - the OpenAPI document the server carries (api.h) describes every route the
 * server answers, and nothing it does not: the document and the route table cannot drift. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/api.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>

static json_t *document(void) {
    size_t len;
    const char *text = api_openapi_json(&len);
    json_error_t err;
    json_t *doc = json_loadb(text, len, 0, &err);
    if (!doc) fail_msg("openapi.json is not JSON: %s (line %d)", err.text, err.line);
    return doc;
}

static void lower(char *out, const char *in, size_t n) {
    size_t i = 0;
    for (; in[i] && i + 1 < n; i++) out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

static void every_route_is_described(void **s) {
    (void)s;
    json_t *doc = document();
    json_t *paths = json_object_get(doc, "paths");
    for (size_t i = 0; i < api_route_count(); i++) {
        const char *method, *path;
        api_route_at(i, &method, &path);
        char m[16];
        lower(m, method, sizeof m);
        json_t *op = json_object_get(json_object_get(paths, path), m);
        if (!op)
            fail_msg("the server answers %s %s, the OpenAPI document does not say so", method,
                     path);
        if (!json_is_string(json_object_get(op, "operationId")))
            fail_msg("%s %s has no operationId", method, path);
        if (!json_object_size(json_object_get(op, "responses")))
            fail_msg("%s %s has no responses", method, path);
    }
    json_decref(doc);
}

static void nothing_else_is_described(void **s) {
    (void)s;
    static const char *const methods[] = {"get",  "put",   "post",  "delete", "options",
                                          "head", "patch", "trace", NULL};
    json_t *doc = document();
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        for (const char *const *m = methods; *m; m++) {
            if (!json_object_get(item, *m)) continue;
            bool served = false;
            for (size_t i = 0; i < api_route_count() && !served; i++) {
                const char *rm, *rp;
                api_route_at(i, &rm, &rp);
                char lm[16];
                lower(lm, rm, sizeof lm);
                served = !strcmp(lm, *m) && !strcmp(rp, path);
            }
            if (!served)
                fail_msg("the OpenAPI document describes %s %s, which the server does not answer",
                         *m, path);
        }
    }
    json_decref(doc);
}

static void says_which_release(void **s) {
    (void)s;
    json_t *doc = document();
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "info"), "version")),
                        BATON_VERSION);
    json_decref(doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_described),
        cmocka_unit_test(nothing_else_is_described),
        cmocka_unit_test(says_which_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
