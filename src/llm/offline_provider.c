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
    void (*on_text)(void *text_ud, const char *candidate, const char *piece);
    void *text_ud;
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
        /* The offline model has its answer at once: it "streams" it as one piece. */
        if (c->on_text && resp->text && *resp->text)
            c->on_text(c->text_ud, "offline/offline-1", resp->text);
    } else {
        error = c->resp.text ? xstrdup(c->resp.text) : xstrdup("offline model failed");
        llm_response_free(&c->resp);
    }
    uv_close((uv_handle_t *)&c->timer, call_free);
    /* An injected fault looks like what it stands for: a provider outage (HTTP 503). */
    llm_error_t err = {
        .kind = LLM_ERR_SERVER, .status = 503, .retry_after_ms = -1, .message = error};
    done(ud, resp, resp ? NULL : &err);
    free(error);
}

/* The offline model's use of tools, deterministic so the tool loop runs with no network: when
 * it is offered read_artifact and the run has artifacts (listed as the `name` parameter's enum),
 * its first turn reads the first of them; once results are in, it answers as usual with the
 * results among its inputs (under "consulted", each clipped), so the answer shows what it read.
 * Other tools it never calls: their effects (the network, a person) are not its to decide. */
#define OFFLINE_CONSULT_CLIP 160

static json_t *offline_tool_call(const llm_request_t *req) {
    size_t i;
    const json_t *turn;
    json_array_foreach(req->transcript, i, turn) {
        const char *role = json_string_value(json_object_get(turn, "role"));
        if (role && !strcmp(role, "assistant")) return NULL; /* it asked once already */
    }
    const json_t *t;
    json_array_foreach(req->tools, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        const json_t *names = json_object_get(
            json_object_get(json_object_get(json_object_get(t, "parameters"), "properties"),
                            "name"),
            "enum");
        if (!name || strcmp(name, "read_artifact") || !json_is_string(json_array_get(names, 0)))
            continue;
        return json_pack("[{s:s, s:s, s:{s:O}}]", "id", "offline_call_1", "name", name, "arguments",
                         "name", json_array_get(names, 0));
    }
    return NULL;
}

/* The inputs with what the tools returned, or NULL when nothing was returned. New reference. */
static json_t *consulted_inputs(const llm_request_t *req) {
    json_t *seen = json_array();
    size_t i;
    const json_t *turn;
    json_array_foreach(req->transcript, i, turn) {
        const char *role = json_string_value(json_object_get(turn, "role"));
        if (!role || strcmp(role, "tool")) continue;
        const char *text = llm_tool_result_text(turn);
        size_t n = strcspn(text, "\n");
        if (n > OFFLINE_CONSULT_CLIP) n = OFFLINE_CONSULT_CLIP;
        json_t *clip = json_stringn(text, n);
        for (int k = 0; !clip && k < 3 && n > 0; k++) clip = json_stringn(text, --n);
        char *line = xasprintf("%s: %s", json_string_value(json_object_get(turn, "name")),
                               clip ? json_string_value(clip) : "");
        json_decref(clip);
        json_array_append_new(seen, json_string(line));
        free(line);
    }
    if (!json_array_size(seen)) {
        json_decref(seen);
        return NULL;
    }
    json_t *inputs = json_is_object(req->inputs) ? json_copy((json_t *)req->inputs) : json_object();
    json_object_set_new(inputs, "consulted", seen);
    return inputs;
}

static llm_call_t *offline_call(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                                void *ud) {
    offline_provider_t *p = (offline_provider_t *)base;
    llm_call_t *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->done = done;
    c->ud = ud;
    c->on_text = req->on_text;
    c->text_ud = req->text_ud;
    /* Generate now, while the request's borrowed pointers are valid; deliver later. */
    json_int_t fail = json_integer_value(json_object_get(p->fail_attempts, req->task_id));
    if (req->attempt <= fail) {
        c->rc = -1;
        c->resp.text = xasprintf("offline provider: injected failure of task '%s' attempt %d "
                                 "(providers.offline.fail_attempts)",
                                 req->task_id, req->attempt);
    } else if ((c->resp.tool_calls = offline_tool_call(req))) {
        c->resp.text = xstrdup("");
        c->resp.provider = xstrdup("offline");
        c->resp.model = xstrdup("offline-1");
        c->resp.simulated = true;
        c->resp.input_tokens = llm_estimate_tokens(req->prompt) + llm_estimate_tokens(req->system);
        c->resp.output_tokens = 8;
    } else {
        json_t *consulted = consulted_inputs(req);
        llm_request_t with = *req;
        if (consulted) with.inputs = consulted;
        c->rc = offline_generate(&with, &c->resp);
        json_decref(consulted);
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
            (double)output_tokens * p->output_per_million) /
           1e6;
}
