/* offline_provider.c - offline_generate served asynchronously on the loop, so the engine sees the
 * same call/answer/cancel life cycle as with a network provider (timeouts and cancellation work
 * the same way in tests as in production). */
#include "llm/offline.h"
#include "llm/provider.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct offline_provider {
    llm_provider_t base;
    uv_loop_t *loop;
    uint64_t latency_ms;
    llm_prices_t prices;
    const json_t *fail_attempts;
} offline_provider_t;

struct llm_call {
    uv_timer_t timer;
    offline_provider_t *p;
    llm_response_t resp;
    int rc;
    llm_done_fn done;
    void *ud;
};

static void call_free(uv_handle_t *h) { free(h->data); }

static void call_fire(uv_timer_t *t) {
    llm_call_t *c = t->data;
    llm_done_fn done = c->done;
    void *ud = c->ud;
    llm_response_t *resp = NULL;
    char *error = NULL;
    if (c->rc == 0) {
        resp = xmalloc(sizeof *resp);
        *resp = c->resp;
    } else {
        error = c->resp.text ? xstrdup(c->resp.text) : xstrdup("offline model failed");
        llm_response_free(&c->resp);
    }
    uv_close((uv_handle_t *)&c->timer, call_free);
    /* An injected fault looks like what it stands for: a provider outage (HTTP 503). */
    llm_error_t err = {.kind = LLM_ERR_SERVER, .status = 503, .retry_after_ms = -1, .message = error};
    done(ud, resp, resp ? NULL : &err);
    free(error);
}

static llm_call_t *offline_call(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                                void *ud) {
    offline_provider_t *p = (offline_provider_t *)base;
    llm_call_t *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->done = done;
    c->ud = ud;
    /* Generate now, while the request's borrowed pointers are valid; deliver later. */
    json_int_t fail = json_integer_value(json_object_get(p->fail_attempts, req->task_id));
    if (req->attempt <= fail) {
        c->rc = -1;
        c->resp.text = xasprintf("offline provider: injected failure of task '%s' attempt %d "
                                 "(providers.offline.fail_attempts)", req->task_id, req->attempt);
    } else {
        c->rc = offline_generate(req, &c->resp);
    }
    if (c->rc == 0) {
        c->resp.cost_usd = llm_cost(&p->prices, c->resp.input_tokens, c->resp.output_tokens);
        c->resp.latency_ms = (int64_t)p->latency_ms;
    }
    uv_timer_init(p->loop, &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, call_fire, p->latency_ms, 0);
    return c;
}

static void offline_cancel(llm_call_t *c) {
    uv_timer_stop(&c->timer);
    llm_response_free(&c->resp);
    uv_close((uv_handle_t *)&c->timer, call_free);
}

static void offline_destroy(llm_provider_t *base) { free(base); }

llm_provider_t *offline_provider_new(uv_loop_t *loop, uint64_t latency_ms, llm_prices_t prices,
                                     const json_t *fail_attempts) {
    offline_provider_t *p = xcalloc(1, sizeof *p);
    p->base.name = "offline";
    p->base.call = offline_call;
    p->base.cancel = offline_cancel;
    p->base.destroy = offline_destroy;
    p->loop = loop;
    p->latency_ms = latency_ms;
    p->prices = prices;
    p->fail_attempts = fail_attempts;
    return &p->base;
}

double llm_cost(const llm_prices_t *p, int64_t input_tokens, int64_t output_tokens) {
    return ((double)input_tokens * p->input_per_million +
            (double)output_tokens * p->output_per_million) / 1e6;
}

