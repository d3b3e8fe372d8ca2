/* gemini.c - Google Gemini generateContent over SSE (see gemini.h). */
#include "llm/gemini.h"
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
    strbuf_t raw;  /* every byte received, CRs dropped (error bodies are plain JSON) */
    size_t parsed; /* how much of raw the SSE parser consumed */
    strbuf_t text; /* the answer's text parts, assembled */
    json_t *calls; /* functionCall parts, normalised (llm.h), in order */
    int64_t prompt_tokens, candidate_tokens, thought_tokens, cached_tokens;
    bool finished; /* a chunk carried finishReason */
    char *finish_reason;
    char *stream_error;
    llm_error_kind_t stream_error_kind;
};

/* ---- JSON Schema to Gemini's responseSchema ----------------------------------------------
 *
 * responseSchema is an OpenAPI 3.0 subset (https://ai.google.dev/api/caching#Schema) and the
 * API answers 400 "Unknown name" for any other keyword. What is kept: type (upper case, as the
 * API documents it; ["T", "null"] becomes T with nullable), nullable, title, description,
 * properties (with propertyOrdering in the order written, since Gemini otherwise orders keys
 * alphabetically), required (only names that are properties), items, minItems/maxItems,
 * minProperties/maxProperties, minimum/maximum, minLength/maxLength, pattern, string enums
 * (and a string const as a one-value enum), the formats the API knows (date-time, enum, int32,
 * int64, float, double), anyOf (oneOf as anyOf). Local $refs are inlined. Everything else
 * ($schema, $defs, additionalProperties, exclusive bounds, non-string enums, default, examples,
 * other formats, ...) is dropped: the schema sent is looser, never stricter, and the engine
 * still validates the answer against the whole schema. A schema Gemini cannot express at all
 * (a typeless value, an object without properties, an array without items, allOf, a recursive
 * $ref) is not sent: responseMimeType alone still asks for JSON. */

typedef struct {
    const json_t *root;
    bool ok;
} conv_t;

static json_t *to_gemini(conv_t *cv, const json_t *s, int depth);

/* "#/$defs/item" against the root schema (JSON Pointer, ~0 and ~1 unescaped). */
static const json_t *resolve_ref(const json_t *root, const char *ref) {
    if (ref[0] != '#') return NULL;
    const json_t *at = root;
    const char *p = ref + 1;
    while (at && *p == '/') {
        p++;
        size_t n = strcspn(p, "/");
        strbuf_t tok = {0};
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                sb_putc(&tok, p[i + 1] == '0' ? '~' : '/');
                i++;
            } else {
                sb_putc(&tok, p[i]);
            }
        }
        if (json_is_object(at))
            at = json_object_get(at, sb_str(&tok));
        else if (json_is_array(at))
            at = json_array_get(at, strtoul(sb_str(&tok), NULL, 10));
        else
            at = NULL;
        sb_free(&tok);
        p += n;
    }
    return *p ? NULL : at;
}

static const char *gemini_type(const char *t) {
    static const char *const map[][2] = {{"string", "STRING"},   {"number", "NUMBER"},
                                         {"integer", "INTEGER"}, {"boolean", "BOOLEAN"},
                                         {"array", "ARRAY"},     {"object", "OBJECT"}};
    for (size_t i = 0; t && i < sizeof map / sizeof *map; i++)
        if (!strcmp(map[i][0], t)) return map[i][1];
    return NULL;
}

static bool is_null_schema(const json_t *s) {
    const char *t = json_string_value(json_object_get(s, "type"));
    return t && !strcmp(t, "null");
}

static void copy_if(json_t *out, const json_t *s, const char *key, int (*is)(const json_t *)) {
    json_t *v = json_object_get(s, key);
    if (v && is(v)) json_object_set(out, key, v);
}
static int is_string(const json_t *v) { return json_is_string(v); }
static int is_number(const json_t *v) { return json_is_number(v); }
static int is_count(const json_t *v) { return json_is_integer(v) && json_integer_value(v) >= 0; }

/* anyOf/oneOf: {type: null} alternatives become nullable; one alternative left is inlined. */
static json_t *alternatives(conv_t *cv, const json_t *s, const json_t *list, int depth) {
    json_t *alts = json_array();
    bool nullable = false;
    size_t i;
    const json_t *a;
    json_array_foreach(list, i, a) {
        if (is_null_schema(a)) {
            nullable = true;
            continue;
        }
        json_t *g = to_gemini(cv, a, depth + 1);
        if (g) json_array_append_new(alts, g);
    }
    json_t *out;
    if (json_array_size(alts) == 1) {
        out = json_incref(json_array_get(alts, 0));
        json_decref(alts);
    } else if (json_array_size(alts) == 0) {
        json_decref(alts);
        cv->ok = false;
        return NULL;
    } else {
        out = json_object();
        json_object_set_new(out, "anyOf", alts);
    }
    if (nullable) json_object_set_new(out, "nullable", json_true());
    copy_if(out, s, "title", is_string);
    copy_if(out, s, "description", is_string);
    return out;
}

static json_t *to_gemini(conv_t *cv, const json_t *s, int depth) {
    if (!cv->ok) return NULL;
    if (!json_is_object(s) || depth > 32) { /* `true`/`false` schemas, deep or recursive $refs */
        cv->ok = false;
        return NULL;
    }
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    if (ref) {
        const json_t *target = resolve_ref(cv->root, ref);
        if (!target) {
            cv->ok = false;
            return NULL;
        }
        return to_gemini(cv, target, depth + 1);
    }
    const json_t *all = json_object_get(s, "allOf");
    if (json_is_array(all)) {
        if (json_array_size(all) != 1 || json_object_get(s, "type")) {
            cv->ok = false;
            return NULL;
        }
        return to_gemini(cv, json_array_get(all, 0), depth + 1);
    }
    const json_t *any = json_object_get(s, "anyOf");
    if (!json_is_array(any)) any = json_object_get(s, "oneOf");
    if (json_is_array(any) && !json_object_get(s, "type")) return alternatives(cv, s, any, depth);

    /* The type: written, or implied by the keywords present. */
    const json_t *tv = json_object_get(s, "type");
    const char *type = json_string_value(tv);
    bool nullable = json_is_true(json_object_get(s, "nullable"));
    if (json_is_array(tv)) {
        type = NULL;
        size_t i;
        const json_t *t;
        json_array_foreach(tv, i, t) {
            const char *name = json_string_value(t);
            if (name && !strcmp(name, "null")) {
                nullable = true;
            } else if (type) {
                cv->ok = false; /* several types: no way to say it without splitting the schema */
                return NULL;
            } else {
                type = name;
            }
        }
    }
    const json_t *en = json_object_get(s, "enum");
    const json_t *cst = json_object_get(s, "const");
    if (!type) {
        if (json_is_object(json_object_get(s, "properties")))
            type = "object";
        else if (json_object_get(s, "items"))
            type = "array";
        else if (json_is_string(cst) ||
                 (json_is_array(en) && json_is_string(json_array_get(en, 0))))
            type = "string";
    }
    const char *gt = gemini_type(type);
    if (!gt) {
        cv->ok = false;
        return NULL;
    }
    json_t *out = json_pack("{s:s}", "type", gt);
    if (nullable) json_object_set_new(out, "nullable", json_true());
    copy_if(out, s, "title", is_string);
    copy_if(out, s, "description", is_string);
    const char *fmt = json_string_value(json_object_get(s, "format"));
    if (!strcmp(gt, "STRING")) {
        copy_if(out, s, "minLength", is_count);
        copy_if(out, s, "maxLength", is_count);
        copy_if(out, s, "pattern", is_string);
        bool strings = json_is_array(en) && json_array_size(en) > 0;
        size_t i;
        const json_t *v;
        json_array_foreach(en, i, v) strings = strings && json_is_string(v);
        if (strings)
            json_object_set(out, "enum", (json_t *)en);
        else if (json_is_string(cst))
            json_object_set_new(out, "enum", json_pack("[O]", cst));
        if (json_object_get(out, "enum"))
            json_object_set_new(out, "format", json_string("enum"));
        else if (fmt && !strcmp(fmt, "date-time"))
            json_object_set_new(out, "format", json_string(fmt));
    } else if (!strcmp(gt, "NUMBER") || !strcmp(gt, "INTEGER")) {
        copy_if(out, s, "minimum", is_number);
        copy_if(out, s, "maximum", is_number);
        static const char *const nf[] = {"int32", "int64", "float", "double"};
        for (size_t i = 0; fmt && i < sizeof nf / sizeof *nf; i++)
            if (!strcmp(fmt, nf[i]) && (gt[0] == 'I') == (i < 2))
                json_object_set_new(out, "format", json_string(fmt));
    } else if (!strcmp(gt, "ARRAY")) {
        json_t *items = to_gemini(cv, json_object_get(s, "items"), depth + 1);
        if (!items) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, "items", items);
        copy_if(out, s, "minItems", is_count);
        copy_if(out, s, "maxItems", is_count);
    } else if (!strcmp(gt, "OBJECT")) {
        const json_t *props = json_object_get(s, "properties");
        if (!json_is_object(props) || !json_object_size(props)) {
            json_decref(out); /* Gemini refuses an OBJECT without properties */
            cv->ok = false;
            return NULL;
        }
        json_t *gp = json_object(), *order = json_array(), *req = json_array();
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)props, k, v) {
            json_t *g = to_gemini(cv, v, depth + 1);
            if (!g) break;
            json_object_set_new(gp, k, g);
            json_array_append_new(order, json_string(k));
        }
        size_t i;
        const json_t *r;
        json_array_foreach(json_object_get(s, "required"), i,
                           r) if (json_is_string(r) && json_object_get(gp, json_string_value(r)))
            json_array_append(req, (json_t *)r);
        json_object_set_new(out, "properties", gp);
        json_object_set_new(out, "propertyOrdering", order);
        if (json_array_size(req))
            json_object_set_new(out, "required", req);
        else
            json_decref(req);
        copy_if(out, s, "minProperties", is_count);
        copy_if(out, s, "maxProperties", is_count);
    }
    if (!cv->ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The schema as responseSchema, or NULL when Gemini's subset cannot express it. */
static json_t *response_schema(const json_t *schema) {
    conv_t cv = {.root = schema, .ok = true};
    json_t *g = to_gemini(&cv, schema, 0);
    if (!cv.ok) {
        json_decref(g);
        return NULL;
    }
    return g;
}

/* ---- the request --------------------------------------------------------------------------- */

/* The transcript as contents: a `model` turn with its text and functionCall parts (with the
 * thoughtSignature the model gave, which thinking models need back), then ONE `user` turn with
 * every functionResponse of that turn. */
static void add_transcript(json_t *contents, const json_t *transcript) {
    json_t *results = NULL;
    size_t i;
    const json_t *turn;
    json_array_foreach(transcript, i, turn) {
        const char *role = json_string_value(json_object_get(turn, "role"));
        if (role && !strcmp(role, "assistant")) {
            results = NULL;
            json_t *parts = json_array();
            const char *text = json_string_value(json_object_get(turn, "text"));
            if (text && *text) json_array_append_new(parts, json_pack("{s:s}", "text", text));
            size_t k;
            const json_t *c;
            json_array_foreach(json_object_get(turn, "calls"), k, c) {
                json_t *part = json_pack(
                    "{s:{s:O, s:O, s:O}}", "functionCall", "id", json_object_get(c, "id"), "name",
                    json_object_get(c, "name"), "args", json_object_get(c, "arguments"));
                json_t *sig = json_object_get(c, "signature");
                if (json_is_string(sig)) json_object_set(part, "thoughtSignature", sig);
                json_array_append_new(parts, part);
            }
            json_array_append_new(contents,
                                  json_pack("{s:s, s:o}", "role", "model", "parts", parts));
        } else if (role && !strcmp(role, "tool")) {
            if (!results) {
                results = json_array();
                json_array_append_new(contents,
                                      json_pack("{s:s, s:o}", "role", "user", "parts", results));
            }
            bool error = json_is_true(json_object_get(turn, "is_error"));
            json_array_append_new(results, json_pack("{s:{s:O, s:O, s:{s:s}}}", "functionResponse",
                                                     "id", json_object_get(turn, "id"), "name",
                                                     json_object_get(turn, "name"), "response",
                                                     error ? "error" : "result",
                                                     llm_tool_result_text(turn)));
        }
    }
}

static json_t *build_body(const llm_request_t *req) {
    json_t *gc = json_pack("{s:f, s:i}", "temperature", req->temperature, "maxOutputTokens",
                           req->max_tokens > 0 ? req->max_tokens : 1024);
    bool tools = json_array_size(req->tools) > 0;
    /* Gemini refuses function calling together with a JSON response mime type: with tools the
     * prompt alone asks for JSON, and the engine validates (and repairs) the answer. */
    if (req->format == OUTPUT_JSON && !tools) {
        json_object_set_new(gc, "responseMimeType", json_string("application/json"));
        json_t *rs = req->schema ? response_schema(req->schema) : NULL;
        if (rs) json_object_set_new(gc, "responseSchema", rs);
    }
    json_t *body = json_pack("{s:[{s:s, s:[{s:s}]}], s:o}", "contents", "role", "user", "parts",
                             "text", req->prompt ? req->prompt : "", "generationConfig", gc);
    if (req->system && *req->system)
        json_object_set_new(body, "systemInstruction",
                            json_pack("{s:[{s:s}]}", "parts", "text", req->system));
    add_transcript(json_object_get(body, "contents"), req->transcript);
    if (tools) {
        json_t *decls = json_array();
        size_t i;
        const json_t *t;
        json_array_foreach(req->tools, i, t) json_array_append_new(
            decls, json_pack("{s:O, s:O, s:O}", "name", json_object_get(t, "name"), "description",
                             json_object_get(t, "description"), "parametersJsonSchema",
                             json_object_get(t, "parameters")));
        json_object_set_new(body, "tools", json_pack("[{s:o}]", "functionDeclarations", decls));
    }
    return body;
}

/* The model id in a URL path: unreserved characters as they are, the rest %-escaped. */
static char *path_escape(const char *s) {
    strbuf_t b = {0};
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '.' || *c == '_' || *c == '~')
            sb_putc(&b, (char)*c);
        else
            sb_printf(&b, "%%%02X", *c);
    }
    return sb_take(&b);
}

/* ---- errors -------------------------------------------------------------------------------- */

/* Whether google.rpc details (error.details[]) carry an entry of this type ("QuotaFailure"). */
static const json_t *detail(const json_t *details, const char *type) {
    size_t i;
    const json_t *d;
    json_array_foreach(details, i, d) {
        const char *t = json_string_value(json_object_get(d, "@type"));
        size_t tl = t ? strlen(t) : 0, l = strlen(type);
        if (tl > l && t[tl - l - 1] == '.' && !strcmp(t + tl - l, type)) return d;
    }
    return NULL;
}

static bool streq(const char *a, const char *b) { return a && !strcmp(a, b); }

/* Which kind of failure a Google API error is: HTTP status (or error.code inside a stream),
 * error.status, error.details and error.message. */
static llm_error_kind_t classify(long code, const char *status, const json_t *details,
                                 const char *message) {
    if (code == 429 || streq(status, "RESOURCE_EXHAUSTED"))
        /* A quota that waiting will not refill (a daily or billing limit) comes without RetryInfo:
         * a budget refusal, not a rate limit. */
        return detail(details, "QuotaFailure") && !detail(details, "RetryInfo")
                   ? LLM_ERR_BUDGET
                   : LLM_ERR_RATE_LIMIT;
    if (code == 503 || streq(status, "UNAVAILABLE")) return LLM_ERR_OVERLOADED;
    if (code >= 500 || streq(status, "INTERNAL") || streq(status, "DEADLINE_EXCEEDED"))
        return LLM_ERR_SERVER;
    const json_t *info = detail(details, "ErrorInfo");
    if (code == 401 || code == 403 || streq(status, "UNAUTHENTICATED") ||
        streq(status, "PERMISSION_DENIED") ||
        streq(json_string_value(json_object_get(info, "reason")), "API_KEY_INVALID") ||
        (message && strstr(message, "API key not valid")))
        return LLM_ERR_AUTH;
    return LLM_ERR_OTHER;
}

/* RetryInfo's retryDelay ("17s", "0.5s") in milliseconds, -1 when absent. */
static int64_t retry_delay_ms(const json_t *details) {
    const char *d = json_string_value(json_object_get(detail(details, "RetryInfo"), "retryDelay"));
    if (!d) return -1;
    char *end;
    double s = strtod(d, &end);
    /* a day at most: a bigger (or infinite) delay is noise, and would overflow */
    return end != d && s >= 0 && s <= 86400.0 && !strcmp(end, "s") ? (int64_t)(s * 1000 + 0.5) : -1;
}

/* "HTTP 429 (RESOURCE_EXHAUSTED): message" or, in a stream, "error in stream (UNAVAILABLE): ..." */
static char *error_text(const char *prefix, const char *status, const char *message) {
    return xasprintf("%s%s%s%s%s%s", prefix, status ? " (" : "", status ? status : "",
                     status ? ")" : "", message ? ": " : "", message ? message : "");
}

/* {"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED", "details": []}},
 * sometimes inside a one-element array: the chat and embedding endpoints answer alike. */
static char *status_error(const http_provider_t *p, const http_result_t *res, const char *raw,
                          size_t len, llm_error_t *err) {
    json_t *body = json_loadb(raw ? raw : "", raw ? len : 0, 0, NULL);
    json_t *e = json_object_get(json_is_array(body) ? json_array_get(body, 0) : body, "error");
    const char *status = json_string_value(json_object_get(e, "status"));
    const char *text = json_string_value(json_object_get(e, "message"));
    const json_t *details = json_object_get(e, "details");
    err->kind = classify(res->status, status, details, text);
    if (err->retry_after_ms < 0) err->retry_after_ms = retry_delay_ms(details);
    char *prefix = xasprintf("%s: HTTP %ld", p->name, res->status);
    char *msg = error_text(prefix, status, text);
    free(prefix);
    json_decref(body);
    return msg;
}

/* ---- the stream ------------------------------------------------------------------------------ */

static void stream_fail(llm_call_t *c, llm_error_kind_t kind, char *msg) {
    if (c->stream_error) {
        free(msg);
        return;
    }
    c->stream_error = msg;
    c->stream_error_kind = kind;
}

static void take_usage(llm_call_t *c, const json_t *u) {
    json_t *v;
    if ((v = json_object_get(u, "promptTokenCount")) && json_is_integer(v))
        c->prompt_tokens = json_integer_value(v);
    if ((v = json_object_get(u, "candidatesTokenCount")) && json_is_integer(v))
        c->candidate_tokens = json_integer_value(v);
    if ((v = json_object_get(u, "thoughtsTokenCount")) && json_is_integer(v))
        c->thought_tokens = json_integer_value(v);
    if ((v = json_object_get(u, "cachedContentTokenCount")) && json_is_integer(v))
        c->cached_tokens = json_integer_value(v);
}

/* One SSE event's data: a GenerateContentResponse, or {"error": {...}} when the stream broke. */
static void take_chunk(llm_call_t *c, const char *data) {
    json_error_t jerr;
    json_t *chunk = json_loads(data, 0, &jerr);
    if (!chunk) {
        stream_fail(c, LLM_ERR_MALFORMED, xasprintf("malformed stream chunk (%s)", jerr.text));
        return;
    }
    json_t *e = json_object_get(chunk, "error");
    if (e) {
        const char *status = json_string_value(json_object_get(e, "status"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        llm_error_kind_t kind = classify((long)json_integer_value(json_object_get(e, "code")),
                                         status, json_object_get(e, "details"), msg);
        /* A stream that broke for a reason we do not know: another model may well answer. */
        if (kind == LLM_ERR_OTHER && !streq(status, "INVALID_ARGUMENT")) kind = LLM_ERR_MALFORMED;
        stream_fail(c, kind, error_text("error in stream", status, msg));
    }
    const char *blocked =
        json_string_value(json_object_get(json_object_get(chunk, "promptFeedback"), "blockReason"));
    if (blocked)
        stream_fail(c, LLM_ERR_OTHER,
                    xasprintf("the prompt was blocked (blockReason %s)", blocked));
    json_t *cand = json_array_get(json_object_get(chunk, "candidates"), 0);
    size_t i;
    json_t *part;
    json_array_foreach(json_object_get(json_object_get(cand, "content"), "parts"), i, part) {
        if (json_is_true(json_object_get(part, "thought"))) continue; /* thought summaries */
        const char *t = json_string_value(json_object_get(part, "text"));
        http_provider_text(&c->hc, &c->text, t);
        json_t *fc = json_object_get(part, "functionCall");
        if (json_is_object(fc) && json_array_size(c->calls) < LLM_TOOL_CALLS_MAX) {
            /* Whole in one part (Gemini does not split a call across chunks). */
            json_t *args = json_object_get(fc, "args");
            char *text = args ? json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            json_t *call = llm_tool_call(json_string_value(json_object_get(fc, "id")),
                                         json_string_value(json_object_get(fc, "name")), text,
                                         json_array_size(c->calls));
            free(text);
            json_t *sig = json_object_get(part, "thoughtSignature");
            if (json_is_string(sig)) json_object_set(call, "signature", sig);
            json_array_append_new(c->calls, call);
        }
    }
    const char *finish = json_string_value(json_object_get(cand, "finishReason"));
    if (finish) {
        c->finished = true;
        free(c->finish_reason);
        c->finish_reason = xstrdup(finish);
    }
    json_t *usage = json_object_get(chunk, "usageMetadata");
    if (json_is_object(usage)) take_usage(c, usage);
    json_decref(chunk);
}

static void sse_event(void *ud, const char *event, const char *data) {
    (void)event; /* streamGenerateContent?alt=sse carries data only */
    take_chunk(ud, data);
}

static int on_data(void *ud, const char *data, size_t len) {
    llm_call_t *c = ud;
    sse_feed(&c->raw, &c->parsed, data, len, sse_event, c);
    return 0;
}

static void call_free(llm_call_t *c) {
    sb_free(&c->raw);
    sb_free(&c->text);
    json_decref(c->calls);
    free(c->finish_reason);
    free(c->stream_error);
    free(c);
}

/* A finishReason that means the answer was withheld, not finished. */
static bool withheld(const char *reason) {
    static const char *const blocked[] = {
        "SAFETY", "RECITATION", "BLOCKLIST",   "PROHIBITED_CONTENT",
        "SPII",   "LANGUAGE",   "IMAGE_SAFETY"};
    for (size_t i = 0; reason && i < sizeof blocked / sizeof *blocked; i++)
        if (!strcmp(reason, blocked[i])) return true;
    return false;
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
    if (complete && withheld(c->finish_reason)) {
        /* Not a fault of the server: the same request would be refused again. */
        err.kind = LLM_ERR_OTHER;
        msg = xasprintf("%s: the answer was withheld (finishReason %s)", p->name, c->finish_reason);
    } else if (complete) {
        /* the answer is whole, even if the transport failed after the last chunk */
    } else if (res->error && (res->status != 200 || timeout)) {
        err.kind = timeout ? LLM_ERR_TIMEOUT : LLM_ERR_CONNECTION;
        msg = xasprintf("%s: %s", p->name, res->error);
    } else if (res->status != 200) {
        msg = status_error(p, res, c->raw.buf, c->raw.len, &err);
    } else if (c->stream_error) {
        err.kind = c->stream_error_kind;
        msg = xasprintf("%s: %s", p->name, c->stream_error);
    } else {
        /* A 200 whose stream stopped short: no chunk carried finishReason. */
        err.kind = LLM_ERR_MALFORMED;
        msg =
            xasprintf("%s: the stream ended before a finishReason%s%s%s", p->name,
                      res->error ? " (" : "", res->error ? res->error : "", res->error ? ")" : "");
    }
    if (msg) {
        http_provider_fail(&c->hc, &err, msg,
                           c->text.len ? llm_estimate_tokens(sb_str(&c->text)) : 0, res);
        call_free(c);
        return;
    }
    /* promptTokenCount includes the cached part; thinking tokens are billed as output. */
    int64_t cached = c->cached_tokens < c->prompt_tokens ? c->cached_tokens : c->prompt_tokens;
    bool asks = json_array_size(c->calls) > 0;
    llm_response_t *r = http_provider_response(
        p, sb_take(&c->text), asks ? OUTPUT_TEXT : c->format, c->prompt_tokens,
        c->candidate_tokens + c->thought_tokens, cached, 0, res);
    if (asks) r->tool_calls = json_incref(c->calls);
    http_provider_succeed(&c->hc, r);
    call_free(c);
}

static void release(void *owner) { call_free(owner); }

static llm_call_t *gemini_call(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                               void *ud) {
    http_provider_t *p = (http_provider_t *)base;
    llm_call_t *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->format = req->format;
    c->calls = json_array();
    char *model = path_escape(p->model);
    char *path = xasprintf("/models/%s:streamGenerateContent?alt=sse", model);
    http_provider_start(p, &c->hc, c, release, done, ud, path, NULL, build_body(req), on_data,
                        on_done);
    http_provider_watch(&c->hc, p, req);
    c->hc.answer[0] = &c->text;
    free(path);
    free(model);
    return c;
}

/* POST /models/{model}:batchEmbedContents (embed_wire.h): one request per text, one round trip. */
static llm_call_t *gemini_embed(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                                void *ud) {
    http_provider_t *p = (http_provider_t *)base;
    char *model = path_escape(p->model);
    char *path = xasprintf("/models/%s:batchEmbedContents", model);
    llm_call_t *c = embed_http_call(p, req, done, ud, EMBED_WIRE_GEMINI, path, status_error);
    free(path);
    free(model);
    return c;
}

llm_provider_t *gemini_provider_new(http_client_t *http, const gemini_opts_t *o) {
    llm_provider_t *p = http_provider_new(http, o, "x-goog-api-key: %s", gemini_call);
    p->embed = gemini_embed;
    return p;
}
