/* offline_text.c - text helpers of the offline model: counting words, quoting input values
 * safely on one markdown line, and reading what an upstream document is about. */
#include "llm/offline_internal.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool ascii_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static size_t count_words_n(const char *s, size_t n) {
    size_t words = 0;
    bool in_word = false;
    for (size_t i = 0; i < n; i++) {
        bool sp = ascii_space((unsigned char)s[i]);
        if (!sp && !in_word) words++;
        in_word = !sp;
    }
    return words;
}

size_t offline_count_words(const char *s) { return s ? count_words_n(s, strlen(s)) : 0; }

/* Length of the UTF-8 sequence starting at s[i], 0 if it is malformed or cut short. */
static size_t utf8_seq(const char *s, size_t i, size_t n) {
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80 ? 1 : c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (!len || i + len > n) return 0;
    for (size_t k = 1; k < len; k++)
        if (((unsigned char)s[i + k] & 0xC0) != 0x80) return 0;
    return len;
}

/* Unicode spaces (NBSP, the U+2000 block, ideographic space...) become ASCII spaces, so a word
 * counter that knows Unicode never finds more words in our output than offline_count_words. */
static bool unicode_space(const unsigned char *p, size_t len) {
    if (len == 2) return p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0);
    if (len != 3) return false;
    if (p[0] == 0xE1) return p[1] == 0x9A && p[2] == 0x80;
    if (p[0] == 0xE3) return p[1] == 0x80 && p[2] == 0x80;
    if (p[0] != 0xE2) return false;
    if (p[1] == 0x80) return p[2] <= 0x8B || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF;
    return p[1] == 0x81 && p[2] == 0x9F;
}

void offline_put_clean(strbuf_t *out, const char *s, size_t n, size_t max_words, size_t max_bytes) {
    size_t words = 0, start = out->len;
    bool pending_space = false, cut = false;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(s, i, n);
        if (!len) { /* invalid byte: skip it rather than emit invalid UTF-8 */
            i++;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if ((len == 1 && ascii_space(c)) || unicode_space((const unsigned char *)s + i, len)) {
            pending_space = true;
            i += len;
            continue;
        }
        if (len == 1 && (c < 0x20 || c == 0x7F)) {
            i++;
            continue;
        }
        bool new_word = pending_space || out->len == start;
        if (new_word) {
            if (words == max_words || out->len - start + 1 + len > max_bytes) {
                cut = true;
                break;
            }
            words++;
            if (out->len > start) sb_putc(out, ' ');
            pending_space = false;
        } else if (out->len - start + len > max_bytes) {
            cut = true;
            break;
        }
        sb_putc(out, c == '"' ? '\'' : (char)c);
        if (len > 1) sb_append(out, s + i + 1, len - 1);
        i += len;
    }
    if (cut && out->len > start) sb_puts(out, "…");
}

char *offline_humanize(const char *id) {
    char *h = xstrdup(id ? id : "");
    for (char *p = h; *p; p++)
        if (*p == '_' || *p == '-' || *p == '.') *p = ' ';
    return h;
}

bool offline_is_document(const char *s, size_t n) {
    if (n >= 400) return true;
    if (n && s[0] == '#') return true;
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '\n' && s[i + 1] == '#') return true;
    return count_words_n(s, n) > 60;
}

char *offline_clean_dup(const char *s, size_t n, size_t max_words, size_t max_bytes) {
    strbuf_t sb = {0};
    offline_put_clean(&sb, s, n, max_words, max_bytes);
    if (!sb.len) {
        sb_free(&sb);
        return NULL;
    }
    return sb_take(&sb);
}

static bool generic_heading(const char *h) {
    static const char *const generic[] = {
        "summary",        "context",    "overview",   "introduction", "revisions", "risks",
        "open questions", "next steps", "conclusion", "references",   "appendix"};
    for (size_t i = 0; i < sizeof generic / sizeof *generic; i++)
        if (!strcasecmp(h, generic[i])) return true;
    return false;
}

void offline_digest(const char *s, size_t n, offline_digest_t *d) {
    memset(d, 0, sizeof *d);
    d->words = count_words_n(s, n);
    for (size_t i = 0; i < n;) {
        size_t end = i;
        while (end < n && s[end] != '\n') end++;
        size_t p = i;
        while (p < end && p - i < 3 && s[p] == ' ') p++;
        size_t hashes = 0;
        while (p + hashes < end && s[p + hashes] == '#') hashes++;
        if (hashes >= 1 && hashes <= 6 && p + hashes < end &&
            (s[p + hashes] == ' ' || s[p + hashes] == '\t')) {
            size_t b = p + hashes, e = end;
            while (e > b && (s[e - 1] == '#' || ascii_space((unsigned char)s[e - 1]))) e--;
            char *h = offline_clean_dup(s + b, e > b ? e - b : 0, 10, 90);
            /* Headings every document has ("Summary") say nothing about this one. */
            if (h && d->title && generic_heading(h)) {
                free(h);
                h = NULL;
            }
            if (h && !d->title)
                d->title = h;
            else if (h && d->n_headings < 4)
                d->headings[d->n_headings++] = h;
            else
                free(h);
            if (d->n_headings == 4) break;
        }
        i = end + 1;
    }
    if (d->title) return;
    /* No headings: the first sentence says what the text is about. */
    size_t e = 0;
    while (e < n) {
        if ((s[e] == '.' || s[e] == '!' || s[e] == '?') &&
            (e + 1 == n || ascii_space((unsigned char)s[e + 1]))) {
            e++;
            break;
        }
        if (s[e] == '\n' && e + 1 < n && s[e + 1] == '\n') break;
        e++;
    }
    d->lead = offline_clean_dup(s, e, 20, 200);
}

void offline_digest_free(offline_digest_t *d) {
    free(d->title);
    for (size_t i = 0; i < d->n_headings; i++) free(d->headings[i]);
    free(d->lead);
    memset(d, 0, sizeof *d);
}

/* Input names that usually hold what the work is about, best first. */
static const char *const SUBJECT_KEYS[] = {"topic",  "subject", "title",       "brief",  "project",
                                           "domain", "product", "feature",     "query",  "question",
                                           "goal",   "name",    "description", "request"};

static bool short_value(const json_t *v) {
    if (!json_is_string(v)) return false;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    return n > 0 && n <= 120 && !memchr(s, '\n', n) && count_words_n(s, n) <= 12;
}

/* "A todo app" reads as "a todo app" inside a sentence; "API gateway" stays as it is. */
static void lower_article(char *s) {
    if (!strncmp(s, "A ", 2) || !strncmp(s, "An ", 3) || !strncmp(s, "The ", 4))
        s[0] = (char)tolower((unsigned char)s[0]);
}

static char *subject_from(const json_t *v) {
    char *s = offline_clean_dup(json_string_value(v), json_string_length(v), 12, 120);
    if (!s) return NULL;
    size_t n = strlen(s);
    while (n && (s[n - 1] == '.' || s[n - 1] == '!' || s[n - 1] == ' ')) s[--n] = '\0';
    if (!n) {
        free(s);
        return NULL;
    }
    lower_article(s);
    return s;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *offline_subject(const json_t *inputs, const char *task_id, bool *from_inputs) {
    size_t n = json_is_object(inputs) ? json_object_size(inputs) : 0;
    const char **keys = xcalloc(n ? n : 1, sizeof *keys);
    size_t k = 0;
    const char *key;
    json_t *v;
    if (n) json_object_foreach((json_t *)inputs, key, v) keys[k++] = key;
    qsort(keys, k, sizeof *keys, cmp_str); /* insertion order must not change the output */
    char *subj = NULL;
    for (size_t p = 0; p < sizeof SUBJECT_KEYS / sizeof *SUBJECT_KEYS && !subj; p++)
        for (size_t i = 0; i < k && !subj; i++)
            if (strstr(keys[i], SUBJECT_KEYS[p]) && short_value(json_object_get(inputs, keys[i])))
                subj = subject_from(json_object_get(inputs, keys[i]));
    for (size_t i = 0; i < k && !subj; i++)
        if (short_value(json_object_get(inputs, keys[i])))
            subj = subject_from(json_object_get(inputs, keys[i]));
    for (size_t i = 0; i < k && !subj; i++) {
        const json_t *val = json_object_get(inputs, keys[i]);
        if (!json_is_string(val)) continue;
        offline_digest_t d;
        offline_digest(json_string_value(val), json_string_length(val), &d);
        if (d.title) {
            subj = d.title;
            d.title = NULL;
        }
        offline_digest_free(&d);
    }
    free(keys);
    if (from_inputs) *from_inputs = subj != NULL;
    if (subj) return subj;
    if (task_id && *task_id) {
        char *h = offline_humanize(task_id);
        char *s = xasprintf("the %s work", h);
        free(h);
        return s;
    }
    return xstrdup("the request");
}

void offline_put_template(strbuf_t *out, const char *tmpl, const char *subj) {
    for (const char *p = tmpl; *p;) {
        const char *hole = strstr(p, "{s}");
        if (!hole) {
            sb_puts(out, p);
            break;
        }
        sb_append(out, p, (size_t)(hole - p));
        sb_puts(out, subj);
        p = hole + 3;
    }
}

/* The "decision" of obj at exactly `depth` objects below it (keys in sorted order: insertion
 * order must not change the answer). */
static const char *decision_at(const json_t *obj, int depth) {
    if (!json_is_object(obj)) return NULL;
    if (depth == 0) {
        const char *d = json_string_value(json_object_get(obj, "decision"));
        return d && *d ? d : NULL;
    }
    size_t n = json_object_size(obj), k = 0;
    if (n > 64) n = 64; /* inputs are small; a huge object is not a vote's outcome */
    const char **keys = xcalloc(n ? n : 1, sizeof *keys);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (k == n) break;
        if (json_is_object(v)) keys[k++] = key;
    }
    qsort(keys, k, sizeof *keys, cmp_str);
    const char *found = NULL;
    for (size_t i = 0; i < k && !found; i++)
        found = decision_at(json_object_get(obj, keys[i]), depth - 1);
    free(keys);
    return found;
}

const char *offline_reached_decision(const json_t *inputs) {
    for (int depth = 0; depth < 3; depth++) {
        const char *d = decision_at(inputs, depth);
        if (d) return d;
    }
    return NULL;
}
