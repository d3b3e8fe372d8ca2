/* recall.c - the response cache, record/replay and reference pricing around the router (see
 * recall.h). The router itself is untouched: this layer is the provider the engine calls, and
 * the router's observer. */
#include "core/jsonschema.h"
#include "llm/recall.h"
#include "llm/recordings.h"
#include "llm/reqkey.h"
#include "store/respcache.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { MODE_LIVE, MODE_RECORD, MODE_REPLAY } recall_mode_t;

struct recall {
    llm_provider_t base;
    uv_loop_t *loop;
    router_t *router;
    json_t *tiers; /* to expand tiers in keys */
    recall_mode_t mode;
    respcache_t *cache; /* NULL: no cache */
    bool cache_any_temperature;
    recordings_t *recs; /* record and replay */
    char *recs_path;
    size_t recorded; /* answers added this session */
    bool has_ref;
    llm_prices_t ref;
    router_call_fn observe;
    void *observe_ud;
    char last_ok[256]; /* candidate of the router's latest answered call (see live_done) */
};

struct llm_call {
    recall_t *r;
    llm_done_fn done;
    void *ud;
    llm_request_t req; /* kept (llm_request_keep): a cache miss calls the router on a
                        * later turn */
    char key[REQKEY_HEX_LEN + 1];
    bool cacheable;
    uint64_t started;       /* loop time */
    respcache_get_t *get;   /* cache lookup in flight */
    llm_call_t *inner;      /* router call in flight */
    uv_timer_t timer;       /* replay answers on the next turn */
    llm_response_t *answer; /* replay: the recorded answer, or NULL for a miss */
    char *candidate;        /* who gave `answer` */
};

/* ---- reporting ---------------------------------------------------------------------------- */

static void observe(recall_t *r, llm_call_record_t rec) {
    if (!r->observe) return;
    if (r->has_ref) {
        /* The same tokens at the reference's prices: cached prompt tokens at its cached price
         * when it has one, else as ordinary input. */
        int64_t cached = rec.cached_tokens > 0 ? rec.cached_tokens : 0;
        int64_t uncached = rec.input_tokens - cached > 0 ? rec.input_tokens - cached : 0;
        double cp = r->ref.cached_input_per_million > 0 ? r->ref.cached_input_per_million
                                                        : r->ref.input_per_million;
        rec.has_reference = true;
        rec.reference_cost_usd =
            llm_cost(&r->ref, uncached, rec.output_tokens) + (double)cached * cp / 1e6;
    }
    r->observe(r->observe_ud, &rec);
}

static void on_router_call(void *ud, const llm_call_record_t *rec) {
    recall_t *r = ud;
    if (!strcmp(rec->status, "ok")) snprintf(r->last_ok, sizeof r->last_ok, "%s", rec->candidate);
    observe(r, *rec);
}

/* ---- calls -------------------------------------------------------------------------------- */

static void call_closed(uv_handle_t *h) {
    llm_call_t *c = h->data;
    llm_request_drop(&c->req);
    if (c->answer) {
        llm_response_free(c->answer);
        free(c->answer);
    }
    free(c->candidate);
    free(c);
}

static void call_free(llm_call_t *c) { uv_close((uv_handle_t *)&c->timer, call_closed); }

/* A JSON answer that does not fit its schema is sent back for repair: caching it would only
 * serve the same mistake to the next run. (Recordings keep it: a replay must retrace the run.) */
static bool fits_schema(const llm_call_t *c, const llm_response_t *resp) {
    if (c->req.format != OUTPUT_JSON) return true;
    json_t *v = resp->json ? json_incref(resp->json)
                           : json_loads(resp->text ? resp->text : "", JSON_DECODE_ANY, NULL);
    char why[256];
    bool ok = v && (!c->req.schema || jsonschema_validate(c->req.schema, v, why, sizeof why) == 0);
    json_decref(v);
    return ok;
}

static void remember(llm_call_t *c, const char *candidate, const llm_response_t *resp) {
    recall_t *r = c->r;
    bool to_cache = r->cache && c->cacheable && fits_schema(c, resp),
         to_record = r->mode == MODE_RECORD;
    if (!to_cache && !to_record) return;
    json_t *j = llm_response_to_json(resp);
    if (to_cache) respcache_put(r->cache, c->key, candidate, j);
    if (to_record) {
        json_t *request = reqkey_canonical(&c->req, r->tiers);
        recordings_put(r->recs, c->key, c->req.task_id, candidate, request, j);
        json_decref(request);
        r->recorded++;
    }
    json_decref(j);
}

/* An answer that no provider gave (cache or recording): one call, cost 0, its stored tokens. */
static void answer_stored(llm_call_t *c, llm_response_t *resp, const char *candidate) {
    int64_t took = (int64_t)(uv_now(c->r->loop) - c->started);
    resp->cost_usd = 0;
    resp->latency_ms = took;
    resp->first_token_ms = took;
    observe(c->r, (llm_call_record_t){.run_id = c->req.run_id,
                                      .task_id = c->req.task_id,
                                      .attempt = c->req.attempt,
                                      .candidate = candidate,
                                      .status = "ok",
                                      .input_tokens = resp->input_tokens,
                                      .output_tokens = resp->output_tokens,
                                      .cached_tokens = resp->cached_tokens,
                                      .first_token_ms = took,
                                      .total_ms = took,
                                      .cached = true,
                                      .simulated = resp->simulated});
    if (c->r->mode == MODE_RECORD) remember(c, candidate, resp);
    c->done(c->ud, resp, NULL);
    call_free(c);
}

static void live_done(void *ud, llm_response_t *resp, const llm_error_t *err) {
    llm_call_t *c = ud;
    c->inner = NULL;
    /* The router reports a call's answer to the observer just before handing it here. */
    if (resp)
        remember(c, c->r->last_ok[0] ? c->r->last_ok : resp->provider ? resp->provider : "?", resp);
    c->done(c->ud, resp, err);
    call_free(c);
}

static void go_live(llm_call_t *c) {
    c->r->last_ok[0] = '\0';
    c->inner = provider_call(router_provider(c->r->router), &c->req, live_done, c);
}

static void cache_answered(void *ud, json_t *entry) {
    llm_call_t *c = ud;
    c->get = NULL;
    char *why = NULL;
    llm_response_t *resp =
        entry ? llm_response_from_json(json_object_get(entry, "response"), &why) : NULL;
    free(why);
    /* The request's judge (a quality threshold) sees a stored answer as it would a live one: a
     * task with a higher bar than the one that cached it asks a model instead. */
    char verdict[512];
    if (resp && c->req.accept && !c->req.accept(c->req.accept_ud, resp, verdict, sizeof verdict)) {
        llm_response_free(resp);
        free(resp);
        resp = NULL;
    }
    if (resp) {
        char *cand = xstrdup(json_string_value(json_object_get(entry, "candidate")));
        json_decref(entry);
        c->candidate = cand;
        answer_stored(c, resp, cand);
        return;
    }
    json_decref(entry);
    go_live(c);
}

static void replay_fire(uv_timer_t *t) {
    llm_call_t *c = t->data;
    if (c->answer) {
        llm_response_t *resp = c->answer;
        c->answer = NULL;
        answer_stored(c, resp, c->candidate);
        return;
    }
    char *msg = xasprintf("replay: no recording for task '%s' (request key %s) in %s; the "
                          "request differs from every recorded one: record it again with "
                          "--llm-mode record",
                          c->req.task_id, c->key, c->r->recs_path);
    observe(c->r, (llm_call_record_t){.run_id = c->req.run_id,
                                      .task_id = c->req.task_id,
                                      .attempt = c->req.attempt,
                                      .candidate = "replay",
                                      .status = "error",
                                      .error = msg,
                                      .first_token_ms = -1});
    llm_error_t err = {.kind = LLM_ERR_OTHER, .retry_after_ms = -1, .message = msg};
    c->done(c->ud, NULL, &err);
    free(msg);
    call_free(c);
}

static llm_call_t *recall_call(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                               void *ud) {
    recall_t *r = (recall_t *)base;
    llm_call_t *c = xcalloc(1, sizeof *c);
    c->r = r;
    c->done = done;
    c->ud = ud;
    llm_request_keep(&c->req, req);
    c->started = uv_now(r->loop);
    uv_timer_init(r->loop, &c->timer);
    c->timer.data = c;
    if (r->mode != MODE_LIVE || r->cache) reqkey_hash(&c->req, r->tiers, c->key);
    if (r->mode == MODE_REPLAY) {
        const json_t *e = recordings_get(r->recs, c->key);
        if (e) {
            char *why = NULL;
            c->answer = llm_response_from_json(json_object_get(e, "response"), &why);
            free(why); /* parse-time checks make this unreachable */
            c->candidate = xstrdup(json_string_value(json_object_get(e, "candidate")));
        }
        uv_timer_start(&c->timer, replay_fire, 0, 0); /* never answer inside provider_call */
        return c;
    }
    c->cacheable = r->cache && (req->temperature == 0 || r->cache_any_temperature);
    if (c->cacheable)
        c->get = respcache_get(r->cache, c->key, cache_answered, c);
    else
        go_live(c);
    return c;
}

static void recall_cancel(llm_call_t *c) {
    uv_timer_stop(&c->timer);
    if (c->get) respcache_get_cancel(c->get);
    if (c->inner) provider_cancel(router_provider(c->r->router), c->inner);
    call_free(c);
}

static void recall_destroy(llm_provider_t *base) { (void)base; }

/* ---- configuration ------------------------------------------------------------------------ */

static double seconds(const json_t *v) {
    if (json_is_number(v)) return json_number_value(v);
    if (json_is_string(v)) return wf_parse_duration(json_string_value(v));
    return -1;
}

static int read_cache(recall_t *r, const json_t *cc, const char *db_path, char **err) {
    if (!cc) return 0;
    if (!json_is_object(cc)) {
        *err =
            xstrdup("cache is a mapping {enabled, ttl, include_nonzero_temperature, max_entries}");
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)cc, k, v) {
        bool ok = !strcmp(k, "enabled") || !strcmp(k, "include_nonzero_temperature")
                      ? json_is_boolean(v)
                  : !strcmp(k, "ttl")         ? seconds(v) > 0
                  : !strcmp(k, "max_entries") ? json_is_integer(v) && json_integer_value(v) > 0
                                              : false;
        if (!ok) {
            *err = xasprintf("cache.%s: expected enabled (true/false), ttl (a duration such as "
                             "24h), include_nonzero_temperature (true/false) or max_entries (a "
                             "positive number)",
                             k);
            return -1;
        }
    }
    if (!json_is_true(json_object_get(cc, "enabled"))) return 0;
    const json_t *ttl = json_object_get(cc, "ttl");
    const json_t *max = json_object_get(cc, "max_entries");
    r->cache_any_temperature = json_is_true(json_object_get(cc, "include_nonzero_temperature"));
    r->cache = respcache_open(r->loop, db_path, ttl ? (int64_t)(seconds(ttl) * 1000) : 86400000,
                              max ? json_integer_value(max) : 10000, err);
    return r->cache ? 0 : -1;
}

/* routing.reference_model: "provider/model" priced in providers.<p>.models, or explicit prices. */
static int read_reference(recall_t *r, const json_t *config, const json_t *ref, char **err) {
    if (!ref) return 0;
    const json_t *m = ref;
    if (json_is_string(ref)) {
        const char *id = json_string_value(ref), *slash = strchr(id, '/');
        char *prov = slash ? xstrndup(id, (size_t)(slash - id)) : NULL;
        m = slash ? json_object_get(
                        json_object_get(json_object_get(json_object_get(config, "providers"), prov),
                                        "models"),
                        slash + 1)
                  : NULL;
        free(prov);
        if (!json_is_object(m)) {
            *err = xasprintf("routing.reference_model '%s' is not a model under providers (give "
                             "provider/model, or its prices: {input_per_million, "
                             "output_per_million})",
                             id);
            return -1;
        }
    }
    const json_t *in = json_object_get(m, "input_per_million");
    const json_t *out = json_object_get(m, "output_per_million");
    const json_t *ci = json_object_get(m, "cached_input_per_million");
    if (!json_is_object(m) || !json_is_number(in) || !json_is_number(out) ||
        (ci && !json_is_number(ci))) {
        *err = xstrdup("routing.reference_model needs prices: input_per_million and "
                       "output_per_million (numbers, USD per million tokens)");
        return -1;
    }
    r->has_ref = true;
    r->ref = (llm_prices_t){json_number_value(in), json_number_value(out), json_number_value(ci)};
    return 0;
}

static int read_mode(recall_t *r, const json_t *routing, const recall_opts_t *o, char **err) {
    const json_t *mv = json_object_get(routing, "mode");
    const char *mode = o->mode ? o->mode : json_string_value(mv);
    if (mv && !json_is_string(mv) && !o->mode) {
        *err = xstrdup("routing.mode is live, record or replay");
        return -1;
    }
    if (!mode || !strcmp(mode, "live")) return 0;
    if (!strcmp(mode, "record"))
        r->mode = MODE_RECORD;
    else if (!strcmp(mode, "replay"))
        r->mode = MODE_REPLAY;
    else {
        *err = xasprintf("%s '%s' is not a mode: live, record or replay",
                         o->mode ? "--llm-mode" : "routing.mode", mode);
        return -1;
    }
    const json_t *pv = json_object_get(routing, "recordings");
    if (pv && !json_is_string(pv)) {
        *err = xstrdup("routing.recordings is a file name");
        return -1;
    }
    const char *path = o->recordings ? o->recordings
                       : pv          ? json_string_value(pv)
                                     : o->default_recordings;
    r->recs_path = xstrdup(path ? path : "recordings.json");
    r->recs = recordings_load(r->recs_path, r->mode == MODE_RECORD, err);
    return r->recs ? 0 : -1;
}

recall_t *recall_new(uv_loop_t *loop, router_t *router, const recall_opts_t *o, char **err) {
    recall_t *r = xcalloc(1, sizeof *r);
    r->base.name = "recall";
    r->base.call = recall_call;
    r->base.cancel = recall_cancel;
    r->base.destroy = recall_destroy;
    r->loop = loop;
    r->router = router;
    const json_t *routing = json_object_get(o->config, "routing");
    r->tiers = json_incref(json_object_get(o->config, "tiers"));
    if (read_mode(r, routing, o, err) ||
        read_reference(r, o->config, json_object_get(routing, "reference_model"), err) ||
        (r->mode != MODE_REPLAY &&
         read_cache(r, json_object_get(o->config, "cache"), o->db_path, err))) {
        recall_free(r);
        return NULL;
    }
    router_set_observer(router, on_router_call, r);
    return r;
}

llm_provider_t *recall_provider(recall_t *r) { return &r->base; }

void recall_set_observer(recall_t *r, router_call_fn fn, void *ud) {
    r->observe = fn;
    r->observe_ud = ud;
}

int recall_flush(recall_t *r, char **err) {
    if (r->mode != MODE_RECORD || !r->recorded) return 0;
    return recordings_save(r->recs, r->recs_path, err);
}

void recall_free(recall_t *r) {
    if (!r) return;
    if (r->router) router_set_observer(r->router, NULL, NULL);
    respcache_close(r->cache);
    recordings_free(r->recs);
    free(r->recs_path);
    json_decref(r->tiers);
    free(r);
}
