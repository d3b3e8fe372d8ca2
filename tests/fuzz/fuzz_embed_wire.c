/* fuzz_embed_wire.c - the embedding answers' parsers (OpenAI, Gemini, Ollama) under arbitrary
 * bytes: never a crash or a leak; an accepted answer always holds exactly the vectors asked for,
 * of one non-zero length, with finite values; a refused one always says why.
 * Input: byte 0 picks the wire format, byte 1 the number of texts (0-7), byte 2 the dimensions
 * asked for (0: any), the rest is the body. */
#include "llm/embed_wire.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    embed_wire_t w = (embed_wire_t)(data[0] % 3);
    size_t expected = data[1] % 8;
    int dims = data[2] % 16;
    embed_parsed_t p;
    char *err = NULL;
    int rc = embed_wire_parse(w, (const char *)data + 3, size - 3, expected, dims, &p, &err);
    if (rc == 0) {
        if (err || !p.vectors || p.n != expected || !p.dims || p.dims > EMBED_MAX_DIMENSIONS)
            abort();
        if (dims && p.dims != (size_t)dims) abort();
        for (size_t i = 0; i < p.n * p.dims; i++)
            if (!isfinite(p.vectors[i])) abort();
        free(p.vectors);
    } else {
        if (rc != -1 || !err || p.vectors) abort();
        free(err);
    }
    return 0;
}
