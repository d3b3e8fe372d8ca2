/* template.c - strings with "{{ expr }}" holes (spec section 3).
 *
 * A template is a list of parts, each either literal text or a parsed expression. Holes are
 * parsed with expr_parse_at so every offset - parse errors, eval errors, refs - already points
 * into the whole template string.
 *
 * Choices the spec leaves open: there is no escape for a literal "{{"; literal text must be
 * valid UTF-8 (checked at parse time, so rendering cannot fail on it later); a hole ends at the
 * first "}}" that is not inside a quoted string literal. */
#include "core/template.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct part {
    json_t *text; /* literal text as a json string, or NULL for a hole */
    expr_t *expr; /* the hole's expression, or NULL for text */
} part_t;

struct tmpl {
    part_t *parts;
    size_t n, cap;
    bool single; /* the whole string is one hole: rendering keeps the value's type */
};

static void set_err(expr_error_t *err, size_t off, const char *msg) {
    if (!err) return;
    err->offset = off;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

static part_t *push_part(tmpl_t *t) {
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4;
        t->parts = xrealloc(t->parts, t->cap * sizeof *t->parts);
    }
    part_t *p = &t->parts[t->n++];
    p->text = NULL;
    p->expr = NULL;
    return p;
}

void tmpl_free(tmpl_t *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        json_decref(t->parts[i].text);
        expr_free(t->parts[i].expr);
    }
    free(t->parts);
    free(t);
}

static bool add_text(tmpl_t *t, const char *src, size_t from, size_t to, expr_error_t *err) {
    if (from == to) return true;
    json_t *s = json_stringn(src + from, to - from);
    if (!s) {
        set_err(err, from, "invalid UTF-8 in template text");
        return false;
    }
    push_part(t)->text = s;
    return true;
}

/* Position of the "}}" closing a hole whose body starts at `i`, or len when there is none.
 * Quoted string literals are skipped so "{{ '}}' }}" works. */
static size_t find_close(const char *src, size_t len, size_t i) {
    while (i < len) {
        char c = src[i];
        if (c == '\'' || c == '"') {
            size_t k = i + 1;
            while (k < len && src[k] != c) k += src[k] == '\\' ? 2 : 1;
            if (k >= len) return len;
            i = k + 1;
        } else if (c == '}' && i + 1 < len && src[i + 1] == '}') {
            return i;
        } else {
            i++;
        }
    }
    return len;
}

tmpl_t *tmpl_parse(const char *src, size_t len, expr_error_t *err) {
    if (!src) len = 0, src = "";
    tmpl_t *t = xcalloc(1, sizeof *t);
    size_t i = 0, text_from = 0;
    while (i + 1 < len) {
        if (src[i] != '{' || src[i + 1] != '{') {
            i++;
            continue;
        }
        size_t body = i + 2, close = find_close(src, len, body);
        if (close >= len) {
            set_err(err, i, "unclosed '{{' (no matching '}}')");
            goto fail;
        }
        if (!add_text(t, src, text_from, i, err)) goto fail;
        expr_t *e = expr_parse_at(src + body, close - body, body, err);
        if (!e) goto fail;
        push_part(t)->expr = e;
        i = text_from = close + 2;
    }
    if (!add_text(t, src, text_from, len, err)) goto fail;
    t->single = t->n == 1 && t->parts[0].expr;
    return t;
fail:
    tmpl_free(t);
    return NULL;
}

bool tmpl_is_literal(const tmpl_t *t) {
    for (size_t i = 0; t && i < t->n; i++)
        if (t->parts[i].expr) return false;
    return true;
}

/* Mixed text and holes: every hole formatted into one string. */
static int render_mixed(const tmpl_t *t, const expr_scope_t *scope, json_t **out,
                        expr_error_t *err) {
    strbuf_t sb = {0};
    for (size_t i = 0; i < t->n; i++) {
        const part_t *p = &t->parts[i];
        if (p->text) {
            sb_append(&sb, json_string_value(p->text), json_string_length(p->text));
            continue;
        }
        json_t *v;
        if (expr_eval(p->expr, scope, &v, err) < 0) {
            sb_free(&sb);
            return -1;
        }
        if (json_is_string(v)) { /* by length: the string may hold NUL bytes */
            sb_append(&sb, json_string_value(v), json_string_length(v));
        } else {
            char *f = expr_format(v);
            sb_puts(&sb, f);
            free(f);
        }
        json_decref(v);
    }
    *out = json_stringn(sb_str(&sb), sb.len);
    sb_free(&sb);
    if (!*out) {
        set_err(err, 0, "rendered text is not valid UTF-8");
        return -1;
    }
    return 0;
}

int tmpl_render(const tmpl_t *t, const expr_scope_t *scope, json_t **out, expr_error_t *err) {
    json_t *scratch = NULL;
    if (!out) out = &scratch;
    *out = NULL;
    if (!t) {
        set_err(err, 0, "no template");
        return -1;
    }
    int rc =
        t->single ? expr_eval(t->parts[0].expr, scope, out, err) : render_mixed(t, scope, out, err);
    json_decref(scratch);
    return rc;
}

void tmpl_visit_refs(const tmpl_t *t, expr_ref_fn fn, void *ud) {
    for (size_t i = 0; t && i < t->n; i++) expr_visit_refs(t->parts[i].expr, fn, ud);
}

void tmpl_visit_paths(const tmpl_t *t, expr_path_fn fn, void *ud) {
    for (size_t i = 0; t && i < t->n; i++) expr_visit_paths(t->parts[i].expr, fn, ud);
}

int tmpl_render_str(const char *src, const expr_scope_t *scope, json_t **out, expr_error_t *err) {
    if (out) *out = NULL;
    tmpl_t *t = tmpl_parse(src, src ? strlen(src) : 0, err);
    if (!t) return -1;
    int rc = tmpl_render(t, scope, out, err);
    tmpl_free(t);
    return rc;
}

static json_t *render_deep(const json_t *in, const expr_scope_t *scope, expr_error_t *err) {
    json_t *r = NULL;
    switch (json_typeof(in)) {
    case JSON_STRING: {
        tmpl_t *t = tmpl_parse(json_string_value(in), json_string_length(in), err);
        if (t && tmpl_render(t, scope, &r, err) < 0) r = NULL;
        tmpl_free(t);
        return r;
    }
    case JSON_ARRAY:
        r = json_array();
        for (size_t i = 0; i < json_array_size(in); i++) {
            json_t *v = render_deep(json_array_get(in, i), scope, err);
            if (!v) {
                json_decref(r);
                return NULL;
            }
            json_array_append_new(r, v);
        }
        return r;
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *val;
        r = json_object();
        json_object_keylen_foreach((json_t *)in, key, klen, val) {
            json_t *v = render_deep(val, scope, err);
            if (!v) {
                json_decref(r);
                return NULL;
            }
            json_object_setn_new(r, key, klen, v);
        }
        return r;
    }
    default:
        return json_incref((json_t *)in);
    }
}

int tmpl_render_value(const json_t *in, const expr_scope_t *scope, json_t **out,
                      expr_error_t *err) {
    json_t *r = in ? render_deep(in, scope, err) : NULL;
    if (!in) set_err(err, 0, "no value");
    if (out)
        *out = r;
    else
        json_decref(r);
    return r ? 0 : -1;
}

/* The callback always gets a non-NULL err (message "" on success), and t only for the
 * duration of the call. */
static void check_deep(const json_t *in, tmpl_check_fn check, void *ud) {
    if (json_is_string(in)) {
        expr_error_t err = {0};
        tmpl_t *t = tmpl_parse(json_string_value(in), json_string_length(in), &err);
        if (t) err = (expr_error_t){0};
        check(ud, in, t, &err);
        tmpl_free(t);
    } else if (json_is_array(in)) {
        for (size_t i = 0; i < json_array_size(in); i++)
            check_deep(json_array_get(in, i), check, ud);
    } else if (json_is_object(in)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)in, key, val) check_deep(val, check, ud);
    }
}

void tmpl_check_value(const json_t *in, tmpl_check_fn check, void *ud) {
    if (in && check) check_deep(in, check, ud);
}
