/* test_openapi.c - the OpenAPI document the server carries (api.h) describes every route the
 * server answers, and nothing it does not: the document and the route table cannot drift. And
 * the document keeps the API's conventions (docs/api.md, "Conventions"): ids and references,
 * one shape per resource, RFC 3339 times, durations and money by name, one way to page, the
 * query parameters each route declares (api/query.c), no server paths, Idempotency-Key on
 * creating POSTs and Location on 201s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/api.h"
#include "api/query.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* ---- conventions --------------------------------------------------------------------------- */

static json_t *doc_g; /* the document, for resolving $refs */

/* v with its "$ref" (one level or more) followed. */
static const json_t *deref(const json_t *v) {
    for (int n = 0; n < 16 && json_is_object(v); n++) {
        const char *ref = json_string_value(json_object_get(v, "$ref"));
        if (!ref || strncmp(ref, "#/", 2)) return v;
        const json_t *at = doc_g;
        char part[128];
        for (const char *p = ref + 2; *p && at;) {
            size_t l = strcspn(p, "/");
            snprintf(part, sizeof part, "%.*s", (int)l, p);
            at = json_object_get(at, part);
            p += l + (p[l] == '/');
        }
        v = at;
    }
    return v;
}

/* Whether schema s allows JSON type t ("string", "integer"...). */
static bool allows(const json_t *s, const char *t) {
    const json_t *type = json_object_get(deref(s), "type");
    if (json_is_string(type)) return !strcmp(json_string_value(type), t);
    size_t i;
    const json_t *x;
    json_array_foreach(type, i, x) if (!strcmp(json_string_value(x), t)) return true;
    return false;
}

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

/* Schemas that are journaled payloads, kept as the journal has them (docs/events.md). */
static bool journaled(const char *where) {
    return strstr(where, "ApprovalRequest") || strstr(where, "ApprovalResponse");
}

typedef void prop_check_fn(const char *where, const char *name, const json_t *schema);

/* Calls check on every property of every schema in v (components and inline ones). */
static void each_property(const json_t *v, const char *where, prop_check_fn *check) {
    if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) each_property(x, where, check);
        return;
    }
    if (!json_is_object(v)) return;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)json_object_get(v, "properties"), k, x) {
        if (!journaled(where)) check(where, k, x);
    }
    json_object_foreach((json_t *)v, k, x) {
        char next[512];
        snprintf(next, sizeof next, "%s/%s", where, k);
        each_property(x, next, check);
    }
}

static void check_names(const char *where, const char *name, const json_t *schema) {
    if (ends_with(name, "_at") || !strcmp(name, "at")) {
        const json_t *s = deref(schema);
        if (!allows(s, "string") || allows(s, "integer") ||
            strcmp(json_string_value(json_object_get(s, "format")) ?: "", "date-time"))
            fail_msg("%s: %s is a time: an RFC 3339 string (format date-time)", where, name);
    }
    static const char *const banned[] = {"ts", "task", "agent", "run", "path", "file", NULL};
    for (const char *const *b = banned; *b; b++)
        if (!strcmp(name, *b))
            fail_msg("%s: a field named '%s' (times are *_at, references *_id, no server paths)",
                     where, name);
    if (ends_with(name, "_at_ms") || ends_with(name, "_s") || ends_with(name, "_sec"))
        fail_msg("%s: %s: times are *_at (RFC 3339), durations *_ms", where, name);
    if (ends_with(name, "_ms") && !allows(schema, "integer") && !allows(schema, "number"))
        fail_msg("%s: %s is a duration: a number of milliseconds", where, name);
    if (ends_with(name, "_usd") && !allows(schema, "number"))
        fail_msg("%s: %s is money: a number of US dollars", where, name);
    if (!strcmp(name, "tasks") && !allows(schema, "array"))
        fail_msg("%s: tasks is a list of tasks; a count is tasks_total", where);
}

static void names_follow_the_conventions(void **s) {
    (void)s;
    doc_g = document();
    each_property(doc_g, "", check_names);
    json_decref(doc_g);
}

/* The JSON schema of a GET's 200 answer, or NULL. */
static const json_t *get_answer(const json_t *item) {
    const json_t *ok = deref(json_object_get(
        json_object_get(json_object_get(json_object_get(item, "get"), "responses"), "200"),
        "content"));
    return deref(json_object_get(json_object_get(ok, "application/json"), "schema"));
}

static bool required(const json_t *schema, const char *field) {
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(deref(schema), "required"), i, r) {
        if (!strcmp(json_string_value(r), field)) return true;
    }
    /* allOf: any part may require it */
    json_array_foreach(json_object_get(deref(schema), "allOf"), i, r) {
        if (required(r, field)) return true;
    }
    return false;
}

/* The query parameters an operation declares (path-level ones included), as "a,b,c" sorted. */
static void query_of(const json_t *item, const json_t *op, char *out, size_t n) {
    const char *names[32];
    size_t k = 0;
    const json_t *lists[] = {json_object_get(item, "parameters"),
                             json_object_get(op, "parameters")};
    for (int l = 0; l < 2; l++) {
        size_t i;
        const json_t *p;
        json_array_foreach(lists[l], i, p) {
            p = deref(p);
            if (!strcmp(json_string_value(json_object_get(p, "in")) ?: "", "query") && k < 32)
                names[k++] = json_string_value(json_object_get(p, "name"));
        }
    }
    for (size_t i = 0; i < k; i++) /* sort, few names */
        for (size_t j = i + 1; j < k; j++)
            if (strcmp(names[j], names[i]) < 0) {
                const char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    *out = '\0';
    for (size_t i = 0; i < k; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "," : "", names[i]);
}

static void lists_page_alike_and_resources_have_ids(void **s) {
    (void)s;
    doc_g = document();
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc_g, "paths"), path, item) {
        const json_t *answer = get_answer(item);
        if (!answer || strncmp(path, "/api/v1/", 8)) continue;
        const json_t *items = json_object_get(json_object_get(answer, "properties"), "items");
        char q[256];
        query_of(item, json_object_get(item, "get"), q, sizeof q);
        if (items) {
            if (!required(answer, "next_cursor") || !strstr(q, "limit") || !strstr(q, "cursor"))
                fail_msg("GET %s is a list: it takes limit and cursor and answers next_cursor",
                         path);
            const json_t *one = json_object_get(deref(items), "items");
            const char *id = strstr(path, "/events") ? "seq" : "id"; /* an event is its seq */
            if (!required(one, id)) fail_msg("GET %s: its items have no required '%s'", path, id);
        } else if (ends_with(path, "}")) {
            /* a workflow's version is named by its number, under the workflow's id */
            const char *id = ends_with(path, "/versions/{n}") ? "version" : "id";
            if (!required(answer, id))
                fail_msg("GET %s answers one resource: it has a required '%s'", path, id);
        }
    }
    json_decref(doc_g);
}

/* json_equal, where two absent values are the same too. */
static bool same(const json_t *a, const json_t *b) { return (!a && !b) || json_equal(a, b); }

/* A list item has no field its full resource lacks or types otherwise (a list may leave heavy
 * fields out, never rename one). */
static void list_items_are_the_resource(void **s) {
    (void)s;
    doc_g = document();
    static const char *const pairs[][2] = {
        {"RunRow", "Run"}, {"TaskSummary", "TaskDetail"}, {"WorkflowRow", "WorkflowMeta"}};
    const json_t *schemas = json_object_get(json_object_get(doc_g, "components"), "schemas");
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        const json_t *item = json_object_get(schemas, pairs[i][0]),
                     *full = json_object_get(schemas, pairs[i][1]);
        assert_non_null(item);
        assert_non_null(full);
        const char *k;
        json_t *x;
        json_object_foreach(json_object_get(item, "properties"), k, x) {
            const json_t *y = json_object_get(json_object_get(full, "properties"), k);
            if (!y) fail_msg("%s has '%s', %s does not", pairs[i][0], k, pairs[i][1]);
            const json_t *tx = json_object_get(deref(x), "type"),
                         *ty = json_object_get(deref(y), "type");
            if (!same(tx, ty) || !same(json_object_get(x, "$ref"), json_object_get(y, "$ref")))
                fail_msg("'%s' has another type in %s than in %s", k, pairs[i][0], pairs[i][1]);
        }
    }
    json_decref(doc_g);
}

/* The query parameters each operation lists are the ones its route declares (api/query.c), so
 * the 400 invalid_query refuses exactly what the document does not offer. */
static void query_parameters_are_the_routes(void **s) {
    (void)s;
    doc_g = document();
    json_t *paths = json_object_get(doc_g, "paths");
    for (size_t i = 0; i < api_route_count(); i++) {
        const char *method, *path;
        api_route_at(i, &method, &path);
        const char *const *declared = api_query_params(method, path);
        if (!declared) fail_msg("%s %s declares no query parameters in api/query.c", method, path);
        char m[16];
        lower(m, method, sizeof m);
        const json_t *item = json_object_get(paths, path);
        char doc[256], code[256] = "";
        query_of(item, json_object_get(item, m), doc, sizeof doc);
        const char *names[32];
        size_t k = 0;
        for (; declared[k] && k < 32; k++) names[k] = declared[k];
        for (size_t a = 0; a < k; a++)
            for (size_t b = a + 1; b < k; b++)
                if (strcmp(names[b], names[a]) < 0) {
                    const char *t = names[a];
                    names[a] = names[b];
                    names[b] = t;
                }
        for (size_t a = 0; a < k; a++)
            snprintf(code + strlen(code), sizeof code - strlen(code), "%s%s", a ? "," : "",
                     names[a]);
        if (strcmp(doc, code))
            fail_msg("%s %s: the document lists query [%s], the route takes [%s]", method, path,
                     doc, code);
    }
    json_decref(doc_g);
}

static bool has_param(const json_t *op, const char *in, const char *name) {
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(op, "parameters"), i, p) {
        p = deref(p);
        if (!strcmp(json_string_value(json_object_get(p, "in")) ?: "", in) &&
            !strcasecmp(json_string_value(json_object_get(p, "name")) ?: "", name))
            return true;
    }
    return false;
}

/* Creating POSTs take an Idempotency-Key; every 201 says where the new thing is (Location). */
static void creating_posts_are_idempotent_and_located(void **s) {
    (void)s;
    doc_g = document();
    json_t *paths = json_object_get(doc_g, "paths");
    static const char *const creating[] = {"/api/v1/runs", "/api/v1/workflows",
                                           "/api/v1/runs/{id}/messages",
                                           "/api/v1/approvals/{id}/respond", NULL};
    for (const char *const *p = creating; *p; p++)
        if (!has_param(json_object_get(json_object_get(paths, *p), "post"), "header",
                       "Idempotency-Key"))
            fail_msg("POST %s creates: it takes an Idempotency-Key header", *p);
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item) {
        const char *m;
        json_t *op;
        json_object_foreach(item, m, op) {
            const json_t *created = deref(json_object_get(json_object_get(op, "responses"), "201"));
            if (created && !json_object_get(json_object_get(created, "headers"), "Location"))
                fail_msg("%s %s answers 201 without a Location header", m, path);
        }
    }
    json_decref(doc_g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_described),
        cmocka_unit_test(nothing_else_is_described),
        cmocka_unit_test(says_which_release),
        cmocka_unit_test(names_follow_the_conventions),
        cmocka_unit_test(lists_page_alike_and_resources_have_ids),
        cmocka_unit_test(list_items_are_the_resource),
        cmocka_unit_test(query_parameters_are_the_routes),
        cmocka_unit_test(creating_posts_are_idempotent_and_located),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
