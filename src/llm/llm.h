/* llm.h - what the engine asks of a model, and what comes back.
 *
 * A request is built by the engine for one attempt of one agent task; it borrows everything it
 * points at. A response owns its text and JSON. Providers (offline now; OpenAI-compatible,
 * Anthropic, Gemini, Ollama with the router) all fill the same response. */
#ifndef BATON_LLM_LLM_H
#define BATON_LLM_LLM_H

#include "core/workflow.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct llm_request {
    const char *run_id, *task_id;
    int attempt;                 /* 1-based */
    int iteration;               /* loop iteration, 1-based */
    const wf_agent_t *agent;     /* role, goal, instructions, format, schema, word_limit */
    const char *system;          /* the full system prompt the engine composed */
    const char *prompt;          /* the user message the engine composed (inputs, task prompt) */
    const json_t *inputs;        /* the task's rendered inputs (object) */
    const char *feedback;        /* human feedback ("modify") or a validator message, or NULL */
    const json_t *model;         /* tier string or candidate list, or NULL */
    output_format_t format;
    const json_t *schema;        /* for OUTPUT_JSON, else NULL */
    int word_limit;              /* 0 = none */
    int max_tokens;
    double temperature;
    /* An embedding request when `texts` is set (llm/embed.h builds them): one vector per text,
     * of `dimensions` values when > 0 (else the model's own size). Chat fields are then unused. */
    const char *const *texts;
    size_t n_texts;
    int dimensions;
} llm_request_t;

typedef struct llm_response {
    char *text;                  /* the raw output text (malloc'd) */
    json_t *json;                /* parsed output for OUTPUT_JSON (owned), else NULL */
    char *provider, *model;      /* malloc'd */
    int64_t input_tokens, output_tokens, cached_tokens;
    double cost_usd;
    int64_t latency_ms;          /* start to the end of the answer */
    int64_t first_token_ms;      /* start to the first byte of the answer, -1 if unknown */
    /* An embedding answer: n_vectors vectors of `dimensions` floats, row after row (malloc'd);
     * text is "" and output_tokens 0. NULL for a chat answer. */
    float *vectors;
    size_t n_vectors, dimensions;
} llm_response_t;

void llm_response_free(llm_response_t *r);

/* A rough token count (4 bytes per token, as OpenAI's guidance), used for estimates and for
 * providers that do not report usage. */
int64_t llm_estimate_tokens(const char *text);

#endif
