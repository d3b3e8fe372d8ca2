/* recordings.h - recorded model answers, by request key: what `--llm-mode record` writes and
 * `--llm-mode replay` serves (docs/models.md, "Record and replay").
 *
 * The file is one JSON object, meant to be committed next to a workflow's tests:
 *   {"baton_recordings": 1,
 *    "entries": {"<key>": {"task": "write", "candidate": "paid/gpt-test",
 *                          "request": {<the canonical request, llm/reqkey.h>},
 *                          "response": {"text": "...", "json": ..., "input_tokens": 12, ...}}}}
 * The request is kept so a person can see what was asked (and why a replay missed); only the key
 * is used to match.
 *
 * Also here: a response as JSON and back, shared with the response cache. */
#ifndef BATON_LLM_RECORDINGS_H
#define BATON_LLM_RECORDINGS_H

#include "llm/llm.h"

#include <jansson.h>
#include <stdbool.h>

/* The response's fields as a JSON object (new reference). */
json_t *llm_response_to_json(const llm_response_t *r);

/* A response from llm_response_to_json's shape, or NULL (with *err, caller frees) when a field is
 * missing or of the wrong type. The tokens and latencies are the recorded ones; cost is 0. */
llm_response_t *llm_response_from_json(const json_t *j, char **err);

typedef struct recordings recordings_t;

/* Parses a recordings file's text. NULL with *err (caller frees) on anything but the shape
 * above; every entry is checked, so a replay never meets a broken one half-way. */
recordings_t *recordings_parse(const char *text, size_t len, const char *name, char **err);

/* Loads path; a missing file is an empty set when `missing_ok` (recording starts one). */
recordings_t *recordings_load(const char *path, bool missing_ok, char **err);

/* The entry under key ({task, candidate, request, response}, borrowed), or NULL. */
const json_t *recordings_get(const recordings_t *r, const char *key);

/* Adds or replaces key's entry (request and response borrowed, copied). */
void recordings_put(recordings_t *r, const char *key, const char *task, const char *candidate,
                    const json_t *request, const json_t *response);

size_t recordings_count(const recordings_t *r);

/* Writes the set to path (a temporary file renamed over it: a reader sees the old file or the
 * new one). 0, or -1 with *err. */
int recordings_save(const recordings_t *r, const char *path, char **err);

void recordings_free(recordings_t *r);

#endif
