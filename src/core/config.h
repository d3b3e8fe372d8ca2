/* config.h - the configuration's schema (every key Baton reads, written down once), and the
 * strict check of a configuration against it: unknown keys and wrong types are located errors
 * with a did-you-mean hint, as in workflows.
 *
 * A configuration is a JSON object built from YAML (config_from_yaml), then from environment
 * variables (config_apply_env). Beside it, a config_origins_t remembers where every value came
 * from: a file with line and column, or an environment variable. The checker reads positions
 * from there, and `baton config show` prints them.
 *
 * The table of keys is in config_keys.c (config_schema): to add a key, add a row to the array
 * of its section there, and a line to docs/configuration.md (a unit test checks the docs name
 * every key). Pure: no I/O, no environment reads (the caller passes the variables). */
#ifndef BATON_CORE_CONFIG_H
#define BATON_CORE_CONFIG_H

#include "core/diag.h"
#include "core/yaml_tree.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    CONFIG_MAP,      /* a mapping: `keys` are the known keys; `other` any other (user-named) key */
    CONFIG_LIST,     /* a list; `item` describes each element */
    CONFIG_STRING,   /* text; with `keys` set, a mapping of those keys is accepted instead */
    CONFIG_ENUM,     /* one of `choices` */
    CONFIG_BOOL,     /* true or false */
    CONFIG_NUMBER,   /* any number */
    CONFIG_INT,      /* a whole number */
    CONFIG_DURATION, /* seconds (a number) or a string such as 500ms, 30s, 5m, 24h, 90d */
} config_kind_t;

enum {
    CONFIG_REQUIRED = 1 << 0, /* a mapping of this kind must have the key */
    CONFIG_NONNEG = 1 << 1,   /* numbers and durations: 0 or more */
    CONFIG_POSITIVE = 1 << 2, /* numbers and durations: more than 0 */
    CONFIG_OPT_IN = 1 << 3,   /* a mapping whose absence turns it off: its keys' defaults apply
                               * only when it is there (limits) */
    CONFIG_URL = 1 << 4,      /* strings: an http:// or https:// URL */
    CONFIG_MODEL_ID = 1 << 5, /* strings: provider/model */
};

typedef struct config_key config_key_t;
struct config_key {
    const char *name; /* the key; for `other` and `item`, a placeholder (NAME, MODEL) for docs */
    config_kind_t kind;
    const config_key_t *keys;   /* MAP, STRING: the known keys, ended by an entry without name */
    const config_key_t *other;  /* MAP: what any other key holds; NULL: other keys are errors */
    const config_key_t *item;   /* LIST: each element */
    const char *const *choices; /* ENUM: NULL-terminated */
    unsigned flags;
    double max;       /* numbers: the largest value allowed; 0 = no limit */
    const char *dflt; /* the default as a user reads it ("24h", "false"); NULL: none */
    const char *doc;  /* what it means, one line */
};

/* The whole configuration: a mapping of sections. */
extern const config_key_t config_schema;

/* ---- where values came from ---- */

typedef struct config_origin {
    const json_t *parent; /* the object or array that holds the value */
    char *key;            /* its key there, or NULL for an array element */
    size_t index;         /* its index there (arrays) */
    char *file;           /* the file, or the environment variable, it came from */
    src_loc_t key_loc;    /* where its key starts; line 0: no position (environment) */
    src_loc_t loc;        /* where the value starts */
} config_origin_t;

typedef struct config_origins {
    config_origin_t *items;
    size_t n, cap;
    json_t *keep; /* values replaced by later ones, kept alive so no address is reused */
} config_origins_t;

void config_origins_free(config_origins_t *o);

/* The origin of parent[key] (key NULL: parent[index]), or NULL when none was recorded. */
const config_origin_t *config_origin_find(const config_origins_t *o, const json_t *parent,
                                          const char *key, size_t index);

/* ---- building ---- */

/* A YAML node as a JSON value (a new reference, never NULL), recording the origin of every
 * member and element under it in `o` (file names them). A key with no value (`key:`) holds
 * null, which the check takes as "not set" for a known key (an emptied section means
 * defaults), and as an error for a user-named entry (a provider, a model, a tier). */
json_t *config_from_yaml(const yt_node_t *n, const char *file, config_origins_t *o);

/* Applies BATON__SECTION__KEY=value variables (each "NAME=value", any order) to root:
 * name parts are matched to the schema's keys ignoring case, a user-named part (a provider, a
 * model, a tier, a workflow) to a name already in root ignoring case; a new name is taken in
 * lower case when written all in upper case (BATON__TIERS__FAST is tier fast), else as written.
 * The whole name is resolved before anything changes. A value
 * for a text setting is taken as written; any other is read as YAML (numbers, true, [a, b],
 * {k: v}). A variable that names no setting is an error (file = the variable) with a hint
 * naming the closest one. Returns the number of errors added to dl. */
size_t config_apply_env(json_t *root, config_origins_t *o, const char *const *vars, size_t n,
                        diag_list_t *dl);

/* ---- checking ---- */

/* Checks root against config_schema: every unknown key, value of the wrong type or out of
 * range, and missing required key becomes a diagnostic located by `o` (in `fallback_file`
 * without a position when o does not know). Returns the number added. */
size_t config_check(const json_t *root, const config_origins_t *o, const char *fallback_file,
                    diag_list_t *dl);

/* ---- reading the schema ---- */

/* The schema of `name` under a mapping schema: a known key (ignoring case when nocase), else
 * `other`, else NULL. *known tells which (may be NULL). */
const config_key_t *config_key_child(const config_key_t *map, const char *name, bool nocase,
                                     bool *known);

/* What a value of this kind is, for messages and docs: "a number, 0 or more". */
const char *config_key_describe(const config_key_t *k, char *buf, size_t len);

/* Whether a key holds a secret: a word of its name (split at '_' and '-') is key, secret,
 * token, password or passwd, and it is not a *_env key (those name a variable, not a value). */
bool config_key_is_secret(const char *name);

#endif
