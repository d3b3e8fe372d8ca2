/* quality.h - the output quality score of spec section 6.
 *
 * A score in [0,1] from checks a user would make by eye: the format is what was asked (JSON
 * parses, Markdown is not empty), the JSON matches its schema, the text is within the word limit,
 * it is not a refusal ("I cannot help with that"), and it is not empty or one line repeated.
 * Each failed check costs a share of the score; `why` names the checks that failed. */
#ifndef BATON_CORE_QUALITY_H
#define BATON_CORE_QUALITY_H

#include "core/workflow.h"

double quality_score(const char *text, output_format_t format, const json_t *schema, int word_limit,
                     char *why, size_t whylen);

/* Whitespace-separated words. */
size_t quality_word_count(const char *text);

#endif
