/* openai.c - OpenAI-compatible Chat Completions over SSE (see openai.h). */
#include "llm/openai.h"
#include "llm/embed_http.h"
#include "llm/http_provider.h"
#include "llm/sse.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct llm_call {
    http_provider_t *p;
    http_call_t hc; /* the request, or its deferred refusal */
    output_format_t format;
    strbuf_t raw;         /* every byte received (error bodies are plain JSON, not SSE) */
    size_t parsed;        /* how much of raw the SSE parser consumed */
    strbuf_t text;        /* the assembled answer */
    llm_tool_asm_t calls; /* tool calls, from delta.tool_calls fragments */
    int64_t in_tokens, out_tokens, cached_tokens;
    bool finished; /* data: [DONE] seen */
    char *stream_error;
};

/* The transcript as Chat Completions messages: an assistant message with tool_calls (arguments
 * as JSON text), then one `tool` message per result. */
static void add_transcript(json_t *messages, const json_t *transcript) {
    size_t i;
    const json_t *turn;
    json_array_foreach(transcript, i, turn) {
        const char *role = json_string_value(json_object_get(turn, "role"));
        if (role && !strcmp(role, "assistant")) {
            json_t *calls = json_array();
            size_t k;
            const json_t *c;
            json_array_foreach(json_object_get(turn, "calls"), k, c) {
                char *args = json_dumps(json_object_get(c, "arguments"), JSON_COMPACT);
                json_array_append_new(
                    calls, json_pack("{s:O, s:s, s:{s:O, s:s}}", "id", json_object_get(c, "id"),
                                     "type", "function", "function", "name",
                                     json_object_get(c, "name"), "arguments", args ? args : "{}"));
                free(args);
            }
            const char *text = json_string_value(json_object_get(turn, "text"));
            json_array_append_new(messages,
                                  json_pack("{s:s, s:s?, s:o}", "role", "assistant", "content",
                                            text && *text ? text : NULL, "tool_calls", calls));
        } else if (role && !strcmp(role, "tool")) {
            json_array_append_new(messages, json_pack("{s:s, s:O, s:s}", "role", "tool",
                                                      "tool_call_id", json_object_get(turn, "id"),
                                                      "content", llm_tool_result_text(turn)));
        }
    }
}

static json_t *build_tools(const json_t *tools) {
    json_t *out = json_array();
    size_t i;
    const json_t *t;
    json_array_foreach(tools, i, t) json_array_append_new(
        out, json_pack("{s:s, s:{s:O, s:O, s:O}}", "type", "function", "function", "name",
                       json_object_get(t, "name"), "description", json_object_get(t, "description"),
                       "parameters", json_object_get(t, "parameters")));
    return out;
}

static json_t *build_body(const http_provider_t *p, const llm_request_t *req) {
    json_t *messages = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
                                 req->system ? req->system : "", "role", "user", "content",
                                 req->prompt ? req->prompt : "");
    add_transcript(messages, req->transcript);
    json_t *body = json_pack("{s:s, s:o, s:f, s:i, s:b, s:{s:b}}", "model", p->model, "messages",
                             messages, "temperature", req->temperature, "max_tokens",
                             req->max_tokens > 0 ? req->max_tokens : 1024, "stream", 1,
                             "stream_options", "include_usage", 1);
    if (req->format == OUTPUT_JSON) {
        json_t *rf = req->schema ? json_pack("{s:s, s:{s:s, s:O}}", "type", "json_schema",
                                             "json_schema", "name", "output", "schema", req->schema)
                                 : json_pack("{s:s}", "type", "json_object");
        json_object_set_new(body, "response_format", rf);
    }
    if (json_array_size(req->tools)) json_object_set_new(body, "tools", build_tools(req->tools));
    return body;
}

/* One SSE event's data: a chunk with a delta and, last, the usage. */
static void take_chunk(llm_call_t *c, const char *data) {
    if (!strcmp(data, "[DONE]")) {
        c->finished = true;
        return;
    }
    json_error_t jerr;
    json_t *chunk = json_loads(data, 0, &jerr);
    if (!chunk) {
        if (!c->stream_error) c->stream_error = xasprintf("malformed stream chunk (%s)", jerr.text);
        return;
    }
    json_t *err = json_object_get(chunk, "error");
    if (err && !c->stream_error)
        c->stream_error = xstrdup(json_string_value(json_object_get(err, "message"))
                                      ? json_string_value(json_object_get(err, "message"))
                                      : "error in stream");
    json_t *delta = json_object_get(json_array_get(json_object_get(chunk, "choices"), 0), "delta");
    const char *piece = json_string_value(json_object_get(delta, "content"));
    http_provider_text(&c->hc, &c->text, piece);
    /* Tool calls come in fragments: the first of a call has its index, id and name, the rest
     * pieces of the arguments' JSON text under the same index. */
    size_t k;
    json_t *tc;
    json_array_foreach(json_object_get(delta, "tool_calls"), k, tc) {
        json_t *fn = json_object_get(tc, "function");
        json_t *ix = json_object_get(tc, "index");
        llm_tool_asm_add(&c->calls, json_is_integer(ix) ? (long)json_integer_value(ix) : (long)k,
                         json_string_value(json_object_get(tc, "id")),
                         json_string_value(json_object_get(fn, "name")),
                         json_string_value(json_object_get(fn, "arguments")));
    }
    json_t *usage = json_object_get(chunk, "usage");
    if (json_is_object(usage)) {
        c->in_tokens = json_integer_value(json_object_get(usage, "prompt_tokens"));
        c->out_tokens = json_integer_value(json_object_get(usage, "completion_tokens"));
        c->cached_tokens = json_integer_value(
            json_object_get(json_object_get(usage, "prompt_tokens_details"), "cached_tokens"));
    }
    json_decref(chunk);
}

static void sse_event(void *ud, const char *event, const char *data) {
    (void)event; /* Chat Completions streams carry data only */
    take_chunk(ud, data);
}

static int on_data(void *ud, const char *data, size_t len) {
    llm_call_t *c = ud;
    sse_feed(&c->raw, &c->parsed, data, len, sse_event, c);
    return 0;
}

static llm_error_kind_t classify(long status, const char *type) {
    /* OpenAI refuses to spend with 429 + insufficient_quota: a budget refusal, not a rate limit
     * (waiting does not help, so it must not look like one). */
    if (status == 402 || (type && strstr(type, "insufficient_quota"))) return LLM_ERR_BUDGET;
    if (status == 429) return LLM_ERR_RATE_LIMIT;
    if (status == 401 || status == 403) return LLM_ERR_AUTH;
    if (status == 529 || (type && strstr(type, "overloaded"))) return LLM_ERR_OVERLOADED;
    if (status >= 500) return LLM_ERR_SERVER;
    return LLM_ERR_OTHER;
}

/* {"error": {"message", "type", "code"}}: the chat and embedding endpoints answer alike. */
static char *status_error(const http_provider_t *p, const http_result_t *res, const char *raw,
                          size_t len, llm_error_t *err) {
    json_t *body = json_loadb(raw ? raw : "", raw ? len : 0, 0, NULL);
    json_t *e = json_object_get(body, "error");
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *text = json_string_value(json_object_get(e, "message"));
    err->kind = classify(res->status, code ? code : type);
    char *msg =
        xasprintf("%s: HTTP %ld%s%s", p->name, res->status, text ? ": " : "", text ? text : "");
    json_decref(body);
    return msg;
}

static void call_free(llm_call_t *c) {
    sb_free(&c->raw);
    sb_free(&c->text);
    llm_tool_asm_free(&c->calls);
    free(c->stream_error);
    free(c);
}

static void on_done(void *ud, const http_result_t *res) {
    llm_call_t *c = ud;
    http_provider_t *p = c->p;
    c->hc.req = NULL;
    char *msg = NULL;
    llm_error_t err = {.status = (int)res->status, .retry_after_ms = res->retry_after_ms};
    if (res->error) {
        err.kind = strstr(res->error, "timeout") || strstr(res->error, "Timeout") ||
                           strstr(res->error, "timed out")
                       ? LLM_ERR_TIMEOUT
                       : LLM_ERR_CONNECTION;
        msg = xasprintf("%s: %s", p->name, res->error);
    } else if (res->status != 200) {
        msg = status_error(p, res, c->raw.buf, c->raw.len, &err);
    } else if (c->stream_error || !c->finished) {
        err.kind = LLM_ERR_MALFORMED;
        msg = xasprintf("%s: %s", p->name,
                        c->stream_error ? c->stream_error : "the stream ended before [DONE]");
    }
    if (msg) {
        http_provider_fail(&c->hc, &err, msg,
                           c->text.len ? llm_estimate_tokens(sb_str(&c->text)) : 0, res);
        call_free(c);
        return;
    }
    /* prompt_tokens includes the cached part (prompt_tokens_details.cached_tokens) */
    json_t *calls = llm_tool_asm_finish(&c->calls);
    bool tools = json_array_size(calls) > 0;
    llm_response_t *r =
        http_provider_response(p, sb_take(&c->text), tools ? OUTPUT_TEXT : c->format, c->in_tokens,
                               c->out_tokens, c->cached_tokens, 0, res);
    if (tools) r->tool_calls = json_incref(calls);
    json_decref(calls);
    http_provider_succeed(&c->hc, r);
    call_free(c);
}

static void release(void *owner) { call_free(owner); }

static llm_call_t *openai_call(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                               void *ud) {
    http_provider_t *p = (http_provider_t *)base;
    llm_call_t *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->format = req->format;
    json_t *body = build_body(p, req);
    http_provider_start(p, &c->hc, c, release, done, ud, "/chat/completions", NULL, body, on_data,
                        on_done);
    http_provider_watch(&c->hc, p, req);
    c->hc.answer[0] = &c->text;
    c->hc.calls = &c->calls;
    return c;
}

/* POST /embeddings (embed_wire.h). */
static llm_call_t *openai_embed(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                                void *ud) {
    return embed_http_call((http_provider_t *)base, req, done, ud, EMBED_WIRE_OPENAI, "/embeddings",
                           status_error);
}

llm_provider_t *openai_provider_new(http_client_t *http, const http_provider_opts_t *o) {
    llm_provider_t *p = http_provider_new(http, o, "Authorization: Bearer %s", openai_call);
    p->embed = openai_embed;
    return p;
}
