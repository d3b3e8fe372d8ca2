/* attempt.c - the attempt lifecycle every task type shares (agent, tool, consensus, human):
 * starting an attempt, dispatching its effect by type, failing it (retry with backoff or for
 * good), succeeding (approval, loop.until, artifact, completion), and the task's timer. Moved
 * out of task_agent.c unchanged; declarations in engine_internal.h. */
#include "core/template.h"
#include "engine/engine_internal.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void task_scope_init(task_scope_t *ts, engine_run_t *run, uint32_t i) {
    const task_state_t *t = &run->st.tasks[i];
    ts->run_scope = (expr_scope_t){run->scope, NULL};
    ts->locals = json_object();
    json_object_set_new(ts->locals, "iteration", json_integer(t->iteration > 0 ? t->iteration : 1));
    json_object_set(ts->locals, "previous", t->previous ? t->previous : json_null());
    ts->local = (expr_scope_t){ts->locals, &ts->run_scope};
}

void task_scope_free(task_scope_t *ts) { json_decref(ts->locals); }

void task_timer_start(engine_run_t *run, uint32_t i, uint64_t ms, uv_timer_cb cb) {
    task_exec_t *x = &run->exec[i];
    if (!x->timer_ready) {
        uv_timer_init(run->eng->o.loop, &x->timer);
        x->timer.data = x;
        x->timer_ready = true;
        run->open_handles++;
    }
    uv_ref((uv_handle_t *)&x->timer); /* a human deadline may have unref'd it */
    uv_timer_start(&x->timer, cb, ms, 0);
}

void task_stop_effects(engine_run_t *run, uint32_t i) {
    task_exec_t *x = &run->exec[i];
    if (x->timer_ready) uv_timer_stop(&x->timer);
    if (x->call) {
        provider_cancel(run->eng->o.provider, x->call);
        x->call = NULL;
    }
    tools_cancel(run, i);
    consensus_cancel(run, i);
}

void task_begin_attempt(engine_run_t *run, uint32_t i, int attempt, int iteration) {
    task_exec_t *x = &run->exec[i];
    x->repairs = 0;
    free(x->repair_note);
    x->repair_note = NULL;
    run_emit(run, "task.started",
             json_pack("{s:s, s:i, s:i}", "task", run->wf->tasks[i].id, "attempt", attempt,
                       "iteration", iteration));
    run_defer_dispatch(run, i);
}

void task_dispatch(engine_run_t *run, uint32_t i) {
    const wf_task_t *t = &run->wf->tasks[i];
    switch (t->type) {
    case TASK_AGENT:
        agent_dispatch(run, i);
        return;
    case TASK_HUMAN:
        human_dispatch(run, i);
        return;
    case TASK_CONSENSUS:
        consensus_dispatch(run, i);
        return;
    case TASK_TOOL:
        tool_task_dispatch(run, i);
        return;
    default:
        break;
    }
    /* Honest about what this version does: these types load and validate, and are refused here
     * with a message rather than pretending to have run. */
    char *msg = xasprintf("tasks of type '%s' are validated but not executed by this version of "
                          "Baton (see docs/workflow-language.md)",
                          task_type_name(t->type));
    task_attempt_failed(run, i, msg, false, 0);
    free(msg);
}

static void retry_fire(uv_timer_t *h) {
    task_exec_t *x = h->data;
    engine_run_t *run = x->run;
    const task_state_t *t = &run->st.tasks[x->index];
    if (t->status != TS_RETRYING) return;
    /* Due, not started: the pump starts it when the run has a free slot and the budget allows
     * (and not while the run is paused). */
    run_queue_attempt(run, x->index, t->attempt + 1, t->iteration);
}

void task_schedule_retry(engine_run_t *run, uint32_t i, uint64_t delay_ms) {
    task_timer_start(run, i, delay_ms, retry_fire);
}

/* Spec section 2: attempt n waits min(max, initial * factor^(n-1)), full jitter when asked. */
static uint64_t backoff_ms(engine_run_t *run, const wf_backoff_t *b, int n) {
    double d = b->initial_s * pow(b->factor, n - 1);
    if (d > b->max_s) d = b->max_s;
    if (b->jitter) d *= engine_random01(run);
    return (uint64_t)(d * 1000.0);
}

void task_attempt_failed(engine_run_t *run, uint32_t i, const char *error, bool retryable,
                         double cost_usd) {
    const wf_task_t *t = &run->wf->tasks[i];
    const task_state_t *ts = &run->st.tasks[i];
    task_stop_effects(run, i);
    int n = ts->failures + 1; /* this failure */
    json_t *data = json_pack("{s:s, s:i, s:s, s:f}", "task", t->id, "attempt", ts->attempt, "error",
                             error, "cost_usd", cost_usd);
    if (retryable && n <= t->max_retries) {
        uint64_t delay = backoff_ms(run, &t->backoff, n);
        int64_t after = run->exec[i].retry_after_ms;
        if (after > 0 && (uint64_t)after > delay) delay = (uint64_t)after;
        run->exec[i].retry_after_ms = -1;
        json_object_set_new(data, "retry_in_ms", json_integer((json_int_t)delay));
        json_object_set_new(data, "retry_at_ms", json_integer(engine_now_ms() + (json_int_t)delay));
        run_emit(run, "task.failed", data);
        task_schedule_retry(run, i, delay);
        return;
    }
    run_emit(run, "task.failed", data);
}

/* Event data for a result: the text, and the outputs unless they are just {"text": text}
 * (state_event_outputs rebuilds those), so the journal holds each text once. */
static json_t *result_data(const char *task, const char *output, json_t *outputs) {
    json_t *data = json_pack("{s:s, s:s?}", "task", task, "output", output);
    const char *text = json_string_value(json_object_get(outputs, "text"));
    bool derivable = output && text && json_object_size(outputs) == 1 && !strcmp(text, output);
    if (outputs && !derivable) json_object_set(data, "outputs", outputs);
    return data;
}

static void complete(engine_run_t *run, uint32_t i, const char *output, json_t *outputs,
                     double cost_usd) {
    const wf_task_t *t = &run->wf->tasks[i];
    const task_state_t *ts = &run->st.tasks[i];
    if (t->artifact && output) {
        char *err = NULL;
        char *safe = artifact_sanitize_name(t->artifact);
        int version = (int)json_integer_value(json_object_get(run->artifact_versions, safe)) + 1;
        free(safe);
        /* Offline output says so in the file itself (docs/models.md); a person's edit of it
         * (approval.responded edited_output) is theirs, and is written as they gave it. */
        bool simulated =
            ts->simulated && !json_is_string(json_object_get(ts->answer, "edited_output"));
        char *marked = simulated
                           ? artifact_simulated_content(
                                 t->artifact, t->agent ? t->agent->format : OUTPUT_TEXT, output)
                           : NULL;
        const char *body = marked ? marked : output;
        json_t *art = artifact_write(run->eng->o.artifacts_dir, run->st.run_id, t->id,
                                     t->agent ? t->agent->id : NULL, t->artifact, version, body,
                                     strlen(body), &err);
        if (!art) {
            free(marked);
            task_attempt_failed(run, i, err, false, cost_usd);
            free(err);
            return;
        }
        json_object_set_new(run->scope_artifacts, json_string_value(json_object_get(art, "name")),
                            json_string(body));
        free(marked);
        json_object_set_new(run->artifact_versions, json_string_value(json_object_get(art, "name")),
                            json_integer(version));
        run_emit(run, "artifact.written", art);
    }
    json_t *data = result_data(t->id, output, outputs);
    json_object_set_new(data, "attempt", json_integer(ts->attempt));
    json_object_set_new(data, "iteration", json_integer(ts->iteration));
    json_object_set_new(data, "cost_usd", json_real(cost_usd));
    run_emit(run, "task.completed", data);
}

/* loop.until after an iteration: 1 run again, 0 done, -1 failed (already journaled). */
static int loop_again(engine_run_t *run, uint32_t i, const char *output, json_t *outputs) {
    const wf_task_t *t = &run->wf->tasks[i];
    const task_state_t *ts = &run->st.tasks[i];
    if (!t->loop_until.src) return 0;
    task_scope_t sc;
    task_scope_init(&sc, run, i);
    /* The task's own result is what `until` judges: tasks.<self> and previous show it. */
    json_t *tasks = json_deep_copy(run->scope_tasks);
    json_object_set_new(tasks, t->id,
                        json_pack("{s:s, s:s?, s:O, s:i}", "status", "running", "output", output,
                                  "outputs", outputs, "attempts", ts->attempt));
    json_object_set_new(sc.locals, "tasks", tasks);
    json_object_set(sc.locals, "previous", outputs);
    json_t *v = NULL;
    expr_error_t err;
    int rc;
    if (tmpl_render_str(t->loop_until.src, &sc.local, &v, &err) != 0) {
        char *msg = xasprintf("loop.until '%s': %s", t->loop_until.src, err.message);
        task_attempt_failed(run, i, msg, false, 0);
        free(msg);
        rc = -1;
    } else {
        rc = !expr_truthy(v) && ts->iteration < t->loop_max_iterations;
    }
    json_decref(v);
    task_scope_free(&sc);
    return rc;
}

void task_attempt_succeeded(engine_run_t *run, uint32_t i, const char *output, json_t *outputs,
                            double cost_usd, bool skip_approval) {
    const wf_task_t *t = &run->wf->tasks[i];
    const task_state_t *ts = &run->st.tasks[i];
    if (run->exec[i].timer_ready) uv_timer_stop(&run->exec[i].timer); /* the attempt's timeout */
    if (t->requires_approval && !skip_approval) {
        json_t *req = json_pack("{s:s, s:s, s:s?, s:[sss], s:{s:s?, s:O}, s:f}", "kind", "approval",
                                "title", t->name, "description", t->agent ? t->agent->goal : NULL,
                                "options", "approve", "reject", "modify", "proposal", "output",
                                output, "outputs", outputs, "cost_usd", cost_usd);
        json_object_set_new(req, "timeout_s", json_real(t->approval_timeout_s));
        json_decref(outputs);
        human_request(run, i, req);
        return;
    }
    int again = loop_again(run, i, output, outputs);
    if (again < 0) {
        json_decref(outputs);
        return;
    }
    if (again) {
        json_t *data = result_data(t->id, output, outputs);
        json_decref(outputs);
        json_object_set_new(data, "iteration", json_integer(ts->iteration));
        json_object_set_new(data, "cost_usd", json_real(cost_usd));
        run_emit(run, "task.iterated", data);
        run_queue_attempt(run, i, ts->attempt + 1, ts->iteration + 1);
        return;
    }
    complete(run, i, output, outputs, cost_usd);
    json_decref(outputs);
}
