/* test_engine.c - the rules of spec section 2, each checked through the real engine, journal
 * and reducer, with the scripted provider at the network edge. Each test would fail if its rule
 * were broken. */
#include "harness.h"

#define AGENTS                                                                                     \
    "agents:\n"                                                                                    \
    "  writer: {name: Writer, role: Writer, goal: Write, instructions: Write., output: {format: "  \
    "markdown}}\n"                                                                                 \
    "  judge:\n"                                                                                   \
    "    name: Judge\n"                                                                            \
    "    instructions: Judge.\n"                                                                   \
    "    output:\n"                                                                                \
    "      format: json\n"                                                                         \
    "      schema: {type: object, required: [score, passed], properties: {score: {type: number, "  \
    "minimum: 0, maximum: 10}, passed: {type: boolean}}}\n"

#define FAST_RETRY                                                                                 \
    "defaults: {max_retries: 2, retry_backoff: {initial: 0.001, factor: 2, max: 0.01, jitter: "    \
    "false}}\n"

static void chain_completes_in_order(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(
        &w, "name: chain\n" AGENTS "tasks:\n"
            "  - {id: a, agent: writer}\n"
            "  - {id: b, agent: writer, depends_on: [a], inputs: {prev: '{{tasks.a.output}}'}}\n"
            "  - {id: c, agent: writer, depends_on: [b]}\n");
    h_start(&w);
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    h_assert_task(&w, "c", TS_COMPLETED);
    /* b saw a's output as an input: the template resolved against the journaled result. */
    assert_non_null(strstr(w.prov.seen[1].prompt, h_task(&w, "a")->output));
    assert_string_equal(w.prov.seen[0].task, "a");
    assert_string_equal(w.prov.seen[2].task, "c");
    assert_int_equal(h_events(&w, "task.completed", NULL), 3);
    h_world_free(&w);
}

/* "A task becomes ready when every dependency is completed or skipped." */
static void ready_after_skipped_dependency(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: skip\n" AGENTS "tasks:\n"
                     "  - {id: a, agent: writer}\n"
                     "  - id: b\n    agent: writer\n    depends_on: [a]\n"
                     "    conditions: [{if: '{{1 > 2}}', then: execute}]\n"
                     "  - {id: c, agent: writer, depends_on: [b]}\n");
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "b", TS_SKIPPED);
    h_assert_task(&w, "c", TS_COMPLETED);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    h_world_free(&w);
}

/* Conditions in order; the first true one applies; else the last one's `else`; fail fails. */
static void conditions_first_true_wins(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w,
                 "name: cond\n" AGENTS "tasks:\n"
                 "  - {id: judge, agent: judge}\n"
                 "  - id: first\n    agent: writer\n    depends_on: [judge]\n"
                 "    conditions:\n"
                 "      - {if: '{{tasks.judge.outputs.score >= 0}}', then: skip}\n"
                 "      - {if: '{{true}}', then: execute}\n"
                 "  - id: fallback_else\n    agent: writer\n    depends_on: [judge]\n"
                 "    conditions:\n"
                 "      - {if: '{{false}}', then: skip}\n"
                 "      - {if: '{{null}}', then: skip, else: execute}\n"
                 "  - id: default_else\n    agent: writer\n    depends_on: [judge]\n"
                 "    conditions: [{if: '{{tasks.judge.outputs.missing > 3}}', then: execute}]\n"
                 "  - id: failing\n    agent: writer\n    depends_on: [judge]\n"
                 "    on_failure: continue\n"
                 "    conditions: [{if: '{{true}}', then: fail}]\n");
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "first", TS_SKIPPED);
    h_assert_task(&w, "fallback_else", TS_COMPLETED);
    h_assert_task(&w, "default_else", TS_SKIPPED); /* null > 3 is false; default else is skip */
    h_assert_task(&w, "failing", TS_FAILED);
    assert_non_null(strstr(h_task(&w, "failing")->error, "{{true}}"));
    assert_int_equal(h_state(&w)->status, RS_COMPLETED); /* the failure was `continue` */
    h_world_free(&w);
}

/* A type error in a condition fails the task with the expression and both types. */
static void condition_type_error_fails_task(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: typeerr\n" AGENTS "tasks:\n"
                     "  - {id: a, agent: writer}\n"
                     "  - id: b\n    agent: writer\n    depends_on: [a]\n"
                     "    conditions: [{if: \"{{'abc' < 8}}\", then: execute}]\n");
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "b", TS_FAILED);
    assert_non_null(strstr(h_task(&w, "b")->error, "string"));
    assert_non_null(strstr(h_task(&w, "b")->error, "number"));
    assert_int_equal(h_state(&w)->status, RS_FAILED);
    h_world_free(&w);
}

/* A failed dependency skips its dependents (upstream_failed), transitively; independent
 * branches go on; the run ends failed. */
static void failure_skips_dependents(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: fail\n" AGENTS FAST_RETRY "tasks:\n"
                     "  - {id: a, agent: writer}\n"
                     "  - {id: b, agent: writer, depends_on: [a]}\n"
                     "  - {id: c, agent: writer, depends_on: [b]}\n"
                     "  - {id: other, agent: writer}\n");
    h_rule(&w, (h_rule_t){.task = "a", .fail_first = 100});
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "a", TS_FAILED);
    h_assert_task(&w, "b", TS_SKIPPED);
    h_assert_task(&w, "c", TS_SKIPPED);
    assert_string_equal(h_task(&w, "c")->error, "upstream_failed");
    h_assert_task(&w, "other", TS_COMPLETED);
    assert_int_equal(h_state(&w)->status, RS_FAILED);
    assert_int_equal(h_task(&w, "a")->attempt, 3); /* 1 + max_retries 2 */
    h_world_free(&w);
}

/* on_failure: continue counts as finished with null outputs. */
static void on_failure_continue(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: cont\n" AGENTS "defaults: {max_retries: 0}\n"
                     "tasks:\n"
                     "  - {id: a, agent: writer, on_failure: continue}\n"
                     "  - id: b\n    agent: writer\n    depends_on: [a]\n"
                     "    conditions: [{if: '{{tasks.a.outputs == null}}', then: execute}]\n");
    h_rule(&w, (h_rule_t){.task = "a", .fail_first = 1});
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "a", TS_FAILED);
    h_assert_task(&w, "b", TS_COMPLETED);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    h_world_free(&w);
}

/* Retries: a flaky task succeeds on attempt 3; the journal has two retry failures. */
static void retries_until_success(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: retry\n" AGENTS FAST_RETRY "tasks:\n  - {id: a, agent: writer}\n");
    h_rule(&w, (h_rule_t){.task = "a", .fail_first = 2});
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "a", TS_COMPLETED);
    assert_int_equal(h_task(&w, "a")->attempt, 3);
    assert_int_equal(h_events(&w, "task.failed", "a"), 2);
    assert_int_equal(h_events(&w, "task.started", "a"), 3);
    h_world_free(&w);
}

/* Timeouts count as failures and are retried; the hung call is cancelled. */
static void timeout_is_retried(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: timeout\n" AGENTS FAST_RETRY
                     "tasks:\n  - {id: a, agent: writer, timeout: 0.05}\n");
    h_rule(&w, (h_rule_t){.task = "a", .hang_first = 1});
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "a", TS_COMPLETED);
    assert_int_equal(h_task(&w, "a")->attempt, 2);
    assert_int_equal(w.prov.cancelled, 1);
    h_world_free(&w);
}

/* The concurrency limit holds: never more calls in flight than `concurrency`. */
static void concurrency_limit(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: conc\n" AGENTS "concurrency: 3\n"
                     "tasks:\n"
                     "  - {id: t1, agent: writer}\n  - {id: t2, agent: writer}\n"
                     "  - {id: t3, agent: writer}\n  - {id: t4, agent: writer}\n"
                     "  - {id: t5, agent: writer}\n  - {id: t6, agent: writer}\n"
                     "  - {id: t7, agent: writer}\n");
    h_start(&w);
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    assert_int_equal(w.prov.max_in_flight, 3);
    h_world_free(&w);
}

#define APPROVAL_WF                                                                                \
    "name: approve\n" AGENTS "tasks:\n  - {id: a, agent: writer, requires_approval: true}\n  - "   \
    "{id: b, agent: writer, depends_on: [a]}\n"

static void approval_approve(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, APPROVAL_WF);
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "a", TS_WAITING_HUMAN);
    h_assert_task(&w, "b", TS_PENDING);
    assert_int_equal(state_run_status(h_state(&w)), RS_WAITING_HUMAN);
    h_respond(&w, "a", json_pack("{s:s}", "decision", "approve"));
    h_run(&w);
    h_assert_task(&w, "a", TS_COMPLETED);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    /* answering twice is a conflict */
    char *err = NULL;
    json_t *again = json_pack("{s:s}", "decision", "approve");
    assert_int_equal(engine_respond(w.run, "a", again, &err), ENGINE_E_NOT_WAITING);
    free(err);
    json_decref(again);
    h_world_free(&w);
}

static void approval_reject_fails(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, APPROVAL_WF);
    h_start(&w);
    h_run(&w);
    h_respond(&w, "a", json_pack("{s:s, s:s}", "decision", "reject", "feedback", "too vague"));
    h_run(&w);
    h_assert_task(&w, "a", TS_FAILED);
    assert_non_null(strstr(h_task(&w, "a")->error, "rejected"));
    h_assert_task(&w, "b", TS_SKIPPED);
    assert_int_equal(h_state(&w)->status, RS_FAILED);
    h_world_free(&w);
}

/* modify with feedback: the agent runs again with it, the attempt counter does not grow. */
static void approval_modify_feedback(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, APPROVAL_WF);
    h_start(&w);
    h_run(&w);
    h_respond(&w, "a",
              json_pack("{s:s, s:s}", "decision", "modify", "feedback", "add a risks section"));
    h_run(&w);
    h_assert_task(&w, "a", TS_WAITING_HUMAN);
    assert_int_equal(h_task(&w, "a")->attempt, 1);
    assert_int_equal(w.prov.seen[1].attempt, 1);
    assert_non_null(strstr(w.prov.seen[1].feedback, "add a risks section"));
    h_respond(&w, "a", json_pack("{s:s}", "decision", "approve"));
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    h_world_free(&w);
}

/* modify with an edited output: taken as is. */
static void approval_modify_edited(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, APPROVAL_WF);
    h_start(&w);
    h_run(&w);
    h_respond(&w, "a", json_pack("{s:s, s:s}", "decision", "modify", "edited_output", "# Mine\n"));
    h_run(&w);
    h_assert_task(&w, "a", TS_COMPLETED);
    assert_string_equal(h_task(&w, "a")->output, "# Mine\n");
    assert_int_equal(w.prov.n_seen, 2); /* a once, b once: no re-run of a */
    h_world_free(&w);
}

/* loop: re-runs while `until` is false, up to max_iterations, with iteration and previous. */
static void loop_until(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: loop\n" AGENTS "tasks:\n"
                     "  - id: a\n    agent: writer\n    inputs: {round: '{{iteration}}'}\n"
                     "    loop: {until: '{{iteration >= 3}}', max_iterations: 5}\n"
                     "  - id: capped\n    agent: writer\n"
                     "    loop: {until: '{{false}}', max_iterations: 2}\n");
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "a", TS_COMPLETED);
    assert_int_equal(h_task(&w, "a")->iteration, 3);
    assert_int_equal(h_events(&w, "task.iterated", "a"), 2);
    assert_int_equal(h_events(&w, "task.started", "a"), 3);
    assert_int_equal(h_task(&w, "capped")->iteration, 2);
    /* the third call of a saw round 3 and its previous output */
    int third = -1;
    for (int i = 0, n = 0; i < w.prov.n_seen; i++)
        if (!strcmp(w.prov.seen[i].task, "a") && ++n == 3) third = i;
    assert_true(third >= 0);
    assert_int_equal(w.prov.seen[third].iteration, 3);
    assert_non_null(strstr(w.prov.seen[third].prompt, "## round\n3"));
    assert_non_null(strstr(w.prov.seen[third].prompt, "previous iteration"));
    h_world_free(&w);
}

/* Budget `fail`: the call that would exceed the budget is never made. */
static void budget_fail_stops_before_call(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(
        &w, "name: budget\n" AGENTS "budget: {max_cost_usd: 0.005, on_exceed: fail}\n"
            "tasks:\n  - {id: a, agent: writer}\n  - {id: b, agent: writer, depends_on: [a]}\n");
    /* $1000 per million output tokens: writer's max_tokens (1500) alone is $1.5 */
    h_start_with(&w, NULL, (llm_prices_t){.output_per_million = 1000});
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_FAILED);
    assert_int_equal(w.prov.n_seen, 0);
    assert_int_equal(h_events(&w, "budget.exceeded", NULL), 1);
    h_assert_task(&w, "a", TS_CANCELLED);
    h_world_free(&w);
}

/* Cancel: in-flight calls aborted, unfinished tasks cancelled, run cancelled. */
static void cancel_aborts_everything(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(
        &w, "name: cancel\n" AGENTS
            "tasks:\n  - {id: a, agent: writer}\n  - {id: b, agent: writer, depends_on: [a]}\n");
    h_rule(&w, (h_rule_t){.task = "a", .hang_first = 1});
    h_start(&w);
    /* until the call is out: its task.started must be durable first (writer thread) */
    while (w.prov.n_seen < 1) uv_run(&w.loop, UV_RUN_ONCE);
    h_assert_task(&w, "a", TS_RUNNING);
    engine_cancel(w.run, "test", NULL);
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_CANCELLED);
    h_assert_task(&w, "a", TS_CANCELLED);
    h_assert_task(&w, "b", TS_CANCELLED);
    assert_int_equal(w.prov.cancelled, 1);
    h_world_free(&w);
}

/* Pause stops new tasks from starting; the running one finishes; resume carries on. */
static void pause_and_resume(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(
        &w, "name: pause\n" AGENTS
            "tasks:\n  - {id: a, agent: writer}\n  - {id: b, agent: writer, depends_on: [a]}\n");
    h_start(&w);
    uv_run(&w.loop, UV_RUN_NOWAIT); /* a dispatched */
    char *err = NULL;
    assert_int_equal(engine_pause(w.run, "lunch", &err), 0);
    h_run(&w);
    h_assert_task(&w, "a", TS_COMPLETED);
    h_assert_task(&w, "b", TS_READY);
    assert_int_equal(h_state(&w)->status, RS_PAUSED);
    assert_int_equal(engine_unpause(w.run, &err), 0);
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    h_world_free(&w);
}

/* A human task outputs {decision, feedback, answered_by, answered_at}. */
static void human_task_outputs(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(
        &w,
        "name: human\n" AGENTS "tasks:\n"
        "  - id: review\n    type: human\n    kind: decision\n    title: Ship it?\n"
        "    options: [ship, hold]\n"
        "  - id: after\n    agent: writer\n    depends_on: [review]\n"
        "    conditions: [{if: \"{{tasks.review.outputs.decision == 'hold'}}\", then: execute}]\n");
    h_start(&w);
    h_run(&w);
    assert_int_equal(state_run_status(h_state(&w)), RS_WAITING_HUMAN);
    char *err = NULL;
    json_t *bad = json_pack("{s:s}", "decision", "maybe");
    assert_int_equal(engine_respond(w.run, "review", bad, &err), ENGINE_E_BAD_DECISION);
    assert_non_null(strstr(err, "not one of"));
    free(err);
    json_decref(bad);
    h_respond(
        &w, "review",
        json_pack("{s:s, s:s, s:s}", "decision", "hold", "feedback", "wait", "answered_by", "ana"));
    h_run(&w);
    const task_state_t *t = h_task(&w, "review");
    assert_string_equal(json_string_value(json_object_get(t->outputs, "decision")), "hold");
    assert_string_equal(json_string_value(json_object_get(t->outputs, "answered_by")), "ana");
    assert_non_null(json_object_get(t->outputs, "answered_at"));
    h_assert_task(&w, "after", TS_COMPLETED);
    h_world_free(&w);
}

/* JSON outputs that do not match the schema go back to the model (at most twice). */
static void json_repair_then_fail(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: repair\n" AGENTS "defaults: {max_retries: 0}\n"
                     "tasks:\n  - {id: j, agent: judge}\n");
    h_rule(&w, (h_rule_t){.task = "j", .text = "{\"score\": 42, \"passed\": true}"});
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "j", TS_FAILED);
    assert_int_equal(w.prov.n_seen, 3); /* the call and two repairs */
    assert_non_null(strstr(w.prov.seen[1].feedback, "maximum"));
    assert_int_equal(h_events(&w, "task.output_rejected", "j"), 2);
    h_world_free(&w);
}

/* Cost is journaled and summed into the run. */
static void cost_accounting(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: cost\n" AGENTS
                     "tasks:\n  - {id: a, agent: writer}\n  - {id: b, agent: writer}\n");
    h_rule(&w, (h_rule_t){.task = "a", .cost = 0.25});
    h_rule(&w, (h_rule_t){.task = "b", .cost = 0.5});
    h_start(&w);
    h_run(&w);
    assert_true(h_state(&w)->cost_usd > 0.7499 && h_state(&w)->cost_usd < 0.7501);
    json_t *run = store_run(w.store, engine_run_id(w.run));
    assert_true(json_number_value(json_object_get(run, "cost_usd")) > 0.7499);
    json_decref(run);
    h_world_free(&w);
}

/* Consensus: three voters, weighted; outputs carry every vote. */
static void consensus_votes(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: vote\n" AGENTS "tasks:\n"
                     "  - id: vote\n    type: consensus\n    agents: [writer, judge, writer]\n"
                     "    question: Publish?\n    options: [publish, hold]\n    method: weighted\n"
                     "    on_no_consensus: continue\n");
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "vote", TS_COMPLETED);
    const json_t *o = h_task(&w, "vote")->outputs;
    assert_int_equal(json_array_size(json_object_get(o, "votes")), 3);
    assert_true(json_is_boolean(json_object_get(o, "consensus")));
    assert_int_equal(w.prov.n_seen, 3);
    h_world_free(&w);
}

/* Backoff: attempt n waits min(max, initial * factor^(n-1)); full jitter stays within it. */
typedef struct {
    json_int_t exact[8], jittered[8];
    int n_exact, n_jittered;
} delays_t;
static int collect_delays(void *ud, uint64_t seq, int64_t ts, const char *type, json_t *data) {
    delays_t *d = ud;
    (void)seq, (void)ts;
    json_t *in = json_object_get(data, "retry_in_ms");
    const char *task = json_string_value(json_object_get(data, "task"));
    if (strcmp(type, "task.failed") || !in) return 0;
    if (!strcmp(task, "a") && d->n_exact < 8) d->exact[d->n_exact++] = json_integer_value(in);
    if (!strcmp(task, "j") && d->n_jittered < 8)
        d->jittered[d->n_jittered++] = json_integer_value(in);
    return 0;
}

static void backoff_formula(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: backoff\n" AGENTS "defaults: {max_retries: 4, retry_backoff: {initial: "
                     "0.01, factor: 3, max: 0.1, jitter: false}}\n"
                     "tasks:\n  - {id: a, agent: writer}\n"
                     "  - id: j\n    agent: writer\n"
                     "    retry_backoff: {initial: 0.01, factor: 3, max: 0.1, jitter: true}\n");
    h_rule(&w, (h_rule_t){.task = "a", .fail_first = 4});
    h_rule(&w, (h_rule_t){.task = "j", .fail_first = 4});
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "a", TS_COMPLETED);
    h_assert_task(&w, "j", TS_COMPLETED);
    delays_t d = {0};
    assert_int_equal(store_events(w.store, engine_run_id(w.run), 0, collect_delays, &d), 0);
    const json_int_t want[] = {10, 30, 90, 100}; /* 10 * 3^(n-1) ms, capped at 100 */
    assert_int_equal(d.n_exact, 4);
    assert_int_equal(d.n_jittered, 4);
    json_int_t sum_want = 0, sum_jittered = 0;
    for (int k = 0; k < 4; k++) {
        assert_int_equal(d.exact[k], want[k]);
        assert_true(d.jittered[k] >= 0 && d.jittered[k] <= want[k]);
        sum_want += want[k];
        sum_jittered += d.jittered[k];
    }
    assert_true(sum_jittered < sum_want); /* uniform in [0, delay]: not all at the cap */
    h_world_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_completes_in_order),
        cmocka_unit_test(ready_after_skipped_dependency),
        cmocka_unit_test(conditions_first_true_wins),
        cmocka_unit_test(condition_type_error_fails_task),
        cmocka_unit_test(failure_skips_dependents),
        cmocka_unit_test(on_failure_continue),
        cmocka_unit_test(retries_until_success),
        cmocka_unit_test(backoff_formula),
        cmocka_unit_test(timeout_is_retried),
        cmocka_unit_test(concurrency_limit),
        cmocka_unit_test(approval_approve),
        cmocka_unit_test(approval_reject_fails),
        cmocka_unit_test(approval_modify_feedback),
        cmocka_unit_test(approval_modify_edited),
        cmocka_unit_test(loop_until),
        cmocka_unit_test(budget_fail_stops_before_call),
        cmocka_unit_test(cancel_aborts_everything),
        cmocka_unit_test(pause_and_resume),
        cmocka_unit_test(human_task_outputs),
        cmocka_unit_test(json_repair_then_fail),
        cmocka_unit_test(cost_accounting),
        cmocka_unit_test(consensus_votes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
