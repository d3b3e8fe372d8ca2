/* agui.c - AG-UI (the Agent-User Interaction protocol, 1.0) over Server-Sent Events
 * (docs/agui.md): POST /api/v1/agui runs or continues a workflow run as an AG-UI run;
 * GET /api/v1/runs/{id}/agui streams an existing run, from Last-Event-ID when given.
 *
 * A thread is a Baton run: a new threadId starts the workflow named in forwardedProps, and the
 * run id is the thread's from then on (a threadId that is a run id continues that run). The
 * stream is the run's journal translated, event by committed event:
 *   task.started            STEP_STARTED (stepName: the task id)
 *   task.completed          TEXT_MESSAGE_START/CONTENT/END (the task's output, by the task),
 *                           STATE_DELTA (its status), STEP_FINISHED
 *   task.failed|skipped|cancelled  STATE_DELTA, and STEP_FINISHED for a started step
 *   tool.requested/result   TOOL_CALL_START/ARGS/END, TOOL_CALL_RESULT
 *   approval.requested      CUSTOM "baton.approval_requested"
 *   run.completed           RUN_FINISHED (outcome success, result: the run)
 *   run.cancelled           RUN_FINISHED (outcome cancelled)
 *   run.failed              RUN_ERROR
 *   waiting for a person, paused   RUN_FINISHED (outcome interrupt: one per question, id
 *                           RUN_ID.TASK_ID; or RUN_ID.paused)
 * after RUN_STARTED and a STATE_SNAPSHOT of the run (as GET /api/v1/runs/{id} has it). The next
 * POST on the thread answers the interrupts with `resume` entries (payload: an answer, as
 * POST /api/v1/approvals/{id}/respond takes; cancelled: reject), and a new user message is
 * guidance for the run's agents (run.message). Every frame carries `id: SEQ`, the journal event
 * it came from. */
#include "api/handlers.h"
#include "api/answer.h"
#include "api/workflow_text.h"
#include "api/fanout.h"
#include "core/json_time.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct api_agui_stream {
    api_t *a;
    http_req_t *req;
    char *run_id, *thread_id, *agui_run_id;
    uint64_t seq;  /* the last journal event sent (or covered by the snapshot) */
    bool started;  /* RUN_STARTED and the snapshot went out */
    json_t *input; /* echoed in RUN_STARTED */
    json_t *steps; /* {task: true} for steps started and not finished */
    api_agui_stream_t *next;
};

/* ---- frames -----------------------------------------------------------------------------------
 */

static void frame(strbuf_t *sb, uint64_t seq, json_t *ev) {
    char *text = json_dumps(ev, JSON_COMPACT);
    if (seq) sb_printf(sb, "id: %llu\n", (unsigned long long)seq);
    sb_printf(sb, "data: %s\n\n", text ? text : "{}");
    free(text);
    json_decref(ev);
}

static void preamble(api_agui_stream_t *s, strbuf_t *sb) {
    json_t *started = json_pack("{s:s, s:s, s:s}", "type", "RUN_STARTED", "threadId", s->thread_id,
                                "runId", s->agui_run_id);
    if (s->input) json_object_set(started, "input", s->input);
    frame(sb, 0, started);
    uint64_t seq;
    json_t *snap = store_run_snapshot(s->a->store, s->run_id, &seq);
    json_time_present(snap); /* times as the REST answers write them */
    /* steps already under way when the snapshot was taken are open steps of this stream */
    const char *task;
    json_t *t;
    size_t i;
    /* The AG-UI state is a document that STATE_DELTA patches by task id (/tasks/ID/status):
     * its tasks are a map by id, where the REST run has a list. */
    json_t *by_id = json_object();
    json_array_foreach(json_object_get(snap, "tasks"), i, t) {
        const char *st = json_string_value(json_object_get(t, "status"));
        const char *id = json_string_value(json_object_get(t, "id"));
        if (!id) continue;
        if (st && (!strcmp(st, "running") || !strcmp(st, "retrying")))
            json_object_set_new(s->steps, id, json_true());
        json_object_set(by_id, id, t);
    }
    if (snap)
        json_object_set_new(snap, "tasks", by_id);
    else
        json_decref(by_id);
    frame(
        sb, seq,
        json_pack("{s:s, s:o}", "type", "STATE_SNAPSHOT", "snapshot", snap ? snap : json_object()));
    json_object_foreach(s->steps, task, t)
        frame(sb, seq, json_pack("{s:s, s:s}", "type", "STEP_STARTED", "stepName", task));
    if (seq > s->seq) s->seq = seq;
    s->started = true;
}

static json_t *status_delta(const char *task, const char *status) {
    char path[300];
    snprintf(path, sizeof path, "/tasks/%s/status", task);
    return json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "type", "STATE_DELTA", "delta", "op", "replace",
                     "path", path, "value", status);
}

static void step_finished(api_agui_stream_t *s, strbuf_t *sb, uint64_t seq, const char *task) {
    if (!json_object_get(s->steps, task)) return;
    frame(sb, seq, json_pack("{s:s, s:s}", "type", "STEP_FINISHED", "stepName", task));
    json_object_del(s->steps, task); /* last: task may be this very key */
}

/* A tool call's id for AG-UI: unique in the run (providers' ids repeat across tasks and
 * attempts; the offline model's always do). */
static char *tool_call_id(const json_t *data, const char *id) {
    return xasprintf("%s.%lld.%s", json_string_value(json_object_get(data, "task")) ?: "",
                     json_integer_value(json_object_get(data, "attempt")), id ? id : "");
}

/* The run stopped for people: one interrupt per open question (or the pause). */
static json_t *interrupts(api_agui_stream_t *s) {
    json_t *list = json_array();
    json_t *rows = store_approvals(s->a->store, s->run_id, "pending");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const json_t *req = json_object_get(r, "request");
        char *id = xasprintf("%s.%s", s->run_id, json_string_value(json_object_get(r, "task_id")));
        json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:O?, s:{s:O?, s:O?, s:O?}}", "id", id, "reason",
                      json_string_value(json_object_get(req, "kind")) ?: "approval", "message",
                      json_object_get(req, "title"), "metadata", "options",
                      json_object_get(req, "options"), "proposal", json_object_get(req, "proposal"),
                      "context", json_object_get(req, "context")));
        free(id);
    }
    json_decref(rows);
    return list;
}

/* Translates one journal event; true when the AG-UI run is over (the stream ends). */
static bool translate(api_agui_stream_t *s, strbuf_t *sb, uint64_t seq, const char *type,
                      const json_t *data) {
    const char *task = json_string_value(json_object_get(data, "task"));
    if (!strcmp(type, "task.started") && task) {
        if (json_object_get(s->steps, task))
            step_finished(s, sb, seq, task); /* a retry: a new step */
        json_object_set_new(s->steps, task, json_true());
        frame(sb, seq, json_pack("{s:s, s:s}", "type", "STEP_STARTED", "stepName", task));
        frame(sb, seq, status_delta(task, "running"));
    } else if (!strcmp(type, "task.completed") && task) {
        const char *out = json_string_value(json_object_get(data, "output"));
        char *mid = xasprintf("%s.%s.%llu", s->run_id, task, (unsigned long long)seq);
        frame(sb, seq,
              json_pack("{s:s, s:s, s:s, s:s}", "type", "TEXT_MESSAGE_START", "messageId", mid,
                        "role", "assistant", "name", task));
        if (out && *out)
            frame(sb, seq,
                  json_pack("{s:s, s:s, s:o}", "type", "TEXT_MESSAGE_CONTENT", "messageId", mid,
                            "delta", api_text(out)));
        frame(sb, seq, json_pack("{s:s, s:s}", "type", "TEXT_MESSAGE_END", "messageId", mid));
        free(mid);
        frame(sb, seq, status_delta(task, "completed"));
        step_finished(s, sb, seq, task);
    } else if (task && (!strcmp(type, "task.failed") || !strcmp(type, "task.skipped") ||
                        !strcmp(type, "task.cancelled"))) {
        bool retrying = json_object_get(data, "retry_at_ms") != NULL;
        frame(sb, seq, status_delta(task, retrying ? "retrying" : type + 5));
        step_finished(s, sb, seq, task);
    } else if (!strcmp(type, "tool.requested")) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(data, "calls"), i, c) {
            char *args = json_dumps(json_object_get(c, "arguments"), JSON_COMPACT);
            char *id = tool_call_id(data, json_string_value(json_object_get(c, "id")));
            frame(sb, seq,
                  json_pack("{s:s, s:s, s:O}", "type", "TOOL_CALL_START", "toolCallId", id,
                            "toolCallName", json_object_get(c, "name")));
            frame(sb, seq,
                  json_pack("{s:s, s:s, s:s}", "type", "TOOL_CALL_ARGS", "toolCallId", id, "delta",
                            args ? args : "{}"));
            frame(sb, seq, json_pack("{s:s, s:s}", "type", "TOOL_CALL_END", "toolCallId", id));
            free(id);
            free(args);
        }
    } else if (!strcmp(type, "tool.result")) {
        char *mid = xasprintf("%s.tool.%llu", s->run_id, (unsigned long long)seq);
        char *id = tool_call_id(data, json_string_value(json_object_get(data, "id")));
        frame(sb, seq,
              json_pack("{s:s, s:s, s:s, s:o, s:s}", "type", "TOOL_CALL_RESULT", "messageId", mid,
                        "toolCallId", id, "content",
                        api_text(json_string_value(json_object_get(data, "content")) ?: ""), "role",
                        "tool"));
        free(id);
        free(mid);
    } else if (!strcmp(type, "approval.requested")) {
        json_t *v = json_deep_copy(data);
        char *id = xasprintf("%s.%s", s->run_id, task ? task : "");
        json_object_set_new(v, "id", json_string(id));
        free(id);
        frame(sb, seq,
              json_pack("{s:s, s:s, s:o}", "type", "CUSTOM", "name", "baton.approval_requested",
                        "value", v));
        frame(sb, seq, status_delta(task ? task : "", "waiting_human"));
    } else if (!strcmp(type, "run.completed")) {
        json_t *sum = store_run_summary(s->a->store, s->run_id);
        json_time_present(sum);
        frame(sb, seq,
              json_pack("{s:s, s:s, s:s, s:{s:s}, s:o}", "type", "RUN_FINISHED", "threadId",
                        s->thread_id, "runId", s->agui_run_id, "outcome", "type", "success",
                        "result", sum ? sum : json_object()));
        return true;
    } else if (!strcmp(type, "run.cancelled")) {
        frame(sb, seq,
              json_pack("{s:s, s:s, s:s, s:{s:s}}", "type", "RUN_FINISHED", "threadId",
                        s->thread_id, "runId", s->agui_run_id, "outcome", "type", "cancelled"));
        return true;
    } else if (!strcmp(type, "run.failed")) {
        frame(sb, seq,
              json_pack(
                  "{s:s, s:o, s:s}", "type", "RUN_ERROR", "message",
                  api_text(json_string_value(json_object_get(data, "error")) ?: "the run failed"),
                  "code", "run_failed"));
        return true;
    } else if ((!strcmp(type, "run.status") &&
                !strcmp(json_string_value(json_object_get(data, "status")) ?: "",
                        "waiting_human")) ||
               !strcmp(type, "run.paused")) {
        json_t *list = !strcmp(type, "run.paused") ? json_array() : interrupts(s);
        if (!strcmp(type, "run.paused")) {
            char *id = xasprintf("%s.paused", s->run_id);
            json_array_append_new(list, json_pack("{s:s, s:s, s:O?}", "id", id, "reason", "paused",
                                                  "message", json_object_get(data, "reason")));
            free(id);
        }
        if (!json_array_size(list)) {
            json_decref(list);
            return false;
        }
        for (const char *k; (k = json_object_iter_key(json_object_iter(s->steps)));)
            step_finished(s, sb, seq, k);
        frame(sb, seq,
              json_pack("{s:s, s:s, s:s, s:{s:s, s:o}}", "type", "RUN_FINISHED", "threadId",
                        s->thread_id, "runId", s->agui_run_id, "outcome", "type", "interrupt",
                        "interrupts", list));
        return true;
    }
    return false;
}

/* ---- streams ----------------------------------------------------------------------------------
 */

static void stream_free(api_agui_stream_t *s) {
    free(s->run_id);
    free(s->thread_id);
    free(s->agui_run_id);
    json_decref(s->input);
    json_decref(s->steps);
    free(s);
}

static void stream_close(api_t *a, api_agui_stream_t *s) {
    for (api_agui_stream_t **p = &a->agui; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    http_stream_end(s->req);
    stream_free(s);
}

/* Sends what sb holds; false (the stream is closed and freed) when the client left or `over`. */
static bool flush(api_agui_stream_t *s, strbuf_t *sb, bool over) {
    bool alive = !sb->len || http_stream_write(s->req, sb->buf, sb->len);
    sb_free(sb);
    if (alive && !over) return true;
    stream_close(s->a, s);
    return false;
}

typedef struct replay {
    api_agui_stream_t *s;
    strbuf_t *sb;
    bool over;
} replay_t;

static int replay_event(void *ud, uint64_t seq, int64_t ts, const char *type, json_t *data) {
    replay_t *r = ud;
    (void)ts;
    r->over = translate(r->s, r->sb, seq, type, data);
    r->s->seq = seq;
    return r->over ? 1 : 0;
}

/* Whether the run, as the store has it now, has already stopped where a stream would end. */
static bool stopped_now(api_agui_stream_t *s, strbuf_t *sb) {
    json_t *row = store_run(s->a->store, s->run_id);
    const char *st = json_string_value(json_object_get(row, "status"));
    bool over = false;
    if (st && (!strcmp(st, "completed") || !strcmp(st, "cancelled") || !strcmp(st, "failed"))) {
        json_t *d = json_pack("{s:O?}", "error", json_object_get(row, "error"));
        over = translate(s, sb, s->seq,
                         !strcmp(st, "completed") ? "run.completed"
                         : !strcmp(st, "failed")  ? "run.failed"
                                                  : "run.cancelled",
                         d);
        json_decref(d);
    } else if (st && (!strcmp(st, "waiting_human") || !strcmp(st, "paused"))) {
        json_t *d = json_pack("{s:s, s:O?}", "status", st, "reason", json_object_get(row, "error"));
        over = translate(s, sb, s->seq, !strcmp(st, "paused") ? "run.paused" : "run.status", d);
        json_decref(d);
    }
    json_decref(row);
    return over;
}

/* Opens the stream for run_id. `after`: replay the journal after it (Last-Event-ID), or -1 for a
 * snapshot. A run whose first events are not committed yet gets its preamble when they are. */
static void stream_open(api_t *a, http_req_t *req, const char *run_id, const char *thread_id,
                        const char *agui_run_id, json_t *input, long long after, bool settle) {
    api_agui_stream_t *s = xcalloc(1, sizeof *s);
    *s = (api_agui_stream_t){a, req,   xstrdup(run_id),    xstrdup(thread_id), xstrdup(agui_run_id),
                             0, false, json_incref(input), json_object(),      a->agui};
    a->agui = s;
    http_stream_begin(req, 200, "text/event-stream");
    json_t *row = store_run(a->store, run_id);
    bool known = row != NULL;
    json_decref(row);
    if (!known) return; /* api_agui_event sends the preamble with the run's first commit */
    strbuf_t sb = {0};
    bool over = false;
    if (after >= 0) {
        frame(&sb, 0,
              json_pack("{s:s, s:s, s:s}", "type", "RUN_STARTED", "threadId", s->thread_id, "runId",
                        s->agui_run_id));
        s->started = true;
        s->seq = (uint64_t)after;
        replay_t r = {s, &sb, false};
        store_events(a->store, run_id, s->seq, replay_event, &r);
        over = r.over;
    } else {
        preamble(s, &sb);
    }
    /* A run that already stopped (and will journal nothing more until asked) ends the stream;
     * settle is false right after this request changed the run (its events are on their way). */
    if (!over && settle) over = stopped_now(s, &sb);
    flush(s, &sb, over);
}

void api_agui_event(api_t *a, const char *run_id, uint64_t seq, const char *type,
                    const json_t *data) {
    for (api_agui_stream_t *s = a->agui, *next; s; s = next) {
        next = s->next;
        if (strcmp(s->run_id, run_id)) continue;
        strbuf_t sb = {0};
        if (!s->started) preamble(s, &sb);
        bool over = false;
        if (seq > s->seq) {
            over = translate(s, &sb, seq, type, data);
            s->seq = seq;
        }
        flush(s, &sb, over);
    }
}

void api_agui_stop(api_t *a) {
    while (a->agui) stream_close(a, a->agui);
}

/* ---- routes -----------------------------------------------------------------------------------
 */

/* thread id -> run id, for threads this process started (a run id is a thread id too) */
static const char *thread_run(api_t *a, const char *thread) {
    const char *id = json_string_value(json_object_get(a->agui_threads, thread));
    return id ? id : thread;
}

/* The text of the last user message, or NULL. */
static const char *last_user_text(const json_t *messages) {
    const char *text = NULL;
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m) {
        if (!strcmp(json_string_value(json_object_get(m, "role")) ?: "", "user"))
            text = json_string_value(json_object_get(m, "content"));
    }
    return text;
}

/* Answers the interrupts the input resumes; false (and a 400/409 sent) when one cannot be. */
static bool apply_resume(http_req_t *req, api_t *a, engine_run_t *run, const json_t *resume) {
    size_t i;
    json_t *r;
    json_array_foreach(resume, i, r) {
        const char *id = json_string_value(json_object_get(r, "interruptId"));
        const char *dot = id ? strchr(id, '.') : NULL;
        bool cancelled =
            !strcmp(json_string_value(json_object_get(r, "status")) ?: "", "cancelled");
        char *err = NULL;
        engine_rc_t rc;
        if (!dot) {
            api_error(req, 400, "bad_request",
                      "resume[%zu].interruptId is not one this run gave out", i);
            return false;
        }
        if (!strcmp(dot + 1, "paused")) {
            rc = cancelled ? engine_cancel(run, "cancelled through AG-UI", &err)
                           : engine_unpause(run, &err);
        } else {
            json_t *payload = json_object_get(r, "payload");
            json_t *answer = json_is_object(payload) ? json_deep_copy(payload) : json_object();
            if (cancelled || !json_object_get(answer, "decision"))
                json_object_set_new(answer, "decision",
                                    json_string(cancelled ? "reject" : "approve"));
            if (!json_object_get(answer, "answered_by"))
                json_object_set_new(answer, "answered_by", json_string("ag-ui"));
            rc = engine_respond(run, dot + 1, answer, &err);
            json_decref(answer);
        }
        if (rc != ENGINE_OK) {
            bool bad = engine_rc_bad_request(rc);
            api_error(req, bad ? 400 : 409, bad ? "bad_request" : "conflict", "resume %s: %s", id,
                      err ? err : "?");
            free(err);
            return false;
        }
    }
    return true;
}

/* POST /api/v1/agui: RunAgentInput. */
void api_agui_run(http_req_t *req, api_t *a, char **params) {
    (void)params;
    json_error_t jerr;
    json_t *in = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!in) {
        api_error(req, 400, "bad_request", "the body is not JSON: %s (line %d, column %d)",
                  jerr.text, jerr.line, jerr.column);
        return;
    }
    const char *thread = json_string_value(json_object_get(in, "threadId"));
    const char *agui_run = json_string_value(json_object_get(in, "runId"));
    const json_t *messages = json_object_get(in, "messages"),
                 *fwd = json_object_get(in, "forwardedProps");
    if (!json_is_object(in) || !thread || !agui_run || !json_is_array(messages)) {
        api_error(req, 400, "bad_request",
                  "the body must be AG-UI's RunAgentInput {threadId, runId, messages, ...}");
        json_decref(in);
        return;
    }
    bool missing = true;
    char *err = NULL;
    const char *run_id = thread_run(a, thread);
    engine_run_t *run =
        !strncmp(run_id, "r-", 2) ? host_run(a->host, run_id, &missing, &err) : NULL;
    free(err);
    err = NULL;
    if (run) {
        /* A thread that goes on: its interrupts answered, a new user message as guidance. */
        const char *text = last_user_text(messages);
        if (!apply_resume(req, a, run, json_object_get(in, "resume"))) goto out;
        if (text && *text && !json_array_size(json_object_get(in, "resume"))) {
            json_t *ids = NULL;
            engine_message(run, NULL, NULL, text, "ag-ui", &ids, &err);
            json_decref(ids);
            free(err);
            err = NULL;
        }
        stream_open(a, req, engine_run_id(run), thread, agui_run, in, -1,
                    !json_array_size(json_object_get(in, "resume")));
        goto out;
    }
    /* A new thread: the workflow in forwardedProps, its inputs given or taken from the message. */
    json_t *body = json_pack("{s:O*, s:O*}", "workflow", json_object_get(fwd, "workflow"), "inputs",
                             json_object_get(fwd, "inputs"));
    json_t *inputs = json_object_get(body, "inputs");
    const char *text = last_user_text(messages);
    if (!json_object_get(body, "workflow")) {
        api_error(req, 400, "bad_request",
                  "a new thread needs forwardedProps.workflow (a template's name, a "
                  "workflow's text or object)");
        json_decref(body);
        goto out;
    }
    if (!inputs && text) json_object_set_new(body, "inputs", inputs = json_object());
    char *source = NULL, *path = NULL;
    size_t len;
    if (!api_workflow_text(a, json_object_get(body, "workflow"), &source, &len, &path)) {
        api_error(req, 400, "bad_request",
                  "forwardedProps.workflow is a template's name, a workflow's text or object");
        json_decref(body);
        goto out;
    }
    diag_list_t dl = {0};
    /* The message fills the first required input left empty, so "plan a todo app" starts sdlc. */
    workflow_t *probe = workflow_load(source, len, "workflow.yaml", a->catalog, host_subflow_exists,
                                      path ? (void *)a->templates_dir : NULL, &dl);
    if (probe && text && json_is_object(inputs)) {
        const char *k;
        json_t *decl;
        json_object_foreach(probe->inputs, k, decl) {
            if (json_is_true(json_object_get(decl, "required")) && !json_object_get(inputs, k)) {
                json_object_set_new(inputs, k, json_string(text));
                break;
            }
        }
    }
    workflow_free(probe);
    diag_list_free(&dl);
    run = host_start(a->host, source, len, path ? path : "workflow.yaml",
                     path ? a->templates_dir : NULL, NULL, inputs, &dl, &err);
    if (!run && dl.n)
        api_invalid_workflow(req, &dl);
    else if (!run)
        api_error(req, 422, "invalid_inputs", "%s", err ? err : "the run could not start");
    else {
        json_object_set_new(a->agui_threads, thread, json_string(engine_run_id(run)));
        stream_open(a, req, engine_run_id(run), thread, agui_run, in, -1, false);
    }
    diag_list_free(&dl);
    free(err);
    free(source);
    free(path);
    json_decref(body);
out:
    json_decref(in);
}

/* GET /api/v1/runs/{id}/agui: an existing run as AG-UI events; Last-Event-ID resumes after it. */
void api_agui_watch(http_req_t *req, api_t *a, char **params) {
    json_t *row = store_run(a->store, params[0]);
    if (!row) {
        api_error(req, 404, "not_found", "no run '%.100s'", params[0]);
        return;
    }
    json_decref(row);
    const char *last = req->last_event_id;
    long long after = -1;
    if (last && *last) {
        char *end;
        errno = 0;
        after = strtoll(last, &end, 10);
        if (*end || errno == ERANGE || after < 0) { /* past 64 bits saturates: no seq sent */
            api_error(req, 400, "bad_request",
                      "Last-Event-ID must be an event seq this stream sent");
            return;
        }
    }
    stream_open(a, req, params[0], params[0], params[0], NULL, after, true);
}
