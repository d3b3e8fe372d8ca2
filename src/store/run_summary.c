/* run_summary.c - one run as `baton run --json`, `baton runs show --json` and the API's
 * GET /api/v1/runs/{id} report it, read from the projections so they agree by construction. */
#include "store/store_internal.h"
#include "util/clock.h"

#include <string.h>

static bool finished_status(const char *st) {
    return st && (!strcmp(st, "completed") || !strcmp(st, "failed") || !strcmp(st, "skipped") ||
                  !strcmp(st, "cancelled"));
}

/* How far the run is, from its tasks rows: {progress: {finished, total, percent}, current:
 * [tasks running or waiting for a person], estimate: {cost_usd, finished_at}} where the
 * estimate extrapolates from this run's own finished tasks (their mean cost and duration,
 * counted once per task left, as if one ran at a time: an upper bound for a wide DAG), null
 * before any task finished, and the actual figures once the run has. */
static json_t *progress_of(const json_t *run, const json_t *rows) {
    size_t total = json_array_size(rows), finished = 0, timed = 0, i;
    double cost = 0, ms = 0;
    json_t *current = json_array(), *row;
    json_array_foreach(rows, i, row) {
        const char *st = json_string_value(json_object_get(row, "status"));
        if (finished_status(st)) {
            finished++;
            cost += json_number_value(json_object_get(row, "cost_usd"));
            json_int_t s0 = json_integer_value(json_object_get(row, "started_at"));
            json_int_t s1 = json_integer_value(json_object_get(row, "finished_at"));
            if (s0 && s1 >= s0) {
                ms += (double)(s1 - s0);
                timed++;
            }
        } else if (st && (!strcmp(st, "running") || !strcmp(st, "retrying") ||
                          !strcmp(st, "waiting_human"))) {
            json_array_append_new(
                current,
                json_pack("{s:O, s:s}", "task_id", json_object_get(row, "task_id"), "status", st));
        }
    }
    const char *status = json_string_value(json_object_get(run, "status"));
    bool over = finished_status(status);
    double run_cost = json_number_value(json_object_get(run, "cost_usd"));
    json_t *estimate;
    if (over) {
        estimate = json_pack("{s:f, s:O}", "cost_usd", run_cost, "finished_at",
                             json_object_get(run, "finished_at"));
    } else if (finished) {
        size_t left = total - finished;
        json_int_t now = (json_int_t)clock_now_ms();
        estimate = json_pack("{s:f, s:I}", "cost_usd",
                             run_cost + cost / (double)finished * (double)left, "finished_at",
                             now + (json_int_t)(timed ? ms / (double)timed * (double)left : 0));
    } else {
        estimate = json_pack("{s:n, s:n}", "cost_usd", "finished_at");
    }
    return json_pack("{s:{s:I, s:I, s:f}, s:o, s:o}", "progress", "finished", (json_int_t)finished,
                     "total", (json_int_t)total, "percent",
                     total ? 100.0 * (double)finished / (double)total : 100.0, "current", current,
                     "estimate", estimate);
}

json_t *store_run_view(const json_t *row) {
    json_t *v = json_deep_copy(row);
    if (!v || json_object_get(v, "paused_reason")) return v; /* a view already */
    json_object_del(v, "file"); /* a path on the machine that ran it: not for clients */
    /* runs.error holds the reason of a pause or a cancel too: `error` is a failure's only */
    const char *status = json_string_value(json_object_get(v, "status"));
    json_t *why = json_incref(json_object_get(v, "error"));
    if (!json_is_string(why)) why = (json_decref(why), json_null());
    bool failed = status && !strcmp(status, "failed");
    json_object_set(v, "error", failed ? why : json_null());
    json_object_set(v, "paused_reason", status && !strcmp(status, "paused") ? why : json_null());
    json_object_set(v, "cancelled_reason",
                    status && !strcmp(status, "cancelled") ? why : json_null());
    json_decref(why);
    return v;
}

json_t *store_run_views(const json_t *rows) {
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) json_array_append_new(out, store_run_view(row));
    return out;
}

bool store_event_has_paths(const char *type) {
    return type && (!strcmp(type, "run.created") || !strcmp(type, "artifact.written"));
}

json_t *store_event_view(const char *type, const json_t *data) {
    if (!store_event_has_paths(type) || !json_is_object(data)) return json_incref((json_t *)data);
    json_t *v = json_copy((json_t *)data); /* shallow: only the keys below change */
    if (!strcmp(type, "artifact.written")) {
        json_object_del(v, "path");
        json_object_del(v, "blob");
        return v;
    }
    json_object_del(v, "file");
    const json_t *agents = json_object_get(data, "agents");
    if (json_is_object(agents)) {
        json_t *shown = json_object();
        const char *id;
        json_t *agent;
        json_object_foreach((json_t *)agents, id, agent) {
            json_t *a = json_is_object(agent) ? json_copy(agent) : json_incref(agent);
            if (json_is_object(a)) json_object_del(a, "file");
            json_object_set_new(shown, id, a);
        }
        json_object_set_new(v, "agents", shown);
    }
    return v;
}

json_t *store_run_summary(store_t *st, const char *run_id) {
    json_t *run = store_run(st, run_id);
    if (!run) return NULL;
    json_t *tasks = json_array();
    json_t *rows = store_tasks(st, run_id);
    size_t i;
    json_t *row;
    json_t *progress = progress_of(run, rows);
    json_array_foreach(rows, i, row) {
        json_t *outputs = json_object_get(row, "outputs");
        json_array_append_new(
            tasks,
            json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:b}", "id", json_object_get(row, "task_id"),
                      "status", json_object_get(row, "status"), "attempts_total",
                      json_object_get(row, "attempts"), "outputs", outputs ? outputs : json_null(),
                      "error", json_object_get(row, "error"), "cost_usd",
                      json_object_get(row, "cost_usd"),
                      /* offline output (schema 7): never to pass for real work */
                      "simulated", json_is_true(json_object_get(row, "simulated"))));
    }
    json_decref(rows);

    /* The latest version of each artifact name; addressed by name and version (no paths). */
    json_t *arts = json_array(), *latest = json_object();
    rows = store_artifacts(st, run_id);
    json_array_foreach(rows, i, row) {
        json_object_set_new(
            latest, json_string_value(json_object_get(row, "name")),
            json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "id", json_object_get(row, "name"),
                      "name", json_object_get(row, "name"), "sha256",
                      json_object_get(row, "sha256"), "bytes", json_object_get(row, "bytes"),
                      "task_id", json_object_get(row, "task_id"), "version",
                      json_object_get(row, "version"), "created_at",
                      json_object_get(row, "created_at")));
    }
    json_decref(rows);
    const char *k;
    json_t *v;
    json_object_foreach(latest, k, v) json_array_append(arts, v);
    json_decref(latest);

    /* The run as the list shows it (every field a list item has), then what only this has. */
    json_t *out = store_run_view(run);
    json_object_set_new(out, "tasks", tasks);
    json_object_set_new(out, "artifacts", arts);
    json_object_update(out, progress);
    json_decref(progress);
    json_t *usage = store_llm_usage(st, run_id);
    if (usage) json_object_set_new(out, "llm", usage);
    json_decref(run);
    return out;
}

uint64_t store_last_seq(store_t *st, const char *run_id) {
    uint64_t seq = 0;
    bool kept;
    sqlite3_stmt *s =
        store_prepared(st, "SELECT coalesce(max(seq), 0) FROM events WHERE run_id = ?", &kept);
    if (s) {
        sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) seq = (uint64_t)sqlite3_column_int64(s, 0);
        store_done(s, kept);
    }
    return seq;
}

json_t *store_run_snapshot(store_t *st, const char *run_id, uint64_t *seq) {
    /* The seq first, then the summary: a commit in between can only make the summary newer than
     * the seq (its events then also arrive after it), never older, so nothing is missed. No
     * transaction here: the journal writer's thread commits through this same connection, and a
     * COMMIT issued from this thread would end the writer's transaction half way. */
    *seq = store_last_seq(st, run_id);
    return store_run_summary(st, run_id);
}
