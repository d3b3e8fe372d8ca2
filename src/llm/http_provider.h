/* http_provider.h - what every HTTP model provider shares (openai.c, anthropic.c): its
 * configuration (name, base URL, auth header, model, prices, timeouts), starting a streamed
 * POST on the loop's shared client, and the one rule every provider keeps for a request that
 * cannot even start: it is reported through `done` on a later loop turn, never from inside
 * provider_call. */
#ifndef BATON_LLM_HTTP_PROVIDER_H
#define BATON_LLM_HTTP_PROVIDER_H

#include "llm/http.h"
#include "llm/provider.h"
#include "util/strbuf.h"

typedef struct http_provider_opts {
    const char *name;     /* "provider/model" as configured (journaled with every call) */
    const char *base_url; /* e.g. https://api.openai.com/v1; trailing slashes are dropped */
    const char *api_key;  /* NULL for servers without one; never logged */
    const char *model;    /* the model id sent to the server */
    llm_prices_t prices;
    long connect_timeout_ms, first_byte_timeout_ms, total_timeout_ms;
} http_provider_opts_t;

typedef struct http_provider {
    llm_provider_t base;
    http_client_t *http; /* borrowed: shared by every provider of a loop */
    char *name, *base_url, *model;
    char *auth; /* the whole auth header line, or NULL without a key */
    llm_prices_t prices;
    long connect_ms, first_byte_ms, total_ms;
} http_provider_t;

/* A provider of one wire protocol: copies the options; auth_format is the header with one %s
 * for the key ("Authorization: Bearer %s", "x-api-key: %s"). Every provider's llm_call_t must
 * begin with its http_provider_t pointer and then its http_call_t (the shared cancel relies on
 * that layout). */
typedef llm_call_t *(*http_provider_call_fn)(llm_provider_t *p, const llm_request_t *req,
                                             llm_done_fn done, void *ud);
llm_provider_t *http_provider_new(http_client_t *http, const http_provider_opts_t *o,
                                  const char *auth_format, http_provider_call_fn call);

/* The answer of a finished call, with its cost: uncached input at the input price, cached input
 * at the cached price, output at the output price, plus `extra_cost` (a protocol's own item,
 * such as a cache write). An output count of 0 becomes an estimate from the text: a server that
 * reports no usage is never recorded as free. Takes `text`. */
llm_response_t *http_provider_response(const http_provider_t *p, char *text, output_format_t format,
                                       int64_t input_tokens, int64_t output_tokens,
                                       int64_t cached_tokens, double extra_cost,
                                       const http_result_t *res);

/* The HTTP side of one call. `owner` is the provider's call object: a request that cannot start
 * is reported to done(done_ud) on a later loop turn, and `release` frees the owner once the
 * timer is closed (also after http_call_cancel). */
typedef struct http_call {
    http_request_t *req;
    uv_timer_t defer;
    void *owner;
    void (*release)(void *owner);
    llm_done_fn done;
    void *done_ud;
    /* The provider's buffers of streamed answer (text, a tool's JSON), NULL when unused: what
     * a cancelled call had received (provider->received). Set after http_provider_start. */
    const strbuf_t *answer[2];
    const llm_tool_asm_t *calls; /* tool calls streamed in fragments so far, or NULL */
    /* who is told of streamed text (llm_request_t.on_text), set by http_provider_watch */
    void (*on_text)(void *text_ud, const char *candidate, const char *piece);
    void *text_ud;
    const char *candidate; /* the provider's name: lives as long as the provider */
} http_call_t;

/* Remembers the request's text observer for this call (after http_provider_start). */
void http_provider_watch(http_call_t *hc, const http_provider_t *p, const llm_request_t *req);
/* A piece of the answer's text arrived: appended to text, and told to the observer. */
void http_provider_text(http_call_t *hc, strbuf_t *text, const char *piece);

/* Starts a call: sets up hc for `owner` (freed by `release`, reporting to done(ud)) and POSTs
 * the JSON `body` (taken) to base_url + path with the JSON/SSE headers, the auth header and
 * `extra` (NULL-terminated, may be NULL). on_data and on_done receive `owner`. */
void http_provider_start(http_provider_t *p, http_call_t *hc, void *owner,
                         void (*release)(void *owner), llm_done_fn done, void *ud, const char *path,
                         const char *const *extra, json_t *body, http_data_fn on_data,
                         http_done_fn on_done);

/* The same for a call answered in one JSON body (embeddings): `Accept: application/json`, and
 * the whole body reaches on_done (http_result_t.body). */
void http_provider_start_json(http_provider_t *p, http_call_t *hc, void *owner,
                              void (*release)(void *owner), llm_done_fn done, void *ud,
                              const char *path, json_t *body, http_done_fn on_done);

/* A request that got no complete answer (res->error set): sets err->kind (a timeout, or a
 * connection failure) and returns the message "NAME: what curl said" (caller frees). */
char *http_provider_transport_error(const http_provider_t *p, const http_result_t *res,
                                    llm_error_t *err);

/* A protocol's reading of a refusal (an HTTP status other than 200 and its body): sets
 * err->kind (and err->retry_after_ms when the body carries one) and returns the message
 * "NAME: HTTP 429...: the provider's text" (caller frees). Chat and embedding calls of one
 * protocol share it, so both classify and word a failure the same way. */
typedef char *(*http_status_error_fn)(const http_provider_t *p, const http_result_t *res,
                                      const char *body, size_t len, llm_error_t *err);

/* Reports a failed call to its `done`: `msg` (taken) becomes err's message, with what the
 * call delivered before failing (output_tokens) and how long it took. The caller frees its call
 * afterwards. */
void http_provider_fail(http_call_t *hc, llm_error_t *err, char *msg, int64_t output_tokens,
                        const http_result_t *res);

/* Reports a call's answer (taken) to its `done`: the one place a call's done/ud live is its
 * http_call_t. The caller frees its call afterwards. */
void http_provider_succeed(http_call_t *hc, llm_response_t *resp);

/* Stops the call: cancels the request, or the deferred refusal. `release` frees the owner
 * (at once, or when the deferred timer is closed). */
void http_call_cancel(http_call_t *hc);

#endif
