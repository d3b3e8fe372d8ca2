#include "core/diag.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages quote user input, cut to a length ("%.64s") that may split a UTF-8 sequence;
 * JSON output and terminals need valid UTF-8, so invalid bytes become '?'. */
static void utf8_repair(char *s) {
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t len = *p < 0x80         ? 1
                     : (*p >> 5) == 6  ? 2
                     : (*p >> 4) == 14 ? 3
                     : (*p >> 3) == 30 ? 4
                                       : 0;
        size_t k = 1;
        while (len && k < len && (p[k] & 0xC0) == 0x80) k++;
        if (!len || k < len) {
            *p++ = '?';
            continue;
        }
        p += len;
    }
}

void diag_add(diag_list_t *dl, const char *file, src_loc_t loc, const char *hint, const char *fmt,
              ...) {
    if (dl->n == dl->cap) {
        dl->cap = dl->cap ? dl->cap * 2 : 8;
        dl->items = xrealloc(dl->items, dl->cap * sizeof *dl->items);
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_repair(msg);
    diag_t *d = &dl->items[dl->n++];
    d->file = xstrdup(file ? file : "<input>");
    d->loc = loc;
    d->message = xstrdup(msg);
    d->hint = xstrdup(hint);
    if (d->hint) utf8_repair(d->hint);
}

void diag_sort(diag_list_t *dl) {
    /* Insertion sort: lists are short (one entry per problem in a file), and it is stable, so
     * problems found at one place keep the order they were found in. */
    size_t n = dl->n;
    if (n < 2) return;
    diag_t *copy = xmalloc(n * sizeof *copy);
    memcpy(copy, dl->items, n * sizeof *copy);
    for (size_t i = 1; i < n; i++) {
        diag_t d = copy[i];
        size_t j = i;
        while (j > 0) {
            diag_t *p = &copy[j - 1];
            int c = strcmp(p->file, d.file);
            if (!c)
                c = p->loc.line != d.loc.line ? (p->loc.line < d.loc.line ? -1 : 1)
                    : p->loc.col != d.loc.col ? (p->loc.col < d.loc.col ? -1 : 1)
                                              : 0;
            if (c <= 0) break;
            copy[j] = copy[j - 1];
            j--;
        }
        copy[j] = d;
    }
    memcpy(dl->items, copy, n * sizeof *copy);
    free(copy);
}

void diag_list_free(diag_list_t *dl) {
    for (size_t i = 0; i < dl->n; i++) {
        free(dl->items[i].file);
        free(dl->items[i].message);
        free(dl->items[i].hint);
    }
    free(dl->items);
    dl->items = NULL;
    dl->n = dl->cap = 0;
}

/* Levenshtein distance with an early cap; words here are identifiers (short). */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return (size_t)-1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

const char *diag_suggest(const char *word, const char *const *candidates, size_t n) {
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    /* Close enough to be a typo: at most a third of the word, and at least one edit allowed. */
    size_t limit = wl / 3 > 1 ? wl / 3 : 1;
    if (wl > 3 && limit < 2) limit = 2;
    return best && best_d <= limit ? best : NULL;
}

const char *diag_did_you_mean(char *buf, size_t len, const char *word,
                              const char *const *candidates, size_t n) {
    const char *s = diag_suggest(word, candidates, n);
    if (!s) return NULL;
    snprintf(buf, len, "did you mean '%s'?", s);
    return buf;
}
