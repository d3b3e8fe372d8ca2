/* offline_embed.c - the built-in offline embedding model, offline/offline-embed-1: no network,
 * no weights, the same vector for the same text on every machine, and enough meaning that texts
 * sharing words (or word stems) are closer than unrelated texts.
 *
 * The algorithm is signed feature hashing (the "hashing trick" of Weinberger et al., 2009):
 *  1. The text is lower-cased (ASCII letters; bytes of UTF-8 sequences are kept as they are) and
 *     split into words: maximal runs of ASCII letters and digits and of non-ASCII bytes.
 *  2. Each word contributes its unigram (weight 1) and the character trigrams of the word padded
 *     with one space on each side (" cat " gives " ca", "cat", "at "; weight 0.5 each), so
 *     "embedding" and "embeddings" share most of their features.
 *  3. Each feature is hashed with 64-bit FNV-1a (a type byte first, so a word never collides
 *     with a trigram of the same letters); the hash modulo the dimension picks the coordinate
 *     and its top bit the sign (+ or -), which keeps collisions from biasing similarities
 *     upwards. Repeated features add up.
 *  4. The vector is L2-normalised, so cosine similarity is a dot product. A text without any
 *     word (empty, or punctuation only) hashes its whole bytes as one feature instead: every
 *     vector has length 1.
 * Input tokens are estimated (llm_estimate_tokens), so prices apply as for any model. */
#include "llm/offline.h"
#include "llm/provider.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(char type, const unsigned char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    h = (h ^ (unsigned char)type) * 0x100000001b3ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

static void add_feature(float *v, size_t dims, char type, const unsigned char *s, size_t n,
                        float weight) {
    uint64_t h = fnv1a(type, s, n);
    v[h % dims] += (h >> 63) ? -weight : weight;
}

static bool word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

void offline_embed(const char *text, size_t dims, float *out) {
    memset(out, 0, dims * sizeof *out);
    size_t n = text ? strlen(text) : 0;
    unsigned char *low = xmalloc(n + 2);
    low[0] = low[n + 1] = ' ';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        low[i + 1] = c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
    }
    bool any = false;
    size_t i = 1;
    while (i <= n) {
        if (!word_byte(low[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i <= n && word_byte(low[i])) i++;
        size_t len = i - start;
        add_feature(out, dims, 'w', low + start, len, 1.0f);
        /* Trigrams over " word ": pad in place (the bytes around the word are restored). */
        unsigned char before = low[start - 1], after = low[i];
        low[start - 1] = ' ';
        low[i] = ' ';
        for (size_t t = start - 1; t + 3 <= i + 1; t++)
            add_feature(out, dims, 't', low + t, 3, 0.5f);
        low[start - 1] = before;
        low[i] = after;
        any = true;
    }
    if (!any) add_feature(out, dims, 'r', low + 1, n, 1.0f);
    free(low);
    double sum = 0;
    for (size_t d = 0; d < dims; d++) sum += (double)out[d] * out[d];
    /* Words whose features cancel out exactly are possible (opposite signs, same coordinate). */
    if (sum == 0) {
        out[0] = 1.0f;
        return;
    }
    double inv = 1.0 / sqrt(sum);
    for (size_t d = 0; d < dims; d++) out[d] = (float)(out[d] * inv);
}

/* ---- the provider on the loop -------------------------------------------------------------- */

typedef struct offline_embed_provider {
    llm_provider_t base;
    uv_loop_t *loop;
    llm_prices_t prices;
} offline_embed_provider_t;

struct llm_call {
    uv_timer_t timer;
    llm_response_t *resp; /* NULL: a chat request, refused */
    llm_done_fn done;
    void *ud;
};

static void call_closed(uv_handle_t *h) {
    llm_call_t *c = h->data;
    if (c->resp) {
        llm_response_free(c->resp);
        free(c->resp);
    }
    free(c);
}

static void call_fire(uv_timer_t *t) {
    llm_call_t *c = t->data;
    llm_response_t *resp = c->resp;
    c->resp = NULL;
    llm_error_t err = {.kind = LLM_ERR_OTHER,
                       .retry_after_ms = -1,
                       .message = "offline/offline-embed-1 is an embedding model: it cannot answer "
                                  "a chat request (use offline/offline-1)"};
    c->done(c->ud, resp, resp ? NULL : &err);
    uv_close((uv_handle_t *)&c->timer, call_closed);
}

static llm_call_t *start(llm_provider_t *base, const llm_request_t *req, llm_done_fn done,
                         void *ud) {
    offline_embed_provider_t *p = (offline_embed_provider_t *)base;
    llm_call_t *c = xcalloc(1, sizeof *c);
    c->done = done;
    c->ud = ud;
    if (req->texts) {
        /* Computed now, while the request's texts are ours to read; delivered on the next turn. */
        size_t dims = req->dimensions > 0 ? (size_t)req->dimensions : OFFLINE_EMBED_DIMENSIONS;
        llm_response_t *r = c->resp = xcalloc(1, sizeof *r);
        r->text = xstrdup("");
        r->provider = xstrdup("offline");
        r->model = xstrdup("offline-embed-1");
        r->vectors = xmalloc((req->n_texts ? req->n_texts : 1) * dims * sizeof *r->vectors);
        r->n_vectors = req->n_texts;
        r->dimensions = dims;
        for (size_t i = 0; i < req->n_texts; i++) {
            offline_embed(req->texts[i], dims, r->vectors + i * dims);
            r->input_tokens += llm_estimate_tokens(req->texts[i]);
        }
        r->cost_usd = llm_cost(&p->prices, r->input_tokens, 0);
        r->first_token_ms = 0;
    }
    uv_timer_init(p->loop, &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, call_fire, 0, 0);
    return c;
}

static void cancel(llm_call_t *c) {
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, call_closed);
}

static void destroy(llm_provider_t *base) { free(base); }

llm_provider_t *offline_embed_provider_new(uv_loop_t *loop, llm_prices_t prices) {
    offline_embed_provider_t *p = xcalloc(1, sizeof *p);
    p->base.name = "offline-embed";
    p->base.call = start;
    p->base.embed = start;
    p->base.cancel = cancel;
    p->base.destroy = destroy;
    p->loop = loop;
    p->prices = prices;
    return &p->base;
}
