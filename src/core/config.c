/* config.c - building a configuration from YAML and the environment, remembering where each
 * value came from, and checking it against the schema of config_keys.c. */
#include "core/config.h"

#include "core/workflow.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ENV_PREFIX "BATON__"

/* ---- origins ---------------------------------------------------------------------------- */

void config_origins_free(config_origins_t *o) {
    for (size_t i = 0; i < o->n; i++) {
        free(o->items[i].key);
        free(o->items[i].file);
    }
    free(o->items);
    json_decref(o->keep);
    memset(o, 0, sizeof *o);
}

const config_origin_t *config_origin_find(const config_origins_t *o, const json_t *parent,
                                          const char *key, size_t index) {
    /* Newest first: a value set again (the environment over the file) wins. */
    for (size_t i = o->n; i-- > 0;) {
        const config_origin_t *e = &o->items[i];
        if (e->parent != parent) continue;
        if (key ? e->key && !strcmp(e->key, key) : !e->key && e->index == index) return e;
    }
    return NULL;
}

static void origin_add(config_origins_t *o, const json_t *parent, const char *key, size_t index,
                       const char *file, src_loc_t key_loc, src_loc_t loc) {
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 32;
        o->items = xrealloc(o->items, o->cap * sizeof *o->items);
    }
    o->items[o->n++] = (config_origin_t){.parent = parent,
                                         .key = key ? xstrdup(key) : NULL,
                                         .index = index,
                                         .file = xstrdup(file),
                                         .key_loc = key_loc,
                                         .loc = loc};
}

/* Keeps a value that is about to be replaced alive: origins name values by their parent's
 * address, which must not be handed to a new value. */
static void keep(config_origins_t *o, json_t *old) {
    if (!old) return;
    if (!o->keep) o->keep = json_array();
    json_array_append(o->keep, old);
}

/* ---- from YAML ---------------------------------------------------------------------------- */

json_t *config_from_yaml(const yt_node_t *n, const char *file, config_origins_t *o) {
    if (n->kind == YT_SEQ) {
        json_t *a = json_array();
        for (size_t i = 0; i < n->seq.n; i++) {
            const yt_node_t *it = n->seq.items[i];
            json_array_append_new(a, config_from_yaml(it, file, o));
            origin_add(o, a, NULL, i, file, it->loc, it->loc);
        }
        return a;
    }
    if (n->kind == YT_MAP) {
        json_t *obj = json_object();
        for (size_t i = 0; i < n->map.n; i++) {
            const yt_node_t *k = n->map.pairs[i].key, *v = n->map.pairs[i].value;
            /* a key with a NUL ("a\\0b") reads as "a" and may repeat one: the value it replaces
             * stays alive, so its address is not handed to a new value (origins) */
            keep(o, json_object_get(obj, k->scalar.str));
            json_object_set_new(obj, k->scalar.str, config_from_yaml(v, file, o));
            origin_add(o, obj, k->scalar.str, 0, file, k->loc, v->loc);
        }
        return obj;
    }
    return yaml_tree_to_json(n);
}

/* ---- reading the schema ------------------------------------------------------------------ */

const config_key_t *config_key_child(const config_key_t *map, const char *name, bool nocase,
                                     bool *known) {
    if (known) *known = false;
    if (!map) return NULL;
    for (const config_key_t *k = map->keys; k && k->name; k++)
        if (nocase ? !strcasecmp(k->name, name) : !strcmp(k->name, name)) {
            if (known) *known = true;
            return k;
        }
    return map->kind == CONFIG_MAP ? map->other : NULL;
}

const char *config_key_describe(const config_key_t *k, char *buf, size_t len) {
    const char *range = k->flags & CONFIG_POSITIVE ? ", more than 0"
                        : k->flags & CONFIG_NONNEG ? ", 0 or more"
                                                   : "";
    switch (k->kind) {
    case CONFIG_MAP:
        snprintf(buf, len, "a mapping");
        break;
    case CONFIG_LIST:
        snprintf(buf, len, "a list");
        break;
    case CONFIG_STRING:
        snprintf(buf, len, "%s%s",
                 k->flags & CONFIG_URL        ? "an http:// or https:// URL"
                 : k->flags & CONFIG_MODEL_ID ? "provider/model"
                                              : "a string",
                 k->keys ? " or a mapping" : "");
        break;
    case CONFIG_ENUM: {
        size_t l = (size_t)snprintf(buf, len, "one of: ");
        for (size_t i = 0; k->choices[i] && l < len; i++)
            l += (size_t)snprintf(buf + l, len - l, "%s%s", i ? ", " : "", k->choices[i]);
        break;
    }
    case CONFIG_BOOL:
        snprintf(buf, len, "true or false");
        break;
    case CONFIG_NUMBER:
    case CONFIG_INT:
        if (k->max > 0)
            snprintf(buf, len, "%s from %d to %.0f",
                     k->kind == CONFIG_INT ? "a whole number" : "a number",
                     k->flags & CONFIG_POSITIVE ? 1 : 0, k->max);
        else
            snprintf(buf, len, "%s%s", k->kind == CONFIG_INT ? "a whole number" : "a number",
                     range);
        break;
    case CONFIG_DURATION:
        snprintf(buf, len, "a duration such as 30s, 5m or 24h%s", range);
        break;
    }
    return buf;
}

bool config_key_is_secret(const char *name) {
    static const char *const words[] = {"key", "secret", "token", "password", "passwd"};
    size_t len = strlen(name);
    if (len >= 4 && !strcasecmp(name + len - 4, "_env")) return false;
    for (const char *p = name; *p;) {
        size_t w = strcspn(p, "_-");
        for (size_t i = 0; i < sizeof words / sizeof *words; i++)
            if (w == strlen(words[i]) && !strncasecmp(p, words[i], w)) return true;
        p += w;
        if (*p) p++;
    }
    return false;
}

/* ---- checking ----------------------------------------------------------------------------- */

typedef struct check {
    const config_origins_t *o;
    const char *fallback;
    diag_list_t *dl;
    size_t added;
} check_t;

/* path + "." + name, names with dots or spaces quoted so the path reads back. */
static char *path_join(const char *path, const char *name) {
    bool quote = strpbrk(name, ". ") != NULL;
    return xasprintf("%s%s%s%s%s", path, *path ? "." : "", quote ? "\"" : "", name,
                     quote ? "\"" : "");
}

static void report(check_t *c, const config_origin_t *at, bool at_key, const char *hint,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void report(check_t *c, const config_origin_t *at, bool at_key, const char *hint,
                   const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    src_loc_t loc = at ? (at_key ? at->key_loc : at->loc) : (src_loc_t){0, 0};
    diag_add(c->dl, at ? at->file : c->fallback, loc, hint, "%s", msg);
    c->added++;
}

static const char *json_describe(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "a mapping";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Names of a mapping schema's known keys, for hints; n of them. */
static size_t key_names(const config_key_t *map, const char **names, size_t max) {
    size_t n = 0;
    for (const config_key_t *k = map->keys; k && k->name && n < max; k++) names[n++] = k->name;
    return n;
}

static void check_value(check_t *c, const config_key_t *k, const json_t *v, const char *path,
                        const config_origin_t *at);

static void check_map(check_t *c, const config_key_t *k, const json_t *v, const char *path,
                      const config_origin_t *at) {
    const char *name;
    const json_t *child;
    json_object_foreach((json_t *)v, name, child) {
        const config_origin_t *cat = config_origin_find(c->o, v, name, 0);
        const config_key_t *ck = config_key_child(k, name, false, NULL);
        if (!ck) {
            const char *names[64];
            size_t n = key_names(k, names, 64);
            char hb[160], list[600];
            const char *hint = diag_did_you_mean(hb, sizeof hb, name, names, n);
            if (!hint) {
                size_t l = (size_t)snprintf(list, sizeof list, "known keys: ");
                for (size_t i = 0; i < n && l < sizeof list; i++)
                    l += (size_t)snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "",
                                          names[i]);
                hint = list;
            }
            if (*path)
                report(c, cat ? cat : at, cat != NULL, hint, "unknown key '%.100s' in %s", name,
                       path);
            else
                report(c, cat ? cat : at, cat != NULL, hint,
                       "unknown key '%.100s' (not a section of the configuration)", name);
            continue;
        }
        char *sub = path_join(path, name);
        bool known = config_key_child(k, name, false, NULL) != k->other;
        if (!json_is_null(child))
            check_value(c, ck, child, sub, cat ? cat : at);
        else if (!known) /* `key:` alone: unset for a setting, but an entry needs a value */
            report(c, cat ? cat : at, false, NULL, "%s: has no value (expected %s)", sub,
                   config_key_describe(ck, (char[256]){0}, 256));
        free(sub);
    }
    for (const config_key_t *r = k->keys; r && r->name; r++)
        if ((r->flags & CONFIG_REQUIRED) &&
            (!json_object_get(v, r->name) || json_is_null(json_object_get(v, r->name)))) {
            char d[256];
            report(c, at, true, NULL, "%s: missing key '%s' (%s: %s)",
                   *path ? path : "configuration", r->name, r->doc,
                   config_key_describe(r, d, sizeof d));
        }
}

static void check_value(check_t *c, const config_key_t *k, const json_t *v, const char *path,
                        const config_origin_t *at) {
    char want[256];
    bool ok = true;
    const char *bad_choice = NULL;
    double num = 0;
    switch (k->kind) {
    case CONFIG_MAP:
        ok = json_is_object(v);
        if (!ok) break;
        check_map(c, k, v, path, at);
        return;
    case CONFIG_LIST:
        ok = json_is_array(v);
        if (!ok) break;
        for (size_t i = 0; i < json_array_size(v); i++) {
            const config_origin_t *ia = config_origin_find(c->o, v, NULL, i);
            char *sub = xasprintf("%s[%zu]", path, i);
            check_value(c, k->item, json_array_get(v, i), sub, ia ? ia : at);
            free(sub);
        }
        return;
    case CONFIG_STRING:
        if (k->keys && json_is_object(v)) {
            config_key_t as_map = {k->name, CONFIG_MAP, .keys = k->keys};
            check_map(c, &as_map, v, path, at);
            return;
        }
        ok = json_is_string(v);
        if (ok && (k->flags & CONFIG_URL))
            ok = !strncmp(json_string_value(v), "http://", 7) ||
                 !strncmp(json_string_value(v), "https://", 8);
        if (ok && (k->flags & CONFIG_MODEL_ID)) {
            const char *id = json_string_value(v), *slash = strchr(id, '/');
            ok = slash && slash > id && slash[1];
        }
        break;
    case CONFIG_ENUM:
        ok = json_is_string(v);
        for (size_t i = 0; ok && k->choices[i]; i++)
            if (!strcmp(k->choices[i], json_string_value(v))) return;
        if (ok) bad_choice = json_string_value(v);
        ok = false;
        break;
    case CONFIG_BOOL:
        ok = json_is_boolean(v);
        break;
    case CONFIG_INT:
    case CONFIG_NUMBER:
        ok = k->kind == CONFIG_INT ? json_is_integer(v) : json_is_number(v);
        num = json_number_value(v);
        break;
    case CONFIG_DURATION:
        ok = json_is_number(v) || json_is_string(v);
        num = json_is_string(v) ? wf_parse_duration(json_string_value(v)) : json_number_value(v);
        if (json_is_string(v) && num < 0) ok = false;
        break;
    }
    if (ok && (k->kind == CONFIG_INT || k->kind == CONFIG_NUMBER || k->kind == CONFIG_DURATION))
        ok = !((k->flags & CONFIG_POSITIVE) && num <= 0) &&
             !((k->flags & CONFIG_NONNEG) && num < 0) && !(k->max > 0 && num > k->max);
    if (ok) return;
    config_key_describe(k, want, sizeof want);
    if (bad_choice) {
        char hb[160];
        size_t n = 0;
        while (k->choices[n]) n++;
        report(c, at, false, diag_did_you_mean(hb, sizeof hb, bad_choice, k->choices, n),
               "%s: '%.100s' is not one of: %s", path, bad_choice, want + strlen("one of: "));
        return;
    }
    char *got = json_is_object(v) || json_is_array(v) || json_is_null(v)
                    ? xstrdup(json_describe(v))
                    : json_dumps(v, JSON_ENCODE_ANY);
    report(c, at, false, NULL, "%s: expected %s, got %.100s", path, want, got ? got : "?");
    free(got);
}

size_t config_check(const json_t *root, const config_origins_t *o, const char *fallback_file,
                    diag_list_t *dl) {
    check_t c = {.o = o, .fallback = fallback_file, .dl = dl};
    if (!json_is_object(root)) {
        diag_add(dl, fallback_file, (src_loc_t){1, 1}, NULL,
                 "a configuration is a mapping of sections (providers, tiers, routing, ...), "
                 "not %s",
                 json_describe(root));
        return 1;
    }
    check_value(&c, &config_schema, root, "", NULL);
    return c.added;
}

/* ---- the environment ---------------------------------------------------------------------- */

static int by_upper_name(const void *a, const void *b) {
    return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/* "BATON__" + parts joined by "__", upper-cased, with part `at` replaced by `with`. */
static char *env_name(char **parts, size_t n, size_t at, const char *with) {
    size_t cap = strlen(ENV_PREFIX) + 1;
    for (size_t i = 0; i < n; i++) cap += strlen(i == at ? with : parts[i]) + 2;
    char *s = xmalloc(cap), *p = s;
    p += sprintf(p, "%s", ENV_PREFIX);
    for (size_t i = 0; i < n; i++) {
        const char *part = i == at ? with : parts[i];
        if (i) p += sprintf(p, "__");
        for (const char *q = part; *q; q++) *p++ = (char)toupper((unsigned char)*q);
    }
    *p = '\0';
    return s;
}

/* Records an origin (the variable) for every member and element under v. */
static void origin_all(config_origins_t *o, const json_t *v, const char *var) {
    const src_loc_t none = {0, 0};
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            origin_add(o, v, k, 0, var, none, none);
            origin_all(o, c, var);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            origin_add(o, v, NULL, i, var, none, none);
            origin_all(o, json_array_get(v, i), var);
        }
    }
}

/* The value of one variable for a setting of schema k: text as written for text settings,
 * else read as YAML. NULL with a diagnostic when it is not readable. */
static json_t *env_value(const config_key_t *k, const char *var, const char *text,
                         diag_list_t *dl) {
    if (k->kind == CONFIG_STRING && !k->keys) return json_string(text);
    if (k->kind == CONFIG_ENUM || k->kind == CONFIG_DURATION) return json_string(text);
    yaml_tree_t t;
    diag_list_t pd = {0};
    json_t *v = NULL;
    if (yaml_tree_parse(&t, text, strlen(text), var, &pd) == 0 && !pd.n)
        v = t.root ? yaml_tree_to_json(t.root) : json_null();
    yaml_tree_free(&t);
    if (!v)
        diag_add(dl, var, (src_loc_t){0, 0}, "quote nothing; a list is [a, b], a mapping {k: v}",
                 "not a readable value: %s", pd.n ? pd.items[0].message : "empty");
    diag_list_free(&pd);
    return v;
}

/* Reports a part of a variable's name that is no key of schema k (parts[0..i-1] resolved to
 * `path`), with the closest setting as a hint. */
static void env_unknown(const char *var, char **parts, size_t n, size_t i, const config_key_t *k,
                        const char *path, diag_list_t *dl) {
    const char *names[64];
    size_t nn = k->kind == CONFIG_MAP ? key_names(k, names, 64) : 0;
    char *lower = xstrdup(parts[i]);
    for (char *p = lower; *p; p++) *p = (char)tolower((unsigned char)*p);
    const char *s = diag_suggest(lower, names, nn);
    char *hint = NULL;
    if (s) {
        char *full = env_name(parts, n, i, s);
        hint = xasprintf("did you mean %s?", full);
        free(full);
    } else if (nn) {
        hint = xstrdup("the settings here are:");
        for (size_t j = 0; j < nn; j++) {
            char *full = env_name(parts, i + 1, i, names[j]);
            char *h2 = xasprintf("%s%s %s", hint, j ? "," : "", full);
            free(hint);
            free(full);
            hint = h2;
        }
    }
    if (k->kind != CONFIG_MAP)
        diag_add(dl, var, (src_loc_t){0, 0}, hint,
                 "not a configuration path: %s is a single setting, not a section", path);
    else if (*path)
        diag_add(dl, var, (src_loc_t){0, 0}, hint, "names no setting: %s has no key '%s'", path,
                 lower);
    else
        diag_add(dl, var, (src_loc_t){0, 0}, hint,
                 "names no setting: '%s' is not a section of the configuration", lower);
    free(lower);
    free(hint);
}

/* The name a user-named part (a provider, a tier, a workflow) stands for: the name already in
 * `at` that matches ignoring case; else the part in lower case when it is all upper case
 * (variables are written in upper case, names in lower case), else as written. Caller frees. */
static char *env_entry_name(const json_t *at, const char *part) {
    const char *ek;
    json_t *ev;
    json_object_foreach((json_t *)at, ek, ev) if (!strcasecmp(ek, part)) return xstrdup(ek);
    char *name = xstrdup(part);
    bool upper = true;
    for (const char *p = part; *p; p++) upper = upper && !islower((unsigned char)*p);
    if (upper)
        for (char *p = name; *p; p++) *p = (char)tolower((unsigned char)*p);
    return name;
}

/* Applies one variable; 0, or 1 with a diagnostic. The whole name is resolved against the
 * schema first, so a refused variable changes nothing. */
static size_t env_apply_one(json_t *root, config_origins_t *o, const char *entry, diag_list_t *dl) {
    const char *eq = strchr(entry, '=');
    if (!eq) return 0;
    /* JSON keys and strings are UTF-8: anything else is refused here, by the variable's name */
    char *clean = utf8_valid(entry, strlen(entry));
    if (strcmp(clean, entry)) {
        char *name = strchr(clean, '=') ? xstrndup(clean, (size_t)(strchr(clean, '=') - clean))
                                        : xstrdup(clean);
        diag_add(dl, name, (src_loc_t){0, 0}, NULL,
                 "not UTF-8 (the bad bytes are shown as '?'): names and values must be UTF-8");
        free(name);
        free(clean);
        return 1;
    }
    free(clean);
    char *var = xstrndup(entry, (size_t)(eq - entry));
    char *rest = xstrdup(var + strlen(ENV_PREFIX));
    char **parts = NULL;
    size_t n = 0;
    for (char *seg = rest;;) {
        char *next = strstr(seg, "__");
        if (next) *next = '\0';
        parts = xrealloc(parts, (n + 1) * sizeof *parts);
        parts[n++] = seg;
        if (!next) break;
        seg = next + 2;
    }
    const config_key_t **keys = xcalloc(n, sizeof *keys);
    bool *known = xcalloc(n, sizeof *known);
    size_t errors = 0;
    const config_key_t *k = &config_schema;
    char *path = xstrdup("");
    for (size_t i = 0; i < n && !errors; i++) {
        if (!*parts[i]) {
            diag_add(dl, var, (src_loc_t){0, 0},
                     "settings are BATON__SECTION__KEY, e.g. BATON__BUDGETS__DAILY_USD",
                     "not a configuration path: an empty part between '__'");
            errors++;
            break;
        }
        keys[i] = k->kind == CONFIG_MAP ? config_key_child(k, parts[i], true, &known[i]) : NULL;
        if (!keys[i]) {
            env_unknown(var, parts, n, i, k, path, dl);
            errors++;
            break;
        }
        char *sub = path_join(path, known[i] ? keys[i]->name : parts[i]);
        free(path);
        path = sub;
        k = keys[i];
    }
    json_t *at = root;
    free(path);
    path = xstrdup("");
    for (size_t i = 0; i < n && !errors; i++) {
        char *name = known[i] ? xstrdup(keys[i]->name) : env_entry_name(at, parts[i]);
        char *sub = path_join(path, name);
        free(path);
        path = sub;
        if (i + 1 < n) {
            json_t *child = json_object_get(at, name);
            if (!child || json_is_null(child)) {
                child = json_object();
                json_object_set_new(at, name, child);
                origin_add(o, at, name, 0, var, (src_loc_t){0, 0}, (src_loc_t){0, 0});
            } else if (!json_is_object(child)) {
                diag_add(dl, var, (src_loc_t){0, 0}, NULL,
                         "not a configuration path: %s is %s here, not a section", path,
                         json_describe(child));
                errors++;
            }
            at = child;
        } else {
            json_t *v = env_value(keys[i], var, eq + 1, dl);
            if (!v) {
                errors++;
            } else {
                keep(o, json_object_get(at, name));
                json_object_set_new(at, name, v);
                origin_add(o, at, name, 0, var, (src_loc_t){0, 0}, (src_loc_t){0, 0});
                origin_all(o, v, var);
            }
        }
        free(name);
    }
    free(path);
    free(keys);
    free(known);
    free(parts);
    free(rest);
    free(var);
    return errors;
}

size_t config_apply_env(json_t *root, config_origins_t *o, const char *const *vars, size_t n,
                        diag_list_t *dl) {
    /* In name order, ignoring case: a section is set before the keys under it, and the result
     * does not depend on the environment's order. */
    const char **sel = xcalloc(n + 1, sizeof *sel);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (vars[i] && !strncasecmp(vars[i], ENV_PREFIX, strlen(ENV_PREFIX))) sel[m++] = vars[i];
    qsort(sel, m, sizeof *sel, by_upper_name);
    size_t errors = 0;
    for (size_t i = 0; i < m; i++) errors += env_apply_one(root, o, sel[i], dl);
    free(sel);
    return errors;
}
