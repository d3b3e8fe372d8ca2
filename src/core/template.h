/* template.h - strings with "{{ expr }}" holes (spec section 3).
 *
 * Promises:
 *  - A string that is exactly one "{{ expr }}" (surrounding whitespace allowed inside the braces
 *    only) renders to the expression's value with its type kept (number, bool, list, object,
 *    null). Any other string renders to a string, each hole formatted by expr_format.
 *  - A string with no "{{" is a literal and renders to itself.
 *  - Parse errors (unclosed "{{", bad expression, unknown function) carry the byte offset in the
 *    template source.
 *  - tmpl_render_value walks any JSON value and renders every string in it, leaving other values
 *    untouched; object keys are not templated. */
#ifndef BATON_CORE_TEMPLATE_H
#define BATON_CORE_TEMPLATE_H

#include "core/expr.h"

typedef struct tmpl tmpl_t; /* opaque, immutable after parse */

tmpl_t *tmpl_parse(const char *src, size_t len, expr_error_t *err); /* NULL on error */
void tmpl_free(tmpl_t *t);

bool tmpl_is_literal(const tmpl_t *t); /* no holes at all */

/* 0 and a new reference in *out, or -1 with err (offset into the template source). */
int tmpl_render(const tmpl_t *t, const expr_scope_t *scope, json_t **out, expr_error_t *err);

/* Visits the name references of every hole; offsets are into the template source. */
void tmpl_visit_refs(const tmpl_t *t, expr_ref_fn fn, void *ud);
void tmpl_visit_paths(const tmpl_t *t, expr_path_fn fn, void *ud); /* see expr_visit_paths */

/* Convenience: parse + render a C string in one go. */
int tmpl_render_str(const char *src, const expr_scope_t *scope, json_t **out, expr_error_t *err);

/* Renders every string inside `in` (deep). 0 and a new reference in *out, or -1 with err. */
int tmpl_render_value(const json_t *in, const expr_scope_t *scope, json_t **out, expr_error_t *err);

/* Parses every string inside `in` (deep) and calls check for each parse result: used by the
 * validator. For a string that fails to parse, t is NULL and err is set. */
typedef void (*tmpl_check_fn)(void *ud, const json_t *string_node, const tmpl_t *t,
                              const expr_error_t *err);
void tmpl_check_value(const json_t *in, tmpl_check_fn check, void *ud);

#endif
