/* answer.c - JSON answers, client text, query values, bodies and error answers (see answer.h). */
#include "api/answer.h"
#include "api/route.h"
#include "core/json_time.h"
#include "util/utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_json(http_req_t *req, int status, json_t *body) {
    json_time_present(body); /* times as RFC 3339, one place for every answer */
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (!text) { /* a body that could not be built is a bug here, never a crash */
        static const char fallback[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"the answer could not be encoded\"}}";
        http_respond(req, 500, NULL, fallback, sizeof fallback - 1);
    } else {
        http_respond(req, status, NULL, text, strlen(text));
    }
    free(text);
    json_decref(body);
}

/* A JSON string of text that may quote the client (a path, a workflow's names): bytes that are
 * not UTF-8 become '?', as jansson takes nothing else. */
json_t *api_text(const char *s) {
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
    api_json(req, status,
             json_pack("{s:{s:s, s:o}}", "error", "code", code, "message", api_text(msg)));
}

/* ---- query strings ------------------------------------------------------------------------ */

/* A whole number in [lo, hi] from the query, dflt when absent; false (and a 400 sent) when the
 * value is not one. */
bool api_query_int(http_req_t *req, const char *key, long long lo, long long hi, long long dflt,
                   long long *out) {
    char v[32];
    *out = dflt;
    if (!route_query(req->query, key, v, sizeof v)) return true;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    /* one past what strtoll holds saturates: ERANGE, or it would pass as the largest */
    if (!*v || *end || errno == ERANGE || n < lo || n > hi) {
        api_error(req, 400, "bad_request", "%s must be a whole number from %lld to %lld", key, lo,
                  hi);
        return false;
    }
    *out = n;
    return true;
}

json_t *api_body_object(http_req_t *req, const char *const *allowed) {
    json_error_t jerr;
    json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(body)) {
        if (body)
            api_error(req, 400, "bad_request", "the body must be a JSON object");
        else
            api_error(req, 400, "bad_request", "the body is not JSON: %s (line %d, column %d)",
                      jerr.text, jerr.line, jerr.column);
        json_decref(body);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        bool known = false;
        for (const char *const *k = allowed; *k && !known; k++) known = !strcmp(*k, key);
        if (!known) {
            const char *near = api_nearest(key, strlen(key), allowed);
            char msg[256];
            if (near)
                snprintf(msg, sizeof msg, "unknown field '%.100s': did you mean '%s'?", key, near);
            else
                snprintf(msg, sizeof msg, "unknown field '%.100s'", key);
            api_json(req, 400,
                     json_pack("{s:{s:s, s:o, s:{s:o, s:s?}}}", "error", "code", "bad_request",
                               "message", api_text(msg), "details", "field", api_text(key),
                               "did_you_mean", near));
            json_decref(body);
            return NULL;
        }
    }
    return body;
}

void api_store_error(http_req_t *req, int rc, const char *err) {
    if (rc == STORE_NOT_FOUND)
        api_error(req, 404, "not_found", "%s", err ? err : "not found");
    else if (rc == STORE_BUSY)
        api_error(req, 503, "unavailable", "%s", err ? err : "busy");
    else
        api_error(req, 500, "internal", "%s", err ? err : "the store could not be read");
}

/* Edit distance of a and b (first 31 bytes), for "did you mean". */
static size_t distance(const char *a, size_t la, const char *b) {
    size_t lb = strlen(b);
    if (la > 31) la = 31;
    if (lb > 31) lb = 31;
    size_t row[32];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *api_nearest(const char *name, size_t len, const char *const *names) {
    const char *near = NULL;
    size_t best = 3; /* at most two edits away to be suggested */
    for (const char *const *k = names; *k; k++) {
        size_t d = distance(name, len, *k);
        if (d < best) {
            best = d;
            near = *k;
        }
    }
    return near;
}
