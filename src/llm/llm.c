/* llm.c - the request/response helpers shared by every provider. */
#include "llm/llm.h"

#include <stdlib.h>
#include <string.h>

void llm_response_free(llm_response_t *r) {
    if (!r) return;
    free(r->text);
    json_decref(r->json);
    free(r->provider);
    free(r->model);
    free(r->vectors);
    memset(r, 0, sizeof *r);
}

int64_t llm_estimate_tokens(const char *text) {
    if (!text || !*text) return 0;
    size_t n = strlen(text);
    /* ceil(n / 4): a one-byte text is still one token. */
    return (int64_t)((n + 3) / 4);
}
