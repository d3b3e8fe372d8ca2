/* llm.c - the request/response helpers shared by every provider: freeing a response, token
 * estimates, and the normalised tool calls (llm.h) with the assembler for streamed fragments. */
#include "llm/llm.h"
#include "llm/provider.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void llm_response_free(llm_response_t *r) {
    if (!r) return;
    free(r->text);
    json_decref(r->json);
    free(r->provider);
    free(r->model);
    json_decref(r->tool_calls);
    free(r->vectors);
    memset(r, 0, sizeof *r);
}

void llm_request_keep(llm_request_t *dst, const llm_request_t *src) {
    *dst = *src;
    dst->run_id = xstrdup(src->run_id);
    dst->task_id = xstrdup(src->task_id);
    dst->system = xstrdup(src->system);
    dst->prompt = xstrdup(src->prompt);
    dst->feedback = xstrdup(src->feedback);
    dst->inputs = json_incref((json_t *)src->inputs);
    dst->model = json_incref((json_t *)src->model);
    dst->schema = json_incref((json_t *)src->schema);
    dst->tools = json_incref((json_t *)src->tools);
    dst->transcript = json_deep_copy(src->transcript);
    if (src->texts) {
        char **texts = xcalloc(src->n_texts + 1, sizeof *texts);
        for (size_t i = 0; i < src->n_texts; i++) texts[i] = xstrdup(src->texts[i]);
        dst->texts = (const char *const *)texts;
    }
}

/* The casts undo llm_request_keep's: a kept request owns these (llm.h). */
void llm_request_drop(llm_request_t *r) {
    free((char *)r->run_id);
    free((char *)r->task_id);
    free((char *)r->system);
    free((char *)r->prompt);
    free((char *)r->feedback);
    json_decref((json_t *)r->inputs);
    json_decref((json_t *)r->model);
    json_decref((json_t *)r->schema);
    json_decref((json_t *)r->tools);
    json_decref((json_t *)r->transcript);
    if (r->texts) {
        for (size_t i = 0; i < r->n_texts; i++) free((char *)r->texts[i]);
        free((void *)r->texts);
    }
    memset(r, 0, sizeof *r);
}

int64_t llm_estimate_json_tokens(const json_t *v) {
    if (!v) return 0;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int64_t n = llm_estimate_tokens(text);
    free(text);
    return n;
}

int64_t llm_estimate_tokens(const char *text) {
    if (!text || !*text) return 0;
    size_t n = strlen(text);
    /* ceil(n / 4): a one-byte text is still one token. */
    return (int64_t)((n + 3) / 4);
}

/* Another model may avoid anything but our own bad request, and a quality verdict that is
 * already the end of the walk. */
bool llm_error_moves_on(const llm_error_t *e) {
    return e && e->kind != LLM_ERR_OTHER && e->kind != LLM_ERR_QUALITY &&
           e->kind != LLM_ERR_SPEND_LIMIT;
}

/* What a model wrote as arguments, clipped for the message that goes back to it. */
#define INVALID_ARGS_CLIP 2000

json_t *llm_tool_call(const char *id, const char *name, const char *arguments,
                      size_t fallback_index) {
    json_t *call = json_object();
    json_t *idv = id && *id ? json_string(id) : NULL; /* NULL too for text that is not UTF-8 */
    if (idv) {
        json_object_set_new(call, "id", idv);
    } else {
        char made[32];
        snprintf(made, sizeof made, "call_%zu", fallback_index + 1);
        json_object_set_new(call, "id", json_string(made));
    }
    json_t *namev = json_string(name ? name : "");
    json_object_set_new(call, "name", namev ? namev : json_string("(not UTF-8)"));
    json_t *args = NULL;
    /* Some servers send "" (or nothing) for a call without parameters. */
    const char *p = arguments ? arguments : "";
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    if (*p)
        args = json_loads(arguments, JSON_REJECT_DUPLICATES, NULL);
    else
        args = json_object();
    if (!json_is_object(args)) {
        json_decref(args);
        args = json_object();
        size_t len = strlen(arguments);
        if (len > INVALID_ARGS_CLIP) len = INVALID_ARGS_CLIP;
        /* A clip may split a UTF-8 sequence: step back to a boundary (at most 3 bytes). */
        json_t *raw = json_stringn(arguments, len);
        for (int k = 0; !raw && k < 3 && len > 1; k++) raw = json_stringn(arguments, --len);
        json_object_set_new(call, "invalid_arguments", raw ? raw : json_string("(not UTF-8)"));
    }
    json_object_set_new(call, "arguments", args);
    return call;
}

static struct llm_tool_part *asm_find(llm_tool_asm_t *a, long index) {
    for (size_t i = 0; i < a->n; i++)
        if (a->parts[i].index == index) return &a->parts[i];
    if (a->n >= LLM_TOOL_CALLS_MAX) {
        a->dropped = true;
        return NULL;
    }
    a->parts = xrealloc(a->parts, (a->n + 1) * sizeof *a->parts);
    a->parts[a->n] = (struct llm_tool_part){.index = index};
    return &a->parts[a->n++];
}

void llm_tool_asm_add(llm_tool_asm_t *a, long index, const char *id, const char *name,
                      const char *args) {
    struct llm_tool_part *p = asm_find(a, index);
    if (!p) return;
    if (id && *id && !(p->id && *p->id)) {
        free(p->id);
        p->id = xstrdup(id);
    }
    if (name && *name && !(p->name && *p->name)) {
        free(p->name);
        p->name = xstrdup(name);
    }
    if (args && *args) {
        size_t n = strlen(args);
        if (p->len + n > LLM_TOOL_ARGS_MAX) {
            p->overflow = true;
            return;
        }
        p->args = xrealloc(p->args, p->len + n + 1);
        memcpy(p->args + p->len, args, n + 1);
        p->len += n;
    }
}

json_t *llm_tool_asm_finish(llm_tool_asm_t *a) {
    json_t *calls = json_array();
    for (size_t i = 0; i < a->n; i++) {
        struct llm_tool_part *p = &a->parts[i];
        if (!p->name || !*p->name) continue;
        json_t *call = llm_tool_call(p->id, p->name, p->overflow ? "(arguments too long)" : p->args,
                                     json_array_size(calls));
        json_array_append_new(calls, call);
    }
    llm_tool_asm_free(a);
    return calls;
}

void llm_tool_asm_free(llm_tool_asm_t *a) {
    for (size_t i = 0; i < a->n; i++) {
        free(a->parts[i].id);
        free(a->parts[i].name);
        free(a->parts[i].args);
    }
    free(a->parts);
    memset(a, 0, sizeof *a);
}

const char *llm_tool_result_text(const json_t *entry) {
    const char *t = json_string_value(json_object_get(entry, "content"));
    return t ? t : "";
}
