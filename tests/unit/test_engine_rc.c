/* test_engine_rc.c - the reason codes of the calls that change a run (engine_respond,
 * engine_pause, engine_unpause, engine_cancel, engine_message, engine_retry): each refusal has
 * its own code, a message for people, and journals nothing; engine_rc_bad_request sorts the
 * request's own mistakes from the run's state (what an API turns into 400 and 409). */
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
    "      schema: {type: object, required: [score], properties: {score: {type: number, "          \
    "maximum: 10}}}\n"

/* Makes a call that must be refused (its err argument: &why) and checks what every refusal
 * promises: the code, a message naming the problem, and nothing journaled (the run's seq
 * unchanged). */
#define EXPECT_REFUSED(w, call, code, words)                                                       \
    do {                                                                                           \
        uint64_t seq_before = h_state(w)->seq;                                                     \
        char *why = NULL;                                                                          \
        engine_rc_t rc = (call);                                                                   \
        if (rc != (code))                                                                          \
            fprintf(stderr, "%s: got %s (%s)\n", #call, engine_rc_name(rc), why ? why : "-");      \
        assert_int_equal(rc, (code));                                                              \
        assert_non_null(why);                                                                      \
        if (!strstr(why, (words))) fprintf(stderr, "message: %s\n", why);                          \
        assert_non_null(strstr(why, (words)));                                                     \
        assert_int_equal(h_state(w)->seq, seq_before);                                             \
        free(why);                                                                                 \
    } while (0)

static void respond_codes(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: rc\n" AGENTS "tasks:\n"
                     "  - id: review\n    type: human\n    kind: decision\n    title: Ship?\n"
                     "    options: [ship, hold]\n"
                     "  - {id: after, agent: writer, depends_on: [review]}\n");
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "review", TS_WAITING_HUMAN);
    json_t *ship = json_pack("{s:s}", "decision", "ship");
    json_t *maybe = json_pack("{s:s}", "decision", "maybe");
    EXPECT_REFUSED(&w, engine_respond(w.run, "nope", ship, &why), ENGINE_E_NO_TASK,
                   "no task 'nope'");
    EXPECT_REFUSED(&w, engine_respond(w.run, "after", ship, &why), ENGINE_E_NOT_WAITING,
                   "not waiting for a human (it is pending)");
    EXPECT_REFUSED(&w, engine_respond(w.run, "review", maybe, &why), ENGINE_E_BAD_DECISION,
                   "decision 'maybe' is not one of [\"ship\",\"hold\"]");
    h_assert_task(&w, "review", TS_WAITING_HUMAN);
    char *err = NULL;
    assert_int_equal(engine_respond(w.run, "review", ship, &err), ENGINE_OK);
    assert_null(err);
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    /* answered and acted on: the step is done, a second answer is a conflict */
    EXPECT_REFUSED(&w, engine_respond(w.run, "review", ship, &why), ENGINE_E_NOT_WAITING,
                   "it is completed");
    json_decref(ship);
    json_decref(maybe);
    h_world_free(&w);
}

/* An answer recorded but not yet acted on (modify with feedback: the re-run waits for the next
 * pump): a second answer in the meantime is ENGINE_E_ANSWERED, not a bad answer. */
static void respond_answered_already(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: rc\n" AGENTS
                     "tasks:\n  - {id: a, agent: writer, requires_approval: true}\n");
    h_start(&w);
    h_run(&w);
    h_assert_task(&w, "a", TS_WAITING_HUMAN);
    json_t *modify = json_pack("{s:s, s:s}", "decision", "modify", "feedback", "shorter");
    char *err = NULL;
    assert_int_equal(engine_respond(w.run, "a", modify, &err), ENGINE_OK);
    h_assert_task(&w, "a", TS_WAITING_HUMAN);
    assert_non_null(h_task(&w, "a")->answer);
    EXPECT_REFUSED(&w, engine_respond(w.run, "a", modify, &why), ENGINE_E_ANSWERED,
                   "answered already");
    assert_false(engine_rc_bad_request(ENGINE_E_ANSWERED));
    json_decref(modify);
    h_run(&w);
    h_assert_task(&w, "a", TS_WAITING_HUMAN); /* asked again after the re-run */
    assert_int_equal(h_events(&w, "approval.responded", "a"), 1);
    h_world_free(&w);
}

static void respond_schema(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: rc\n" AGENTS
                     "tasks:\n  - {id: j, agent: judge, requires_approval: true}\n");
    h_start(&w);
    h_run(&w);
    json_t *bad = json_pack("{s:s, s:s}", "decision", "modify", "edited_output", "{\"score\": 99}");
    json_t *notjson = json_pack("{s:s, s:s}", "decision", "modify", "edited_output", "{score");
    EXPECT_REFUSED(&w, engine_respond(w.run, "j", bad, &why), ENGINE_E_SCHEMA, "schema");
    EXPECT_REFUSED(&w, engine_respond(w.run, "j", notjson, &why), ENGINE_E_SCHEMA, "must be JSON");
    h_assert_task(&w, "j", TS_WAITING_HUMAN);
    json_decref(bad);
    json_decref(notjson);
    h_world_free(&w);
}

static void pause_unpause_cancel_codes(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: rc\n" AGENTS
                     "tasks:\n  - {id: a, agent: writer}\n  - {id: b, agent: writer, depends_on: "
                     "[a]}\n");
    h_start(&w);
    EXPECT_REFUSED(&w, engine_unpause(w.run, &why), ENGINE_E_NOT_PAUSED, "is running, not paused");
    char *err = NULL;
    assert_int_equal(engine_pause(w.run, "lunch", &err), ENGINE_OK);
    EXPECT_REFUSED(&w, engine_pause(w.run, "again", &why), ENGINE_E_NOT_RUNNING,
                   "is paused, not running");
    assert_int_equal(engine_unpause(w.run, &err), ENGINE_OK);
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    EXPECT_REFUSED(&w, engine_cancel(w.run, "late", &why), ENGINE_E_FINISHED,
                   "is already completed");
    /* err may be NULL: the code alone says it */
    assert_int_equal(engine_cancel(w.run, "late", NULL), ENGINE_E_FINISHED);
    EXPECT_REFUSED(&w, engine_pause(w.run, "late", &why), ENGINE_E_NOT_RUNNING, "not running");
    EXPECT_REFUSED(&w, engine_retry(w.run, &why), ENGINE_E_NOT_RETRYABLE,
                   "only a failed or cancelled run can be retried");
    h_world_free(&w);
}

static void message_codes(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: rc\n" AGENTS
                     "tasks:\n  - {id: a, agent: writer, requires_approval: true}\n");
    h_start(&w);
    h_run(&w);
    json_t *ids = NULL;
    EXPECT_REFUSED(&w, engine_message(w.run, "nope", NULL, "hi", "me", &ids, &why),
                   ENGINE_E_NO_TASK, "no task 'nope'");
    assert_null(ids);
    EXPECT_REFUSED(&w, engine_message(w.run, NULL, "judge", "hi", "me", &ids, &why),
                   ENGINE_E_NO_RECIPIENT, "no unfinished task of agent 'judge'");
    assert_null(ids);
    char *err = NULL;
    assert_int_equal(engine_message(w.run, NULL, "writer", "hi", "me", &ids, &err), ENGINE_OK);
    assert_int_equal(json_array_size(ids), 1);
    json_decref(ids);
    assert_int_equal(engine_cancel(w.run, "done", &err), ENGINE_OK);
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_CANCELLED);
    EXPECT_REFUSED(&w, engine_message(w.run, NULL, NULL, "hi", "me", &ids, &why), ENGINE_E_FINISHED,
                   "no next call to guide");
    assert_null(ids);
    /* a cancelled run can be retried */
    assert_int_equal(engine_retry(w.run, &err), ENGINE_OK);
    h_world_free(&w);
}

/* A retry whose backoff ends while the run is paused waits in the run's due list; cancelled,
 * then retried, the task must start once, through the ready queue, not also from that stale
 * entry (the engine asserts due attempts are never a first start). */
static void retry_after_cancel_drops_stale_due_attempt(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w, "name: rc\n" AGENTS
                     "defaults: {max_retries: 2, retry_backoff: {initial: 0.001, factor: 2, max: "
                     "0.01, jitter: false}}\n"
                     "tasks:\n  - {id: a, agent: writer}\n");
    h_rule(&w, (h_rule_t){.task = "a", .fail_first = 1});
    h_start(&w);
    while (h_task(&w, "a")->status != TS_RETRYING) uv_run(&w.loop, UV_RUN_ONCE);
    char *err = NULL;
    assert_int_equal(engine_pause(w.run, "hold on", &err), ENGINE_OK);
    h_run(&w); /* the backoff ends: the attempt is due, and waits for the pause to end */
    h_assert_task(&w, "a", TS_RETRYING);
    assert_int_equal(engine_cancel(w.run, "changed my mind", &err), ENGINE_OK);
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_CANCELLED);
    assert_int_equal(engine_retry(w.run, &err), ENGINE_OK);
    h_run(&w);
    assert_int_equal(h_state(&w)->status, RS_COMPLETED);
    /* attempt 1 failed; the retried run's attempt 2 is the only other start */
    assert_int_equal(h_events(&w, "task.started", "a"), 2);
    assert_int_equal(h_task(&w, "a")->attempt, 2);
    h_world_free(&w);
}

/* The split an API turns into 400 (the request is wrong whatever the state) and 409. */
static void bad_request_split(void **state) {
    (void)state;
    const engine_rc_t bad[] = {ENGINE_E_NO_TASK, ENGINE_E_BAD_DECISION, ENGINE_E_SCHEMA};
    const engine_rc_t conflict[] = {ENGINE_E_NOT_WAITING,      ENGINE_E_ANSWERED,
                                    ENGINE_E_NOT_RUNNING,      ENGINE_E_NOT_PAUSED,
                                    ENGINE_E_FINISHED,         ENGINE_E_NOT_RETRYABLE,
                                    ENGINE_E_NOTHING_TO_RETRY, ENGINE_E_NO_RECIPIENT};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_true(engine_rc_bad_request(bad[i]));
    for (size_t i = 0; i < sizeof conflict / sizeof *conflict; i++)
        assert_false(engine_rc_bad_request(conflict[i]));
    assert_false(engine_rc_bad_request(ENGINE_OK));
    assert_string_equal(engine_rc_name(ENGINE_E_ANSWERED), "ENGINE_E_ANSWERED");
    assert_string_equal(engine_rc_name(ENGINE_OK), "ENGINE_OK");
    assert_string_equal(engine_rc_name((engine_rc_t)999), "ENGINE_E_?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(respond_codes),
        cmocka_unit_test(respond_answered_already),
        cmocka_unit_test(respond_schema),
        cmocka_unit_test(pause_unpause_cancel_codes),
        cmocka_unit_test(message_codes),
        cmocka_unit_test(retry_after_cancel_drops_stale_due_attempt),
        cmocka_unit_test(bad_request_split), /* one a line */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
