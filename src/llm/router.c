/* router.c - candidates and fallback (see router.h). */
#include "core/workflow.h"
#include "llm/http.h"
#include "llm/limiter.h"
#include "llm/policy.h"
#include "llm/providers.h"
#include "llm/router.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN } breaker_state_t;

typedef struct candidate {
    char *id;          /* "provider/model" */
    llm_provider_t *p; /* one provider instance per provider/model */
    llm_prices_t prices;
    bool local;
    /* circuit breaker: after `failures` consecutive failures the candidate is skipped for
     * `cooldown`, then one probe call decides whether it closes again */
    breaker_state_t breaker;
    int consecutive_failures;
    uint64_t open_until; /* loop time (ms) */
    bool probing;        /* the half-open probe is in flight */
    limiter_t *lim;      /* the provider's limits (shared by its models), or NULL */
    /* what the latency and score policies learn from answered calls (moving averages) */
    double latency_ms; /* < 0: never answered */
    double success;    /* in [0,1], starts at 1 */
} candidate_t;

/* Weight of the newest call in the moving averages: about the last ten calls count. */
#define EWMA_ALPHA 0.2

struct router {
    llm_provider_t base;
    http_client_t *http;
    candidate_t *cands;
    size_t n;
    json_t *tiers; /* tier -> [ids] */
    policy_t policy;
    router_call_fn observe;
    void *observe_ud;
    uv_loop_t *loop;
    int breaker_failures;         /* routing.breaker.failures, default 5 */
    uint64_t breaker_cooldown_ms; /* routing.breaker.cooldown, default 30 s */
    limiter_t **limiters;         /* one per provider with limits; owned */
    size_t n_limiters;
};

struct llm_call {
    router_t *r;
    size_t *order; /* candidate indices to try, in policy order */
    size_t n_order, next;
    llm_call_t *inner;
    llm_done_fn done;
    void *ud;
    /* the request, kept (llm_request_keep): the next candidate needs it after the caller's
     * copy is gone */
    llm_request_t req;
    int64_t prompt_tokens; /* the prompt's estimate, tools and tool rounds included */
    int64_t tokens;        /* what the limiters charge for it: prompt estimate + max_tokens */
    double over_limit_usd; /* the cheapest estimate of a candidate skipped for the spending
                            * limit (req.max_cost_usd), 0 when none was */
    bool waiting;          /* queued at the current candidate's limiter */
    bool probe;            /* this call is its candidate's half-open probe */
    uv_timer_t kick;       /* starts the first try on the next loop turn (see route) */
};

static const candidate_t *find(const router_t *r, const char *id) {
    for (size_t i = 0; id && i < r->n; i++)
        if (!strcmp(r->cands[i].id, id)) return &r->cands[i];
    return NULL;
}

/* The candidate ids a request's model names: a tier, one id, or a list. */
static json_t *model_ids(const router_t *r, const json_t *model) {
    json_t *ids = json_array();
    if (json_is_string(model)) {
        const char *m = json_string_value(model);
        json_t *tier = json_object_get(r->tiers, m);
        size_t k;
        json_t *id;
        /* braces: without them the `else` would belong to the loop's `if`, and a single
         * provider/model that is not a tier would never be a candidate */
        if (tier) {
            json_array_foreach(tier, k, id) if (json_is_string(id)) json_array_append(ids, id);
        } else if (strchr(m, '/')) {
            json_array_append_new(ids, json_string(m));
        }
    } else if (json_is_array(model)) {
        size_t k;
        json_t *id;
        json_array_foreach((json_t *)model, k, id) if (json_is_string(id))
            json_array_append(ids, id);
    }
    if (!json_array_size(ids)) json_array_append_new(ids, json_string("offline/offline-1"));
    return ids;
}

/* The prompt as sent: the messages, the tool definitions and the tool rounds so far. */
static int64_t prompt_tokens(const llm_request_t *req) {
    int64_t n = llm_estimate_tokens(req->system) + llm_estimate_tokens(req->prompt) +
                llm_estimate_tokens(req->feedback) + llm_estimate_json_tokens(req->tools) +
                llm_estimate_json_tokens(req->transcript);
    for (size_t i = 0; i < req->n_texts; i++) n += llm_estimate_tokens(req->texts[i]);
    return n;
}

/* An embedding has no output tokens; a chat answer may use all of max_tokens. */
static int64_t output_allowance(const llm_request_t *req) {
    return req->texts ? 0 : req->max_tokens > 0 ? req->max_tokens : 1024;
}

/* What this request may cost on a candidate: the prompt as sent plus max_tokens of output. */
static double request_cost(const candidate_t *cand, const llm_call_t *c) {
    return llm_cost(&cand->prices, c->prompt_tokens, output_allowance(&c->req));
}

/* The candidates of the request's model, in the order the routing policy gives them. */
static void plan(router_t *r, llm_call_t *c) {
    json_t *ids = model_ids(r, c->req.model);
    size_t n = 0, *idx = xcalloc(json_array_size(ids) + 1, sizeof *idx);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        const candidate_t *cand = find(r, json_string_value(id));
        if (cand) idx[n++] = (size_t)(cand - r->cands);
    }
    json_decref(ids);
    policy_view_t *views = xcalloc(n + 1, sizeof *views);
    static const double availability[] = {1.0, 0.0, 0.5};
    for (size_t k = 0; k < n; k++) {
        const candidate_t *cand = &r->cands[idx[k]];
        views[k] = (policy_view_t){.local = cand->local,
                                   .cost_usd = request_cost(cand, c),
                                   .latency_ms = cand->latency_ms,
                                   .success = cand->success,
                                   .availability = availability[cand->breaker]};
    }
    c->order = xcalloc(n + 1, sizeof *c->order);
    policy_order(r->policy, views, n, c->order);
    for (size_t k = 0; k < n; k++) c->order[k] = idx[c->order[k]];
    c->n_order = n;
    free(views);
    free(idx);
}

static void learn_stats(candidate_t *cand, const llm_response_t *resp, const llm_error_t *err) {
    if (!resp && !llm_error_moves_on(err)) return; /* our own bad request says nothing of it */
    cand->success = (1 - EWMA_ALPHA) * cand->success + EWMA_ALPHA * (resp ? 1.0 : 0.0);
    if (resp && resp->latency_ms >= 0)
        cand->latency_ms = cand->latency_ms < 0 ? (double)resp->latency_ms
                                                : (1 - EWMA_ALPHA) * cand->latency_ms +
                                                      EWMA_ALPHA * (double)resp->latency_ms;
}

static void call_closed(uv_handle_t *h);

/* The call's memory goes once its timer handle is closed (on the loop's next turn); nothing
 * may touch it after this. */
static void call_free(llm_call_t *c) { uv_close((uv_handle_t *)&c->kick, call_closed); }

static void call_release(llm_call_t *c) {
    free(c->order);
    llm_request_drop(&c->req);
    free(c);
}

static void call_closed(uv_handle_t *h) { call_release(h->data); }

static void try_next(llm_call_t *c, const llm_error_t *last);

static void record(llm_call_t *c, const char *status, const llm_response_t *resp,
                   const llm_error_t *err) {
    router_t *r = c->r;
    if (!r->observe) return;
    const candidate_t *cand = &r->cands[c->order[c->next - 1]];
    llm_call_record_t rec = {
        .run_id = c->req.run_id,
        .task_id = c->req.task_id,
        .attempt = c->req.attempt,
        .candidate = cand->id,
        .status = status,
        .error = err ? err->message : NULL,
        .first_token_ms = resp ? resp->first_token_ms : -1,
        .total_ms = resp  ? resp->latency_ms
                    : err ? err->total_ms
                          : 0,
    };
    if (resp) {
        rec.input_tokens = resp->input_tokens;
        rec.output_tokens = resp->output_tokens;
        rec.cached_tokens = resp->cached_tokens;
        rec.cost_usd = resp->cost_usd;
        rec.simulated = resp->simulated;
    } else if (err && err->output_tokens > 0) {
        /* A stream cut or cancelled half-way delivered (and was billed for) what came before
         * the end, and the server had read the whole prompt to get there: both are estimated
         * (4 bytes per token), since no usage report arrived. */
        rec.input_tokens = c->prompt_tokens;
        rec.output_tokens = err->output_tokens;
        rec.cost_usd = llm_cost(&cand->prices, rec.input_tokens, err->output_tokens);
    }
    r->observe(r->observe_ud, &rec);
}

/* The breaker learns from every answered call: a success closes it, a failure that another
 * model could avoid counts towards opening it (a budget refusal too: a provider out of quota
 * stays out of quota for a while, and retrying it at full rate is what burns money). */
static void breaker_learn(router_t *r, candidate_t *cand, bool was_probe, bool ok,
                          const llm_error_t *err) {
    if (was_probe) cand->probing = false;
    if (ok) {
        cand->breaker = BREAKER_CLOSED;
        cand->consecutive_failures = 0;
        return;
    }
    if (!llm_error_moves_on(err)) return;
    cand->consecutive_failures++;
    if (was_probe || cand->consecutive_failures >= r->breaker_failures) {
        cand->breaker = BREAKER_OPEN;
        cand->open_until = uv_now(r->loop) + r->breaker_cooldown_ms;
    }
}

/* Whether a call may go to the candidate now; moves an open breaker to half-open after its
 * cooldown, letting exactly one probe through. */
static bool breaker_allows(router_t *r, candidate_t *cand, bool *probe) {
    *probe = false;
    if (cand->breaker == BREAKER_CLOSED) return true;
    if (cand->breaker == BREAKER_OPEN && uv_now(r->loop) < cand->open_until) return false;
    if (cand->probing) return false;
    cand->breaker = BREAKER_HALF_OPEN;
    cand->probing = true;
    *probe = true;
    return true;
}

/* A probe that ended without an answer (queue timeout, cancel) decides nothing: the next call
 * may probe instead. */
static void drop_probe(llm_call_t *c) {
    if (!c->probe) return;
    c->r->cands[c->order[c->next - 1]].probing = false;
    c->probe = false;
}

/* An answer the request's judge refused: recorded (its tokens were paid for), and the walk goes
 * on; when no candidate is left the call fails with the judge's reason. The provider did answer,
 * so its breaker closes, but the score policy learns that it answered badly. */
static void rejected(llm_call_t *c, candidate_t *cand, llm_response_t *resp, const char *why) {
    llm_error_t verdict = {.kind = LLM_ERR_QUALITY, .retry_after_ms = -1, .message = why};
    record(c, "rejected", resp, &verdict);
    breaker_learn(c->r, cand, c->probe, true, NULL);
    c->probe = false;
    cand->success = (1 - EWMA_ALPHA) * cand->success;
    if (cand->lim) limiter_release(cand->lim, c->tokens, resp->input_tokens + resp->output_tokens);
    llm_response_free(resp);
    free(resp);
    try_next(c, &verdict);
}

static void inner_done(void *ud, llm_response_t *resp, const llm_error_t *err) {
    llm_call_t *c = ud;
    c->inner = NULL;
    candidate_t *cand = &c->r->cands[c->order[c->next - 1]];
    char why[512];
    if (resp && c->req.accept && !c->req.accept(c->req.accept_ud, resp, why, sizeof why)) {
        rejected(c, cand, resp, why);
        return;
    }
    record(c, resp ? "ok" : "error", resp, err);
    breaker_learn(c->r, cand, c->probe, resp != NULL, err);
    learn_stats(cand, resp, err);
    c->probe = false;
    /* grants the next waiter on a later turn; a failed call's charge stands (the provider may
     * well have counted it) */
    if (cand->lim)
        limiter_release(cand->lim, c->tokens, resp ? resp->input_tokens + resp->output_tokens : -1);
    if (resp || !llm_error_moves_on(err)) {
        c->done(c->ud, resp, err);
        call_free(c);
        return;
    }
    try_next(c, err);
}

static void try_next(llm_call_t *c, const llm_error_t *last) {
    router_t *r = c->r;
    uint64_t soonest = UINT64_MAX;
    while (c->next < c->n_order) {
        candidate_t *cand = &r->cands[c->order[c->next++]];
        double estimate = c->req.cost_capped ? request_cost(cand, c) : 0;
        if (c->req.cost_capped && estimate > c->req.max_cost_usd) {
            /* This candidate could take the run past a spending limit: a dearer fallback is
             * exactly how budgets leak, so it is not tried. */
            if (!c->over_limit_usd || estimate < c->over_limit_usd) c->over_limit_usd = estimate;
            continue;
        }
        if (breaker_allows(r, cand, &c->probe)) {
            if (cand->lim && !limiter_try(cand->lim, c->tokens)) {
                /* Under the provider's limits: wait in its queue (limit_granted, limit_expired). */
                c->waiting = true;
                limiter_wait(cand->lim, c, c->tokens);
                return;
            }
            c->inner = provider_call(cand->p, &c->req, inner_done, c);
            return;
        }
        if (cand->open_until < soonest) soonest = cand->open_until;
    }
    char msg[600];
    llm_error_t skipped = {.kind = LLM_ERR_SERVER, .retry_after_ms = -1, .message = msg};
    if (c->over_limit_usd > 0 && last && llm_error_moves_on(last)) {
        /* An affordable candidate failed in a way that may pass (a timeout, a 429, a 5xx): the
         * attempt fails with that error, so the task's retries try it again after their
         * backoff, rather than the budget's on_exceed acting on a passing outage. */
        snprintf(msg, sizeof msg,
                 "%.400s (the other candidates were not tried: each may cost more "
                 "than the $%.4f the spending limits leave)",
                 last->message ? last->message : "failed", c->req.max_cost_usd);
        skipped = *last;
        skipped.message = msg;
        last = &skipped;
    } else if (c->over_limit_usd > 0) {
        /* Nothing was tried, or nothing that could pass: the spending limits are why the walk
         * ends here, and the run's on_exceed decides what happens next. */
        snprintf(msg, sizeof msg,
                 "every candidate left may cost more than the $%.4f the spending "
                 "limits leave (the cheapest up to $%.4f)%s%.300s",
                 c->req.max_cost_usd, c->over_limit_usd,
                 last ? "; the last one tried failed: " : "",
                 last && last->message ? last->message : "");
        skipped.kind = LLM_ERR_SPEND_LIMIT;
        skipped.estimate_usd = c->over_limit_usd;
        last = &skipped;
    } else if (!last && soonest != UINT64_MAX) {
        /* Every candidate's breaker is open: the attempt fails, and the engine's retry waits
         * until the first breaker may let a probe through. */
        uint64_t now = uv_now(r->loop);
        skipped.retry_after_ms = soonest > now ? (int64_t)(soonest - now) : 0;
        snprintf(msg, sizeof msg,
                 "every candidate's circuit breaker is open (next probe in %lld ms)",
                 (long long)skipped.retry_after_ms);
        last = &skipped;
    } else if (!last) {
        snprintf(msg, sizeof msg, "no configured model for this request");
        skipped.kind = LLM_ERR_OTHER;
        last = &skipped;
    }
    c->done(c->ud, NULL, last);
    call_free(c);
}

/* A queued call got its slot at the candidate it waits for. */
static void limit_granted(void *waiter) {
    llm_call_t *c = waiter;
    c->waiting = false;
    const candidate_t *cand = &c->r->cands[c->order[c->next - 1]];
    c->inner = provider_call(cand->p, &c->req, inner_done, c);
}

/* A queued call waited past the queue timeout: the next candidate may have room. */
static void limit_expired(void *waiter) {
    llm_call_t *c = waiter;
    c->waiting = false;
    drop_probe(c);
    char msg[200];
    snprintf(msg, sizeof msg, "%s: no free slot within the queue timeout (provider limits)",
             c->r->cands[c->order[c->next - 1]].id);
    llm_error_t err = {.kind = LLM_ERR_RATE_LIMIT, .retry_after_ms = -1, .message = msg};
    try_next(c, &err);
}

static void kick_fire(uv_timer_t *t) { try_next(t->data, NULL); }

static llm_call_t *route(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                         void *ud) {
    router_t *r = (router_t *)base;
    llm_call_t *c = xcalloc(1, sizeof *c);
    c->r = r;
    c->done = done;
    c->ud = ud;
    llm_request_keep(&c->req, req);
    /* the agent's own model when the request names none */
    if (!c->req.model && req->agent) c->req.model = json_incref(req->agent->model);
    c->prompt_tokens = prompt_tokens(&c->req);
    c->tokens = c->prompt_tokens + output_allowance(&c->req);
    plan(r, c);
    if (!c->n_order) {
        c->order[c->n_order++] = (size_t)(find(r, "offline/offline-1") - r->cands);
    }
    /* The first try starts on the next loop turn: a call may end without reaching any provider
     * (every breaker open, a queue timeout of zero), and `done` must never run inside
     * provider_call. */
    uv_timer_init(r->loop, &c->kick);
    c->kick.data = c;
    uv_timer_start(&c->kick, kick_fire, 0, 0);
    return c;
}

static void route_cancel(llm_call_t *c) {
    uv_timer_stop(&c->kick);
    if (c->waiting) limiter_forget(c->r->cands[c->order[c->next - 1]].lim, c);
    if (c->waiting || c->inner) drop_probe(c);
    if (c->inner) {
        limiter_t *lim = c->r->cands[c->order[c->next - 1]].lim;
        if (lim) limiter_release(lim, c->tokens, -1);
        llm_provider_t *p = c->r->cands[c->order[c->next - 1]].p;
        int64_t received = p->received ? p->received(c->inner) : 0;
        provider_cancel(p, c->inner);
        llm_error_t why = {.retry_after_ms = -1, .message = "cancelled", .output_tokens = received};
        record(c, "cancelled", NULL, &why);
    }
    call_free(c);
}

static void route_destroy(llm_provider_t *base) { (void)base; }

/* ---- configuration ------------------------------------------------------------------------ */

static void add(router_t *r, const char *id, llm_provider_t *p, llm_prices_t prices, bool local) {
    r->cands = xrealloc(r->cands, (r->n + 1) * sizeof *r->cands);
    r->cands[r->n++] = (candidate_t){.id = xstrdup(id),
                                     .p = p,
                                     .prices = prices,
                                     .local = local,
                                     .latency_ms = -1,
                                     .success = 1};
}

static llm_prices_t prices_of(const json_t *m) {
    return (llm_prices_t){json_number_value(json_object_get(m, "input_per_million")),
                          json_number_value(json_object_get(m, "output_per_million")),
                          json_number_value(json_object_get(m, "cached_input_per_million"))};
}

static int add_provider(router_t *r, const char *name, const json_t *pc, char **err) {
    const char *type = json_string_value(json_object_get(pc, "type"));
    provider_ctor_fn ctor = provider_ctor(type);
    bool optional = json_is_true(json_object_get(pc, "optional"));
    if (!ctor && !optional) {
        *err = xasprintf("providers.%s: type '%s' is not supported (this release speaks: %s)", name,
                         type ? type : "", provider_types());
        return -1;
    }
    const char *base = json_string_value(json_object_get(pc, "base_url"));
    if (!json_object_get(pc, "base_url_env") &&
        (!base || (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)))) {
        *err = xasprintf("providers.%s: base_url must be an http:// or https:// URL", name);
        return -1;
    }
    /* Not an error: a provider without its key (or, with base_url_env, its address) is simply
     * not a candidate. Optional ones (the shipped defaults) say nothing about it. */
    const char *key_env = json_string_value(json_object_get(pc, "api_key_env"));
    const char *key = key_env ? getenv(key_env) : NULL;
    const char *url_env = json_string_value(json_object_get(pc, "base_url_env"));
    const char *url = url_env ? getenv(url_env) : NULL;
    const char *missing = key_env && (!key || !*key)   ? key_env
                          : url_env && (!url || !*url) ? url_env
                                                       : NULL;
    if (missing) {
        if (!optional)
            fprintf(stderr, "baton: provider '%s' is disabled: %s is not set\n", name, missing);
        return 0;
    }
    if (!ctor) { /* an optional provider of a type this build lacks only matters once enabled */
        *err = xasprintf("providers.%s: type '%s' is not supported (this release speaks: %s)", name,
                         type ? type : "", provider_types());
        return -1;
    }
    char *from_env = NULL;
    if (url_env) /* OLLAMA_HOST style: host:port, with or without a scheme */
        base = from_env = strstr(url, "://") ? xstrdup(url) : xasprintf("http://%s", url);
    const json_t *t = json_object_get(pc, "timeouts");
    bool local = json_is_true(json_object_get(pc, "local"));
    /* limits: {concurrency, requests_per_minute, tokens_per_minute, queue_timeout}, shared by
     * the provider's models */
    const json_t *lc = json_object_get(pc, "limits");
    limiter_t *lim = NULL;
    if (json_is_object(lc)) {
        limiter_limits_t ll = {
            .concurrency = (int)json_integer_value(json_object_get(lc, "concurrency")),
            .requests_per_minute = json_number_value(json_object_get(lc, "requests_per_minute")),
            .tokens_per_minute = json_number_value(json_object_get(lc, "tokens_per_minute")),
            .queue_timeout_ms =
                (uint64_t)wf_duration_ms(json_object_get(lc, "queue_timeout"), 60000)};
        lim = limiter_new(r->loop, ll, limit_granted, limit_expired);
        r->limiters = xrealloc(r->limiters, (r->n_limiters + 1) * sizeof *r->limiters);
        r->limiters[r->n_limiters++] = lim;
    }
    const char *model;
    json_t *mc;
    json_object_foreach((json_t *)json_object_get(pc, "models"), model, mc) {
        char *id = xasprintf("%s/%s", name, model);
        http_provider_opts_t o = {
            .name = id,
            .base_url = base,
            .api_key = key,
            .model = model,
            .prices = prices_of(mc),
            .connect_timeout_ms = wf_duration_ms(json_object_get(t, "connect"), 10000),
            .first_byte_timeout_ms = wf_duration_ms(json_object_get(t, "first_byte"), 60000),
            .total_timeout_ms = wf_duration_ms(json_object_get(t, "total"), 600000)};
        add(r, id, ctor(r->http, &o), o.prices, local);
        r->cands[r->n - 1].lim = lim;
        free(id);
    }
    free(from_env);
    return 0;
}

bool router_may_simulate(router_t *r, const json_t *model) {
    json_t *ids = model_ids(r, model);
    bool offline = false, any = false;
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        const candidate_t *cand = find(r, json_string_value(id));
        if (!cand) continue;
        any = true;
        if (!strncmp(cand->id, "offline/", 8)) offline = true;
    }
    json_decref(ids);
    return offline || !any;
}

router_t *router_new(uv_loop_t *loop, const json_t *config, uint64_t offline_latency_ms,
                     llm_prices_t offline_prices, const json_t *offline_fail_attempts, char **err) {
    router_t *r = xcalloc(1, sizeof *r);
    r->base.name = "router";
    r->base.call = route;
    r->base.cancel = route_cancel;
    r->base.destroy = route_destroy;
    r->http = http_client_new(loop);
    r->loop = loop;
    add(r, "offline/offline-1",
        offline_provider_new(loop, offline_latency_ms, offline_prices, offline_fail_attempts),
        offline_prices, true);
    /* The built-in embedding model (llm/embed.h), priced like the offline model. */
    add(r, "offline/offline-embed-1", offline_embed_provider_new(loop, offline_prices),
        offline_prices, true);
    const char *name;
    json_t *pc;
    json_object_foreach((json_t *)json_object_get(config, "providers"), name, pc) {
        if (!strcmp(name, "offline")) continue; /* configured through offline_* */
        if (add_provider(r, name, pc, err) != 0) {
            router_free(r);
            return NULL;
        }
    }
    r->tiers = json_deep_copy(json_object_get(config, "tiers"));
    if (!r->tiers) r->tiers = json_object();
    const char *policy =
        json_string_value(json_object_get(json_object_get(config, "routing"), "policy"));
    r->policy = POLICY_LOCAL_FIRST;
    if (policy && !policy_parse(policy, &r->policy)) {
        *err = xasprintf("routing.policy '%s' is not one of: %s", policy, policy_names());
        router_free(r);
        return NULL;
    }
    const json_t *br = json_object_get(json_object_get(config, "routing"), "breaker");
    json_int_t failures = json_integer_value(json_object_get(br, "failures"));
    r->breaker_failures = failures > 0 ? (int)failures : 5;
    r->breaker_cooldown_ms = (uint64_t)wf_duration_ms(json_object_get(br, "cooldown"), 30000);
    return r;
}

llm_provider_t *router_provider(router_t *r) { return &r->base; }

json_t *router_describe(router_t *r) {
    static const char *const states[] = {"closed", "open", "half-open"};
    json_t *list = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const candidate_t *c = &r->cands[i];
        json_array_append_new(
            list,
            json_pack("{s:s, s:b, s:{s:f, s:f, s:f}, s:s, s:i, s:o?, s:o, s:f}", "id", c->id,
                      "local", c->local, "prices", "input_per_million", c->prices.input_per_million,
                      "output_per_million", c->prices.output_per_million,
                      "cached_input_per_million", c->prices.cached_input_per_million, "breaker",
                      states[c->breaker], "consecutive_failures", c->consecutive_failures, "limits",
                      c->lim ? limiter_describe(c->lim) : NULL, "latency_ms",
                      c->latency_ms < 0 ? json_null() : json_real(c->latency_ms), "success_rate",
                      c->success));
    }
    return list;
}

llm_provider_t *router_candidate(router_t *r, const char *id) {
    const candidate_t *c = find(r, id);
    return c ? c->p : NULL;
}

void router_set_observer(router_t *r, router_call_fn fn, void *ud) {
    r->observe = fn;
    r->observe_ud = ud;
}

llm_prices_t router_prices(router_t *r, const json_t *model) {
    json_t *ids = model_ids(r, model);
    llm_prices_t p = {0};
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        const candidate_t *c = find(r, json_string_value(id));
        if (c) {
            p = c->prices;
            break;
        }
    }
    json_decref(ids);
    return p;
}

void router_free(router_t *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) {
        provider_destroy(r->cands[i].p);
        free(r->cands[i].id);
    }
    free(r->cands);
    for (size_t i = 0; i < r->n_limiters; i++) limiter_free(r->limiters[i]);
    free(r->limiters);
    json_decref(r->tiers);
    http_client_free(r->http);
    free(r);
}

const json_t *router_tier(router_t *r, const char *name) {
    const json_t *t = name ? json_object_get(r->tiers, name) : NULL;
    return json_is_array(t) ? t : NULL;
}
