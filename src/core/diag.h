/* diag.h - located diagnostics: "FILE:LINE:COL: error: MESSAGE" plus an optional hint.
 *
 * The loader and validator collect every problem in a diag_list_t instead of stopping at the
 * first, so a user fixes a file in one pass. Strings are copied; diag_list_free releases them. */
#ifndef BATON_CORE_DIAG_H
#define BATON_CORE_DIAG_H

#include <stddef.h>
#include <stdint.h>

/* A position in a source file, 1-based. line == 0 means "no position" (e.g. the file itself). */
typedef struct src_loc {
    uint32_t line, col;
} src_loc_t;

typedef struct diag {
    char *file;
    src_loc_t loc;
    char *message;
    char *hint; /* NULL when there is none */
} diag_t;

typedef struct diag_list {
    diag_t *items;
    size_t n, cap;
} diag_list_t;

void diag_add(diag_list_t *dl, const char *file, src_loc_t loc, const char *hint, const char *fmt,
              ...) __attribute__((format(printf, 5, 6)));
void diag_sort(diag_list_t *dl); /* by file, line, column; stable */
void diag_list_free(diag_list_t *dl);

/* The candidate closest to `word` by edit distance, or NULL when none is close enough to be a
 * plausible typo. Used for "did you mean" hints. */
const char *diag_suggest(const char *word, const char *const *candidates, size_t n);

/* Writes "did you mean 'X'?" into buf when a suggestion exists; returns buf, or NULL. */
const char *diag_did_you_mean(char *buf, size_t len, const char *word,
                              const char *const *candidates, size_t n);

#endif
