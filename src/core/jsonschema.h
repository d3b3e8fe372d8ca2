/* jsonschema.h - a JSON Schema validator for the keywords agent outputs use.
 *
 * Supported: type (string or list of: null boolean integer number string array object),
 * properties, required, additionalProperties (bool or schema), items (schema), enum, const,
 * minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength (in UTF-8 code
 * points), minItems, maxItems, pattern is NOT supported (no regex engine here; it is ignored and
 * documented), description/title/default/examples/$schema are ignored annotations.
 * Promises: never crashes on any schema or value; recursion bounded by JSONSCHEMA_MAX_DEPTH;
 * the first violation is described with a JSON-pointer-like path ("/findings/0/severity"). */
#ifndef BATON_CORE_JSONSCHEMA_H
#define BATON_CORE_JSONSCHEMA_H

#include <jansson.h>
#include <stddef.h>

#define JSONSCHEMA_MAX_DEPTH 64

/* 0 when `value` is valid against `schema`, -1 otherwise with a message in err. */
int jsonschema_validate(const json_t *schema, const json_t *value, char *err, size_t errlen);

/* 0 when `schema` itself is well formed for the keywords above (used at workflow load time),
 * -1 with a message naming the offending keyword path otherwise. */
int jsonschema_check(const json_t *schema, char *err, size_t errlen);

#endif
