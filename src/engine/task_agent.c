/* task_agent.c - one attempt of a task: dispatch, agent calls, timeouts, retries, loops and
 * completion. */
#include "core/jsonschema.h"
#include "core/quality.h"
#include "core/template.h"
#include "engine/engine_internal.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON outputs that fail their schema go back to the model at most this many times (spec 6). */
#define MAX_SCHEMA_REPAIRS 2

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

/* ---- agent calls ---------------------------------------------------------------------------- */

static void agent_done(void *ud, llm_response_t *resp, const llm_error_t *error);

static void timeout_fire(uv_timer_t *h) {
    task_exec_t *x = h->data;
    engine_run_t *run = x->run;
    const wf_task_t *t = &run->wf->tasks[x->index];
    char *msg = xasprintf("timed out after %gs", t->timeout_s);
    task_attempt_failed(run, x->index, msg, true, 0);
    free(msg);
}

static json_t *parse_json_output(const llm_response_t *resp, const json_t *schema, char *err,
                                 size_t errlen);

/* The router's judge for a task with a quality_threshold (spec 6): below it, the next candidate
 * answers instead. A JSON answer that does not fit its schema passes here: the repair loop
 * (same model, the validator's message) is what the spec asks for then. */
static bool quality_accept(void *ud, const llm_response_t *resp, char *why, size_t whylen) {
    const task_exec_t *x = ud;
    const wf_task_t *t = &x->run->wf->tasks[x->index];
    const wf_agent_t *a = t->agent;
    char reason[400];
    /* A turn that asks for tools has no answer to judge yet: the answer after them is judged. */
    if (json_array_size(resp->tool_calls)) return true;
    if (a->format == OUTPUT_JSON) {
        json_t *v = parse_json_output(resp, a->schema, reason, sizeof reason);
        if (!v) return true;
        json_decref(v);
    }
    double q =
        quality_score(resp->text, a->format, a->schema, a->word_limit, reason, sizeof reason);
    if (q >= t->quality_threshold) return true;
    snprintf(why, whylen, "quality %.2f is below the threshold %.2f: %s", q, t->quality_threshold,
             reason);
    return false;
}

/* One timeout for the whole attempt: schema repairs and tool rounds included (a wait for a
 * person's answer to ask_human excepted: tool_loop.c stops it then). */
void task_arm_timeout(engine_run_t *run, uint32_t i) {
    const wf_task_t *t = &run->wf->tasks[i];
    task_exec_t *x = &run->exec[i];
    if (t->timeout_s > 0 && !(x->timer_ready && uv_is_active((uv_handle_t *)&x->timer)))
        task_timer_start(run, i, (uint64_t)(t->timeout_s * 1000.0), timeout_fire);
}

static void agent_text(void *ud, const char *candidate, const char *piece);

void agent_dispatch(engine_run_t *run, uint32_t i) {
    const wf_task_t *t = &run->wf->tasks[i];
    task_exec_t *x = &run->exec[i];
    const task_state_t *ts = &run->st.tasks[i];
    if (tool_loop_pending(run, i)) {
        /* The model asked for tools (journaled): run those without a result first. */
        task_arm_timeout(run, i);
        tool_loop_run(run, i);
        return;
    }
    task_scope_t sc;
    task_scope_init(&sc, run, i);
    expr_error_t err;
    json_t *inputs = NULL, *prompt = NULL;
    if (tmpl_render_value(t->inputs, &sc.local, &inputs, &err) != 0 ||
        (t->prompt.src && tmpl_render_str(t->prompt.src, &sc.local, &prompt, &err) != 0)) {
        char *msg = xasprintf("template: %s", err.message);
        json_decref(inputs);
        task_scope_free(&sc);
        task_attempt_failed(run, i, msg, false, 0);
        free(msg);
        return;
    }
    task_scope_free(&sc);
    json_decref(x->inputs);
    x->inputs = inputs;

    char *prompt_text = prompt ? expr_format(prompt) : NULL;
    json_decref(prompt);
    char *system = NULL, *user = NULL;
    prompt_compose(t, t->agent, prompt_text, inputs, ts->feedback, ts->guidance_used,
                   x->repair_note, ts->iteration > 1 ? ts->previous : NULL, &system, &user);
    const wf_agent_t *a = t->agent;
    json_t *tools = tools_definitions(run, i);
    llm_request_t req = {
        .run_id = run->st.run_id,
        .task_id = t->id,
        .attempt = ts->attempt,
        .iteration = ts->iteration,
        .agent = a,
        .system = system,
        .prompt = user,
        .inputs = inputs,
        .feedback = x->repair_note ? x->repair_note : ts->feedback,
        .model = run_task_model(run, i),
        .format = a->format,
        .schema = a->schema,
        .word_limit = a->word_limit,
        .max_tokens = a->max_tokens,
        .temperature = a->temperature,
        .accept = t->quality_threshold > 0 ? quality_accept : NULL,
        .accept_ud = x,
        .tools = tools,
        .transcript = x->transcript,
        .on_text = run->eng->o.on_delta ? agent_text : NULL,
        .text_ud = x,
    };
    req.cost_capped = run_spend_room(run, &req.max_cost_usd);
    x->call = provider_call(run->eng->o.provider, &req, agent_done, x);
    json_decref(tools);
    task_arm_timeout(run, i);
    free(system);
    free(user);
    free(prompt_text);
}

/* Streamed text of the call in flight, for observers (engine_opts_t.on_delta). */
static void agent_text(void *ud, const char *candidate, const char *piece) {
    task_exec_t *x = ud;
    engine_run_t *run = x->run;
    const engine_opts_t *o = &run->eng->o;
    o->on_delta(o->on_event_ud, run, run->wf->tasks[x->index].id, run->st.tasks[x->index].attempt,
                candidate, piece);
}

/* Parses and checks a JSON answer; NULL with a message in err when it does not fit. */
static json_t *parse_json_output(const llm_response_t *resp, const json_t *schema, char *err,
                                 size_t errlen) {
    json_t *v = resp->json ? json_incref(resp->json) : NULL;
    if (!v) {
        json_error_t jerr;
        v = json_loads(resp->text ? resp->text : "", JSON_DECODE_ANY, &jerr);
        if (!v) {
            snprintf(err, errlen, "output is not JSON (%s at column %d)", jerr.text, jerr.column);
            return NULL;
        }
    }
    if (schema && jsonschema_validate(schema, v, err, errlen) != 0) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static void agent_done(void *ud, llm_response_t *resp, const llm_error_t *error) {
    task_exec_t *x = ud;
    engine_run_t *run = x->run;
    uint32_t i = x->index;
    const wf_task_t *t = &run->wf->tasks[i];
    const wf_agent_t *a = t->agent;
    x->call = NULL;
    if (!resp && error && error->kind == LLM_ERR_SPEND_LIMIT) {
        /* No candidate could answer within the spending limits: on_exceed decides, as before any
         * call. Downgraded, the attempt asks again on the cheaper tier. */
        if (run_budget_refused(run, i, error->estimate_usd, error->message)) {
            if (run->st.status == RS_PAUSED) {
                if (x->timer_ready) uv_timer_stop(&x->timer);
                run_queue_attempt(run, i, run->st.tasks[i].attempt, run->st.tasks[i].iteration);
            }
            return;
        }
        agent_dispatch(run, i);
        return;
    }
    if (!resp) {
        /* A provider's Retry-After wins over the backoff when it is longer (spec 2). */
        run->exec[i].retry_after_ms = error ? error->retry_after_ms : -1;
        task_attempt_failed(run, i, error && error->message ? error->message : "model call failed",
                            true, 0);
        return;
    }
    if (tool_loop_requested(run, i, resp)) return; /* tools first; resp is taken */
    double cost = resp->cost_usd;
    json_t *outputs;
    char why[512];
    if (a->format == OUTPUT_JSON) {
        outputs = parse_json_output(resp, a->schema, why, sizeof why);
        if (!outputs) {
            if (x->repairs < MAX_SCHEMA_REPAIRS) {
                /* Same attempt: the model gets the validator's message and tries again. A
                 * repair is a call like any other: the budget is checked first. */
                run_emit(run, "task.output_rejected",
                         json_pack("{s:s, s:s, s:i, s:f}", "task", t->id, "error", why, "repair",
                                   x->repairs + 1, "cost_usd", cost));
                llm_response_free(resp);
                free(resp);
                if (run_check_budget(run, i)) {
                    /* Failed: the task was cancelled with the run. Paused: the attempt starts
                     * over (same number, still holding its slot) when the run resumes. */
                    if (run->st.status == RS_PAUSED) {
                        uv_timer_stop(&x->timer); /* no timeout while nothing is in flight */
                        run_queue_attempt(run, i, run->st.tasks[i].attempt,
                                          run->st.tasks[i].iteration);
                    }
                    return;
                }
                x->repairs++;
                free(x->repair_note);
                x->repair_note = xstrdup(why);
                agent_dispatch(run, i);
                return;
            }
            char *msg = xasprintf("output does not match the schema after %d repairs: %s",
                                  MAX_SCHEMA_REPAIRS, why);
            task_attempt_failed(run, i, msg, true, cost);
            free(msg);
            llm_response_free(resp);
            free(resp);
            return;
        }
    } else {
        outputs = json_pack("{s:s}", "text", resp->text ? resp->text : "");
    }
    double threshold = t->quality_threshold;
    double q = quality_score(resp->text, a->format, a->schema, a->word_limit, why, sizeof why);
    if (q < threshold) {
        char *msg = xasprintf("quality %.2f is below the threshold %.2f: %s", q, threshold, why);
        task_attempt_failed(run, i, msg, true, cost);
        free(msg);
        json_decref(outputs);
    } else {
        task_attempt_succeeded(run, i, resp->text, outputs, cost, false);
    }
    llm_response_free(resp);
    free(resp);
}
