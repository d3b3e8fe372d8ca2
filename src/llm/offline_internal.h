/* offline_internal.h - private to the offline model (offline*.c): its random stream, the text
 * helpers its generators share, the phrase tables and the two generators.
 *
 * Everything here is deterministic: the only source of variety is the offline_rng_t seeded from
 * the request in offline.c, consumed in a fixed order. */
#ifndef BATON_LLM_OFFLINE_INTERNAL_H
#define BATON_LLM_OFFLINE_INTERNAL_H

#include "llm/llm.h"
#include "util/strbuf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* splitmix64: tiny, fast, and the same on every platform (unlike rand()). */
typedef struct offline_rng {
    uint64_t state;
} offline_rng_t;

uint64_t offline_rng_next(offline_rng_t *r);
uint32_t offline_rng_below(offline_rng_t *r, uint32_t n); /* 0..n-1; 0 when n == 0 */
double offline_rng_unit(offline_rng_t *r);                /* [0, 1) */

/* ---- text helpers (offline_text.c) ---- */

/* Whitespace-separated tokens: the definition word_limit is enforced with. */
size_t offline_count_words(const char *s);

/* Appends `s` (n bytes) as one line: whitespace runs collapsed to one space, control characters
 * dropped, double quotes turned into single ones (so it can sit inside "..."), at most max_words
 * words and about max_bytes bytes, cut at a word or code-point boundary and marked with "…". */
void offline_put_clean(strbuf_t *out, const char *s, size_t n, size_t max_words, size_t max_bytes);

/* The same into a new string (malloc'd), or NULL when nothing printable is left. */
char *offline_clean_dup(const char *s, size_t n, size_t max_words, size_t max_bytes);

/* "code_analyzer" -> "code analyzer" (malloc'd). */
char *offline_humanize(const char *id);

/* What a long upstream text is about, without copying it: its headings or first sentence. */
typedef struct offline_digest {
    char *title;       /* first heading, or NULL */
    char *headings[4]; /* the next headings */
    size_t n_headings;
    char *lead; /* the first sentence when there are no headings, or NULL */
    size_t words;
} offline_digest_t;

/* True when `s` reads as a document (long, or markdown with headings) rather than a value. */
bool offline_is_document(const char *s, size_t n);
void offline_digest(const char *s, size_t n, offline_digest_t *d);
void offline_digest_free(offline_digest_t *d);

/* A short noun phrase for what the request is about ("a todo app"), from the inputs, else from
 * the task id ("the design work"; *from_inputs is then false). malloc'd, never NULL. */
char *offline_subject(const json_t *inputs, const char *task_id, bool *from_inputs);

/* The decision the inputs say was reached, so the offline model never contradicts it: the
 * non-empty string under a "decision" key of the inputs, or of an object nested in them up to
 * two levels down (a consensus task's outputs passed on: {consensus, decision, votes, ...}),
 * shallowest first. Arrays are not searched: the votes cast are not the outcome, and a vote
 * that reached none has "decision": null. NULL when there is none; borrowed from inputs. */
const char *offline_reached_decision(const json_t *inputs);

/* Replaces "{s}" in tmpl with subj. */
void offline_put_template(strbuf_t *out, const char *tmpl, const char *subj);

/* ---- phrase tables (offline_phrases.c) ---- */

#define OFFLINE_ITEMS 5

typedef struct offline_section_tpl {
    const char *title;
    const char *items[OFFLINE_ITEMS];
} offline_section_tpl_t;

typedef struct offline_profile {
    const char *match;    /* '|'-separated substrings of agent id / role / name */
    const char *doc_noun; /* "architecture document" */
    offline_section_tpl_t sections[3];
} offline_profile_t;

/* The profile whose pattern matches the agent first; the generic one otherwise. */
const offline_profile_t *offline_profile_for(const wf_agent_t *agent);

extern const offline_section_tpl_t offline_risks, offline_questions, offline_next_steps;
extern const char *const offline_summary_tpl[4];
extern const char *const offline_revision_verbs[4];

/* ---- generators ---- */

/* The markdown or plain-text document for req (offline_markdown.c). malloc'd. */
char *offline_document(const llm_request_t *req, offline_rng_t *rng);

/* A value for req->schema, or NULL with a message in err (offline_json.c). */
json_t *offline_json_value(const llm_request_t *req, offline_rng_t *rng, char *err, size_t errlen);

#endif
