/* fuzz_tool_calls.c - tool calls assembled from streamed fragments (llm_tool_asm_*) and
 * normalised (llm_tool_call), under arbitrary input: never a crash or a leak, and what comes
 * out is always well formed: an array of {id, name, arguments} with string id and name, an object
 * for arguments, and JSON that serialises and reads back the same (journaled as is).
 *
 * Input: lines; each is either an OpenAI-style chunk whose delta.tool_calls fragments are fed
 * to the assembler (as openai.c does), or, when it is not JSON, raw bytes fed as an argument
 * fragment to the call the first byte picks (as Anthropic's input_json_delta pieces are). */
#include "llm/llm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(json_t *calls) {
    if (!json_is_array(calls)) abort();
    size_t i;
    json_t *c;
    json_array_foreach(calls, i, c) {
        if (!json_is_string(json_object_get(c, "id")) ||
            !json_is_string(json_object_get(c, "name")) ||
            !json_is_object(json_object_get(c, "arguments")))
            abort();
    }
    char *text = json_dumps(calls, JSON_COMPACT);
    if (!text) abort();
    json_t *back = json_loads(text, 0, NULL);
    if (!back || !json_equal(back, calls)) abort();
    json_decref(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    llm_tool_asm_t a = {0};
    size_t start = 0;
    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        char *line = strndup((const char *)data + start, end - start);
        json_t *chunk = json_loads(line, 0, NULL);
        if (chunk) {
            json_t *delta =
                json_object_get(json_array_get(json_object_get(chunk, "choices"), 0), "delta");
            size_t k;
            json_t *tc;
            json_array_foreach(json_object_get(delta, "tool_calls"), k, tc) {
                json_t *fn = json_object_get(tc, "function");
                json_t *ix = json_object_get(tc, "index");
                llm_tool_asm_add(&a, json_is_integer(ix) ? (long)json_integer_value(ix) : (long)k,
                                 json_string_value(json_object_get(tc, "id")),
                                 json_string_value(json_object_get(fn, "name")),
                                 json_string_value(json_object_get(fn, "arguments")));
            }
            json_decref(chunk);
        } else if (*line) { /* (a NUL byte ends the line's text, as a C string would) */
            llm_tool_asm_add(&a, data[start] % 4, NULL, (data[start] & 4) ? "t" : NULL, line + 1);
            /* the same bytes as one whole call's arguments */
            json_t *one = llm_tool_call(NULL, line, line, 0);
            json_t *wrap = json_pack("[o]", one);
            check(wrap);
            json_decref(wrap);
        }
        free(line);
        start = end + 1;
    }
    json_t *calls = llm_tool_asm_finish(&a);
    check(calls);
    json_decref(calls);
    return 0;
}
