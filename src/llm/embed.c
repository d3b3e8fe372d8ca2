/* embed.c - choosing the candidates of an embedding call and handing it to the router (see
 * embed.h). The router's own candidate walk, breaker, limiter and observer do the rest. */
#include "llm/embed.h"
#include "llm/embed_wire.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

#define OFFLINE_EMBED_ID "offline/offline-embed-1"

struct llm_embed_call {
    router_t *r;
    llm_call_t *inner;
    char **texts; /* owned: the router reads them when it starts each candidate */
    size_t n_texts;
    llm_done_fn done;
    void *ud;
};

/* Keeps the ids of `ids` that are configured and can embed; *refused names the first configured
 * one that cannot. */
static json_t *usable(router_t *r, const json_t *ids, const char **refused) {
    json_t *out = json_array();
    *refused = NULL;
    size_t i;
    const json_t *id;
    json_array_foreach(ids, i, id) {
        llm_provider_t *p = router_candidate(r, json_string_value(id));
        if (provider_embeds(p))
            json_array_append(out, (json_t *)id);
        else if (p && !*refused)
            *refused = json_string_value(id);
    }
    return out;
}

/* The candidate ids for `model` (see embed.h), or NULL with *err. */
static json_t *candidates(router_t *r, const json_t *model, char **err) {
    const char *name = model ? json_string_value(model) : "embedding";
    json_t *ids;
    bool from_tier = false;
    if (name) {
        const json_t *tier = router_tier(r, name);
        if (tier) {
            ids = json_deep_copy(tier);
            from_tier = true;
        } else if (!strcmp(name, "embedding")) {
            return json_pack("[s]", OFFLINE_EMBED_ID);
        } else if (strchr(name, '/')) {
            ids = json_pack("[s]", name);
        } else {
            *err =
                xasprintf("model '%s' is neither a configured tier nor a provider/model id", name);
            return NULL;
        }
    } else if (json_is_array(model)) {
        ids = json_deep_copy(model);
    } else {
        *err = xstrdup("model must be a tier name, a provider/model id or a list of ids");
        return NULL;
    }
    const char *refused;
    json_t *ok = usable(r, ids, &refused);
    if (!json_array_size(ok)) {
        json_decref(ok);
        ok = NULL;
        if (refused) {
            *err = xasprintf("%s%s%s'%s' cannot embed: only the openai, gemini and ollama provider "
                             "types and " OFFLINE_EMBED_ID " have an embeddings API",
                             from_tier ? "tier '" : "", from_tier ? name : "",
                             from_tier ? "' has no model that can embed: " : "", refused);
        } else if (from_tier) {
            ok = json_pack("[s]", OFFLINE_EMBED_ID); /* like chat tiers: nothing enabled, offline */
        } else {
            char *list = json_dumps(ids, JSON_COMPACT);
            *err = xasprintf("no configured model in %s (not in the configuration, or its "
                             "provider's key is not set: see baton providers ls)",
                             name ? name : list);
            free(list);
        }
    }
    json_decref(ids);
    return ok;
}

static void on_done(void *ud, llm_response_t *resp, const llm_error_t *err) {
    llm_embed_call_t *c = ud;
    c->inner = NULL;
    c->done(c->ud, resp, err);
    llm_embed_cancel(c);
}

llm_embed_call_t *llm_embed(router_t *r, const llm_embed_request_t *req, llm_done_fn done, void *ud,
                            char **err) {
    if (!req->n_texts || !req->texts) {
        *err = xstrdup("nothing to embed: give at least one text");
        return NULL;
    }
    for (size_t i = 0; i < req->n_texts; i++) {
        if (!req->texts[i] || !*req->texts[i]) {
            *err = xasprintf("text %zu is empty (providers refuse empty inputs)", i + 1);
            return NULL;
        }
    }
    if (req->dimensions < 0 || req->dimensions > EMBED_MAX_DIMENSIONS) {
        *err = xasprintf("dimensions must be between 1 and %d (or 0: the model's own size)",
                         EMBED_MAX_DIMENSIONS);
        return NULL;
    }
    json_t *ids = candidates(r, req->model, err);
    if (!ids) return NULL;
    llm_embed_call_t *c = xcalloc(1, sizeof *c);
    c->r = r;
    c->done = done;
    c->ud = ud;
    c->n_texts = req->n_texts;
    c->texts = xcalloc(req->n_texts, sizeof *c->texts);
    for (size_t i = 0; i < req->n_texts; i++) c->texts[i] = xstrdup(req->texts[i]);
    llm_request_t lr = {.run_id = req->run_id,
                        .task_id = req->task_id,
                        .attempt = req->attempt > 0 ? req->attempt : 1,
                        .iteration = 1,
                        .model = ids,
                        .format = OUTPUT_TEXT,
                        .texts = (const char *const *)c->texts,
                        .n_texts = c->n_texts,
                        .dimensions = req->dimensions};
    c->inner = provider_call(router_provider(r), &lr, on_done, c);
    json_decref(ids); /* the router keeps its own reference */
    return c;
}

void llm_embed_cancel(llm_embed_call_t *c) {
    if (!c) return;
    if (c->inner) provider_cancel(router_provider(c->r), c->inner);
    for (size_t i = 0; i < c->n_texts; i++) free(c->texts[i]);
    free(c->texts);
    free(c);
}
