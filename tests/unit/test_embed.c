/* test_embed.c - embeddings: the offline embedding (deterministic, normalised, meaningful), the
 * wire parsers (vectors as sent, every malformed answer refused), and embedding calls through
 * the router (default model, fallback, observer records, cancel, bad input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "llm/embed.h"
#include "llm/embed_wire.h"
#include "llm/offline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the offline embedding ------------------------------------------------------------------ */

static double cosine(const char *a, const char *b, size_t dims) {
    float *va = calloc(dims, sizeof *va), *vb = calloc(dims, sizeof *vb);
    offline_embed(a, dims, va);
    offline_embed(b, dims, vb);
    double dot = 0;
    for (size_t i = 0; i < dims; i++) dot += (double)va[i] * vb[i];
    free(va);
    free(vb);
    return dot;
}

static void test_offline_deterministic(void **state) {
    (void)state;
    float a[256], b[256];
    offline_embed("Durable workflows for teams of agents", 256, a);
    offline_embed("Durable workflows for teams of agents", 256, b);
    assert_memory_equal(a, b, sizeof a);
    offline_embed("Durable workflows for teams of agent", 256, b);
    assert_true(memcmp(a, b, sizeof a) != 0);
    /* case does not matter, and word order does not either (a bag of words and their trigrams) */
    offline_embed("AGENTS of teams for WORKFLOWS durable", 256, b);
    for (size_t i = 0; i < 256; i++) assert_true(fabsf(a[i] - b[i]) < 1e-6f);
}

static void test_offline_dimension_and_norm(void **state) {
    (void)state;
    const char *texts[] = {"", "!!!", "a", "hello world", "naïve café déjà vu", "x y z x y z x"};
    size_t sizes[] = {1, 3, 64, 256, 1000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
            size_t d = sizes[s];
            float *v = malloc((d + 1) * sizeof *v);
            v[d] = 42.0f; /* nothing is written past the dimension */
            offline_embed(texts[t], d, v);
            double sum = 0;
            for (size_t i = 0; i < d; i++) sum += (double)v[i] * v[i];
            assert_true(fabs(sqrt(sum) - 1.0) < 1e-5);
            assert_true(v[d] == 42.0f);
            free(v);
        }
    }
}

static void test_offline_similar_beats_unrelated(void **state) {
    (void)state;
    const char *pairs[][3] = {
        /* anchor, similar, unrelated */
        {"the cat sat on the mat", "a cat sat on a mat",
         "quarterly revenue forecast for investors"},
        {"embedding vectors for search", "vector embeddings for semantic search",
         "the goalkeeper saved a penalty"},
        {"retry the failed payment", "payment failed, retry later", "a recipe for lemon cake"},
        {"embedding", "embeddings", "giraffe"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        double sim = cosine(pairs[i][0], pairs[i][1], 256);
        double unrel = cosine(pairs[i][0], pairs[i][2], 256);
        if (!(sim > 0.4 && sim > unrel + 0.3))
            fail_msg("'%s': similar %.3f, unrelated %.3f", pairs[i][0], sim, unrel);
    }
}

/* ---- the wire parsers ----------------------------------------------------------------------- */

static int parse(embed_wire_t w, const char *body, size_t n, int dims, embed_parsed_t *out,
                 char **err) {
    *err = NULL;
    return embed_wire_parse(w, body, strlen(body), n, dims, out, err);
}

static void test_wire_answers(void **state) {
    (void)state;
    embed_parsed_t p;
    char *err;
    /* OpenAI: data[] in index order whatever the array order; usage.prompt_tokens */
    assert_int_equal(parse(EMBED_WIRE_OPENAI,
                           "{\"data\":[{\"index\":1,\"embedding\":[0.5,-1]},{\"index\":0,"
                           "\"embedding\":[0.25,2e-3]}],\"usage\":{\"prompt_tokens\":7}}",
                           2, 0, &p, &err),
                     0);
    assert_int_equal(p.n, 2);
    assert_int_equal(p.dims, 2);
    assert_true(p.vectors[0] == 0.25f && p.vectors[1] == 2e-3f);
    assert_true(p.vectors[2] == 0.5f && p.vectors[3] == -1.0f);
    assert_int_equal(p.tokens, 7);
    free(p.vectors);
    /* Gemini: embeddings[].values, no usage */
    assert_int_equal(
        parse(EMBED_WIRE_GEMINI, "{\"embeddings\":[{\"values\":[1,2,3]}]}", 1, 3, &p, &err), 0);
    assert_int_equal(p.dims, 3);
    assert_true(p.vectors[2] == 3.0f);
    assert_int_equal(p.tokens, -1);
    free(p.vectors);
    /* Ollama: embeddings[][] and prompt_eval_count */
    assert_int_equal(parse(EMBED_WIRE_OLLAMA,
                           "{\"model\":\"m\",\"embeddings\":[[1],[2]],\"prompt_eval_count\":4}", 2,
                           0, &p, &err),
                     0);
    assert_true(p.vectors[1] == 2.0f);
    assert_int_equal(p.tokens, 4);
    free(p.vectors);
}

static void test_wire_refusals(void **state) {
    (void)state;
    struct {
        embed_wire_t w;
        const char *body;
        size_t n;
        int dims;
        const char *why;
    } bad[] = {
        {EMBED_WIRE_OPENAI, "{\"data\":[{\"index\":0,\"embedding\":[1]}", 1, 0, "not JSON"},
        {EMBED_WIRE_OPENAI, "[1]", 1, 0, "not a JSON object"},
        {EMBED_WIRE_OPENAI, "{\"data\":[{\"index\":0,\"embedding\":[1]}]}", 2, 0, "2 vectors"},
        {EMBED_WIRE_OPENAI,
         "{\"data\":[{\"index\":0,\"embedding\":[1]},{\"index\":0,\"embedding\":[1]}]}", 2, 0,
         "is not one of"},
        {EMBED_WIRE_OPENAI, "{\"data\":[{\"index\":5,\"embedding\":[1]}]}", 1, 0, "is not one of"},
        {EMBED_WIRE_OPENAI, "{\"data\":[{\"index\":0,\"embedding\":\"AAAA\"}]}", 1, 0,
         "not an array"},
        {EMBED_WIRE_GEMINI, "{\"embeddings\":[{\"values\":[1,2]},{\"values\":[1]}]}", 2, 0,
         "vector 1 has 1 values"},
        {EMBED_WIRE_GEMINI, "{\"embeddings\":[{\"value\":[1]}]}", 1, 0, "no values"},
        {EMBED_WIRE_GEMINI, "{\"embeddings\":[{\"values\":[1,2]}]}", 1, 3,
         "asked for 3 dimensions, got 2"},
        {EMBED_WIRE_OLLAMA, "{\"embeddings\":[[]]}", 1, 0, "has 0 values"},
        {EMBED_WIRE_OLLAMA, "{\"embeddings\":[[1e300]]}", 1, 0, "not a finite number"},
        {EMBED_WIRE_OLLAMA, "{\"embeddings\":[[1,\"2\"]]}", 1, 0, "not a finite number"},
        {EMBED_WIRE_OLLAMA, "{\"embeddings\":[[1]]}", 0, 0, "no input"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        embed_parsed_t p;
        char *err;
        if (parse(bad[i].w, bad[i].body, bad[i].n, bad[i].dims, &p, &err) != -1)
            fail_msg("accepted %s", bad[i].body);
        assert_null(p.vectors);
        if (!strstr(err, bad[i].why))
            fail_msg("%s: message '%s' lacks '%s'", bad[i].body, err, bad[i].why);
        free(err);
    }
}

static void test_wire_bodies(void **state) {
    (void)state;
    const char *texts[] = {"a", "b"};
    json_t *b = embed_wire_body(EMBED_WIRE_OPENAI, "m", texts, 2, 0);
    char *s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s,
                        "{\"encoding_format\":\"float\",\"input\":[\"a\",\"b\"],\"model\":\"m\"}");
    free(s);
    json_decref(b);
    b = embed_wire_body(EMBED_WIRE_GEMINI, "gemini-embedding-001", texts, 1, 8);
    s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"requests\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"model\":"
                           "\"models/gemini-embedding-001\",\"outputDimensionality\":8}]}");
    free(s);
    json_decref(b);
    b = embed_wire_body(EMBED_WIRE_OLLAMA, "nomic", texts, 2, 4);
    s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"dimensions\":4,\"input\":[\"a\",\"b\"],\"model\":\"nomic\"}");
    free(s);
    json_decref(b);
}

/* ---- through the router --------------------------------------------------------------------- */

typedef struct seen {
    int records;
    char candidates[256];
    int64_t tokens[4];
    char *run_id;
    bool done;
    llm_response_t *resp;
    llm_error_kind_t kind;
    char *error;
} seen_t;

static void observe(void *ud, const llm_call_record_t *rec) {
    seen_t *s = ud;
    size_t l = strlen(s->candidates);
    snprintf(s->candidates + l, sizeof s->candidates - l, "%s%s:%s", l ? "," : "", rec->candidate,
             rec->status);
    if (s->records < 4) s->tokens[s->records] = rec->input_tokens;
    s->records++;
    free(s->run_id);
    s->run_id = rec->run_id ? strdup(rec->run_id) : NULL;
}

static void on_done(void *ud, llm_response_t *resp, const llm_error_t *err) {
    seen_t *s = ud;
    s->done = true;
    s->resp = resp;
    if (err) {
        s->kind = err->kind;
        s->error = strdup(err->message);
    }
}

static router_t *router_of(uv_loop_t *loop, const char *config) {
    json_t *cfg = config ? json_loads(config, 0, NULL) : NULL;
    char *err = NULL;
    router_t *r = router_new(loop, cfg, 0, (llm_prices_t){.input_per_million = 100}, NULL, &err);
    if (!r) fail_msg("router_new: %s", err);
    json_decref(cfg);
    return r;
}

static void finish(uv_loop_t *loop, router_t *r, seen_t *s) {
    if (s->resp) {
        llm_response_free(s->resp);
        free(s->resp);
    }
    free(s->error);
    free(s->run_id);
    router_free(r);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void test_router_offline_default(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    router_t *r = router_of(&loop, NULL);
    seen_t s = {0};
    router_set_observer(r, observe, &s);
    const char *texts[] = {"one text here", "two"};
    llm_embed_request_t req = {.run_id = "run-7", .task_id = "t", .texts = texts, .n_texts = 2};
    char *err = NULL;
    assert_non_null(llm_embed(r, &req, on_done, &s, &err));
    assert_false(s.done); /* never inside the call */
    while (!s.done) uv_run(&loop, UV_RUN_ONCE);
    assert_non_null(s.resp);
    assert_string_equal(s.resp->model, "offline-embed-1");
    assert_int_equal(s.resp->n_vectors, 2);
    assert_int_equal(s.resp->dimensions, OFFLINE_EMBED_DIMENSIONS);
    float expect[OFFLINE_EMBED_DIMENSIONS];
    offline_embed("two", OFFLINE_EMBED_DIMENSIONS, expect);
    assert_memory_equal(s.resp->vectors + OFFLINE_EMBED_DIMENSIONS, expect, sizeof expect);
    /* ceil(13/4) + ceil(3/4) = 5 tokens at the offline price of 100 per million */
    assert_int_equal(s.resp->input_tokens, 5);
    assert_true(fabs(s.resp->cost_usd - 5 * 100 / 1e6) < 1e-12);
    assert_string_equal(s.candidates, "offline/offline-embed-1:ok");
    assert_int_equal(s.tokens[0], 5);
    assert_string_equal(s.run_id, "run-7");
    finish(&loop, r, &s);
}

static void test_router_fallback_records_each_call(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    /* Port 1 refuses connections: a connection error, which moves to the next candidate. */
    router_t *r = router_of(
        &loop,
        "{\"providers\": {\"dead\": {\"type\": \"ollama\", \"base_url\": \"http://127.0.0.1:1\","
        " \"local\": true, \"models\": {\"m\": {\"input_per_million\": 1}}}},"
        " \"tiers\": {\"embedding\": [\"dead/m\", \"offline/offline-embed-1\"]},"
        " \"routing\": {\"policy\": \"ordered\"}}");
    seen_t s = {0};
    router_set_observer(r, observe, &s);
    const char *texts[] = {"fallback"};
    llm_embed_request_t req = {.texts = texts, .n_texts = 1, .dimensions = 12};
    char *err = NULL;
    assert_non_null(llm_embed(r, &req, on_done, &s, &err));
    while (!s.done) uv_run(&loop, UV_RUN_ONCE);
    assert_non_null(s.resp);
    assert_int_equal(s.resp->dimensions, 12);
    assert_string_equal(s.candidates, "dead/m:error,offline/offline-embed-1:ok");
    finish(&loop, r, &s);
}

static void test_router_cancel_in_flight(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    /* 192.0.2.1 (TEST-NET-1) never answers: the request stays in flight until cancelled. */
    router_t *r = router_of(
        &loop,
        "{\"providers\": {\"far\": {\"type\": \"openai\", \"base_url\": \"http://192.0.2.1/v1\","
        " \"models\": {\"e\": {\"input_per_million\": 1}}}}}");
    seen_t s = {0};
    router_set_observer(r, observe, &s);
    const char *texts[] = {"in flight"};
    json_t *model = json_string("far/e");
    llm_embed_request_t req = {.texts = texts, .n_texts = 1, .model = model};
    char *err = NULL;
    llm_embed_call_t *c = llm_embed(r, &req, on_done, &s, &err);
    json_decref(model); /* the call keeps what it needs */
    assert_non_null(c);
    uv_run(&loop, UV_RUN_NOWAIT); /* the first try starts: the POST is under way */
    assert_false(s.done);
    llm_embed_cancel(c);
    assert_string_equal(s.candidates, "far/e:cancelled");
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_false(s.done);
    finish(&loop, r, &s);
}

static void test_router_chat_to_embedding_model(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    router_t *r = router_of(&loop, NULL);
    seen_t s = {0};
    json_t *model = json_string("offline/offline-embed-1");
    llm_request_t req = {
        .run_id = "r", .task_id = "t", .attempt = 1, .prompt = "hi", .model = model};
    provider_call(router_provider(r), &req, on_done, &s);
    while (!s.done) uv_run(&loop, UV_RUN_ONCE);
    assert_null(s.resp);
    assert_int_equal(s.kind, LLM_ERR_OTHER);
    assert_non_null(strstr(s.error, "embedding model"));
    json_decref(model);
    finish(&loop, r, &s);
}

static void test_router_cancel_and_bad_input(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    router_t *r = router_of(&loop, "{\"providers\": {\"c\": {\"type\": \"anthropic\", \"base_url\":"
                                   " \"http://127.0.0.1:1\", \"models\": {\"x\": {}}}}}");
    seen_t s = {0};
    const char *texts[] = {"a", ""};
    llm_embed_request_t req = {.texts = texts, .n_texts = 1};
    char *err = NULL;
    llm_embed_call_t *c = llm_embed(r, &req, on_done, &s, &err);
    assert_non_null(c);
    llm_embed_cancel(c); /* before the first try: nothing is called, nothing leaks */
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_false(s.done);
    struct {
        llm_embed_request_t req;
        const char *why;
    } bad[] = {
        {{.texts = texts, .n_texts = 0}, "nothing to embed"},
        {{.texts = texts, .n_texts = 2}, "text 2 is empty"},
        {{.texts = texts, .n_texts = 1, .dimensions = -1}, "dimensions"},
        {{.texts = texts, .n_texts = 1, .model = json_string("c/x")}, "cannot embed"},
        {{.texts = texts, .n_texts = 1, .model = json_string("zz/x")}, "no configured model"},
        {{.texts = texts, .n_texts = 1, .model = json_string("fastest")},
         "neither a configured tier"},
        {{.texts = texts, .n_texts = 1, .model = json_integer(3)}, "model must be"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err = NULL;
        assert_null(llm_embed(r, &bad[i].req, on_done, &s, &err));
        if (!err || !strstr(err, bad[i].why)) fail_msg("case %zu: '%s'", i, err ? err : "(none)");
        free(err);
        json_decref((json_t *)bad[i].req.model);
    }
    finish(&loop, r, &s);
}

/* Inside a run, each physical embedding call reaches the journal (llm.call) and llm_calls
 * through the engine's observer, like a chat call; a call outside any run is not journaled. */
static void on_engine_call(void *ud, const llm_call_record_t *rec) { engine_record_call(ud, rec); }

static void test_embedding_calls_are_journaled(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: embed\ntasks:\n  - id: review\n    type: human\n    kind: decision\n"
                     "    title: Ok?\n    options: [yes, no]\n");
    h_start(&w);
    h_run(&w); /* the run now waits for its human step */
    router_t *r = router_of(&w.loop, NULL);
    router_set_observer(r, on_engine_call, w.eng);
    const char *texts[] = {"journal me", "and me"};
    for (int in_run = 1; in_run >= 0; in_run--) {
        seen_t s = {0};
        llm_embed_request_t req = {.run_id = in_run ? engine_run_id(w.run) : NULL,
                                   .task_id = in_run ? "review" : NULL,
                                   .attempt = 1,
                                   .texts = texts,
                                   .n_texts = 2};
        char *err = NULL;
        assert_non_null(llm_embed(r, &req, on_done, &s, &err));
        while (!s.done) uv_run(&w.loop, UV_RUN_ONCE);
        assert_non_null(s.resp);
        llm_response_free(s.resp);
        free(s.resp);
    }
    h_run(&w); /* the writer commits */
    assert_int_equal(h_events(&w, "llm.call", "review"), 1);
    json_t *usage = store_llm_usage(w.store, engine_run_id(w.run));
    /* ceil(10/4) + ceil(6/4) = 5 tokens at 100 per million */
    assert_int_equal(json_integer_value(json_object_get(usage, "calls")), 1);
    assert_int_equal(json_integer_value(json_object_get(usage, "input_tokens")), 5);
    assert_true(fabs(json_number_value(json_object_get(usage, "cost_usd")) - 5e-4) < 1e-12);
    json_decref(usage);
    router_free(r);
    h_world_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offline_deterministic),
        cmocka_unit_test(test_offline_dimension_and_norm),
        cmocka_unit_test(test_offline_similar_beats_unrelated),
        cmocka_unit_test(test_wire_answers),
        cmocka_unit_test(test_wire_refusals),
        cmocka_unit_test(test_wire_bodies),
        cmocka_unit_test(test_router_offline_default),
        cmocka_unit_test(test_router_fallback_records_each_call),
        cmocka_unit_test(test_router_cancel_in_flight),
        cmocka_unit_test(test_router_chat_to_embedding_model),
        cmocka_unit_test(test_router_cancel_and_bad_input),
        cmocka_unit_test(test_embedding_calls_are_journaled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
