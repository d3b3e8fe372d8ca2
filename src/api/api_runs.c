/* api_runs.c - runs: list, read, events, start and steer (see api.h). */
#include "api/answer.h"
#include "api/workflow_text.h"
#include "api/wait.h"
#include "api/handlers.h"
#include "api/route.h"
#include "core/json_time.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- runs ------------------------------------------------------------------------------------ */

/* Runs rows (stolen) as clients see them (store_run_views). */
static json_t *run_views(json_t *rows) {
    json_t *out = store_run_views(rows);
    json_decref(rows);
    return out;
}

/* GET /api/v1/runs?status=&template=&workflow_id=&workflow=&since=T&limit=N&cursor=C: newest
 * first, `limit` (1-100, default 20) at a time; next_cursor (or null) fetches the page after.
 * The cursor is opaque to clients: "<created_at ms>.<id>" of the page's last run. */
void api_runs_list(http_req_t *req, api_t *a, char **params) {
    (void)params;
    long long limit;
    if (!api_query_int(req, "limit", 1, 100, 20, &limit)) return;
    char status[64] = "", workflow[256] = "", cursor[128] = "", since[64] = "", tmpl[80] = "",
         wf_id[128] = "";
    store_runs_query_t q = {.limit = (int)limit + 1};
    if (route_query(req->query, "since", since, sizeof since) &&
        !json_time_parse(since, &q.since_ms)) {
        api_error(req, 400, "bad_request",
                  "since must be an RFC 3339 time, like 2026-12-08T01:02:03Z or 2026-12-08");
        return;
    }
    if (route_query(req->query, "status", status, sizeof status)) {
        if (run_status_parse(status) < 0) {
            api_error(req, 400, "bad_request",
                      "status must be one of pending, running, paused, "
                      "waiting_human, completed, failed, cancelled");
            return;
        }
        q.status = status;
    }
    if (route_query(req->query, "workflow", workflow, sizeof workflow)) q.workflow = workflow;
    if (route_query(req->query, "workflow_id", wf_id, sizeof wf_id)) q.workflow_id = wf_id;
    char *file = NULL;
    if (route_query(req->query, "template", tmpl, sizeof tmpl)) {
        char *path = NULL;
        size_t len;
        char *text = api_template_text(a, tmpl, &len, &path);
        if (!text) {
            api_error(req, 404, "template_not_found",
                      "no template '%.80s' (GET /api/v1/workflows/templates lists them)", tmpl);
            return;
        }
        free(text);
        file = path; /* a template's runs recorded the template's file */
        q.file = file;
    }
    if (route_query(req->query, "cursor", cursor, sizeof cursor)) {
        char *dot = strchr(cursor, '.'), *end;
        long long at = dot ? strtoll(cursor, &end, 10) : -1;
        if (!dot || end != dot || at < 0 || !dot[1]) {
            api_error(req, 400, "bad_request", "cursor is not one this server gave out");
            free(file);
            return;
        }
        q.after_created_ms = at;
        q.after_id = dot + 1;
    }
    json_t *rows = store_runs_page(a->store, &q);
    free(file);
    if (!rows) {
        api_error(req, 500, "internal", "the runs could not be read");
        return;
    }
    json_t *next = json_null();
    if (json_array_size(rows) > (size_t)limit) {
        json_array_remove(rows, (size_t)limit);
        const json_t *last = json_array_get(rows, (size_t)limit - 1);
        char *c =
            xasprintf("%lld.%s", (long long)json_integer_value(json_object_get(last, "created_at")),
                      json_string_value(json_object_get(last, "id")));
        next = json_string(c);
        free(c);
    }
    api_json(req, 200, json_pack("{s:o, s:o}", "items", run_views(rows), "next_cursor", next));
}

void api_run_get(http_req_t *req, api_t *a, char **params) {
    json_t *sum = store_run_summary(a->store, params[0]);
    if (!sum) {
        api_error(req, 404, "not_found", "no run '%.100s'", params[0]);
        return;
    }
    api_json(req, 200, sum);
}

typedef struct events_page {
    json_t *items;
    size_t max;
} events_page_t;

static int collect_event(void *ud, uint64_t seq, int64_t ts_ms, const char *type, json_t *data) {
    events_page_t *p = ud;
    if (json_array_size(p->items) >= p->max) return 1; /* enough: stop reading */
    json_array_append_new(p->items, json_pack("{s:I, s:o, s:s, s:o}", "seq", (json_int_t)seq, "at",
                                              json_time_string(ts_ms), "type", type, "data",
                                              store_event_view(type, data)));
    return 0;
}

/* GET /api/v1/runs/{id}/events?cursor=C&limit=N: the journal after the cursor (the seq of the
 * last event of the page before; `after` is the same, by its older name), in order, `limit`
 * (1-1000, default 500) at a time; next_cursor continues it (null at the end). */
void api_run_events(http_req_t *req, api_t *a, char **params) {
    long long after, limit;
    char cursor[32];
    if (!api_query_int(req, "after", 0, INT64_MAX, 0, &after) ||
        !api_query_int(req, "limit", 1, 1000, 500, &limit))
        return;
    if (route_query(req->query, "cursor", cursor, sizeof cursor)) {
        char *end;
        errno = 0;
        long long c = strtoll(cursor, &end, 10);
        if (!*cursor || *end || errno == ERANGE || c < 0) {
            api_error(req, 400, "bad_request", "cursor is not one this server gave out");
            return;
        }
        after = c;
    }
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
        char c[32];
        snprintf(c, sizeof c, "%lld",
                 (long long)json_integer_value(
                     json_object_get(json_array_get(p.items, (size_t)limit - 1), "seq")));
        next = json_string(c);
    }
    api_json(req, 200, json_pack("{s:o, s:o}", "items", p.items, "next_cursor", next));
}

/* ---- starting and steering ------------------------------------------------------------------ */

/* The workflow text a run body names: a template's (with its *path), the text or object given,
 * or a stored workflow's version (with *wf_id and *version). NULL with the answer sent. */
static char *run_text(http_req_t *req, api_t *a, const json_t *body, size_t *len, char **path,
                      char **wf_id, int64_t *version) {
    const json_t *wf = json_object_get(body, "workflow"), *tmpl = json_object_get(body, "template");
    int named = !!wf + !!tmpl + !!json_object_get(body, "workflow_id");
    if (named > 1) {
        api_error(req, 400, "bad_request", "give one of template, workflow_id and workflow");
        return NULL;
    }
    if (json_object_get(body, "workflow_id"))
        return api_stored_workflow_text(req, a, body, len, wf_id, version);
    if (json_object_get(body, "version")) {
        api_error(req, 400, "bad_request", "version goes with workflow_id (a stored workflow)");
        return NULL;
    }
    if (tmpl) {
        if (!json_is_string(tmpl)) {
            api_error(req, 400, "bad_request", "template must be a template's name (a string)");
            return NULL;
        }
        char *text = api_template_text(a, json_string_value(tmpl), len, path);
        if (!text)
            api_error(req, 404, "template_not_found",
                      "no template '%.80s' (GET /api/v1/workflows/templates lists them)",
                      json_string_value(tmpl));
        return text;
    }
    char *text = NULL;
    api_workflow_text(a, wf, &text, len, path);
    if (!text)
        api_error(req, 400, "bad_request",
                  "a run needs template (a shipped template's name), workflow_id (a stored "
                  "workflow) or workflow (a workflow's text, YAML or JSON, or a workflow "
                  "object)");
    return text;
}

/* POST /api/v1/runs {template | workflow_id + version | workflow, inputs}: `template` is a
 * shipped template's name (404 template_not_found otherwise); `workflow_id` a stored workflow,
 * whose version (the latest by default) the run is pinned to; `workflow` a workflow's text
 * (YAML or JSON) or a workflow as a JSON object (a template's name there is taken too, as
 * before). 201 with the run once it is journaled. */
void api_run_start(http_req_t *req, api_t *a, char **params) {
    (void)params;
    static const char *const allowed[] = {"template",    "workflow", "inputs",
                                          "workflow_id", "version",  NULL};
    json_t *body = api_body_object(req, allowed);
    if (!body) return;
    const json_t *inputs = json_object_get(body, "inputs");
    if (inputs && !json_is_object(inputs)) {
        api_error(req, 400, "bad_request", "inputs must be an object {name: value}");
        json_decref(body);
        return;
    }
    char *path = NULL, *wf_id = NULL, *err = NULL;
    engine_workflow_ref_t ref = {0};
    size_t len = 0;
    char *text = run_text(req, a, body, &len, &path, &wf_id, &ref.version);
    ref.id = wf_id;
    diag_list_t dl = {0};
    engine_run_t *run =
        !text ? NULL
              : host_start(a->host, text, len, path ? path : "workflow.yaml",
                           path ? a->templates_dir : NULL, wf_id ? &ref : NULL, inputs, &dl, &err);
    if (run) {
        const run_state_t *st = engine_run_state(run);
        api_wait(a, req, 201, WAIT_RUN, engine_run_id(run), NULL, st->seq);
    } else if (dl.n) {
        api_invalid_workflow(req, &dl);
    } else if (text) {
        api_error(req, 422, "invalid_inputs", "%s", err ? err : "the run could not start");
    }
    diag_list_free(&dl);
    free(err);
    free(text);
    free(path);
    free(wf_id);
    json_decref(body);
}

/* The run of the path's {id}, in memory or brought back from its journal; NULL (and an answer
 * sent: 404, or 500 for a journal that does not replay) otherwise. */
static engine_run_t *find_run(http_req_t *req, api_t *a, const char *id) {
    bool missing;
    char *err = NULL;
    engine_run_t *run = host_run(a->host, id, &missing, &err);
    if (!run && missing)
        api_error(req, 404, "not_found", "no run '%.100s'", id);
    else if (!run)
        api_error(req, 500, "internal", "%s", err ? err : "the run cannot be read");
    free(err);
    return run;
}

/* Answers with the run once whatever the change journaled (events after `before`) is committed;
 * at once when it journaled nothing. */
static void answer_after(http_req_t *req, api_t *a, engine_run_t *run, uint64_t before) {
    uint64_t seq = engine_run_state(run)->seq;
    if (seq > before)
        api_wait(a, req, 200, WAIT_RUN, engine_run_id(run), NULL, seq);
    else
        api_answer_now(a, req, 200, WAIT_RUN, engine_run_id(run), NULL);
}

typedef enum { STEER_PAUSE, STEER_RESUME, STEER_CANCEL, STEER_RETRY } steer_t;

static void steer(http_req_t *req, api_t *a, const char *id, steer_t what) {
    static const char *const allowed[] = {"reason", NULL};
    json_t *body = req->body_len ? api_body_object(req, allowed) : json_object();
    if (!body) return;
    const json_t *why = json_object_get(body, "reason");
    if (why && !json_is_string(why)) {
        api_error(req, 400, "bad_request", "reason must be a string");
        json_decref(body);
        return;
    }
    const char *reason = json_string_value(why);
    bool was_here = host_has(a->host, id);
    engine_run_t *run = find_run(req, a, id);
    if (!run) goto out;
    uint64_t before = engine_run_state(run)->seq;
    run_status_t status = engine_run_state(run)->status;
    char *err = NULL;
    engine_rc_t rc = ENGINE_OK;
    if (what == STEER_PAUSE) {
        rc = engine_pause(run, reason ? reason : "paused over the API", &err);
    } else if (what == STEER_RESUME) {
        /* A paused run carries on; one that was running when the process stopped was just
         * brought back by find_run, and has carried on already. */
        if (status == RS_PAUSED)
            rc = engine_unpause(run, &err);
        else if (status != RS_RUNNING || was_here) {
            err = xasprintf("run %s is %s: only a paused run (or one a stopped process left "
                            "running) can be resumed",
                            engine_run_id(run), run_status_name(status));
            rc = ENGINE_E_NOT_PAUSED;
        }
    } else if (what == STEER_RETRY) {
        rc = engine_retry(run, &err);
    } else {
        rc = engine_cancel(run, reason ? reason : "cancelled over the API", &err);
    }
    if (rc != ENGINE_OK)
        api_error(req, engine_rc_bad_request(rc) ? 400 : 409,
                  engine_rc_bad_request(rc) ? "bad_request" : "conflict", "%s", err);
    else
        answer_after(req, a, run, before);
    free(err);
out:
    json_decref(body);
}

void api_run_pause(http_req_t *req, api_t *a, char **params) {
    steer(req, a, params[0], STEER_PAUSE);
}
void api_run_resume(http_req_t *req, api_t *a, char **params) {
    steer(req, a, params[0], STEER_RESUME);
}
void api_run_cancel(http_req_t *req, api_t *a, char **params) {
    steer(req, a, params[0], STEER_CANCEL);
}
void api_run_retry(http_req_t *req, api_t *a, char **params) {
    steer(req, a, params[0], STEER_RETRY);
}

/* POST /api/v1/runs/{id}/messages {text, task_id, agent_id, from}: guidance for the next model
 * call of the run's unfinished agent tasks (or of one task, or of one agent's tasks), journaled
 * as run.message. 201 {run_id, seq, text, from, task_ids} once committed; 409 when no task
 * would get it. */
void api_run_message(http_req_t *req, api_t *a, char **params) {
    static const char *const allowed[] = {"text", "task_id", "agent_id", "from", NULL};
    json_t *body = api_body_object(req, allowed);
    if (!body) return;
    const json_t *text = json_object_get(body, "text");
    const char *bad =
        !json_is_string(text) || !json_string_length(text) ? "text is required: a non-empty string"
        : json_object_get(body, "task_id") && !json_is_string(json_object_get(body, "task_id"))
            ? "task_id must be a string"
        : json_object_get(body, "agent_id") && !json_is_string(json_object_get(body, "agent_id"))
            ? "agent_id must be a string"
        : json_object_get(body, "from") && !json_is_string(json_object_get(body, "from"))
            ? "from must be a string"
            : NULL;
    engine_run_t *run = NULL;
    if (bad)
        api_error(req, 400, "bad_request", "%s", bad);
    else
        run = find_run(req, a, params[0]);
    if (run) {
        char *err = NULL;
        const char *from = json_string_value(json_object_get(body, "from"));
        json_t *tasks = NULL;
        engine_rc_t rc = engine_message(run, json_string_value(json_object_get(body, "task_id")),
                                        json_string_value(json_object_get(body, "agent_id")),
                                        json_string_value(text), from ? from : "api", &tasks, &err);
        if (rc != ENGINE_OK) {
            /* 400 for a task the workflow does not have; 409 when the run's state leaves
             * nobody to guide (finished, nothing of that agent left). */
            bool wrong = engine_rc_bad_request(rc);
            api_error(req, wrong ? 400 : 409, wrong ? "bad_request" : "conflict", "%s", err);
        } else {
            uint64_t seq = engine_run_state(run)->seq;
            api_wait_body(a, req, 201, engine_run_id(run), seq,
                          json_pack("{s:s, s:I, s:O, s:s, s:o}", "run_id", engine_run_id(run),
                                    "seq", (json_int_t)seq, "text", text, "from",
                                    from ? from : "api", "task_ids", tasks));
        }
        free(err);
    }
    json_decref(body);
}
