/* loader.c - YAML/JSON text -> workflow_t: the structural half of validation.
 *
 * Every mapping is read against the list of keys it may hold, so a typo anywhere is an error with
 * a "did you mean" hint instead of a silently ignored setting. Every value is type-checked where
 * it is written. Problems are collected, never fatal: the loader keeps going to report as much as
 * it can, and workflow_load returns NULL when anything was reported. Defaults are applied here so
 * the engine never re-derives them. The graph and the templates are checked in validate.c. */
#include "core/jsonschema.h"
#include "core/loader_priv.h"
#include "core/yaml_pointer.h"
#include "util/strbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* ---- diagnostics ---- */

void wf_err(wf_ctx_t *c, src_loc_t loc, const char *hint, const char *fmt, ...) {
    if (c->capped) return;
    if (c->dl->n - c->diag_start >= WF_MAX_DIAGS) {
        diag_add(c->dl, c->file, loc, "fix these first, then validate again",
                 "too many errors; stopping after %d", WF_MAX_DIAGS);
        c->capped = true;
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (size_t i = c->diag_start; i < c->dl->n; i++) {
        const diag_t *d = &c->dl->items[i];
        if (d->loc.line == loc.line && d->loc.col == loc.col && !strcmp(d->message, msg)) return;
    }
    diag_add(c->dl, c->file, loc, hint, "%s", msg);
}

const char *wf_hint(wf_ctx_t *c, char *buf, size_t len, const char *word, const char *const *cands,
                    size_t n) {
    if (!word || c->suggest_budget < (long)n) return NULL;
    c->suggest_budget -= (long)n;
    return diag_did_you_mean(buf, len, word, cands, n);
}

const char *wf_task_label(const wf_ctx_t *c, size_t i, char *buf, size_t len) {
    if (c->wf && i < c->wf->n_tasks && c->wf->tasks[i].id) return c->wf->tasks[i].id;
    snprintf(buf, len, "#%zu", i + 1);
    return buf;
}

/* ---- typed readers: each reports at the value's position and says what it got ---- */

static const char *S(const yt_node_t *k) { return k->scalar.str; }

static bool is_null(const yt_node_t *v) {
    return v->kind == YT_SCALAR && yaml_tree_resolve(v, NULL, NULL, NULL) == YT_NULL;
}

static void type_err(wf_ctx_t *c, const yt_node_t *v, const char *key, const char *want) {
    wf_err(c, v->loc, NULL, "expected %s for '%s', got %s", want, key, yaml_tree_describe(v));
}

/* Strings are lenient about plain scalars (`version: 1.0` is the text "1.0"), as YAML users
 * expect; null means "not set", like a missing key. Returns 1 set, 0 absent, -1 wrong. */
static int get_str(wf_ctx_t *c, const yt_node_t *v, const char *key, const char **out) {
    if (is_null(v)) return 0;
    if (v->kind != YT_SCALAR) {
        type_err(c, v, key, "a string");
        return -1;
    }
    if (strlen(v->scalar.str) != v->scalar.len) { /* model strings are C strings */
        wf_err(c, v->loc, "remove the \\0 escape", "'%s' contains a NUL character", key);
        return -1;
    }
    *out = arena_strndup(c->arena, v->scalar.str, v->scalar.len);
    return 1;
}

static int get_text(wf_ctx_t *c, const yt_node_t *v, const char *key, wf_text_t *out) {
    int r = get_str(c, v, key, &out->src);
    if (r > 0) out->loc = v->loc;
    return r;
}

static int get_bool(wf_ctx_t *c, const yt_node_t *v, const char *key, bool *out) {
    if (is_null(v)) return 0;
    bool b;
    if (v->kind != YT_SCALAR || yaml_tree_resolve(v, NULL, NULL, &b) != YT_BOOL) {
        type_err(c, v, key, "a boolean (true or false)");
        return -1;
    }
    *out = b;
    return 1;
}

static int get_int(wf_ctx_t *c, const yt_node_t *v, const char *key, long long lo, long long hi,
                   int *out) {
    if (is_null(v)) return 0;
    long long iv;
    if (v->kind != YT_SCALAR || yaml_tree_resolve(v, &iv, NULL, NULL) != YT_INT) {
        type_err(c, v, key, "an integer");
        return -1;
    }
    if (iv < lo || iv > hi) {
        wf_err(c, v->loc, NULL, "'%s' must be between %lld and %lld, got %lld", key, lo, hi, iv);
        return -1;
    }
    *out = (int)iv;
    return 1;
}

static int get_num(wf_ctx_t *c, const yt_node_t *v, const char *key, double lo, double hi,
                   double *out) {
    if (is_null(v)) return 0;
    double d;
    yt_scalar_type_t ty = v->kind == YT_SCALAR ? yaml_tree_resolve(v, NULL, &d, NULL) : YT_STR;
    if (ty != YT_INT && ty != YT_FLOAT) {
        type_err(c, v, key, "a number");
        return -1;
    }
    if (d < lo || d > hi) {
        wf_err(c, v->loc, NULL, "'%s' must be between %g and %g, got %g", key, lo, hi, d);
        return -1;
    }
    *out = d;
    return 1;
}

#define MAX_DURATION_S (366.0 * 86400) /* beyond a year it is a typo, and ms fit any integer */

static int get_duration(wf_ctx_t *c, const yt_node_t *v, const char *key, bool zero_ok,
                        double *out) {
    if (is_null(v)) return 0;
    const char *hint =
        "use seconds (300) or a duration such as \"90s\", \"5m\", \"1h30m\", \"24h\"";
    double d;
    yt_scalar_type_t ty = v->kind == YT_SCALAR ? yaml_tree_resolve(v, NULL, &d, NULL) : YT_NULL;
    if (v->kind == YT_SCALAR && ty == YT_STR) {
        d = wf_parse_duration(v->scalar.str);
        if (d < 0 || strlen(v->scalar.str) != v->scalar.len) {
            wf_err(c, v->loc, hint, "invalid duration '%.100s' for '%s'", v->scalar.str, key);
            return -1;
        }
    } else if (ty != YT_INT && ty != YT_FLOAT) {
        type_err(c, v, key, "a duration");
        return -1;
    }
    if (d < 0 || (!zero_ok && d == 0)) {
        wf_err(c, v->loc, hint, "'%s' must be greater than 0", key);
        return -1;
    }
    if (d > MAX_DURATION_S) {
        wf_err(c, v->loc, hint, "'%s' is longer than 366 days", key);
        return -1;
    }
    *out = d;
    return 1;
}

static int get_enum(wf_ctx_t *c, const yt_node_t *v, const char *key, const char *const *names,
                    size_t n, int *out) {
    if (is_null(v)) return 0;
    if (v->kind != YT_SCALAR) {
        type_err(c, v, key, "a string");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(S(v), names[i])) {
            *out = (int)i;
            return 1;
        }
    char list[256] = "", hb[128];
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", names[i]);
    }
    const char *hint = wf_hint(c, hb, sizeof hb, S(v), names, n);
    wf_err(c, v->loc, hint, "invalid %s '%.100s' (expected one of: %s)", key, S(v), list);
    return -1;
}

/* A list of strings; a lone string counts as a list of one where `lone_ok` (GitHub Actions'
 * `needs: build`). */
static int get_str_list(wf_ctx_t *c, const yt_node_t *v, const char *key, bool lone_ok,
                        const char ***out, src_loc_t **locs, size_t *n) {
    if (is_null(v)) return 0;
    const yt_node_t *const *items;
    const yt_node_t *one[1] = {v};
    size_t cnt;
    if (v->kind == YT_SEQ) {
        items = (const yt_node_t *const *)v->seq.items;
        cnt = v->seq.n;
    } else if (v->kind == YT_SCALAR && lone_ok) {
        items = one;
        cnt = 1;
    } else {
        type_err(c, v, key, "a list of strings");
        return -1;
    }
    const char **s = arena_alloc(c->arena, cnt * sizeof *s);
    src_loc_t *l = arena_alloc(c->arena, cnt * sizeof *l);
    size_t k = 0;
    int rc = 1;
    for (size_t i = 0; i < cnt; i++) {
        const yt_node_t *it = items[i];
        if (it->kind != YT_SCALAR || is_null(it) || !it->scalar.len) {
            bool empty = it->kind == YT_SCALAR && !is_null(it);
            wf_err(c, it->loc, NULL, "expected a non-empty string in '%s', got %s", key,
                   empty ? "an empty string" : yaml_tree_describe(it));
            rc = -1;
            continue;
        }
        s[k] = arena_strndup(c->arena, it->scalar.str, it->scalar.len);
        l[k++] = it->loc;
    }
    *out = s;
    if (locs) *locs = l;
    *n = k;
    return rc;
}

static const yt_node_t *get_map(wf_ctx_t *c, const yt_node_t *v, const char *key) {
    if (is_null(v)) return NULL;
    if (v->kind != YT_MAP) {
        type_err(c, v, key, "a mapping");
        return NULL;
    }
    return v;
}

/* Index of key k in keys, or -1 after reporting it as unknown "in <where>". */
static int key_index(wf_ctx_t *c, const yt_node_t *k, const char *const *keys, size_t n,
                     const char *where) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(S(k), keys[i])) return (int)i;
    if (c->capped) return -1; /* nothing more will be reported: skip building the hint */
    char hb[128], list[512] = "allowed keys: ";
    const char *hint = wf_hint(c, hb, sizeof hb, S(k), keys, n);
    if (!hint) {
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", keys[i]);
        }
        hint = list;
    }
    wf_err(c, k->loc, hint, "unknown key '%.100s' %s", S(k), where);
    return -1;
}

/* Reads a mapping's pairs into vals[] by key index (NULL = absent); unknown keys reported. */
static void read_keys(wf_ctx_t *c, const yt_node_t *m, const char *const *keys, size_t n,
                      const char *where, const yt_node_t **vals, const yt_node_t **keynodes) {
    for (size_t i = 0; i < n; i++) vals[i] = NULL;
    for (size_t i = 0; i < m->map.n; i++) {
        int k = key_index(c, m->map.pairs[i].key, keys, n, where);
        if (k < 0) continue;
        vals[k] = m->map.pairs[i].value;
        if (keynodes) keynodes[k] = m->map.pairs[i].key;
    }
}

/* ---- shared value checks ---- */

static bool valid_id(const char *s) {
    size_t n = strlen(s);
    if (n < 1 || n > 64) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

/* Reports an invalid task or agent id, suggesting its lowercase form when that would do. */
static void check_id(wf_ctx_t *c, const char *id, src_loc_t loc, const char *what) {
    if (valid_id(id)) return;
    char fixed[65];
    size_t n = 0;
    for (const char *p = id; *p && n < 64; p++) {
        char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p == ' ' ? '_' : *p;
        fixed[n++] = ch;
    }
    fixed[n] = 0;
    char hb[128];
    const char *hint = "use 1 to 64 lowercase letters, digits, '_' or '-'";
    if (valid_id(fixed)) {
        snprintf(hb, sizeof hb, "did you mean '%s'? %s", fixed, "(ids are lowercase)");
        hint = hb;
    }
    wf_err(c, loc, hint, "invalid %s id '%.100s'", what, id);
}

static const char *const TIERS[] = {"fast", "balanced", "best", "local"};
static const char *const KNOWN_TOOLS[] = {"http_fetch", "read_artifact", "write_artifact",
                                          "ask_human"};

static bool provider_model(const char *s) {
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1]) return false;
    for (const char *p = s; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '\n') return false;
    return true;
}

/* A tier, "provider/model", or a non-empty list of "provider/model". New reference or NULL. */
static json_t *get_model(wf_ctx_t *c, const yt_node_t *v, const char *key) {
    if (is_null(v)) return NULL;
    const char *hint = "use a tier (fast, balanced, best, local), provider/model, or a list of "
                       "provider/model";
    bool ok = true;
    if (v->kind == YT_SCALAR) {
        bool tier = false;
        for (size_t i = 0; i < COUNT(TIERS); i++) tier |= !strcmp(S(v), TIERS[i]);
        if (!tier && !provider_model(S(v))) {
            char hb[128];
            const char *h = wf_hint(c, hb, sizeof hb, S(v), TIERS, COUNT(TIERS));
            wf_err(c, v->loc, h ? h : hint, "unknown model '%.100s'", S(v));
            ok = false;
        }
    } else if (v->kind == YT_SEQ) {
        if (!v->seq.n) {
            wf_err(c, v->loc, hint, "'%s' is an empty list", key);
            ok = false;
        }
        for (size_t i = 0; i < v->seq.n; i++) {
            const yt_node_t *it = v->seq.items[i];
            if (it->kind != YT_SCALAR || !provider_model(S(it))) {
                wf_err(c, it->loc, hint, "expected provider/model in '%s', got %s", key,
                       it->kind == YT_SCALAR ? "'" : yaml_tree_describe(it));
                ok = false;
            }
        }
    } else {
        type_err(c, v, key, "a model tier or list");
        ok = false;
    }
    if (!ok) return NULL;
    if (v->kind == YT_SCALAR) return json_stringn(v->scalar.str, v->scalar.len);
    return yaml_tree_to_json(v);
}

static bool valid_artifact(const char *s) {
    size_t n = strlen(s);
    if (!n || n > 128 || s[0] == '.') return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

static int get_artifact(wf_ctx_t *c, const yt_node_t *v, const char *key, const char **out) {
    int r = get_str(c, v, key, out);
    if (r > 0 && !valid_artifact(*out)) {
        wf_err(c, v->loc, "use up to 128 letters, digits, '.', '_' or '-', e.g. report.md",
               "invalid artifact name '%.100s'", *out);
        return -1;
    }
    return r;
}

static void check_tool(wf_ctx_t *c, const char *name, src_loc_t loc) {
    for (size_t i = 0; i < COUNT(KNOWN_TOOLS); i++)
        if (!strcmp(name, KNOWN_TOOLS[i])) return;
    char hb[128];
    const char *h = wf_hint(c, hb, sizeof hb, name, KNOWN_TOOLS, COUNT(KNOWN_TOOLS));
    wf_err(c, loc, h ? h : "available tools: http_fetch, read_artifact, write_artifact, ask_human",
           "unknown tool '%.100s'", name);
}

/* The args of a `tool: http_fetch` task: url (required), method, headers, body. A method
 * written as a plain word must be one the tool sends; a template is checked when it runs. */
static const char *const HTTP_ARGS[] = {"url", "method", "headers", "body"};
static const char *const HTTP_METHODS[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};

static void check_http_args(wf_ctx_t *c, const yt_node_t *m, const char *label) {
    if (!m || m->kind != YT_MAP) return;
    char where[160], hb[128];
    snprintf(where, sizeof where, "in the args of http_fetch task '%s'", label);
    const yt_node_t *f[4];
    read_keys(c, m, HTTP_ARGS, COUNT(HTTP_ARGS), where, f, NULL);
    if (!f[0] || is_null(f[0]))
        wf_err(c, m->loc, "e.g. args: {url: \"https://example.com/api\"}",
               "http_fetch task '%s' needs args.url", label);
    const yt_node_t *meth = f[1];
    if (meth && meth->kind == YT_SCALAR && !strstr(S(meth), "{{")) {
        char up[16];
        size_t n = 0;
        for (const char *p = S(meth); *p && n < sizeof up - 1; p++)
            up[n++] = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
        up[n] = 0;
        bool known = strlen(S(meth)) < sizeof up;
        size_t i = 0;
        while (known && i < COUNT(HTTP_METHODS) && strcmp(up, HTTP_METHODS[i])) i++;
        if (!known || i == COUNT(HTTP_METHODS)) {
            const char *h = wf_hint(c, hb, sizeof hb, up, HTTP_METHODS, COUNT(HTTP_METHODS));
            wf_err(c, meth->loc, h ? h : "http_fetch sends GET, HEAD, POST, PUT, PATCH or DELETE",
                   "unknown HTTP method '%.32s' in http_fetch task '%s'", S(meth), label);
        }
    } else if (meth && meth->kind != YT_SCALAR) {
        type_err(c, meth, "method", "a method name such as POST");
    }
    const yt_node_t *h = f[2];
    if (h && h->kind == YT_SEQ)
        type_err(c, h, "headers", "a mapping of header names to values");
    else if (h && h->kind == YT_MAP)
        for (size_t i = 0; i < h->map.n; i++)
            if (h->map.pairs[i].value->kind != YT_SCALAR)
                type_err(c, h->map.pairs[i].value, S(h->map.pairs[i].key), "a string");
}

/* ---- agents (catalog files and inline definitions share this) ---- */

enum {
    AK_ID,
    AK_NAME,
    AK_ROLE,
    AK_GOAL,
    AK_INSTRUCTIONS,
    AK_MODEL,
    AK_TEMPERATURE,
    AK_MAX_TOKENS,
    AK_WORD_LIMIT,
    AK_TOOLS,
    AK_OUTPUT,
    AK_QUALITY,
    AK_MAX_TOOL_ITERATIONS,
    AK_COUNT,
    AK_FORMAT = AK_COUNT,
    AK_SCHEMA,
    AK_ARTIFACT
};
static const char *const AGENT_KEYS[] = {"id",
                                         "name",
                                         "role",
                                         "goal",
                                         "instructions",
                                         "model",
                                         "temperature",
                                         "max_tokens",
                                         "word_limit",
                                         "tools",
                                         "output",
                                         "quality_threshold",
                                         "max_tool_iterations"};
static const char *const OUTPUT_KEYS[] = {"format", "schema", "artifact"};
static const char *const FORMATS[] = {"markdown", "text", "json"};

static void agent_defaults(wf_agent_t *a) {
    a->temperature = 0.2;
    a->max_tokens = 1500;
    a->format = OUTPUT_MARKDOWN;
}

/* Parses an agent body; `set` gets a bit per field written (AK_*), so an inline override can
 * take the rest from the catalog agent of the same id. */
static void parse_agent(wf_ctx_t *c, const yt_node_t *m, wf_agent_t *a, unsigned *set,
                        const yt_node_t **schema_node) {
    const yt_node_t *v[AK_COUNT];
    char where[160];
    snprintf(where, sizeof where, "in agent '%.64s'", a->id);
    read_keys(c, m, AGENT_KEYS, AK_COUNT, where, v, NULL);
    *set = 0;
    if (v[AK_ID]) {
        const char *id = NULL;
        if (get_str(c, v[AK_ID], "id", &id) > 0 && strcmp(id, a->id))
            wf_err(c, v[AK_ID]->loc, NULL, "agent id '%.64s' does not match its key '%.64s'", id,
                   a->id);
    }
    struct {
        int k;
        const char **dst;
    } strs[] = {{AK_NAME, &a->name},
                {AK_ROLE, &a->role},
                {AK_GOAL, &a->goal},
                {AK_INSTRUCTIONS, &a->instructions}};
    for (size_t i = 0; i < COUNT(strs); i++)
        if (v[strs[i].k] && get_str(c, v[strs[i].k], AGENT_KEYS[strs[i].k], strs[i].dst) > 0)
            *set |= 1u << strs[i].k;
    if (v[AK_MODEL] && (a->model = get_model(c, v[AK_MODEL], "model"))) *set |= 1u << AK_MODEL;
    if (v[AK_TEMPERATURE] &&
        get_num(c, v[AK_TEMPERATURE], "temperature", 0, 2, &a->temperature) > 0)
        *set |= 1u << AK_TEMPERATURE;
    if (v[AK_MAX_TOKENS] &&
        get_int(c, v[AK_MAX_TOKENS], "max_tokens", 1, 1000000, &a->max_tokens) > 0)
        *set |= 1u << AK_MAX_TOKENS;
    if (v[AK_WORD_LIMIT] &&
        get_int(c, v[AK_WORD_LIMIT], "word_limit", 0, 1000000, &a->word_limit) > 0)
        *set |= 1u << AK_WORD_LIMIT;
    if (v[AK_QUALITY] &&
        get_num(c, v[AK_QUALITY], "quality_threshold", 0, 1, &a->quality_threshold) > 0)
        *set |= 1u << AK_QUALITY;
    if (v[AK_MAX_TOOL_ITERATIONS] && get_int(c, v[AK_MAX_TOOL_ITERATIONS], "max_tool_iterations", 1,
                                             100, &a->max_tool_iterations) > 0)
        *set |= 1u << AK_MAX_TOOL_ITERATIONS;
    if (v[AK_TOOLS]) {
        src_loc_t *locs = NULL;
        if (get_str_list(c, v[AK_TOOLS], "tools", false, &a->tools, &locs, &a->n_tools) >= 0)
            *set |= 1u << AK_TOOLS;
        for (size_t i = 0; i < a->n_tools; i++) check_tool(c, a->tools[i], locs[i]);
    }
    const yt_node_t *out = v[AK_OUTPUT] ? get_map(c, v[AK_OUTPUT], "output") : NULL;
    if (out) {
        const yt_node_t *o[3];
        snprintf(where, sizeof where, "in the output of agent '%.64s'", a->id);
        read_keys(c, out, OUTPUT_KEYS, 3, where, o, NULL);
        int f;
        if (o[0] && get_enum(c, o[0], "format", FORMATS, 3, &f) > 0) {
            a->format = (output_format_t)f;
            *set |= 1u << AK_FORMAT;
        }
        if (o[1] && get_map(c, o[1], "schema")) {
            a->schema = yaml_tree_to_json(o[1]);
            *schema_node = o[1];
            *set |= 1u << AK_SCHEMA;
            char err[256] = "", at[256] = "";
            if (jsonschema_check_at(a->schema, err, sizeof err, at, sizeof at) < 0)
                wf_err(c, yaml_pointer_loc(o[1], at),
                       "see the JSON Schema subset in docs/workflow-language.md",
                       "invalid output schema: %s", err);
        }
        if (o[2] && get_artifact(c, o[2], "artifact", &a->artifact) > 0) *set |= 1u << AK_ARTIFACT;
    }
}

/* After merging and defaults: a schema only means something for JSON output. */
static void check_agent_final(wf_ctx_t *c, const wf_agent_t *a, const yt_node_t *schema_node) {
    if (a->schema && a->format != OUTPUT_JSON && schema_node)
        wf_err(c, schema_node->loc, "add 'format: json' to the output",
               "agent '%.64s' has an output schema but its format is not json", a->id);
}

/* Deep copy into another arena (json shared by reference, which jansson counts atomically), so a
 * workflow does not depend on the catalog's lifetime. */
static void copy_agent(arena_t *ar, wf_agent_t *dst, const wf_agent_t *src) {
    *dst = *src;
    dst->id = arena_strdup(ar, src->id);
    dst->name = arena_strdup(ar, src->name);
    dst->role = arena_strdup(ar, src->role);
    dst->goal = arena_strdup(ar, src->goal);
    dst->instructions = arena_strdup(ar, src->instructions);
    dst->artifact = arena_strdup(ar, src->artifact);
    dst->file = arena_strdup(ar, src->file);
    dst->source = arena_strdup(ar, src->source);
    dst->model = json_incref(src->model);
    dst->schema = json_incref(src->schema);
    dst->tools = arena_alloc(ar, src->n_tools * sizeof *dst->tools);
    for (size_t i = 0; i < src->n_tools; i++) dst->tools[i] = arena_strdup(ar, src->tools[i]);
}

/* Fills what an inline agent did not set from the catalog agent of the same id. */
static void merge_agent(arena_t *ar, wf_agent_t *a, unsigned set, const wf_agent_t *base) {
    wf_agent_t b;
    copy_agent(ar, &b, base);
#define TAKE(bit, field)                                                                           \
    if (!(set & (1u << (bit)))) a->field = b.field;
    TAKE(AK_NAME, name)
    TAKE(AK_ROLE, role)
    TAKE(AK_GOAL, goal)
    TAKE(AK_INSTRUCTIONS, instructions)
    TAKE(AK_TEMPERATURE, temperature)
    TAKE(AK_MAX_TOKENS, max_tokens)
    TAKE(AK_WORD_LIMIT, word_limit)
    TAKE(AK_QUALITY, quality_threshold)
    TAKE(AK_MAX_TOOL_ITERATIONS, max_tool_iterations)
    TAKE(AK_FORMAT, format)
    TAKE(AK_ARTIFACT, artifact)
#undef TAKE
    if (!(set & (1u << AK_TOOLS))) {
        a->tools = b.tools;
        a->n_tools = b.n_tools;
    }
    if (!(set & (1u << AK_MODEL))) a->model = json_incref(b.model);
    if (!(set & (1u << AK_SCHEMA))) a->schema = json_incref(b.schema);
    json_decref(b.model);
    json_decref(b.schema);
}

static void free_agent_json(wf_agent_t *a) {
    json_decref(a->model);
    json_decref(a->schema);
    a->model = a->schema = NULL;
}

const wf_agent_t *catalog_agent(const agent_catalog_t *cat, const char *id) {
    if (!cat || !id) return NULL;
    for (size_t i = 0; i < cat->n; i++)
        if (!strcmp(cat->agents[i].id, id)) return &cat->agents[i];
    return NULL;
}

int catalog_add_yaml(agent_catalog_t *cat, const char *text, size_t len, const char *file,
                     diag_list_t *diags) {
    if (!cat->arena.block_size) arena_init(&cat->arena, 16 << 10);
    wf_ctx_t c = {.file = file,
                  .dl = diags,
                  .diag_start = diags->n,
                  .arena = &cat->arena,
                  .suggest_budget = WF_SUGGEST_BUDGET};
    yaml_tree_t tree;
    int rc = yaml_tree_parse(&tree, text, len, file, diags);
    c.tree = &tree;
    const yt_node_t *root = tree.root;
    if (rc == 0 && (!root || root->kind != YT_MAP)) {
        wf_err(&c, root ? root->loc : (src_loc_t){0, 0},
               "an agent file is a mapping: id, name, "
               "role, instructions, ...",
               "expected a mapping for the agent, got %s",
               root ? yaml_tree_describe(root) : "an empty document");
        rc = -1;
    }
    if (rc == 0) {
        /* The id defaults to the file's base name: agents/architect.yaml is `architect`. */
        const char *id = NULL;
        const yt_node_t *idn = yaml_tree_get(root, "id");
        src_loc_t idloc = idn ? idn->loc : root->loc;
        if (!idn || get_str(&c, idn, "id", &id) <= 0) {
            const char *base = file ? strrchr(file, '/') : NULL;
            base = base ? base + 1 : file ? file : "";
            size_t bl = strlen(base);
            if (bl > 5 && !strcmp(base + bl - 5, ".yaml"))
                bl -= 5;
            else if (bl > 4 && !strcmp(base + bl - 4, ".yml"))
                bl -= 4;
            else if (bl > 5 && !strcmp(base + bl - 5, ".json"))
                bl -= 5;
            id = arena_strndup(&cat->arena, base, bl);
        }
        check_id(&c, id, idloc, "agent");
        const wf_agent_t *prev = catalog_agent(cat, id);
        if (prev)
            wf_err(&c, idloc, "agent ids are unique in the catalog",
                   "agent '%.64s' is already defined in %s", id, prev->file);
        wf_agent_t a = {0};
        agent_defaults(&a);
        a.id = id;
        a.file = arena_strdup(&cat->arena, file ? file : "<catalog>");
        a.source = arena_strndup(&cat->arena, text, len);
        a.loc = root->loc;
        a.is_human = !strcmp(id, "human_review");
        unsigned set;
        const yt_node_t *schema_node = NULL;
        parse_agent(&c, root, &a, &set, &schema_node);
        if (!a.name) a.name = id;
        check_agent_final(&c, &a, schema_node);
        if (diags->n > c.diag_start) {
            free_agent_json(&a);
            rc = -1;
        } else {
            cat->agents = xrealloc(cat->agents, (cat->n + 1) * sizeof *cat->agents);
            cat->agents[cat->n++] = a;
        }
    }
    yaml_tree_free(&tree);
    return rc ? -1 : 0;
}

void catalog_free(agent_catalog_t *cat) {
    if (!cat) return;
    for (size_t i = 0; i < cat->n; i++) free_agent_json(&cat->agents[i]);
    free(cat->agents);
    arena_free(&cat->arena);
    memset(cat, 0, sizeof *cat);
}

/* Inline `agents:` of a workflow. */
static void parse_inline_agents(wf_ctx_t *c, const yt_node_t *m) {
    workflow_t *wf = c->wf;
    wf->agents = arena_alloc(c->arena, m->map.n * sizeof *wf->agents);
    for (size_t i = 0; i < m->map.n; i++) {
        const yt_node_t *k = m->map.pairs[i].key, *v = m->map.pairs[i].value;
        wf_agent_t *a = &wf->agents[wf->n_agents++];
        agent_defaults(a);
        a->id = arena_strndup(c->arena, k->scalar.str, k->scalar.len);
        a->file = c->file;
        a->loc = k->loc;
        a->is_human = !strcmp(a->id, "human_review");
        check_id(c, a->id, k->loc, "agent");
        unsigned set = 0;
        const yt_node_t *schema_node = NULL;
        if (!is_null(v)) {
            if (v->kind != YT_MAP)
                type_err(c, v, a->id, "a mapping");
            else
                parse_agent(c, v, a, &set, &schema_node);
        }
        const wf_agent_t *base = catalog_agent(c->cat, a->id);
        if (base) merge_agent(c->arena, a, set, base);
        if (!a->name) a->name = a->id;
        check_agent_final(c, a, schema_node);
    }
}

/* ---- workflow pieces ---- */

static void backoff_defaults(wf_backoff_t *b) {
    *b = (wf_backoff_t){.initial_s = 2, .factor = 2, .max_s = 60, .jitter = true};
}

static const char *const BACKOFF_KEYS[] = {"initial", "factor", "max", "jitter"};

/* Fields not written keep what *b holds (the workflow defaults, for a task). */
static void parse_backoff(wf_ctx_t *c, const yt_node_t *v, wf_backoff_t *b) {
    const yt_node_t *m = get_map(c, v, "retry_backoff");
    if (!m) return;
    const yt_node_t *f[4];
    read_keys(c, m, BACKOFF_KEYS, 4, "in retry_backoff", f, NULL);
    if (f[0]) get_duration(c, f[0], "initial", true, &b->initial_s);
    if (f[1]) get_num(c, f[1], "factor", 1, 100, &b->factor);
    if (f[2]) get_duration(c, f[2], "max", true, &b->max_s);
    if (f[3]) get_bool(c, f[3], "jitter", &b->jitter);
    if (b->max_s < b->initial_s)
        wf_err(c,
               (f[2]   ? f[2]
                : f[0] ? f[0]
                       : m)
                   ->loc,
               "raise 'max' or lower 'initial'",
               "retry_backoff 'max' (%gs) is below 'initial' (%gs)", b->max_s, b->initial_s);
}

static const char *const DEFAULTS_KEYS[] = {"timeout", "max_retries", "retry_backoff", "model"};

static void parse_defaults(wf_ctx_t *c, const yt_node_t *v) {
    const yt_node_t *m = get_map(c, v, "defaults");
    if (!m) return;
    workflow_t *wf = c->wf;
    const yt_node_t *f[4];
    read_keys(c, m, DEFAULTS_KEYS, 4, "in defaults", f, NULL);
    if (f[0]) get_duration(c, f[0], "timeout", false, &wf->default_timeout_s);
    if (f[1]) get_int(c, f[1], "max_retries", 0, 100, &wf->default_max_retries);
    if (f[2]) parse_backoff(c, f[2], &wf->default_backoff);
    if (f[3]) wf->default_model = get_model(c, f[3], "model");
}

static const char *const BUDGET_KEYS[] = {"max_cost_usd", "on_exceed"};
static const char *const ON_EXCEED[] = {"fail", "pause", "downgrade"};

static void parse_budget(wf_ctx_t *c, const yt_node_t *v) {
    const yt_node_t *m = get_map(c, v, "budget");
    if (!m) return;
    const yt_node_t *f[2];
    read_keys(c, m, BUDGET_KEYS, 2, "in budget", f, NULL);
    int e;
    if (f[0])
        get_num(c, f[0], "max_cost_usd", 0, 1e9, &c->wf->budget_usd);
    else
        wf_err(c, m->loc, "e.g. budget: {max_cost_usd: 5.00, on_exceed: fail}",
               "budget needs 'max_cost_usd'");
    if (f[1] && get_enum(c, f[1], "on_exceed", ON_EXCEED, 3, &e) > 0)
        c->wf->on_exceed = (budget_action_t)e;
}

static const char *const INPUT_KEYS[] = {"type", "required", "default", "description"};
static const char *const INPUT_TYPES[] = {"string",  "integer", "number",
                                          "boolean", "object",  "array"};

static bool json_is(const json_t *j, int type) {
    switch (type) {
    case 0:
        return json_is_string(j);
    case 1:
        return json_is_integer(j);
    case 2:
        return json_is_number(j);
    case 3:
        return json_is_boolean(j);
    case 4:
        return json_is_object(j);
    default:
        return json_is_array(j);
    }
}

/* Declared run inputs, normalised to {type?, required, default?, description?}. */
static void parse_inputs_decl(wf_ctx_t *c, const yt_node_t *v) {
    const yt_node_t *m = get_map(c, v, "inputs");
    c->has_inputs_decl = m != NULL;
    if (!m) return;
    for (size_t i = 0; i < m->map.n; i++) {
        const yt_node_t *k = m->map.pairs[i].key, *d = m->map.pairs[i].value;
        json_t *decl = json_object();
        json_object_set_new(decl, "required", json_false());
        if (!is_null(d) && d->kind != YT_MAP) {
            wf_err(c, d->loc, "e.g. name: {type: string, required: true}",
                   "expected a mapping for input '%.64s', got %s", S(k), yaml_tree_describe(d));
        } else if (!is_null(d)) {
            const yt_node_t *f[4];
            char where[128];
            snprintf(where, sizeof where, "in input '%.64s'", S(k));
            read_keys(c, d, INPUT_KEYS, 4, where, f, NULL);
            int ty = -1;
            bool req;
            const char *desc;
            if (f[0] && get_enum(c, f[0], "type", INPUT_TYPES, COUNT(INPUT_TYPES), &ty) > 0)
                json_object_set_new(decl, "type", json_string(INPUT_TYPES[ty]));
            if (f[1] && get_bool(c, f[1], "required", &req) > 0)
                json_object_set_new(decl, "required", json_boolean(req));
            if (f[2]) {
                json_t *def = yaml_tree_to_json(f[2]);
                if (ty >= 0 && !json_is_null(def) && !json_is(def, ty))
                    wf_err(c, f[2]->loc, NULL, "default of input '%.64s' is %s, not %s", S(k),
                           yaml_tree_describe(f[2]), INPUT_TYPES[ty]);
                json_object_set_new(decl, "default", def);
            }
            if (f[3] && get_str(c, f[3], "description", &desc) > 0)
                json_object_set_new(decl, "description", json_string(desc));
        }
        json_object_setn_new(c->wf->inputs, k->scalar.str, k->scalar.len, decl);
    }
}

/* ---- cron (triggers.schedule) ---- */

static const char *const MONTHS[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const DAYS[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static int cron_value(const char *s, size_t n, int field) {
    if (n == 3 && (field == 3 || field == 4)) {
        const char *const *names = field == 3 ? MONTHS : DAYS;
        size_t cnt = field == 3 ? 12 : 7;
        for (size_t i = 0; i < cnt; i++)
            if (!strncasecmp(s, names[i], 3)) return (int)i + (field == 3);
    }
    if (!n || n > 2) return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* NULL when valid, else what is wrong (possibly written into why[len]). */
static const char *cron_problem(const char *expr, char *why, size_t len) {
    static const char *const macros[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                         "@daily",  "@midnight", "@hourly"};
    static const int lo[] = {0, 0, 1, 1, 0}, hi[] = {59, 23, 31, 12, 7};
    static const char *const fname[] = {"minute", "hour", "day of month", "month", "day of week"};
    for (size_t i = 0; i < COUNT(macros); i++)
        if (!strcmp(expr, macros[i])) return NULL;
    int field = 0;
    const char *p = expr;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        if (field == 5) return "it has more than 5 fields";
        const char *end = p;
        while (*end && *end != ' ' && *end != '\t') end++;
        /* items separated by ',': (* | a | a-b) [/step] */
        for (const char *it = p; it < end;) {
            const char *ie = it;
            while (ie < end && *ie != ',') ie++;
            const char *slash = memchr(it, '/', (size_t)(ie - it));
            const char *re = slash ? slash : ie;
            bool ok = true;
            if (re - it != 1 || *it != '*') {
                const char *dash = memchr(it, '-', (size_t)(re - it));
                int a = cron_value(it, (size_t)((dash ? dash : re) - it), field);
                int b = dash ? cron_value(dash + 1, (size_t)(re - dash - 1), field) : a;
                ok = a >= lo[field] && a <= hi[field] && b >= lo[field] && b <= hi[field] && a <= b;
            }
            if (ok && slash) {
                int st = cron_value(slash + 1, (size_t)(ie - slash - 1), -1);
                ok = st >= 1;
            }
            if (!ok) {
                snprintf(why, len,
                         "the %s field is not valid (%d-%d, *, lists, ranges, "
                         "steps)",
                         fname[field], lo[field], hi[field]);
                return why;
            }
            it = ie < end ? ie + 1 : ie;
            if (ie < end && it == end) return "a list ends with ','";
        }
        field++;
        p = end;
    }
    return field == 5 ? NULL : "it needs 5 fields";
}

static const char *const TRIGGER_KEYS[] = {"schedule", "on_push"};
static const char *const SCHEDULE_KEYS[] = {"cron", "timezone"};
static const char *const PUSH_KEYS[] = {"branches"};

static void parse_triggers(wf_ctx_t *c, const yt_node_t *v) {
    const yt_node_t *m = get_map(c, v, "triggers");
    if (!m) return;
    const yt_node_t *f[2];
    read_keys(c, m, TRIGGER_KEYS, 2, "in triggers", f, NULL);
    const yt_node_t *s = f[0] ? get_map(c, f[0], "schedule") : NULL;
    if (s) {
        const yt_node_t *g[2];
        const char *cron = NULL, *tz = NULL;
        read_keys(c, s, SCHEDULE_KEYS, 2, "in schedule", g, NULL);
        if (!g[0] || get_str(c, g[0], "cron", &cron) == 0) {
            wf_err(c, s->loc, "e.g. schedule: {cron: \"0 9 * * 1\", timezone: UTC}",
                   "schedule needs 'cron'");
        } else if (cron) {
            char buf[96];
            const char *why = cron_problem(cron, buf, sizeof buf);
            if (why)
                wf_err(c, g[0]->loc,
                       "5 fields: minute hour day-of-month month day-of-week, e.g. \"0 9 * * 1\"",
                       "invalid cron expression '%.100s': %s", cron, why);
        }
        if (g[1] && get_str(c, g[1], "timezone", &tz) > 0) {
            bool ok = *tz && strlen(tz) < 64;
            for (const char *p = tz; *p; p++)
                ok &= (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                      (*p >= '0' && *p <= '9') || strchr("/_+-", *p);
            if (!ok)
                wf_err(c, g[1]->loc, "use an IANA name such as UTC or Europe/Paris",
                       "invalid timezone '%.64s'", tz);
        }
    }
    const yt_node_t *p = f[1] ? get_map(c, f[1], "on_push") : NULL;
    if (p) {
        const yt_node_t *g[1];
        const char **br;
        size_t nb;
        read_keys(c, p, PUSH_KEYS, 1, "in on_push", g, NULL);
        if (g[0]) get_str_list(c, g[0], "branches", true, &br, NULL, &nb);
    }
    c->wf->triggers = yaml_tree_to_json(m);
}

/* ---- tasks ---- */

enum {
    TK_ID,
    TK_NAME,
    TK_TYPE,
    TK_DESCRIPTION,
    TK_DEPENDS_ON,
    TK_CONDITIONS,
    TK_TIMEOUT,
    TK_MAX_RETRIES,
    TK_RETRY_BACKOFF,
    TK_ON_FAILURE,
    TK_ESTIMATED_COST,
    TK_LOOP,
    TK_REQUIRES_APPROVAL,
    TK_APPROVAL,
    TK_ARTIFACT,
    TK_AGENT,
    TK_PROMPT,
    TK_INPUTS,
    TK_MODEL,
    TK_QUALITY,
    TK_KIND,
    TK_TITLE,
    TK_OPTIONS,
    TK_ON_TIMEOUT,
    TK_AGENTS,
    TK_QUESTION,
    TK_METHOD,
    TK_DEADLINE,
    TK_ON_NO_CONSENSUS,
    TK_OVER,
    TK_CONCURRENCY,
    TK_TASK,
    TK_TOOL,
    TK_ARGS,
    TK_WORKFLOW,
    TK_COUNT
};
static const char *const TASK_KEYS[] = {"id",
                                        "name",
                                        "type",
                                        "description",
                                        "depends_on",
                                        "conditions",
                                        "timeout",
                                        "max_retries",
                                        "retry_backoff",
                                        "on_failure",
                                        "estimated_cost",
                                        "loop",
                                        "requires_approval",
                                        "approval",
                                        "artifact",
                                        "agent",
                                        "prompt",
                                        "inputs",
                                        "model",
                                        "quality_threshold",
                                        "kind",
                                        "title",
                                        "options",
                                        "on_timeout",
                                        "agents",
                                        "question",
                                        "method",
                                        "deadline",
                                        "on_no_consensus",
                                        "over",
                                        "concurrency",
                                        "task",
                                        "tool",
                                        "args",
                                        "workflow"};
static const char *const TYPE_NAMES[] = {"agent", "human", "consensus", "map", "tool", "subflow"};

#define B(k) (1ull << (k))
static const uint64_t COMMON_KEYS = B(TK_ID) | B(TK_NAME) | B(TK_TYPE) | B(TK_DESCRIPTION) |
                                    B(TK_DEPENDS_ON) | B(TK_CONDITIONS) | B(TK_TIMEOUT) |
                                    B(TK_MAX_RETRIES) | B(TK_RETRY_BACKOFF) | B(TK_ON_FAILURE) |
                                    B(TK_ESTIMATED_COST) | B(TK_LOOP);
/* A human task is itself the approval, so only machine steps take requires_approval. */
static const uint64_t MACHINE_KEYS = B(TK_REQUIRES_APPROVAL) | B(TK_APPROVAL) | B(TK_ARTIFACT);
static const uint64_t TYPE_KEYS[] = {
    [TASK_AGENT] = B(TK_AGENT) | B(TK_PROMPT) | B(TK_INPUTS) | B(TK_MODEL) | B(TK_QUALITY),
    /* inputs: the context shown to the person; requires_approval: true says what a human task
     * is anyway (a person's answer), so it is accepted (false is refused: it cannot be off) */
    [TASK_HUMAN] = B(TK_AGENT) | B(TK_KIND) | B(TK_TITLE) | B(TK_OPTIONS) | B(TK_ON_TIMEOUT) |
                   B(TK_INPUTS) | B(TK_REQUIRES_APPROVAL),
    /* inputs: the material every voter sees beside the question */
    [TASK_CONSENSUS] = B(TK_AGENTS) | B(TK_QUESTION) | B(TK_OPTIONS) | B(TK_METHOD) | B(TK_INPUTS) |
                       B(TK_DEADLINE) | B(TK_ON_NO_CONSENSUS),
    [TASK_MAP] = B(TK_OVER) | B(TK_CONCURRENCY) | B(TK_TASK),
    [TASK_TOOL] = B(TK_TOOL) | B(TK_ARGS),
    [TASK_SUBFLOW] = B(TK_WORKFLOW) | B(TK_INPUTS),
};

static uint64_t allowed_keys(task_type_t t) {
    return COMMON_KEYS | TYPE_KEYS[t] | (t == TASK_HUMAN ? 0 : MACHINE_KEYS);
}

static const char *const COND_KEYS[] = {"if", "then", "else"};
static const char *const COND_ACTIONS[] = {"execute", "skip", "fail"};
static const char *const APPROVAL_KEYS[] = {"approvers", "timeout", "on_timeout"};
static const char *const ON_TIMEOUT[] = {"reject", "approve", "fail"};
static const char *const LOOP_KEYS[] = {"until", "max_iterations"};
static const char *const ON_FAILURE[] = {"fail_run", "continue"};
static const char *const KINDS[] = {"approval", "input", "decision"};
static const char *const METHODS[] = {"majority", "unanimous", "weighted"};
static const char *const NO_CONSENSUS[] = {"human", "fail", "continue"};

static void parse_task(wf_ctx_t *c, const yt_node_t *m, wf_task_t *t, const wf_task_t *parent);

static void parse_conditions(wf_ctx_t *c, const yt_node_t *v, wf_task_t *t) {
    if (is_null(v)) return;
    if (v->kind != YT_SEQ) {
        type_err(c, v, "conditions", "a list");
        return;
    }
    t->conditions = arena_alloc(c->arena, v->seq.n * sizeof *t->conditions);
    for (size_t i = 0; i < v->seq.n; i++) {
        const yt_node_t *cm = v->seq.items[i];
        wf_condition_t *cd = &t->conditions[t->n_conditions++];
        cd->loc = cm->loc;
        cd->then_action = COND_EXECUTE;
        cd->else_action = COND_SKIP;
        if (cm->kind != YT_MAP) {
            wf_err(c, cm->loc, "e.g. - if: \"{{ tasks.a.outputs.ok }}\"",
                   "expected a mapping for a condition, got %s", yaml_tree_describe(cm));
            continue;
        }
        const yt_node_t *f[3];
        int a;
        read_keys(c, cm, COND_KEYS, 3, "in condition", f, NULL);
        if (!f[0] || get_text(c, f[0], "if", &cd->when) == 0)
            wf_err(c, cm->loc, "e.g. - if: \"{{ tasks.a.outputs.ok }}\"", "condition needs 'if'");
        if (f[1] && get_enum(c, f[1], "then", COND_ACTIONS, 3, &a) > 0)
            cd->then_action = (cond_action_t)a;
        if (f[2] && get_enum(c, f[2], "else", COND_ACTIONS, 3, &a) > 0)
            cd->else_action = (cond_action_t)a;
    }
}

static void parse_approval(wf_ctx_t *c, const yt_node_t *v, wf_task_t *t) {
    const yt_node_t *m = get_map(c, v, "approval");
    if (!m) return;
    const yt_node_t *f[3];
    int a;
    read_keys(c, m, APPROVAL_KEYS, 3, "in approval", f, NULL);
    if (f[0]) get_str_list(c, f[0], "approvers", true, &t->approvers, NULL, &t->n_approvers);
    if (f[1]) get_duration(c, f[1], "timeout", false, &t->approval_timeout_s);
    if (f[2] && get_enum(c, f[2], "on_timeout", ON_TIMEOUT, 3, &a) > 0)
        t->approval_on_timeout = (human_timeout_t)a;
}

static void parse_loop(wf_ctx_t *c, const yt_node_t *v, wf_task_t *t) {
    const yt_node_t *m = get_map(c, v, "loop");
    if (!m) return;
    const yt_node_t *f[2];
    read_keys(c, m, LOOP_KEYS, 2, "in loop", f, NULL);
    t->loop_max_iterations = 3;
    if (!f[0] || get_text(c, f[0], "until", &t->loop_until) == 0)
        wf_err(c, m->loc,
               "e.g. loop: {until: \"{{ tasks.ID.outputs.passed }}\", max_iterations: 3}",
               "loop needs 'until'");
    if (f[1]) get_int(c, f[1], "max_iterations", 1, 1000, &t->loop_max_iterations);
}

static json_t *get_object(wf_ctx_t *c, const yt_node_t *v, const char *key) {
    const yt_node_t *m = get_map(c, v, key);
    return m ? yaml_tree_to_json(m) : NULL;
}

/* Which task type a mapping describes: `type`, else `agent: human_review` means human. */
static task_type_t task_type_of(wf_ctx_t *c, const yt_node_t *m, bool *known) {
    const yt_node_t *tv = yaml_tree_get(m, "type"), *av = yaml_tree_get(m, "agent");
    bool human_agent = av && av->kind == YT_SCALAR && !strcmp(S(av), "human_review");
    int ty = TASK_AGENT;
    *known = true;
    if (tv && get_enum(c, tv, "type", TYPE_NAMES, COUNT(TYPE_NAMES), &ty) < 0) *known = false;
    if (human_agent && (ty == TASK_AGENT)) ty = TASK_HUMAN;
    return (task_type_t)ty;
}

static void key_not_for_type(wf_ctx_t *c, const yt_node_t *k, int key, task_type_t ty,
                             const char *label) {
    char owners[96] = "";
    int n = 0, last = 0;
    for (int t = 0; t < (int)COUNT(TYPE_NAMES); t++)
        if (allowed_keys((task_type_t)t) & B(key)) {
            size_t l = strlen(owners);
            snprintf(owners + l, sizeof owners - l, "%s%s", n++ ? ", " : "", TYPE_NAMES[t]);
            last = t;
        }
    char hint[160];
    if (n == 1)
        snprintf(hint, sizeof hint, "set 'type: %s' if this is a %s task", TYPE_NAMES[last],
                 TYPE_NAMES[last]);
    else
        snprintf(hint, sizeof hint, "'%s' is used by %s tasks", TASK_KEYS[key], owners);
    wf_err(c, k->loc, hint, "'%s' is not used by %s tasks (task '%.64s')", TASK_KEYS[key],
           TYPE_NAMES[ty], label);
}

static void parse_task(wf_ctx_t *c, const yt_node_t *m, wf_task_t *t, const wf_task_t *parent) {
    workflow_t *wf = c->wf;
    bool known;
    t->loc = m->loc;
    t->type = task_type_of(c, m, &known);
    t->timeout_s = wf->default_timeout_s;
    t->max_retries = wf->default_max_retries;
    t->backoff = wf->default_backoff;
    t->on_no_consensus = NO_CONSENSUS_FAIL;
    t->map_concurrency = 10;

    /* The id first, so that messages about the other keys can name the task. */
    const yt_node_t *idv = yaml_tree_get(m, "id");
    char label[80];
    if (parent)
        snprintf(label, sizeof label, "%.64s", parent->id ? parent->id : "?");
    else if (idv && idv->kind == YT_SCALAR && !is_null(idv))
        snprintf(label, sizeof label, "%.64s", S(idv));
    else
        snprintf(label, sizeof label, "#%zu", (size_t)(t - wf->tasks) + 1);
    char where[112];
    snprintf(where, sizeof where, parent ? "in the body of map task '%s'" : "in task '%s'", label);

    uint64_t allowed = known ? allowed_keys(t->type) : ~0ull;
    if (parent) allowed &= ~(B(TK_ID) | B(TK_DEPENDS_ON));
    const yt_node_t *v[TK_COUNT], *kn[TK_COUNT];
    read_keys(c, m, TASK_KEYS, TK_COUNT, where, v, kn);
    for (int k = 0; k < TK_COUNT; k++) {
        if (!v[k] || (allowed & B(k))) continue;
        if (parent && (k == TK_ID || k == TK_DEPENDS_ON))
            wf_err(c, kn[k]->loc, "put it on the map task itself",
                   "'%s' is not used in the body of map task '%s'", TASK_KEYS[k], label);
        else
            key_not_for_type(c, kn[k], k, t->type, label);
        v[k] = NULL;
    }

    if (v[TK_ID] && get_str(c, v[TK_ID], "id", &t->id) > 0)
        check_id(c, t->id, v[TK_ID]->loc, "task");
    if (!parent && !t->id) wf_err(c, m->loc, "e.g. - id: build", "task %s needs an 'id'", label);
    if (v[TK_NAME]) get_str(c, v[TK_NAME], "name", &t->name);
    if (v[TK_DESCRIPTION]) get_text(c, v[TK_DESCRIPTION], "description", &t->description);
    if (v[TK_DEPENDS_ON])
        get_str_list(c, v[TK_DEPENDS_ON], "depends_on", true, &t->depends_on, &t->depends_on_loc,
                     &t->n_deps);
    if (v[TK_CONDITIONS]) parse_conditions(c, v[TK_CONDITIONS], t);
    if (v[TK_TIMEOUT])
        get_duration(c, v[TK_TIMEOUT], "timeout", false,
                     t->type == TASK_HUMAN ? &t->human_timeout_s : &t->timeout_s);
    if (v[TK_MAX_RETRIES]) get_int(c, v[TK_MAX_RETRIES], "max_retries", 0, 100, &t->max_retries);
    if (v[TK_RETRY_BACKOFF]) parse_backoff(c, v[TK_RETRY_BACKOFF], &t->backoff);
    int e;
    if (v[TK_ON_FAILURE] && get_enum(c, v[TK_ON_FAILURE], "on_failure", ON_FAILURE, 2, &e) > 0)
        t->on_failure = (on_failure_t)e;
    if (v[TK_ESTIMATED_COST])
        get_num(c, v[TK_ESTIMATED_COST], "estimated_cost", 0, 1e6, &t->estimated_cost);
    if (v[TK_LOOP]) parse_loop(c, v[TK_LOOP], t);
    /* `approval:` settings alone ask for an approval: writing them means wanting one. */
    if (v[TK_APPROVAL]) {
        parse_approval(c, v[TK_APPROVAL], t);
        t->requires_approval = !is_null(v[TK_APPROVAL]);
    }
    if (v[TK_REQUIRES_APPROVAL] &&
        get_bool(c, v[TK_REQUIRES_APPROVAL], "requires_approval", &t->requires_approval) > 0 &&
        t->type == TASK_HUMAN) {
        /* A human task is the person's step itself, not an approval of a machine's output:
         * the flag stays off so nothing asks twice. */
        if (!t->requires_approval)
            wf_err(c, v[TK_REQUIRES_APPROVAL]->loc,
                   "remove it: a human task always waits for a person",
                   "requires_approval: false on human task '%s'", label);
        t->requires_approval = false;
    }
    if (v[TK_ARTIFACT]) get_artifact(c, v[TK_ARTIFACT], "artifact", &t->artifact);
    if (v[TK_AGENT] && get_str(c, v[TK_AGENT], "agent", &t->agent_id) > 0 &&
        t->type == TASK_HUMAN && strcmp(t->agent_id, "human_review"))
        wf_err(c, v[TK_AGENT]->loc, "remove 'agent', or use 'agent: human_review'",
               "a human task takes no agent other than human_review");
    if (v[TK_PROMPT]) get_text(c, v[TK_PROMPT], "prompt", &t->prompt);
    if (v[TK_INPUTS]) t->inputs = get_object(c, v[TK_INPUTS], "inputs");
    if (v[TK_MODEL]) t->model = get_model(c, v[TK_MODEL], "model");
    bool quality_set = false;
    if (v[TK_QUALITY])
        quality_set =
            get_num(c, v[TK_QUALITY], "quality_threshold", 0, 1, &t->quality_threshold) > 0;
    if (v[TK_KIND] && get_enum(c, v[TK_KIND], "kind", KINDS, 3, &e) > 0)
        t->human_kind = (human_kind_t)e;
    if (v[TK_TITLE]) get_text(c, v[TK_TITLE], "title", &t->title);
    if (v[TK_OPTIONS]) {
        const char **opts;
        size_t n = 0;
        if (get_str_list(c, v[TK_OPTIONS], "options", false, &opts, NULL, &n) > 0) {
            t->options = json_array();
            json_t *seen = json_object();
            for (size_t i = 0; i < n; i++) {
                if (json_object_get(seen, opts[i]))
                    wf_err(c, v[TK_OPTIONS]->seq.items[i]->loc, NULL, "duplicate option '%.64s'",
                           opts[i]);
                json_object_set_new(seen, opts[i], json_true());
                json_array_append_new(t->options, json_string(opts[i]));
            }
            json_decref(seen);
        }
    }
    if (v[TK_ON_TIMEOUT] && get_enum(c, v[TK_ON_TIMEOUT], "on_timeout", ON_TIMEOUT, 3, &e) > 0)
        t->human_on_timeout = (human_timeout_t)e;
    if (v[TK_AGENTS])
        get_str_list(c, v[TK_AGENTS], "agents", false, &t->consensus_agents, NULL,
                     &t->n_consensus_agents);
    if (v[TK_QUESTION]) get_text(c, v[TK_QUESTION], "question", &t->question);
    if (v[TK_METHOD] && get_enum(c, v[TK_METHOD], "method", METHODS, 3, &e) > 0)
        t->method = (consensus_method_t)e;
    if (v[TK_DEADLINE]) get_duration(c, v[TK_DEADLINE], "deadline", false, &t->deadline_s);
    if (v[TK_ON_NO_CONSENSUS] &&
        get_enum(c, v[TK_ON_NO_CONSENSUS], "on_no_consensus", NO_CONSENSUS, 3, &e) > 0)
        t->on_no_consensus = (no_consensus_t)e;
    if (v[TK_OVER]) get_text(c, v[TK_OVER], "over", &t->over);
    if (v[TK_CONCURRENCY])
        get_int(c, v[TK_CONCURRENCY], "concurrency", 1, WF_MAX_CONCURRENCY, &t->map_concurrency);
    if (v[TK_TASK] && get_map(c, v[TK_TASK], "task")) {
        t->map_task = arena_alloc(c->arena, sizeof *t->map_task);
        parse_task(c, v[TK_TASK], t->map_task, t);
    }
    if (v[TK_TOOL] && get_str(c, v[TK_TOOL], "tool", &t->tool) > 0)
        check_tool(c, t->tool, v[TK_TOOL]->loc);
    if (v[TK_ARGS]) t->args = get_object(c, v[TK_ARGS], "args");
    if (t->args && t->tool && !strcmp(t->tool, "http_fetch")) check_http_args(c, v[TK_ARGS], label);
    if (v[TK_WORKFLOW] && get_str(c, v[TK_WORKFLOW], "workflow", &t->subflow) > 0) {
        bool ok = *t->subflow && strlen(t->subflow) <= 128 && t->subflow[0] != '.';
        for (const char *p = t->subflow; *p; p++)
            ok &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.';
        if (!ok)
            wf_err(c, v[TK_WORKFLOW]->loc, "use the workflow's file name without .yaml",
                   "invalid workflow name '%.100s'", t->subflow);
        else if (c->subflow_exists && !c->subflow_exists(c->subflow_ud, t->subflow))
            wf_err(c, v[TK_WORKFLOW]->loc, "check the name against the files in workflows/",
                   "unknown workflow '%.100s'", t->subflow);
    }

    /* What each type cannot do without. */
    const char *type = TYPE_NAMES[t->type];
    if (!known) {
    } else if (t->type == TASK_AGENT && !t->agent_id) {
        wf_err(c, m->loc, "name a catalog or inline agent, e.g. agent: analyst, or set 'type'",
               "task '%s' of type agent needs an 'agent'", label);
    } else if (t->type == TASK_HUMAN && t->human_kind == HUMAN_DECISION && !t->options) {
        wf_err(c, m->loc, "e.g. options: [ship, hold]",
               "human task '%s' of kind decision needs "
               "'options'",
               label);
    } else if (t->type == TASK_CONSENSUS) {
        bool bad_agents = v[TK_AGENTS] && v[TK_AGENTS]->kind != YT_SEQ && !is_null(v[TK_AGENTS]);
        bool bad_options = v[TK_OPTIONS] && !t->options && !is_null(v[TK_OPTIONS]);
        if (t->n_consensus_agents < 2 && !bad_agents)
            wf_err(c, v[TK_AGENTS] ? v[TK_AGENTS]->loc : m->loc, "e.g. agents: [a, b, c]",
                   "%s task '%s' needs at least 2 'agents'", type, label);
        if (!t->question.src)
            wf_err(c, m->loc, "e.g. question: Publish this piece?",
                   "%s task '%s' needs a "
                   "'question'",
                   type, label);
        if (!bad_options && (!t->options || json_array_size(t->options) < 2))
            wf_err(c, v[TK_OPTIONS] ? v[TK_OPTIONS]->loc : m->loc, "e.g. options: [publish, hold]",
                   "%s task '%s' needs at least 2 'options'", type, label);
    } else if (t->type == TASK_MAP) {
        if (!t->over.src)
            wf_err(c, m->loc, "e.g. over: \"{{ tasks.list.outputs.items }}\"",
                   "%s task '%s' needs 'over'", type, label);
        if (!v[TK_TASK] || is_null(v[TK_TASK]))
            wf_err(c, m->loc, "e.g. task: {agent: analyst, inputs: {x: \"{{ item }}\"}}",
                   "%s task '%s' needs a 'task'", type, label);
    } else if (t->type == TASK_TOOL && !t->tool && !(v[TK_TOOL] && !is_null(v[TK_TOOL]))) {
        wf_err(c, m->loc, "e.g. tool: http_fetch", "%s task '%s' needs a 'tool'", type, label);
    } else if (t->type == TASK_SUBFLOW && !t->subflow &&
               !(v[TK_WORKFLOW] && !is_null(v[TK_WORKFLOW]))) {
        wf_err(c, m->loc, "e.g. workflow: content_creation", "%s task '%s' needs a 'workflow'",
               type, label);
    }
    if (!t->inputs) t->inputs = json_object();
    if (t->type == TASK_TOOL && !t->args) t->args = json_object();
    if (!quality_set) t->quality_threshold = -1; /* resolved with the agent below */
    if (t->map_task) {
        t->map_task->id = t->id;
        if (!t->map_task->name) t->map_task->name = t->name ? t->name : t->id;
    }
    if (!t->name) t->name = t->id;
}

/* ---- agent resolution ---- */

typedef struct agent_res {
    wf_ctx_t *c;
    const char **cands; /* inline + catalog ids, for hints */
    size_t n_cands;
} agent_res_t;

static const wf_agent_t *find_agent(agent_res_t *r, const char *id) {
    workflow_t *wf = r->c->wf;
    for (size_t i = 0; i < wf->n_agents; i++)
        if (!strcmp(wf->agents[i].id, id)) return &wf->agents[i];
    for (size_t i = 0; i < wf->n_catalog_copies; i++)
        if (!strcmp(wf->catalog_copies[i].id, id)) return &wf->catalog_copies[i];
    const wf_agent_t *a = catalog_agent(r->c->cat, id);
    if (!a) return NULL;
    wf_agent_t *copy = &wf->catalog_copies[wf->n_catalog_copies++];
    copy_agent(r->c->arena, copy, a);
    return copy;
}

static const wf_agent_t *resolve_agent(agent_res_t *r, const char *id, src_loc_t loc) {
    const wf_agent_t *a = find_agent(r, id);
    if (a) return a;
    char hb[128];
    const char *h = wf_hint(r->c, hb, sizeof hb, id, r->cands, r->n_cands);
    wf_err(r->c, loc, h ? h : "define it under 'agents:' or add it to the agent catalog",
           "unknown agent '%.64s'", id);
    return NULL;
}

static const yt_node_t *task_value(const yt_node_t *m, const char *key) {
    return m && m->kind == YT_MAP ? yaml_tree_get(m, key) : NULL;
}

static void resolve_task_agents(agent_res_t *r, wf_task_t *t, const yt_node_t *m) {
    workflow_t *wf = r->c->wf;
    if (t->agent_id && (t->type == TASK_AGENT || t->type == TASK_HUMAN)) {
        const yt_node_t *an = task_value(m, "agent");
        if (t->type == TASK_HUMAN)
            t->agent = find_agent(r, t->agent_id); /* optional */
        else
            t->agent = resolve_agent(r, t->agent_id, an ? an->loc : t->loc);
    }
    if (t->n_consensus_agents) {
        const yt_node_t *list = task_value(m, "agents");
        t->consensus_agent_refs =
            arena_alloc(r->c->arena, t->n_consensus_agents * sizeof *t->consensus_agent_refs);
        for (size_t i = 0, k = 0; i < t->n_consensus_agents; i++) {
            /* get_str_list skipped bad entries, so walk the node list to the matching one */
            src_loc_t loc = t->loc;
            if (list && list->kind == YT_SEQ)
                for (; k < list->seq.n; k++)
                    if (list->seq.items[k]->kind == YT_SCALAR &&
                        !strcmp(S(list->seq.items[k]), t->consensus_agents[i])) {
                        loc = list->seq.items[k++]->loc;
                        break;
                    }
            const wf_agent_t *a = resolve_agent(r, t->consensus_agents[i], loc);
            if (a && a->is_human)
                wf_err(r->c, loc, "consensus voters are agents; add a human task after the vote",
                       "human_review cannot vote in a consensus");
            t->consensus_agent_refs[i] = a;
        }
    }
    /* Effective settings: the task's own, else the agent's, else the workflow defaults. */
    if (!t->model && t->agent && t->agent->model) t->model = json_incref(t->agent->model);
    if (!t->model && wf->default_model && t->type == TASK_AGENT)
        t->model = json_incref(wf->default_model);
    if (t->quality_threshold < 0) t->quality_threshold = t->agent ? t->agent->quality_threshold : 0;
    if (!t->artifact && t->agent && t->type == TASK_AGENT) t->artifact = t->agent->artifact;
    if (t->map_task) resolve_task_agents(r, t->map_task, task_value(m, "task"));
}

static void resolve_agents(wf_ctx_t *c) {
    workflow_t *wf = c->wf;
    agent_res_t r = {.c = c};
    size_t ncat = c->cat ? c->cat->n : 0;
    wf->catalog_copies = arena_alloc(c->arena, ncat * sizeof *wf->catalog_copies);
    r.cands = xmalloc((wf->n_agents + ncat + 1) * sizeof *r.cands);
    for (size_t i = 0; i < wf->n_agents; i++) r.cands[r.n_cands++] = wf->agents[i].id;
    for (size_t i = 0; i < ncat; i++) r.cands[r.n_cands++] = c->cat->agents[i].id;
    for (size_t i = 0; i < wf->n_tasks; i++)
        resolve_task_agents(&r, &wf->tasks[i], c->task_nodes[i]);
    free(r.cands);
}

/* ---- the workflow ---- */

enum {
    WK_NAME,
    WK_DESCRIPTION,
    WK_VERSION,
    WK_INPUTS,
    WK_VARIABLES,
    WK_TRIGGERS,
    WK_DEFAULTS,
    WK_CONCURRENCY,
    WK_BUDGET,
    WK_AGENTS,
    WK_TASKS,
    WK_COUNT
};
static const char *const TOP_KEYS[] = {"name",      "description", "version",  "inputs",
                                       "variables", "triggers",    "defaults", "concurrency",
                                       "budget",    "agents",      "tasks"};

static size_t utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void parse_tasks(wf_ctx_t *c, const yt_node_t *v, const yt_node_t *root) {
    workflow_t *wf = c->wf;
    if (!v || is_null(v)) {
        wf_err(c, v ? v->loc : root->loc, "add a list: tasks: [- id: first, agent: analyst]",
               "a workflow needs 'tasks'");
        return;
    }
    if (v->kind != YT_SEQ) {
        type_err(c, v, "tasks", "a list");
        return;
    }
    if (!v->seq.n) {
        wf_err(c, v->loc, "add at least one task", "'tasks' is empty");
        return;
    }
    if (v->seq.n > WF_MAX_TASKS) {
        wf_err(c, v->loc, "split the workflow, or use map tasks and subflows",
               "too many tasks: %zu (at most %d)", v->seq.n, WF_MAX_TASKS);
        return;
    }
    size_t n = v->seq.n;
    wf->tasks = arena_alloc(c->arena, n * sizeof *wf->tasks);
    wf->n_tasks = n;
    c->task_nodes = xcalloc(n, sizeof *c->task_nodes);
    c->id_locs = xcalloc(n, sizeof *c->id_locs);
    c->ids = xcalloc(n, sizeof *c->ids);
    for (size_t i = 0; i < n; i++) {
        const yt_node_t *m = v->seq.items[i];
        wf_task_t *t = &wf->tasks[i];
        if (m->kind != YT_MAP) {
            t->loc = m->loc;
            t->inputs = json_object();
            wf_err(c, m->loc, "e.g. - id: build\n    agent: developer",
                   "expected a mapping for a task, got %s", yaml_tree_describe(m));
            continue;
        }
        c->task_nodes[i] = m;
        parse_task(c, m, t, NULL);
        if (!t->id) continue;
        const yt_node_t *idv = yaml_tree_get(m, "id");
        c->id_locs[i] = idv->loc;
        long first = wf_strmap_put(&c->task_ids, t->id, (uint32_t)i);
        if (first >= 0)
            wf_err(c, idv->loc, "task ids are unique within a workflow",
                   "duplicate task id '%.64s' (first defined at line %u)", t->id,
                   c->id_locs[first].line);
        else
            c->ids[c->n_ids++] = t->id;
    }
}

workflow_t *workflow_load(const char *text, size_t len, const char *file,
                          const agent_catalog_t *catalog, wf_exists_fn subflow_exists,
                          void *subflow_ud, diag_list_t *diags) {
    workflow_t *wf = xcalloc(1, sizeof *wf);
    arena_init(&wf->arena, 64 << 10);
    wf->file = arena_strdup(&wf->arena, file ? file : "<input>");
    wf->version = "1.0";
    wf->default_timeout_s = 300;
    wf->default_max_retries = 3;
    backoff_defaults(&wf->default_backoff);
    wf->concurrency = 10;
    wf->budget_usd = -1;
    wf->inputs = json_object();
    wf->variables = json_object();

    wf_ctx_t c = {.file = wf->file,
                  .dl = diags,
                  .diag_start = diags->n,
                  .arena = &wf->arena,
                  .suggest_budget = WF_SUGGEST_BUDGET,
                  .wf = wf,
                  .cat = catalog,
                  .subflow_exists = subflow_exists,
                  .subflow_ud = subflow_ud};
    yaml_tree_t tree;
    int rc = yaml_tree_parse(&tree, text, len, wf->file, diags);
    c.tree = &tree;
    const yt_node_t *root = tree.root;
    if (rc == 0 && !root)
        wf_err(&c, (src_loc_t){0, 0}, "a workflow needs at least 'name' and 'tasks'",
               "the document is empty");
    else if (rc == 0 && root->kind != YT_MAP)
        wf_err(&c, root->loc, "a workflow is a mapping with 'name', 'tasks', ...",
               "expected a mapping at the top of the workflow, got %s", yaml_tree_describe(root));
    else if (rc == 0) {
        const yt_node_t *v[WK_COUNT];
        read_keys(&c, root, TOP_KEYS, WK_COUNT, "at the top level", v, NULL);
        if (!v[WK_NAME] || get_str(&c, v[WK_NAME], "name", &wf->name) == 0)
            wf_err(&c, v[WK_NAME] ? v[WK_NAME]->loc : root->loc, "e.g. name: Nightly report",
                   "a workflow needs a 'name'");
        else if (wf->name && (!*wf->name || utf8_chars(wf->name) > 200))
            wf_err(&c, v[WK_NAME]->loc, NULL, "'name' must be 1 to 200 characters, got %zu",
                   utf8_chars(wf->name));
        if (v[WK_DESCRIPTION]) get_str(&c, v[WK_DESCRIPTION], "description", &wf->description);
        if (v[WK_VERSION]) get_str(&c, v[WK_VERSION], "version", &wf->version);
        if (v[WK_INPUTS]) parse_inputs_decl(&c, v[WK_INPUTS]);
        if (v[WK_VARIABLES]) {
            json_t *vars = get_object(&c, v[WK_VARIABLES], "variables");
            if (vars) {
                json_decref(wf->variables);
                wf->variables = vars;
            }
        }
        if (v[WK_TRIGGERS]) parse_triggers(&c, v[WK_TRIGGERS]);
        if (v[WK_DEFAULTS]) parse_defaults(&c, v[WK_DEFAULTS]);
        if (v[WK_CONCURRENCY])
            get_int(&c, v[WK_CONCURRENCY], "concurrency", 1, WF_MAX_CONCURRENCY, &wf->concurrency);
        if (v[WK_BUDGET]) parse_budget(&c, v[WK_BUDGET]);
        if (v[WK_AGENTS] && get_map(&c, v[WK_AGENTS], "agents"))
            parse_inline_agents(&c, v[WK_AGENTS]);
        parse_tasks(&c, v[WK_TASKS], root);
        if (wf->n_tasks) {
            resolve_agents(&c);
            wf_validate(&c);
        }
    }
    yaml_tree_free(&tree);
    free(c.task_nodes);
    free(c.id_locs);
    free(c.ids);
    /* The id index outlives the load (workflow_task_index); workflow_free releases it. */
    wf->index_keys = c.task_ids.keys;
    wf->index_vals = c.task_ids.vals;
    wf->index_cap = c.task_ids.cap;
    if (diags->n > c.diag_start) {
        /* Sort only what this load added; earlier entries belong to the caller. */
        diag_list_t mine = {.items = diags->items + c.diag_start, .n = diags->n - c.diag_start};
        diag_sort(&mine);
        workflow_free(wf);
        return NULL;
    }
    return wf;
}

/* ---- ownership and lookups ---- */

static void free_task_json(wf_task_t *t) {
    json_decref(t->inputs);
    json_decref(t->model);
    json_decref(t->options);
    json_decref(t->args);
    if (t->map_task) free_task_json(t->map_task);
}

void workflow_free(workflow_t *wf) {
    if (!wf) return;
    json_decref(wf->inputs);
    json_decref(wf->variables);
    json_decref(wf->triggers);
    json_decref(wf->default_model);
    for (size_t i = 0; i < wf->n_agents; i++) free_agent_json(&wf->agents[i]);
    for (size_t i = 0; i < wf->n_catalog_copies; i++) free_agent_json(&wf->catalog_copies[i]);
    for (size_t i = 0; i < wf->n_tasks; i++) free_task_json(&wf->tasks[i]);
    free(wf->index_keys);
    free(wf->index_vals);
    arena_free(&wf->arena);
    free(wf);
}

int workflow_task_index(const workflow_t *wf, const char *id) {
    if (!wf || !id) return -1;
    wf_strmap_t m = {.keys = wf->index_keys, .vals = wf->index_vals, .cap = wf->index_cap};
    return (int)wf_strmap_get(&m, id);
}

const wf_task_t *workflow_task(const workflow_t *wf, const char *id) {
    int i = workflow_task_index(wf, id);
    return i < 0 ? NULL : &wf->tasks[i];
}

const char *task_type_name(task_type_t t) {
    return (unsigned)t < COUNT(TYPE_NAMES) ? TYPE_NAMES[t] : "unknown";
}
