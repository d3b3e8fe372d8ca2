/* reqkey.c - request normalisation and hash (see reqkey.h). */
#include "llm/reqkey.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bumped whenever the canonical form changes, so old cache rows and recordings miss instead of
 * answering a question they were not asked. */
#define REQKEY_VERSION 2

json_t *reqkey_model_ids(const llm_request_t *req, const json_t *tiers) {
    const json_t *model = req->model ? req->model : req->agent ? req->agent->model : NULL;
    if (!model) return json_null();
    json_t *ids = json_array();
    if (json_is_string(model)) {
        const json_t *tier = json_object_get(tiers, json_string_value(model));
        if (json_is_array(tier))
            model = tier;
        else
            json_array_append(ids, (json_t *)model);
    }
    if (json_is_array(model)) {
        size_t i;
        json_t *id;
        json_array_foreach((json_t *)model, i, id) if (json_is_string(id))
            json_array_append(ids, id);
    }
    return ids;
}

static const char *format_name(output_format_t f) {
    return f == OUTPUT_JSON ? "json" : f == OUTPUT_TEXT ? "text" : "markdown";
}

json_t *reqkey_canonical(const llm_request_t *req, const json_t *tiers) {
    /* tools and the transcript of this attempt's tool rounds: the same prompt after a different
     * tool result is a different question */
    return json_pack("{s:i, s:o, s:s?, s:s?, s:s?, s:s, s:O?, s:i, s:f, s:i, s:O?, s:O?}", "v",
                     REQKEY_VERSION, "model", reqkey_model_ids(req, tiers), "system", req->system,
                     "prompt", req->prompt, "feedback", req->feedback, "format",
                     format_name(req->format), "schema",
                     req->format == OUTPUT_JSON ? req->schema : NULL, "max_tokens", req->max_tokens,
                     "temperature", req->temperature, "word_limit", req->word_limit, "tools",
                     req->tools, "transcript", req->transcript);
}

void reqkey_hash(const llm_request_t *req, const json_t *tiers, char out[REQKEY_HEX_LEN + 1]) {
    json_t *c = reqkey_canonical(req, tiers);
    /* JSON_SORT_KEYS applies at every depth: field order never reaches the key. */
    char *text = c ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    json_decref(c);
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, (const unsigned char *)(text ? text : ""), text ? strlen(text) : 0);
    free(text);
    for (size_t i = 0; i < sizeof d; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}
