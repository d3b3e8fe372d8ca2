/* ollama.c - Ollama's native /api/chat over newline-delimited JSON (see ollama.h). */
#include "llm/ollama.h"
#include "llm/embed_http.h"
#include "llm/http_provider.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct llm_call {
    http_provider_t *p;
    http_call_t hc; /* the request, or its deferred refusal */
    output_format_t format;
    strbuf_t raw;  /* every byte received (error bodies are one JSON object, or plain text) */
    size_t parsed; /* how much of raw the line parser consumed */
    strbuf_t text; /* the answer, assembled */
    json_t *calls; /* message.tool_calls, normalised (llm.h), in order */
    int64_t in_tokens, out_tokens;
    bool finished; /* a line with done: true */
    char *stream_error;
    llm_error_kind_t stream_error_kind;
};

static json_t *build_body(const http_provider_t *p, const llm_request_t *req) {
    json_t *messages = json_array();
    if (req->system && *req->system)
        json_array_append_new(messages,
                              json_pack("{s:s, s:s}", "role", "system", "content", req->system));
    json_array_append_new(messages, json_pack("{s:s, s:s}", "role", "user", "content",
                                              req->prompt ? req->prompt : ""));
    /* The transcript: an assistant message with tool_calls (arguments as an object), then one
     * `tool` message per result, named by tool_name. */
    size_t i;
    const json_t *turn;
    json_array_foreach(req->transcript, i, turn) {
        const char *role = json_string_value(json_object_get(turn, "role"));
        if (role && !strcmp(role, "assistant")) {
            json_t *calls = json_array();
            size_t k;
            const json_t *c;
            json_array_foreach(json_object_get(turn, "calls"), k, c) json_array_append_new(
                calls, json_pack("{s:{s:O, s:O}}", "function", "name", json_object_get(c, "name"),
                                 "arguments", json_object_get(c, "arguments")));
            const char *text = json_string_value(json_object_get(turn, "text"));
            json_array_append_new(messages,
                                  json_pack("{s:s, s:s, s:o}", "role", "assistant", "content",
                                            text ? text : "", "tool_calls", calls));
        } else if (role && !strcmp(role, "tool")) {
            json_array_append_new(messages, json_pack("{s:s, s:s, s:O}", "role", "tool", "content",
                                                      llm_tool_result_text(turn), "tool_name",
                                                      json_object_get(turn, "name")));
        }
    }
    /* num_predict always: Ollama's default (-1) lets a looping local model run to the timeout. */
    json_t *body = json_pack("{s:s, s:o, s:b, s:{s:f, s:i}}", "model", p->model, "messages",
                             messages, "stream", 1, "options", "temperature", req->temperature,
                             "num_predict", req->max_tokens > 0 ? req->max_tokens : 1024);
    bool tools = json_array_size(req->tools) > 0;
    if (tools) {
        json_t *list = json_array();
        const json_t *t;
        json_array_foreach(req->tools, i, t)
            json_array_append_new(list, json_pack("{s:s, s:{s:O, s:O, s:O}}", "type", "function",
                                                  "function", "name", json_object_get(t, "name"),
                                                  "description", json_object_get(t, "description"),
                                                  "parameters", json_object_get(t, "parameters")));
        json_object_set_new(body, "tools", list);
    }
    /* Ollama takes a JSON Schema as `format` and constrains the output with it (a grammar). A
     * grammar would also rule out tool calls: with tools the prompt alone asks for JSON, and the
     * engine validates (and repairs) the answer. */
    if (req->format == OUTPUT_JSON && !tools)
        json_object_set_new(body, "format",
                            req->schema ? json_deep_copy(req->schema) : json_string("json"));
    return body;
}

static llm_error_kind_t classify(long status) {
    if (status == 402) return LLM_ERR_BUDGET;
    if (status == 429) return LLM_ERR_RATE_LIMIT;
    if (status == 401 || status == 403) return LLM_ERR_AUTH;
    if (status == 503) return LLM_ERR_OVERLOADED;
    if (status >= 500) return LLM_ERR_SERVER;
    return LLM_ERR_OTHER; /* 404: the model is not pulled; 400: a request we built wrong */
}

static void stream_fail(llm_call_t *c, llm_error_kind_t kind, char *msg) {
    if (c->stream_error) {
        free(msg);
        return;
    }
    c->stream_error = msg;
    c->stream_error_kind = kind;
}

/* One line: {"message": {"content": "..."}, "done": false}, the last with done: true and the
 * counts, or {"error": "..."} when the model runner failed half-way. */
static void take_line(llm_call_t *c, const char *line, size_t len) {
    while (len && isspace((unsigned char)line[len - 1])) len--;
    while (len && isspace((unsigned char)*line)) line++, len--;
    if (!len) return;
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    if (!json_is_object(o)) {
        stream_fail(c, LLM_ERR_MALFORMED,
                    xasprintf("malformed stream line (%s)", o ? "not an object" : jerr.text));
        json_decref(o);
        return;
    }
    json_t *e = json_object_get(o, "error");
    if (e)
        stream_fail(c, LLM_ERR_SERVER,
                    xasprintf("error in stream: %s",
                              json_is_string(e) ? json_string_value(e) : "(no message)"));
    /* message.thinking (reasoning models) is not part of the answer */
    json_t *message = json_object_get(o, "message");
    const char *t = json_string_value(json_object_get(message, "content"));
    http_provider_text(&c->hc, &c->text, t);
    /* Tool calls come whole (arguments an object), usually in one line before the last. */
    size_t k;
    json_t *tc;
    json_array_foreach(json_object_get(message, "tool_calls"), k, tc) {
        if (json_array_size(c->calls) >= LLM_TOOL_CALLS_MAX) break;
        json_t *fn = json_object_get(tc, "function");
        json_t *args = json_object_get(fn, "arguments");
        /* some models' arguments arrive as a JSON string rather than an object */
        char *text = json_is_string(args) ? xstrdup(json_string_value(args))
                     : args               ? json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY)
                                          : NULL;
        json_array_append_new(c->calls,
                              llm_tool_call(json_string_value(json_object_get(tc, "id")),
                                            json_string_value(json_object_get(fn, "name")), text,
                                            json_array_size(c->calls)));
        free(text);
    }
    if (json_is_true(json_object_get(o, "done"))) {
        c->finished = true;
        json_t *v;
        if ((v = json_object_get(o, "prompt_eval_count")) && json_is_integer(v))
            c->in_tokens = json_integer_value(v);
        if ((v = json_object_get(o, "eval_count")) && json_is_integer(v))
            c->out_tokens = json_integer_value(v);
    }
    json_decref(o);
}

/* Parses the complete lines received so far. */
static int on_data(void *ud, const char *data, size_t len) {
    llm_call_t *c = ud;
    sb_append(&c->raw, data, len);
    for (;;) {
        const char *start = c->raw.buf + c->parsed;
        const char *nl = memchr(start, '\n', c->raw.len - c->parsed);
        if (!nl) break;
        take_line(c, start, (size_t)(nl - start));
        c->parsed = (size_t)(nl + 1 - c->raw.buf);
    }
    return 0;
}

/* {"error": "model \"x\" not found, try pulling it first"}, or a proxy's plain text: the chat
 * and embedding endpoints answer alike. */
static char *status_error(const http_provider_t *p, const http_result_t *res, const char *raw,
                          size_t len, llm_error_t *err) {
    if (!raw) len = 0;
    json_t *body = json_loadb(raw ? raw : "", len, 0, NULL);
    const char *text = json_string_value(json_object_get(body, "error"));
    char *plain = NULL;
    if (!text && !body && len) {
        size_t n = len < 200 ? len : 200;
        while (n && isspace((unsigned char)raw[n - 1])) n--;
        text = plain = xstrndup(raw, n);
    }
    err->kind = classify(res->status);
    char *msg = xasprintf("%s: HTTP %ld%s%s", p->name, res->status, text && *text ? ": " : "",
                          text ? text : "");
    free(plain);
    json_decref(body);
    return msg;
}

static void call_free(llm_call_t *c) {
    sb_free(&c->raw);
    sb_free(&c->text);
    json_decref(c->calls);
    free(c->stream_error);
    free(c);
}

static void on_done(void *ud, const http_result_t *res) {
    llm_call_t *c = ud;
    http_provider_t *p = c->p;
    c->hc.req = NULL;
    /* A last line without its newline still counts (when the body came whole). */
    if (res->status == 200 && !res->error && c->raw.len > c->parsed)
        take_line(c, c->raw.buf + c->parsed, c->raw.len - c->parsed);
    char *msg = NULL;
    llm_error_t err = {.status = (int)res->status, .retry_after_ms = res->retry_after_ms};
    bool complete = res->status == 200 && c->finished && !c->stream_error;
    bool timeout = res->error && (strstr(res->error, "timeout") || strstr(res->error, "Timeout") ||
                                  strstr(res->error, "timed out"));
    if (complete) {
        /* the answer is whole, even if the transport failed after the last line */
    } else if (res->error && (res->status != 200 || timeout)) {
        err.kind = timeout ? LLM_ERR_TIMEOUT : LLM_ERR_CONNECTION;
        msg = xasprintf("%s: %s", p->name, res->error);
    } else if (res->status != 200) {
        msg = status_error(p, res, c->raw.buf, c->raw.len, &err);
    } else if (c->stream_error) {
        err.kind = c->stream_error_kind;
        msg = xasprintf("%s: %s", p->name, c->stream_error);
    } else {
        /* A 200 whose stream stopped short: no line said done. */
        err.kind = LLM_ERR_MALFORMED;
        msg = xasprintf("%s: the stream ended before done%s%s%s", p->name, res->error ? " (" : "",
                        res->error ? res->error : "", res->error ? ")" : "");
    }
    if (msg) {
        http_provider_fail(&c->hc, &err, msg,
                           c->text.len ? llm_estimate_tokens(sb_str(&c->text)) : 0, res);
        call_free(c);
        return;
    }
    /* Ollama reports no prompt cache (a reused KV prefix just lowers prompt_eval_count). */
    bool asks = json_array_size(c->calls) > 0;
    llm_response_t *r = http_provider_response(p, sb_take(&c->text), asks ? OUTPUT_TEXT : c->format,
                                               c->in_tokens, c->out_tokens, 0, 0, res);
    if (asks) r->tool_calls = json_incref(c->calls);
    http_provider_succeed(&c->hc, r);
    call_free(c);
}

static void release(void *owner) { call_free(owner); }

static llm_call_t *ollama_call(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                               void *ud) {
    http_provider_t *p = (http_provider_t *)base;
    llm_call_t *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->format = req->format;
    c->calls = json_array();
    http_provider_start(p, &c->hc, c, release, done, ud, "/api/chat", NULL, build_body(p, req),
                        on_data, on_done);
    http_provider_watch(&c->hc, p, req);
    c->hc.answer[0] = &c->text;
    return c;
}

/* POST /api/embed (embed_wire.h); the older /api/embeddings takes one prompt per call. */
static llm_call_t *ollama_embed(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                                void *ud) {
    return embed_http_call((http_provider_t *)base, req, done, ud, EMBED_WIRE_OLLAMA, "/api/embed",
                           status_error);
}

llm_provider_t *ollama_provider_new(http_client_t *http, const ollama_opts_t *o) {
    llm_provider_t *p = http_provider_new(http, o, "Authorization: Bearer %s", ollama_call);
    p->embed = ollama_embed;
    return p;
}
