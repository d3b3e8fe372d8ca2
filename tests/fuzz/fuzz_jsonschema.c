/* fuzz_jsonschema.c - libFuzzer target for core/jsonschema.c and the offline model.
 *
 * Input: a JSON array [schema, value]. Runs jsonschema_check and jsonschema_validate; when the
 * schema is well formed, asks the offline model for a JSON answer (which must then validate, as
 * offline.h promises) and for a markdown document over the value as inputs (which must respect
 * the word limit). Anything else is only required not to crash or leak. */
#include "core/jsonschema.h"
#include "llm/offline.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static size_t count_words(const char *s) {
    size_t n = 0;
    int in = 0;
    for (; *s; s++) {
        int sp = isspace((unsigned char)*s) != 0;
        if (!sp && !in) n++;
        in = !sp;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_error_t e;
    json_t *root = json_loadb((const char *)data, size, JSON_DECODE_ANY, &e);
    if (!root) return 0;
    if (!json_is_array(root) || json_array_size(root) != 2) {
        json_decref(root);
        return 0;
    }
    json_t *schema = json_array_get(root, 0), *value = json_array_get(root, 1);
    char err[256], tiny[7];
    int well_formed = jsonschema_check(schema, err, sizeof err) == 0;
    jsonschema_validate(schema, value, err, sizeof err);
    jsonschema_validate(schema, value, tiny, sizeof tiny);
    jsonschema_check(value, tiny, sizeof tiny); /* the value as a schema: more malformed shapes */

    wf_agent_t agent = {.id = "fuzzer",
                        .role = json_string_value(json_object_get(value, "role")),
                        .goal = json_string_value(json_object_get(value, "goal"))};
    llm_request_t req = {.task_id = "fuzz",
                         .agent = &agent,
                         .inputs = json_is_object(value) ? value : NULL,
                         .prompt = json_string_value(json_object_get(value, "prompt")),
                         .feedback = json_string_value(value)};
    llm_response_t r;
    if (well_formed) {
        req.format = OUTPUT_JSON;
        req.schema = schema;
        if (offline_generate(&req, &r) == 0 &&
            jsonschema_validate(schema, r.json, err, sizeof err) != 0) {
            fprintf(stderr, "offline output %s does not validate: %s\n", r.text, err);
            abort();
        }
        llm_response_free(&r);
    }
    req.format = size % 2 ? OUTPUT_TEXT : OUTPUT_MARKDOWN;
    req.schema = NULL;
    req.word_limit = (int)(size % 97);
    if (offline_generate(&req, &r) != 0) abort();
    if (req.word_limit && count_words(r.text) > (size_t)req.word_limit) {
        fprintf(stderr, "%zu words over a limit of %d:\n%s\n", count_words(r.text), req.word_limit,
                r.text);
        abort();
    }
    llm_response_free(&r);
    json_decref(root);
    return 0;
}
