/* llm.h - what the engine asks of a model, and what comes back.
 *
 * A request is built by the engine for one attempt of one agent task; it borrows everything it
 * points at. A response owns its text and JSON. Providers (offline now; OpenAI-compatible,
 * Anthropic, Gemini, Ollama with the router) all fill the same response.
 *
 * Tools, in one normalised form that every provider maps to and from its own wire format:
 *  - request.tools: [{name, description, parameters (JSON Schema, root an object)}]
 *  - request.transcript: the turns of this attempt after the user message, in order:
 *      {"role": "assistant", "text": "...", "calls": [CALL, ...]}   the model asked for tools
 *      {"role": "tool", "id", "name", "content": "...", "is_error": bool}   one tool's result
 *  - response.tool_calls: [CALL, ...] when the model asks for tools instead of answering, where
 *      CALL = {"id", "name", "arguments": {...}} (+ "invalid_arguments": the raw text, when the
 *      model's arguments were not a JSON object; arguments is then {}), and a provider that
 *      needs more to replay a call (Gemini's thoughtSignature) keeps it in the CALL as
 *      "signature". Ids are the provider's, or made up ("call_N") for providers that give none. */
#ifndef BATON_LLM_LLM_H
#define BATON_LLM_LLM_H

#include "core/workflow.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct llm_response llm_response_t;

typedef struct llm_request {
    const char *run_id, *task_id;
    int attempt;             /* 1-based */
    int iteration;           /* loop iteration, 1-based */
    const wf_agent_t *agent; /* role, goal, instructions, format, schema, word_limit */
    const char *system;      /* the full system prompt the engine composed */
    const char *prompt;      /* the user message the engine composed (inputs, task prompt) */
    const json_t *inputs;    /* the task's rendered inputs (object) */
    const char *feedback;    /* human feedback ("modify") or a validator message, or NULL */
    const json_t *model;     /* tier string or candidate list, or NULL */
    output_format_t format;
    const json_t *schema; /* for OUTPUT_JSON, else NULL */
    int word_limit;       /* 0 = none */
    int max_tokens;
    double temperature;
    /* Optional judge of an answer (the task's quality_threshold, spec 6): false, with a reason
     * in why, makes the router move on to the next candidate. Called on the loop thread while
     * the call is in flight; accept_ud must live that long. */
    bool (*accept)(void *accept_ud, const llm_response_t *resp, char *why, size_t whylen);
    void *accept_ud;
    /* With cost_capped, what the spending limits leave for this call (the run's budget, the
     * daily limits): candidates whose estimate (prompt + max_tokens at their prices) is above
     * it are skipped. */
    bool cost_capped;
    double max_cost_usd;
    /* Optional: the answer's text as it streams in, piece by piece, on the loop thread, with the
     * candidate ("provider/model") it comes from. Provisional: a candidate that then fails (the
     * router moves on) or is rejected had its pieces shown too; the answer is what `done` gets.
     * A cached answer or one without streaming arrives in one piece, or none. */
    void (*on_text)(void *text_ud, const char *candidate, const char *piece);
    void *text_ud;
    const json_t *tools;      /* tool definitions offered to the model, or NULL */
    const json_t *transcript; /* earlier turns of this attempt (tool calls, results), or NULL */
    /* An embedding request when `texts` is set (llm/embed.h builds them): one vector per text,
     * of `dimensions` values when > 0 (else the model's own size). Chat fields are then unused. */
    const char *const *texts;
    size_t n_texts;
    int dimensions;
} llm_request_t;

struct llm_response {
    char *text;             /* the raw output text (malloc'd) */
    json_t *json;           /* parsed output for OUTPUT_JSON (owned), else NULL */
    char *provider, *model; /* malloc'd */
    int64_t input_tokens, output_tokens, cached_tokens;
    double cost_usd;
    int64_t latency_ms;     /* start to the end of the answer */
    int64_t first_token_ms; /* start to the first byte of the answer, -1 if unknown */
    json_t *tool_calls;     /* the tools the model asks for (non-empty array), or NULL */
    /* An embedding answer: n_vectors vectors of `dimensions` floats, row after row (malloc'd);
     * text is "" and output_tokens 0. NULL for a chat answer. */
    float *vectors;
    size_t n_vectors, dimensions;
    /* Written by the offline model (llm/offline.h), not by a model: its text is a stand-in that
     * must never pass for real work. Kept through the response cache and recordings, so a stored
     * offline answer is still simulated; every llm.call record of it says so. */
    bool simulated;
};

void llm_response_free(llm_response_t *r);

/* For a layer that keeps a request beyond provider_call (the router's fallback, the cache's
 * lookup): *dst becomes a copy that owns what it points at (strings and texts duplicated, JSON
 * referenced, the transcript deep-copied since its owner grows it after the call). The agent stays
 * borrowed: it lives with its workflow. llm_request_drop frees such a copy, and only such. */
void llm_request_keep(llm_request_t *dst, const llm_request_t *src);
void llm_request_drop(llm_request_t *r);

/* One normalised tool call: {"id", "name", "arguments"} from the arguments as the model wrote
 * them (JSON text; NULL or "" means {}). Text that is not a JSON object gives arguments {} and
 * "invalid_arguments" (the text, clipped), so the engine can tell the model what was wrong.
 * A NULL or empty id becomes "call_<n>" (n = fallback_index + 1). New reference. */
json_t *llm_tool_call(const char *id, const char *name, const char *arguments,
                      size_t fallback_index);

/* Assembles streamed tool calls: fragments arrive keyed by a stream index (OpenAI's
 * delta.tool_calls[].index, Anthropic's content block index), the id and name usually with the
 * first fragment, the arguments as pieces of JSON text. Bounded: at most LLM_TOOL_CALLS_MAX
 * calls and LLM_TOOL_ARGS_MAX bytes of arguments each (more is dropped and flagged). */
#define LLM_TOOL_CALLS_MAX 64
#define LLM_TOOL_ARGS_MAX  (1u << 20)
typedef struct llm_tool_asm {
    struct llm_tool_part {
        long index;
        char *id, *name, *args;
        size_t len;
        bool overflow;
    } * parts;
    size_t n;
    bool dropped; /* calls past LLM_TOOL_CALLS_MAX were seen */
} llm_tool_asm_t;
/* Adds a fragment: id, name and args may each be NULL. A fragment whose index is new starts a
 * call; an id or name given again replaces the earlier one only when that one was empty. */
void llm_tool_asm_add(llm_tool_asm_t *a, long index, const char *id, const char *name,
                      const char *args);
/* The calls in order of their first fragment ([] when none; nameless ones are left out).
 * New reference; the assembler is emptied. */
json_t *llm_tool_asm_finish(llm_tool_asm_t *a);
void llm_tool_asm_free(llm_tool_asm_t *a);

/* The tool result text a transcript entry carries, for providers that want one string. */
const char *llm_tool_result_text(const json_t *entry);

/* A rough token count (4 bytes per token, as OpenAI's guidance), used for estimates and for
 * providers that do not report usage. */
int64_t llm_estimate_tokens(const char *text);
/* The same for a JSON value as compact text (tool definitions, a transcript); 0 for NULL. */
int64_t llm_estimate_json_tokens(const json_t *v);

#endif
