/* test_state.c - the pure reducer: statuses, readiness, propagation, refusals, and that
 * replaying a journal rebuilds exactly the state the engine had. */
#include "harness.h"

#define WF                                                                                         \
    "name: s\nagents:\n  w: {instructions: Write.}\ntasks:\n"                                      \
    "  - {id: a, agent: w}\n"                                                                      \
    "  - {id: b, agent: w, depends_on: [a]}\n"                                                     \
    "  - {id: c, agent: w, depends_on: [a, b]}\n"                                                  \
    "  - {id: d, agent: w, depends_on: [c], on_failure: continue}\n"                               \
    "  - {id: e, agent: w, depends_on: [d]}\n"

static uint64_t seq;

static void apply(run_state_t *s, const char *type, json_t *data) {
    char err[256];
    seq++;
    int rc = state_apply(s, seq, 1000 + (int64_t)seq, type, data, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    json_decref(data);
}

static int refuse(run_state_t *s, const char *type, json_t *data) {
    char err[256];
    int rc = state_apply(s, s->seq + 1, 0, type, data, err, sizeof err);
    json_decref(data);
    return rc;
}

#define T(id) json_pack("{s:s}", "task", id)

static void readiness_follows_dependencies(void **state) {
    (void)state;
    workflow_t *wf = h_load(WF);
    run_state_t s;
    state_init(&s, wf);
    seq = 0;
    apply(&s, "run.created", json_pack("{s:s, s:{}}", "run_id", "r-1", "inputs"));
    assert_int_equal(s.tasks[0].status, TS_PENDING);
    apply(&s, "run.started", json_object());
    assert_int_equal(s.tasks[0].status, TS_READY);
    assert_int_equal(state_next_ready(&s), 0);
    assert_int_equal(state_next_ready(&s), -1);
    apply(&s, "task.started", json_pack("{s:s, s:i}", "task", "a", "attempt", 1));
    assert_int_equal(s.n_running, 1);
    apply(&s, "task.completed",
          json_pack("{s:s, s:s, s:{s:s}}", "task", "a", "output", "A", "outputs", "text", "A"));
    assert_int_equal(s.tasks[1].status, TS_READY);   /* b: its one dependency is done */
    assert_int_equal(s.tasks[2].status, TS_PENDING); /* c still waits for b */
    apply(&s, "task.started", T("b"));
    apply(&s, "task.skipped", json_pack("{s:s, s:s}", "task", "b", "reason", "condition"));
    assert_int_equal(s.tasks[2].status, TS_READY); /* a skipped dependency satisfies */
    assert_int_equal(state_next_ready(&s), 2); /* b was queued but finished: only c is handed out */
    assert_int_equal(state_next_ready(&s), -1);
    state_free(&s);
    workflow_free(wf);
}

#define CALL(task, cand, status, sim)                                                              \
    json_pack("{s:s, s:s, s:s, s:b}", "task", task, "candidate", cand, "status", status,           \
              "simulated", sim)

/* A task is simulated once an answer of the offline model reached it (docs/models.md): an
 * llm.call with "simulated": true and status ok; calls of real models, and offline calls that
 * failed or were rejected, leave it alone. Journals from before the flag: the candidate says. */
static void offline_answers_mark_tasks_simulated(void **state) {
    (void)state;
    workflow_t *wf = h_load(WF);
    run_state_t s;
    state_init(&s, wf);
    seq = 0;
    apply(&s, "run.created", json_pack("{s:s}", "run_id", "r-1"));
    apply(&s, "run.started", json_object());
    apply(&s, "task.started", T("a"));
    apply(&s, "llm.call", CALL("a", "paid/gpt-test", "ok", false));
    apply(&s, "llm.call", CALL("a", "offline/offline-1", "error", true));
    apply(&s, "llm.call", CALL("a", "offline/offline-1", "rejected", true));
    assert_false(s.tasks[0].simulated);
    assert_false(s.simulated);
    apply(&s, "task.completed", T("a"));
    apply(&s, "task.started", T("b"));
    apply(&s, "llm.call", CALL("b", "offline/offline-1", "ok", true));
    assert_true(s.tasks[1].simulated);
    assert_true(s.simulated);
    assert_false(s.tasks[0].simulated);
    apply(&s, "task.completed", T("b"));
    apply(&s, "task.started", T("c"));
    /* an old journal: no flag on the event */
    apply(&s, "llm.call",
          json_pack("{s:s, s:s, s:s}", "task", "c", "candidate", "offline/offline-1", "status",
                    "ok"));
    assert_true(s.tasks[2].simulated);
    json_t *old_real = json_pack("{s:s, s:s}", "candidate", "paid/gpt-test", "status", "ok");
    assert_false(state_call_simulated(old_real));
    json_decref(old_real);
    state_free(&s);
    workflow_free(wf);
}

static void failure_dooms_dependents_unless_continue(void **state) {
    (void)state;
    workflow_t *wf = h_load(WF);
    run_state_t s;
    state_init(&s, wf);
    seq = 0;
    apply(&s, "run.created", json_pack("{s:s}", "run_id", "r-1"));
    apply(&s, "run.started", json_object());
    apply(&s, "task.started", T("a"));
    /* a retry is not a failure of the task */
    apply(&s, "task.failed",
          json_pack("{s:s, s:s, s:I}", "task", "a", "error", "503", "retry_at_ms", (json_int_t)5));
    assert_int_equal(s.tasks[0].status, TS_RETRYING);
    assert_int_equal(state_next_doomed(&s), -1);
    apply(&s, "task.started", json_pack("{s:s, s:i}", "task", "a", "attempt", 2));
    apply(&s, "task.failed", json_pack("{s:s, s:s}", "task", "a", "error", "503"));
    assert_int_equal(s.tasks[0].status, TS_FAILED);
    assert_int_equal(s.n_failed, 1);
    assert_int_equal(state_next_doomed(&s), 1); /* b */
    assert_int_equal(state_next_doomed(&s), 2); /* c (depends on a directly) */
    state_free(&s);

    /* d fails with on_failure: continue: e becomes ready and the failure does not count. */
    state_init(&s, wf);
    seq = 0;
    apply(&s, "run.created", json_pack("{s:s}", "run_id", "r-2"));
    apply(&s, "run.started", json_object());
    const char *done[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        apply(&s, "task.started", T(done[i]));
        apply(&s, "task.completed", T(done[i]));
    }
    apply(&s, "task.started", T("d"));
    apply(&s, "task.failed", json_pack("{s:s, s:s}", "task", "d", "error", "boom"));
    assert_int_equal(s.tasks[4].status, TS_READY);
    assert_int_equal(s.n_failed, 0);
    assert_null(s.tasks[3].outputs);
    state_free(&s);
    workflow_free(wf);
}

static void refuses_impossible_transitions(void **state) {
    (void)state;
    workflow_t *wf = h_load(WF);
    run_state_t s;
    state_init(&s, wf);
    seq = 0;
    apply(&s, "run.created", json_pack("{s:s}", "run_id", "r-1"));
    assert_int_equal(refuse(&s, "task.started", T("a")), -1); /* run not started: not ready */
    apply(&s, "run.started", json_object());
    assert_int_equal(refuse(&s, "task.started", T("b")), -1);       /* b is not ready */
    assert_int_equal(refuse(&s, "task.completed", T("nope")), -1);  /* unknown task */
    assert_int_equal(refuse(&s, "approval.responded", T("a")), -1); /* nobody asked */
    uint64_t before = s.seq;
    char err[128];
    assert_int_equal(state_apply(&s, before + 2, 0, "run.paused", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "gap"));
    apply(&s, "task.started", T("a"));
    apply(&s, "task.completed", T("a"));
    assert_int_equal(refuse(&s, "task.completed", T("a")), -1); /* finished is final */
    apply(&s, "run.cancelled", json_pack("{s:s}", "reason", "x"));
    assert_int_equal(refuse(&s, "run.completed", json_object()), -1);
    state_free(&s);
    workflow_free(wf);
}

static void waiting_human_is_derived(void **state) {
    (void)state;
    workflow_t *wf = h_load("name: h\nagents:\n  w: {instructions: x}\ntasks:\n"
                            "  - {id: a, type: human}\n  - {id: b, agent: w}\n");
    run_state_t s;
    state_init(&s, wf);
    seq = 0;
    apply(&s, "run.created", json_pack("{s:s}", "run_id", "r-1"));
    apply(&s, "run.started", json_object());
    (void)state_next_ready(&s);
    (void)state_next_ready(&s);
    apply(&s, "task.started", T("a"));
    apply(&s, "approval.requested", json_pack("{s:s, s:s}", "task", "a", "kind", "approval"));
    apply(&s, "task.started", T("b"));
    assert_int_equal(state_run_status(&s), RS_RUNNING); /* b still works */
    apply(&s, "task.completed", T("b"));
    assert_int_equal(state_run_status(&s), RS_WAITING_HUMAN);
    apply(&s, "approval.responded", json_pack("{s:s, s:s}", "task", "a", "decision", "approve"));
    assert_non_null(s.tasks[0].answer);
    apply(&s, "task.completed", T("a"));
    assert_true(state_all_finished(&s));
    state_free(&s);
    workflow_free(wf);
}

/* The journal is the truth: replaying it gives the engine's state, task by task. */
static int replay_cb(void *ud, uint64_t sq, int64_t ts, const char *type, json_t *data) {
    char err[256];
    int rc = state_apply(ud, sq, ts, type, data, err, sizeof err);
    if (rc) fprintf(stderr, "replay: %s\n", err);
    return rc;
}

static void replay_equals_live(void **state) {
    (void)state;
    h_world_t w;
    h_world_init(&w,
                 "name: replay\n"
                 "defaults: {max_retries: 2, retry_backoff: {initial: 0.001, jitter: false}}\n"
                 "agents:\n  w: {instructions: x}\n"
                 "tasks:\n  - {id: a, agent: w}\n  - {id: b, agent: w, depends_on: [a]}\n"
                 "  - id: c\n    agent: w\n    depends_on: [a]\n"
                 "    conditions: [{if: '{{false}}', then: execute}]\n"
                 "  - {id: d, agent: w, depends_on: [b, c], loop: {until: '{{iteration > 1}}'}}\n");
    h_rule(&w, (h_rule_t){.task = "b", .fail_first = 1, .cost = 0.01});
    h_start(&w);
    h_run(&w);
    const run_state_t *live = h_state(&w);
    assert_int_equal(live->status, RS_COMPLETED);
    run_state_t re;
    state_init(&re, w.wf);
    assert_int_equal(store_events(w.store, engine_run_id(w.run), 0, replay_cb, &re), 0);
    assert_int_equal(re.status, live->status);
    assert_int_equal(re.seq, live->seq);
    assert_true(re.cost_usd == live->cost_usd);
    for (size_t i = 0; i < w.wf->n_tasks; i++) {
        assert_int_equal(re.tasks[i].status, live->tasks[i].status);
        assert_int_equal(re.tasks[i].attempt, live->tasks[i].attempt);
        assert_int_equal(re.tasks[i].iteration, live->tasks[i].iteration);
        assert_true(json_equal(re.tasks[i].outputs, live->tasks[i].outputs) ||
                    (!re.tasks[i].outputs && !live->tasks[i].outputs));
    }
    state_free(&re);
    h_world_free(&w);
}

/* run.retried: a failed run's failed and blocked tasks go back to pending (attempts kept), the
 * run runs again, readiness follows dependencies as before; completed tasks stay. */
static void retried_resets_failed_and_blocked(void **state) {
    (void)state;
    workflow_t *wf = h_load(WF);
    run_state_t s;
    state_init(&s, wf);
    seq = 0;
    apply(&s, "run.created", json_pack("{s:s}", "run_id", "r-1"));
    apply(&s, "run.started", json_object());
    assert_int_equal(refuse(&s, "run.retried", json_pack("{s:[s]}", "tasks", "b")),
                     -1); /* running */
    apply(&s, "task.started", T("a"));
    apply(&s, "task.completed", json_pack("{s:s, s:s}", "task", "a", "output", "A"));
    assert_int_equal(state_next_ready(&s), 1);
    apply(&s, "task.started", T("b"));
    apply(&s, "task.failed", json_pack("{s:s, s:s}", "task", "b", "error", "503"));
    apply(&s, "task.skipped", json_pack("{s:s, s:s}", "task", "c", "reason", "upstream_failed"));
    apply(&s, "task.cancelled", json_pack("{s:s, s:s}", "task", "d", "reason", "run failed"));
    apply(&s, "task.cancelled", json_pack("{s:s, s:s}", "task", "e", "reason", "run failed"));
    apply(&s, "run.failed", json_pack("{s:s}", "error", "b failed"));
    /* a completed task cannot be retried */
    assert_int_equal(refuse(&s, "run.retried", json_pack("{s:[s]}", "tasks", "a")), -1);
    /* nor one listed twice: it would be counted out of the finished tasks twice */
    assert_int_equal(refuse(&s, "run.retried", json_pack("{s:[s, s]}", "tasks", "b", "b")), -1);
    assert_int_equal(s.n_finished, 5);
    assert_int_equal(s.status, RS_FAILED);
    assert_true(state_task_blocked(&s, 1) && state_task_blocked(&s, 2) &&
                !state_task_blocked(&s, 0));
    apply(&s, "run.retried", json_pack("{s:[s, s, s, s]}", "tasks", "b", "c", "d", "e"));
    assert_int_equal(s.status, RS_RUNNING);
    assert_null(s.error);
    assert_int_equal(s.n_failed, 0);
    assert_int_equal(s.n_finished, 1);
    assert_int_equal(s.tasks[0].status, TS_COMPLETED);
    assert_int_equal(s.tasks[1].status, TS_READY);   /* a is done */
    assert_int_equal(s.tasks[1].attempt, 1);         /* the next start is attempt 2 */
    assert_int_equal(s.tasks[2].status, TS_PENDING); /* waits for b again */
    assert_int_equal(state_next_ready(&s), 1);
    assert_int_equal(state_next_ready(&s), -1);
    apply(&s, "task.started", json_pack("{s:s, s:i}", "task", "b", "attempt", 2));
    apply(&s, "task.completed", json_pack("{s:s, s:s}", "task", "b", "output", "B"));
    assert_int_equal(state_next_ready(&s), 2);
    state_free(&s);
    workflow_free(wf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(readiness_follows_dependencies),
        cmocka_unit_test(failure_dooms_dependents_unless_continue),
        cmocka_unit_test(retried_resets_failed_and_blocked),
        cmocka_unit_test(refuses_impossible_transitions),
        cmocka_unit_test(waiting_human_is_derived),
        cmocka_unit_test(replay_equals_live),
        cmocka_unit_test(offline_answers_mark_tasks_simulated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
