/* inputs.c - run inputs against the workflow's `inputs:` declaration (spec section 1). */
#include "core/diag.h"
#include "engine/engine_internal.h"
#include "util/xalloc.h"

#include <string.h>

static bool type_matches(const char *type, const json_t *v) {
    if (!type || !strcmp(type, "any")) return true;
    if (!strcmp(type, "string")) return json_is_string(v);
    if (!strcmp(type, "integer")) return json_is_integer(v);
    if (!strcmp(type, "number")) return json_is_number(v);
    if (!strcmp(type, "boolean") || !strcmp(type, "bool")) return json_is_boolean(v);
    if (!strcmp(type, "object")) return json_is_object(v);
    if (!strcmp(type, "array") || !strcmp(type, "list")) return json_is_array(v);
    return true;
}

/* `--input k=v` gives strings; a declared non-string input is parsed from its text. */
static json_t *coerce(const char *type, json_t *v) {
    if (!json_is_string(v) || !type || !strcmp(type, "string")) return json_incref(v);
    json_t *parsed = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);
    if (parsed && type_matches(type, parsed)) return parsed;
    json_decref(parsed);
    return json_incref(v);
}

json_t *inputs_resolve(const workflow_t *wf, const json_t *given, char **err) {
    json_t *out = json_object();
    const json_t *decl = wf->inputs;
    const char *k;
    json_t *v;
    if (!decl || !json_object_size(decl)) {
        /* Nothing declared: take what was given as is. */
        if (given) json_object_update(out, (json_t *)given);
        return out;
    }
    json_object_foreach((json_t *)given, k, v) {
        if (json_object_get(decl, k)) continue;
        const char **names = xmalloc(json_object_size(decl) * sizeof *names);
        size_t n = 0;
        const char *dk;
        json_t *dv;
        json_object_foreach((json_t *)decl, dk, dv) names[n++] = dk;
        char hint[160];
        const char *h = diag_did_you_mean(hint, sizeof hint, k, names, n);
        *err = xasprintf("unknown input '%s'%s%s", k, h ? ": " : "", h ? h : "");
        free(names);
        json_decref(out);
        return NULL;
    }
    json_object_foreach((json_t *)decl, k, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        json_t *val = json_object_get(given, k);
        if (!val) val = json_object_get(v, "default");
        if (!val) {
            if (json_is_true(json_object_get(v, "required"))) {
                *err = xasprintf("missing required input '%s'", k);
                json_decref(out);
                return NULL;
            }
            continue;
        }
        json_t *c = coerce(type, val);
        if (!type_matches(type, c)) {
            *err = xasprintf("input '%s' must be of type %s", k, type);
            json_decref(c);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, k, c);
    }
    return out;
}
