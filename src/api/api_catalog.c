/* api_catalog.c - who does the work (see api.h): the agent catalog with what each agent is
 * doing and has done, and the model router's candidates with their limits and spending.
 *
 * Agents' figures come from the store: the tasks projection and llm_calls, joined through each
 * run's own task -> agent map. The projections do not record which agent a task used, so the map
 * is read from the workflow the run journaled (run.created), once per run: a run's workflow
 * never changes. docs/api.md says what each figure means. */
#include "api/answer.h"
#include "api/page.h"
#include "api/handlers.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- task -> agent, per run ------------------------------------------------------------- */

static json_t *read_task_agents(api_t *a, const char *run_id) {
    json_t *created = store_run_created(a->store, run_id);
    diag_list_t dl = {0};
    /* Subflows are not looked up: only the tasks' agents are wanted. */
    workflow_t *wf = created ? workflow_load_journaled(created, NULL, NULL, &dl) : NULL;
    json_t *map = wf ? workflow_task_agents(wf) : json_object();
    workflow_free(wf);
    diag_list_free(&dl);
    json_decref(created);
    return map;
}

/* Reading a run's workflow back costs about a millisecond, so each run's map is read once and
 * kept. Runs of one workflow have the same map and share it: what the cache holds per run is an
 * entry and a reference (~100 bytes), so a store of 100,000 runs costs ~10 MB. */
const json_t *api_task_agents(api_t *a, const char *run_id) {
    if (!a->task_agents) {
        a->task_agents = json_object();
        a->agent_maps = json_object();
    }
    json_t *map = json_object_get(a->task_agents, run_id);
    if (map) return map;
    map = read_task_agents(a, run_id);
    char *key = json_dumps(map, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *shared = key ? json_object_get(a->agent_maps, key) : NULL;
    if (shared) {
        json_decref(map);
        map = json_incref(shared);
    } else if (key) {
        json_object_set(a->agent_maps, key, map);
    }
    free(key);
    json_object_set_new(a->task_agents, run_id, map);
    return map;
}

/* ---- agents ------------------------------------------------------------------------------- */

/* What one agent's tasks add up to. */
typedef struct agent_figures {
    json_t *current;                     /* [{run_id, task_id}] running now */
    json_int_t tasks, completed, failed; /* tasks started; of them, finished so */
    json_int_t timed, duration_ms;       /* finished tasks with both times, their total time */
    json_int_t calls, failed_calls, input_tokens, output_tokens, call_ms;
    double cost_usd;
} agent_figures_t;

static json_int_t iget(const json_t *o, const char *k) {
    return json_integer_value(json_object_get(o, k));
}
static bool is(const json_t *o, const char *k, const char *v) {
    const char *s = json_string_value(json_object_get(o, k));
    return s && !strcmp(s, v);
}

/* A task running in a run that has not finished: its agent is at work. */
static bool running_now(const json_t *row) {
    return is(row, "status", "running") &&
           (is(row, "run_status", "running") || is(row, "run_status", "waiting_human") ||
            is(row, "run_status", "paused"));
}

static void add_task(agent_figures_t *f, const json_t *row) {
    f->tasks++;
    if (running_now(row))
        json_array_append_new(f->current,
                              json_pack("{s:O, s:O}", "run_id", json_object_get(row, "run_id"),
                                        "task_id", json_object_get(row, "task_id")));
    bool done = is(row, "status", "completed"), failed = is(row, "status", "failed");
    f->completed += done;
    f->failed += failed;
    const json_t *start = json_object_get(row, "started_at"),
                 *end = json_object_get(row, "finished_at");
    if ((done || failed) && json_is_integer(start) && json_is_integer(end)) {
        f->timed++;
        f->duration_ms += json_integer_value(end) - json_integer_value(start);
    }
    f->calls += iget(row, "calls");
    f->failed_calls += iget(row, "failed_calls");
    f->input_tokens += iget(row, "input_tokens");
    f->output_tokens += iget(row, "output_tokens");
    f->call_ms += iget(row, "call_ms");
    f->cost_usd += json_number_value(json_object_get(row, "cost_usd"));
}

/* part / whole, or null when there is no whole. */
static json_t *ratio(double part, json_int_t whole) {
    return whole ? json_real(part / (double)whole) : json_null();
}

static json_t *agent_view(const wf_agent_t *ag, agent_figures_t *f) {
    json_t *tools = json_array();
    for (size_t i = 0; i < ag->n_tools; i++) json_array_append_new(tools, api_text(ag->tools[i]));
    json_t *v = json_pack(
        "{s:o, s:o?, s:o?, s:o?, s:O?, s:o, s:s, s:o}", "id", api_text(ag->id), "name",
        ag->name ? api_text(ag->name) : NULL, "role", ag->role ? api_text(ag->role) : NULL, "goal",
        ag->goal ? api_text(ag->goal) : NULL, "model", ag->model, "tools", tools, "status",
        json_array_size(f->current) ? "working" : "idle", "current", f->current);
    json_t *stats = json_pack(
        "{s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:f}", "tasks_total", f->tasks,
        "completed", f->completed, "failed", f->failed, "success_rate",
        ratio((double)f->completed, f->completed + f->failed), "mean_duration_ms",
        ratio((double)f->duration_ms, f->timed), "calls", f->calls, "failed_calls", f->failed_calls,
        "input_tokens", f->input_tokens, "output_tokens", f->output_tokens, "mean_call_ms",
        ratio((double)f->call_ms, f->calls), "cost_usd", f->cost_usd);
    json_object_update(v, stats);
    json_decref(stats);
    return v;
}

/* The index in the catalog of the agent a task row counts for, or -1 (catalogs hold tens of
 * agents: a scan is enough). */
static int agent_of(api_t *a, const json_t *row) {
    const json_t *map = api_task_agents(a, json_string_value(json_object_get(row, "run_id")));
    const char *task = json_string_value(json_object_get(row, "task_id"));
    const char *id = json_string_value(json_object_get(map, task));
    for (size_t i = 0; id && i < a->catalog->n; i++)
        if (!strcmp(a->catalog->agents[i].id, id)) return (int)i;
    return -1;
}

/* Every catalog agent (only: the one of id `only`, when given) with its status and figures;
 * NULL (and a 500 sent) when the tasks cannot be read. */
static json_t *agents_view(http_req_t *req, api_t *a, const char *only) {
    json_t *rows = store_task_activity(a->store);
    if (!rows) {
        api_error(req, 500, "internal", "the tasks cannot be read");
        return NULL;
    }
    size_t n = a->catalog ? a->catalog->n : 0;
    agent_figures_t *figs = xcalloc(n ? n : 1, sizeof *figs);
    for (size_t k = 0; k < n; k++) figs[k].current = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        int k = n ? agent_of(a, row) : -1;
        if (k >= 0) add_task(&figs[k], row);
    }
    json_decref(rows);
    json_t *items = json_array();
    for (size_t k = 0; k < n; k++) {
        if (!only || !strcmp(a->catalog->agents[k].id, only))
            json_array_append_new(items, agent_view(&a->catalog->agents[k], &figs[k]));
        else
            json_decref(figs[k].current);
    }
    free(figs);
    return items;
}

/* GET /api/v1/agents: {items: [each catalog agent with its status and figures], next_cursor},
 * by id. */
void api_agents_list(http_req_t *req, api_t *a, char **params) {
    (void)params;
    json_t *items = agents_view(req, a, NULL);
    if (items) api_page_answer(req, items, "id", false, 100);
}

/* GET /api/v1/agents/{id}: one agent as the list shows it; 404 agent_not_found otherwise. */
void api_agent_get(http_req_t *req, api_t *a, char **params) {
    json_t *items = agents_view(req, a, params[0]);
    if (!items) return;
    if (json_array_size(items))
        api_json(req, 200, json_incref(json_array_get(items, 0)));
    else
        api_error(req, 404, "agent_not_found", "no agent '%.100s' in the catalog", params[0]);
    json_decref(items);
}

/* ---- providers ----------------------------------------------------------------------------- */

/* The limits configured for a candidate's provider (providers.NAME.limits), null when none; a
 * limit that is 0 or absent is off (null). */
static json_t *configured_limits(const json_t *config, const char *candidate) {
    const char *slash = strchr(candidate, '/');
    char provider[128];
    snprintf(provider, sizeof provider, "%.*s",
             slash ? (int)(slash - candidate) : (int)strlen(candidate), candidate);
    const json_t *lc =
        json_object_get(json_object_get(json_object_get(config, "providers"), provider), "limits");
    if (!json_is_object(lc)) return json_null();
    json_t *out = json_object();
    static const char *const keys[] = {"concurrency", "requests_per_minute", "tokens_per_minute"};
    for (size_t k = 0; k < 3; k++) {
        const json_t *v = json_object_get(lc, keys[k]);
        json_object_set_new(out, keys[k],
                            json_is_number(v) && json_number_value(v) > 0 ? json_copy((json_t *)v)
                                                                          : json_null());
    }
    json_object_set_new(out, "queue_timeout_ms",
                        json_integer(wf_duration_ms(json_object_get(lc, "queue_timeout"), 60000)));
    return out;
}

static json_t *spend_of(const json_t *spend, const char *id) {
    const json_t *s = json_object_get(spend, id);
    return s ? json_incref((json_t *)s)
             : json_pack("{s:i, s:i, s:f}", "calls", 0, "failed", 0, "cost_usd", 0.0);
}

/* GET /api/v1/providers: {items: [every router candidate: id, local, prices, breaker,
 * consecutive_failures, latency_ms, success_rate, limits (configured), in_flight, queued,
 * today, total]}. */
void api_providers_list(http_req_t *req, api_t *a, char **params) {
    (void)params;
    json_t *list = router_describe(host_router(a->host));
    json_t *today = store_llm_spend_since(a->store, clock_today_start_ms());
    json_t *total = store_llm_spend_since(a->store, 0);
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        /* router_describe's `limits` is the limiter's live state: its load is shown apart from
         * what the configuration sets */
        const json_t *live = json_object_get(c, "limits");
        json_int_t in_flight = json_integer_value(json_object_get(live, "in_flight"));
        json_int_t queued = json_integer_value(json_object_get(live, "queued"));
        json_object_set_new(c, "in_flight", json_integer(in_flight));
        json_object_set_new(c, "queued", json_integer(queued));
        json_object_set_new(c, "limits", configured_limits(host_config(a->host), id));
        json_object_set_new(c, "today", spend_of(today, id));
        json_object_set_new(c, "total", spend_of(total, id));
    }
    json_decref(today);
    json_decref(total);
    api_page_answer(req, list, "id", false, 100);
}
