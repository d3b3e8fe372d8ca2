#include "core/yaml_tree.h"
#include "core/workflow.h"
#include "util/xalloc.h"

#include <yaml.h>

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small open-addressing hash, used for anchors and for duplicate keys of big mappings ---- */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

typedef struct anchor_slot {
    const char *name; /* arena copy; NULL = empty slot */
    yt_node_t *node;
} anchor_slot_t;

typedef struct anchor_map {
    anchor_slot_t *slots;
    size_t cap, n;
} anchor_map_t;

static anchor_slot_t *anchor_find(anchor_map_t *m, const char *name) {
    if (!m->cap) return NULL;
    size_t i = hash_bytes(name, strlen(name)) & (m->cap - 1);
    while (m->slots[i].name) {
        if (!strcmp(m->slots[i].name, name)) return &m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    return &m->slots[i];
}

static void anchor_put(anchor_map_t *m, arena_t *a, const char *name, yt_node_t *node) {
    if ((m->n + 1) * 2 > m->cap) {
        anchor_map_t bigger = {.cap = m->cap ? m->cap * 2 : 16};
        bigger.slots = xcalloc(bigger.cap, sizeof *bigger.slots);
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].name) {
                anchor_slot_t *s = anchor_find(&bigger, m->slots[i].name);
                *s = m->slots[i];
                bigger.n++;
            }
        free(m->slots);
        *m = bigger;
    }
    anchor_slot_t *s = anchor_find(m, name);
    if (!s->name) {
        s->name = arena_strdup(a, name);
        m->n++;
    }
    s->node = node; /* YAML: an alias names the most recent node with that anchor */
}

/* ---- parsing ---- */

typedef struct frame {
    yt_node_t *node;
    yt_node_t **kids; /* for a mapping: key, value, key, value, ... */
    size_t n, cap;
    char *anchor; /* registered when the node is complete, so aliases cannot form cycles */
} frame_t;

typedef struct pctx {
    yaml_tree_t *t;
    const char *file;
    diag_list_t *dl;
    frame_t frames[WF_MAX_DEPTH];
    int depth;
    anchor_map_t anchors;
    size_t soft; /* problems reported that do not stop the parse */
    bool fatal;
} pctx_t;

/* A file of 100,000 duplicate keys is one problem repeated: report the first ones only. */
#define MAX_SOFT_DIAGS 1000

static void soft_diag(pctx_t *c, src_loc_t loc, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void soft_diag(pctx_t *c, src_loc_t loc, const char *hint, const char *fmt, ...) {
    if (c->soft++ >= MAX_SOFT_DIAGS) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_add(c->dl, c->file, loc, hint, "%s", msg);
}

static src_loc_t mark_loc(yaml_mark_t m) {
    return (src_loc_t){(uint32_t)m.line + 1, (uint32_t)m.column + 1};
}

static bool is_core_tag(const char *tag, const char *what) {
    static const char prefix[] = "tag:yaml.org,2002:";
    return !strncmp(tag, prefix, sizeof prefix - 1) && !strcmp(tag + sizeof prefix - 1, what);
}

static bool tag_forces_string(const char *tag) {
    return tag && (!strcmp(tag, "!") || is_core_tag(tag, "str"));
}

static const char *check_tag(pctx_t *c, const char *tag, yt_kind_t kind, src_loc_t loc) {
    if (!tag) return NULL;
    bool ok;
    if (kind == YT_SCALAR)
        ok = tag_forces_string(tag) || is_core_tag(tag, "int") || is_core_tag(tag, "float") ||
             is_core_tag(tag, "bool") || is_core_tag(tag, "null");
    else
        ok = !strcmp(tag, "!") || is_core_tag(tag, kind == YT_SEQ ? "seq" : "map");
    if (!ok) {
        soft_diag(c, loc, "remove the tag; workflows use plain YAML values",
                  "unsupported YAML tag '%s'", tag);
        return NULL;
    }
    return arena_strdup(&c->t->arena, tag);
}

static void add_child(pctx_t *c, yt_node_t *n) {
    if (c->depth == 0) {
        if (!c->t->root) c->t->root = n;
        return;
    }
    frame_t *f = &c->frames[c->depth - 1];
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->kids = xrealloc(f->kids, f->cap * sizeof *f->kids);
    }
    f->kids[f->n++] = n;
}

static uint32_t sat_add(uint32_t a, uint32_t b) { return a > UINT32_MAX - b ? UINT32_MAX : a + b; }

static bool key_equal(const yt_node_t *a, const yt_node_t *b) {
    return a->scalar.len == b->scalar.len && !memcmp(a->scalar.str, b->scalar.str, a->scalar.len);
}

static void report_dup(pctx_t *c, const yt_node_t *first, const yt_node_t *again) {
    soft_diag(c, again->loc, "each key may appear once in a mapping",
              "duplicate key '%.100s' (first at line %u)", again->scalar.str, first->loc.line);
}

/* Drops pairs whose key repeats an earlier one, reporting each; returns the new count. */
static size_t dedupe_pairs(pctx_t *c, yt_pair_t *p, size_t n) {
    size_t out = 0;
    if (n <= 16) { /* the common case: a quadratic scan beats building a table */
        for (size_t i = 0; i < n; i++) {
            size_t j = 0;
            while (j < out && !key_equal(p[j].key, p[i].key)) j++;
            if (j < out)
                report_dup(c, p[j].key, p[i].key);
            else
                p[out++] = p[i];
        }
        return out;
    }
    size_t cap = 32;
    while (cap < n * 2) cap *= 2;
    size_t *slot = xmalloc(cap * sizeof *slot); /* index + 1 into the kept pairs; 0 = empty */
    memset(slot, 0, cap * sizeof *slot);
    for (size_t i = 0; i < n; i++) {
        size_t h = hash_bytes(p[i].key->scalar.str, p[i].key->scalar.len) & (cap - 1);
        while (slot[h] && !key_equal(p[slot[h] - 1].key, p[i].key)) h = (h + 1) & (cap - 1);
        if (slot[h]) {
            report_dup(c, p[slot[h] - 1].key, p[i].key);
            continue;
        }
        p[out] = p[i];
        slot[h] = ++out;
    }
    free(slot);
    return out;
}

/* A key must be a NUL-free scalar; `<<` merge keys are refused. Returns false to drop the pair. */
static bool check_key(pctx_t *c, const yt_node_t *map, const yt_node_t *k) {
    if (k->kind != YT_SCALAR) {
        /* `prompt: {{ x }}` parses as a flow mapping whose key is another mapping: the usual
         * way to get here, so say how to fix that. */
        bool braces = k->kind == YT_MAP && map->loc.line == k->loc.line;
        soft_diag(c, k->loc,
                  braces ? "a value starting with '{{' must be quoted: \"{{ expr }}\""
                         : "use a plain string as the key",
                  braces ? "unquoted template: YAML reads '{{' as a mapping"
                         : "mapping keys must be strings, not %s",
                  yaml_tree_describe(k));
        return false;
    }
    if (strlen(k->scalar.str) != k->scalar.len) {
        soft_diag(c, k->loc, NULL, "mapping key contains a NUL character");
        return false;
    }
    if (k->style == YT_PLAIN && !k->tag && !strcmp(k->scalar.str, "<<")) {
        soft_diag(c, k->loc, "repeat the keys, or use an alias (*name) for the whole value",
                  "YAML merge keys ('<<') are not supported");
        return false;
    }
    return true;
}

static void finish_collection(pctx_t *c) {
    frame_t *f = &c->frames[--c->depth];
    yt_node_t *n = f->node;
    uint32_t count = 1;
    uint16_t h = 0;
    for (size_t i = 0; i < f->n; i++) {
        count = sat_add(count, f->kids[i]->count);
        if (f->kids[i]->height > h) h = f->kids[i]->height;
    }
    n->count = count;
    n->height = (uint16_t)(h + 1);
    if (n->kind == YT_SEQ) {
        n->seq.n = f->n;
        n->seq.items = arena_alloc(&c->t->arena, f->n * sizeof *n->seq.items);
        if (f->n) memcpy(n->seq.items, f->kids, f->n * sizeof *n->seq.items);
    } else {
        size_t np = f->n / 2, kept = 0;
        yt_pair_t *p = arena_alloc(&c->t->arena, np * sizeof *p);
        for (size_t i = 0; i < np; i++)
            if (check_key(c, n, f->kids[2 * i]))
                p[kept++] = (yt_pair_t){f->kids[2 * i], f->kids[2 * i + 1]};
        n->map.pairs = p;
        n->map.n = dedupe_pairs(c, p, kept);
    }
    if (f->anchor) anchor_put(&c->anchors, &c->t->arena, f->anchor, n);
    free(f->anchor);
    f->anchor = NULL;
    f->n = 0; /* the kids buffer is kept for the next collection at this depth */
    add_child(c, n);
}

static void start_collection(pctx_t *c, yt_kind_t kind, const yaml_event_t *ev) {
    src_loc_t loc = mark_loc(ev->start_mark);
    if (c->depth >= WF_MAX_DEPTH) {
        diag_add(c->dl, c->file, loc, "flatten the document", "nesting deeper than %d levels",
                 WF_MAX_DEPTH);
        c->fatal = true;
        return;
    }
    const yaml_char_t *anchor =
        kind == YT_SEQ ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
    const yaml_char_t *tag =
        kind == YT_SEQ ? ev->data.sequence_start.tag : ev->data.mapping_start.tag;
    yt_node_t *n = arena_alloc(&c->t->arena, sizeof *n);
    n->kind = (uint8_t)kind;
    n->loc = loc;
    n->tag = check_tag(c, (const char *)tag, kind, loc);
    frame_t *f = &c->frames[c->depth++];
    f->node = n;
    f->n = 0;
    f->anchor = anchor ? xstrdup((const char *)anchor) : NULL;
}

static void add_scalar(pctx_t *c, const yaml_event_t *ev) {
    src_loc_t loc = mark_loc(ev->start_mark);
    size_t len = ev->data.scalar.length;
    if (len > WF_MAX_STRING) {
        diag_add(c->dl, c->file, loc, "keep large content in artifacts or inputs given at run time",
                 "string longer than %u KiB", WF_MAX_STRING >> 10);
        c->fatal = true;
        return;
    }
    yt_node_t *n = arena_alloc(&c->t->arena, sizeof *n);
    n->kind = YT_SCALAR;
    n->count = 1;
    n->loc = loc;
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        n->style = YT_SINGLE_QUOTED;
        break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        n->style = YT_DOUBLE_QUOTED;
        break;
    case YAML_LITERAL_SCALAR_STYLE:
        n->style = YT_LITERAL;
        break;
    case YAML_FOLDED_SCALAR_STYLE:
        n->style = YT_FOLDED;
        break;
    default:
        n->style = YT_PLAIN;
        break;
    }
    n->tag = check_tag(c, (const char *)ev->data.scalar.tag, YT_SCALAR, loc);
    n->scalar.str = arena_strndup(&c->t->arena, (const char *)ev->data.scalar.value, len);
    n->scalar.len = len;
    if (ev->data.scalar.anchor)
        anchor_put(&c->anchors, &c->t->arena, (const char *)ev->data.scalar.anchor, n);
    add_child(c, n);
}

static void add_alias(pctx_t *c, const yaml_event_t *ev) {
    src_loc_t loc = mark_loc(ev->start_mark);
    const char *name = (const char *)ev->data.alias.anchor;
    anchor_slot_t *s = anchor_find(&c->anchors, name);
    if (!s || !s->name) {
        soft_diag(c, loc, "define the anchor (&name) on a complete value before its use",
                  "unknown YAML anchor '%.100s'", name);
        yt_node_t *n = arena_alloc(&c->t->arena, sizeof *n); /* stands in as null */
        n->kind = YT_SCALAR;
        n->count = 1;
        n->loc = loc;
        n->scalar.str = "";
        add_child(c, n);
        return;
    }
    yt_node_t *target = s->node;
    c->t->expanded += target->count;
    if (c->t->expanded > WF_MAX_ALIAS_NODES) {
        diag_add(c->dl, c->file, loc, "repeat less through aliases",
                 "YAML aliases expand to more than %d nodes", WF_MAX_ALIAS_NODES);
        c->fatal = true;
        return;
    }
    /* Shared, not copied; it must still fit under the depth limit where it is used, which keeps
     * every later recursive walk as shallow as the limit. */
    if (c->depth + target->height > WF_MAX_DEPTH) {
        diag_add(c->dl, c->file, loc, "flatten the document",
                 "nesting deeper than %d levels (through an alias)", WF_MAX_DEPTH);
        c->fatal = true;
        return;
    }
    add_child(c, target);
}

/* ---- source positions ---- */

static bool is_unicode_break(const unsigned char *p, size_t left, size_t *w) {
    if (left >= 2 && p[0] == 0xC2 && p[1] == 0x85) return *w = 2, true; /* NEL */
    if (left >= 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9))
        return *w = 3, true; /* LS, PS */
    return false;
}

/* Line starts as libyaml counts lines (CRLF, CR, LF and the Unicode breaks), after a BOM. */
static void build_lines(yaml_tree_t *t) {
    if (t->line_starts) return;
    const unsigned char *s = (const unsigned char *)t->text;
    size_t len = t->len, cap = 64, n = 0;
    uint32_t *ls = xmalloc(cap * sizeof *ls);
    size_t i = (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) ? 3 : 0;
    ls[n++] = (uint32_t)i;
    while (i < len) {
        size_t w = 0;
        if (s[i] == '\r')
            w = (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
        else if (s[i] == '\n')
            w = 1;
        else if (!is_unicode_break(s + i, len - i, &w))
            w = 0;
        if (!w) {
            i++;
            continue;
        }
        i += w;
        if (n == cap) ls = xrealloc(ls, (cap *= 2) * sizeof *ls);
        ls[n++] = (uint32_t)i;
    }
    t->line_starts = ls;
    t->n_lines = n;
}

/* Byte index of a location, or (size_t)-1 when it is outside the text. */
static size_t loc_to_byte(yaml_tree_t *t, src_loc_t loc) {
    build_lines(t);
    if (loc.line == 0 || loc.line > t->n_lines) return (size_t)-1;
    size_t p = t->line_starts[loc.line - 1];
    size_t end = loc.line < t->n_lines ? t->line_starts[loc.line] : t->len;
    for (uint32_t col = 1; col < loc.col && p < end; col++) {
        p++;
        while (p < end && ((unsigned char)t->text[p] & 0xC0) == 0x80) p++;
    }
    return p;
}

static src_loc_t byte_to_loc(yaml_tree_t *t, size_t off) {
    build_lines(t);
    size_t lo = 0, hi = t->n_lines; /* last line whose start <= off */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (t->line_starts[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    uint32_t col = 1;
    for (size_t p = t->line_starts[lo]; p < off && p < t->len; p++)
        if (((unsigned char)t->text[p] & 0xC0) != 0x80) col++;
    return (src_loc_t){(uint32_t)lo + 1, col};
}

static void step(const char *text, size_t len, size_t *s, src_loc_t *at) {
    unsigned char b = (unsigned char)text[*s];
    if (b == '\n' || (b == '\r' && !(*s + 1 < len && text[*s + 1] == '\n'))) {
        at->line++;
        at->col = 1;
    } else if (b != '\r' && (b & 0xC0) != 0x80) {
        at->col++;
    }
    (*s)++;
}

static size_t utf8_width(unsigned char b) { return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4; }

src_loc_t yaml_tree_offset_loc(yaml_tree_t *t, const yt_node_t *n, size_t offset) {
    if (n->kind != YT_SCALAR || !t->text) return n->loc;
    const char *text = t->text, *val = n->scalar.str;
    size_t len = t->len, vlen = n->scalar.len, v, s;
    src_loc_t at;
    if (offset > vlen) offset = vlen;
    if (t->walk_cache.node == n && t->walk_cache.v <= offset) {
        v = t->walk_cache.v;
        s = t->walk_cache.s;
        at = t->walk_cache.at;
    } else {
        s = loc_to_byte(t, n->loc);
        if (s == (size_t)-1) return n->loc;
        at = n->loc;
        v = 0;
        if (n->style == YT_SINGLE_QUOTED || n->style == YT_DOUBLE_QUOTED) {
            if (s < len) step(text, len, &s, &at);
        } else if (n->style == YT_LITERAL || n->style == YT_FOLDED) {
            /* Content starts on the line after the `|` or `>` header. */
            while (s < len && text[s] != '\n' && text[s] != '\r') step(text, len, &s, &at);
            if (s < len && text[s] == '\r') step(text, len, &s, &at);
            if (s < len && text[s] == '\n') step(text, len, &s, &at);
        }
    }
    /* Walk the value and the source together: equal bytes advance both; source whitespace
     * (indentation, folded line breaks) is skipped; value whitespace that folding produced is
     * skipped; escapes consume several source bytes for one value character. */
    while (v < offset && s < len) {
        char sc = text[s], vc = val[v];
        if (n->style == YT_DOUBLE_QUOTED && sc == '\\' && s + 1 < len) {
            char e = text[s + 1];
            if (e == '\n' || e == '\r') { /* escaped line break: contributes nothing */
                step(text, len, &s, &at);
                continue;
            }
            size_t w = e == 'x' ? 4 : e == 'u' ? 6 : e == 'U' ? 10 : 2;
            for (size_t i = 0; i < w && s < len; i++) step(text, len, &s, &at);
            v += utf8_width((unsigned char)vc);
            continue;
        }
        if (n->style == YT_SINGLE_QUOTED && sc == '\'' && s + 1 < len && text[s + 1] == '\'' &&
            vc == '\'') {
            step(text, len, &s, &at);
            step(text, len, &s, &at);
            v++;
            continue;
        }
        if (sc == vc) {
            step(text, len, &s, &at);
            v++;
        } else if (sc == ' ' || sc == '\t' || sc == '\n' || sc == '\r') {
            step(text, len, &s, &at);
        } else if (vc == ' ' || vc == '\n' || vc == '\t') {
            v++;
        } else {
            break; /* cannot align: the position reached is the best answer */
        }
    }
    t->walk_cache.node = n;
    t->walk_cache.v = v;
    t->walk_cache.s = s;
    t->walk_cache.at = at;
    return at;
}

/* ---- syntax errors ---- */

static const char *syntax_hint(yaml_tree_t *t, const yaml_parser_t *p, src_loc_t loc) {
    const char *pr = p->problem ? p->problem : "";
    if (p->error == YAML_READER_ERROR)
        return strstr(pr, "control") ? "remove control characters (NUL, escape codes...)"
                                     : "save the file as UTF-8";
    if (strstr(pr, "tab")) return "indent with spaces; YAML does not allow tabs there";
    if (strstr(pr, "cannot start any token")) {
        size_t b = loc_to_byte(t, loc);
        char ch = b < t->len ? t->text[b] : 0;
        if (ch == '\t') return "indent with spaces; YAML does not allow tabs there";
        if (ch == '@' || ch == '`') return "quote values that start with '@' or '`'";
        return "quote the value";
    }
    if (strstr(pr, "mapping values are not allowed"))
        return "quote values that contain ': ', or check the indentation";
    if (strstr(pr, "did not find expected key") || strstr(pr, "expected '-'") ||
        strstr(pr, "did not find expected node content"))
        return "check the indentation of this line and the one before";
    if (strstr(pr, "could not find expected ':'"))
        return "a key needs ': ' after it; quote strings that contain ':' or '#'";
    if (strstr(pr, "unknown escape"))
        return "inside double quotes write a backslash as \\\\, or use single quotes";
    if (strstr(pr, "end of stream")) return "a quote or bracket is not closed";
    return NULL;
}

static void report_syntax(pctx_t *c, const yaml_parser_t *p) {
    yaml_tree_t *t = c->t;
    const char *problem = p->problem ? p->problem : "cannot parse";
    src_loc_t loc = mark_loc(p->problem_mark);
    if (p->error == YAML_READER_ERROR) {
        /* libyaml points at the byte that broke a UTF-8 sequence; the user needs its start. */
        size_t off = p->problem_offset;
        const unsigned char *s = (const unsigned char *)t->text;
        if (strstr(problem, "UTF-8"))
            for (size_t back = 1; back <= 3 && off >= back && off - back < t->len; back++)
                if (s[off - back] >= 0xC0) {
                    off -= back;
                    break;
                }
        loc = byte_to_loc(t, off);
    }
    const char *hint = syntax_hint(t, p, loc);
    if (p->error == YAML_READER_ERROR && strstr(problem, "control") && p->problem_value >= 0)
        diag_add(c->dl, c->file, loc, hint, "invalid YAML: %s (byte 0x%02X)", problem,
                 (unsigned)p->problem_value & 0xFFu);
    else if (p->context)
        diag_add(c->dl, c->file, loc, hint, "invalid YAML: %s (%s at line %zu, column %zu)",
                 problem, p->context, p->context_mark.line + 1, p->context_mark.column + 1);
    else
        diag_add(c->dl, c->file, loc, hint, "invalid YAML: %s", problem);
}

int yaml_tree_parse(yaml_tree_t *t, const char *text, size_t len, const char *file,
                    diag_list_t *dl) {
    memset(t, 0, sizeof *t);
    arena_init(&t->arena, 64 << 10);
    t->text = text;
    t->len = len;
    if (len > WF_MAX_DOC_BYTES) {
        diag_add(dl, file, (src_loc_t){0, 0}, "split the workflow, or use subflows",
                 "document is larger than %u MiB (%zu bytes)", WF_MAX_DOC_BYTES >> 20, len);
        return -1;
    }
    pctx_t *c = xcalloc(1, sizeof *c);
    c->t = t;
    c->file = file;
    c->dl = dl;

    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
    yaml_parser_set_input_string(&p, (const unsigned char *)(text ? text : ""), len);
    int docs = 0;
    bool done = false;
    while (!done && !c->fatal) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            report_syntax(c, &p);
            c->fatal = true;
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                diag_add(dl, file, mark_loc(ev.start_mark),
                         "keep one workflow per file; remove the '---' separator",
                         "expected one YAML document");
                done = true; /* the first document is still checked */
            }
            break;
        case YAML_SCALAR_EVENT:
            add_scalar(c, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            start_collection(c, YT_SEQ, &ev);
            break;
        case YAML_MAPPING_START_EVENT:
            start_collection(c, YT_MAP, &ev);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (c->depth > 0) finish_collection(c);
            break;
        case YAML_ALIAS_EVENT:
            add_alias(c, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    for (int i = 0; i < WF_MAX_DEPTH; i++) {
        free(c->frames[i].kids);
        free(c->frames[i].anchor);
    }
    free(c->anchors.slots);
    int rc = c->fatal ? -1 : 0;
    if (rc) t->root = NULL; /* a partial tree would only produce confusing follow-up errors */
    free(c);
    return rc;
}

void yaml_tree_free(yaml_tree_t *t) {
    arena_free(&t->arena);
    free(t->line_starts);
    memset(t, 0, sizeof *t);
}

/* ---- values ---- */

const yt_node_t *yaml_tree_get(const yt_node_t *map, const char *key) {
    if (!map || map->kind != YT_MAP) return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < map->map.n; i++) {
        const yt_node_t *k = map->map.pairs[i].key;
        if (k->scalar.len == kl && !memcmp(k->scalar.str, key, kl)) return map->map.pairs[i].value;
    }
    return NULL;
}

static bool all_digits(const char *s, const char *end, int base) {
    if (s == end) return false;
    for (; s < end; s++) {
        int ch = (unsigned char)*s;
        bool ok = base == 16  ? (ch >= '0' && ch <= '9') || ((ch | 32) >= 'a' && (ch | 32) <= 'f')
                  : base == 8 ? ch >= '0' && ch <= '7'
                              : ch >= '0' && ch <= '9';
        if (!ok) return false;
    }
    return true;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool is_core_float(const char *s, const char *end) {
    if (s < end && (*s == '-' || *s == '+')) s++;
    const char *d = s;
    while (s < end && *s >= '0' && *s <= '9') s++;
    bool int_digits = s > d;
    if (s < end && *s == '.') {
        s++;
        const char *f = s;
        while (s < end && *s >= '0' && *s <= '9') s++;
        if (!int_digits && s == f) return false;
    } else if (!int_digits) {
        return false;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '-' || *s == '+')) s++;
        if (!all_digits(s, end, 10)) return false;
        return true;
    }
    return s == end;
}

yt_scalar_type_t yaml_tree_resolve(const yt_node_t *n, long long *iv, double *dv, bool *bv) {
    if (n->kind != YT_SCALAR || tag_forces_string(n->tag)) return YT_STR;
    /* Quoted and block scalars are strings unless a core tag asks for a type. */
    if (n->style != YT_PLAIN && !n->tag) return YT_STR;
    const char *s = n->scalar.str, *end = s + n->scalar.len;
    size_t len = n->scalar.len;
    if (strlen(s) != len) return YT_STR;
    if (!len || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return YT_NULL;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
        if (bv) *bv = true;
        return YT_BOOL;
    }
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
        if (bv) *bv = false;
        return YT_BOOL;
    }
    int base = 0;
    const char *digits = s;
    bool prefixed = len > 2 && s[0] == '0';
    if (prefixed && s[1] == 'x' && all_digits(s + 2, end, 16))
        base = 16, digits += 2;
    else if (prefixed && s[1] == 'o' && all_digits(s + 2, end, 8))
        base = 8, digits += 2;
    else if (all_digits(s + (*s == '-' || *s == '+'), end, 10))
        base = 10;
    if (base) {
        errno = 0;
        long long v = strtoll(digits, NULL, base);
        if (errno == ERANGE) {
            if (base != 10) return YT_STR; /* a hex literal that large is an identifier */
        } else {
            if (iv) *iv = v;
            if (dv) *dv = (double)v;
            return YT_INT;
        }
    }
    if (is_core_float(s, end)) {
        double d = strtod(s, NULL);
        if (!isfinite(d)) return YT_STR; /* JSON has no infinity */
        if (dv) *dv = d;
        return YT_FLOAT;
    }
    return YT_STR; /* including .inf and .nan, which JSON cannot hold */
}

const char *yaml_tree_describe(const yt_node_t *n) {
    if (n->kind == YT_MAP) return "a mapping";
    if (n->kind == YT_SEQ) return "a list";
    switch (yaml_tree_resolve(n, NULL, NULL, NULL)) {
    case YT_NULL:
        return "null";
    case YT_BOOL:
        return "a boolean";
    case YT_INT:
    case YT_FLOAT:
        return "a number";
    default:
        return "a string";
    }
}

json_t *yaml_tree_to_json(const yt_node_t *n) {
    if (n->kind == YT_SEQ) {
        json_t *a = json_array();
        for (size_t i = 0; i < n->seq.n; i++)
            json_array_append_new(a, yaml_tree_to_json(n->seq.items[i]));
        return a;
    }
    if (n->kind == YT_MAP) {
        json_t *o = json_object();
        for (size_t i = 0; i < n->map.n; i++) {
            const yt_node_t *k = n->map.pairs[i].key;
            json_object_setn_new(o, k->scalar.str, k->scalar.len,
                                 yaml_tree_to_json(n->map.pairs[i].value));
        }
        return o;
    }
    long long iv = 0;
    double dv = 0;
    bool bv = false;
    switch (yaml_tree_resolve(n, &iv, &dv, &bv)) {
    case YT_NULL:
        return json_null();
    case YT_BOOL:
        return json_boolean(bv);
    case YT_INT:
        return json_integer(iv);
    case YT_FLOAT:
        return json_real(dv);
    default: {
        /* libyaml hands out valid UTF-8, so this cannot fail; null keeps callers total anyway. */
        json_t *s = json_stringn(n->scalar.str, n->scalar.len);
        return s ? s : json_null();
    }
    }
}
