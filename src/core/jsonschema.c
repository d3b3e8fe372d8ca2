/* jsonschema.c - the validator and the schema checker of jsonschema.h.
 *
 * Both walk a schema recursively with a depth counter, so a hostile schema can cost at most
 * JSONSCHEMA_MAX_DEPTH stack frames. The location of a problem is kept as a JSON pointer in a
 * fixed buffer (no allocation on the happy path); the first problem found is reported. */
#include "core/jsonschema.h"
#include "core/diag.h"
#include "core/jsonschema_format.h"
#include "core/jsonschema_regex.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Equality of enum/const values recurses into the values themselves, whose depth jansson's
 * parser already bounds at 2048; programmatic values deeper than this compare unequal. */
#define VALUE_MAX_DEPTH 2048

/* ---------------------------------------------------------------------------------------- */
/* Paths */

typedef struct ctx {
    char path[512];
    size_t len;
    int truncated; /* segments that did not fit; printed as one "/…" */
    char *err;
    size_t errlen;
    char *where; /* when set, receives the path of the first problem */
    size_t wherelen;
} ctx_t;

#define PUSH_TRUNCATED ((size_t)-1)

/* Appends one pointer segment (escaping ~ and / as RFC 6901 says); returns what pop needs. */
static size_t path_push_n(ctx_t *c, const char *seg, size_t n) {
    size_t need = 1;
    for (size_t i = 0; i < n; i++) need += (seg[i] == '~' || seg[i] == '/') ? 2 : 1;
    /* Once a segment is dropped every deeper one is too, or the path would skip a level. */
    if (c->truncated || c->len + need + 1 > sizeof c->path) {
        c->truncated++;
        return PUSH_TRUNCATED;
    }
    size_t saved = c->len;
    c->path[c->len++] = '/';
    for (size_t i = 0; i < n; i++) {
        if (seg[i] == '~' || seg[i] == '/') {
            c->path[c->len++] = '~';
            c->path[c->len++] = seg[i] == '~' ? '0' : '1';
        } else {
            c->path[c->len++] = seg[i];
        }
    }
    c->path[c->len] = '\0';
    return saved;
}

static size_t path_push(ctx_t *c, const char *seg) { return path_push_n(c, seg, strlen(seg)); }

static size_t path_push_index(ctx_t *c, size_t i) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%zu", i);
    return path_push_n(c, buf, (size_t)n);
}

static void path_pop(ctx_t *c, size_t saved) {
    if (saved == PUSH_TRUNCATED) {
        c->truncated--;
        return;
    }
    c->len = saved;
    c->path[c->len] = '\0';
}

/* Cuts a trailing partial UTF-8 sequence so a truncated message stays valid UTF-8 (messages
 * end up in JSON events, and jansson refuses invalid UTF-8). */
static void utf8_trim_tail(char *s, size_t len) {
    size_t i = len, back = 0;
    while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0) return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0x80 && want != back + 1) s[i - 1] = '\0';
}

static int fail(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ctx_t *c, const char *fmt, ...) {
    if (c->where && c->wherelen) snprintf(c->where, c->wherelen, "%s", c->path);
    if (!c->err || !c->errlen) return -1;
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_trim_tail(msg, strlen(msg));
    /* The words matter more than a deep path: when both do not fit, the path loses its tail
     * (whole segments, then "/…") so the message itself stays readable. */
    size_t plen = c->len, mlen = strlen(msg);
    bool cut = c->truncated > 0;
    size_t room = c->errlen > mlen + 8 ? c->errlen - 1 - mlen - 2 : 0; /* 2 for ": " */
    if (plen + (cut ? 4 : 0) > room) {
        size_t keep = room > 4 ? room - 4 : 0;
        while (keep > 0 && c->path[keep] != '/') keep--;
        plen = keep;
        cut = true;
    }
    snprintf(c->err, c->errlen, "%.*s%s: %s", (int)plen, c->path, cut ? "/…" : (plen ? "" : "/"),
             msg);
    utf8_trim_tail(c->err, strlen(c->err));
    return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* Values */

typedef struct num {
    bool is_int;
    json_int_t i;
    double d;
} num_t;

static bool get_num(const json_t *v, num_t *out) {
    if (json_is_integer(v)) {
        out->is_int = true;
        out->i = json_integer_value(v);
        out->d = (double)out->i;
        return true;
    }
    if (json_is_real(v)) {
        out->is_int = false;
        out->i = 0;
        out->d = json_real_value(v);
        return true;
    }
    return false;
}

/* Exact comparison of an integer with a double: converting the integer to double would round
 * above 2^53 and could let 9007199254740993 pass a maximum of 9007199254740992. */
static int cmp_int_double(json_int_t i, double d) {
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    double fl = floor(d);
    json_int_t di = (json_int_t)fl;
    if (i < di) return -1;
    if (i > di) return 1;
    return d > fl ? -1 : 0;
}

static int num_cmp(num_t a, num_t b) {
    if (a.is_int && b.is_int) return a.i < b.i ? -1 : a.i > b.i;
    if (a.is_int) return cmp_int_double(a.i, b.d);
    if (b.is_int) return -cmp_int_double(b.i, a.d);
    return a.d < b.d ? -1 : a.d > b.d;
}

/* The shortest of %.15g/%.17g that reads back exactly: 0.1 prints as 0.1, not 0.10000000000000001.
 */
static void fmt_num(num_t n, char *buf, size_t len) {
    if (n.is_int) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, n.i);
        return;
    }
    snprintf(buf, len, "%.15g", n.d);
    double back = 0;
    if (sscanf(buf, "%lf", &back) != 1 || back != n.d) snprintf(buf, len, "%.17g", n.d);
}

typedef struct bounded {
    char *buf;
    size_t len, cap;
    bool full;
} bounded_t;

static int bounded_cb(const char *s, size_t n, void *ud) {
    bounded_t *b = ud;
    size_t room = b->cap - 1 - b->len;
    if (n > room) {
        memcpy(b->buf + b->len, s, room);
        b->len += room;
        b->full = true;
        return -1; /* stop dumping: the rest would be cut anyway */
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    return 0;
}

/* A short, valid-UTF-8 rendering of a value for messages. Dumping stops once the buffer is
 * full, so a huge value costs no more than a small one. */
static void preview(const json_t *v, char *out, size_t cap) {
    num_t n;
    if (get_num(v, &n)) {
        fmt_num(n, out, cap);
        return;
    }
    char tmp[96];
    bounded_t b = {tmp, 0, sizeof tmp, false};
    json_dump_callback(v, bounded_cb, &b, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
    tmp[b.len] = '\0';
    if (b.full) utf8_trim_tail(tmp, b.len);
    snprintf(out, cap, "%s%s", tmp, b.full ? "…" : "");
    utf8_trim_tail(out, strlen(out));
}

/* The length of an object key, which may hold NULs of its own. */
static size_t key_len(const char *k) {
    return json_object_iter_key_len(json_object_key_to_iter(k));
}

static void preview_key(const char *k, char *out, size_t cap) {
    json_t *ks = json_stringn(k, key_len(k));
    if (ks)
        preview(ks, out, cap);
    else
        snprintf(out, cap, "\"?\"");
    json_decref(ks);
}

static const char *type_of(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/* JSON Schema equality: numbers compare by value (1 == 1.0), objects ignore key order. */
static bool values_equal(const json_t *a, const json_t *b, int depth) {
    if (depth > VALUE_MAX_DEPTH) return false;
    num_t na, nb;
    if (get_num(a, &na) && get_num(b, &nb)) return num_cmp(na, nb) == 0;
    if (json_typeof(a) != json_typeof(b)) return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b)) return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!values_equal(json_array_get(a, i), json_array_get(b, i), depth + 1)) return false;
        return true;
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b)) return false;
        const char *k;
        json_t *va;
        json_object_foreach((json_t *)a, k, va) {
            const json_t *vb = json_object_get(b, k);
            if (!vb || !values_equal(va, vb, depth + 1)) return false;
        }
        return true;
    }
    default:
        return true; /* true, false, null: same type is same value */
    }
}

static size_t utf8_length(const char *s, size_t n) {
    size_t cps = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) cps++;
    return cps;
}

/* A non-negative integer keyword value (minLength, minItems, ...); 2.0 counts as 2. */
static bool get_count(const json_t *v, json_int_t *out) {
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d >= 0 && d == floor(d)) {
            *out = d >= 9.2e18 ? (json_int_t)9.2e18 : (json_int_t)d;
            return true;
        }
    }
    return false;
}

static const char *const TYPE_NAMES[] = {"null",   "boolean", "integer", "number",
                                         "string", "array",   "object"};

static bool is_type_name(const char *s) {
    for (size_t i = 0; i < sizeof TYPE_NAMES / sizeof *TYPE_NAMES; i++)
        if (!strcmp(s, TYPE_NAMES[i])) return true;
    return false;
}

static bool value_has_type(const json_t *v, const char *t) {
    if (!strcmp(t, "number")) return json_is_number(v);
    if (!strcmp(t, "integer")) {
        if (json_is_integer(v)) return true;
        return json_is_real(v) && json_real_value(v) == floor(json_real_value(v));
    }
    if (!strcmp(t, "boolean")) return json_is_boolean(v);
    if (!strcmp(t, "null")) return json_is_null(v);
    if (!strcmp(t, "string")) return json_is_string(v);
    if (!strcmp(t, "array")) return json_is_array(v);
    if (!strcmp(t, "object")) return json_is_object(v);
    return false;
}

/* ---------------------------------------------------------------------------------------- */
/* Validation */

static int v_schema(ctx_t *c, const json_t *s, const json_t *v, int depth);

static int v_type(ctx_t *c, const json_t *t, const json_t *v) {
    char want[160] = "";
    size_t wl = 0;
    if (json_is_string(t)) {
        if (value_has_type(v, json_string_value(t))) return 0;
        snprintf(want, sizeof want, "%s", json_string_value(t));
    } else if (json_is_array(t)) {
        size_t i;
        json_t *e;
        json_array_foreach(t, i, e) {
            if (!json_is_string(e)) continue;
            if (value_has_type(v, json_string_value(e))) return 0;
            if (wl < sizeof want) {
                int n = snprintf(want + wl, sizeof want - wl, "%s%s", wl ? " or " : "",
                                 json_string_value(e));
                if (n > 0) wl += (size_t)n;
            }
        }
        if (!wl) return 0; /* no usable names: malformed, jsonschema_check reports it */
    } else {
        return 0;
    }
    utf8_trim_tail(want, strlen(want));
    if (json_is_object(v) || json_is_array(v))
        return fail(c, "expected %s, got %s", want, type_of(v));
    char pv[128];
    preview(v, pv, sizeof pv);
    return fail(c, "expected %s, got %s %s", want, type_of(v), pv);
}

static int v_number(ctx_t *c, const json_t *s, num_t n) {
    char a[64], b[64];
    num_t lim;
    const json_t *exmin = json_object_get(s, "exclusiveMinimum");
    const json_t *exmax = json_object_get(s, "exclusiveMaximum");
    if (get_num(json_object_get(s, "minimum"), &lim)) {
        bool ex = json_is_true(exmin); /* draft 4: a boolean modifier of minimum */
        int r = num_cmp(n, lim);
        if (r < 0 || (ex && r == 0)) {
            fmt_num(n, a, sizeof a);
            fmt_num(lim, b, sizeof b);
            return ex ? fail(c, "%s is not greater than the exclusive minimum %s", a, b)
                      : fail(c, "%s is less than the minimum %s", a, b);
        }
    }
    if (get_num(json_object_get(s, "maximum"), &lim)) {
        bool ex = json_is_true(exmax);
        int r = num_cmp(n, lim);
        if (r > 0 || (ex && r == 0)) {
            fmt_num(n, a, sizeof a);
            fmt_num(lim, b, sizeof b);
            return ex ? fail(c, "%s is not less than the exclusive maximum %s", a, b)
                      : fail(c, "%s is greater than the maximum %s", a, b);
        }
    }
    if (get_num(exmin, &lim) && num_cmp(n, lim) <= 0) {
        fmt_num(n, a, sizeof a);
        fmt_num(lim, b, sizeof b);
        return fail(c, "%s is not greater than the exclusive minimum %s", a, b);
    }
    if (get_num(exmax, &lim) && num_cmp(n, lim) >= 0) {
        fmt_num(n, a, sizeof a);
        fmt_num(lim, b, sizeof b);
        return fail(c, "%s is not less than the exclusive maximum %s", a, b);
    }
    return 0;
}

static int v_string(ctx_t *c, const json_t *s, const json_t *v) {
    json_int_t lim;
    size_t cps = utf8_length(json_string_value(v), json_string_length(v));
    char pv[128];
    if (get_count(json_object_get(s, "minLength"), &lim) && (json_int_t)cps < lim) {
        preview(v, pv, sizeof pv);
        return fail(c, "%s is shorter than the minimum length %" JSON_INTEGER_FORMAT, pv, lim);
    }
    if (get_count(json_object_get(s, "maxLength"), &lim) && (json_int_t)cps > lim) {
        preview(v, pv, sizeof pv);
        return fail(c, "%s is longer than the maximum length %" JSON_INTEGER_FORMAT, pv, lim);
    }
    const json_t *pat = json_object_get(s, "pattern");
    if (json_is_string(pat)) {
        char why[192], pp[128];
        int r =
            jsonschema_regex_search(json_string_value(pat), json_string_length(pat),
                                    json_string_value(v), json_string_length(v), why, sizeof why);
        if (r != 1) {
            preview(v, pv, sizeof pv);
            preview(pat, pp, sizeof pp);
            return r == 0 ? fail(c, "%s does not match the pattern %s", pv, pp)
                          : fail(c, "the pattern %s %s", pp, why);
        }
    }
    const char *format = json_string_value(json_object_get(s, "format"));
    if (format && !jsonschema_format_valid(format, json_string_value(v), json_string_length(v))) {
        preview(v, pv, sizeof pv);
        return fail(c, "%s is not a valid %s (format)", pv, format);
    }
    return 0;
}

static int v_array(ctx_t *c, const json_t *s, const json_t *v, int depth) {
    json_int_t lim;
    size_t n = json_array_size(v);
    if (get_count(json_object_get(s, "minItems"), &lim) && (json_int_t)n < lim)
        return fail(c, "array has %zu item%s, fewer than the minimum %" JSON_INTEGER_FORMAT, n,
                    n == 1 ? "" : "s", lim);
    if (get_count(json_object_get(s, "maxItems"), &lim) && (json_int_t)n > lim)
        return fail(c, "array has %zu item%s, more than the maximum %" JSON_INTEGER_FORMAT, n,
                    n == 1 ? "" : "s", lim);
    const json_t *items = json_object_get(s, "items");
    if (!items || !(json_is_object(items) || json_is_boolean(items))) return 0;
    for (size_t i = 0; i < n; i++) {
        size_t saved = path_push_index(c, i);
        int r = v_schema(c, items, json_array_get(v, i), depth + 1);
        path_pop(c, saved);
        if (r) return r;
    }
    return 0;
}

static int v_object(ctx_t *c, const json_t *s, const json_t *v, int depth) {
    const json_t *req = json_object_get(s, "required");
    size_t i;
    json_t *e;
    if (json_is_array(req)) {
        json_array_foreach(req, i, e) {
            if (json_is_string(e) && !json_object_get(v, json_string_value(e)))
                return fail(c, "missing required property \"%s\"", json_string_value(e));
        }
    }
    const json_t *props = json_object_get(s, "properties");
    if (!json_is_object(props)) props = NULL;
    const json_t *pprops = json_object_get(s, "patternProperties");
    if (!json_is_object(pprops)) pprops = NULL;
    const json_t *addl = json_object_get(s, "additionalProperties");
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val) {
        size_t klen = key_len(k);
        const json_t *sub = props ? json_object_getn(props, k, klen) : NULL;
        bool matched = sub != NULL;
        size_t saved = path_push_n(c, k, klen);
        int r = sub ? v_schema(c, sub, val, depth + 1) : 0;
        /* Every patternProperties entry whose pattern matches the name applies, on top of
         * properties; additionalProperties covers only the names neither of them named. */
        const char *pk;
        json_t *psub;
        json_object_foreach((json_t *)pprops, pk, psub) {
            if (r) break;
            char why[192], pp[128];
            int m = jsonschema_regex_search(pk, key_len(pk), k, klen, why, sizeof why);
            if (m < 0) {
                preview_key(pk, pp, sizeof pp);
                r = fail(c, "the patternProperties pattern %s %s", pp, why);
            } else if (m == 1) {
                matched = true;
                r = v_schema(c, psub, val, depth + 1);
            }
        }
        if (!r && !matched && json_is_object(addl)) r = v_schema(c, addl, val, depth + 1);
        path_pop(c, saved);
        if (r) return r;
        /* Said of the object, as before patternProperties: the name is in the message. */
        if (!matched && json_is_false(addl))
            return fail(c, "property \"%s\" is not allowed (additionalProperties is false)", k);
    }
    return 0;
}

static int v_schema(ctx_t *c, const json_t *s, const json_t *v, int depth) {
    if (depth > JSONSCHEMA_MAX_DEPTH)
        return fail(c, "schema nesting deeper than %d levels", JSONSCHEMA_MAX_DEPTH);
    if (json_is_true(s)) return 0;
    if (json_is_false(s)) return fail(c, "no value is allowed here (the schema is false)");
    if (!json_is_object(s)) return 0; /* malformed: jsonschema_check reports it */

    const json_t *t = json_object_get(s, "type");
    if (t && v_type(c, t, v)) return -1;

    char pv[128], pe[128];
    const json_t *cst = json_object_get(s, "const");
    if (cst && !values_equal(cst, v, 0)) {
        preview(v, pv, sizeof pv);
        preview(cst, pe, sizeof pe);
        return fail(c, "%s is not equal to the constant %s", pv, pe);
    }
    const json_t *en = json_object_get(s, "enum");
    if (json_is_array(en)) {
        bool found = false;
        for (size_t i = 0; i < json_array_size(en) && !found; i++)
            found = values_equal(json_array_get(en, i), v, 0);
        if (!found) {
            preview(v, pv, sizeof pv);
            preview(en, pe, sizeof pe);
            return fail(c, "%s is not one of %s", pv, pe);
        }
    }

    num_t n;
    if (get_num(v, &n)) return v_number(c, s, n);
    if (json_is_string(v)) return v_string(c, s, v);
    if (json_is_array(v)) return v_array(c, s, v, depth);
    if (json_is_object(v)) return v_object(c, s, v, depth);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Checking a schema */

/* Keywords of JSON Schema (drafts 4 to 2020-12) that constrain or structure values but that this
 * validator does not implement. Ignoring them would let outputs through that the author meant
 * to reject, so a schema using one is refused, with a message naming the keyword. */
static const char *const UNSUPPORTED[] = {
    "$ref",
    "$defs",
    "definitions",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$recursiveAnchor",
    "$vocabulary",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "prefixItems",
    "additionalItems",
    "contains",
    "minContains",
    "maxContains",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
    "extends",
    "disallow",
    "divisibleBy",
};

static int c_schema(ctx_t *c, const json_t *s, int depth);

/* Runs `check` with the keyword appended to the path, so messages point at the keyword. */
#define AT_KEY(key, expr)                                                                          \
    do {                                                                                           \
        size_t saved_ = path_push(c, (key));                                                       \
        int r_ = (expr);                                                                           \
        path_pop(c, saved_);                                                                       \
        if (r_) return r_;                                                                         \
    } while (0)

static int c_type(ctx_t *c, const json_t *t) {
    if (json_is_string(t)) {
        if (is_type_name(json_string_value(t))) return 0;
        char pv[128];
        preview(t, pv, sizeof pv);
        return fail(c, "%s is not a type (null, boolean, integer, number, string, array, object)",
                    pv);
    }
    if (!json_is_array(t) || json_array_size(t) == 0)
        return fail(c, "must be a type name or a non-empty array of type names");
    size_t i;
    json_t *e;
    json_array_foreach(t, i, e) {
        if (json_is_string(e) && is_type_name(json_string_value(e))) {
            for (size_t j = 0; j < i; j++)
                if (json_equal(json_array_get(t, j), e)) {
                    size_t saved = path_push_index(c, i);
                    fail(c, "type \"%s\" is listed twice", json_string_value(e));
                    path_pop(c, saved);
                    return -1;
                }
            continue;
        }
        size_t saved = path_push_index(c, i);
        char pv[128];
        preview(e, pv, sizeof pv);
        fail(c, "%s is not a type (null, boolean, integer, number, string, array, object)", pv);
        path_pop(c, saved);
        return -1;
    }
    return 0;
}

static int c_count(ctx_t *c, const json_t *v) {
    json_int_t n;
    return get_count(v, &n) ? 0 : fail(c, "must be a non-negative integer");
}

static int c_number(ctx_t *c, const json_t *v, bool bool_ok) {
    if (json_is_number(v) || (bool_ok && json_is_boolean(v))) return 0;
    return fail(c, bool_ok ? "must be a number (or a boolean, as in draft 4)" : "must be a number");
}

static int c_properties(ctx_t *c, const json_t *props, int depth) {
    if (!json_is_object(props)) return fail(c, "must be an object mapping names to schemas");
    const char *k;
    json_t *sub;
    json_object_foreach((json_t *)props, k, sub) AT_KEY(k, c_schema(c, sub, depth + 1));
    return 0;
}

/* Compiles the pattern now, so one that does not compile is refused with the schema (when a
 * workflow is validated or loaded), not met while checking a model's answer; compiling also
 * fills the cache matching uses. */
static int c_pattern(ctx_t *c, const char *pat, size_t len) {
    char why[192];
    if (jsonschema_regex_check(pat, len, why, sizeof why) == 0) return 0;
    return fail(c, "the pattern %s", why);
}

static int c_pattern_properties(ctx_t *c, const json_t *pp, int depth) {
    if (!json_is_object(pp))
        return fail(c, "must be an object mapping regular expressions to schemas");
    const char *k;
    json_t *sub;
    json_object_foreach((json_t *)pp, k, sub) {
        size_t saved = path_push_n(c, k, key_len(k));
        int r = c_pattern(c, k, key_len(k));
        if (!r) r = c_schema(c, sub, depth + 1);
        path_pop(c, saved);
        if (r) return r;
    }
    return 0;
}

static int c_format(ctx_t *c, const json_t *v) {
    if (!json_is_string(v)) return fail(c, "must be a string");
    const char *f = json_string_value(v);
    if (jsonschema_format_known(f)) return 0;
    /* An unknown format would check nothing, which is what the author did not ask for. */
    char pv[128];
    preview(v, pv, sizeof pv);
    const char *near = diag_suggest(f, JSONSCHEMA_FORMATS, JSONSCHEMA_N_FORMATS);
    if (near) return fail(c, "format %s is not supported (did you mean \"%s\"?)", pv, near);
    return fail(c, "format %s is not supported; Baton checks date-time, email, uri and uuid", pv);
}

static int c_required(ctx_t *c, const json_t *req) {
    if (!json_is_array(req)) return fail(c, "must be an array of property names");
    size_t i;
    json_t *e;
    json_array_foreach(req, i, e) {
        if (json_is_string(e)) continue;
        size_t saved = path_push_index(c, i);
        fail(c, "must be a string (a property name), got %s", type_of(e));
        path_pop(c, saved);
        return -1;
    }
    return 0;
}

static int c_items(ctx_t *c, const json_t *v, int depth) {
    if (json_is_array(v))
        return fail(c, "the array form of items is not supported; use one schema");
    return c_schema(c, v, depth + 1);
}

static int c_enum(ctx_t *c, const json_t *v) {
    return json_is_array(v) && json_array_size(v) > 0 ? 0 : fail(c, "must be a non-empty array");
}

/* Pairs of bounds that no value can satisfy are almost always typos; say so at load time. */
static int c_bounds(ctx_t *c, const json_t *s) {
    static const char *const pairs[][2] = {
        {"minLength", "maxLength"},      {"minItems", "maxItems"},
        {"minimum", "maximum"},          {"exclusiveMinimum", "maximum"},
        {"minimum", "exclusiveMaximum"}, {"exclusiveMinimum", "exclusiveMaximum"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        num_t lo, hi;
        if (!get_num(json_object_get(s, pairs[i][0]), &lo) ||
            !get_num(json_object_get(s, pairs[i][1]), &hi))
            continue;
        bool strict = !strcmp(pairs[i][0], "exclusiveMinimum") ||
                      !strcmp(pairs[i][1], "exclusiveMaximum") ||
                      (!strcmp(pairs[i][0], "minimum") &&
                       json_is_true(json_object_get(s, "exclusiveMinimum"))) ||
                      (!strcmp(pairs[i][1], "maximum") &&
                       json_is_true(json_object_get(s, "exclusiveMaximum")));
        int r = num_cmp(lo, hi);
        if (r > 0 || (strict && r == 0)) {
            char a[64], b[64];
            fmt_num(lo, a, sizeof a);
            fmt_num(hi, b, sizeof b);
            AT_KEY(pairs[i][0],
                   fail(c, "%s %s leaves no room under %s %s", pairs[i][0], a, pairs[i][1], b));
        }
    }
    /* A required property that additionalProperties: false forbids can never be present. */
    const json_t *req = json_object_get(s, "required");
    const json_t *props = json_object_get(s, "properties");
    if (json_is_false(json_object_get(s, "additionalProperties")) && json_is_array(req)) {
        size_t i;
        json_t *e;
        json_array_foreach(req, i, e) {
            const char *name = json_string_value(e);
            if (name && !json_object_get(props, name)) {
                size_t s1 = path_push(c, "required");
                size_t s2 = path_push_index(c, i);
                fail(c,
                     "required property \"%s\" is not in properties and additionalProperties is "
                     "false",
                     name);
                path_pop(c, s2);
                path_pop(c, s1);
                return -1;
            }
        }
    }
    return 0;
}

/* Keywords accepted with any value: annotations, which change no verdict, and const (any JSON
 * value is a valid const). */
static const char *const ANNOTATIONS[] = {
    "title",    "description", "default",  "examples",  "$schema", "$id",
    "$comment", "deprecated",  "readOnly", "writeOnly", "const",
};
/* Every keyword this validator knows, for "did you mean". */
static const char *const KNOWN[] = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "patternProperties",
    "format",
    "title",
    "description",
    "default",
    "examples",
    "$schema",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
};

static int c_schema(ctx_t *c, const json_t *s, int depth) {
    if (depth > JSONSCHEMA_MAX_DEPTH)
        return fail(c, "schema nesting deeper than %d levels", JSONSCHEMA_MAX_DEPTH);
    if (json_is_boolean(s)) return 0;
    if (!json_is_object(s))
        return fail(c, "a schema must be an object or a boolean, got %s", type_of(s));

    const char *k;
    json_t *v;
    json_object_foreach((json_t *)s, k, v) {
        if (!strcmp(k, "type"))
            AT_KEY(k, c_type(c, v));
        else if (!strcmp(k, "properties"))
            AT_KEY(k, c_properties(c, v, depth));
        else if (!strcmp(k, "required"))
            AT_KEY(k, c_required(c, v));
        else if (!strcmp(k, "additionalProperties"))
            AT_KEY(k, c_schema(c, v, depth + 1));
        else if (!strcmp(k, "items"))
            AT_KEY(k, c_items(c, v, depth));
        else if (!strcmp(k, "enum"))
            AT_KEY(k, c_enum(c, v));
        else if (!strcmp(k, "minimum") || !strcmp(k, "maximum"))
            AT_KEY(k, c_number(c, v, false));
        else if (!strcmp(k, "exclusiveMinimum") || !strcmp(k, "exclusiveMaximum"))
            AT_KEY(k, c_number(c, v, true));
        else if (!strcmp(k, "minLength") || !strcmp(k, "maxLength") || !strcmp(k, "minItems") ||
                 !strcmp(k, "maxItems"))
            AT_KEY(k, c_count(c, v));
        else if (!strcmp(k, "pattern"))
            AT_KEY(k, json_is_string(v) ? c_pattern(c, json_string_value(v), json_string_length(v))
                                        : fail(c, "must be a string"));
        else if (!strcmp(k, "patternProperties"))
            AT_KEY(k, c_pattern_properties(c, v, depth));
        else if (!strcmp(k, "format"))
            AT_KEY(k, c_format(c, v));
        else {
            for (size_t i = 0; i < sizeof UNSUPPORTED / sizeof *UNSUPPORTED; i++)
                if (!strcmp(k, UNSUPPORTED[i]))
                    AT_KEY(k, fail(c, "keyword \"%s\" is not supported by Baton's validator", k));
            /* JSON Schema ignores unknown keywords, but here a schema is written by hand next
             * to a workflow: "maxLenght" silently checking nothing is a trap. Annotations and
             * x- extensions pass; anything else is an error with the closest keyword. */
            bool known = !strncmp(k, "x-", 2);
            for (size_t i = 0; !known && i < sizeof ANNOTATIONS / sizeof *ANNOTATIONS; i++)
                known = !strcmp(k, ANNOTATIONS[i]);
            if (!known) {
                const char *near = diag_suggest(k, KNOWN, sizeof KNOWN / sizeof *KNOWN);
                AT_KEY(k, near ? fail(c, "unknown keyword \"%s\" (did you mean \"%s\"?)", k, near)
                               : fail(c, "unknown keyword \"%s\"", k));
            }
        }
    }
    return c_bounds(c, s);
}

int jsonschema_check_at(const json_t *schema, char *err, size_t errlen, char *where,
                        size_t wherelen) {
    ctx_t c = {.err = err, .errlen = errlen, .where = where, .wherelen = wherelen};
    if (err && errlen) err[0] = '\0';
    if (where && wherelen) where[0] = '\0';
    if (!schema) return fail(&c, "no schema");
    return c_schema(&c, schema, 0);
}

int jsonschema_check(const json_t *schema, char *err, size_t errlen) {
    return jsonschema_check_at(schema, err, errlen, NULL, 0);
}

int jsonschema_validate(const json_t *schema, const json_t *value, char *err, size_t errlen) {
    ctx_t c = {.err = err, .errlen = errlen};
    if (err && errlen) err[0] = '\0';
    if (!schema) return 0;
    /* The schema is checked on every call: a keyword outside the subset, a pattern that does not
     * compile or an unknown format is an error here too, never silently skipped, whether or not
     * the caller checked the schema before (schemas from the API are not). Schemas are small and
     * their patterns are cached, so this costs little next to a model call. */
    char why[320];
    if (jsonschema_check(schema, why, sizeof why)) {
        if (err && errlen) {
            snprintf(err, errlen, "invalid schema: %s", why);
            utf8_trim_tail(err, strlen(err));
        }
        return -1;
    }
    if (!value) return fail(&c, "no value");
    return v_schema(&c, schema, value, 0);
}
