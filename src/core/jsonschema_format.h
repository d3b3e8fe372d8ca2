/* jsonschema_format.h - the `format` values Baton enforces: date-time (RFC 3339 section 5.6),
 * email (RFC 5321 Mailbox, ASCII), uri (RFC 3986 absolute URI with an optional fragment, ASCII)
 * and uuid (RFC 4122 text form, any version). Any other format name is not known, and schemas
 * using one are refused (jsonschema.c). */
#ifndef BATON_CORE_JSONSCHEMA_FORMAT_H
#define BATON_CORE_JSONSCHEMA_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

extern const char *const JSONSCHEMA_FORMATS[];
extern const size_t JSONSCHEMA_N_FORMATS;

/* Whether `name` is one of JSONSCHEMA_FORMATS. */
bool jsonschema_format_known(const char *name);

/* Whether the string s (len bytes) has the format `name`; false for unknown names. */
bool jsonschema_format_valid(const char *name, const char *s, size_t len);

#endif
