/* http_provider.h - what every HTTP model provider shares (openai.c, anthropic.c): its
 * configuration (name, base URL, auth header, model, prices, timeouts), starting a streamed
 * POST on the loop's shared client, and the one rule every provider keeps for a request that
 * cannot even start: it is reported through `done` on a later loop turn, never from inside
 * provider_call. */
#ifndef BATON_LLM_HTTP_PROVIDER_H
#define BATON_LLM_HTTP_PROVIDER_H

#include "llm/http.h"
#include "llm/provider.h"

typedef struct http_provider_opts {
    const char *name;         /* "provider/model" as configured (journaled with every call) */
    const char *base_url;     /* e.g. https://api.openai.com/v1; trailing slashes are dropped */
    const char *api_key;      /* NULL for servers without one; never logged */
    const char *model;        /* the model id sent to the server */
    llm_prices_t prices;
    long connect_timeout_ms, first_byte_timeout_ms, total_timeout_ms;
} http_provider_opts_t;

typedef struct http_provider {
    llm_provider_t base;
    http_client_t *http;      /* borrowed: shared by every provider of a loop */
    char *name, *base_url, *model;
    char *auth;               /* the whole auth header line, or NULL without a key */
    llm_prices_t prices;
    long connect_ms, first_byte_ms, total_ms;
} http_provider_t;

/* Copies the options; auth_format is the header with one %s for the key
 * ("Authorization: Bearer %s", "x-api-key: %s"). */
void http_provider_init(http_provider_t *p, http_client_t *http, const http_provider_opts_t *o,
                        const char *auth_format);
void http_provider_release(http_provider_t *p); /* the strings, not p */

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
} http_call_t;

/* POSTs body (JSON text) to base_url + path with the JSON/SSE headers, the auth header and
 * `extra` (NULL-terminated, may be NULL). */
void http_provider_post(http_provider_t *p, http_call_t *hc, const char *path,
                        const char *const *extra, const char *body, http_data_fn on_data,
                        http_done_fn on_done);

/* Stops the call: cancels the request, or the deferred refusal. `release` frees the owner
 * (at once, or when the deferred timer is closed). */
void http_call_cancel(http_call_t *hc);

#endif
