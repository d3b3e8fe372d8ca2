/* test_config.c - the strict configuration check (core/config.h): unknown keys and wrong types
 * in a file are located errors with hints, BATON__ variables resolve ignoring case or are
 * refused with the closest setting, origins say where each value came from, secrets are told
 * apart, and docs/configuration.md names every key of the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/config.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct loaded {
    json_t *root;
    config_origins_t o;
    diag_list_t dl;
} loaded_t;

/* On stderr, so that a failing test shows what it got. */
static void dump(const diag_list_t *dl) {
    for (size_t i = 0; i < dl->n; i++)
        fprintf(stderr, "  got %s:%u:%u: %s%s%s\n", dl->items[i].file, dl->items[i].loc.line,
                dl->items[i].loc.col, dl->items[i].message, dl->items[i].hint ? " | hint: " : "",
                dl->items[i].hint ? dl->items[i].hint : "");
}

/* Parses YAML text as file "c.yaml", applies vars (may be NULL), checks. */
static void load(loaded_t *l, const char *yaml, const char *const *vars, size_t n) {
    memset(l, 0, sizeof *l);
    yaml_tree_t t;
    assert_int_equal(yaml_tree_parse(&t, yaml, strlen(yaml), "c.yaml", &l->dl), 0);
    dump(&l->dl);
    assert_int_equal(l->dl.n, 0);
    l->root = t.root ? config_from_yaml(t.root, "c.yaml", &l->o) : json_object();
    yaml_tree_free(&t);
    config_apply_env(l->root, &l->o, vars, n, &l->dl);
    config_check(l->root, &l->o, "c.yaml", &l->dl);
    diag_sort(&l->dl);
    dump(&l->dl);
}

static void unload(loaded_t *l) {
    json_decref(l->root);
    config_origins_free(&l->o);
    diag_list_free(&l->dl);
}

static void expect_diag(const loaded_t *l, size_t i, const char *file, unsigned line, unsigned col,
                        const char *message, const char *hint) {
    assert_true(i < l->dl.n);
    const diag_t *d = &l->dl.items[i];
    assert_string_equal(d->file, file);
    assert_int_equal(d->loc.line, line);
    assert_int_equal(d->loc.col, col);
    assert_string_equal(d->message, message);
    if (hint)
        assert_string_equal(d->hint ? d->hint : "(none)", hint);
    else
        assert_null(d->hint);
}

static void valid_config_passes(void **state) {
    (void)state;
    loaded_t l;
    load(&l,
         "providers:\n"
         "  local:\n"
         "    type: openai\n"
         "    base_url: http://127.0.0.1:8000/v1\n"
         "    local: true\n"
         "    timeouts: {connect: 5s, first_byte: 30, total: 5m}\n"
         "    limits: {concurrency: 2, queue_timeout: 0s}\n"
         "    models:\n"
         "      llama3.1: {input_per_million: 0, output_per_million: 0}\n"
         "  offline: {latency_ms: 10, price: {input_per_million: 1}, fail_attempts: {b: 1}}\n"
         "tiers:\n"
         "  fast: [local/llama3.1]\n"
         "  my-own-tier: [local/llama3.1]\n"
         "routing: {policy: cost, breaker: {failures: 2, cooldown: 0.3s}, reference_model: "
         "{input_per_million: 2.5, output_per_million: 10}}\n"
         "cache: {enabled: true, ttl: 24h}\n"
         "budgets: {daily_usd: 20, workflows: {SDLC: {daily_usd: 5}}}\n"
         "tools: {http_fetch: {allow_hosts: [example.com], max_bytes: 1024, timeout: 10s}}\n"
         "retention:\n", /* a section with no value is "not set", not an error */
         NULL, 0);
    assert_int_equal(l.dl.n, 0);
    unload(&l);
}

static void unknown_keys_are_located_with_hints(void **state) {
    (void)state;
    loaded_t l;
    load(&l,
         "budgets:\n"
         "  daly_usd: 20\n"
         "routng:\n"
         "  policy: cost\n"
         "providers:\n"
         "  oa:\n"
         "    type: openai\n"
         "    base_url: http://x\n"
         "    modles: {}\n"
         "    zzzz: 1\n",
         NULL, 0);
    assert_int_equal(l.dl.n, 4);
    expect_diag(&l, 0, "c.yaml", 2, 3, "unknown key 'daly_usd' in budgets",
                "did you mean 'daily_usd'?");
    expect_diag(&l, 1, "c.yaml", 3, 1, "unknown key 'routng' (not a section of the configuration)",
                "did you mean 'routing'?");
    expect_diag(&l, 2, "c.yaml", 9, 5, "unknown key 'modles' in providers.oa",
                "did you mean 'models'?");
    /* nothing close: the hint lists what is known */
    assert_string_equal(l.dl.items[3].message, "unknown key 'zzzz' in providers.oa");
    assert_non_null(strstr(l.dl.items[3].hint, "known keys: type, base_url"));
    unload(&l);
}

static void wrong_types_are_located(void **state) {
    (void)state;
    loaded_t l;
    load(&l,
         "budgets: {daily_usd: twenty}\n"
         "retention:\n"
         "  runs: -1\n"
         "routing:\n"
         "  policy: cheapest\n"
         "  breaker: {failures: 1.5}\n"
         "cache: {enabled: yes please, ttl: soon}\n"
         "tiers: {fast: local/x, best: [gpt-4o]}\n"
         "tools: {http_fetch: {max_bytes: 100000000}}\n"
         "providers:\n"
         "  p: {base_url: 'http://x', models: {m: {input_per_million: '3'}}}\n"
         "  q: {type: openai, base_url: 127.0.0.1:8000}\n",
         NULL, 0);
    size_t i = 0;
    expect_diag(&l, i++, "c.yaml", 1, 22,
                "budgets.daily_usd: expected a number, 0 or more, got \"twenty\"", NULL);
    expect_diag(&l, i++, "c.yaml", 3, 9,
                "retention.runs: expected a duration such as 30s, 5m or 24h, more than 0, got -1",
                NULL);
    expect_diag(&l, i++, "c.yaml", 5, 11,
                "routing.policy: 'cheapest' is not one of: local-first, ordered, cost, latency, "
                "score",
                NULL);
    expect_diag(&l, i++, "c.yaml", 6, 23,
                "routing.breaker.failures: expected a whole number, more than 0, got 1.5", NULL);
    expect_diag(&l, i++, "c.yaml", 7, 18,
                "cache.enabled: expected true or false, got \"yes please\"", NULL);
    expect_diag(&l, i++, "c.yaml", 7, 35,
                "cache.ttl: expected a duration such as 30s, 5m or 24h, more than 0, got \"soon\"",
                NULL);
    expect_diag(&l, i++, "c.yaml", 8, 15, "tiers.fast: expected a list, got \"local/x\"", NULL);
    expect_diag(&l, i++, "c.yaml", 8, 31, "tiers.best[0]: expected provider/model, got \"gpt-4o\"",
                NULL);
    expect_diag(&l, i++, "c.yaml", 9, 33,
                "tools.http_fetch.max_bytes: expected a whole number from 1 to 67108864, got "
                "100000000",
                NULL);
    expect_diag(&l, i++, "c.yaml", 11, 3,
                "providers.p: missing key 'type' (the API it speaks: one of: openai, anthropic, "
                "gemini, ollama)",
                NULL);
    expect_diag(&l, i++, "c.yaml", 11, 61,
                "providers.p.models.m.input_per_million: expected a number, 0 or more, got \"3\"",
                NULL);
    expect_diag(&l, i++, "c.yaml", 12, 31,
                "providers.q.base_url: expected an http:// or https:// URL, got \"127.0.0.1:8000\"",
                NULL);
    assert_int_equal(l.dl.n, i);
    unload(&l);
}

static void env_overrides_ignore_case(void **state) {
    (void)state;
    loaded_t l;
    const char *vars[] = {"BATON__BUDGETS__DAILY_USD=20",
                          "baton__routing__policy=cost",
                          "BATON__Providers__LOCAL__BASE_URL=http://gpu-box:8000/v1",
                          "BATON__TIERS__FAST=[local/m, other/n]",
                          "PATH=/bin",
                          "BATON_CONFIG=x.yaml"};
    load(&l,
         "providers:\n"
         "  local: {type: openai, base_url: http://127.0.0.1/v1, models: {m: {}}}\n"
         "budgets: {daily_usd: 5}\n",
         vars, sizeof vars / sizeof *vars);
    assert_int_equal(l.dl.n, 0);
    const json_t *b = json_object_get(l.root, "budgets");
    assert_true(json_integer_value(json_object_get(b, "daily_usd")) == 20);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(l.root, "routing"), "policy")), "cost");
    /* the provider the file names, not a new "LOCAL" */
    const json_t *p = json_object_get(json_object_get(l.root, "providers"), "local");
    assert_string_equal(json_string_value(json_object_get(p, "base_url")),
                        "http://gpu-box:8000/v1");
    assert_int_equal(json_object_size(json_object_get(l.root, "providers")), 1);
    assert_int_equal(json_array_size(json_object_get(json_object_get(l.root, "tiers"), "fast")), 2);
    /* origins: the variable for what it set, the file for the rest */
    const config_origin_t *o = config_origin_find(&l.o, b, "daily_usd", 0);
    assert_non_null(o);
    assert_string_equal(o->file, "BATON__BUDGETS__DAILY_USD");
    assert_int_equal(o->loc.line, 0);
    o = config_origin_find(&l.o, p, "type", 0);
    assert_non_null(o);
    assert_string_equal(o->file, "c.yaml");
    assert_int_equal(o->loc.line, 2);
    assert_int_equal(o->loc.col, 17);
    unload(&l);
}

static void bad_variables_are_refused(void **state) {
    (void)state;
    loaded_t l;
    const char *vars[] = {"BATON__FOO__BAR=1", "BATON__BUDGETS__DALY_USD=20",
                          "BATON__BUDGETS__DAILY_USD=lots", "BATON__ROUTING__POLICY__X=1",
                          "BATON__ROUTING____POLICY=cost"};
    load(&l, "", vars, sizeof vars / sizeof *vars);
    assert_int_equal(l.dl.n, 5);
    /* sorted by file (the variable's name) */
    expect_diag(&l, 0, "BATON__BUDGETS__DAILY_USD", 0, 0,
                "budgets.daily_usd: expected a number, 0 or more, got \"lots\"", NULL);
    expect_diag(&l, 1, "BATON__BUDGETS__DALY_USD", 0, 0,
                "names no setting: budgets has no key 'daly_usd'",
                "did you mean BATON__BUDGETS__DAILY_USD?");
    expect_diag(&l, 2, "BATON__FOO__BAR", 0, 0,
                "names no setting: 'foo' is not a section of the configuration",
                "the settings here are: BATON__PROVIDERS, BATON__TIERS, BATON__ROUTING, "
                "BATON__CACHE, BATON__BUDGETS, BATON__RETENTION, BATON__TOOLS");
    expect_diag(&l, 3, "BATON__ROUTING__POLICY__X", 0, 0,
                "not a configuration path: routing.policy is a single setting, not a section",
                NULL);
    expect_diag(&l, 4, "BATON__ROUTING____POLICY", 0, 0,
                "not a configuration path: an empty part between '__'",
                "settings are BATON__SECTION__KEY, e.g. BATON__BUDGETS__DAILY_USD");
    /* a refused variable changes nothing */
    assert_null(json_object_get(l.root, "routing"));
    unload(&l);
}

static void variables_must_be_utf8(void **state) {
    (void)state;
    loaded_t l;
    /* jansson takes only UTF-8: such a variable is refused, not dropped (found by fuzz_config) */
    const char *vars[] = {"BATON__ROUTING__POLICY=co\xffst", "BATON__TIERS__F\xfe=[a/b]"};
    load(&l, "", vars, 2);
    assert_int_equal(l.dl.n, 2);
    expect_diag(&l, 0, "BATON__ROUTING__POLICY", 0, 0,
                "not UTF-8 (the bad bytes are shown as '?'): names and values must be UTF-8", NULL);
    expect_diag(&l, 1, "BATON__TIERS__F?", 0, 0,
                "not UTF-8 (the bad bytes are shown as '?'): names and values must be UTF-8", NULL);
    assert_int_equal(json_object_size(l.root), 0);
    unload(&l);
}

static void required_keys_of_env_made_entries(void **state) {
    (void)state;
    loaded_t l;
    /* a provider made from the environment alone still needs its type: the error names the
     * variable that made it; an all-upper-case new name is taken in lower case */
    const char *vars[] = {"BATON__PROVIDERS__GPU__BASE_URL=http://gpu:8000/v1"};
    load(&l, "", vars, 1);
    assert_int_equal(l.dl.n, 1);
    assert_string_equal(l.dl.items[0].file, "BATON__PROVIDERS__GPU__BASE_URL");
    assert_non_null(strstr(l.dl.items[0].message, "providers.gpu: missing key 'type'"));
    unload(&l);
}

static void secrets_by_key_name(void **state) {
    (void)state;
    assert_true(config_key_is_secret("api_key"));
    assert_true(config_key_is_secret("token"));
    assert_true(config_key_is_secret("client-secret"));
    assert_true(config_key_is_secret("PASSWORD"));
    assert_true(config_key_is_secret("key"));
    assert_false(config_key_is_secret("api_key_env")); /* names a variable */
    assert_false(config_key_is_secret("tokens_per_minute"));
    assert_false(config_key_is_secret("max_entries"));
    assert_false(config_key_is_secret("monkey"));
}

/* Every key path of the table, NAME-style placeholders for user-named keys. */
static void collect(const config_key_t *k, const char *path, char ***out, size_t *n) {
    if (*path) {
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = xstrdup(path);
    }
    if (k->kind == CONFIG_LIST) return;
    for (const config_key_t *c = k->keys; c && c->name; c++) {
        char *sub = xasprintf("%s%s%s", path, *path ? "." : "", c->name);
        collect(c, sub, out, n);
        free(sub);
    }
    if (k->other) {
        char *sub = xasprintf("%s%s%s", path, *path ? "." : "", k->other->name);
        collect(k->other, sub, out, n);
        free(sub);
    }
}

static void docs_name_every_key(void **state) {
    (void)state;
    const char *root = getenv("BATON_ROOT");
    if (!root) skip();
    char *path = xasprintf("%s/docs/configuration.md", root);
    size_t len;
    char *err = NULL;
    char *text = fs_read_file(path, 1 << 20, &len, &err);
    assert_non_null(text);
    char **keys = NULL;
    size_t n = 0;
    collect(&config_schema, "", &keys, &n);
    assert_true(n > 40);
    size_t missing = 0;
    for (size_t i = 0; i < n; i++) {
        char *quoted = xasprintf("`%s`", keys[i]);
        if (!strstr(text, quoted)) {
            fprintf(stderr, "docs/configuration.md does not name %s\n", quoted);
            missing++;
        }
        free(quoted);
        free(keys[i]);
    }
    free(keys);
    free(text);
    free(path);
    assert_int_equal(missing, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_config_passes),
        cmocka_unit_test(unknown_keys_are_located_with_hints),
        cmocka_unit_test(wrong_types_are_located),
        cmocka_unit_test(env_overrides_ignore_case),
        cmocka_unit_test(bad_variables_are_refused),
        cmocka_unit_test(variables_must_be_utf8),
        cmocka_unit_test(required_keys_of_env_made_entries),
        cmocka_unit_test(secrets_by_key_name),
        cmocka_unit_test(docs_name_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
