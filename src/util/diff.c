/* diff.c - Myers' O(ND) diff in linear space, printed as a unified diff.
 *
 * The search follows the shape GNU diff uses (diffseq.h): strip the common head and tail, find
 * a point on an optimal path by running the forward and backward searches towards each other
 * (the "middle snake"), and recurse on the two halves. Each half costs about half the edits, so
 * the recursion is O(log D) deep and memory is two arrays of N+M+3 diagonals.
 *
 * The search marks lines: deleted[] on A, inserted[] on B. Unmarked lines of A and B are equal
 * and in the same order (they are the common subsequence), which is all the printer needs. */
#include "util/diff.h"
#include "util/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct line {
    const char *p;
    size_t len;    /* including the '\n', when the line has one */
    uint64_t hash; /* compared first: most unequal lines differ here */
} line_t;

typedef struct search {
    const line_t *a, *b;
    bool *deleted, *inserted;
    ptrdiff_t *fd, *bd; /* furthest x reached on each diagonal, indexed by x - y */
    size_t work, max_work;
    bool exhausted;
} search_t;

static uint64_t fnv1a(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static line_t *split_lines(const char *s, size_t n, size_t *count) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += s[i] == '\n';
    if (n && s[n - 1] != '\n') c++;
    line_t *lines = xmalloc((c ? c : 1) * sizeof *lines);
    size_t k = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n' && i + 1 < n) continue;
        lines[k].p = s + start;
        lines[k].len = i + 1 - start;
        lines[k].hash = fnv1a(lines[k].p, lines[k].len);
        k++;
        start = i + 1;
    }
    *count = c;
    return lines;
}

static inline bool same(const search_t *s, ptrdiff_t x, ptrdiff_t y) {
    const line_t *l = &s->a[x], *r = &s->b[y];
    return l->hash == r->hash && l->len == r->len && !memcmp(l->p, r->p, l->len);
}

/* Finds (xmid, ymid) on an optimal path through the box [xoff, xlim) x [yoff, ylim), whose
 * corners are known to differ (the caller stripped the common head and tail). Returns false
 * when the step budget runs out first. */
static bool middle_snake(search_t *s, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff,
                         ptrdiff_t ylim, ptrdiff_t *xmid, ptrdiff_t *ymid) {
    ptrdiff_t *fd = s->fd, *bd = s->bd;
    const ptrdiff_t dmin = xoff - ylim, dmax = xlim - yoff; /* the diagonals inside the box */
    const ptrdiff_t fmid = xoff - yoff, bmid = xlim - ylim;
    ptrdiff_t fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
    /* The searches meet on the forward pass when the corners' diagonals differ by an odd
     * number, on the backward pass otherwise (Myers 1986, section 4b). */
    const bool odd = (fmid - bmid) & 1;
    fd[fmid] = xoff;
    bd[bmid] = xlim;
    for (;;) {
        /* Widen the forward search by one edit; sentinels outside the box are never chosen. */
        if (fmin > dmin)
            fd[--fmin - 1] = -1;
        else
            ++fmin;
        if (fmax < dmax)
            fd[++fmax + 1] = -1;
        else
            --fmax;
        for (ptrdiff_t d = fmax; d >= fmin; d -= 2) {
            ptrdiff_t lo = fd[d - 1], hi = fd[d + 1];
            ptrdiff_t x = lo < hi ? hi : lo + 1, y = x - d;
            ptrdiff_t x0 = x;
            while (x < xlim && y < ylim && same(s, x, y)) x++, y++;
            fd[d] = x;
            s->work += 1 + (size_t)(x - x0);
            if (odd && bmin <= d && d <= bmax && bd[d] <= x) {
                *xmid = x;
                *ymid = y;
                return true;
            }
        }
        if (bmin > dmin)
            bd[--bmin - 1] = PTRDIFF_MAX;
        else
            ++bmin;
        if (bmax < dmax)
            bd[++bmax + 1] = PTRDIFF_MAX;
        else
            --bmax;
        for (ptrdiff_t d = bmax; d >= bmin; d -= 2) {
            ptrdiff_t lo = bd[d - 1], hi = bd[d + 1];
            ptrdiff_t x = lo < hi ? lo : hi - 1, y = x - d;
            ptrdiff_t x0 = x;
            while (x > xoff && y > yoff && same(s, x - 1, y - 1)) x--, y--;
            bd[d] = x;
            s->work += 1 + (size_t)(x0 - x);
            if (!odd && fmin <= d && d <= fmax && x <= fd[d]) {
                *xmid = x;
                *ymid = y;
                return true;
            }
        }
        if (s->work > s->max_work) return false;
    }
}

static void compare(search_t *s, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff, ptrdiff_t ylim) {
    while (xoff < xlim && yoff < ylim && same(s, xoff, yoff)) xoff++, yoff++;
    while (xoff < xlim && yoff < ylim && same(s, xlim - 1, ylim - 1)) xlim--, ylim--;
    ptrdiff_t xmid, ymid;
    if (xoff == xlim || yoff == ylim || s->exhausted ||
        !middle_snake(s, xoff, xlim, yoff, ylim, &xmid, &ymid)) {
        /* Trivial, or over budget: everything left in this box changed (still a correct diff). */
        if (xoff < xlim && yoff < ylim) s->exhausted = true;
        for (ptrdiff_t x = xoff; x < xlim; x++) s->deleted[x] = true;
        for (ptrdiff_t y = yoff; y < ylim; y++) s->inserted[y] = true;
        return;
    }
    compare(s, xoff, xmid, yoff, ymid);
    compare(s, xmid, xlim, ymid, ylim);
}

/* Where a change could sit in several places (a deleted blank line next to other blank lines),
 * slide it so it joins neighbouring changes, and otherwise as far down as it goes: GNU diff's
 * shift_boundaries, so that hunks read the way `diff -u` prints them. changed[-1] and changed[n]
 * are false sentinels, likewise for other. */
static bool line_eq(const line_t *l, const line_t *r) {
    return l->hash == r->hash && l->len == r->len && !memcmp(l->p, r->p, l->len);
}

static void shift_boundaries(bool *changed, bool *other, const line_t *lines, ptrdiff_t n) {
    ptrdiff_t i = 0, j = 0;
    for (;;) {
        /* Find the next run of changes, tracking the matching point in the other file. */
        while (i < n && !changed[i]) {
            while (other[j++]) continue;
            i++;
        }
        if (i == n) break;
        ptrdiff_t start = i, runlength, corresponding;
        while (changed[++i]) continue;
        while (other[j]) j++;
        do {
            runlength = i - start;
            /* Back, while the line before the run equals its last line: merges with earlier
             * runs. */
            while (start && line_eq(&lines[start - 1], &lines[i - 1])) {
                changed[--start] = true;
                changed[--i] = false;
                while (changed[start - 1]) start--;
                while (other[--j]) continue;
            }
            /* The end of the run where it last lined up with a run in the other file. */
            corresponding = other[j - 1] ? i : n;
            /* Forward, while the run's first line equals the line after it. */
            while (i != n && line_eq(&lines[start], &lines[i])) {
                changed[start++] = false;
                changed[i++] = true;
                while (changed[i]) i++;
                while (other[++j]) corresponding = i;
            }
        } while (runlength != i - start);
        /* Back to where it lines up with the other file's run, if it can. */
        while (corresponding < i) {
            changed[--start] = true;
            changed[--i] = false;
            while (other[--j]) continue;
        }
    }
}

/* ---- printing ------------------------------------------------------------------------------ */

typedef struct change {
    size_t line0, line1; /* first line of the change in A and in B */
    size_t del, ins;
} change_t;

static void put_line(strbuf_t *out, char mark, const line_t *l) {
    sb_putc(out, mark);
    sb_append(out, l->p, l->len);
    if (!l->len || l->p[l->len - 1] != '\n') sb_puts(out, "\n\\ No newline at end of file\n");
}

/* diff -u's ranges: "start,count", "start" alone for one line, and for no lines the number of
 * the line before (patch(1) relies on that to recognise an empty file). */
static void put_range(strbuf_t *out, size_t start, size_t count) {
    if (count == 0)
        sb_printf(out, "%zu,0", start);
    else if (count == 1)
        sb_printf(out, "%zu", start + 1);
    else
        sb_printf(out, "%zu,%zu", start + 1, count);
}

static void put_hunk(strbuf_t *out, const line_t *a, size_t na, const line_t *b,
                     const change_t *first, const change_t *last, size_t context) {
    size_t start0 = first->line0 > context ? first->line0 - context : 0;
    size_t start1 = first->line1 - (first->line0 - start0);
    size_t top0 = last->line0 + last->del;
    size_t end0 = top0 + context < na ? top0 + context : na;
    size_t end1 = last->line1 + last->ins + (end0 - top0);
    sb_puts(out, "@@ -");
    put_range(out, start0, end0 - start0);
    sb_puts(out, " +");
    put_range(out, start1, end1 - start1);
    sb_puts(out, " @@\n");
    size_t i = start0;
    for (const change_t *c = first; c <= last; c++) {
        for (; i < c->line0; i++) put_line(out, ' ', &a[i]);
        for (size_t k = 0; k < c->del; k++) put_line(out, '-', &a[c->line0 + k]);
        for (size_t k = 0; k < c->ins; k++) put_line(out, '+', &b[c->line1 + k]);
        i = c->line0 + c->del;
    }
    for (; i < end0; i++) put_line(out, ' ', &a[i]);
}

void diff_unified(const char *a, size_t alen, const char *b, size_t blen, const char *label_a,
                  const char *label_b, const diff_opts_t *opts, strbuf_t *out,
                  diff_result_t *result) {
    diff_result_t r = {0};
    size_t context = opts && opts->context >= 0 ? (size_t)opts->context : 3;
    size_t na, nb;
    line_t *la = split_lines(a, alen, &na), *lb = split_lines(b, blen, &nb);
    /* One false sentinel on each side of the marks, for shift_boundaries. */
    bool *del = xcalloc(na + 2, 1), *ins = xcalloc(nb + 2, 1);
    search_t s = {
        la,   lb,   del + 1, ins + 1,
        NULL, NULL, 0,       opts && opts->max_work ? opts->max_work : DIFF_DEFAULT_MAX_WORK,
        false};
    /* Diagonals run from -(nb) to na; one more on each side for the sentinels. */
    ptrdiff_t *diags = xmalloc(2 * (na + nb + 3) * sizeof *diags);
    s.fd = diags + nb + 1;
    s.bd = diags + (na + nb + 3) + nb + 1;
    compare(&s, 0, (ptrdiff_t)na, 0, (ptrdiff_t)nb);
    free(diags);
    r.approximate = s.exhausted;
    shift_boundaries(s.deleted, s.inserted, la, (ptrdiff_t)na);
    shift_boundaries(s.inserted, s.deleted, lb, (ptrdiff_t)nb);

    change_t *changes = NULL;
    size_t n = 0, cap = 0, i = 0, j = 0;
    while (i < na || j < nb) {
        if ((i < na && s.deleted[i]) || (j < nb && s.inserted[j])) {
            change_t c = {i, j, 0, 0};
            while (i < na && s.deleted[i]) i++, c.del++;
            while (j < nb && s.inserted[j]) j++, c.ins++;
            if (n == cap) changes = xrealloc(changes, (cap = cap ? 2 * cap : 16) * sizeof *changes);
            changes[n++] = c;
            r.deleted += c.del;
            r.inserted += c.ins;
        } else {
            i++, j++;
        }
    }
    if (n) {
        sb_printf(out, "--- %s\n+++ %s\n", label_a, label_b);
        /* A hunk takes the next change while fewer than 2*context+1 unchanged lines separate
         * them, as diff -u does (so two hunks never share a context line). */
        for (size_t h = 0; h < n;) {
            size_t e = h;
            while (e + 1 < n &&
                   changes[e + 1].line0 - (changes[e].line0 + changes[e].del) < 2 * context + 1)
                e++;
            put_hunk(out, la, na, lb, &changes[h], &changes[e], context);
            r.hunks++;
            h = e + 1;
        }
    }
    free(changes);
    free(del);
    free(ins);
    free(la);
    free(lb);
    if (result) *result = r;
}
