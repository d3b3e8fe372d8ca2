/* embed_wire.c - embedding request bodies and answers (see embed_wire.h). */
#include "llm/embed_wire.h"
#include "util/xalloc.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

json_t *embed_wire_body(embed_wire_t w, const char *model, const char *const *texts, size_t n,
                        int dimensions) {
    if (w == EMBED_WIRE_GEMINI) {
        /* Each request names the model again, as "models/{model}" (what the official SDK
         * sends): the API refuses a batch whose requests name another model than the URL. */
        char *name = xasprintf("models/%s", model);
        json_t *reqs = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *r = json_pack("{s:s, s:{s:[{s:s}]}}", "model", name, "content", "parts", "text",
                                  texts[i]);
            if (dimensions > 0)
                json_object_set_new(r, "outputDimensionality", json_integer(dimensions));
            json_array_append_new(reqs, r);
        }
        free(name);
        return json_pack("{s:o}", "requests", reqs);
    }
    json_t *input = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(input, json_string(texts[i]));
    json_t *body = json_pack("{s:s, s:o}", "model", model, "input", input);
    /* float, not the SDKs' default base64: plain JSON numbers, one parser for every server */
    if (w == EMBED_WIRE_OPENAI) json_object_set_new(body, "encoding_format", json_string("float"));
    if (dimensions > 0) json_object_set_new(body, "dimensions", json_integer(dimensions));
    return body;
}

/* Copies one vector (a JSON array of numbers) into row `row` of out; sets out->dims from the
 * first one. */
static int take_vector(const json_t *v, size_t row, int dimensions, embed_parsed_t *out,
                       char **err) {
    if (!json_is_array(v)) {
        *err = xasprintf("vector %zu is not an array of numbers", row);
        return -1;
    }
    size_t d = json_array_size(v);
    if (row == 0) {
        if (d == 0 || d > EMBED_MAX_DIMENSIONS) {
            *err = xasprintf("vector 0 has %zu values (expected 1 to %d)", d, EMBED_MAX_DIMENSIONS);
            return -1;
        }
        if (dimensions > 0 && d != (size_t)dimensions) {
            *err = xasprintf("asked for %d dimensions, got %zu", dimensions, d);
            return -1;
        }
        out->dims = d;
        out->vectors = xmalloc(out->n * d * sizeof *out->vectors);
    } else if (d != out->dims) {
        *err = xasprintf("vector %zu has %zu values, vector 0 has %zu", row, d, out->dims);
        return -1;
    }
    for (size_t i = 0; i < d; i++) {
        const json_t *x = json_array_get(v, i);
        double f = json_number_value(x);
        /* a double outside float's range would be undefined behaviour to convert */
        if (!json_is_number(x) || !isfinite(f) || fabs(f) > FLT_MAX) {
            *err = xasprintf("vector %zu, value %zu is not a finite number", row, i);
            return -1;
        }
        out->vectors[row * d + i] = (float)f;
    }
    return 0;
}

static int64_t count_of(const json_t *v) {
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
}

/* The vectors in answer order, whatever the format: a new array of borrowed arrays. OpenAI's
 * data[] items carry their index, which wins over their position. */
static json_t *vectors_of(embed_wire_t w, const json_t *body, size_t expected, char **err) {
    json_t *list = json_array();
    if (w == EMBED_WIRE_OPENAI) {
        const json_t *data = json_object_get(body, "data");
        if (!json_is_array(data) || json_array_size(data) != expected) goto count;
        for (size_t i = 0; i < expected; i++) json_array_append_new(list, json_null());
        size_t i;
        const json_t *item;
        json_array_foreach(data, i, item) {
            const json_t *ix = json_object_get(item, "index");
            json_int_t at = ix ? json_integer_value(ix) : (json_int_t)i;
            if ((ix && !json_is_integer(ix)) || at < 0 || (size_t)at >= expected ||
                !json_is_null(json_array_get(list, (size_t)at))) {
                *err = xasprintf("data[%zu].index is not one of 0..%zu, or repeats another", i,
                                 expected - 1);
                json_decref(list);
                return NULL;
            }
            json_array_set(list, (size_t)at, json_object_get(item, "embedding"));
        }
        return list;
    }
    const json_t *arr = json_object_get(body, "embeddings");
    if (!json_is_array(arr) || json_array_size(arr) != expected) goto count;
    size_t i;
    const json_t *item;
    json_array_foreach(arr, i, item) json_array_append(
        list, w == EMBED_WIRE_GEMINI ? json_object_get(item, "values") : (json_t *)item);
    /* json_array_append of NULL fails: a missing `values` shows up as a short list */
    if (json_array_size(list) != expected) {
        *err = xasprintf("embeddings[%zu] has no values", json_array_size(list));
        json_decref(list);
        return NULL;
    }
    return list;
count:
    json_decref(list);
    *err = xasprintf("the answer does not hold %zu vector%s (one per input)", expected,
                     expected == 1 ? "" : "s");
    return NULL;
}

int embed_wire_parse(embed_wire_t w, const char *body, size_t len, size_t expected, int dimensions,
                     embed_parsed_t *out, char **err) {
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(body ? body : "", body ? len : 0, 0, &jerr);
    if (!json_is_object(root)) {
        *err = root ? xstrdup("the answer is not a JSON object")
                    : xasprintf("the answer is not JSON (%s)", jerr.text);
        json_decref(root);
        return -1;
    }
    json_t *list = expected ? vectors_of(w, root, expected, err) : NULL;
    if (!expected) *err = xstrdup("no input to embed");
    int rc = list ? 0 : -1;
    out->n = expected;
    for (size_t i = 0; rc == 0 && i < expected; i++)
        rc = take_vector(json_array_get(list, i), i, dimensions, out, err);
    json_decref(list);
    if (rc == 0) {
        const json_t *count =
            w == EMBED_WIRE_OPENAI
                ? json_object_get(json_object_get(root, "usage"), "prompt_tokens")
            : w == EMBED_WIRE_OLLAMA
                ? json_object_get(root, "prompt_eval_count")
                : json_object_get(json_object_get(root, "usageMetadata"), "promptTokenCount");
        out->tokens = count_of(count);
    } else {
        free(out->vectors);
        memset(out, 0, sizeof *out);
    }
    json_decref(root);
    return rc;
}
