/* anthropic.c - Anthropic Messages over SSE (see anthropic.h). */
#include "llm/anthropic.h"
#include "llm/http_provider.h"
#include "llm/sse.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANTHROPIC_VERSION "2023-06-01"
#define OUTPUT_TOOL       "output"

/* Anthropic bills a prompt-cache write at 1.25 times the model's input price (5-minute cache;
 * https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#pricing). The configuration
 * has no price for it, so it is derived from input_per_million. */
#define CACHE_WRITE_PREMIUM 1.25

struct llm_call {
    http_provider_t *p;
    http_call_t hc; /* the request, or its deferred refusal */
    output_format_t format;
    bool forced_tool;     /* the answer is the input of the forced `output` tool */
    bool wrapped;         /* ... under "value" (the schema's root is not an object) */
    strbuf_t raw;         /* every byte received, CRs dropped (error bodies are plain JSON) */
    size_t parsed;        /* how much of raw the SSE parser consumed */
    strbuf_t text;        /* the text blocks, assembled */
    strbuf_t tool_json;   /* the forced tool's input, from input_json_delta */
    char *tool_start;     /* the tool's input as content_block_start gave it (compact JSON) */
    long tool_index;      /* the content block carrying the tool's input, -1 before it starts */
    llm_tool_asm_t calls; /* tool_use blocks of the agent's own tools, by block index */
    int64_t in_tokens, out_tokens, cache_read, cache_write;
    bool finished; /* message_stop seen */
    char *stream_error;
    llm_error_kind_t stream_error_kind;
};

/* Tool input schemas must be objects: any other root is wrapped as {value: schema}, with its
 * definitions hoisted so that "#/$defs/..." references still resolve. */
static json_t *tool_schema(const json_t *schema, bool *wrapped) {
    const char *type = json_string_value(json_object_get(schema, "type"));
    if ((type && !strcmp(type, "object")) ||
        (!json_object_get(schema, "type") &&
         json_is_object(json_object_get(schema, "properties")))) {
        *wrapped = false;
        return json_deep_copy(schema);
    }
    *wrapped = true;
    json_t *inner = json_deep_copy(schema);
    json_t *out =
        json_pack("{s:s, s:{}, s:[s]}", "type", "object", "properties", "required", "value");
    static const char *const hoist[] = {"$defs", "definitions"};
    for (size_t i = 0; i < sizeof hoist / sizeof *hoist; i++) {
        json_t *d = json_object_get(inner, hoist[i]);
        if (d) {
            json_object_set(out, hoist[i], d);
            json_object_del(inner, hoist[i]);
        }
    }
    json_object_set_new(json_object_get(out, "properties"), "value", inner);
    return out;
}

/* The transcript as Messages turns: an assistant message with its text and tool_use blocks, then
 * ONE user message holding every tool_result of that turn (the API wants them together). */
static void add_transcript(json_t *messages, const json_t *transcript) {
    json_t *results = NULL; /* the user message being filled with tool_result blocks */
    size_t i;
    const json_t *turn;
    json_array_foreach(transcript, i, turn) {
        const char *role = json_string_value(json_object_get(turn, "role"));
        if (role && !strcmp(role, "assistant")) {
            results = NULL;
            json_t *blocks = json_array();
            const char *text = json_string_value(json_object_get(turn, "text"));
            if (text && *text)
                json_array_append_new(blocks,
                                      json_pack("{s:s, s:s}", "type", "text", "text", text));
            size_t k;
            const json_t *c;
            json_array_foreach(json_object_get(turn, "calls"), k, c) json_array_append_new(
                blocks, json_pack("{s:s, s:O, s:O, s:O}", "type", "tool_use", "id",
                                  json_object_get(c, "id"), "name", json_object_get(c, "name"),
                                  "input", json_object_get(c, "arguments")));
            json_array_append_new(messages,
                                  json_pack("{s:s, s:o}", "role", "assistant", "content", blocks));
        } else if (role && !strcmp(role, "tool")) {
            if (!results) {
                results = json_array();
                json_array_append_new(messages,
                                      json_pack("{s:s, s:o}", "role", "user", "content", results));
            }
            json_t *b =
                json_pack("{s:s, s:O, s:s}", "type", "tool_result", "tool_use_id",
                          json_object_get(turn, "id"), "content", llm_tool_result_text(turn));
            if (json_is_true(json_object_get(turn, "is_error")))
                json_object_set_new(b, "is_error", json_true());
            json_array_append_new(results, b);
        }
    }
}

static json_t *build_body(const http_provider_t *p, const llm_request_t *req, llm_call_t *c) {
    /* Anthropic's temperature runs 0..1 (OpenAI's 0..2, which a workflow may use). */
    double temp = req->temperature < 0 ? 0 : req->temperature > 1 ? 1 : req->temperature;
    json_t *messages =
        json_pack("[{s:s, s:s}]", "role", "user", "content", req->prompt ? req->prompt : "");
    add_transcript(messages, req->transcript);
    json_t *body = json_pack("{s:s, s:o, s:i, s:f, s:b}", "model", p->model, "messages", messages,
                             "max_tokens", req->max_tokens > 0 ? req->max_tokens : 1024,
                             "temperature", temp, "stream", 1);
    if (req->system && *req->system) json_object_set_new(body, "system", json_string(req->system));
    json_t *tools = json_array();
    size_t i;
    const json_t *t;
    json_array_foreach(req->tools, i, t) json_array_append_new(
        tools, json_pack("{s:O, s:O, s:O}", "name", json_object_get(t, "name"), "description",
                         json_object_get(t, "description"), "input_schema",
                         json_object_get(t, "parameters")));
    bool own_tools = json_array_size(tools) > 0;
    /* Without a schema the system prompt already asks for JSON only (engine/prompt.c). */
    if (req->format == OUTPUT_JSON && json_is_object(req->schema)) {
        c->forced_tool = true;
        json_t *schema = tool_schema(req->schema, &c->wrapped);
        json_array_append_new(tools,
                              json_pack("{s:s, s:s, s:o}", "name", OUTPUT_TOOL, "description",
                                        "Give the answer: its input is the whole output.",
                                        "input_schema", schema));
        /* With the agent's own tools too, the model must call one of them: a tool it needs, or
         * `output` once it can answer. */
        json_object_set_new(body, "tool_choice",
                            own_tools
                                ? json_pack("{s:s}", "type", "any")
                                : json_pack("{s:s, s:s}", "type", "tool", "name", OUTPUT_TOOL));
    }
    if (json_array_size(tools))
        json_object_set_new(body, "tools", tools);
    else
        json_decref(tools);
    return body;
}

/* Which kind of failure an Anthropic error is; status 0 for an error event inside a stream. */
static llm_error_kind_t classify(long status, const char *type, const char *message) {
    if (status == 429 || (type && !strcmp(type, "rate_limit_error"))) return LLM_ERR_RATE_LIMIT;
    if (status == 529 || (type && !strcmp(type, "overloaded_error"))) return LLM_ERR_OVERLOADED;
    if (status >= 500 || (type && !strcmp(type, "api_error"))) return LLM_ERR_SERVER;
    if (status == 401 || status == 403 ||
        (type && (!strcmp(type, "authentication_error") || !strcmp(type, "permission_error"))))
        return LLM_ERR_AUTH;
    /* Anthropic refuses to spend with a 400 invalid_request_error: "Your credit balance is too
     * low ...". Not worth retrying here, but another provider may well answer. */
    if (status == 402 || (message && strstr(message, "credit balance"))) return LLM_ERR_BUDGET;
    return LLM_ERR_OTHER;
}

/* message_start's message.usage and message_delta's usage: every count present is cumulative. */
static void take_usage(llm_call_t *c, const json_t *usage) {
    json_t *v;
    if ((v = json_object_get(usage, "input_tokens")) && json_is_integer(v))
        c->in_tokens = json_integer_value(v);
    if ((v = json_object_get(usage, "cache_read_input_tokens")) && json_is_integer(v))
        c->cache_read = json_integer_value(v);
    if ((v = json_object_get(usage, "cache_creation_input_tokens")) && json_is_integer(v))
        c->cache_write = json_integer_value(v);
    if ((v = json_object_get(usage, "output_tokens")) && json_is_integer(v))
        c->out_tokens = json_integer_value(v);
}

static void stream_fail(llm_call_t *c, llm_error_kind_t kind, char *msg) {
    if (c->stream_error) {
        free(msg);
        return;
    }
    c->stream_error = msg;
    c->stream_error_kind = kind;
}

/* One SSE event: `event` is its name (may be NULL), `data` its JSON. */
static void take_event(llm_call_t *c, const char *event, const char *data) {
    json_error_t jerr;
    json_t *ev = json_loads(data, 0, &jerr);
    if (!ev) {
        stream_fail(c, LLM_ERR_MALFORMED, xasprintf("malformed stream event (%s)", jerr.text));
        return;
    }
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (!type) type = event ? event : "";
    long index = (long)json_integer_value(json_object_get(ev, "index"));
    if (!strcmp(type, "message_start")) {
        take_usage(c, json_object_get(json_object_get(ev, "message"), "usage"));
    } else if (!strcmp(type, "content_block_start")) {
        json_t *block = json_object_get(ev, "content_block");
        const char *bt = json_string_value(json_object_get(block, "type"));
        if (bt && !strcmp(bt, "text")) {
            const char *t = json_string_value(json_object_get(block, "text"));
            http_provider_text(&c->hc, &c->text, t);
        } else if (bt && !strcmp(bt, "tool_use")) {
            const char *name = json_string_value(json_object_get(block, "name"));
            json_t *input = json_object_get(block, "input");
            char *start = json_is_object(input) && json_object_size(input)
                              ? json_dumps(input, JSON_COMPACT)
                              : NULL;
            if (c->forced_tool && c->tool_index < 0 && name && !strcmp(name, OUTPUT_TOOL)) {
                c->tool_index = index;
                c->tool_start = start;
                start = NULL;
            } else if (!c->forced_tool || !name || strcmp(name, OUTPUT_TOOL)) {
                llm_tool_asm_add(&c->calls, index, json_string_value(json_object_get(block, "id")),
                                 name ? name : "", start);
            }
            free(start);
        }
    } else if (!strcmp(type, "content_block_delta")) {
        json_t *delta = json_object_get(ev, "delta");
        const char *dt = json_string_value(json_object_get(delta, "type"));
        if (dt && !strcmp(dt, "text_delta")) {
            const char *t = json_string_value(json_object_get(delta, "text"));
            http_provider_text(&c->hc, &c->text, t);
        } else if (dt && !strcmp(dt, "input_json_delta")) {
            const char *t = json_string_value(json_object_get(delta, "partial_json"));
            if (t && index == c->tool_index)
                sb_puts(&c->tool_json, t);
            else if (t) {
                /* only to a block that started as a tool_use of the agent's tools */
                for (size_t k = 0; k < c->calls.n; k++)
                    if (c->calls.parts[k].index == index)
                        llm_tool_asm_add(&c->calls, index, NULL, NULL, t);
            }
        }
        /* thinking_delta, signature_delta, citations: not part of the answer */
    } else if (!strcmp(type, "message_delta")) {
        take_usage(c, json_object_get(ev, "usage"));
    } else if (!strcmp(type, "message_stop")) {
        c->finished = true;
    } else if (!strcmp(type, "error")) {
        json_t *e = json_object_get(ev, "error");
        const char *etype = json_string_value(json_object_get(e, "type"));
        const char *emsg = json_string_value(json_object_get(e, "message"));
        llm_error_kind_t kind = classify(0, etype, emsg);
        /* A stream that broke for a reason we do not know: another model may well answer. */
        if (kind == LLM_ERR_OTHER && !(etype && !strcmp(etype, "invalid_request_error")))
            kind = LLM_ERR_MALFORMED;
        stream_fail(c, kind,
                    xasprintf("error in stream%s%s%s%s%s", etype ? " (" : "", etype ? etype : "",
                              etype ? ")" : "", emsg ? ": " : "", emsg ? emsg : ""));
    }
    /* ping, content_block_stop and event types added later: nothing to do */
    json_decref(ev);
}

static void sse_event(void *ud, const char *event, const char *data) {
    take_event(ud, event, data);
}

static int on_data(void *ud, const char *data, size_t len) {
    llm_call_t *c = ud;
    sse_feed(&c->raw, &c->parsed, data, len, sse_event, c);
    return 0;
}

static void call_free(llm_call_t *c) {
    sb_free(&c->raw);
    sb_free(&c->text);
    sb_free(&c->tool_json);
    llm_tool_asm_free(&c->calls);
    free(c->tool_start);
    free(c->stream_error);
    free(c);
}

static int64_t received_tokens(const llm_call_t *c) {
    return llm_estimate_tokens(sb_str(&c->text)) + llm_estimate_tokens(sb_str(&c->tool_json));
}

/* The answer of a forced tool: its input as compact JSON, unwrapped from "value" when the schema
 * was. Input that does not parse is handed on as it came: the engine's validator says why. */
static void tool_answer(llm_call_t *c, llm_response_t *r) {
    const char *src = c->tool_json.len ? sb_str(&c->tool_json)
                      : c->tool_start  ? c->tool_start
                                       : "{}";
    json_t *input = json_loads(src, 0, NULL);
    json_t *v = input;
    if (input && c->wrapped) v = json_object_get(input, "value");
    if (!v) {
        r->text = xstrdup(src);
        json_decref(input);
        return;
    }
    r->json = json_incref(v);
    json_decref(input);
    r->text = json_dumps(r->json, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void on_done(void *ud, const http_result_t *res) {
    llm_call_t *c = ud;
    http_provider_t *p = c->p;
    c->hc.req = NULL;
    char *msg = NULL;
    llm_error_t err = {.status = (int)res->status, .retry_after_ms = res->retry_after_ms};
    bool complete = res->status == 200 && c->finished && !c->stream_error;
    bool timeout = res->error && (strstr(res->error, "timeout") || strstr(res->error, "Timeout") ||
                                  strstr(res->error, "timed out"));
    if (complete) {
        /* the answer is whole, even if the transport failed after message_stop */
    } else if (res->error && (res->status != 200 || timeout)) {
        err.kind = timeout ? LLM_ERR_TIMEOUT : LLM_ERR_CONNECTION;
        msg = xasprintf("%s: %s", p->name, res->error);
    } else if (res->status != 200) {
        /* {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}} */
        json_t *body = json_loadb(c->raw.buf ? c->raw.buf : "", c->raw.len, 0, NULL);
        json_t *e = json_object_get(body, "error");
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *text = json_string_value(json_object_get(e, "message"));
        err.kind = classify(res->status, type, text);
        msg = xasprintf("%s: HTTP %ld%s%s%s%s%s", p->name, res->status, type ? " (" : "",
                        type ? type : "", type ? ")" : "", text ? ": " : "", text ? text : "");
        json_decref(body);
    } else if (c->stream_error) {
        err.kind = c->stream_error_kind;
        msg = xasprintf("%s: %s", p->name, c->stream_error);
    } else {
        /* A 200 whose stream stopped short: the connection closed (curl's error says how) or
         * ended cleanly without the last event. */
        err.kind = LLM_ERR_MALFORMED;
        msg =
            xasprintf("%s: the stream ended before message_stop%s%s%s", p->name,
                      res->error ? " (" : "", res->error ? res->error : "", res->error ? ")" : "");
    }
    if (msg) {
        http_provider_fail(&c->hc, &err, msg, received_tokens(c), res);
        call_free(c);
        return;
    }
    /* Anthropic's input_tokens counts only the uncached part of the prompt: the prompt is that,
     * plus what was read from the cache, plus what was written to it. Writes are charged at the
     * input price by the shared rule; their premium on top of it is this protocol's own item. */
    int64_t out = c->out_tokens ? c->out_tokens : received_tokens(c);
    double premium =
        (double)c->cache_write * p->prices.input_per_million * (CACHE_WRITE_PREMIUM - 1.0) / 1e6;
    /* A forced tool's input is the answer (already parsed, unwrapped); otherwise the text. */
    llm_response_t answer = {0};
    bool tool = c->forced_tool && c->tool_index >= 0;
    json_t *calls = tool ? NULL : llm_tool_asm_finish(&c->calls);
    bool asks = json_array_size(calls) > 0; /* the model wants the agent's tools */
    if (tool)
        tool_answer(c, &answer);
    else
        answer.text = sb_take(&c->text);
    llm_response_t *r = http_provider_response(
        p, answer.text, tool || asks ? OUTPUT_TEXT : c->format,
        c->in_tokens + c->cache_read + c->cache_write, out, c->cache_read, premium, res);
    if (tool) r->json = answer.json;
    if (asks) r->tool_calls = json_incref(calls);
    json_decref(calls);
    http_provider_succeed(&c->hc, r);
    call_free(c);
}

static void release(void *owner) { call_free(owner); }

static llm_call_t *anthropic_call(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                                  void *ud) {
    http_provider_t *p = (http_provider_t *)base;
    llm_call_t *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->format = req->format;
    c->tool_index = -1;
    json_t *body = build_body(p, req, c);
    static const char *const extra[] = {"anthropic-version: " ANTHROPIC_VERSION, NULL};
    http_provider_start(p, &c->hc, c, release, done, ud, "/messages", extra, body, on_data,
                        on_done);
    http_provider_watch(&c->hc, p, req);
    c->hc.answer[0] = &c->text;
    c->hc.answer[1] = &c->tool_json;
    return c;
}

llm_provider_t *anthropic_provider_new(http_client_t *http, const http_provider_opts_t *o) {
    return http_provider_new(http, o, "x-api-key: %s", anthropic_call);
}
