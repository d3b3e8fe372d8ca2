/* gateway.c - the OpenAI-compatible gateway (DESIGN.md section 3, docs/gateway.md):
 * GET /v1/models, POST /v1/chat/completions (streamed or not), POST /v1/embeddings.
 *
 * Every call goes through the router behind the response cache, so it gets routing, fallback,
 * circuit breakers, provider limits and caching like a task's call; the calls are journaled in
 * the gateway's ledger (ENGINE_GATEWAY_RUN: llm_calls prices them) and the daily limit for all
 * runs caps them. Errors have OpenAI's shape, {"error": {"message", "type", "param", "code"}},
 * which its SDKs read.
 *
 * Mapping a chat to Baton's request: system and developer messages make the system prompt; the
 * last user message is the prompt, with the turns before it written above it as the
 * conversation so far; the assistant tool calls and tool results after it are the request's
 * tool transcript; `tools` become the request's tools. A streamed answer is sent as the
 * standard chunks once the router has the whole answer (providers' deltas are not relayed yet). */
#include "api/handlers.h"
#include "api/answer.h"
#include "api/fanout.h"
#include "api/chat_map.h"
#include "llm/embed.h"
#include "util/redact.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The most dimensions an embedding may ask for (the largest models give a few thousand). */
#define API_EMBED_MAX_DIMENSIONS 65536

/* ---- answers -------------------------------------------------------------------------------- */

static void oai_error(http_req_t *req, int status, const char *type, const char *code,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void oai_error(http_req_t *req, int status, const char *type, const char *code,
                      const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Provider texts arrive redacted (http_provider_fail); this keeps a key out of an answer
     * whatever else an error quotes (a request's own text, a future message). */
    char *clean = redact_text(msg);
    api_json(req, status,
             json_pack("{s:{s:o, s:s, s:n, s:s?}}", "error", "message", api_text(clean), "type",
                       type, "param", "code", code));
    free(clean);
}

/* The model a request names: a tier (its name), a configured candidate (a list of one), NULL
 * for "auto" or none (the router's default); false (and a 404 sent) for anything else. */
static bool resolve_model(http_req_t *req, api_t *a, const json_t *model, json_t **out) {
    *out = NULL;
    const char *name = json_string_value(model);
    if (!model || json_is_null(model) || (name && (!*name || !strcmp(name, "auto")))) return true;
    if (!name) {
        oai_error(req, 400, "invalid_request_error", NULL, "model must be a string");
        return false;
    }
    router_t *r = host_router(a->host);
    if (name && router_tier(r, name))
        *out = json_string(name);
    else if (name && router_candidate(r, name))
        *out = json_pack("[s]", name);
    if (*out) return true;
    oai_error(req, 404, "invalid_request_error", "model_not_found",
              "the model '%.100s' does not exist here: GET /v1/models lists tiers and models",
              name);
    return false;
}

/* GET /v1/models: "auto", every tier, every configured candidate. */
void api_v1_models(http_req_t *req, api_t *a, char **params) {
    (void)params;
    json_t *data = json_array();
    json_array_append_new(data, json_pack("{s:s, s:s, s:i, s:s}", "id", "auto", "object", "model",
                                          "created", 0, "owned_by", "baton"));
    const char *tier;
    json_t *v;
    json_object_foreach(json_object_get(host_config(a->host), "tiers"), tier, v) {
        json_array_append_new(data, json_pack("{s:s, s:s, s:i, s:s}", "id", tier, "object", "model",
                                              "created", 0, "owned_by", "baton"));
    }
    json_t *cands = router_describe(host_router(a->host));
    size_t i;
    json_array_foreach(cands, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        const char *slash = id ? strchr(id, '/') : NULL;
        json_t *owner = slash ? json_stringn(id, (size_t)(slash - id)) : json_string("baton");
        json_array_append_new(data, json_pack("{s:s, s:s, s:i, s:o}", "id", id ? id : "?", "object",
                                              "model", "created", 0, "owned_by", owner));
    }
    json_decref(cands);
    api_json(req, 200, json_pack("{s:s, s:o}", "object", "list", "data", data));
}

/* ---- chat completions --------------------------------------------------------------------------
 */

/* A call in flight, until its answer is written. */
struct api_gateway_call {
    api_t *a;
    http_req_t *req;
    llm_call_t *call;
    llm_embed_call_t *embed;
    bool stream, include_usage;
    bool simulated; /* the answer is the offline model's: GATEWAY_SIMULATED_FINGERPRINT */
    char id[40];
    long long created;
    size_t n_inputs; /* embeddings: how many texts */
    bool base64;     /* embeddings: encoding_format base64 */
    api_gateway_call_t *next;
};

static api_gateway_call_t *call_new(api_t *a, http_req_t *req, const char *prefix) {
    api_gateway_call_t *g = xcalloc(1, sizeof *g);
    g->a = a;
    g->req = req;
    g->created = (long long)time(NULL);
    snprintf(g->id, sizeof g->id, "%s-%08x%08x", prefix, randombytes_random(),
             randombytes_random());
    g->next = a->gateway_calls;
    a->gateway_calls = g;
    return g;
}

static void call_done(api_gateway_call_t *g) {
    for (api_gateway_call_t **p = &g->a->gateway_calls; *p; p = &(*p)->next)
        if (*p == g) {
            *p = g->next;
            break;
        }
    free(g);
}

/* Provider failures as OpenAI reports them. */
static void answer_failure(http_req_t *req, const llm_error_t *err) {
    const char *msg = err && err->message ? err->message : "the call failed";
    if (err && err->kind == LLM_ERR_SPEND_LIMIT)
        oai_error(req, 429, "insufficient_quota", "insufficient_quota", "%s", msg);
    else if (err && err->kind == LLM_ERR_RATE_LIMIT)
        oai_error(req, 429, "rate_limit_error", "rate_limit_exceeded", "%s", msg);
    else
        oai_error(req, 502, "api_error", NULL, "every model candidate failed: %s", msg);
}

static json_t *usage_of(const llm_response_t *r) {
    return json_pack("{s:I, s:I, s:I}", "prompt_tokens", (json_int_t)r->input_tokens,
                     "completion_tokens", (json_int_t)r->output_tokens, "total_tokens",
                     (json_int_t)(r->input_tokens + r->output_tokens));
}

/* Baton's tool calls in OpenAI's form; index set for stream deltas. */
static json_t *calls_to_openai(const json_t *calls, bool with_index) {
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c) {
        char *args = json_dumps(json_object_get(c, "arguments"), JSON_COMPACT);
        json_t *o = json_pack("{s:O, s:s, s:{s:O, s:s}}", "id", json_object_get(c, "id"), "type",
                              "function", "function", "name", json_object_get(c, "name"),
                              "arguments", args ? args : "{}");
        if (with_index) json_object_set_new(o, "index", json_integer((json_int_t)i));
        json_array_append_new(out, o);
        free(args);
    }
    return out;
}

/* An answer of the offline model says so in the field every OpenAI client already exposes
 * (docs/models.md): what it wrote is simulated, not a model's work. */
#define GATEWAY_SIMULATED_FINGERPRINT "baton-offline-simulated"

static void sse_chunk(strbuf_t *sb, api_gateway_call_t *g, const char *model, json_t *choices,
                      json_t *usage) {
    json_t *chunk =
        json_pack("{s:s, s:s, s:I, s:s, s:o}", "id", g->id, "object", "chat.completion.chunk",
                  "created", (json_int_t)g->created, "model", model, "choices", choices);
    if (usage) json_object_set_new(chunk, "usage", usage);
    if (g->simulated)
        json_object_set_new(chunk, "system_fingerprint",
                            json_string(GATEWAY_SIMULATED_FINGERPRINT));
    char *text = json_dumps(chunk, JSON_COMPACT);
    sb_printf(sb, "data: %s\n\n", text ? text : "{}");
    free(text);
    json_decref(chunk);
}

static void chat_answered(void *ud, llm_response_t *resp, const llm_error_t *err) {
    api_gateway_call_t *g = ud;
    if (!resp) {
        answer_failure(g->req, err);
        call_done(g);
        return;
    }
    char *model =
        xasprintf("%s/%s", resp->provider ? resp->provider : "?", resp->model ? resp->model : "?");
    bool tools = json_array_size(resp->tool_calls) > 0;
    const char *finish = tools ? "tool_calls" : "stop";
    g->simulated = resp->simulated;
    if (!g->stream) {
        json_t *msg = json_pack("{s:s, s:o}", "role", "assistant", "content",
                                tools && !*resp->text ? json_null() : api_text(resp->text));
        if (tools) json_object_set_new(msg, "tool_calls", calls_to_openai(resp->tool_calls, false));
        json_t *out = json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:s}], s:o}", "id", g->id,
                                "object", "chat.completion", "created", (json_int_t)g->created,
                                "model", model, "choices", "index", 0, "message", msg,
                                "finish_reason", finish, "usage", usage_of(resp));
        if (g->simulated)
            json_object_set_new(out, "system_fingerprint",
                                json_string(GATEWAY_SIMULATED_FINGERPRINT));
        api_json(g->req, 200, out);
    } else {
        strbuf_t sb = {0};
        sse_chunk(&sb, g, model,
                  json_pack("[{s:i, s:{s:s, s:s}, s:n}]", "index", 0, "delta", "role", "assistant",
                            "content", "", "finish_reason"),
                  NULL);
        if (*resp->text)
            sse_chunk(&sb, g, model,
                      json_pack("[{s:i, s:{s:o}, s:n}]", "index", 0, "delta", "content",
                                api_text(resp->text), "finish_reason"),
                      NULL);
        if (tools)
            sse_chunk(&sb, g, model,
                      json_pack("[{s:i, s:{s:o}, s:n}]", "index", 0, "delta", "tool_calls",
                                calls_to_openai(resp->tool_calls, true), "finish_reason"),
                      NULL);
        sse_chunk(&sb, g, model,
                  json_pack("[{s:i, s:{}, s:s}]", "index", 0, "delta", "finish_reason", finish),
                  NULL);
        if (g->include_usage) sse_chunk(&sb, g, model, json_array(), usage_of(resp));
        sb_append(&sb, "data: [DONE]\n\n", 14);
        http_respond(g->req, 200, "text/event-stream", sb_str(&sb), sb.len);
        sb_free(&sb);
    }
    free(model);
    llm_response_free(resp);
    free(resp);
    call_done(g);
}

/* POST /v1/chat/completions */
void api_v1_chat(http_req_t *req, api_t *a, char **params) {
    (void)params;
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(body)) {
        oai_error(req, 400, "invalid_request_error", NULL, "the body must be a JSON object%s%s",
                  body ? "" : ": ", body ? "" : jerr.text);
        json_decref(body);
        return;
    }
    chat_map_t c = {0};
    json_t *inputs = NULL, *model = NULL;
    char why[256];
    if (chat_map_read(body, &c, why, sizeof why) != 0) {
        oai_error(req, 400, "invalid_request_error", NULL, "%s", why);
        goto out;
    }
    if (!resolve_model(req, a, json_object_get(body, "model"), &model)) goto out;
    api_gateway_call_t *g = call_new(a, req, "chatcmpl");
    g->stream = json_is_true(json_object_get(body, "stream"));
    g->include_usage =
        json_is_true(json_object_get(json_object_get(body, "stream_options"), "include_usage"));
    inputs = json_pack("{s:s}", "message", c.prompt);
    llm_request_t r = {.run_id = ENGINE_GATEWAY_RUN,
                       .task_id = "chat.completions",
                       .attempt = 1,
                       .iteration = 1,
                       .system = c.system,
                       .prompt = c.prompt,
                       .inputs = inputs,
                       .model = model,
                       .format = c.format,
                       .schema = c.schema,
                       .max_tokens = c.max_tokens,
                       .temperature = c.temperature,
                       .tools = c.tools,
                       .transcript = json_array_size(c.transcript) ? c.transcript : NULL};
    r.cost_capped = engine_daily_room(host_engine(a->host), &r.max_cost_usd);
    g->call = provider_call(recall_provider(host_recall(a->host)), &r, chat_answered, g);
out:
    json_decref(inputs);
    json_decref(model);
    chat_map_free(&c);
    json_decref(body);
}

/* ---- embeddings
 * ---------------------------------------------------------------------------------- */

static void embed_answered(void *ud, llm_response_t *resp, const llm_error_t *err) {
    api_gateway_call_t *g = ud;
    if (!resp) {
        answer_failure(g->req, err);
        call_done(g);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 0; i < resp->n_vectors; i++) {
        const float *v = resp->vectors + i * resp->dimensions;
        json_t *emb;
        if (g->base64) { /* float32, little-endian, as OpenAI sends it */
            size_t bytes = resp->dimensions * sizeof(float);
            size_t b64len = sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_ORIGINAL);
            char *b64 = xmalloc(b64len);
            sodium_bin2base64(b64, b64len, (const unsigned char *)v, bytes,
                              sodium_base64_VARIANT_ORIGINAL);
            emb = json_string(b64);
            free(b64);
        } else {
            emb = json_array();
            for (size_t k = 0; k < resp->dimensions; k++)
                json_array_append_new(emb, json_real(v[k]));
        }
        json_array_append_new(data, json_pack("{s:s, s:I, s:o}", "object", "embedding", "index",
                                              (json_int_t)i, "embedding", emb));
    }
    char *model =
        xasprintf("%s/%s", resp->provider ? resp->provider : "?", resp->model ? resp->model : "?");
    api_json(g->req, 200,
             json_pack("{s:s, s:o, s:s, s:{s:I, s:I}}", "object", "list", "data", data, "model",
                       model, "usage", "prompt_tokens", (json_int_t)resp->input_tokens,
                       "total_tokens", (json_int_t)resp->input_tokens));
    free(model);
    llm_response_free(resp);
    free(resp);
    call_done(g);
}

/* POST /v1/embeddings {model, input: string | [string], dimensions, encoding_format} */
void api_v1_embeddings(http_req_t *req, api_t *a, char **params) {
    (void)params;
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    const json_t *input = json_object_get(body, "input");
    const char *enc = json_string_value(json_object_get(body, "encoding_format"));
    const json_t *dims = json_object_get(body, "dimensions");
    json_t *model = NULL;
    size_t n = json_is_string(input) ? 1 : json_array_size(input);
    const char **texts = xcalloc(n ? n : 1, sizeof *texts);
    bool ok = json_is_object(body) && n > 0;
    if (json_is_string(input)) texts[0] = json_string_value(input);
    for (size_t i = 0; ok && json_is_array(input) && i < n; i++)
        ok = (texts[i] = json_string_value(json_array_get(input, i))) != NULL;
    if (!ok) {
        oai_error(req, 400, "invalid_request_error", NULL,
                  "input must be a string or a non-empty array of strings");
        goto out;
    }
    if (enc && strcmp(enc, "float") && strcmp(enc, "base64")) {
        oai_error(req, 400, "invalid_request_error", NULL,
                  "encoding_format must be float or base64");
        goto out;
    }
    if (dims && (!json_is_integer(dims) || json_integer_value(dims) <= 0 ||
                 json_integer_value(dims) > API_EMBED_MAX_DIMENSIONS)) {
        /* past it the provider's int would take it cut (2^40 became 0, sent as none) */
        oai_error(req, 400, "invalid_request_error", NULL,
                  "dimensions must be a whole number from 1 to %d", API_EMBED_MAX_DIMENSIONS);
        goto out;
    }
    const json_t *m = json_object_get(body, "model");
    if (!resolve_model(req, a, m, &model)) goto out;
    api_gateway_call_t *g = call_new(a, req, "emb");
    g->base64 = enc && !strcmp(enc, "base64");
    llm_embed_request_t er = {.run_id = ENGINE_GATEWAY_RUN,
                              .task_id = "embeddings",
                              .attempt = 1,
                              .model = model,
                              .texts = texts,
                              .n_texts = n,
                              .dimensions = dims ? (int)json_integer_value(dims) : 0};
    char *err = NULL;
    g->embed = llm_embed(host_router(a->host), &er, embed_answered, g, &err);
    if (!g->embed) {
        oai_error(req, 400, "invalid_request_error", NULL, "%s",
                  err ? err : "the embedding cannot be made");
        call_done(g);
    }
    free(err);
out:
    free(texts);
    json_decref(model);
    json_decref(body);
}

void api_gateway_stop(api_t *a) {
    while (a->gateway_calls) {
        api_gateway_call_t *g = a->gateway_calls;
        if (g->call) provider_cancel(recall_provider(host_recall(a->host)), g->call);
        if (g->embed) llm_embed_cancel(g->embed);
        oai_error(g->req, 503, "api_error", NULL, "the server is stopping");
        call_done(g);
    }
}
