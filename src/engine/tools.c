/* tools.c - the registry of built-in tools (see tools.h): what each is offered as, and running
 * read_artifact, write_artifact and ask_human. http_fetch runs in tool_http.c.
 *
 * Tools never fail a task: whatever goes wrong (bad arguments, an unknown artifact, a refused
 * URL) becomes an error result that goes back to the model, which may try again or answer. */
#include "engine/engine_internal.h"
#include "engine/tools.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* read_artifact hands back at most this much of an artifact (the model's context is finite). */
#define READ_ARTIFACT_MAX (256 * 1024)

bool tools_artifact_name_ok(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 128 || name[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_';
        if (!ok) return false;
    }
    /* The names Baton gives files of its own in the run's folder are not the model's: a later
     * version of NAME.EXT is NAME.vN.EXT, and a file being written is NAME.tmp. */
    if (n >= 4 && !strcmp(name + n - 4, ".tmp")) return false;
    for (const char *p = strstr(name, ".v"); p; p = strstr(p + 1, ".v")) {
        const char *d = p + 2;
        while (*d >= '0' && *d <= '9') d++;
        if (d > p + 2 && (*d == '.' || *d == '\0')) return false;
    }
    return true;
}

/* ---- definitions ------------------------------------------------------------------------- */

/* Marks task i and every task it depends on, transitively (one walk: O(tasks + edges)).
 * Caller frees. */
static bool *upstream_of(const workflow_t *wf, uint32_t i) {
    bool *seen = xcalloc(wf->n_tasks, sizeof *seen);
    uint32_t *stack = xmalloc(wf->n_tasks * sizeof *stack);
    size_t top = 0;
    seen[i] = true;
    stack[top++] = i;
    while (top) {
        const wf_task_t *t = &wf->tasks[stack[--top]];
        for (size_t d = 0; d < t->n_deps; d++)
            if (!seen[t->dep_index[d]]) {
                seen[t->dep_index[d]] = true;
                stack[top++] = t->dep_index[d];
            }
    }
    free(stack);
    return seen;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* read_artifact's `name` lists, as an enum, the artifacts of the tasks this one depends on (and
 * its own), sorted: models pick a real name instead of guessing one, and the list does not
 * depend on how parallel branches happened to finish (the offline model reads the first).
 * Any artifact of the run can still be read by name. */
static json_t *params_read_artifact(engine_run_t *run, uint32_t i) {
    json_t *name = json_pack("{s:s, s:s}", "type", "string", "description",
                             "The artifact's file name, e.g. requirements.md");
    size_t n = 0;
    const char **list = xcalloc(json_object_size(run->artifact_owner) + 1, sizeof *list);
    bool *up = upstream_of(run->wf, i);
    const char *k;
    json_t *v;
    json_object_foreach(run->artifact_owner, k, v) {
        int owner = workflow_task_index(run->wf, json_string_value(v));
        if (owner >= 0 && up[owner]) list[n++] = k;
    }
    free(up);
    qsort(list, n, sizeof *list, by_name);
    json_t *names = json_array();
    for (size_t j = 0; j < n; j++) json_array_append_new(names, json_string(list[j]));
    free(list);
    if (json_array_size(names))
        json_object_set_new(name, "enum", names);
    else
        json_decref(names);
    return json_pack("{s:s, s:{s:o}, s:[s], s:b}", "type", "object", "properties", "name", name,
                     "required", "name", "additionalProperties", 0);
}

static json_t *params_write_artifact(engine_run_t *run, uint32_t i) {
    (void)run;
    (void)i;
    return json_pack("{s:s, s:{s:{s:s, s:s}, s:{s:s, s:s}}, s:[ss], s:b}", "type", "object",
                     "properties", "name", "type", "string", "description",
                     "File name: letters, digits, '.', '_' or '-' (no folders), e.g. notes.md",
                     "content", "type", "string", "description", "The whole text of the file",
                     "required", "name", "content", "additionalProperties", 0);
}

static json_t *params_http_fetch(engine_run_t *run, uint32_t i) {
    (void)run;
    (void)i;
    return json_pack(
        "{s:s, s:{s:{s:s, s:s}, s:{s:s, s:[ssssss], s:s}, s:{s:s, s:{s:s}, s:s}, s:{s:s, s:s}},"
        " s:[s], s:b}",
        "type", "object", "properties", "url", "type", "string", "description",
        "An http:// or https:// URL", "method", "type", "string", "enum", "GET", "HEAD", "POST",
        "PUT", "PATCH", "DELETE", "description",
        "GET (the default) or HEAD read; POST, PUT, PATCH and DELETE only work on hosts the "
        "operator allowed to be written",
        "headers", "type", "object", "additionalProperties", "type", "string", "description",
        "Request headers, name to value", "body", "type", "string", "description",
        "The request body (POST, PUT, PATCH), sent as it is", "required", "url",
        "additionalProperties", 0);
}

static json_t *params_ask_human(engine_run_t *run, uint32_t i) {
    (void)run;
    (void)i;
    return json_pack("{s:s, s:{s:{s:s, s:s}}, s:[s], s:b}", "type", "object", "properties",
                     "question", "type", "string", "description",
                     "What to ask, complete enough to answer without other context", "required",
                     "question", "additionalProperties", 0);
}

typedef struct tool_spec {
    const char *name, *description;
    json_t *(*params)(engine_run_t *run, uint32_t task);
} tool_spec_t;

static const tool_spec_t TOOLS[] = {
    {"read_artifact", "Read an artifact (a file written earlier in this run) by its name.",
     params_read_artifact},
    {"write_artifact",
     "Write a text file as an artifact of this run (a new version if the name "
     "exists). Returns the name and version written.",
     params_write_artifact},
    {"http_fetch",
     "Send an HTTP request (GET by default) and return the status and the body (text, possibly "
     "cut). Only hosts the operator allowed can be fetched, and written to only where allowed.",
     params_http_fetch},
    {"ask_human",
     "Ask a person a question and wait for the answer. Use only when the task "
     "cannot be done without it.",
     params_ask_human},
};

static const tool_spec_t *find_tool(const char *name) {
    for (size_t i = 0; name && i < sizeof TOOLS / sizeof *TOOLS; i++)
        if (!strcmp(TOOLS[i].name, name)) return &TOOLS[i];
    return NULL;
}

static bool agent_has(const wf_agent_t *a, const char *name) {
    for (size_t i = 0; a && name && i < a->n_tools; i++)
        if (!strcmp(a->tools[i], name)) return true;
    return false;
}

json_t *tools_definitions(engine_run_t *run, uint32_t task) {
    const wf_agent_t *a = run->wf->tasks[task].agent;
    if (!a || !a->n_tools) return NULL;
    json_t *defs = json_array();
    for (size_t i = 0; i < a->n_tools; i++) {
        const tool_spec_t *t = find_tool(a->tools[i]);
        if (!t) continue; /* the loader refuses unknown names; a journaled agent could differ */
        json_array_append_new(defs, json_pack("{s:s, s:s, s:o}", "name", t->name, "description",
                                              t->description, "parameters", t->params(run, task)));
    }
    return defs;
}

/* ---- running ----------------------------------------------------------------------------- */

static tool_status_t done(char **content, bool *is_error, bool error, char *text) {
    *content = text;
    *is_error = error;
    return TOOL_DONE;
}

static const char *arg_str(const json_t *call, const char *key) {
    return json_string_value(json_object_get(json_object_get(call, "arguments"), key));
}

static tool_status_t read_artifact(engine_run_t *run, uint32_t i, const json_t *call,
                                   char **content, bool *is_error) {
    (void)i;
    const char *name = arg_str(call, "name");
    if (!name)
        return done(content, is_error, true, xstrdup("read_artifact needs {\"name\": \"FILE\"}"));
    if (!tools_artifact_name_ok(name))
        return done(content, is_error, true,
                    xasprintf("'%.200s' is not an artifact name: names are letters, digits, '.', "
                              "'_' or '-' (no folders, no leading dot)",
                              name));
    json_t *text = json_object_get(run->scope_artifacts, name);
    if (!json_is_string(text)) {
        strbuf_t list = {0};
        const char *k;
        json_t *v;
        json_object_foreach(run->scope_artifacts, k, v)
            sb_printf(&list, "%s%s", list.len ? ", " : "", k);
        char *msg = xasprintf("this run has no artifact '%s' (it has: %s)", name,
                              list.len ? sb_str(&list) : "none yet");
        sb_free(&list);
        return done(content, is_error, true, msg);
    }
    size_t len = json_string_length(text);
    if (len <= READ_ARTIFACT_MAX)
        return done(content, is_error, false, xstrdup(json_string_value(text)));
    /* Cut on a UTF-8 boundary: the result is journaled as a JSON string. */
    size_t n = READ_ARTIFACT_MAX;
    const char *s = json_string_value(text);
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return done(content, is_error, false,
                xasprintf("%.*s\n[cut: the artifact has %zu bytes, this is the first %zu]", (int)n,
                          s, len, n));
}

static tool_status_t write_artifact(engine_run_t *run, uint32_t i, const json_t *call,
                                    char **content, bool *is_error) {
    const char *name = arg_str(call, "name");
    const json_t *text = json_object_get(json_object_get(call, "arguments"), "content");
    if (!name || !json_is_string(text))
        return done(content, is_error, true,
                    xstrdup("write_artifact needs {\"name\": \"FILE\", \"content\": \"TEXT\"}"));
    if (!tools_artifact_name_ok(name))
        return done(content, is_error, true,
                    xasprintf("'%.200s' is not an artifact name: use letters, digits, '.', '_' or "
                              "'-' (no folders, no leading dot), e.g. notes.md",
                              name));
    const wf_task_t *t = &run->wf->tasks[i];
    int version = (int)json_integer_value(json_object_get(run->artifact_versions, name)) + 1;
    char *err = NULL;
    json_t *art = artifact_write(run->eng->o.artifacts_dir, run->st.run_id, t->id,
                                 t->agent ? t->agent->id : NULL, name, version,
                                 json_string_value(text), json_string_length(text), &err);
    if (!art)
        return done(content, is_error, true,
                    xasprintf("could not write %s: %s", name, err ? err : "?"));
    free(err);
    json_object_set(run->scope_artifacts, name, (json_t *)text);
    json_object_set_new(run->artifact_versions, name, json_integer(version));
    run_emit(run, "artifact.written", art);
    return done(
        content, is_error, false,
        xasprintf("wrote %s (version %d, %zu bytes)", name, version, json_string_length(text)));
}

static tool_status_t ask_human(engine_run_t *run, uint32_t i, const json_t *call, char **content,
                               bool *is_error) {
    const char *q = arg_str(call, "question");
    if (!q || !*q)
        return done(content, is_error, true, xstrdup("ask_human needs {\"question\": \"...\"}"));
    const wf_task_t *t = &run->wf->tasks[i];
    char *desc = xasprintf("Asked by agent %s in task %s (ask_human).",
                           t->agent ? t->agent->id : "?", t->id);
    /* An input step like any other: the terminal prompts for it, `baton approvals respond`
     * answers it (--feedback is the answer). It has no deadline: the agent waits. */
    run_emit(run, "approval.requested",
             json_pack("{s:s, s:s, s:s, s:s, s:f, s:{s:O, s:O}, s:I}", "task", t->id, "kind",
                       "input", "title", q, "description", desc, "timeout_s", 0.0, "tool_call",
                       "id", json_object_get(call, "id"), "name", json_object_get(call, "name"),
                       "requested_at", (json_int_t)engine_now_ms()));
    free(desc);
    return TOOL_HUMAN;
}

/* The agent loop's report of a fetch that finished later. */
static void loop_done(engine_run_t *run, uint32_t i, const json_t *call, const char *content,
                      bool is_error, int64_t ms) {
    tool_loop_result(run, i, call, content, is_error, ms);
    tool_loop_run(run, i);
}

tool_status_t tools_run(engine_run_t *run, uint32_t i, const json_t *call, tool_done_fn cb,
                        char **content, bool *is_error) {
    const char *name = json_string_value(json_object_get(call, "name"));
    const char *bad = json_string_value(json_object_get(call, "invalid_arguments"));
    if (!find_tool(name))
        return done(content, is_error, true,
                    xasprintf("there is no tool '%.100s'", name ? name : ""));
    if (bad)
        return done(content, is_error, true,
                    xasprintf("the arguments of %s must be a JSON object; got: %s", name, bad));
    if (!strcmp(name, "read_artifact")) return read_artifact(run, i, call, content, is_error);
    if (!strcmp(name, "write_artifact")) return write_artifact(run, i, call, content, is_error);
    if (!strcmp(name, "ask_human")) return ask_human(run, i, call, content, is_error);
    return tool_http_fetch(run, i, call, cb, content, is_error);
}

tool_status_t tools_start(engine_run_t *run, uint32_t i, const json_t *call, char **content,
                          bool *is_error) {
    const wf_agent_t *a = run->wf->tasks[i].agent;
    const char *name = json_string_value(json_object_get(call, "name"));
    if (!agent_has(a, name)) {
        strbuf_t list = {0};
        for (size_t k = 0; a && k < a->n_tools; k++)
            sb_printf(&list, "%s%s", k ? ", " : "", a->tools[k]);
        char *msg = xasprintf("there is no tool '%.100s' here; this agent can use: %s",
                              name ? name : "", list.len ? sb_str(&list) : "none");
        sb_free(&list);
        return done(content, is_error, true, msg);
    }
    return tools_run(run, i, call, loop_done, content, is_error);
}

/* ---- configuration ------------------------------------------------------------------------ */

/* An allow_hosts entry written as a mapping: {host: NAME, methods: [POST, ...]}, the methods
 * beyond GET and HEAD (always allowed) that may be sent to that host. */
static int allow_entry_check(const json_t *e, size_t i, char **err) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)e, k, v) {
        if (strcmp(k, "host") && strcmp(k, "methods")) {
            *err = xasprintf("tools.http_fetch.allow_hosts[%zu].%s: unknown key (host, methods)", i,
                             k);
            return -1;
        }
    }
    const json_t *host = json_object_get(e, "host"), *methods = json_object_get(e, "methods");
    if (!json_is_string(host) || !*json_string_value(host)) {
        *err = xasprintf("tools.http_fetch.allow_hosts[%zu].host: expected a host name, e.g. "
                         "{host: api.example.com, methods: [POST]}",
                         i);
        return -1;
    }
    size_t j;
    json_t *m;
    bool ok = json_is_array(methods) && json_array_size(methods);
    json_array_foreach(methods, j, m) ok = ok && tools_http_method(json_string_value(m));
    if (!ok) {
        *err = xasprintf("tools.http_fetch.allow_hosts[%zu].methods: expected a list of GET, HEAD, "
                         "POST, PUT, PATCH or DELETE, e.g. [POST, PUT]",
                         i);
        return -1;
    }
    return 0;
}

int tools_config_check(const json_t *tools, char **err) {
    if (!tools || json_is_null(tools)) return 0;
    if (!json_is_object(tools)) {
        *err =
            xstrdup("tools is a mapping, e.g. tools: {http_fetch: {allow_hosts: [example.com]}}");
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)tools, k, v) {
        if (strcmp(k, "http_fetch")) {
            *err = xasprintf("tools.%s: only http_fetch is configured here (the other tools need "
                             "no settings)",
                             k);
            return -1;
        }
        if (!json_is_object(v)) {
            *err = xstrdup("tools.http_fetch is a mapping {allow_hosts, max_bytes, timeout}");
            return -1;
        }
        const char *hk;
        json_t *hv;
        json_object_foreach(v, hk, hv) {
            bool ok = true;
            if (!strcmp(hk, "allow_hosts")) {
                size_t n;
                json_t *h;
                ok = json_is_array(hv);
                json_array_foreach(hv, n, h) {
                    if (ok && json_is_object(h)) {
                        if (allow_entry_check(h, n, err) != 0) return -1;
                    } else {
                        ok = ok && json_is_string(h) && *json_string_value(h);
                    }
                }
            } else if (!strcmp(hk, "max_bytes")) {
                ok = json_is_integer(hv) && json_integer_value(hv) > 0 &&
                     json_integer_value(hv) <= 64 * 1024 * 1024;
            } else if (!strcmp(hk, "allow_private")) {
                ok = json_is_boolean(hv);
            } else if (!strcmp(hk, "timeout")) {
                ok = (json_is_number(hv) && json_number_value(hv) > 0) ||
                     (json_is_string(hv) && wf_parse_duration(json_string_value(hv)) > 0);
            } else {
                *err = xasprintf("tools.http_fetch.%s: unknown key (allow_hosts, allow_private, "
                                 "max_bytes, timeout)",
                                 hk);
                return -1;
            }
            if (!ok) {
                *err = xasprintf("tools.http_fetch.%s: expected %s", hk,
                                 !strcmp(hk, "allow_hosts")
                                     ? "a list of host names or {host, methods} entries, e.g. "
                                       "[example.com, {host: api.example.org, methods: [POST]}]"
                                 : !strcmp(hk, "max_bytes")
                                     ? "a whole number of bytes from 1 to 67108864"
                                 : !strcmp(hk, "allow_private") ? "true or false"
                                                                : "a duration such as 10s");
                return -1;
            }
        }
    }
    return 0;
}
