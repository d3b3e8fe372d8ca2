/* query.c - the query parameters of each route, and the check (see query.h). The OpenAPI
 * document lists the same parameters: tests/unit/test_openapi.c holds one to the other. */
#include "api/query.h"
#include "api/answer.h"

#include <stdio.h>
#include <string.h>

#define Q(...)                                                                                     \
    (const char *const[]) { __VA_ARGS__, NULL }
#define NONE                                                                                       \
    (const char *const[]) { NULL }

static const struct {
    const char *method, *path;
    const char *const *params;
} decls[] = {
    {"GET", "/health", NONE},
    {"GET", "/ready", NONE},
    {"GET", "/metrics", NONE},
    {"GET", "/api/v1/status", NONE},
    {"GET", "/api/v1/runs",
     Q("status", "workflow", "workflow_id", "template", "since", "limit", "cursor")},
    {"POST", "/api/v1/runs", NONE},
    {"GET", "/api/v1/runs/{id}", NONE},
    {"GET", "/api/v1/runs/{id}/events", Q("limit", "cursor", "after")},
    {"POST", "/api/v1/runs/{id}/pause", NONE},
    {"POST", "/api/v1/runs/{id}/resume", NONE},
    {"POST", "/api/v1/runs/{id}/cancel", NONE},
    {"POST", "/api/v1/runs/{id}/retry", NONE},
    {"POST", "/api/v1/runs/{id}/messages", NONE},
    {"GET", "/api/v1/runs/{id}/agui", NONE},
    {"POST", "/api/v1/agui", NONE},
    {"GET", "/api/v1/runs/{id}/tasks/{task}", NONE},
    {"GET", "/api/v1/runs/{id}/artifacts", Q("limit", "cursor")},
    {"GET", "/api/v1/runs/{id}/artifacts/{name}", NONE},
    {"GET", "/api/v1/runs/{id}/artifacts/{name}/content", Q("version")},
    {"GET", "/api/v1/runs/{id}/artifacts/{name}/diff", Q("from", "to")},
    {"GET", "/api/v1/approvals", Q("status", "limit", "cursor")},
    {"GET", "/api/v1/approvals/{id}", NONE},
    {"POST", "/api/v1/approvals/{id}/respond", NONE},
    {"GET", "/api/v1/workflows", Q("limit", "cursor")},
    {"POST", "/api/v1/workflows", NONE},
    {"GET", "/api/v1/workflows/templates", Q("limit", "cursor")},
    {"POST", "/api/v1/workflows/validate", NONE},
    {"GET", "/api/v1/agents", Q("limit", "cursor")},
    {"GET", "/api/v1/agents/{id}", NONE},
    {"GET", "/api/v1/providers", Q("limit", "cursor")},
    {"GET", "/api/v1/workflows/{id}", NONE},
    {"PUT", "/api/v1/workflows/{id}", NONE},
    {"DELETE", "/api/v1/workflows/{id}", NONE},
    {"GET", "/api/v1/workflows/{id}/versions/{n}", NONE},
    {"GET", "/api/v1/openapi.json", NONE},
    {"GET", "/v1/models", NONE},
    {"POST", "/v1/chat/completions", NONE},
    {"POST", "/v1/embeddings", NONE},
    {"GET", "/api/v1/ws", NONE},
};

const char *const *api_query_params(const char *method, const char *pattern) {
    /* HEAD is GET without the body: it takes what GET takes */
    if (!strcmp(method, "HEAD")) method = "GET";
    for (size_t i = 0; i < sizeof decls / sizeof *decls; i++)
        if (!strcmp(decls[i].method, method) && !strcmp(decls[i].path, pattern))
            return decls[i].params;
    return NULL;
}

bool api_query_check(http_req_t *req, const char *method, const char *pattern) {
    const char *const *params = api_query_params(method, pattern);
    if (!params) {
        api_error(req, 500, "internal", "the route %s %s declares no query parameters", method,
                  pattern);
        return false;
    }
    for (const char *p = req->query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        size_t kl = strcspn(p, "=&");
        if (kl > len) kl = len;
        bool known = kl == 0; /* "a&&b": an empty piece names nothing */
        for (const char *const *k = params; *k && !known; k++)
            known = strlen(*k) == kl && !strncmp(*k, p, kl);
        const char *near = known ? NULL : api_nearest(p, kl, params);
        if (!known) {
            char name[101];
            snprintf(name, sizeof name, "%.*s", (int)(kl > 100 ? 100 : kl), p);
            char list[256] = "";
            for (const char *const *k = params; *k; k++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         k == params ? "" : ", ", *k);
            char msg[512];
            if (near)
                snprintf(msg, sizeof msg,
                         "unknown query parameter '%s': did you mean '%s'? (%s takes %s)", name,
                         near, pattern, list);
            else if (*params)
                snprintf(msg, sizeof msg, "unknown query parameter '%s' (%s takes %s)", name,
                         pattern, list);
            else
                snprintf(msg, sizeof msg,
                         "unknown query parameter '%s' (%s takes no query parameters)", name,
                         pattern);
            api_json(req, 400,
                     json_pack("{s:{s:s, s:o, s:{s:o, s:s?}}}", "error", "code", "invalid_query",
                               "message", api_text(msg), "details", "parameter", api_text(name),
                               "did_you_mean", near));
            return false;
        }
        p = amp ? amp + 1 : NULL;
    }
    return true;
}
