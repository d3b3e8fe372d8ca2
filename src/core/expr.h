/* expr.h - the expression language of spec section 3 ("{{ ... }}" bodies).
 *
 * Values are jansson values (null, bool, integer, real, string, array, object). Promises:
 *  - expr_parse accepts exactly the grammar of the spec (operators by precedence: not/!, * / %,
 *    + -, < <= > >=, == !=, in, and/&&, or/||; literals: numbers, 'single'/"double" strings,
 *    true/false/null, [lists]; names with .member and [n] paths; the functions len lower upper
 *    contains default json trim). An unknown function is a parse error, so it is caught when a
 *    workflow is loaded, not when it runs.
 *  - expr_eval never crashes on any input: a missing name or path is null; ordering comparisons
 *    with null are false; null == null is true; a type error ("abc" < 8) is an error value that
 *    names the operator, the position and both types.
 *  - Errors carry a byte offset into the source text so callers can turn it into line:column.
 *  - Recursion is bounded (EXPR_MAX_DEPTH) so hostile input cannot exhaust the stack. */
#ifndef BATON_CORE_EXPR_H
#define BATON_CORE_EXPR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define EXPR_MAX_DEPTH 64

typedef struct expr expr_t; /* opaque, immutable after parse */

typedef struct expr_error {
    size_t offset; /* byte offset into the parsed source where the problem is */
    char message[256];
} expr_error_t;

/* Names resolve through a chain of scopes: each `vars` is an object mapping root names
 * ("inputs", "variables", "tasks", "run", "item", "index", "iteration", "previous",
 * "artifacts") to values. The first scope that has the root wins. Values are borrowed. */
typedef struct expr_scope {
    const json_t *vars;
    const struct expr_scope *parent;
} expr_scope_t;

/* Parses src[0..len). Returns NULL and fills err on a syntax error. Caller frees with expr_free. */
expr_t *expr_parse(const char *src, size_t len, expr_error_t *err);
/* Same, for an expression that sits at byte `base` of a larger text (a template hole): every
 * offset it reports - parse errors, eval errors and refs - is base + the position in src, so a
 * template's errors point into the whole template without rewriting messages. */
expr_t *expr_parse_at(const char *src, size_t len, size_t base, expr_error_t *err);
void expr_free(expr_t *e);

/* Evaluates. On success returns 0 and stores a new reference in *out (json_null() for null);
 * on a type error returns -1, fills err (offset relative to the parsed source) and leaves *out
 * NULL. */
int expr_eval(const expr_t *e, const expr_scope_t *scope, json_t **out, expr_error_t *err);

/* Calls fn once for every name path the expression reads, with the root ("tasks"), the first
 * member when it is a plain .member (e.g. "code_analysis"), or NULL, and the byte offset of the
 * name. The validator uses this to reject references to tasks that are not upstream. */
typedef void (*expr_ref_fn)(void *ud, const char *root, const char *member, size_t offset);
void expr_visit_refs(const expr_t *e, expr_ref_fn fn, void *ud);

/* The same walk with the whole leading run of .member steps of each path (up to
 * EXPR_PATH_MAX; the walk stops at the first [index] step), each with the byte offset of its
 * name: `tasks.scan.outputs.score` gives keys scan, outputs, score. The validator checks an
 * output field against the agent's schema with it. Strings belong to the expression. */
#define EXPR_PATH_MAX 8
typedef struct expr_path {
    const char *root;
    size_t off; /* of the root name */
    const char *keys[EXPR_PATH_MAX];
    size_t key_off[EXPR_PATH_MAX];
    size_t n;
} expr_path_t;
typedef void (*expr_path_fn)(void *ud, const expr_path_t *path);
void expr_visit_paths(const expr_t *e, expr_path_fn fn, void *ud);

/* Truthiness used by conditions and loop.until: null and false are false; 0, "" , [] and {} are
 * false; everything else is true. */
bool expr_truthy(const json_t *v);

/* Formats a value for string interpolation: strings as is, null as "", numbers in shortest
 * round-trip form, bools as true/false, arrays and objects as compact JSON. Caller frees. */
char *expr_format(const json_t *v);

/* The type name used in error messages: "null", "bool", "number", "string", "list", "object". */
const char *expr_type_name(const json_t *v);

#endif
