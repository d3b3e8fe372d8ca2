/* fuzz_expr.c - libFuzzer target for the expression parser and evaluator.
 *
 * Every input is parsed; what parses is evaluated against a small fixed scope (inputs, tasks
 * with nested outputs, lists, a loop scope chained over it), its refs are visited and its value
 * formatted. Any crash, leak or sanitizer report is a bug. */
#include "core/expr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const SCOPE_JSON =
    "{\"inputs\": {\"name\": \"Ada\", \"n\": 3, \"big\": 9223372036854775807, \"r\": 0.5,"
    "  \"list\": [1, 2.5, \"x\", null, [true], {\"k\": \"v\"}], \"empty\": \"\", \"u\": "
    "\"h\\u00e9\","
    "  \"obj\": {\"a\": 1, \"b\": [true, null], \"c\": {\"d\": \"e\"}}, \"nothing\": null},"
    " \"tasks\": {\"code_analysis\": {\"status\": \"succeeded\", \"output\": \"raw text\","
    "    \"outputs\": {\"security_score\": 7, \"issues\": [{\"sev\": \"high\"}, {\"sev\": "
    "\"low\"}]}},"
    "  \"task-2\": {\"outputs\": {\"x\": 1, \"deep\": [[[[1]]]]}}},"
    " \"variables\": {\"k\": \"b\", \"threshold\": 8}, \"run\": {\"id\": \"r1\"}}";

static const expr_scope_t *fixed_scope(void) {
    static json_t *outer_vars, *inner_vars;
    static expr_scope_t outer, inner;
    if (!outer_vars) {
        outer_vars = json_loads(SCOPE_JSON, 0, NULL);
        inner_vars = json_pack("{s:{s:i},s:i,s:i,s:[i,i]}", "item", "id", 4, "index", 1,
                               "iteration", 2, "previous", 5, 6);
        if (!outer_vars || !inner_vars) abort();
        outer.vars = outer_vars;
        inner.vars = inner_vars;
        inner.parent = &outer;
    }
    return &inner;
}

static void on_ref(void *ud, const char *root, const char *member, size_t offset) {
    size_t *count = ud;
    /* Touch the strings so ASan sees any dangling or unterminated one. */
    *count += strlen(root) + (member ? strlen(member) : 0) + (offset & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const expr_scope_t *scope = fixed_scope();
    expr_error_t err;
    expr_t *e = expr_parse((const char *)data, size, &err);
    if (!e) {
        if (err.offset > size || !memchr(err.message, '\0', sizeof err.message)) abort();
        return 0;
    }
    size_t count = 0;
    expr_visit_refs(e, on_ref, &count);
    json_t *v = NULL;
    if (expr_eval(e, scope, &v, &err) == 0) {
        char *s = expr_format(v);
        free(s);
        (void)expr_truthy(v);
        (void)expr_type_name(v);
        json_decref(v);
    } else if (v || err.offset > size) {
        abort();
    }
    expr_free(e);
    return 0;
}
