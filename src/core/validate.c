/* validate.c - the semantic half of workflow validation: the dependency graph and templates.
 *
 * Runs after loader.c has built the tasks. Dependencies are resolved to indices; unknown and
 * duplicate ones are reported at the entry; cycles are found as strongly connected components
 * (Tarjan, iterative so a 10,000-task chain cannot exhaust the stack) and each component is
 * reported once, naming its shortest cycle through its first task. Templates are parsed where
 * they are written, so errors carry the line and column inside the string, and every name they
 * read is checked: tasks must exist and be upstream (the engine only guarantees that upstream
 * tasks have finished), `item`/`index` only exist inside a map body, `iteration`/`previous` only
 * in a task with a loop, inputs must be declared when the workflow declares any. */
#include "core/loader_priv.h"
#include "core/template.h"
#include "util/strbuf.h"

#include <stdio.h>

/* ---- dependencies ---- */

static void resolve_deps(wf_ctx_t *c) {
    workflow_t *wf = c->wf;
    uint32_t *seen = xcalloc(wf->n_tasks, sizeof *seen); /* stamp = task index + 1 */
    for (size_t i = 0; i < wf->n_tasks; i++) {
        wf_task_t *t = &wf->tasks[i];
        char lb[32];
        const char *label = wf_task_label(c, i, lb, sizeof lb);
        t->dep_index = arena_alloc(c->arena, t->n_deps * sizeof *t->dep_index);
        for (size_t j = 0; j < t->n_deps; j++) {
            const char *d = t->depends_on[j];
            long k = wf_strmap_get(&c->task_ids, d);
            t->dep_index[j] = UINT32_MAX;
            if (k < 0) {
                char hb[128];
                const char *h = wf_hint(c, hb, sizeof hb, d, c->ids, c->n_ids);
                wf_err(c, t->depends_on_loc[j],
                       h ? h : "depends_on names task ids of this workflow",
                       "unknown task '%.64s' in depends_on of task '%s'", d, label);
            } else if ((size_t)k == i) {
                wf_err(c, t->depends_on_loc[j], "remove it from depends_on",
                       "task '%s' depends on itself", label);
            } else if (seen[k] == i + 1) {
                wf_err(c, t->depends_on_loc[j], "list each dependency once",
                       "duplicate dependency '%.64s' in task '%s'", d, label);
            } else {
                seen[k] = (uint32_t)i + 1;
                t->dep_index[j] = (uint32_t)k;
            }
        }
    }
    free(seen);
}

/* Tarjan's strongly connected components over task -> dependency edges; comp[v] gets the
 * component number. Returns the number of components. */
static size_t find_sccs(const workflow_t *wf, uint32_t *comp) {
    size_t n = wf->n_tasks, idx = 0, ncomp = 0, sp = 0, cp = 0;
    uint32_t *index = xmalloc(n * sizeof *index), *low = xmalloc(n * sizeof *low);
    uint32_t *stack = xmalloc(n * sizeof *stack);
    bool *on = xcalloc(n, sizeof *on);
    struct call {
        uint32_t v;
        size_t edge;
    } *calls = xmalloc(n * sizeof *calls);
    for (size_t i = 0; i < n; i++) index[i] = UINT32_MAX;
    for (size_t root = 0; root < n; root++) {
        if (index[root] != UINT32_MAX) continue;
        calls[cp++] = (struct call){(uint32_t)root, 0};
        index[root] = low[root] = (uint32_t)idx++;
        stack[sp++] = (uint32_t)root;
        on[root] = true;
        while (cp) {
            struct call *f = &calls[cp - 1];
            const wf_task_t *t = &wf->tasks[f->v];
            if (f->edge < t->n_deps) {
                uint32_t w = t->dep_index[f->edge++];
                if (w == UINT32_MAX) continue;
                if (index[w] == UINT32_MAX) {
                    index[w] = low[w] = (uint32_t)idx++;
                    stack[sp++] = w;
                    on[w] = true;
                    calls[cp++] = (struct call){w, 0};
                } else if (on[w] && index[w] < low[f->v]) {
                    low[f->v] = index[w];
                }
                continue;
            }
            uint32_t v = f->v;
            if (low[v] == index[v]) {
                uint32_t w;
                do {
                    w = stack[--sp];
                    on[w] = false;
                    comp[w] = (uint32_t)ncomp;
                } while (w != v);
                ncomp++;
            }
            cp--;
            if (cp && low[v] < low[calls[cp - 1].v]) low[calls[cp - 1].v] = low[v];
        }
    }
    free(index);
    free(low);
    free(stack);
    free(on);
    free(calls);
    return ncomp;
}

/* Reports each dependency cycle once. Returns true when there is any. */
static bool report_cycles(wf_ctx_t *c, uint32_t *comp) {
    workflow_t *wf = c->wf;
    size_t n = wf->n_tasks;
    size_t ncomp = find_sccs(wf, comp);
    if (ncomp == n) return false;
    uint32_t *size = xcalloc(ncomp, sizeof *size);
    for (size_t i = 0; i < n; i++) size[comp[i]]++;
    bool *done = xcalloc(ncomp, sizeof *done);
    uint32_t *prev = xmalloc(n * sizeof *prev), *queue = xmalloc(n * sizeof *queue);
    bool any = false;
    for (size_t s = 0; s < n; s++) {
        uint32_t k = comp[s];
        if (size[k] < 2 || done[k]) continue;
        done[k] = true;
        any = true;
        /* Shortest path back to s along dependencies, inside the component (BFS). */
        for (size_t i = 0; i < n; i++) prev[i] = UINT32_MAX;
        size_t qh = 0, qt = 0;
        queue[qt++] = (uint32_t)s;
        uint32_t last = UINT32_MAX; /* the task whose dependency is s */
        while (qh < qt && last == UINT32_MAX) {
            uint32_t v = queue[qh++];
            const wf_task_t *t = &wf->tasks[v];
            for (size_t j = 0; j < t->n_deps; j++) {
                uint32_t w = t->dep_index[j];
                if (w == UINT32_MAX || comp[w] != k) continue;
                if (w == s) {
                    last = v;
                    break;
                }
                if (prev[w] == UINT32_MAX) {
                    prev[w] = v;
                    queue[qt++] = w;
                }
            }
        }
        /* Path in dependency order: s dep-> d1 dep-> ... dep-> last dep-> s. The message uses
         * run order, the reverse: s -> last -> ... -> d1 -> s ("a -> b": b runs after a). */
        size_t len = 0;
        for (uint32_t v = last; v != UINT32_MAX && v != s; v = prev[v]) len++;
        uint32_t *path = xmalloc((len + 1) * sizeof *path);
        size_t pi = 0;
        for (uint32_t v = last; v != UINT32_MAX && v != s; v = prev[v]) path[pi++] = v;
        /* path = last, ..., d1: already run order after s */
        strbuf_t sb = {0};
        char lb[32];
        sb_puts(&sb, wf_task_label(c, s, lb, sizeof lb));
        for (size_t i = 0; i < pi; i++) {
            if (i == 8 && pi > 10) {
                sb_printf(&sb, " -> ... (%zu more)", pi - 9);
                i = pi - 1;
            }
            sb_printf(&sb, " -> %s", wf_task_label(c, path[i], lb, sizeof lb));
        }
        sb_printf(&sb, " -> %s", wf_task_label(c, s, lb, sizeof lb));
        /* Located at the dependency of s that closes the cycle as named. */
        const wf_task_t *ts = &wf->tasks[s];
        uint32_t d1 = pi ? path[pi - 1] : last;
        src_loc_t loc = ts->loc;
        for (size_t j = 0; j < ts->n_deps; j++)
            if (ts->dep_index[j] == d1) loc = ts->depends_on_loc[j];
        wf_err(c, loc,
               "a task runs after its dependencies; remove one depends_on entry of this "
               "cycle",
               "dependency cycle: %s", sb_str(&sb));
        sb_free(&sb);
        free(path);
    }
    free(size);
    free(done);
    free(prev);
    free(queue);
    return any;
}

/* ---- upstream sets ---- */

typedef struct graph {
    wf_ctx_t *c;
    uint32_t *comp; /* SCC per task */
    bool cyclic;
    uint64_t *closure; /* n x words bits: closure[t] = every task upstream of t; lazily built */
    size_t words;
    bool *has_closure; /* false for tasks in or after a cycle: their errors are the cycle */
} graph_t;

static void build_closure(graph_t *g) {
    workflow_t *wf = g->c->wf;
    size_t n = wf->n_tasks;
    g->words = (n + 63) / 64;
    g->closure = xcalloc(n * g->words, sizeof *g->closure);
    g->has_closure = xcalloc(n, sizeof *g->has_closure);
    /* Kahn's order on task -> dependency edges reversed: a task is ready once all its
     * dependencies have their closure. */
    uint32_t *pending = xcalloc(n, sizeof *pending), *queue = xmalloc(n * sizeof *queue);
    size_t *off = xcalloc(n + 1, sizeof *off);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < wf->tasks[i].n_deps; j++)
            if (wf->tasks[i].dep_index[j] != UINT32_MAX) {
                pending[i]++;
                off[wf->tasks[i].dep_index[j] + 1]++;
            }
    for (size_t i = 0; i < n; i++) off[i + 1] += off[i];
    uint32_t *dependents = xmalloc((off[n] + 1) * sizeof *dependents);
    size_t *fill = xmalloc((n + 1) * sizeof *fill);
    memcpy(fill, off, (n + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < wf->tasks[i].n_deps; j++) {
            uint32_t d = wf->tasks[i].dep_index[j];
            if (d != UINT32_MAX) dependents[fill[d]++] = (uint32_t)i;
        }
    size_t qh = 0, qt = 0;
    for (size_t i = 0; i < n; i++)
        if (!pending[i]) queue[qt++] = (uint32_t)i;
    while (qh < qt) {
        uint32_t v = queue[qh++];
        uint64_t *cv = g->closure + (size_t)v * g->words;
        const wf_task_t *t = &wf->tasks[v];
        for (size_t j = 0; j < t->n_deps; j++) {
            uint32_t d = t->dep_index[j];
            if (d == UINT32_MAX) continue;
            const uint64_t *cd = g->closure + (size_t)d * g->words;
            for (size_t w = 0; w < g->words; w++) cv[w] |= cd[w];
            cv[d / 64] |= 1ull << (d % 64);
        }
        g->has_closure[v] = true;
        for (size_t e = off[v]; e < off[v + 1]; e++)
            if (!--pending[dependents[e]]) queue[qt++] = dependents[e];
    }
    free(pending);
    free(queue);
    free(off);
    free(dependents);
    free(fill);
}

/* 1 upstream, 0 not, -1 unknown (the task is in or behind a cycle). */
static int is_upstream(graph_t *g, size_t self, size_t other) {
    const wf_task_t *t = &g->c->wf->tasks[self];
    for (size_t j = 0; j < t->n_deps; j++)
        if (t->dep_index[j] == other) return 1;
    if (!g->closure) build_closure(g); /* only when a template reads beyond direct deps */
    if (!g->has_closure[self]) return -1;
    return (g->closure[self * g->words + other / 64] >> (other % 64)) & 1;
}

/* ---- templates ---- */

static const char *const ROOTS[] = {"inputs", "variables", "tasks",    "run",      "item",
                                    "index",  "iteration", "previous", "artifacts"};
static const char *const RUN_FIELDS[] = {"id", "started_at"};

typedef struct tctx {
    wf_ctx_t *c;
    graph_t *g;
    size_t self;           /* the task (for a map body: the map task) */
    const wf_task_t *task; /* the task whose strings these are (for a map body: the body) */
    bool in_map, has_loop, in_until;
    const yt_node_t *str; /* the string being checked */
} tctx_t;

static const char **object_keys(const json_t *o, size_t *n) {
    *n = json_object_size(o);
    const char **k = xmalloc((*n + 1) * sizeof *k);
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) k[i++] = key;
    *n = i;
    return k;
}

static void unknown_name(tctx_t *x, src_loc_t loc, const char *kind, const char *name,
                         const json_t *a, const json_t *b, const char *fallback) {
    size_t na, nb;
    const char **ka = object_keys(a, &na), **kb = b ? object_keys(b, &nb) : NULL;
    if (!b) nb = 0;
    const char **all = xmalloc((na + nb + 1) * sizeof *all);
    memcpy(all, ka, na * sizeof *all);
    if (nb) memcpy(all + na, kb, nb * sizeof *all);
    char hb[160];
    const char *h = wf_hint(x->c, hb, sizeof hb, name, all, na + nb);
    wf_err(x->c, loc, h ? h : fallback, "unknown %s '%.64s'", kind, name);
    free(ka);
    free(kb);
    free(all);
}

static void check_ref(void *ud, const char *root, const char *member, size_t offset) {
    tctx_t *x = ud;
    wf_ctx_t *c = x->c;
    workflow_t *wf = c->wf;
    src_loc_t loc = yaml_tree_offset_loc(c->tree, x->str, offset);
    char lb[32], hb[160];
    const char *self = wf_task_label(c, x->self, lb, sizeof lb);
    if (!root) return;
    if (!strcmp(root, "tasks")) {
        if (!member) {
            wf_err(c, loc, "e.g. tasks.build.outputs.result",
                   "'tasks' must be followed by a "
                   "task id");
            return;
        }
        long k = wf_strmap_get(&c->task_ids, member);
        if (k < 0) {
            const char *h = wf_hint(c, hb, sizeof hb, member, c->ids, c->n_ids);
            wf_err(c, loc, h ? h : "tasks.ID names a task of this workflow", "unknown task '%.64s'",
                   member);
        } else if ((size_t)k == x->self) {
            if (!x->in_until)
                wf_err(c, loc,
                       x->has_loop ? "use 'previous' for the last iteration's output"
                                   : "a task can only read the tasks it depends on",
                       "task '%s' reads its own result (tasks.%s); only its loop.until may", self,
                       member);
        } else if (!is_upstream(x->g, x->self, (size_t)k)) {
            snprintf(hb, sizeof hb, "add '%.64s' to depends_on of task '%s'", member, self);
            wf_err(c, loc, hb,
                   "task '%s' reads tasks.%s but %s is not upstream of it; add it to "
                   "depends_on",
                   self, member, member);
        }
    } else if (!strcmp(root, "item") || !strcmp(root, "index")) {
        if (!x->in_map)
            wf_err(c, loc, "they hold the current element inside a map task's 'task'",
                   "'%s' is only available inside the body of a map task", root);
    } else if (!strcmp(root, "iteration") || !strcmp(root, "previous")) {
        if (!x->has_loop)
            wf_err(c, loc, "add loop: {until: ..., max_iterations: N} to the task",
                   "'%s' is only available in a task with a loop", root);
    } else if (!strcmp(root, "inputs")) {
        if (member && c->has_inputs_decl && !json_object_get(wf->inputs, member))
            unknown_name(x, loc, "input", member, wf->inputs, NULL,
                         "declare it under 'inputs:' at the top of the workflow");
    } else if (!strcmp(root, "variables")) {
        /* Without an inputs block any run input may override or add a variable. */
        if (member && c->has_inputs_decl && !json_object_get(wf->variables, member) &&
            !json_object_get(wf->inputs, member))
            unknown_name(x, loc, "variable", member, wf->variables, wf->inputs,
                         "declare it under 'variables:' or 'inputs:'");
    } else if (!strcmp(root, "run")) {
        if (member && strcmp(member, "id") && strcmp(member, "started_at")) {
            const char *h = wf_hint(c, hb, sizeof hb, member, RUN_FIELDS, 2);
            wf_err(c, loc, h ? h : "run has: id, started_at", "unknown run field '%.64s'", member);
        }
    } else if (strcmp(root, "artifacts")) {
        const char *h = wf_hint(c, hb, sizeof hb, root, ROOTS, sizeof ROOTS / sizeof *ROOTS);
        wf_err(c, loc,
               h ? h
                 : "names start with inputs, variables, tasks, run, item, index, "
                   "iteration, previous or artifacts",
               "unknown name '%.64s'", root);
    }
}

/* ---- output fields ---- */

/* Whether every object valid under `schema` has only the keys of its `properties`, so a name
 * that is not one of them can only be a mistake: `properties` is declared, additionalProperties
 * is false and no patternProperties admit other keys. A schema that leaves other keys open
 * (additionalProperties absent, true or a schema) is not checked: the model may send them. */
static bool schema_closed(const json_t *schema) {
    return json_is_object(json_object_get(schema, "properties")) &&
           json_is_false(json_object_get(schema, "additionalProperties")) &&
           !json_object_size(json_object_get(schema, "patternProperties"));
}

/* tasks.X.outputs.F(.G...) where X is an agent task whose JSON output schema is closed: F must
 * be one of its properties, and so on down while the nested schemas are closed too; the same for
 * previous.F in a loop (the task's own outputs). Other task types' outputs are Baton's (human
 * answer, tally, map items) and not the agent's schema. */
static void check_output_path(void *ud, const expr_path_t *p) {
    tctx_t *x = ud;
    wf_ctx_t *c = x->c;
    const wf_task_t *src = NULL;
    size_t first; /* index of the first output field in p->keys */
    if (!strcmp(p->root, "tasks") && p->n >= 3 && !strcmp(p->keys[1], "outputs")) {
        long k = wf_strmap_get(&c->task_ids, p->keys[0]);
        if (k < 0) return; /* reported by check_ref */
        src = &c->wf->tasks[k];
        first = 2;
    } else if (!strcmp(p->root, "previous") && p->n >= 1 && x->has_loop) {
        src = x->task;
        first = 0;
    } else {
        return;
    }
    const wf_agent_t *a = src && src->type == TASK_AGENT ? src->agent : NULL;
    if (!a || a->format != OUTPUT_JSON || !a->schema) return;
    const json_t *schema = a->schema;
    for (size_t j = first; j < p->n && schema_closed(schema); j++) {
        const json_t *props = json_object_get(schema, "properties");
        const json_t *sub = json_object_get(props, p->keys[j]);
        if (sub) {
            schema = sub;
            continue;
        }
        size_t n;
        const char **names = object_keys(props, &n);
        strbuf_t path = {0}, list = {0};
        sb_puts(&path, p->root);
        for (size_t i = 0; i < j; i++) sb_printf(&path, ".%s", p->keys[i]);
        for (size_t i = 0; i < n && i < 12; i++) sb_printf(&list, "%s%s", i ? ", " : "", names[i]);
        if (n > 12) sb_puts(&list, ", ...");
        char hb[160], fb[400];
        const char *h = wf_hint(c, hb, sizeof hb, p->keys[j], names, n);
        snprintf(fb, sizeof fb, "the output schema of agent '%s' has: %s", a->id,
                 n ? sb_str(&list) : "no fields");
        wf_err(c, yaml_tree_offset_loc(c->tree, x->str, p->key_off[j]), h ? h : fb,
               "unknown output field '%.64s' in %s: agent '%s' does not declare it", p->keys[j],
               sb_str(&path), a->id);
        sb_free(&path);
        sb_free(&list);
        free(names);
        return;
    }
}

/* Parses one string as a template and checks it; `expr_only` strings (if, until) must hold an
 * expression, since a literal there would be a constant that is always true. */
static void check_string(tctx_t *x, const yt_node_t *s, const char *key, bool expr_only) {
    if (!s || s->kind != YT_SCALAR || yaml_tree_resolve(s, NULL, NULL, NULL) != YT_STR) {
        yt_scalar_type_t ty =
            s && s->kind == YT_SCALAR ? yaml_tree_resolve(s, NULL, NULL, NULL) : YT_NULL;
        if (expr_only && ty != YT_NULL)
            wf_err(x->c, s->loc, "write it as an expression, e.g. \"{{ true }}\"",
                   "'%s' must be a {{ expression }}", key);
        return;
    }
    expr_error_t err = {0};
    tmpl_t *t = tmpl_parse(s->scalar.str, s->scalar.len, &err);
    if (!t) {
        err.message[sizeof err.message - 1] = 0;
        wf_err(x->c, yaml_tree_offset_loc(x->c->tree, s, err.offset),
               "templates are \"{{ expression }}\"; see the workflow language reference",
               "invalid template in '%s': %s", key, err.message);
        return;
    }
    if (expr_only && tmpl_is_literal(t))
        wf_err(x->c, s->loc, "write it as an expression, e.g. \"{{ tasks.check.outputs.ok }}\"",
               "'%s' must be a {{ expression }}; a plain string is always true", key);
    x->str = s;
    tmpl_visit_refs(t, check_ref, x);
    tmpl_visit_paths(t, check_output_path, x);
    tmpl_free(t);
}

/* Every string inside a value (not the keys). Depth is bounded by the YAML depth limit. */
static void check_deep(tctx_t *x, const yt_node_t *n, const char *key) {
    if (!n) return;
    if (n->kind == YT_SCALAR)
        check_string(x, n, key, false);
    else if (n->kind == YT_SEQ)
        for (size_t i = 0; i < n->seq.n; i++) check_deep(x, n->seq.items[i], key);
    else
        for (size_t i = 0; i < n->map.n; i++) check_deep(x, n->map.pairs[i].value, key);
}

static void check_task_templates(tctx_t *x, const yt_node_t *m, const wf_task_t *t) {
    if (!m || m->kind != YT_MAP) return;
    x->task = t;
    x->has_loop = t->loop_until.src != NULL;
    x->in_until = false;
    check_string(x, yaml_tree_get(m, "prompt"), "prompt", false);
    check_deep(x, yaml_tree_get(m, "inputs"), "inputs");
    check_deep(x, yaml_tree_get(m, "args"), "args");
    check_string(x, yaml_tree_get(m, "question"), "question", false);
    if (t->type == TASK_HUMAN) {
        check_string(x, yaml_tree_get(m, "title"), "title", false);
        check_string(x, yaml_tree_get(m, "description"), "description", false);
    }
    const yt_node_t *conds = yaml_tree_get(m, "conditions");
    if (conds && conds->kind == YT_SEQ)
        for (size_t i = 0; i < conds->seq.n; i++)
            check_string(x, yaml_tree_get(conds->seq.items[i], "if"), "if", true);
    const yt_node_t *loop = yaml_tree_get(m, "loop");
    if (loop) {
        x->in_until = true;
        check_string(x, yaml_tree_get(loop, "until"), "until", true);
        x->in_until = false;
    }
    if (t->type == TASK_MAP) {
        /* `over` is evaluated for the map task itself, before any item exists. */
        bool in_map = x->in_map;
        check_string(x, yaml_tree_get(m, "over"), "over", false);
        if (t->map_task) {
            x->in_map = true;
            check_task_templates(x, yaml_tree_get(m, "task"), t->map_task);
        }
        x->in_map = in_map;
        x->task = t;
        x->has_loop = t->loop_until.src != NULL;
    }
}

void wf_validate(wf_ctx_t *c) {
    workflow_t *wf = c->wf;
    resolve_deps(c);
    graph_t g = {.c = c};
    g.comp = xmalloc(wf->n_tasks * sizeof *g.comp);
    g.cyclic = report_cycles(c, g.comp);
    for (size_t i = 0; i < wf->n_tasks && !c->capped; i++) {
        tctx_t x = {.c = c, .g = &g, .self = i};
        check_task_templates(&x, c->task_nodes[i], &wf->tasks[i]);
    }
    free(g.comp);
    free(g.closure);
    free(g.has_closure);
}
