/* api.c - route table and the health/status handlers (see api.h). */
#include "api/api.h"
#include "util/clock.h"
#include "api/route.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static void answer_json(http_req_t *req, int status, json_t *body) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (!text) { /* a body that could not be built is a bug here, never a crash */
        static const char fallback[] = "{\"error\":{\"code\":\"internal\",\"message\":\"the answer could not be encoded\"}}";
        http_respond(req, 500, NULL, fallback, sizeof fallback - 1);
    } else {
        http_respond(req, status, NULL, text, strlen(text));
    }
    free(text);
    json_decref(body);
}

/* A JSON string of text that may quote the client (a path, a workflow's names): bytes that are
 * not UTF-8 become '?', as jansson takes nothing else. */
static json_t *client_text(const char *s) {
    char *valid = utf8_valid(s, s ? strlen(s) : 0);
    json_t *j = json_string(valid);
    free(valid);
    return j;
}

void api_error(http_req_t *req, int status, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    answer_json(req, status, json_pack("{s:{s:s, s:o}}", "error", "code", code, "message", client_text(msg)));
}

static void health(http_req_t *req, api_t *a) {
    answer_json(req, 200, json_pack("{s:s, s:s, s:I}", "status", "ok", "version", BATON_VERSION,
                                    "uptime_s", (json_int_t)((clock_now_ms_f() - a->started_ms) / 1000)));
}

static void ready(http_req_t *req, api_t *a) {
    char *err = NULL;
    if (store_ping(a->store, &err) != 0) {
        answer_json(req, 503, json_pack("{s:s, s:s}", "status", "unavailable", "reason", err ? err : "?"));
        free(err);
        return;
    }
    answer_json(req, 200, json_pack("{s:s}", "status", "ready"));
}

static void status(http_req_t *req, api_t *a) {
    json_t *running = store_runs(a->store, "running", 0);
    json_t *pending = store_approvals(a->store, NULL, "pending");
    json_t *providers = json_array();
    json_t *cands = a->router ? router_describe(a->router) : json_array();
    size_t i;
    json_t *c;
    json_array_foreach(cands, i, c) {
        json_array_append_new(providers, json_pack("{s:O, s:O, s:O}", "id", json_object_get(c, "id"),
                                                   "breaker", json_object_get(c, "breaker"), "local",
                                                   json_object_get(c, "local")));
    }
    json_decref(cands);
    answer_json(req, 200, json_pack("{s:I, s:I, s:o, s:I}", "active_runs",
                                    (json_int_t)json_array_size(running), "pending_approvals",
                                    (json_int_t)json_array_size(pending), "providers", providers,
                                    "connections",
                                    (json_int_t)(a->server ? http_server_connections(a->server) : 0)));
    json_decref(running);
    json_decref(pending);
}

/* ---- query strings ------------------------------------------------------------------------ */

/* A whole number in [lo, hi] from the query, dflt when absent; false (and a 400 sent) when the
 * value is not one. */
static bool query_int(http_req_t *req, const char *key, long long lo, long long hi, long long dflt,
                      long long *out) {
    char v[32];
    *out = dflt;
    if (!route_query(req->query, key, v, sizeof v)) return true;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
        api_error(req, 400, "bad_request", "%s must be a whole number from %lld to %lld", key, lo, hi);
        return false;
    }
    *out = n;
    return true;
}

/* ---- runs ------------------------------------------------------------------------------------ */

/* GET /api/v1/runs?status=&workflow=&since=MS&limit=N&cursor=C: newest first, `limit` (1-100,
 * default 20) at a time; next_cursor (or null) fetches the page after. The cursor is opaque to
 * clients: "<created_at>.<id>" of the page's last run. */
static void runs_list(http_req_t *req, api_t *a, char **params) {
    (void)params;
    long long limit, since;
    if (!query_int(req, "limit", 1, 100, 20, &limit) || !query_int(req, "since", 0, INT64_MAX, 0, &since)) return;
    char status[64] = "", workflow[256] = "", cursor[128] = "";
    store_runs_query_t q = {.since_ms = since, .limit = (int)limit + 1};
    if (route_query(req->query, "status", status, sizeof status)) q.status = status;
    if (route_query(req->query, "workflow", workflow, sizeof workflow)) q.workflow = workflow;
    if (route_query(req->query, "cursor", cursor, sizeof cursor)) {
        char *dot = strchr(cursor, '.'), *end;
        long long at = dot ? strtoll(cursor, &end, 10) : -1;
        if (!dot || end != dot || at < 0 || !dot[1]) {
            api_error(req, 400, "bad_request", "cursor is not one this server gave out");
            return;
        }
        q.after_created_ms = at;
        q.after_id = dot + 1;
    }
    json_t *rows = store_runs_page(a->store, &q);
    if (!rows) {
        api_error(req, 500, "internal", "the runs could not be read");
        return;
    }
    json_t *next = json_null();
    if (json_array_size(rows) > (size_t)limit) {
        json_array_remove(rows, (size_t)limit);
        const json_t *last = json_array_get(rows, (size_t)limit - 1);
        char *c = xasprintf("%lld.%s", (long long)json_integer_value(json_object_get(last, "created_at")),
                            json_string_value(json_object_get(last, "id")));
        next = json_string(c);
        free(c);
    }
    answer_json(req, 200, json_pack("{s:o, s:o}", "items", rows, "next_cursor", next));
}

static void run_get(http_req_t *req, api_t *a, char **params) {
    json_t *sum = store_run_summary(a->store, params[0]);
    if (!sum) {
        api_error(req, 404, "not_found", "no run '%.100s'", params[0]);
        return;
    }
    answer_json(req, 200, sum);
}

typedef struct events_page {
    json_t *items;
    size_t max;
} events_page_t;

static int collect_event(void *ud, uint64_t seq, int64_t ts_ms, const char *type, json_t *data) {
    events_page_t *p = ud;
    if (json_array_size(p->items) >= p->max) return 1; /* enough: stop reading */
    json_array_append_new(p->items, json_pack("{s:I, s:I, s:s, s:O}", "seq", (json_int_t)seq, "ts",
                                              (json_int_t)ts_ms, "type", type, "data", data));
    return 0;
}

/* GET /api/v1/runs/{id}/events?after=SEQ&limit=N: the journal after SEQ, in order, `limit`
 * (1-1000, default 500) at a time; next_after continues it (null at the end). */
static void run_events(http_req_t *req, api_t *a, char **params) {
    long long after, limit;
    if (!query_int(req, "after", 0, INT64_MAX, 0, &after) || !query_int(req, "limit", 1, 1000, 500, &limit))
        return;
    json_t *run = store_run(a->store, params[0]);
    if (!run) {
        api_error(req, 404, "not_found", "no run '%.100s'", params[0]);
        return;
    }
    json_decref(run);
    events_page_t p = {json_array(), (size_t)limit + 1};
    store_events(a->store, params[0], (uint64_t)after, collect_event, &p);
    json_t *next = json_null();
    if (json_array_size(p.items) > (size_t)limit) {
        json_array_remove(p.items, (size_t)limit);
        next = json_incref(json_object_get(json_array_get(p.items, (size_t)limit - 1), "seq"));
    }
    answer_json(req, 200, json_pack("{s:o, s:o}", "items", p.items, "next_after", next));
}

/* ---- workflows --------------------------------------------------------------------------------- */

/* POST /api/v1/workflows/validate, the workflow's YAML (or JSON) as the body: 200 {valid, name,
 * tasks}, or 422 with every located error, as `baton validate --json` lists them. */
static void workflows_validate(http_req_t *req, api_t *a, char **params) {
    (void)params;
    if (!req->body_len) {
        api_error(req, 400, "bad_request", "the body must be a workflow (YAML or JSON)");
        return;
    }
    diag_list_t dl = {0};
    workflow_t *wf = workflow_load(req->body, req->body_len, "workflow.yaml", a->catalog, NULL, NULL, &dl);
    if (wf) {
        answer_json(req, 200, json_pack("{s:b, s:o?, s:I}", "valid", 1, "name",
                                        wf->name ? client_text(wf->name) : NULL, "tasks",
                                        (json_int_t)wf->n_tasks));
        workflow_free(wf);
        diag_list_free(&dl);
        return;
    }
    diag_sort(&dl);
    json_t *details = json_array();
    for (size_t k = 0; k < dl.n; k++)
        json_array_append_new(details, json_pack("{s:i, s:i, s:o, s:o?}", "line", dl.items[k].loc.line,
                                                 "column", dl.items[k].loc.col, "message",
                                                 client_text(dl.items[k].message), "hint",
                                                 dl.items[k].hint ? client_text(dl.items[k].hint) : NULL));
    char msg[64];
    snprintf(msg, sizeof msg, "the workflow has %zu error%s", dl.n, dl.n == 1 ? "" : "s");
    answer_json(req, 422, json_pack("{s:{s:s, s:s, s:o}}", "error", "code", "invalid_workflow",
                                    "message", msg, "details", details));
    diag_list_free(&dl);
}

/* ---- routing ------------------------------------------------------------------------------------ */

static const struct route {
    const char *method, *path; /* "{x}" matches one path segment */
    void (*fn)(http_req_t *req, api_t *a, char **params);
} routes[] = {
    {"GET", "/health", NULL},
    {"GET", "/ready", NULL},
    {"GET", "/api/v1/status", NULL},
    {"GET", "/api/v1/runs", runs_list},
    {"GET", "/api/v1/runs/{id}", run_get},
    {"GET", "/api/v1/runs/{id}/events", run_events},
    {"POST", "/api/v1/workflows/validate", workflows_validate},
};

static void simple(http_req_t *req, api_t *a, const char *path) {
    if (!strcmp(path, "/health")) health(req, a);
    else if (!strcmp(path, "/ready")) ready(req, a);
    else status(req, a);
}

void api_handle(http_req_t *req) {
    api_t *a = req->server_ud;
    bool path_known = false;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        char *params[2] = {0};
        if (!route_match(routes[i].path, req->path, params, 2)) continue;
        bool same = !strcmp(routes[i].method, req->method);
        path_known = true;
        if (same) {
            if (routes[i].fn) routes[i].fn(req, a, params);
            else simple(req, a, routes[i].path);
        }
        free(params[0]);
        free(params[1]);
        if (same) return;
    }
    if (path_known) api_error(req, 405, "method_not_allowed", "%s is not allowed on %s", req->method, req->path);
    else api_error(req, 404, "not_found", "no route %s %.200s", req->method, req->path);
}
