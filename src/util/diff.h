/* diff.h - line-based unified diffs (the `diff -u` format) of two byte strings.
 *
 * The edit script comes from Myers' O(ND) algorithm in its linear-space form (middle snake,
 * divide and conquer), after stripping the common head and tail. Lines are compared byte for
 * byte including their newline, so "x" at the end of a file without a newline differs from
 * "x\n", exactly as diff(1) sees it.
 *
 * Bounded: the search counts its steps, and once `max_work` is spent the parts not yet solved are
 * reported as "all of A replaced by all of B" for that part. The diff is then still correct (it
 * turns A into B) but not minimal, and diff_result_t.approximate says so. Memory is O(lines). */
#ifndef BATON_UTIL_DIFF_H
#define BATON_UTIL_DIFF_H

#include "util/strbuf.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct diff_opts {
    int context;     /* unchanged lines around each change; diff -u uses 3 (< 0: 3) */
    size_t max_work; /* step budget of the search; 0: DIFF_DEFAULT_MAX_WORK */
} diff_opts_t;

#define DIFF_DEFAULT_MAX_WORK ((size_t)50 * 1000 * 1000)

typedef struct diff_result {
    size_t hunks;             /* how many @@ hunks were written (0: the inputs are identical) */
    size_t deleted, inserted; /* lines */
    bool approximate;         /* the step budget ran out: correct but not minimal */
} diff_result_t;

/* Appends the unified diff turning a into b to out: "--- label_a", "+++ label_b", then hunks
 * "@@ -l,n +l,n @@" with `context` lines of context, nearby hunks merged as diff -u merges them,
 * and "\ No newline at end of file" after a last line without one. Nothing at all (not even the
 * headers) when a and b are identical. opts may be NULL. */
void diff_unified(const char *a, size_t alen, const char *b, size_t blen, const char *label_a,
                  const char *label_b, const diff_opts_t *opts, strbuf_t *out,
                  diff_result_t *result);

#endif
