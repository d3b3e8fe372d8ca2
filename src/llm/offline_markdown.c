/* offline_markdown.c - the offline model's documents (markdown, or plain text).
 *
 * A document is built as a title plus sections of lines, each line with a priority; only then
 * is it fitted to word_limit, by dropping whole lines from the least important upwards (and
 * shortening the last one at a word boundary, closing its quote), so a trimmed document is
 * still well-formed markdown. Words are whitespace-separated tokens, markers ("##", "-", "1.")
 * included, exactly as offline_count_words counts them. */
#include "llm/offline_internal.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SECTIONS = 10, MAX_LINES = 12, MAX_CONTEXT_INPUTS = 6 };

typedef enum { LINE_PARA, LINE_BULLET, LINE_NUMBER } line_kind_t;

typedef struct line {
    line_kind_t kind;
    int prio;    /* 0: never dropped, only shortened; the higher, the sooner it goes */
    char *label; /* "**label**:" before the body in markdown, "label:" in text; or NULL */
    char *body;
    bool dropped;
} line_t;

typedef struct section {
    const char *title;
    line_t lines[MAX_LINES];
    size_t n;
} section_t;

typedef struct doc {
    bool markdown;
    char *title;
    section_t sec[MAX_SECTIONS];
    size_t n;
} doc_t;

/* ---------------------------------------------------------------------------------------- */
/* Building */

static section_t *add_section(doc_t *d, const char *title) {
    if (d->n == MAX_SECTIONS) return NULL;
    section_t *s = &d->sec[d->n++];
    s->title = title;
    return s;
}

/* Takes ownership of label and body. */
static void add_line(section_t *s, line_kind_t kind, int prio, char *label, char *body) {
    if (!s || s->n == MAX_LINES || !body) {
        free(label);
        free(body);
        return;
    }
    s->lines[s->n++] = (line_t){.kind = kind, .prio = prio, .label = label, .body = body};
}

static char *from_sb(strbuf_t *sb) { return sb_take(sb); }

static char *template_line(const char *tmpl, const char *subj) {
    strbuf_t sb = {0};
    offline_put_template(&sb, tmpl, subj);
    return from_sb(&sb);
}

/* "Technical architect" -> "technical architect", but "API designer" keeps its capitals. */
static void lower_first(char *s) {
    if (s && isupper((unsigned char)s[0]) && !isupper((unsigned char)s[1]))
        s[0] = (char)tolower((unsigned char)s[0]);
}

static void upper_first(char *s) {
    if (s && islower((unsigned char)s[0])) s[0] = (char)toupper((unsigned char)s[0]);
}

static char *clean_field(const char *s, size_t max_words) {
    return s ? offline_clean_dup(s, strlen(s), max_words, 200) : NULL;
}

static void strip_end_punct(char *s) {
    size_t n = s ? strlen(s) : 0;
    while (n && (s[n - 1] == '.' || s[n - 1] == ' ' || s[n - 1] == '!')) s[--n] = '\0';
}

/* "Turn requirements into an architecture document" -> "Architecture document": the thing a
 * goal produces is the best title; otherwise the profile's kind of document. */
static char *make_title(const char *goal, const offline_profile_t *prof, const char *subj,
                        bool subj_from_inputs) {
    char *t = NULL;
    const char *into = goal ? strcasestr(goal, " into ") : NULL;
    if (into) {
        const char *p = into + 6;
        if (!strncasecmp(p, "a ", 2))
            p += 2;
        else if (!strncasecmp(p, "an ", 3))
            p += 3;
        else if (!strncasecmp(p, "the ", 4))
            p += 4;
        t = offline_clean_dup(p, strlen(p), 6, 80);
        strip_end_punct(t);
        if (t && !*t) {
            free(t);
            t = NULL;
        }
    }
    if (!t) t = xstrdup(prof->doc_noun);
    upper_first(t);
    if (subj_from_inputs && offline_count_words(subj) <= 8) {
        char *s = xstrdup(subj);
        upper_first(s);
        char *full = xasprintf("%s: %s", t, s);
        free(s);
        free(t);
        t = full;
    }
    return t;
}

/* Fills {n} name, {r} role, {s} subject, {g} goal, {d} document noun. */
static char *fill(const char *tmpl, const char *n, const char *r, const char *s, const char *g,
                  const char *dn) {
    strbuf_t sb = {0};
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '{' && p[1] && p[2] == '}') {
            const char *v = p[1] == 'n'   ? n
                            : p[1] == 'r' ? r
                            : p[1] == 's' ? s
                            : p[1] == 'g' ? g
                            : p[1] == 'd' ? dn
                                          : NULL;
            if (v) {
                sb_puts(&sb, v);
                p += 2;
                continue;
            }
        }
        sb_putc(&sb, *p);
    }
    return from_sb(&sb);
}

static void put_number(strbuf_t *sb, const json_t *v) {
    if (json_is_integer(v)) {
        sb_printf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.15g", json_real_value(v));
    sb_puts(sb, buf);
}

static void put_quoted(strbuf_t *sb, const char *s, size_t n, size_t max_words) {
    sb_putc(sb, '"');
    offline_put_clean(sb, s, n, max_words, 40 * max_words);
    sb_putc(sb, '"');
}

static void put_key_list(strbuf_t *sb, const json_t *obj, size_t max) {
    size_t i = 0, n = json_object_size(obj);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (i == max) {
            sb_puts(sb, ", …");
            break;
        }
        sb_puts(sb, i == 0 ? "" : (i + 1 == n ? " and " : ", "));
        put_quoted(sb, k, strlen(k), 4);
        i++;
    }
}

/* One input, as the body of its Context line: short values quoted, long upstream documents
 * summarised by their headings (never copied), containers described by their shape. */
static char *describe_input(const json_t *v, offline_digest_t *dg) {
    strbuf_t sb = {0};
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (!offline_is_document(s, n)) {
            put_quoted(&sb, s, n, 40);
            break;
        }
        offline_digest(s, n, dg);
        if (dg->title) {
            sb_puts(&sb, "upstream document ");
            put_quoted(&sb, dg->title, strlen(dg->title), 10);
            sb_printf(&sb, " (%zu words)", dg->words);
            for (size_t i = 0; i < dg->n_headings && i < 3; i++) {
                sb_puts(&sb, i == 0                                ? " covering "
                             : (i + 1 == dg->n_headings || i == 2) ? " and "
                                                                   : ", ");
                put_quoted(&sb, dg->headings[i], strlen(dg->headings[i]), 8);
            }
        } else {
            put_quoted(&sb, dg->lead ? dg->lead : "", dg->lead ? strlen(dg->lead) : 0, 20);
            sb_printf(&sb, " (%zu words)", dg->words);
        }
        break;
    }
    case JSON_INTEGER:
    case JSON_REAL:
        put_number(&sb, v);
        break;
    case JSON_TRUE:
        sb_puts(&sb, "true");
        break;
    case JSON_FALSE:
        sb_puts(&sb, "false");
        break;
    case JSON_NULL:
        sb_puts(&sb, "none");
        break;
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        sb_printf(&sb, "%zu item%s", n, n == 1 ? "" : "s");
        const json_t *first = json_array_get(v, 0);
        if (json_is_object(first)) {
            sb_puts(&sb, " with ");
            put_key_list(&sb, first, 3);
            break;
        }
        for (size_t i = 0; i < n && i < 3; i++) {
            const json_t *e = json_array_get(v, i);
            sb_puts(&sb, i == 0 ? ": " : ", ");
            if (json_is_string(e))
                put_quoted(&sb, json_string_value(e), json_string_length(e), 8);
            else if (json_is_number(e))
                put_number(&sb, e);
            else
                sb_puts(&sb, json_is_array(e)  ? "a list"
                             : json_is_null(e) ? "none"
                             : json_is_true(e) ? "true"
                                               : "false");
        }
        if (n > 3) sb_puts(&sb, ", …");
        break;
    }
    case JSON_OBJECT:
        if (!json_object_size(v)) {
            sb_puts(&sb, "an empty object");
            break;
        }
        sb_puts(&sb, "an object with ");
        put_key_list(&sb, v, 4);
        break;
    }
    return from_sb(&sb);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted keys, so the output does not depend on the order the inputs were inserted in. */
static const char **sorted_keys(const json_t *obj, size_t *n) {
    *n = json_is_object(obj) ? json_object_size(obj) : 0;
    const char **keys = xcalloc(*n ? *n : 1, sizeof *keys);
    size_t k = 0;
    const char *key;
    json_t *v;
    if (*n) json_object_foreach((json_t *)obj, key, v) keys[k++] = key;
    qsort(keys, k, sizeof *keys, cmp_str);
    return keys;
}

/* k distinct indices of 0..n-1 (k <= n <= 8), in random order. */
static void pick(offline_rng_t *rng, size_t n, size_t k, size_t *out) {
    size_t idx[8];
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + offline_rng_below(rng, (uint32_t)(n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        out[i] = idx[i];
    }
}

static void add_template_section(doc_t *d, const offline_section_tpl_t *tpl, size_t k,
                                 line_kind_t kind, int first_prio, const char *subj,
                                 offline_rng_t *rng) {
    section_t *s = add_section(d, tpl->title);
    size_t chosen[OFFLINE_ITEMS];
    pick(rng, OFFLINE_ITEMS, k, chosen);
    for (size_t i = 0; i < k; i++) {
        int prio = i == 0 ? first_prio : (first_prio > 1 ? first_prio : 1) + (int)i;
        add_line(s, kind, prio > 3 ? 3 : prio, NULL, template_line(tpl->items[chosen[i]], subj));
    }
}

/* A recommendation that follows a decision already reached (offline_reached_decision; {s} is
 * the decision) rather than arguing for one the inputs did not reach. */
static const offline_section_tpl_t decided_recommendation = {
    "Recommendation",
    {"Carry out the decision ({s}), with the open issues tracked as conditions.",
     "Record why the team settled on \"{s}\", where everyone will find it.",
     "Name an owner for each follow-up of the decision ({s}).",
     "Revisit the decision ({s}) if the conditions it rests on change.",
     "Tell the stakeholders that the decision is \"{s}\" and what it means for them."}};

/* The first line of the prompt that is prose (not a heading, not blank). */
static void prompt_line(const char *p, const char **start, size_t *len) {
    *start = NULL;
    *len = 0;
    while (p && *p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (q < p + n && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q < p + n && *q != '#') {
            *start = q;
            *len = (size_t)(p + n - q);
            return;
        }
        p = e ? e + 1 : p + n;
    }
}

static void add_revisions(doc_t *d, const char *feedback, const char *where, offline_rng_t *rng) {
    section_t *s = add_section(d, "Revisions");
    strbuf_t sb = {0};
    put_quoted(&sb, feedback, strlen(feedback), 40);
    add_line(s, LINE_BULLET, 1, xstrdup("Feedback"), from_sb(&sb));
    /* Each sentence of the feedback gets its own answer, so a reviewer sees every point taken. */
    size_t answered = 0;
    for (const char *p = feedback; *p && answered < 3;) {
        size_t n = strcspn(p, ".!?;\n");
        char *sent = offline_clean_dup(p, n, 16, 160);
        if (sent && offline_count_words(sent) >= 2) {
            const char *verb = offline_revision_verbs[offline_rng_below(rng, 4)];
            strbuf_t b = {0};
            sb_printf(&b, "\"%s\" (see %s).", sent, where);
            add_line(s, LINE_BULLET, answered ? 2 : 1, xstrdup(verb), from_sb(&b));
            answered++;
        }
        free(sent);
        p += n;
        if (*p) p++;
    }
    add_line(
        s, LINE_BULLET, 3, NULL,
        xstrdup(
            "The other sections were checked against this feedback and updated where it applied."));
}

/* Adds the Context section; lines that refer back to upstream documents by their headings are
 * returned in refs (malloc'd) for a later section to carry. */
static void add_context(doc_t *d, const llm_request_t *req, char *refs[2], size_t *n_refs) {
    size_t nk;
    const char **keys = sorted_keys(req->inputs, &nk);
    const char *pl;
    size_t plen;
    prompt_line(req->prompt, &pl, &plen);
    *n_refs = 0;
    if (!nk && !pl) {
        free(keys);
        return;
    }
    section_t *s = add_section(d, "Context");
    for (size_t i = 0; i < nk && i < MAX_CONTEXT_INPUTS; i++) {
        offline_digest_t dg = {0};
        char *body = describe_input(json_object_get(req->inputs, keys[i]), &dg);
        char *label = offline_clean_dup(keys[i], strlen(keys[i]), 6, 60);
        if (!label) label = xstrdup("input");
        for (char *c = label; *c; c++) /* a '*' would unbalance the bold label */
            if (*c == '*' || *c == '`') *c = '\'';
        if (dg.n_headings && *n_refs < 2) {
            strbuf_t sb = {0};
            sb_puts(&sb, "Builds on ");
            for (size_t h = 0; h < dg.n_headings && h < 2; h++) {
                if (h) sb_puts(&sb, " and ");
                put_quoted(&sb, dg.headings[h], strlen(dg.headings[h]), 8);
            }
            sb_printf(&sb, " from the %s input.", label);
            refs[(*n_refs)++] = from_sb(&sb);
        }
        /* Context supports the document; under a tight word limit its own points matter more. */
        add_line(s, LINE_BULLET, i == 0 ? 2 : 3, label, body);
        offline_digest_free(&dg);
    }
    if (nk > MAX_CONTEXT_INPUTS)
        add_line(s, LINE_BULLET, 3, NULL,
                 xasprintf("%zu more inputs were considered.", nk - MAX_CONTEXT_INPUTS));
    if (pl) {
        strbuf_t sb = {0};
        put_quoted(&sb, pl, plen, 25);
        add_line(s, LINE_BULLET, 3, xstrdup("Request"), from_sb(&sb));
    }
    free(keys);
}

/* Puts a line at position `at` of a section (or frees it when the section is full). */
static void insert_line(section_t *s, size_t at, line_t l) {
    if (s->n == MAX_LINES || at > s->n) {
        free(l.label);
        free(l.body);
        return;
    }
    memmove(s->lines + at + 1, s->lines + at, (s->n - at) * sizeof *s->lines);
    s->lines[at] = l;
    s->n++;
}

/* ---------------------------------------------------------------------------------------- */
/* Rendering and fitting */

static void put_line(strbuf_t *sb, const doc_t *d, const line_t *l, int number) {
    if (l->kind == LINE_BULLET)
        sb_puts(sb, "- ");
    else if (l->kind == LINE_NUMBER)
        sb_printf(sb, "%d. ", number);
    if (l->label) sb_printf(sb, d->markdown ? "**%s**: " : "%s: ", l->label);
    sb_puts(sb, l->body);
}

static size_t line_words(const doc_t *d, const line_t *l) {
    /* Counted without rendering when that is exact (fitting calls this for every cut): the
     * marker ("-", "N.") is one word, "**label**:" as many as the label, the body itself. A label
     * with spaces at its ends would join or split words differently, so render that one. */
    size_t ll = l->label ? strlen(l->label) : 0;
    if (!l->label ||
        (ll && !isspace((unsigned char)l->label[0]) && !isspace((unsigned char)l->label[ll - 1]))) {
        size_t n = l->kind == LINE_BULLET || l->kind == LINE_NUMBER ? 1 : 0;
        if (l->label) {
            size_t lw = offline_count_words(l->label);
            n += lw ? lw : 1;
        }
        return n + offline_count_words(l->body);
    }
    strbuf_t sb = {0};
    put_line(&sb, d, l, 1);
    size_t n = offline_count_words(sb_str(&sb));
    sb_free(&sb);
    return n;
}

static size_t heading_words(const doc_t *d, const char *title) {
    return offline_count_words(title) + (d->markdown ? 1 : 0);
}

static size_t live_lines(const section_t *s) {
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) n += !s->lines[i].dropped;
    return n;
}

static size_t doc_words(const doc_t *d) {
    size_t w = heading_words(d, d->title);
    for (size_t i = 0; i < d->n; i++) {
        const section_t *s = &d->sec[i];
        if (!live_lines(s)) continue;
        w += heading_words(d, s->title);
        for (size_t j = 0; j < s->n; j++)
            if (!s->lines[j].dropped) w += line_words(d, &s->lines[j]);
    }
    return w;
}

/* Keeps the first `keep` words of the body, marks the cut with "…" and closes an open quote. */
static void shorten(line_t *l, size_t keep) {
    const char *p = l->body;
    size_t w = 0;
    const char *end = NULL;
    while (*p) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        while (*p && !isspace((unsigned char)*p)) p++;
        if (++w == keep) {
            end = p;
            break;
        }
    }
    if (!end || !*end) return;
    strbuf_t sb = {0};
    sb_append(&sb, l->body, (size_t)(end - l->body));
    while (sb.len && strchr(",;:(", sb.buf[sb.len - 1])) sb.buf[--sb.len] = '\0';
    size_t quotes = 0;
    for (size_t i = 0; i < sb.len; i++) quotes += sb.buf[i] == '"';
    if (sb.len && sb.buf[sb.len - 1] == '"' && quotes % 2 == 0) {
        sb.buf[--sb.len] = '\0'; /* put the mark inside the quote: "text…" */
        sb_puts(&sb, "…\"");
    } else {
        sb_puts(&sb, "…");
        if (quotes % 2) sb_putc(&sb, '"');
    }
    free(l->body);
    l->body = from_sb(&sb);
}

static size_t body_words(const line_t *l) { return offline_count_words(l->body); }

static void fit(doc_t *d, size_t limit) {
    size_t total = doc_words(d);
    for (int prio = 3; prio >= 0 && total > limit; prio--) {
        for (size_t si = d->n; si-- > 0 && total > limit;) {
            section_t *s = &d->sec[si];
            for (size_t li = s->n; li-- > 0 && total > limit;) {
                line_t *l = &s->lines[li];
                if (l->dropped || l->prio != prio) continue;
                size_t excess = total - limit, bw = body_words(l);
                size_t before = line_words(d, l);
                /* Shorten instead of dropping when a useful part of the line fits. */
                size_t min_keep = prio == 0 ? 1 : 4;
                if (bw >= min_keep + excess) {
                    shorten(l, bw - excess);
                } else if (prio == 0) {
                    if (bw > 1) shorten(l, 1);
                    l->dropped = true;
                } else {
                    l->dropped = true;
                }
                /* Keep the count by difference: recounting the document after every cut made
                 * fitting quadratic in its length. A section whose last line went loses its
                 * heading too, exactly as doc_words counts. */
                total = total - before + (l->dropped ? 0 : line_words(d, l));
                if (l->dropped && !live_lines(s)) total -= heading_words(d, s->title);
            }
        }
    }
    /* Only the title is left and it is still too long: shorten it, keeping "#" and a word. */
    if (total > limit) {
        line_t t = {.body = d->title};
        size_t tw = offline_count_words(d->title);
        size_t marker = d->markdown ? 1 : 0;
        size_t keep = limit > marker ? limit - marker : 1;
        if (keep < tw) shorten(&t, keep);
        d->title = t.body;
    }
}

static char *render(const doc_t *d, size_t limit) {
    strbuf_t sb = {0};
    if (limit && limit < (d->markdown ? 2u : 1u)) {
        /* Room for one word only: the title's first word, without markup. */
        offline_put_clean(&sb, d->title, strlen(d->title), limit, 200);
        return from_sb(&sb);
    }
    sb_printf(&sb, "%s%s\n", d->markdown ? "# " : "", d->title);
    for (size_t i = 0; i < d->n; i++) {
        const section_t *s = &d->sec[i];
        if (!live_lines(s)) continue;
        sb_printf(&sb, "\n%s%s\n\n", d->markdown ? "## " : "", s->title);
        int number = 1;
        for (size_t j = 0; j < s->n; j++) {
            if (s->lines[j].dropped) continue;
            put_line(&sb, d, &s->lines[j], number++);
            sb_putc(&sb, '\n');
        }
    }
    return from_sb(&sb);
}

static void doc_free(doc_t *d) {
    free(d->title);
    for (size_t i = 0; i < d->n; i++)
        for (size_t j = 0; j < d->sec[i].n; j++) {
            free(d->sec[i].lines[j].label);
            free(d->sec[i].lines[j].body);
        }
}

/* ---------------------------------------------------------------------------------------- */

char *offline_document(const llm_request_t *req, offline_rng_t *rng) {
    doc_t d = {.markdown = req->format != OUTPUT_TEXT};
    const wf_agent_t *a = req->agent;
    const offline_profile_t *prof = offline_profile_for(a);
    bool subj_from_inputs = false;
    char *subj = offline_subject(req->inputs, req->task_id, &subj_from_inputs);

    char *name = clean_field(a ? a->name : NULL, 6);
    if (!name) name = a && a->id ? offline_humanize(a->id) : xstrdup("The agent");
    upper_first(name);
    char *role = clean_field(a ? a->role : NULL, 8);
    if (!role) role = a && a->id ? offline_humanize(a->id) : xstrdup("team");
    lower_first(role);
    char *goal = clean_field(a ? a->goal : NULL, 30);
    strip_end_punct(goal);
    if (goal && !*goal) {
        free(goal);
        goal = NULL;
    }
    d.title = make_title(goal, prof, subj, subj_from_inputs);
    lower_first(goal);

    /* Summary: one sentence that always survives trimming, then supporting ones. */
    section_t *sum = add_section(&d, "Summary");
    const char *tmpl = offline_summary_tpl[goal ? offline_rng_below(rng, 4) : 0];
    add_line(sum, LINE_PARA, 0, NULL, fill(tmpl, name, role, subj, goal, prof->doc_noun));
    size_t nk = json_is_object(req->inputs) ? json_object_size(req->inputs) : 0;
    if (nk) {
        size_t n;
        const char **keys = sorted_keys(req->inputs, &n);
        strbuf_t sb = {0};
        sb_printf(&sb, "It draws on %zu input%s: ", n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n && i < 4; i++) {
            sb_puts(&sb, i == 0 ? "" : (i + 1 == n || i == 3) ? " and " : ", ");
            size_t before = sb.len;
            offline_put_clean(&sb, keys[i], strlen(keys[i]), 4, 40);
            if (sb.len == before) sb_puts(&sb, "(unnamed)");
        }
        sb_puts(&sb, n > 4 ? ", among others." : ".");
        add_line(sum, LINE_PARA, 2, NULL, from_sb(&sb));
        free(keys);
    }
    /* A decision the inputs report (a vote's outcome) is stated, never contradicted. */
    char *decision = NULL;
    const char *reached = offline_reached_decision(req->inputs);
    if (reached && (decision = clean_field(reached, 12)))
        add_line(sum, LINE_PARA, 0, xstrdup("Decision"),
                 xasprintf("%s, as the inputs record it.", decision));
    bool has_feedback = req->feedback && *req->feedback;
    if (has_feedback)
        add_line(sum, LINE_PARA, 3, NULL,
                 xstrdup("This revision answers the feedback on the previous draft."));

    /* Profile sections: two or three of the three, three or four points each. */
    size_t nsec = 2 + offline_rng_below(rng, 2);
    size_t secs[3];
    pick(rng, 3, nsec, secs);
    for (size_t i = 1; i < nsec; i++) /* keep the profile's own order */
        for (size_t j = i; j > 0 && secs[j - 1] > secs[j]; j--) {
            size_t t = secs[j];
            secs[j] = secs[j - 1];
            secs[j - 1] = t;
        }

    if (has_feedback) add_revisions(&d, req->feedback, prof->sections[secs[0]].title, rng);
    char *refs[2];
    size_t n_refs = 0;
    add_context(&d, req, refs, &n_refs);

    for (size_t i = 0; i < nsec; i++) {
        size_t before = d.n;
        /* The lead point of the first section is the agent's actual contribution: under a tight
         * limit it outlives the context and the other sections. */
        const offline_section_tpl_t *tpl = &prof->sections[secs[i]];
        bool follow = decision && !strcmp(tpl->title, decided_recommendation.title);
        add_template_section(&d, follow ? &decided_recommendation : tpl,
                             3 + offline_rng_below(rng, 2), LINE_BULLET, i == 0 ? 0 : 1,
                             follow ? decision : subj, rng);
        /* What upstream documents decided is carried into the first section, after its lead. */
        for (size_t r = 0; i == 0 && r < n_refs; r++) {
            line_t l = {.kind = LINE_BULLET, .prio = 2, .body = refs[r]};
            if (d.n > before)
                insert_line(&d.sec[before], 1 + r, l);
            else
                free(refs[r]);
        }
    }

    switch (offline_rng_below(rng, 3)) {
    case 0:
        add_template_section(&d, &offline_risks, 2 + offline_rng_below(rng, 2), LINE_BULLET, 2,
                             subj, rng);
        break;
    case 1:
        add_template_section(&d, &offline_questions, 2 + offline_rng_below(rng, 2), LINE_BULLET, 2,
                             subj, rng);
        break;
    default:
        add_template_section(&d, &offline_risks, 2, LINE_BULLET, 2, subj, rng);
        add_template_section(&d, &offline_questions, 2, LINE_BULLET, 3, subj, rng);
    }
    add_template_section(&d, &offline_next_steps, 3, LINE_NUMBER, 2, subj, rng);

    size_t limit = req->word_limit > 0 ? (size_t)req->word_limit : 0;
    if (limit) fit(&d, limit);
    char *out = render(&d, limit);
    doc_free(&d);
    free(subj);
    free(decision);
    free(name);
    free(role);
    free(goal);
    return out;
}
