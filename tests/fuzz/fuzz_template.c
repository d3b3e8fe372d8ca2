/* fuzz_template.c - libFuzzer target for templates.
 *
 * Every input is parsed as a template; what parses is rendered against a small fixed scope
 * and its refs visited. Inputs that are valid UTF-8 also go through tmpl_render_value and
 * tmpl_check_value inside a small JSON document. Any crash, leak or sanitizer report is a bug. */
#include "core/template.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const SCOPE_JSON =
    "{\"inputs\": {\"name\": \"Ada\", \"n\": 3, \"r\": 0.5, \"list\": [1, \"x\", null],"
    "  \"obj\": {\"a\": 1, \"b\": [true, null]}, \"nothing\": null},"
    " \"tasks\": {\"code_analysis\": {\"status\": \"succeeded\","
    "    \"outputs\": {\"security_score\": 7, \"issues\": [{\"sev\": \"high\"}]}},"
    "  \"task-2\": {\"outputs\": {\"x\": 1}}},"
    " \"variables\": {\"k\": \"b\"}}";

static const expr_scope_t *fixed_scope(void) {
    static json_t *outer_vars, *inner_vars;
    static expr_scope_t outer, inner;
    if (!outer_vars) {
        outer_vars = json_loads(SCOPE_JSON, 0, NULL);
        inner_vars = json_pack("{s:s,s:i}", "item", "it", "index", 0);
        if (!outer_vars || !inner_vars) abort();
        outer.vars = outer_vars;
        inner.vars = inner_vars;
        inner.parent = &outer;
    }
    return &inner;
}

static void on_ref(void *ud, const char *root, const char *member, size_t offset) {
    size_t *count = ud;
    *count += strlen(root) + (member ? strlen(member) : 0) + (offset & 1);
}

static void on_check(void *ud, const json_t *node, const tmpl_t *t, const expr_error_t *err) {
    size_t *count = ud;
    if (!t && !err) abort();
    if (t) tmpl_visit_refs(t, on_ref, count);
    *count += json_string_length(node);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const expr_scope_t *scope = fixed_scope();
    const char *src = (const char *)data;
    expr_error_t err;
    size_t count = 0;
    tmpl_t *t = tmpl_parse(src, size, &err);
    if (t) {
        tmpl_visit_refs(t, on_ref, &count);
        (void)tmpl_is_literal(t);
        json_t *v = NULL;
        if (tmpl_render(t, scope, &v, &err) == 0)
            json_decref(v);
        else if (v || err.offset > size)
            abort();
        tmpl_free(t);
    } else if (err.offset > size) {
        abort();
    }

    json_t *s = json_stringn(src, size); /* NULL unless valid UTF-8 */
    if (s) {
        json_t *doc = json_pack("{s:[o,i,{s:O}],s:n}", "a", s, 1, "b", s, "c");
        json_t *out = NULL;
        if (tmpl_render_value(doc, scope, &out, &err) == 0) json_decref(out);
        tmpl_check_value(doc, on_check, &count);
        json_decref(doc);
    }
    return 0;
}
