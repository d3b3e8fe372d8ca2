/* offline.c - the offline provider: seeds a random stream from the request and hands it to the
 * document or the JSON generator.
 *
 * The seed covers what makes two requests different answers (agent, task, inputs, prompt,
 * feedback) and nothing that varies between retries of the same one (attempt, time, addresses),
 * so a replayed or re-dispatched attempt after a crash yields the same bytes. */
#include "llm/offline.h"
#include "core/jsonschema.h"
#include "llm/offline_internal.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t offline_rng_next(offline_rng_t *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint32_t offline_rng_below(offline_rng_t *r, uint32_t n) {
    /* Multiply-shift instead of %: no modulo bias worth mentioning, same result everywhere. */
    return n ? (uint32_t)(((offline_rng_next(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

double offline_rng_unit(offline_rng_t *r) {
    return (double)(offline_rng_next(r) >> 11) * 0x1.0p-53;
}

/* FNV-1a, 64-bit: stable across platforms and releases, unlike a library hash. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

/* Each field is followed by 0xFF, a byte UTF-8 never contains, so ("ab","c") != ("a","bc"). */
static uint64_t mix_field(uint64_t h, const char *s) {
    static const unsigned char sep = 0xFF;
    if (s) h = fnv1a(h, s, strlen(s));
    return fnv1a(h, &sep, 1);
}

static uint64_t seed_of(const llm_request_t *req) {
    uint64_t h = 0xCBF29CE484222325ull;
    h = mix_field(h, req->agent ? req->agent->id : NULL);
    h = mix_field(h, req->task_id);
    char *canon = req->inputs
                      ? json_dumps(req->inputs, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY)
                      : NULL;
    h = mix_field(h, canon);
    free(canon);
    h = mix_field(h, req->prompt);
    h = mix_field(h, req->feedback);
    return h;
}

/* Compact JSON whose numbers read as written (8.4, not 8.4000000000000004), unless some value
 * needs all 17 digits to survive a round trip. */
static char *dump_json(const json_t *v) {
    size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    char *text = json_dumps(v, flags | JSON_REAL_PRECISION(15));
    json_t *back = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    bool exact = back && json_equal(back, (json_t *)v);
    json_decref(back);
    if (!exact) {
        free(text);
        text = json_dumps(v, flags);
    }
    return text ? text : xstrdup("null");
}

int offline_generate(const llm_request_t *req, llm_response_t *resp) {
    memset(resp, 0, sizeof *resp);
    resp->provider = xstrdup("offline");
    resp->model = xstrdup("offline-1");
    resp->simulated = true;
    if (!req) {
        resp->text = xstrdup("offline: no request");
        return -1;
    }
    offline_rng_t rng = {seed_of(req)};
    int rc = 0;
    if (req->format == OUTPUT_JSON) {
        char err[512];
        json_t *v = offline_json_value(req, &rng, err, sizeof err);
        /* Never hand back a value the engine would reject: check it as the engine will. */
        if (v && req->schema && jsonschema_validate(req->schema, v, err, sizeof err) != 0) {
            json_decref(v);
            v = NULL;
        }
        if (v) {
            resp->json = v;
            resp->text = dump_json(v);
        } else {
            resp->text = xasprintf("offline: no value satisfies the output schema: %s",
                                   err[0] ? err : "unknown reason");
            rc = -1;
        }
    } else {
        resp->text = offline_document(req, &rng);
    }
    resp->input_tokens = llm_estimate_tokens(req->system) + llm_estimate_tokens(req->prompt);
    resp->output_tokens = llm_estimate_tokens(resp->text);
    resp->cost_usd = 0;
    resp->latency_ms = 0;
    resp->first_token_ms = 0;
    return rc;
}
