/* yaml_tree.h - YAML text to a small located node tree, with the limits of spec section 8.
 *
 * Built on libyaml's event API so that every limit is enforced while parsing, before memory is
 * spent: a document over WF_MAX_DOC_BYTES is rejected unread; nesting deeper than WF_MAX_DEPTH
 * stops the parse at the first level too many; a scalar over WF_MAX_STRING stops it too; aliases
 * reuse the anchored node (shared, never copied) and the nodes they would expand to are counted,
 * so a "billion laughs" document fails after at most WF_MAX_ALIAS_NODES nodes. Because an alias
 * may only name a node that is complete, the tree is acyclic; because an alias must also fit
 * under the depth limit where it is used, every walk over the tree (conversion to JSON included)
 * is bounded by WF_MAX_DEPTH levels and by (document nodes + WF_MAX_ALIAS_NODES) visits.
 *
 * Choices where YAML is larger than what a workflow needs:
 *  - exactly one document per text ("expected one YAML document" otherwise);
 *  - merge keys (`<<`) are not supported: an error with a hint, the pair is dropped;
 *  - mapping keys must be scalars without NUL bytes, and unique;
 *  - tags: only the core schema ones (!!str !!int !!float !!bool !!null !!seq !!map) and the
 *    non-specific "!" are accepted;
 *  - plain scalars resolve with the YAML 1.2 core schema (null ~ and empty; true/false in three
 *    spellings; ints incl. 0x and 0o; floats); .inf and .nan stay strings because JSON has no
 *    such numbers; quoted and block scalars are always strings.
 * Input must be UTF-8 (libyaml validates it). JSON is valid YAML, so JSON input works as is. */
#ifndef BATON_CORE_YAML_TREE_H
#define BATON_CORE_YAML_TREE_H

#include "core/diag.h"
#include "util/arena.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { YT_SCALAR, YT_SEQ, YT_MAP } yt_kind_t;
typedef enum { YT_PLAIN, YT_SINGLE_QUOTED, YT_DOUBLE_QUOTED, YT_LITERAL, YT_FOLDED } yt_style_t;
typedef enum { YT_NULL, YT_BOOL, YT_INT, YT_FLOAT, YT_STR } yt_scalar_type_t;

typedef struct yt_node yt_node_t;
typedef struct yt_pair {
    yt_node_t *key; /* always a scalar */
    yt_node_t *value;
} yt_pair_t;

struct yt_node {
    uint8_t kind;    /* yt_kind_t */
    uint8_t style;   /* yt_style_t, scalars only */
    uint16_t height; /* 0 for a scalar, 1 + the highest child for a collection */
    uint32_t count;  /* nodes in this subtree, aliases expanded (keys count too) */
    src_loc_t loc;   /* where the node starts (the quote or `|` for such scalars) */
    const char *tag; /* as resolved by libyaml, or NULL */
    union {
        struct {
            const char *str; /* NUL-terminated; may hold NULs of its own ("\0" escape) */
            size_t len;
        } scalar;
        struct {
            yt_node_t **items;
            size_t n;
        } seq;
        struct {
            yt_pair_t *pairs;
            size_t n;
        } map;
    };
};

typedef struct yaml_tree {
    yt_node_t *root;  /* NULL for a text without a document */
    const char *text; /* borrowed: must outlive the tree for yaml_tree_offset_loc */
    size_t len;
    size_t expanded; /* nodes added by aliases */
    arena_t arena;
    /* Lazily built on the first location query, so well-formed files never pay for it. */
    uint32_t *line_starts;
    size_t n_lines;
    struct {
        const yt_node_t *node;
        size_t v, s;
        src_loc_t at;
    } walk_cache; /* makes several queries into one long scalar linear, not quadratic */
} yaml_tree_t;

/* Parses text into *t (which it initialises). Returns 0 when a tree was built: diagnostics may
 * still have been added for problems that do not stop the parse (duplicate or merge keys, unknown
 * anchors or tags, a second document), so callers check `diags` too. Returns -1, with a
 * diagnostic, when no tree could be built (syntax error, a limit). Either way yaml_tree_free
 * must be called. */
int yaml_tree_parse(yaml_tree_t *t, const char *text, size_t len, const char *file,
                    diag_list_t *diags);
void yaml_tree_free(yaml_tree_t *t);

/* The value of a scalar key in a mapping, or NULL. */
const yt_node_t *yaml_tree_get(const yt_node_t *map, const char *key);

/* Core-schema type of a scalar; fills *iv for YT_INT (when not NULL), *dv for YT_INT and
 * YT_FLOAT, *bv for YT_BOOL. Collections return YT_STR and should not be asked. */
yt_scalar_type_t yaml_tree_resolve(const yt_node_t *n, long long *iv, double *dv, bool *bv);

/* "a mapping", "a list", "null", "a boolean", "a number", "a string": for messages. */
const char *yaml_tree_describe(const yt_node_t *n);

/* The node as a new JSON value (never NULL). Scalars follow yaml_tree_resolve. */
json_t *yaml_tree_to_json(const yt_node_t *n);

/* Where byte `offset` of a scalar's value is in the source, following quotes, escapes, folding
 * and block indentation; for collections, the node's own location. */
src_loc_t yaml_tree_offset_loc(yaml_tree_t *t, const yt_node_t *n, size_t offset);

#endif
