/* chat_map.c - an OpenAI chat completion request read into what Baton's router takes (see
 * chat_map.h). Pure: no I/O, so the fuzzer drives it directly (tests/fuzz/fuzz_chat_map.c). */
#include "api/chat_map.h"
#include "llm/llm.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message's text: a string, or the text parts of an array of parts. */
static char *content_text(const json_t *content) {
    if (json_is_string(content)) return xstrdup(json_string_value(content));
    strbuf_t sb = {0};
    size_t i;
    json_t *part;
    json_array_foreach(content, i, part) {
        const char *t = json_string_value(json_object_get(part, "text"));
        if (t) {
            if (sb.len) sb_putc(&sb, '\n');
            sb_append(&sb, t, strlen(t));
        }
    }
    return sb_take(&sb);
}

void chat_map_free(chat_map_t *c) {
    free(c->system);
    free(c->prompt);
    json_decref(c->transcript);
    json_decref(c->tools);
    json_decref(c->schema);
    *c = (chat_map_t){0};
}

/* OpenAI's tool calls ([{id, type, function: {name, arguments}}]) in Baton's form. */
static json_t *calls_from_openai(const json_t *calls) {
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c) {
        const json_t *fn = json_object_get(c, "function");
        json_array_append_new(
            out, llm_tool_call(json_string_value(json_object_get(c, "id")),
                               json_string_value(json_object_get(fn, "name")),
                               json_string_value(json_object_get(fn, "arguments")), i));
    }
    return out;
}

int chat_map_read(const json_t *body, chat_map_t *c, char *err, size_t errlen) {
    *c = (chat_map_t){0};
    const json_t *messages = json_object_get(body, "messages");
    if (!json_array_size(messages)) {
        snprintf(err, errlen, "messages must be a non-empty array");
        return -1;
    }
    size_t last_user = (size_t)-1, i;
    json_t *m;
    json_array_foreach(messages, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!json_is_object(m) || !role) {
            snprintf(err, errlen, "messages[%zu] needs a role", i);
            return -1;
        }
        if (!strcmp(role, "user")) last_user = i;
    }
    if (last_user == (size_t)-1) {
        snprintf(err, errlen, "messages need at least one user message");
        return -1;
    }
    strbuf_t sys = {0}, before = {0};
    c->transcript = json_array();
    json_array_foreach(messages, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        char *text = content_text(json_object_get(m, "content"));
        if (!strcmp(role, "system") || !strcmp(role, "developer")) {
            if (sys.len) sb_append(&sys, "\n\n", 2);
            sb_append(&sys, text, strlen(text));
        } else if (i < last_user) {
            sb_printf(&before, "%s: %s\n\n",
                      !strcmp(role, "assistant") ? "Assistant"
                      : !strcmp(role, "user")    ? "User"
                                                 : role,
                      text);
        } else if (i == last_user) {
            if (before.len)
                c->prompt =
                    xasprintf("The conversation so far:\n\n%s\nNow:\n%s", sb_str(&before), text);
            else
                c->prompt = xstrdup(text);
        } else if (!strcmp(role, "assistant")) {
            json_array_append_new(c->transcript,
                                  json_pack("{s:s, s:s, s:o}", "role", "assistant", "text", text,
                                            "calls",
                                            calls_from_openai(json_object_get(m, "tool_calls"))));
        } else if (!strcmp(role, "tool")) {
            json_array_append_new(
                c->transcript,
                json_pack("{s:s, s:s, s:s, s:s, s:b}", "role", "tool", "id",
                          json_string_value(json_object_get(m, "tool_call_id")) ?: "", "name",
                          json_string_value(json_object_get(m, "name")) ?: "", "content", text,
                          "is_error", 0));
        }
        free(text);
    }
    c->system = sb_take(&sys);
    sb_free(&before);
    /* tools: [{type: function, function: {name, description, parameters}}] */
    const json_t *tools = json_object_get(body, "tools");
    if (json_array_size(tools)) {
        c->tools = json_array();
        json_array_foreach(tools, i, m) {
            const json_t *fn = json_object_get(m, "function");
            const char *name = json_string_value(json_object_get(fn, "name"));
            if (!name) {
                snprintf(err, errlen, "tools[%zu].function.name is required", i);
                return -1;
            }
            json_t *params = json_object_get(fn, "parameters");
            params = params ? json_incref(params) : json_pack("{s:s}", "type", "object");
            json_array_append_new(
                c->tools, json_pack("{s:s, s:s, s:o}", "name", name, "description",
                                    json_string_value(json_object_get(fn, "description")) ?: "",
                                    "parameters", params));
        }
    }
    const json_t *rf = json_object_get(body, "response_format");
    const char *rft = json_string_value(json_object_get(rf, "type"));
    c->format = rft && (!strcmp(rft, "json_object") || !strcmp(rft, "json_schema")) ? OUTPUT_JSON
                                                                                    : OUTPUT_TEXT;
    c->schema = json_incref(json_object_get(json_object_get(rf, "json_schema"), "schema"));
    /* a number out of its range is refused, never clamped or cut (2^40 tokens became 0); null
     * is as good as absent (some clients send every field) */
    const char *mt_key = "max_completion_tokens";
    const json_t *mt = json_object_get(body, mt_key);
    if (json_is_null(mt) || !mt) mt = json_object_get(body, mt_key = "max_tokens");
    if (mt && !json_is_null(mt) &&
        (!json_is_integer(mt) || json_integer_value(mt) < 1 || json_integer_value(mt) > INT_MAX)) {
        snprintf(err, errlen, "%s must be a whole number from 1 to %d", mt_key, INT_MAX);
        return -1;
    }
    c->max_tokens = json_is_integer(mt) ? (int)json_integer_value(mt) : 1024;
    const json_t *t = json_object_get(body, "temperature");
    if (t && !json_is_null(t) &&
        (!json_is_number(t) || json_number_value(t) < 0 || json_number_value(t) > 2)) {
        snprintf(err, errlen, "temperature must be a number from 0 to 2");
        return -1;
    }
    c->temperature = json_is_number(t) ? json_number_value(t) : 1.0;
    return 0;
}
