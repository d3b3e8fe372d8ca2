/* jsonschema.h - Baton's JSON Schema subset: agents' output schemas, edited outputs, gateway
 * response formats. It follows draft 7 for the keywords it has (docs/workflow-language.md).
 *
 * The subset: type (a name or a list of: null boolean integer number string array object),
 * properties, patternProperties, required, additionalProperties (bool or schema), items (one
 * schema), enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum (a number, or a
 * boolean as in draft 4), minLength, maxLength (in code points), minItems, maxItems, pattern
 * (PCRE2 near ECMA-262, jsonschema_regex.h), format (date-time, email, uri, uuid;
 * jsonschema_format.h). Annotations that change no verdict are accepted: title, description,
 * default, examples, $schema, $id, $comment, deprecated, readOnly, writeOnly, and x-* names.
 * Every other keyword is refused, never ignored: by jsonschema_check, and by jsonschema_validate,
 * which checks the schema first.
 * Promises: never crashes on any schema or value; recursion bounded by JSONSCHEMA_MAX_DEPTH;
 * the first problem is described with a JSON-pointer-like path ("/findings/0/severity"). */
#ifndef BATON_CORE_JSONSCHEMA_H
#define BATON_CORE_JSONSCHEMA_H

#include <jansson.h>
#include <stddef.h>

#define JSONSCHEMA_MAX_DEPTH 64

/* 0 when `value` is valid against `schema`, -1 otherwise with a message in err. A schema that
 * jsonschema_check refuses fails every value, with "invalid schema: " and the check's message.
 * A NULL schema accepts everything. */
int jsonschema_validate(const json_t *schema, const json_t *value, char *err, size_t errlen);

/* 0 when `schema` is well formed and inside the subset (used at workflow load time), -1 with a
 * message naming the offending keyword path otherwise ("/properties/a/proprties: unknown keyword
 * \"proprties\" (did you mean \"properties\"?)"). Patterns are compiled here. */
int jsonschema_check(const json_t *schema, char *err, size_t errlen);

/* jsonschema_check that also writes the JSON pointer (RFC 6901) of the offending keyword into
 * `where` ("" for the schema itself), so callers can point at it in the source file. */
int jsonschema_check_at(const json_t *schema, char *err, size_t errlen, char *where,
                        size_t wherelen);

#endif
