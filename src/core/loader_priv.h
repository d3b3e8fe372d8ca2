/* loader_priv.h - what loader.c (structure, defaults, agents) and validate.c (graph, templates)
 * share while one workflow is being loaded. Not a public interface: nothing outside those two
 * files includes it. */
#ifndef BATON_CORE_LOADER_PRIV_H
#define BATON_CORE_LOADER_PRIV_H

#include "core/workflow.h"
#include "core/yaml_tree.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* A hostile file must not turn into a million diagnostics nor into quadratic "did you mean"
 * searches: after WF_MAX_DIAGS errors the loader stops reporting, and hints stop being computed
 * once WF_SUGGEST_BUDGET candidate comparisons have been spent (a hint is a luxury). */
#define WF_MAX_DIAGS      1000
#define WF_SUGGEST_BUDGET 50000

/* String -> index map with borrowed keys (they live in an arena or the tree). */
typedef struct wf_strmap {
    const char **keys;
    uint32_t *vals;
    size_t cap, n;
} wf_strmap_t;

static inline size_t wf_strmap_slot(const wf_strmap_t *m, const char *k) {
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        h = (h ^ *p) * 1099511628211ull; /* FNV-1a */
    size_t i = (size_t)h & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k)) i = (i + 1) & (m->cap - 1);
    return i;
}

/* -1 when absent. */
static inline long wf_strmap_get(const wf_strmap_t *m, const char *k) {
    if (!m->cap || !k) return -1;
    size_t i = wf_strmap_slot(m, k);
    return m->keys[i] ? (long)m->vals[i] : -1;
}

/* Inserts k -> v unless k is present; returns the existing value, or -1 when inserted. */
static inline long wf_strmap_put(wf_strmap_t *m, const char *k, uint32_t v) {
    if ((m->n + 1) * 2 > m->cap) {
        wf_strmap_t b = {.cap = m->cap ? m->cap * 2 : 32};
        b.keys = xcalloc(b.cap, sizeof *b.keys);
        b.vals = xcalloc(b.cap, sizeof *b.vals);
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = wf_strmap_slot(&b, m->keys[i]);
                b.keys[j] = m->keys[i];
                b.vals[j] = m->vals[i];
                b.n++;
            }
        free(m->keys);
        free(m->vals);
        *m = b;
    }
    size_t i = wf_strmap_slot(m, k);
    if (m->keys[i]) return (long)m->vals[i];
    m->keys[i] = k;
    m->vals[i] = v;
    m->n++;
    return -1;
}

static inline void wf_strmap_free(wf_strmap_t *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

typedef struct wf_ctx {
    const char *file;
    diag_list_t *dl;
    size_t diag_start; /* diagnostics before this index belong to the caller */
    yaml_tree_t *tree;
    arena_t *arena; /* where model strings go (workflow's or catalog's) */
    long suggest_budget;
    bool capped;

    /* Set only while loading a workflow (not a catalog file). */
    workflow_t *wf;
    const agent_catalog_t *cat;
    wf_exists_fn subflow_exists;
    void *subflow_ud;
    const yt_node_t **task_nodes; /* per task: its mapping (NULL when it is not one) */
    src_loc_t *id_locs;           /* per task: where its id was written */
    wf_strmap_t task_ids;         /* id -> index of its first definition */
    const char **ids;             /* the distinct task ids, for hints */
    size_t n_ids;
    bool has_inputs_decl; /* the workflow has an `inputs` block */
} wf_ctx_t;

/* Adds an error unless it repeats one already reported at the same place (aliases can make the
 * loader see one node several times) or the cap is reached. */
void wf_err(wf_ctx_t *c, src_loc_t loc, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "did you mean 'X'?" in buf, or NULL (no close candidate, or the hint budget is spent). */
const char *wf_hint(wf_ctx_t *c, char *buf, size_t len, const char *word, const char *const *cands,
                    size_t n);

/* A printable name for task i (its id, or "#N" when it has none). */
const char *wf_task_label(const wf_ctx_t *c, size_t i, char *buf, size_t len);

/* validate.c: resolves depends_on into dep_index, reports unknown and duplicate dependencies and
 * cycles, then checks every template of every task (syntax, names, upstream references). */
void wf_validate(wf_ctx_t *c);

#endif
