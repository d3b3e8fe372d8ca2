/* fuzz_recordings.c - a recordings file (llm/recordings.h) under arbitrary bytes: never a crash
 * or a leak; what parses has only well-formed entries, every one of which gives back a response,
 * and survives a save and a reload unchanged. */
#include "llm/recordings.h"
#include "util/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *err = NULL;
    recordings_t *r = recordings_parse((const char *)data, size, "fuzz", &err);
    if (!r) {
        if (!err) abort(); /* a refusal always says why */
        free(err);
        return 0;
    }
    if (err) abort();
    /* The parser checked every entry: each must now convert without complaint. */
    char key[65];
    memset(key, 'a', 64);
    key[64] = '\0';
    const json_t *e = recordings_get(r, key);
    if (e) {
        llm_response_t *resp = llm_response_from_json(json_object_get(e, "response"), &err);
        if (!resp) abort();
        json_t *back = llm_response_to_json(resp);
        llm_response_t *again = llm_response_from_json(back, &err);
        if (!again || strcmp(again->text, resp->text) ||
            again->output_tokens != resp->output_tokens)
            abort();
        json_decref(back);
        llm_response_free(resp);
        free(resp);
        llm_response_free(again);
        free(again);
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz-recordings-%ld.json", (long)getpid());
    if (recordings_save(r, path, &err) != 0) abort();
    recordings_t *back = recordings_load(path, false, &err);
    if (!back || recordings_count(back) != recordings_count(r)) abort();
    unlink(path);
    recordings_free(back);
    recordings_free(r);
    return 0;
}
