/* embed_wire.h - the embedding endpoints' request bodies and answers, as pure functions (no
 * I/O), so the parsers can be fuzzed and the HTTP side stays one small life cycle
 * (embed_http.c).
 *
 *   openai  POST {base}/embeddings  {model, input: [..], encoding_format: "float", dimensions?}
 *           -> {data: [{index, embedding: [..]}], usage: {prompt_tokens}}
 *   gemini  POST {base}/models/{model}:batchEmbedContents
 *           {requests: [{model: "models/{model}", content: {parts: [{text}]},
 *                        outputDimensionality?}]}
 *           -> {embeddings: [{values: [..]}]}   (no usage: the tokens are estimated)
 *   ollama  POST {base}/api/embed  {model, input: [..], dimensions?}
 *           -> {embeddings: [[..]], prompt_eval_count}
 *
 * Promises of embed_wire_parse: it never trusts the body. It accepts an answer only when it has
 * exactly one vector per text, every vector the same non-zero length (at most
 * EMBED_MAX_DIMENSIONS), that length equal to the dimensions asked for (when asked), and every
 * value a finite number a float can hold; anything else is an error naming what was wrong. */
#ifndef BATON_LLM_EMBED_WIRE_H
#define BATON_LLM_EMBED_WIRE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define EMBED_MAX_DIMENSIONS 65536

typedef enum { EMBED_WIRE_OPENAI, EMBED_WIRE_GEMINI, EMBED_WIRE_OLLAMA } embed_wire_t;

/* The request body (new reference). dimensions <= 0: not sent (the model's own size). */
json_t *embed_wire_body(embed_wire_t w, const char *model, const char *const *texts, size_t n,
                        int dimensions);

typedef struct embed_parsed {
    float *vectors; /* n * dims values, row after row (malloc'd; the caller frees) */
    size_t n, dims;
    int64_t tokens; /* input tokens the server reported, -1 when it reports none */
} embed_parsed_t;

/* Reads a 200 answer of `len` bytes for `expected` texts. 0 and *out filled, or -1 with *err
 * (malloc'd, "what was wrong") and *out empty. */
int embed_wire_parse(embed_wire_t w, const char *body, size_t len, size_t expected, int dimensions,
                     embed_parsed_t *out, char **err);

#endif
