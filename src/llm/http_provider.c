#include "llm/http_provider.h"
#include "util/redact.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The layout every provider's call object starts with (see http_provider.h). */
typedef struct call_head {
    http_provider_t *p;
    http_call_t hc;
} call_head_t;

static void provider_cancel_call(llm_call_t *c) {
    http_call_cancel(&((call_head_t *)(void *)c)->hc);
}

static int64_t provider_received(llm_call_t *c) {
    const http_call_t *hc = &((call_head_t *)(void *)c)->hc;
    int64_t n = 0;
    for (size_t i = 0; i < 2; i++)
        if (hc->answer[i]) n += llm_estimate_tokens(sb_str(hc->answer[i]));
    size_t bytes = 0; /* tool-call arguments are output too */
    for (size_t i = 0; hc->calls && i < hc->calls->n; i++) bytes += hc->calls->parts[i].len;
    return n + (int64_t)((bytes + 3) / 4);
}

static void http_provider_release(http_provider_t *p);

static void provider_destroy_impl(llm_provider_t *base) {
    http_provider_release((http_provider_t *)base);
    free(base);
}

static void http_provider_init(http_provider_t *p, http_client_t *http,
                               const http_provider_opts_t *o, const char *auth_format) {
    p->http = http;
    p->name = xstrdup(o->name);
    p->base.name = p->name;
    p->base_url = xstrdup(o->base_url);
    size_t l = strlen(p->base_url);
    while (l && p->base_url[l - 1] == '/') p->base_url[--l] = '\0';
    p->auth = o->api_key && *o->api_key ? xasprintf(auth_format, o->api_key) : NULL;
    /* Every configured key is a secret redact_text knows, whatever its shape. */
    redact_register(o->api_key);
    p->model = xstrdup(o->model);
    p->prices = o->prices;
    p->connect_ms = o->connect_timeout_ms;
    p->first_byte_ms = o->first_byte_timeout_ms;
    p->total_ms = o->total_timeout_ms;
}

llm_provider_t *http_provider_new(http_client_t *http, const http_provider_opts_t *o,
                                  const char *auth_format, http_provider_call_fn call) {
    http_provider_t *p = xcalloc(1, sizeof *p);
    http_provider_init(p, http, o, auth_format);
    p->base.call = call;
    p->base.cancel = provider_cancel_call;
    p->base.received = provider_received;
    p->base.destroy = provider_destroy_impl;
    return &p->base;
}

llm_response_t *http_provider_response(const http_provider_t *p, char *text, output_format_t format,
                                       int64_t input_tokens, int64_t output_tokens,
                                       int64_t cached_tokens, double extra_cost,
                                       const http_result_t *res) {
    llm_response_t *r = xcalloc(1, sizeof *r);
    r->text = text;
    if (format == OUTPUT_JSON) r->json = json_loads(text, JSON_DECODE_ANY, NULL);
    r->provider = xstrdup(p->name);
    r->model = xstrdup(p->model);
    r->input_tokens = input_tokens;
    r->output_tokens = output_tokens ? output_tokens : llm_estimate_tokens(text);
    r->cached_tokens = cached_tokens;
    int64_t uncached = input_tokens - cached_tokens;
    r->cost_usd = llm_cost(&p->prices, uncached > 0 ? uncached : 0, r->output_tokens) +
                  (double)cached_tokens * p->prices.cached_input_per_million / 1e6 + extra_cost;
    r->latency_ms = res->total_ms;
    r->first_token_ms = res->first_byte_ms;
    return r;
}

static void http_provider_release(http_provider_t *p) {
    free(p->name);
    free(p->base_url);
    free(p->model);
    free(p->auth);
}

static void deferred_closed(uv_handle_t *h) {
    http_call_t *hc = h->data;
    hc->release(hc->owner);
}

static void refuse_fire(uv_timer_t *t) {
    http_call_t *hc = t->data;
    llm_error_t err = {.retry_after_ms = -1,
                       .message = "the provider's base_url is not a usable URL"};
    hc->done(hc->done_ud, NULL, &err);
    uv_close((uv_handle_t *)&hc->defer, deferred_closed);
}

void http_provider_fail(http_call_t *hc, llm_error_t *err, char *msg, int64_t output_tokens,
                        const http_result_t *res) {
    /* The one place a provider's failure enters Baton: every HTTP provider (chat, embeddings,
     * transport errors and refusals alike) reports through here, and from here the text fans
     * out to the llm.call event, the llm_calls row, the task's error, the run's and the
     * gateway's answers and the log. A provider that quotes the key back ("Incorrect API key
     * provided: sk-...") would put it in all of them, so it is redacted once, here, before any
     * of them is made, rather than at each sink (where one forgotten would leak it). */
    char *clean = redact_text(msg);
    free(msg);
    msg = clean;
    err->message = msg;
    err->output_tokens = output_tokens;
    err->total_ms = res->total_ms;
    hc->done(hc->done_ud, NULL, err);
    free(msg);
}

static void post(http_provider_t *p, http_call_t *hc, void *owner, void (*release)(void *owner),
                 llm_done_fn done, void *ud, const char *path, const char *accept,
                 const char *const *extra, json_t *json, http_data_fn on_data,
                 http_done_fn on_done) {
    *hc = (http_call_t){.owner = owner, .release = release, .done = done, .done_ud = ud};
    char *body = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    const char *headers[8] = {"Content-Type: application/json", accept};
    size_t n = 2;
    if (p->auth) headers[n++] = p->auth;
    for (size_t i = 0; extra && extra[i] && n < 7; i++) headers[n++] = extra[i];
    headers[n] = NULL;
    char *url = xasprintf("%s%s", p->base_url, path);
    http_req_opts_t o = {.url = url,
                         .headers = headers,
                         .body = body,
                         .body_len = strlen(body),
                         .connect_timeout_ms = p->connect_ms,
                         .first_byte_timeout_ms = p->first_byte_ms,
                         .total_timeout_ms = p->total_ms,
                         .on_data = on_data,
                         .on_done = on_done,
                         .ud = hc->owner};
    hc->req = http_request_start(p->http, &o);
    free(url);
    free(body);
    if (!hc->req) {
        /* A URL curl refuses (the configuration checks base_url, so this is rare). */
        uv_timer_init(http_client_loop(p->http), &hc->defer);
        hc->defer.data = hc;
        uv_timer_start(&hc->defer, refuse_fire, 0, 0);
    }
}

void http_provider_succeed(http_call_t *hc, llm_response_t *resp) {
    hc->done(hc->done_ud, resp, NULL);
}

void http_provider_start(http_provider_t *p, http_call_t *hc, void *owner,
                         void (*release)(void *owner), llm_done_fn done, void *ud, const char *path,
                         const char *const *extra, json_t *json, http_data_fn on_data,
                         http_done_fn on_done) {
    post(p, hc, owner, release, done, ud, path, "Accept: text/event-stream", extra, json, on_data,
         on_done);
}

void http_provider_start_json(http_provider_t *p, http_call_t *hc, void *owner,
                              void (*release)(void *owner), llm_done_fn done, void *ud,
                              const char *path, json_t *json, http_done_fn on_done) {
    post(p, hc, owner, release, done, ud, path, "Accept: application/json", NULL, json, NULL,
         on_done);
}

char *http_provider_transport_error(const http_provider_t *p, const http_result_t *res,
                                    llm_error_t *err) {
    const char *e = res->error;
    err->kind = strstr(e, "timeout") || strstr(e, "Timeout") || strstr(e, "timed out")
                    ? LLM_ERR_TIMEOUT
                    : LLM_ERR_CONNECTION;
    return xasprintf("%s: %s", p->name, e);
}

void http_call_cancel(http_call_t *hc) {
    if (hc->req) {
        http_request_cancel(hc->req);
        hc->req = NULL;
        hc->release(hc->owner);
    } else {
        uv_timer_stop(&hc->defer);
        uv_close((uv_handle_t *)&hc->defer, deferred_closed);
    }
}

void http_provider_watch(http_call_t *hc, const http_provider_t *p, const llm_request_t *req) {
    hc->on_text = req->on_text;
    hc->text_ud = req->text_ud;
    hc->candidate = p->name;
}

void http_provider_text(http_call_t *hc, strbuf_t *text, const char *piece) {
    if (!piece || !*piece) return;
    sb_puts(text, piece);
    if (hc->on_text) hc->on_text(hc->text_ud, hc->candidate, piece);
}
