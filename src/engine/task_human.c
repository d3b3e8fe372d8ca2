/* task_human.c - human steps: `type: human` tasks, approvals of agent output
 * (`requires_approval`), and consensus votes that fall back to a person.
 *
 * A waiting step holds no thread and no call; only its deadline timer, if it has one. The answer
 * is journaled (approval.responded) before anything acts on it, so a crash between the two
 * replays the answer instead of asking again. */
#include "core/template.h"
#include "engine/engine_internal.h"
#include "util/xalloc.h"

#include <string.h>

static double request_timeout_s(const wf_task_t *t, bool approval_of_output) {
    return approval_of_output ? t->approval_timeout_s : t->human_timeout_s;
}

static human_timeout_t request_on_timeout(const wf_task_t *t, bool approval_of_output) {
    return approval_of_output ? t->approval_on_timeout : t->human_on_timeout;
}

/* What "approve" or "reject" at the deadline means for this request: an approval takes them
 * as they are; a decision takes its first option for approve and, for reject, the option named
 * reject or else its last one; an input is submitted empty on approve and fails on reject. */
static const char *timeout_decision(const json_t *req, human_timeout_t on) {
    if (on == TIMEOUT_FAIL) return "timeout";
    const char *kind = json_string_value(json_object_get(req, "kind"));
    const json_t *options = json_object_get(req, "options");
    if (kind && !strcmp(kind, "input")) return on == TIMEOUT_APPROVE ? "submitted" : "timeout";
    if (!kind || strcmp(kind, "decision") || !json_array_size(options))
        return on == TIMEOUT_APPROVE ? "approve" : "reject";
    if (on == TIMEOUT_APPROVE) return json_string_value(json_array_get(options, 0));
    size_t k;
    json_t *o;
    json_array_foreach(options, k, o) if (!strcmp(json_string_value(o), "reject")) return "reject";
    return json_string_value(json_array_get(options, json_array_size(options) - 1));
}

static void deadline_fire(uv_timer_t *h) {
    task_exec_t *x = h->data;
    engine_run_t *run = x->run;
    const wf_task_t *t = &run->wf->tasks[x->index];
    const task_state_t *ts = &run->st.tasks[x->index];
    if (ts->status != TS_WAITING_HUMAN || ts->answer) return;
    bool of_output = json_object_get(ts->human, "proposal") != NULL;
    const char *decision = timeout_decision(ts->human, request_on_timeout(t, of_output));
    run_emit(run, "approval.responded",
             json_pack("{s:s, s:s, s:s, s:I, s:b}", "task", t->id, "decision", decision,
                       "answered_by", "timeout", "answered_at", (json_int_t)engine_now_ms(),
                       "timed_out", 1));
    human_apply_answer(run, x->index);
}

static void arm_deadline(engine_run_t *run, uint32_t i, int64_t requested_at) {
    const wf_task_t *t = &run->wf->tasks[i];
    const task_state_t *ts = &run->st.tasks[i];
    if (json_object_get(ts->human, "tool_call")) return; /* an agent's ask_human: no deadline */
    double timeout = request_timeout_s(t, json_object_get(ts->human, "proposal") != NULL);
    if (json_object_get(ts->human, "consensus")) timeout = t->human_timeout_s;
    if (timeout <= 0) return;
    int64_t due = requested_at + (int64_t)(timeout * 1000.0) - engine_now_ms();
    task_timer_start(run, i, due > 0 ? (uint64_t)due : 0, deadline_fire);
    /* A run waiting for a person holds nothing: the deadline fires if the loop is still going
     * (a server), but does not keep a terminal session's loop alive. */
    uv_unref((uv_handle_t *)&run->exec[i].timer);
}

void human_request(engine_run_t *run, uint32_t i, json_t *request) {
    const wf_task_t *t = &run->wf->tasks[i];
    int64_t now = engine_now_ms();
    json_object_set_new(request, "task", json_string(t->id));
    json_object_set_new(request, "requested_at", json_integer(now));
    run_emit(run, "approval.requested", request);
    arm_deadline(run, i, now);
}

void human_resume(engine_run_t *run, uint32_t i) {
    const task_state_t *ts = &run->st.tasks[i];
    if (ts->answer) {
        human_apply_answer(run, i);
        return;
    }
    arm_deadline(run, i, json_integer_value(json_object_get(ts->human, "requested_at")));
}

static const char *const human_kind_names[] = {"approval", "input", "decision"};

void human_dispatch(engine_run_t *run, uint32_t i) {
    const wf_task_t *t = &run->wf->tasks[i];
    task_scope_t sc;
    task_scope_init(&sc, run, i);
    json_t *title = NULL, *description = NULL, *context = NULL;
    expr_error_t err;
    int rc = 0;
    if (t->title.src) rc = tmpl_render_str(t->title.src, &sc.local, &title, &err);
    if (!rc && t->description.src)
        rc = tmpl_render_str(t->description.src, &sc.local, &description, &err);
    /* The task's inputs, rendered as any task's are: what the person decides on. */
    if (!rc && json_object_size(t->inputs))
        rc = tmpl_render_value(t->inputs, &sc.local, &context, &err);
    task_scope_free(&sc);
    if (rc) {
        char *msg = xasprintf("template: %s", err.message);
        json_decref(title);
        json_decref(description);
        json_decref(context);
        task_attempt_failed(run, i, msg, false, 0);
        free(msg);
        return;
    }
    char *title_s = title ? expr_format(title) : xstrdup(t->name);
    char *desc_s = description ? expr_format(description) : NULL;
    json_decref(title);
    json_decref(description);
    json_t *options = t->options                        ? json_incref(t->options)
                      : t->human_kind == HUMAN_APPROVAL ? json_pack("[ss]", "approve", "reject")
                                                        : NULL;
    json_t *req =
        json_pack("{s:s, s:s, s:s?, s:o?, s:f, s:o?}", "kind", human_kind_names[t->human_kind],
                  "title", title_s, "description", desc_s, "options", options, "timeout_s",
                  t->human_timeout_s, "context", context);
    free(title_s);
    free(desc_s);
    human_request(run, i, req);
}

/* The outputs of a human step (spec section 7): {decision, feedback, answered_by, answered_at}. */
static json_t *human_outputs(const json_t *answer) {
    json_t *o = json_object();
    static const char *const keys[] = {"decision", "feedback", "answered_by", "answered_at",
                                       "answers"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        json_t *v = json_object_get(answer, keys[k]);
        json_object_set(o, keys[k], v ? v : json_null());
    }
    return o;
}

static void fail_rejected(engine_run_t *run, uint32_t i, const json_t *answer) {
    const char *who = json_string_value(json_object_get(answer, "answered_by"));
    const char *fb = json_string_value(json_object_get(answer, "feedback"));
    char *msg = xasprintf("rejected by %s%s%s", who ? who : "a reviewer", fb && *fb ? ": " : "",
                          fb && *fb ? fb : "");
    run_emit(run, "task.failed",
             json_pack("{s:s, s:s, s:s}", "task", run->wf->tasks[i].id, "error", msg, "reason",
                       "rejected"));
    free(msg);
}

/* Approval of an agent's output (requires_approval). */
static void apply_output_approval(engine_run_t *run, uint32_t i, const json_t *answer,
                                  const char *decision) {
    const wf_task_t *t = &run->wf->tasks[i];
    const task_state_t *ts = &run->st.tasks[i];
    const json_t *proposal = json_object_get(ts->human, "proposal");
    if (!strcmp(decision, "approve")) {
        task_attempt_succeeded(run, i, json_string_value(json_object_get(proposal, "output")),
                               json_incref(json_object_get(proposal, "outputs")), 0, true);
    } else if (!strcmp(decision, "modify")) {
        const char *edited = json_string_value(json_object_get(answer, "edited_output"));
        if (edited) {
            /* Taken as is: the human's text is the output. */
            json_t *outputs = NULL;
            if (t->agent && t->agent->format == OUTPUT_JSON) outputs = json_loads(edited, 0, NULL);
            if (!outputs) outputs = json_pack("{s:s}", "text", edited);
            task_attempt_succeeded(run, i, edited, outputs, 0, true);
        } else {
            /* Runs again with the feedback; the attempt counter does not grow (spec 2). It
             * needs a slot and budget like any attempt, so it queues. */
            run_queue_attempt(run, i, ts->attempt, ts->iteration);
        }
    } else if (!strcmp(decision, "timeout")) {
        run_emit(run, "task.failed",
                 json_pack("{s:s, s:s, s:s}", "task", t->id, "error",
                           "no answer before the approval deadline", "reason", "timeout"));
    } else {
        fail_rejected(run, i, answer);
    }
}

void human_apply_answer(engine_run_t *run, uint32_t i) {
    const wf_task_t *t = &run->wf->tasks[i];
    const task_state_t *ts = &run->st.tasks[i];
    const json_t *answer = ts->answer;
    const char *decision = json_string_value(json_object_get(answer, "decision"));
    if (!decision) decision = "approve";
    if (json_object_get(ts->human, "tool_call")) {
        tool_loop_answer(run, i);
        return;
    }
    if (json_object_get(ts->human, "proposal")) {
        apply_output_approval(run, i, answer, decision);
        return;
    }
    if (!strcmp(decision, "timeout")) {
        run_emit(run, "task.failed",
                 json_pack("{s:s, s:s, s:s}", "task", t->id, "error",
                           "no answer before the deadline", "reason", "timeout"));
        return;
    }
    json_t *outputs;
    const json_t *consensus = json_object_get(ts->human, "consensus");
    if (consensus) {
        /* A person broke a tie the agents could not. */
        outputs = json_deep_copy(consensus);
        json_object_set_new(outputs, "decision", json_string(decision));
        json_object_set(outputs, "decided_by", json_object_get(answer, "answered_by"));
    } else {
        outputs = human_outputs(answer);
    }
    const char *fb = json_string_value(json_object_get(answer, "feedback"));
    const char *text = t->human_kind == HUMAN_INPUT && fb ? fb : decision;
    task_attempt_succeeded(run, i, text, outputs, 0, true);
}
