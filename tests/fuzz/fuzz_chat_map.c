/* fuzz_chat_map.c - the gateway's reading of an OpenAI chat request (api/chat_map.h) under
 * arbitrary JSON: never a crash or a leak; a request it takes has a prompt and a system text,
 * a transcript array, a token budget above 0; one it refuses says why. Input: any bytes,
 * parsed as JSON first (what is not JSON never reaches it). */
#include "api/chat_map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *body = json_loadb((const char *)data, size, 0, NULL);
    if (!body) return 0;
    chat_map_t c;
    char err[256] = "";
    if (chat_map_read(body, &c, err, sizeof err) == 0) {
        if (!c.prompt || !c.system || !json_is_array(c.transcript) || c.max_tokens <= 0) abort();
        if (c.tools && !json_is_array(c.tools)) abort();
    } else if (!err[0]) {
        abort();
    }
    chat_map_free(&c);
    json_decref(body);
    return 0;
}
