/* offline_json.c - the offline model's JSON answers: a value generated from the schema.
 *
 * Required and declared properties are all present, enums and bounds are respected, and values
 * are made plausible from the property names (a *score* out of 10 lands at 7..9, all_passed is
 * usually true, *files* look like paths), so conditions in demo workflows take realistic
 * branches. Inputs whose names match a property are passed through when they fit its schema, and
 * a decision-like property states the decision the inputs report (a vote's outcome) or one of
 * the options they list: the offline model never contradicts its own inputs.
 * The caller verifies the result with jsonschema_validate; this file only has to try hard.
 * Work is bounded: at most MAX_NODES values and MAX_BYTES bytes of strings per answer. */
#include "core/jsonschema.h"
#include "llm/offline_internal.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_NODES = 20000, MAX_ITEMS = 1000, MAX_BYTES = 1 << 20, NO_INDEX = -1 };

typedef struct gen {
    const llm_request_t *req;
    offline_rng_t *rng;
    const char *subj;
    size_t nodes, bytes;
    uint32_t salt;      /* per array, so items of one array differ from each other */
    const char *parent; /* the property holding the current object: "findings" for a finding */
    char *err;
    size_t errlen;
} gen_t;

static json_t *gen_fail(gen_t *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *gen_fail(gen_t *g, const char *fmt, ...) {
    if (g->err && g->errlen && !g->err[0]) { /* keep the first, innermost reason */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->err, g->errlen, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

static json_t *gen_value(gen_t *g, const json_t *s, const char *name, int index, int depth);

/* ---------------------------------------------------------------------------------------- */
/* Names */

/* The property name, lowercased and bounded, for the heuristics below. */
static void lname(const char *name, char *out, size_t cap) {
    size_t i = 0;
    for (; name && name[i] && i + 1 < cap; i++) out[i] = (char)tolower((unsigned char)name[i]);
    out[i] = '\0';
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static bool has_any(const char *name, const char *const *words) {
    for (; *words; words++)
        if (strstr(name, *words)) return true;
    return false;
}

#define HAS(name, ...) has_any((name), (const char *const[]){__VA_ARGS__, NULL})

/* ---------------------------------------------------------------------------------------- */
/* Strings */

static size_t cps_len(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Byte offset just past the first `cps` code points. */
static size_t cps_offset(const char *s, size_t n, size_t cps) {
    size_t c = 0, i = 0;
    for (; i < n; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (c == cps) break;
            c++;
        }
    }
    return i;
}

static const char *pick_str(gen_t *g, int index, const char *const *list, size_t n) {
    size_t i = index >= 0 ? (g->salt + (size_t)index) % n : offline_rng_below(g->rng, (uint32_t)n);
    return list[i];
}

#define PICK(g, index, ...)                                                                        \
    pick_str((g), (index), (const char *const[]){__VA_ARGS__},                                     \
             sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void put_sentence(strbuf_t *out, const char *tmpl, const char *subj) {
    offline_put_template(out, tmpl, subj);
    if (out->buf && islower((unsigned char)out->buf[0]))
        out->buf[0] = (char)toupper((unsigned char)out->buf[0]);
}

/* Sentences that fit what a name is about (a reason, an action, an issue, a test). */
static bool sentence_for(gen_t *g, const char *n, int index, strbuf_t *out) {
    const char *subj = g->subj;
    if (HAS(n, "rationale", "reason", "justification", "explanation"))
        put_sentence(
            out,
            PICK(g, index, "The evidence on {s} is consistent and the main risks are understood.",
                 "The work on {s} meets the stated goal; remaining issues are minor.",
                 "Strong inputs and a clear plan for {s}; confidence is reasonably high.",
                 "The benefits for {s} outweigh the costs, and the decision is reversible."),
            subj);
    else if (HAS(n, "recommend", "suggest", "action", "step", "fix", "improve", "todo"))
        put_sentence(out,
                     PICK(g, index, "Add input validation at the boundaries of {s}.",
                          "Cover the error paths of {s} with tests.",
                          "Document the main decisions about {s}.",
                          "Review the open issues of {s} with the owner."),
                     subj);
    else if (HAS(n, "issue", "finding", "problem", "vulnerab", "risk", "bug", "error", "warning"))
        put_sentence(out,
                     PICK(g, index, "Some inputs to {s} are not validated.",
                          "Error handling in {s} is inconsistent.",
                          "One dependency of {s} is outdated.",
                          "Logging in {s} may expose sensitive data."),
                     subj);
    else if (HAS(n, "test", "case", "scenario"))
        put_sentence(out,
                     PICK(g, index, "{s} handles empty input", "{s} rejects malformed data",
                          "{s} recovers after a restart", "{s} works under concurrent use"),
                     subj);
    else
        return false;
    return true;
}

/* Values with a recognisable shape (dates, paths, ids, levels...), by name or format. */
static bool shaped_for(gen_t *g, const json_t *s, const char *n, int index, strbuf_t *out) {
    const char *format = json_string_value(json_object_get(s, "format"));
    if (format && !strcmp(format, "date-time")) {
        sb_printf(out, "2025-03-%02uT%02u:%02u:00Z", 1 + offline_rng_below(g->rng, 28),
                  8 + offline_rng_below(g->rng, 10), offline_rng_below(g->rng, 60));
    } else if ((format && !strcmp(format, "date")) || ends_with(n, "date") || ends_with(n, "_at") ||
               HAS(n, "deadline", "due_date")) {
        sb_printf(out, "2025-03-%02u", 1 + offline_rng_below(g->rng, 28));
    } else if ((format && !strcmp(format, "email")) || HAS(n, "email")) {
        sb_puts(out, PICK(g, index, "team@example.com", "review@example.com", "ops@example.com"));
    } else if ((format && (!strcmp(format, "uri") || !strcmp(format, "url"))) ||
               HAS(n, "url", "link", "href", "website")) {
        sb_printf(out, "https://example.com/%s",
                  PICK(g, index, "guide", "report", "docs", "blog/update", "research"));
    } else if ((format && !strcmp(format, "uuid")) || HAS(n, "uuid", "guid")) {
        uint64_t a = offline_rng_next(g->rng), b = offline_rng_next(g->rng);
        sb_printf(out, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
                  (unsigned)(a >> 16) & 0xFFFF, (unsigned)a & 0xFFF,
                  0x8000u | ((unsigned)(b >> 48) & 0x3FFF),
                  (unsigned long long)(b & 0xFFFFFFFFFFFFull));
    } else if (HAS(n, "file", "path", "module")) {
        sb_puts(out, HAS(n, "test")
                         ? PICK(g, index, "tests/test_core.c", "tests/test_api.c",
                                "tests/test_store.c", "tests/test_auth.c")
                         : PICK(g, index, "src/core/model.c", "src/api/routes.c", "src/store/db.c",
                                "src/auth/session.c", "src/util/config.c", "README.md"));
    } else if (!strcmp(n, "id") || ends_with(n, "_id")) {
        sb_printf(out, "%s-%u", PICK(g, index, "item", "task", "ref"),
                  100 + offline_rng_below(g->rng, 900));
    } else if (HAS(n, "severity", "priority", "impact", "risk_level", "level")) {
        sb_puts(out, PICK(g, index, "medium", "low", "high"));
    } else if (HAS(n, "status", "state")) {
        sb_puts(out, PICK(g, index, "completed", "ok", "ready"));
    } else if (HAS(n, "decision", "verdict")) {
        sb_puts(out, "approve");
    } else if (HAS(n, "version")) {
        sb_printf(out, "1.%u.0", offline_rng_below(g->rng, 10));
    } else if (HAS(n, "language")) {
        sb_puts(out, "en");
    } else if (HAS(n, "tag", "keyword", "label", "categor")) {
        sb_puts(out,
                PICK(g, index, "guide", "analysis", "best-practices", "overview", "case-study"));
    } else if (HAS(n, "title", "headline", "topic", "subject", "name")) {
        put_sentence(out,
                     PICK(g, index, "{s}", "Getting started with {s}", "{s} in practice",
                          "Lessons learned from {s}", "What is next for {s}"),
                     g->subj);
    } else {
        return false;
    }
    return true;
}

/* A string that fits the name; `index` >= 0 for array items. The property's own name decides
 * first; then the parent's, for sentences only (a finding's "description" describes an issue,
 * but the "status" of a file is not a path). */
static void string_for(gen_t *g, const json_t *s, const char *name, int index, strbuf_t *out) {
    char own[64], par[64];
    lname(name, own, sizeof own);
    lname(g->parent, par, sizeof par);
    if (shaped_for(g, s, own, index, out) || sentence_for(g, own, index, out) ||
        (par[0] && sentence_for(g, par, index, out)))
        return;
    if (HAS(own, "summary", "description", "overview", "abstract", "content", "text", "body",
            "detail", "message", "feedback", "note", "comment", "analysis", "answer", "output")) {
        put_sentence(
            out,
            PICK(g, index,
                 "A concise review of {s}: the core is sound and the next steps are clear.",
                 "{s} is on track; the main risks are known and have owners.",
                 "The work on {s} covers the essentials and leaves room to iterate.",
                 "Overall, {s} is ready for the next stage with minor follow-ups."),
            g->subj);
        return;
    }
    char *h = offline_humanize(name && *name ? name : "item");
    if (h[0] && islower((unsigned char)h[0])) h[0] = (char)toupper((unsigned char)h[0]);
    if (index >= 0)
        sb_printf(out, "%s %d for %s", h, index + 1, g->subj);
    else
        sb_printf(out, "%s for %s", h, g->subj);
    free(h);
}

static bool get_count(const json_t *v, size_t *out) {
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        json_int_t i = json_integer_value(v);
        *out = (size_t)(i > (json_int_t)(SIZE_MAX / 2) ? (json_int_t)(SIZE_MAX / 2) : i);
        return true;
    }
    if (json_is_real(v) && json_real_value(v) >= 0 &&
        json_real_value(v) == floor(json_real_value(v))) {
        double d = json_real_value(v);
        *out = d > 1e15 ? (size_t)1e15 : (size_t)d;
        return true;
    }
    return false;
}

static json_t *gen_string(gen_t *g, const json_t *s, const char *name, int index) {
    size_t minl = 0, maxl = SIZE_MAX;
    get_count(json_object_get(s, "minLength"), &minl);
    bool has_max = get_count(json_object_get(s, "maxLength"), &maxl);
    if (has_max && maxl < minl) return gen_fail(g, "maxLength is smaller than minLength");
    if (minl > MAX_BYTES / 4 || g->bytes + minl > MAX_BYTES)
        return gen_fail(g, "the schema asks for more text than the offline model writes");
    strbuf_t sb = {0};
    string_for(g, s, name, index, &sb);
    /* Too short: repeat the phrase; too long: cut at a code point. */
    if (!sb.len) sb_putc(&sb, 'x');
    char *phrase = xstrndup(sb.buf, sb.len);
    size_t plen = sb.len, pcps = cps_len(phrase, plen), total = pcps;
    while (total < minl) {
        sb_putc(&sb, ' ');
        sb_append(&sb, phrase, plen);
        total += 1 + pcps;
    }
    free(phrase);
    if (has_max && cps_len(sb_str(&sb), sb.len) > maxl) {
        size_t cut = cps_offset(sb.buf, sb.len, maxl);
        /* End on a whole word when that still leaves enough text. */
        size_t word = cut;
        while (word > 0 && sb.buf[cut] != ' ' && sb.buf[word - 1] != ' ') word--;
        if (word > 0 && word < cut && cps_len(sb.buf, word - 1) >= (minl ? minl : 1))
            cut = word - 1;
        while (cut > 0 && sb.buf[cut - 1] == ' ' && cps_len(sb.buf, cut - 1) >= minl) cut--;
        sb.len = cut;
        sb.buf[cut] = '\0';
    }
    g->bytes += sb.len;
    json_t *v = json_stringn(sb_str(&sb), sb.len);
    sb_free(&sb);
    return v ? v : gen_fail(g, "could not build a string");
}

/* ---------------------------------------------------------------------------------------- */
/* Numbers and booleans */

typedef struct range {
    bool has_lo, has_hi, lo_ex, hi_ex;
    double lo, hi;
} range_t;

static range_t bounds(const json_t *s) {
    range_t r = {0};
    const json_t *v, *exmin = json_object_get(s, "exclusiveMinimum"),
                     *exmax = json_object_get(s, "exclusiveMaximum");
    if (json_is_number(v = json_object_get(s, "minimum"))) {
        r.has_lo = true;
        r.lo = json_number_value(v);
        r.lo_ex = json_is_true(exmin);
    }
    if (json_is_number(exmin) && (!r.has_lo || json_number_value(exmin) >= r.lo)) {
        r.has_lo = r.lo_ex = true;
        r.lo = json_number_value(exmin);
    }
    if (json_is_number(v = json_object_get(s, "maximum"))) {
        r.has_hi = true;
        r.hi = json_number_value(v);
        r.hi_ex = json_is_true(exmax);
    }
    if (json_is_number(exmax) && (!r.has_hi || json_number_value(exmax) <= r.hi)) {
        r.has_hi = r.hi_ex = true;
        r.hi = json_number_value(exmax);
    }
    return r;
}

/* Where a realistic value of this name lies, before the schema's bounds are applied. */
static void target(gen_t *g, const char *n, range_t r, double *tlo, double *thi) {
    double span = r.has_lo && r.has_hi ? r.hi - r.lo : 0;
    double lo = r.has_lo ? r.lo : 0;
    if (HAS(n, "coverage", "percent", "pct")) {
        bool unit = r.has_hi && r.hi <= 1;
        *tlo = unit ? 0.80 : 80;
        *thi = unit ? 0.95 : 95;
    } else if (HAS(n, "confidence", "probability", "certainty", "likelihood")) {
        double top = r.has_hi && r.hi > 1 ? r.hi : 1;
        *tlo = 0.70 * top;
        *thi = 0.95 * top;
    } else if (HAS(n, "score", "rating", "quality", "grade")) {
        if (r.has_hi) {
            *tlo = lo + 0.7 * (r.hi - lo);
            *thi = lo + 0.9 * (r.hi - lo);
        } else {
            *tlo = 7;
            *thi = 9;
        }
    } else if (HAS(n, "fail", "error", "critical", "vulnerab", "bug", "defect", "blocker")) {
        *tlo = 0;
        *thi = offline_rng_below(g->rng, 5) == 0 ? 2 : 0;
    } else if (HAS(n, "count", "total", "num", "passed", "items", "size")) {
        *tlo = 1;
        *thi = 12;
    } else if (HAS(n, "duration", "latency", "_ms", "time", "seconds", "elapsed")) {
        *tlo = 10;
        *thi = 500;
    } else if (HAS(n, "year")) {
        *tlo = 2024;
        *thi = 2025;
    } else if (r.has_lo && r.has_hi) {
        *tlo = r.lo + 0.3 * span;
        *thi = r.lo + 0.8 * span;
    } else if (r.has_lo) {
        *tlo = r.lo;
        *thi = r.lo + 10;
    } else if (r.has_hi) {
        *tlo = r.hi - 10;
        *thi = r.hi;
        if (r.hi > 0 && *tlo < 0) *tlo = 0;
    } else {
        *tlo = 1;
        *thi = 10;
    }
}

static json_t *gen_integer(gen_t *g, const char *n, range_t r) {
    /* Work in doubles clamped inside +-2^63, so no conversion to json_int_t can overflow. */
    const double LIM = 9.2e18;
    double lo = -LIM, hi = LIM;
    if (r.has_lo) lo = r.lo_ex ? floor(r.lo) + 1 : ceil(r.lo);
    if (r.has_hi) hi = r.hi_ex ? ceil(r.hi) - 1 : floor(r.hi);
    if (lo > LIM || hi < -LIM || isnan(lo) || isnan(hi))
        return gen_fail(g, "no integer the offline model can write fits the bounds");
    if (lo < -LIM) lo = -LIM;
    if (hi > LIM) hi = LIM;
    if (lo > hi) return gen_fail(g, "no integer lies within the bounds");
    double tlo, thi;
    target(g, n, r, &tlo, &thi);
    double v = round(tlo + offline_rng_unit(g->rng) * (thi - tlo));
    if (!(v >= lo)) v = lo;
    if (v > hi) v = hi;
    return json_integer((json_int_t)v);
}

static json_t *gen_number(gen_t *g, const char *n, range_t r) {
    double tlo, thi;
    target(g, n, r, &tlo, &thi);
    double v = tlo + offline_rng_unit(g->rng) * (thi - tlo);
    /* Round like a person would: one decimal on wide scales, two on narrow ones (0.85). */
    double scale = fabs(thi - tlo) > 5 ? 10 : 100;
    if (fabs(v) < 1e12) v = round(v * scale) / scale;
    bool below = r.has_lo && (v < r.lo || (r.lo_ex && v <= r.lo));
    bool above = r.has_hi && (v > r.hi || (r.hi_ex && v >= r.hi));
    if (below || above) {
        if (r.has_lo && r.has_hi)
            v = r.lo / 2 + r.hi / 2; /* no overflow at +-DBL_MAX */
        else if (r.has_lo)
            v = r.lo_ex ? r.lo + fmax(1, fabs(r.lo) * 1e-9) : r.lo;
        else
            v = r.hi_ex ? r.hi - fmax(1, fabs(r.hi) * 1e-9) : r.hi;
    }
    if (!isfinite(v)) return gen_fail(g, "no number the offline model can write fits the bounds");
    return json_real(v);
}

static json_t *gen_boolean(gen_t *g, const char *n) {
    uint32_t roll = offline_rng_below(g->rng, 10);
    if (HAS(n, "fail", "error", "block", "breaking", "critical", "vulnerab", "reject", "abort"))
        return json_boolean(roll == 0);
    if (HAS(n, "pass", "approv", "success", "ok", "valid", "accept", "ready", "complete",
            "compliant", "safe", "consensus", "publish"))
        return json_boolean(roll != 0);
    return json_boolean(roll < 7);
}

/* ---------------------------------------------------------------------------------------- */
/* Containers */

/* Properties of the i-th item of an array get index i too, so items differ from each other. */
static json_t *gen_object(gen_t *g, const json_t *s, const char *name, int index, int depth) {
    json_t *obj = json_object();
    const char *saved_parent = g->parent;
    g->parent = name;
    const json_t *props = json_object_get(s, "properties");
    const json_t *addl = json_object_get(s, "additionalProperties");
    const char *k;
    json_t *sub;
    if (json_is_object(props)) {
        json_object_foreach((json_t *)props, k, sub) {
            json_t *v = gen_value(g, sub, k, index, depth + 1);
            if (!v) goto fail;
            json_object_set_new(obj, k, v);
        }
    }
    const json_t *req = json_object_get(s, "required");
    size_t i;
    json_t *e;
    if (json_is_array(req)) {
        json_array_foreach(req, i, e) {
            const char *pname = json_string_value(e);
            if (!pname || json_object_get(obj, pname)) continue;
            if (json_is_false(addl)) {
                gen_fail(g, "required property \"%s\" is forbidden by additionalProperties", pname);
                goto fail;
            }
            json_t *v = gen_value(g, json_is_object(addl) ? addl : NULL, pname, index, depth + 1);
            if (!v) goto fail;
            json_object_set_new(obj, pname, v);
        }
    }
    g->parent = saved_parent;
    return obj;
fail:
    g->parent = saved_parent;
    json_decref(obj);
    return NULL;
}

static json_t *gen_array(gen_t *g, const json_t *s, const char *name, int depth) {
    size_t min = 0, max = SIZE_MAX;
    get_count(json_object_get(s, "minItems"), &min);
    bool has_max = get_count(json_object_get(s, "maxItems"), &max);
    if (has_max && max < min) return gen_fail(g, "maxItems is smaller than minItems");
    if (min > MAX_ITEMS)
        return gen_fail(g, "minItems %zu is more than the offline model writes", min);
    size_t n = 1 + offline_rng_below(g->rng, 3);
    if (n < min) n = min;
    if (has_max && n > max) n = max;
    const json_t *items = json_object_get(s, "items");
    json_t *arr = json_array();
    uint32_t saved = g->salt;
    g->salt = offline_rng_below(g->rng, 1000);
    for (size_t i = 0; i < n; i++) {
        json_t *v = gen_value(g, items, name, (int)i, depth + 1);
        if (!v) {
            json_decref(arr);
            g->salt = saved;
            return NULL;
        }
        json_array_append_new(arr, v);
    }
    g->salt = saved;
    return arr;
}

/* ---------------------------------------------------------------------------------------- */
/* Dispatch */

static json_t *gen_typed(gen_t *g, const json_t *s, const char *type, const char *name, int index,
                         int depth) {
    char n[64];
    lname(name, n, sizeof n);
    if (!strcmp(type, "object")) return gen_object(g, s, name, index, depth);
    if (!strcmp(type, "array")) return gen_array(g, s, name, depth);
    if (!strcmp(type, "string")) return gen_string(g, s, name, index);
    if (!strcmp(type, "integer")) return gen_integer(g, n, bounds(s));
    if (!strcmp(type, "number")) return gen_number(g, n, bounds(s));
    if (!strcmp(type, "boolean")) return gen_boolean(g, n);
    if (!strcmp(type, "null")) return json_null();
    return gen_fail(g, "unknown type \"%s\"", type);
}

/* The type to write when the schema names none: what its keywords imply, else the name. */
static const char *implied_type(const json_t *s, const char *name) {
    char n[64];
    lname(name, n, sizeof n);
    if (json_object_get(s, "properties") || json_object_get(s, "required") ||
        json_object_get(s, "additionalProperties"))
        return "object";
    if (json_object_get(s, "items") || json_object_get(s, "minItems") ||
        json_object_get(s, "maxItems"))
        return "array";
    if (json_object_get(s, "minimum") || json_object_get(s, "maximum") ||
        json_is_number(json_object_get(s, "exclusiveMinimum")) ||
        json_is_number(json_object_get(s, "exclusiveMaximum")))
        return "number";
    if (json_object_get(s, "minLength") || json_object_get(s, "maxLength")) return "string";
    if (HAS(n, "passed", "approved", "success", "is_", "has_")) return "boolean";
    if (HAS(n, "score", "confidence", "coverage", "count")) return "number";
    return "string";
}

/* An input of the same name is what the author most likely wants echoed back. */
static json_t *from_inputs(gen_t *g, const json_t *s, const char *name) {
    if (!name || !json_is_object(g->req->inputs)) return NULL;
    const json_t *v = json_object_get(g->req->inputs, name);
    if (!v || jsonschema_validate(s, v, NULL, 0) != 0) return NULL;
    return json_deep_copy(v);
}

/* A decision-like property never contradicts its inputs: it is the decision they say was
 * reached (a vote's outcome, offline_reached_decision), else one of the options they list, when
 * that fits its schema. NULL: nothing to follow (the generators decide). */
static json_t *decided(gen_t *g, const json_t *s, const char *name) {
    char n[64];
    lname(name, n, sizeof n);
    if (!name || !HAS(n, "decision", "verdict", "outcome")) return NULL;
    const char *reached = offline_reached_decision(g->req->inputs);
    if (reached) {
        json_t *v = json_string(reached);
        if (v && jsonschema_validate(s, v, NULL, 0) == 0) return v;
        json_decref(v);
    }
    const json_t *opts = json_object_get(g->req->inputs, "options");
    size_t n_opts = json_array_size(opts), fits = 0;
    const json_t *ok[16];
    for (size_t i = 0; i < n_opts && fits < 16; i++) {
        const json_t *o = json_array_get(opts, i);
        if (json_is_string(o) && json_string_length(o) && !jsonschema_validate(s, o, NULL, 0))
            ok[fits++] = o;
    }
    return fits ? json_deep_copy(ok[offline_rng_below(g->rng, (uint32_t)fits)]) : NULL;
}

static json_t *gen_value(gen_t *g, const json_t *s, const char *name, int index, int depth) {
    if (depth > JSONSCHEMA_MAX_DEPTH)
        return gen_fail(g, "schema nesting deeper than %d levels", JSONSCHEMA_MAX_DEPTH);
    if (++g->nodes > MAX_NODES)
        return gen_fail(g, "the schema asks for a value larger than the offline model writes");
    if (json_is_false(s)) return gen_fail(g, "the schema false accepts no value");
    if (s && !json_is_object(s) && !json_is_true(s)) return gen_fail(g, "malformed schema");
    const json_t *sch = json_is_object(s) ? s : NULL; /* NULL: anything goes */

    json_t *v = index < 0 ? from_inputs(g, sch, name) : NULL;
    if (!v && index < 0) v = decided(g, sch, name);
    if (v) return v;
    const json_t *c = sch ? json_object_get(sch, "const") : NULL;
    if (c) return json_deep_copy(c);
    const json_t *en = sch ? json_object_get(sch, "enum") : NULL;
    if (json_is_array(en)) {
        /* Half the time the first option (usually the expected one), else any that fits. */
        size_t n = json_array_size(en), fits = 0, chosen = SIZE_MAX;
        uint32_t roll = offline_rng_below(g->rng, 2);
        uint32_t want = offline_rng_below(g->rng, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            if (jsonschema_validate(sch, json_array_get(en, i), NULL, 0)) continue;
            if (chosen == SIZE_MAX || (roll && fits <= want)) chosen = i;
            fits++;
        }
        if (chosen == SIZE_MAX)
            return gen_fail(g, "no value of the enum fits the rest of its schema");
        return json_deep_copy(json_array_get(en, chosen));
    }
    const json_t *def = sch ? json_object_get(sch, "default") : NULL;
    if (def && !jsonschema_validate(sch, def, NULL, 0)) return json_deep_copy(def);

    const json_t *t = sch ? json_object_get(sch, "type") : NULL;
    if (json_is_string(t)) return gen_typed(g, sch, json_string_value(t), name, index, depth);
    if (json_is_array(t) && json_array_size(t)) {
        /* Prefer a real value to null; fall back through the list when one cannot be made. */
        for (int pass = 0; pass < 2; pass++) {
            size_t i;
            json_t *e;
            json_array_foreach(t, i, e) {
                const char *tn = json_string_value(e);
                if (!tn || (pass == 0) == !strcmp(tn, "null")) continue;
                v = gen_typed(g, sch, tn, name, index, depth);
                if (v) return v;
            }
        }
        return NULL;
    }
    return gen_typed(g, sch, implied_type(sch, name), name, index, depth);
}

json_t *offline_json_value(const llm_request_t *req, offline_rng_t *rng, char *err, size_t errlen) {
    char *subj = offline_subject(req->inputs, req->task_id, NULL);
    gen_t g = {.req = req, .rng = rng, .subj = subj, .err = err, .errlen = errlen};
    if (err && errlen) err[0] = '\0';
    json_t *schema = (json_t *)req->schema, *own = NULL;
    if (!schema) {
        /* No schema: a small, useful object rather than a bare string. */
        own = json_pack("{s:s, s:{s:{s:s}, s:{s:s, s:{s:s}, s:i}}, s:[s,s]}", "type", "object",
                        "properties", "summary", "type", "string", "key_points", "type", "array",
                        "items", "type", "string", "minItems", 3, "required", "summary",
                        "key_points");
        schema = own;
    }
    json_t *v = gen_value(&g, schema, NULL, NO_INDEX, 0);
    json_decref(own);
    free(subj);
    return v;
}
