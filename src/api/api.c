/* api.c - route table and the health/status handlers (see api.h). */
#include "api/api.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static double wall_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec * 1000.0 + (double)tv.tv_usec / 1000.0;
}

static void answer_json(http_req_t *req, int status, json_t *body) {
    char *text = json_dumps(body, JSON_COMPACT);
    http_respond(req, status, NULL, text, strlen(text));
    free(text);
    json_decref(body);
}

void api_error(http_req_t *req, int status, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    answer_json(req, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

static void health(http_req_t *req, api_t *a) {
    answer_json(req, 200, json_pack("{s:s, s:s, s:I}", "status", "ok", "version", BATON_VERSION,
                                    "uptime_s", (json_int_t)((wall_ms() - a->started_ms) / 1000)));
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

static const struct route {
    const char *method, *path;
    void (*fn)(http_req_t *req, api_t *a);
} routes[] = {
    {"GET", "/health", health},
    {"GET", "/ready", ready},
    {"GET", "/api/v1/status", status},
};

void api_handle(http_req_t *req) {
    api_t *a = req->server_ud;
    bool path_known = false;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (strcmp(routes[i].path, req->path)) continue;
        path_known = true;
        if (!strcmp(routes[i].method, req->method)) {
            routes[i].fn(req, a);
            return;
        }
    }
    if (path_known) api_error(req, 405, "method_not_allowed", "%s is not allowed on %s", req->method, req->path);
    else api_error(req, 404, "not_found", "no route %s %.200s", req->method, req->path);
}
