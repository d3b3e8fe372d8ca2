/* tool_loop.c - an agent's tool calls within one attempt (see engine_internal.h).
 *
 *   model call -> tool.requested (the calls, journaled) -> each tool runs -> tool.result
 *   (journaled) -> ... -> the next model call sees every result -> ... -> an answer
 *
 * Every step waits for the journal: the calls run once tool.requested is committed, the next
 * model call starts once the results are. The transcript the model sees is a fold of those
 * events (tool_loop_observe), the same live and after a resume, so a crash anywhere repeats at
 * most the one call whose result was not yet journaled, and never re-asks a person. */
#include "engine/engine_internal.h"
#include "engine/tools.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <string.h>

static int task_of(engine_run_t *run, const json_t *data) {
    const char *task = json_string_value(json_object_get(data, "task"));
    return task ? workflow_task_index(run->wf, task) : -1;
}

static void append(task_exec_t *x, json_t *turn) {
    if (!x->transcript) x->transcript = json_array();
    json_array_append_new(x->transcript, turn);
}

void tool_loop_observe(engine_run_t *run, const char *type, const json_t *data) {
    if (!strcmp(type, "artifact.written")) { /* who wrote what: read_artifact's list */
        const char *name = json_string_value(json_object_get(data, "name"));
        json_t *task = json_object_get(data, "task");
        if (name && json_is_string(task)) json_object_set(run->artifact_owner, name, task);
        return;
    }
    if (strncmp(type, "tool.", 5) && strcmp(type, "task.started") &&
        strcmp(type, "approval.responded"))
        return;
    int i = task_of(run, data);
    if (i < 0) return;
    task_exec_t *x = &run->exec[i];
    if (!strcmp(type, "approval.responded")) {
        /* "modify" runs the same attempt again with the feedback: from a clean slate */
        const char *d = json_string_value(json_object_get(data, "decision"));
        if (d && !strcmp(d, "modify")) {
            json_decref(x->transcript);
            x->transcript = NULL;
            x->transcript_attempt = 0;
        }
    } else if (!strcmp(type, "task.started")) {
        /* A new attempt (a retry, a loop iteration, a re-run after "modify") starts afresh. The
         * same attempt started again (after a budget pause) keeps its rounds: their tools ran,
         * and a person who answered must not be asked twice. */
        int attempt = (int)json_integer_value(json_object_get(data, "attempt"));
        int iteration = (int)json_integer_value(json_object_get(data, "iteration"));
        if (attempt != x->transcript_attempt || iteration != x->transcript_iteration) {
            json_decref(x->transcript);
            x->transcript = NULL;
        }
        x->transcript_attempt = attempt;
        x->transcript_iteration = iteration;
    } else if (!strcmp(type, "tool.requested")) {
        append(x,
               json_pack("{s:s, s:O?, s:O}", "role", "assistant", "text",
                         json_object_get(data, "text"), "calls", json_object_get(data, "calls")));
    } else if (!strcmp(type, "tool.result")) {
        append(x, json_pack("{s:s, s:O, s:O, s:O, s:b}", "role", "tool", "id",
                            json_object_get(data, "id"), "name", json_object_get(data, "name"),
                            "content", json_object_get(data, "content"), "is_error",
                            json_is_true(json_object_get(data, "is_error"))));
    }
}

static size_t assistant_turns(const json_t *transcript) {
    size_t n = 0, k;
    const json_t *turn;
    json_array_foreach(transcript, k, turn) {
        const char *role = json_string_value(json_object_get(turn, "role"));
        if (role && !strcmp(role, "assistant")) n++;
    }
    return n;
}

/* The first call of the last tool turn that has no result yet, or NULL. */
static const json_t *next_pending(const task_exec_t *x) {
    size_t n = json_array_size(x->transcript);
    size_t last = n;
    for (size_t k = n; k-- > 0;) {
        const char *role =
            json_string_value(json_object_get(json_array_get(x->transcript, k), "role"));
        if (role && !strcmp(role, "assistant")) {
            last = k;
            break;
        }
    }
    if (last == n) return NULL;
    size_t c;
    const json_t *call;
    json_array_foreach(json_object_get(json_array_get(x->transcript, last), "calls"), c, call) {
        const char *id = json_string_value(json_object_get(call, "id"));
        bool answered = false;
        for (size_t k = last + 1; k < n && !answered; k++) {
            const char *rid =
                json_string_value(json_object_get(json_array_get(x->transcript, k), "id"));
            answered = id && rid && !strcmp(id, rid);
        }
        if (!answered) return call;
    }
    return NULL;
}

bool tool_loop_pending(engine_run_t *run, uint32_t i) {
    return next_pending(&run->exec[i]) != NULL;
}

void tool_loop_result(engine_run_t *run, uint32_t i, const json_t *call, const char *content,
                      bool is_error, int64_t ms) {
    const task_state_t *ts = &run->st.tasks[i];
    /* Whatever a tool produced (a body, a message quoting the model's own bytes) becomes a JSON
     * string: it must be valid UTF-8, or the event could not be built. */
    char *text = utf8_valid(content, content ? strlen(content) : 0);
    run_emit(run, "tool.result",
             json_pack("{s:s, s:i, s:O, s:O, s:s, s:b, s:I}", "task", run->wf->tasks[i].id,
                       "attempt", ts->attempt, "id", json_object_get(call, "id"), "name",
                       json_object_get(call, "name"), "content", text, "is_error", is_error, "ms",
                       (json_int_t)ms));
    free(text);
}

void tool_loop_run(engine_run_t *run, uint32_t i) {
    task_exec_t *x = &run->exec[i];
    if (x->fetch || run->st.tasks[i].status != TS_RUNNING) return; /* one at a time; not waiting */
    for (;;) {
        const json_t *pending = next_pending(x);
        if (!pending) {
            /* Every call answered: the model's next turn, once the results are durable. It is a
             * call like any other: the budget is checked first (a JSON repair does the same). */
            if (run_check_budget(run, i)) {
                if (run->st.status == RS_PAUSED) {
                    if (x->timer_ready) uv_timer_stop(&x->timer);
                    run_queue_attempt(run, i, run->st.tasks[i].attempt, run->st.tasks[i].iteration);
                }
                return;
            }
            run_defer_dispatch(run, i);
            return;
        }
        json_t *call = json_incref((json_t *)pending); /* the transcript grows below */
        char *content = NULL;
        bool error = false;
        int64_t t0 = engine_now_ms();
        tool_status_t st = tools_start(run, i, call, &content, &error);
        if (st == TOOL_DONE) {
            tool_loop_result(run, i, call, content, error, engine_now_ms() - t0);
            free(content);
            /* The result is in the transcript now, unless the engine has stopped (a journal
             * error): then nothing more may run, and the same call would come round for ever. */
            bool stuck = run->eng->error || next_pending(x) == call;
            json_decref(call);
            if (stuck) return;
            continue;
        }
        if (st == TOOL_HUMAN && x->timer_ready) {
            /* Time waiting for a person is not the attempt's: its timeout starts again with the
             * next model call. */
            uv_timer_stop(&x->timer);
        }
        json_decref(call);
        return;
    }
}

/* Calls need distinct ids to be matched with their results: a model that repeats one (or a
 * provider that gives none) gets "<id>_<n>" for the later ones. */
static void distinct_ids(json_t *calls) {
    size_t k;
    json_t *c;
    json_array_foreach(calls, k, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        for (size_t j = 0; j < k; j++) {
            const char *other = json_string_value(json_object_get(json_array_get(calls, j), "id"));
            if (id && other && !strcmp(id, other)) {
                char *fresh = xasprintf("%s_%zu", id, k + 1);
                json_object_set_new(c, "id", json_string(fresh));
                free(fresh);
                break;
            }
        }
    }
}

bool tool_loop_requested(engine_run_t *run, uint32_t i, llm_response_t *resp) {
    const wf_task_t *t = &run->wf->tasks[i];
    const wf_agent_t *a = t->agent;
    task_exec_t *x = &run->exec[i];
    /* Calls from a model offered no tools are not acted on: its text is the answer. */
    if (!a || !a->n_tools || !json_array_size(resp->tool_calls)) return false;
    int max = a->max_tool_iterations > 0 ? a->max_tool_iterations : TOOLS_DEFAULT_MAX_ITERATIONS;
    size_t turns = assistant_turns(x->transcript);
    double cost = resp->cost_usd;
    if (turns >= (size_t)max) {
        char *msg = xasprintf("the model still asked for tools after %d rounds of tool calls "
                              "(max_tool_iterations: %d); it must answer within that many",
                              max, max);
        llm_response_free(resp);
        free(resp);
        task_attempt_failed(run, i, msg, true, cost);
        free(msg);
        return true;
    }
    json_t *calls = json_deep_copy(resp->tool_calls);
    distinct_ids(calls);
    const char *text = resp->text && *resp->text ? resp->text : NULL;
    run_emit(run, "tool.requested",
             json_pack("{s:s, s:i, s:i, s:s*, s:o, s:s*, s:f}", "task", t->id, "attempt",
                       run->st.tasks[i].attempt, "turn", (int)turns + 1, "text", text, "calls",
                       calls, "model", resp->provider, "cost_usd", cost));
    llm_response_free(resp);
    free(resp);
    /* The calls run once their request is durable (tool.requested carries results). */
    run_defer_dispatch(run, i);
    return true;
}

void tool_loop_answer(engine_run_t *run, uint32_t i) {
    const task_state_t *ts = &run->st.tasks[i];
    const json_t *call = json_object_get(ts->human, "tool_call");
    const json_t *answer = ts->answer;
    const char *fb = json_string_value(json_object_get(answer, "feedback"));
    const json_t *answers = json_object_get(answer, "answers");
    const char *decision = json_string_value(json_object_get(answer, "decision"));
    const char *who = json_string_value(json_object_get(answer, "answered_by"));
    char *text = fb && *fb ? xstrdup(fb)
                 : answers ? json_dumps(answers, JSON_COMPACT | JSON_ENCODE_ANY)
                           : xstrdup(decision ? decision : "");
    char *content = xasprintf("%s%s%s", text, who ? "\n(answered by " : "", who ? who : "");
    if (who) {
        char *closed = xasprintf("%s)", content);
        free(content);
        content = closed;
    }
    int64_t asked = json_integer_value(json_object_get(ts->human, "requested_at"));
    json_t *c = json_incref((json_t *)call);
    tool_loop_result(run, i, c, content, false, asked ? engine_now_ms() - asked : 0);
    json_decref(c);
    free(text);
    free(content);
    tool_loop_run(run, i);
}
