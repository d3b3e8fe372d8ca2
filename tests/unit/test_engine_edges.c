/* test_engine_edges.c - engine behaviour at the edges between features: loops with approvals,
 * retries under the concurrency limit, budgets on every attempt, consensus timeouts, artifact
 * versions, human deadlines, and what the projections show meanwhile. */
#include "harness.h"

#define AGENTS                                                                                     \
    "agents:\n"                                                                                    \
    "  writer: {name: Writer, instructions: Write., max_tokens: 100, output: {format: "            \
    "markdown}}\n"                                                                                 \
    "  judge:\n"                                                                                   \
    "    instructions: Judge.\n"                                                                   \
    "    max_tokens: 100\n"                                                                        \
    "    output:\n"                                                                                \
    "      format: json\n"                                                                         \
    "      schema: {type: object, required: [score], properties: {score: {type: number, maximum: " \
    "10}}}\n"

/* A loop whose iterations need approval: every approved iteration may loop again. */
static void loop_with_approval(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: la\n" AGENTS
                     "tasks:\n  - id: a\n    agent: writer\n    requires_approval: true\n"
                     "    loop: {until: '{{iteration >= 2}}', max_iterations: 3}\n");
    h_start(&w);
    for (int k = 0; k < 2; k++) {
        h_run(&w);
        h_assert_task(&w, "a", TS_WAITING_HUMAN);
        h_respond(&w, "a", json_pack("{s:s}", "decision", "approve"));
    }
    h_run(&w);
    h_assert_task(&w, "a", TS_COMPLETED);
    assert_int_equal(h_task(&w, "a")->iteration, 2);
    h_world_free(&w);
}

/* The runs table shows waiting_human only while nothing but people can move the run on. */
static void run_status_projection(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: two\n" AGENTS
                     "tasks:\n  - {id: a, agent: writer, requires_approval: true}\n"
                     "  - {id: b, agent: writer, requires_approval: true}\n");
    h_start(&w);
    h_run(&w);
    json_t *run = store_run(w.store, engine_run_id(w.run));
    assert_string_equal(json_string_value(json_object_get(run, "status")), "waiting_human");
    json_decref(run);
    h_respond(&w, "a", json_pack("{s:s}", "decision", "approve"));
    h_run(&w);
    run = store_run(w.store, engine_run_id(w.run));
    assert_string_equal(json_string_value(json_object_get(run, "status")), "waiting_human");
    json_decref(run);
    json_t *pending = store_approvals(w.store, engine_run_id(w.run), "pending");
    assert_int_equal(json_array_size(pending), 1);
    json_decref(pending);
    h_respond(&w, "b", json_pack("{s:s}", "decision", "approve"));
    h_run(&w);
    run = store_run(w.store, engine_run_id(w.run));
    assert_string_equal(json_string_value(json_object_get(run, "status")), "completed");
    json_decref(run);
    h_world_free(&w);
}

/* A question nobody answered closes when its task ends (here: cancelled). */
static void approvals_close_with_their_task(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: close\n" AGENTS
                     "tasks:\n  - {id: a, agent: writer, requires_approval: true}\n");
    h_start(&w);
    h_run(&w);
    engine_cancel(w.run, "test", NULL);
    h_run(&w);
    json_t *pending = store_approvals(w.store, engine_run_id(w.run), "pending");
    assert_int_equal(json_array_size(pending), 0);
    json_decref(pending);
    h_world_free(&w);
}

/* A retry waits for a free slot: concurrency 1 means one call at a time, always. */
static void retries_respect_concurrency(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: rc\n" AGENTS "concurrency: 1\n"
                     "defaults: {max_retries: 2, retry_backoff: {initial: 0.001, jitter: false}}\n"
                     "tasks:\n  - {id: a, agent: writer}\n  - {id: b, agent: writer}\n"
                     "  - {id: c, agent: writer}\n");
    h_rule(&w, (h_rule_t){.task = "a", .fail_first = 2});
    h_start(&w);
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    assert_int_equal(w.prov.max_in_flight, 1);
    assert_int_equal(h_task(&w, "a")->attempt, 3);
    h_world_free(&w);
}

/* The budget is checked before every call, loop iterations included. */
static void budget_checked_every_attempt(void **state) {
    (void)state;
    h_world_t w;
    /* each call may cost up to 100 tokens * $100/M = $0.01 (+ prompt); each answer costs $0.01 */
    h_world_init(&w, "name: bl\n" AGENTS "budget: {max_cost_usd: 0.035, on_exceed: fail}\n"
                     "tasks:\n  - id: a\n    agent: writer\n"
                     "    loop: {until: '{{false}}', max_iterations: 10}\n");
    h_rule(&w, (h_rule_t){.task = "a", .cost = 0.01});
    h_start_with(&w, NULL, (llm_prices_t){.output_per_million = 100});
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_FAILED);
    assert_true(h_state(&w)->cost_usd <= 0.035);
    assert_true(w.prov.n_seen >= 2 && w.prov.n_seen < 10);
    assert_int_equal(h_events(&w, "budget.exceeded", "a"), 1);
    h_world_free(&w);
}

/* A consensus task honours its timeout: hung votes fail the attempt, and it is retried. */
static void consensus_timeout(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: ct\n" AGENTS
                     "tasks:\n  - id: vote\n    type: consensus\n    agents: [writer, judge]\n"
                     "    question: Go?\n    options: [go, stop]\n    timeout: 0.05\n"
                     "    max_retries: 1\n    retry_backoff: {initial: 0.001, jitter: false}\n"
                     "    on_no_consensus: continue\n");
    h_rule(&w, (h_rule_t){.task = "vote", .hang_first = 2}); /* both votes of attempt 1 hang */
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "vote", TS_COMPLETED);
    assert_int_equal(h_task(&w, "vote")->attempt, 2);
    assert_int_equal(w.prov.cancelled, 2);
    h_world_free(&w);
}

/* Two writes of one artifact name: two files, each matching its recorded hash. */
static void artifact_versions_keep_their_files(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: av\n" AGENTS "tasks:\n  - {id: a, agent: writer, artifact: report.md}\n"
                     "  - {id: b, agent: writer, depends_on: [a], artifact: report.md}\n");
    h_start(&w);
    h_run(&w);
    json_t *rows = store_artifacts(w.store, engine_run_id(w.run));
    assert_int_equal(json_array_size(rows), 2);
    const char *p1 = json_string_value(json_object_get(json_array_get(rows, 0), "path"));
    const char *p2 = json_string_value(json_object_get(json_array_get(rows, 1), "path"));
    assert_string_not_equal(p1, p2);
    assert_non_null(strstr(p2, "report.v2.md"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 1), "version")), 2);
    assert_int_equal(access(p1, R_OK), 0);
    assert_int_equal(access(p2, R_OK), 0);
    json_decref(rows);
    h_world_free(&w);
}

/* A decision's deadline with on_timeout: approve takes the first option. */
static void decision_timeout_takes_first_option(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: dt\n" AGENTS
                     "tasks:\n  - id: d\n    type: human\n    kind: decision\n    title: Pick\n"
                     "    options: [ship, hold]\n    timeout: 0.05\n    on_timeout: approve\n");
    h_start(&w);
    /* A human deadline does not keep a loop alive on its own (a terminal session must be able
     * to stop and prompt); in a server other handles do. Stand in for them with a timer. */
    uv_timer_t keepalive;
    uv_timer_init(&w.loop, &keepalive);
    uv_timer_start(&keepalive, (uv_timer_cb)uv_timer_stop, 1000, 0);
    for (int k = 0; k < 500 && h_task(&w, "d")->status != TS_COMPLETED; k++)
        uv_run(&w.loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&keepalive, NULL);
    h_run(&w);
    h_assert_task(&w, "d", TS_COMPLETED);
    assert_string_equal(json_string_value(json_object_get(h_task(&w, "d")->outputs, "decision")),
                        "ship");
    assert_string_equal(json_string_value(json_object_get(h_task(&w, "d")->outputs, "answered_by")),
                        "timeout");
    h_world_free(&w);
}

/* variables.NAME reads a declared input even when no variable of that name exists. */
static void inputs_are_variables(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: iv\n" AGENTS "inputs: {topic: {type: string, required: true}}\n"
                     "variables: {tone: calm}\n"
                     "tasks:\n  - {id: a, agent: writer, inputs: {t: '{{variables.topic}}', tone: "
                     "'{{variables.tone}}'}}\n");
    json_t *in = json_pack("{s:s}", "topic", "tides");
    h_start_with(&w, in, (llm_prices_t){0});
    json_decref(in);
    h_run(&w);
    assert_non_null(strstr(w.prov.seen[0].prompt, "## t\ntides"));
    assert_non_null(strstr(w.prov.seen[0].prompt, "## tone\ncalm"));
    h_world_free(&w);
}

/* An edited JSON output must parse and match the schema; a bad one changes nothing. */
static void edited_json_output_is_checked(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: ej\n" AGENTS
                     "tasks:\n  - {id: j, agent: judge, requires_approval: true}\n");
    h_start(&w);
    h_run(&w);
    char *err = NULL;
    json_t *bad = json_pack("{s:s, s:s}", "decision", "modify", "edited_output", "{\"score\": 99}");
    assert_int_equal(engine_respond(w.run, "j", bad, &err), ENGINE_E_SCHEMA);
    assert_non_null(strstr(err, "schema"));
    free(err);
    json_decref(bad);
    h_assert_task(&w, "j", TS_WAITING_HUMAN);
    h_respond(&w, "j",
              json_pack("{s:s, s:s}", "decision", "modify", "edited_output", "{\"score\": 9}"));
    h_run(&w);
    h_assert_task(&w, "j", TS_COMPLETED);
    assert_int_equal(json_integer_value(json_object_get(h_task(&w, "j")->outputs, "score")), 9);
    h_world_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loop_with_approval),
        cmocka_unit_test(run_status_projection),
        cmocka_unit_test(approvals_close_with_their_task),
        cmocka_unit_test(retries_respect_concurrency),
        cmocka_unit_test(budget_checked_every_attempt),
        cmocka_unit_test(consensus_timeout),
        cmocka_unit_test(artifact_versions_keep_their_files),
        cmocka_unit_test(decision_timeout_takes_first_option),
        cmocka_unit_test(inputs_are_variables),
        cmocka_unit_test(edited_json_output_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
