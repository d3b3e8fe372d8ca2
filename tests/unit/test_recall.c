/* test_recall.c - llm/recall around a router with only the offline model (a provider at the
 * network edge that needs no network): a miss is priced normally and stored, the same request
 * is then answered from the cache with cost 0 and the stored tokens, cancelling a call during its
 * cache lookup or its live call ends it quietly (ASan checks nothing leaks or dangles), and a
 * recording replays in another layer while a request it lacks fails naming task and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "llm/recall.h"
#include "store/store.h"
#include "util/xalloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state) {
    (void)state;
    if (sodium_init() < 0) return -1;
    snprintf(dir, sizeof dir, "/tmp/baton-recall-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char *cmd = xasprintf("rm -rf %s", dir);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

typedef struct {
    int calls, cached, errors;
    char candidate[64];
    double cost, ref;
    int64_t in, out;
} seen_t;

static void on_call(void *ud, const llm_call_record_t *rec) {
    seen_t *s = ud;
    s->calls++;
    s->cached += rec->cached;
    s->errors += strcmp(rec->status, "ok") != 0;
    snprintf(s->candidate, sizeof s->candidate, "%s", rec->candidate);
    s->cost = rec->cost_usd;
    s->ref = rec->reference_cost_usd;
    s->in = rec->input_tokens;
    s->out = rec->output_tokens;
}

typedef struct {
    int done;
    char *text, *error;
    double cost;
} answer_t;

static void on_done(void *ud, llm_response_t *resp, const llm_error_t *err) {
    answer_t *a = ud;
    a->done++;
    if (resp) {
        a->text = xstrdup(resp->text);
        a->cost = resp->cost_usd;
        llm_response_free(resp);
        free(resp);
    } else {
        a->error = xstrdup(err->message);
    }
}

static const wf_agent_t AGENT = {.id = "writer",
                                 .name = "Writer",
                                 .instructions = "Write.",
                                 .max_tokens = 200,
                                 .format = OUTPUT_TEXT};

static llm_request_t request(const char *prompt, double temperature) {
    return (llm_request_t){.run_id = "r-1",
                           .task_id = "write",
                           .attempt = 1,
                           .iteration = 1,
                           .agent = &AGENT,
                           .system = "You are a writer.",
                           .prompt = prompt,
                           .format = OUTPUT_TEXT,
                           .max_tokens = 200,
                           .temperature = temperature};
}

typedef struct {
    uv_loop_t loop;
    store_t *st;
    router_t *router;
    recall_t *recall;
    seen_t seen;
} env_t;

static void env_open(env_t *e, const char *yaml_json, const char *mode, const char *recs) {
    memset(e, 0, sizeof *e);
    uv_loop_init(&e->loop);
    char *db = xasprintf("%s/baton.db", dir), *err = NULL;
    e->st = store_open(db, STORE_DURABILITY_NORMAL, &err);
    assert_non_null(e->st);
    json_t *config = json_loads(yaml_json, 0, NULL);
    assert_non_null(config);
    llm_prices_t prices = {.input_per_million = 1, .output_per_million = 2};
    e->router = router_new(&e->loop, config, 0, prices, NULL, &err);
    assert_non_null(e->router);
    recall_opts_t o = {.config = config, .db_path = db, .mode = mode, .recordings = recs};
    e->recall = recall_new(&e->loop, e->router, &o, &err);
    if (!e->recall) fail_msg("recall_new: %s", err);
    recall_set_observer(e->recall, on_call, &e->seen);
    json_decref(config);
    free(db);
}

static void env_close(env_t *e) {
    recall_free(e->recall);
    router_free(e->router);
    uv_run(&e->loop, UV_RUN_DEFAULT); /* cache writes in flight, handles closing */
    assert_int_equal(uv_loop_close(&e->loop), 0);
    store_close(e->st);
}

static void ask(env_t *e, llm_request_t req, answer_t *a) {
    memset(a, 0, sizeof *a);
    provider_call(recall_provider(e->recall), &req, on_done, a);
    assert_int_equal(a->done, 0); /* never inside provider_call */
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(a->done, 1);
}

static void answer_free(answer_t *a) {
    free(a->text);
    free(a->error);
}

static const char *CACHE_CFG =
    "{\"cache\": {\"enabled\": true}, \"routing\": {\"reference_model\": "
    "{\"input_per_million\": 10, \"output_per_million\": 20}}}";

static void miss_then_hit(void **state) {
    (void)state;
    env_t e;
    env_open(&e, CACHE_CFG, NULL, NULL);
    answer_t a1, a2;
    ask(&e, request("Tide pools.", 0), &a1);
    assert_int_equal(e.seen.calls, 1);
    assert_int_equal(e.seen.cached, 0);
    assert_string_equal(e.seen.candidate, "offline/offline-1");
    /* priced at the offline prices, and at the reference's: by hand from the reported tokens */
    assert_true(e.seen.in > 0 && e.seen.out > 0);
    double cost = (e.seen.in * 1.0 + e.seen.out * 2.0) / 1e6,
           ref = (e.seen.in * 10.0 + e.seen.out * 20.0) / 1e6;
    assert_float_equal(e.seen.cost, cost, 1e-12);
    assert_float_equal(e.seen.ref, ref, 1e-12);
    assert_float_equal(a1.cost, cost, 1e-12);
    int64_t in = e.seen.in, out = e.seen.out;
    ask(&e, request("Tide pools.", 0), &a2);
    assert_int_equal(e.seen.calls, 2);
    assert_int_equal(e.seen.cached, 1);
    assert_string_equal(e.seen.candidate, "offline/offline-1");
    assert_float_equal(e.seen.cost, 0, 0);
    assert_float_equal(a2.cost, 0, 0);
    assert_int_equal(e.seen.in, in);
    assert_int_equal(e.seen.out, out);
    assert_float_equal(e.seen.ref, ref, 1e-12);
    assert_string_equal(a1.text, a2.text);
    answer_free(&a1);
    answer_free(&a2);
    env_close(&e);
}

static void cancelled_calls_end_quietly(void **state) {
    (void)state;
    env_t e;
    env_open(&e, CACHE_CFG, NULL, NULL);
    answer_t a = {0};
    /* during the cache lookup */
    llm_request_t req = request("Never answered.", 0);
    llm_call_t *c = provider_call(recall_provider(e.recall), &req, on_done, &a);
    provider_cancel(recall_provider(e.recall), c);
    /* during the live call (temperature 0.5 skips the cache) */
    req = request("Never answered either.", 0.5);
    c = provider_call(recall_provider(e.recall), &req, on_done, &a);
    provider_cancel(recall_provider(e.recall), c);
    uv_run(&e.loop, UV_RUN_DEFAULT);
    assert_int_equal(a.done, 0);
    env_close(&e);
}

static void record_then_replay(void **state) {
    (void)state;
    char *recs = xasprintf("%s/rec.json", dir);
    env_t e;
    env_open(&e, "{}", "record", recs);
    answer_t live, again, miss;
    ask(&e, request("Kelp forests.", 0.7), &live);
    char *err = NULL;
    assert_int_equal(recall_flush(e.recall, &err), 0);
    env_close(&e);

    env_open(&e, "{}", "replay", recs);
    ask(&e, request("Kelp forests.", 0.7), &again);
    assert_string_equal(again.text, live.text);
    assert_int_equal(e.seen.cached, 1);
    assert_float_equal(again.cost, 0, 0);
    ask(&e, request("Sea otters.", 0.7), &miss);
    assert_null(miss.text);
    assert_non_null(strstr(miss.error, "no recording for task 'write' (request key "));
    assert_non_null(strstr(miss.error, recs));
    assert_int_equal(e.seen.errors, 1);
    assert_string_equal(e.seen.candidate, "replay"); /* no provider was asked */
    env_close(&e);
    answer_free(&live);
    answer_free(&again);
    answer_free(&miss);
    free(recs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(miss_then_hit),
        cmocka_unit_test(cancelled_calls_end_quietly),
        cmocka_unit_test(record_then_replay),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
