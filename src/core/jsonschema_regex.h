/* jsonschema_regex.h - `pattern` and `patternProperties` regular expressions, through PCRE2.
 *
 * JSON Schema asks for ECMA-262 regular expressions; PCRE2 is compiled as close to them as it
 * allows (UTF mode, `$` only at the very end, `[]`/`[^]`, \uHHHH and \u{H...}, backreferences to
 * unset groups match empty; see docs/workflow-language.md for what still differs). A match is a
 * search, never implicitly anchored, as JSON Schema says.
 *
 * Compiled patterns are cached for the life of the process, keyed by the pattern text, so a
 * schema's patterns compile once (when the schema is checked) however many values are validated:
 * callers hold schemas as plain JSON, with no compiled form to keep them in. The cache is bounded
 * (JSONSCHEMA_REGEX_CACHE patterns of at most JSONSCHEMA_REGEX_CACHE_LEN bytes); other patterns
 * compile per use. Thread-safe. Matching is bounded by PCRE2's match and heap limits, so a
 * catastrophic pattern fails with a message instead of hanging. */
#ifndef BATON_CORE_JSONSCHEMA_REGEX_H
#define BATON_CORE_JSONSCHEMA_REGEX_H

#include <stddef.h>

#define JSONSCHEMA_REGEX_CACHE     256
#define JSONSCHEMA_REGEX_CACHE_LEN 4096
#define JSONSCHEMA_REGEX_MAX_LEN   65536 /* longer patterns are refused */

/* 0 when `pat` (len bytes, may hold NULs) compiles; -1 with a message such as
 * "does not compile: missing closing parenthesis at offset 3" in why. */
int jsonschema_regex_check(const char *pat, size_t len, char *why, size_t whylen);

/* 1 when `pat` matches somewhere in `s` (slen bytes of UTF-8), 0 when not, -1 when it could not
 * be decided (the pattern does not compile, a match limit was reached) with a message in why. */
int jsonschema_regex_search(const char *pat, size_t len, const char *s, size_t slen, char *why,
                            size_t whylen);

#endif
