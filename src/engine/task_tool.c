/* task_tool.c - `type: tool` tasks (spec section 7): the task's args are rendered like any
 * template and its tool runs through the same registry agents use (tools.c). The result is the
 * task's output: for http_fetch, outputs {status, body}; for the others {text}. A tool's error
 * fails the attempt (retried as the task says when a fetch failed on the network).
 *
 * ask_human is refused here: a question for a person is a `type: human` task with
 * `kind: input`, which has the options, deadline and on_timeout such a step needs. */
#include "core/template.h"
#include "engine/engine_internal.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tool_task_finished(engine_run_t *run, uint32_t i, const json_t *call, const char *raw,
                               bool is_error, int64_t ms) {
    (void)ms;
    const char *name = json_string_value(json_object_get(call, "name"));
    /* It is journaled as a JSON string (an error message may quote arguments cut mid-character) */
    char *content = utf8_valid(raw, raw ? strlen(raw) : 0);
    if (is_error) {
        /* A network failure may pass; a refusal or bad arguments will not. */
        bool retryable = !strncmp(content, "fetch failed", 12);
        char *msg = xasprintf("%s: %s", name ? name : "tool", *content ? content : "failed");
        task_attempt_failed(run, i, msg, retryable, 0);
        free(msg);
        free(content);
        return;
    }
    json_t *outputs = NULL;
    long status;
    int body_at = 0;
    if (name && !strcmp(name, "http_fetch") &&
        sscanf(content, "HTTP %ld\n\n%n", &status, &body_at) == 1 && body_at > 0)
        outputs = json_pack("{s:i, s:s}", "status", (int)status, "body", content + body_at);
    if (!outputs) outputs = json_pack("{s:s}", "text", content);
    task_attempt_succeeded(run, i, content, outputs, 0, false);
    free(content);
}

void tool_task_dispatch(engine_run_t *run, uint32_t i) {
    const wf_task_t *t = &run->wf->tasks[i];
    if (!strcmp(t->tool, "ask_human")) {
        task_attempt_failed(run, i,
                            "ask_human is for agents; a question for a person is a "
                            "`type: human` task with `kind: input`",
                            false, 0);
        return;
    }
    task_scope_t sc;
    task_scope_init(&sc, run, i);
    json_t *args = NULL;
    expr_error_t err;
    int rc = tmpl_render_value(t->args, &sc.local, &args, &err);
    task_scope_free(&sc);
    if (rc != 0 || !json_is_object(args)) {
        char *msg = rc ? xasprintf("template: %s", err.message) : xstrdup("args must be a mapping");
        json_decref(args);
        task_attempt_failed(run, i, msg, false, 0);
        free(msg);
        return;
    }
    json_t *call = json_pack("{s:s, s:s, s:o}", "id", "task", "name", t->tool, "arguments", args);
    char *content = NULL;
    bool error = false;
    task_arm_timeout(run, i);
    if (tools_run(run, i, call, tool_task_finished, &content, &error) == TOOL_DONE) {
        tool_task_finished(run, i, call, content, error, 0);
        free(content);
    }
    json_decref(call);
}
