/* test_task_history.c - one task's attempts folded from a journal (core/task_history.h): a retry,
 * a loop, a reviewer's "modify", a rejection, a failure before any start, costs per attempt; and
 * the workflow of a journaled run with its task -> agent map (core/journaled.c). */
#include "harness.h"

#include "core/task_history.h"

static uint64_t seq;

static void ev(task_history_t *h, const char *type, json_t *data) {
    seq++;
    task_history_apply(h, seq, 1000 + (int64_t)seq, type, data);
    json_decref(data);
}

static const char *field(const json_t *a, const char *k) {
    return json_string_value(json_object_get(a, k));
}

static json_t *attempt(const task_history_t *h, size_t i) { return json_array_get(h->attempts, i); }

static void retry_then_success(void **state) {
    (void)state;
    task_history_t h;
    task_history_init(&h, "q");
    seq = 0;
    ev(&h, "task.started", json_pack("{s:s, s:i, s:i}", "task", "q", "attempt", 1, "iteration", 1));
    ev(&h, "task.started",
       json_pack("{s:s, s:i, s:i}", "task", "other", "attempt", 1, "iteration", 1));
    ev(&h, "llm.call",
       json_pack("{s:s, s:i, s:s, s:f}", "task", "q", "attempt", 1, "status", "error", "cost_usd",
                 0.25));
    ev(&h, "task.failed",
       json_pack("{s:s, s:i, s:s, s:f, s:I}", "task", "q", "attempt", 1, "error",
                 "timed out after 1s", "cost_usd", 0.5, "retry_at_ms", (json_int_t)9999));
    ev(&h, "task.started", json_pack("{s:s, s:i, s:i}", "task", "q", "attempt", 2, "iteration", 1));
    ev(&h, "task.output_rejected",
       json_pack("{s:s, s:s, s:i, s:f}", "task", "q", "error", "not JSON", "repair", 1, "cost_usd",
                 1.0));
    ev(&h, "task.completed",
       json_pack("{s:s, s:i, s:s, s:{s:i}, s:f}", "task", "q", "attempt", 2, "output", "{\"n\":1}",
                 "outputs", "n", 1, "cost_usd", 2.0));
    assert_int_equal(json_array_size(h.attempts), 2);
    json_t *a1 = attempt(&h, 0), *a2 = attempt(&h, 1);
    assert_string_equal(field(a1, "status"), "failed");
    assert_string_equal(field(a1, "error"), "timed out after 1s");
    assert_int_equal(json_integer_value(json_object_get(a1, "retry_at_ms")), 9999);
    assert_int_equal(json_integer_value(json_object_get(a1, "started_at")), 1001);
    assert_int_equal(json_integer_value(json_object_get(a1, "finished_at")), 1004);
    assert_true(json_number_value(json_object_get(a1, "cost_usd")) == 0.75);
    assert_string_equal(field(a2, "status"), "completed");
    assert_string_equal(field(a2, "output"), "{\"n\":1}");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(a2, "outputs"), "n")), 1);
    assert_true(json_number_value(json_object_get(a2, "cost_usd")) == 3.0);
    assert_true(json_is_null(json_object_get(a2, "error")));
    /* errors in journal order, each with its attempt */
    assert_int_equal(json_array_size(h.errors), 2);
    assert_string_equal(field(json_array_get(h.errors, 0), "type"), "task.failed");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h.errors, 0), "attempt")),
                     1);
    assert_string_equal(field(json_array_get(h.errors, 1), "type"), "task.output_rejected");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h.errors, 1), "attempt")),
                     2);
    task_history_free(&h);
}

static void loop_modify_and_reject(void **state) {
    (void)state;
    task_history_t h;
    task_history_init(&h, "d");
    seq = 0;
    /* a loop: iteration 1 ends (text output, no outputs), iteration 2 is attempt 2 */
    ev(&h, "task.started", json_pack("{s:s, s:i, s:i}", "task", "d", "attempt", 1, "iteration", 1));
    ev(&h, "task.iterated",
       json_pack("{s:s, s:i, s:s}", "task", "d", "iteration", 1, "output", "first"));
    ev(&h, "task.started", json_pack("{s:s, s:i, s:i}", "task", "d", "attempt", 2, "iteration", 2));
    assert_string_equal(field(attempt(&h, 0), "status"), "iterated");
    assert_string_equal(field(attempt(&h, 0), "output"), "first");
    assert_true(json_is_null(json_object_get(attempt(&h, 0), "outputs")));
    /* sent back with "modify": the same attempt runs again */
    ev(&h, "approval.requested", json_pack("{s:s, s:s}", "task", "d", "kind", "approval"));
    assert_string_equal(field(attempt(&h, 1), "status"), "waiting_human");
    ev(&h, "approval.responded", json_pack("{s:s, s:s}", "task", "d", "decision", "modify"));
    ev(&h, "task.started", json_pack("{s:s, s:i, s:i}", "task", "d", "attempt", 2, "iteration", 2));
    assert_int_equal(json_array_size(h.attempts), 2);
    assert_string_equal(field(attempt(&h, 1), "status"), "running");
    /* rejected: the failure names no attempt and ends the open one */
    ev(&h, "approval.requested", json_pack("{s:s, s:s}", "task", "d", "kind", "approval"));
    ev(&h, "approval.responded", json_pack("{s:s, s:s}", "task", "d", "decision", "reject"));
    ev(&h, "task.failed",
       json_pack("{s:s, s:s, s:s}", "task", "d", "error", "rejected by alice", "reason",
                 "rejected"));
    assert_string_equal(field(attempt(&h, 1), "status"), "failed");
    assert_string_equal(field(attempt(&h, 1), "error"), "rejected by alice");
    assert_int_equal(json_integer_value(json_object_get(attempt(&h, 1), "started_at")), 1003);
    task_history_free(&h);
}

static void failed_before_start(void **state) {
    (void)state;
    task_history_t h;
    task_history_init(&h, "c");
    seq = 0;
    ev(&h, "task.failed", json_pack("{s:s, s:s}", "task", "c", "error", "condition failed: {{x}}"));
    ev(&h, "budget.exceeded",
       json_pack("{s:s, s:s, s:s}", "task", "c", "limit", "run", "message", "over"));
    assert_int_equal(json_array_size(h.attempts), 0);
    assert_int_equal(json_array_size(h.errors), 2);
    assert_true(json_is_null(json_object_get(json_array_get(h.errors, 0), "attempt")));
    assert_string_equal(field(json_array_get(h.errors, 1), "limit"), "run");
    assert_string_equal(field(json_array_get(h.errors, 1), "error"), "over");
    task_history_free(&h);
}

static void cancelled_attempt(void **state) {
    (void)state;
    task_history_t h;
    task_history_init(&h, "x");
    seq = 0;
    ev(&h, "task.started", json_pack("{s:s, s:i, s:i}", "task", "x", "attempt", 1, "iteration", 1));
    ev(&h, "task.cancelled", json_pack("{s:s, s:s}", "task", "x", "reason", "run cancelled"));
    assert_string_equal(field(attempt(&h, 0), "status"), "cancelled");
    assert_string_equal(field(attempt(&h, 0), "error"), "run cancelled");
    task_history_free(&h);
}

/* The workflow of a journaled run is read with the journaled agents, not today's catalog. */
static void journaled_workflow_and_agents(void **state) {
    (void)state;
    const char *src = "name: j\ntasks:\n  - {id: a, agent: scribe}\n"
                      "  - {id: h, agent: human_review, depends_on: [a]}\n";
    json_t *created = json_pack("{s:s, s:s, s:{s:{s:s, s:s}}}", "source", src, "file", "j.yaml",
                                "agents", "scribe", "file", "agents/scribe.yaml", "source",
                                "id: scribe\nname: Scribe\ninstructions: Write.\n");
    diag_list_t dl = {0};
    workflow_t *wf = workflow_load_journaled(created, NULL, NULL, &dl);
    for (size_t i = 0; i < dl.n; i++) fprintf(stderr, "%s\n", dl.items[i].message);
    assert_non_null(wf);
    assert_string_equal(wf->tasks[0].agent->name, "Scribe");
    json_t *map = workflow_task_agents(wf);
    assert_string_equal(json_string_value(json_object_get(map, "a")), "scribe");
    assert_string_equal(json_string_value(json_object_get(map, "h")), "human_review");
    json_decref(map);
    workflow_free(wf);
    diag_list_free(&dl);
    /* no source: an error, not a crash */
    json_object_del(created, "source");
    assert_null(workflow_load_journaled(created, NULL, NULL, &dl));
    assert_true(dl.n > 0);
    diag_list_free(&dl);
    json_decref(created);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_then_success),
        cmocka_unit_test(loop_modify_and_reject),
        cmocka_unit_test(failed_before_start),
        cmocka_unit_test(cancelled_attempt),
        cmocka_unit_test(journaled_workflow_and_agents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
