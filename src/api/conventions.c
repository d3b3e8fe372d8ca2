/* conventions.c - Location and Idempotency-Key for the flagged routes (see conventions.h). */
#include "api/conventions.h"
#include "api/idempotency.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct hook {
    api_t *a;
    const char *route;
    unsigned flags;
    api_idem_flight_t *flight;
} hook_t;

/* An id put in a URL as it is: only the characters ids are made of. */
static const char *url_safe(const json_t *v) {
    const char *s = json_string_value(v);
    size_t n =
        s ? strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") : 0;
    return s && n && !s[n] ? s : NULL;
}

char *api_created_location(const char *route, const char *body, size_t len) {
    json_t *j = json_loadb(body, len, 0, NULL);
    char *loc = NULL;
    const char *run = url_safe(json_object_get(j, "run_id"));
    const char *id = url_safe(json_object_get(j, "id"));
    json_t *seq = json_object_get(j, "seq");
    if (!strcmp(route, "/api/v1/runs/{id}/messages")) {
        if (run && json_is_integer(seq) && json_integer_value(seq) > 0)
            loc = xasprintf("/api/v1/runs/%s/events?after=%lld&limit=1", run,
                            (long long)json_integer_value(seq) - 1);
    } else if (!strcmp(route, "/api/v1/runs")) {
        if (id || run) loc = xasprintf("/api/v1/runs/%s", id ? id : run);
    } else if (id && !strchr(route, '{')) {
        loc = xasprintf("%s/%s", route, id); /* a collection's new member */
    }
    json_decref(j);
    return loc;
}

static void on_answer(http_req_t *req, int status, const char *content_type, const char *body,
                      size_t len, void *ud) {
    hook_t *h = ud;
    if ((h->flags & API_ROUTE_CREATES) && status == 201 && body) {
        char *loc = api_created_location(h->route, body, len);
        if (loc) http_add_header(req, "Location", loc);
        free(loc);
    }
    if (h->flight) api_idem_answered(h->a, h->flight, req, status, content_type, body, len);
    free(h);
}

bool api_conventions_begin(api_t *a, http_req_t *req, const char *route, unsigned flags) {
    api_idem_flight_t *flight = NULL;
    if (flags & API_ROUTE_IDEMPOTENT) {
        bool answered;
        flight = api_idem_begin(a, req, &answered);
        if (answered) return false;
    }
    if (!flight && !(flags & API_ROUTE_CREATES)) return true;
    hook_t *h = xcalloc(1, sizeof *h);
    *h = (hook_t){.a = a, .route = route, .flags = flags, .flight = flight};
    http_on_answer(req, on_answer, h);
    return true;
}
