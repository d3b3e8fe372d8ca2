/* redact.h - keeps secrets out of everything Baton stores, answers or logs. A provider that
 * refuses a key often quotes it back ("Incorrect API key provided: sk-..."), and its text
 * becomes a journal event, an llm_calls row, a task's error and an API answer; once journaled it
 * cannot be taken back. redact_text replaces every known secret value (the configured API keys,
 * registered with redact_register when the providers are built) and the shapes of common keys
 * with REDACT_MARKER:
 *   sk-...            (OpenAI and Anthropic keys: sk- and 8 or more of [A-Za-z0-9_-])
 *   AIza...           (Google API keys: AIza and 20 or more of [A-Za-z0-9_-])
 *   Bearer TOKEN      (a token of 8 or more characters; "Bearer" is kept)
 *   x-api-key: VALUE  (also x-goog-api-key, api-key, api_key; ':' or '=')
 *   ?key=VALUE        (a Gemini URL's key query parameter, also after '&')
 * A shape must start at a word boundary, so "task-sketch" or a sha256 stay as written. */
#ifndef BATON_UTIL_REDACT_H
#define BATON_UTIL_REDACT_H

#include <stddef.h>

#define REDACT_MARKER "[redacted]"

/* `text` (NULL gives NULL) with every value of `secrets` (NULL-terminated, may be NULL; values
 * shorter than 6 characters are ignored: they would blank ordinary words) and every common key
 * shape replaced by REDACT_MARKER. Pure; the caller frees the result. */
char *redact_with(const char *text, const char *const *secrets);

/* Remembers a configured secret's value (copied; NULL, empty and repeated values are ignored)
 * for redact_text. Thread-safe. */
void redact_register(const char *value);

/* redact_with(text, every registered value): the one call the rest of Baton makes. */
char *redact_text(const char *text);

/* Forgets the registered values (tests, shutdown). */
void redact_reset(void);

#endif
