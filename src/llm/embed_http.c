/* embed_http.c - an embedding call's life cycle over HTTP (see embed_http.h). */
#include "llm/embed_http.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct llm_call {
    http_provider_t *p; /* the layout http_provider.h's cancel relies on: p, then hc */
    http_call_t hc;
    embed_wire_t wire;
    http_status_error_fn status_error;
    size_t n_texts;
    int dimensions;
    int64_t estimate; /* tokens of the texts, for servers that report none */
};

static void release(void *owner) { free(owner); }

static void on_done(void *ud, const http_result_t *res) {
    llm_call_t *c = ud;
    http_provider_t *p = c->p;
    c->hc.req = NULL;
    llm_error_t err = {.status = (int)res->status, .retry_after_ms = res->retry_after_ms};
    char *msg = NULL;
    embed_parsed_t got;
    if (res->error) {
        msg = http_provider_transport_error(p, res, &err);
    } else if (res->status != 200) {
        msg = c->status_error(p, res, res->body, res->body_len, &err);
    } else {
        char *why = NULL;
        if (embed_wire_parse(c->wire, res->body, res->body_len, c->n_texts, c->dimensions, &got,
                             &why) != 0) {
            err.kind = LLM_ERR_MALFORMED;
            msg = xasprintf("%s: malformed embeddings answer: %s", p->name, why);
            free(why);
        }
    }
    if (msg) {
        http_provider_fail(&c->hc, &err, msg, 0, res);
        free(c);
        return;
    }
    llm_response_t *r = xcalloc(1, sizeof *r);
    r->text = xstrdup("");
    r->provider = xstrdup(p->name);
    r->model = xstrdup(p->model);
    r->input_tokens = got.tokens >= 0 ? got.tokens : c->estimate;
    r->cost_usd = llm_cost(&p->prices, r->input_tokens, 0);
    r->latency_ms = res->total_ms;
    r->first_token_ms = res->first_byte_ms;
    r->vectors = got.vectors;
    r->n_vectors = got.n;
    r->dimensions = got.dims;
    http_provider_succeed(&c->hc, r);
    free(c);
}

llm_call_t *embed_http_call(http_provider_t *p, const llm_request_t *req, llm_done_fn done,
                            void *ud, embed_wire_t wire, const char *path,
                            http_status_error_fn status_error) {
    llm_call_t *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->wire = wire;
    c->status_error = status_error;
    c->n_texts = req->n_texts;
    c->dimensions = req->dimensions;
    for (size_t i = 0; i < req->n_texts; i++) c->estimate += llm_estimate_tokens(req->texts[i]);
    json_t *body = embed_wire_body(wire, p->model, req->texts, req->n_texts, req->dimensions);
    http_provider_start_json(p, &c->hc, c, release, done, ud, path, body, on_done);
    return c;
}
