/* idempotency.c - Idempotency-Key (see idempotency.h). */
#include "api/idempotency.h"
#include "api/answer.h"
#include "store/idemstore.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_EVERY_MS (3600LL * 1000)

struct api_idem_flight {
    char *scope, *key;
    char sha[crypto_hash_sha256_BYTES * 2 + 1];
    api_idem_flight_t *prev, *next;
};

struct api_idem {
    idemstore_t *store; /* opened on first use */
    api_idem_flight_t *flights;
    int64_t last_sweep_ms;
};

static void log_warn(const char *what, const char *err) {
    json_t *line = json_pack("{s:I, s:s, s:s, s:o}", "ts", (json_int_t)clock_now_ms(), "level",
                             "warn", "msg", what, "error", api_text(err));
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (text) fprintf(stderr, "%s\n", text);
    free(text);
    json_decref(line);
}

static void sweep(api_idem_t *m) {
    int64_t now = clock_now_ms();
    char *err = NULL;
    if (idemstore_sweep(m->store, now - API_IDEM_TTL_MS, &err) < 0) {
        log_warn("idempotency_sweep_failed", err);
        free(err);
    }
    m->last_sweep_ms = now;
}

/* The module's state, with its table open; NULL (and *err) when the table cannot be opened. */
static api_idem_t *state(api_t *a, char **err) {
    if (!a->idem) a->idem = xcalloc(1, sizeof *a->idem);
    if (!a->idem->store) {
        a->idem->store = idemstore_open(a->store, err);
        if (!a->idem->store) return NULL;
        sweep(a->idem);
    }
    return a->idem;
}

static bool valid_key(const char *k) {
    size_t n = 0;
    for (; k[n]; n++)
        if ((unsigned char)k[n] < 0x21 || (unsigned char)k[n] > 0x7e) return false;
    return n >= 1 && n <= 255;
}

/* Sends a kept answer again, with what it was sent with. */
static void replay(http_req_t *req, const idemstore_entry_t *e) {
    json_t *headers = json_loads(e->headers, 0, NULL);
    const char *name;
    json_t *v;
    json_object_foreach(headers, name, v) {
        if (json_is_string(v)) http_add_header(req, name, json_string_value(v));
    }
    json_decref(headers);
    http_add_header(req, "Idempotent-Replayed", "true");
    http_respond(req, e->status, e->content_type, e->body, e->body_len);
}

api_idem_flight_t *api_idem_begin(api_t *a, http_req_t *req, bool *answered) {
    *answered = false;
    if (!req->idempotency_key) return NULL;
    *answered = true;
    if (!valid_key(req->idempotency_key)) {
        api_error(req, 400, "bad_request",
                  "Idempotency-Key must be 1 to 255 visible ASCII characters");
        return NULL;
    }
    char *err = NULL;
    api_idem_t *m = state(a, &err);
    if (!m) {
        api_error(req, 503, "unavailable", "idempotency keys cannot be read: %s", err);
        free(err);
        return NULL;
    }
    char *scope = xasprintf("%s %s", req->method, req->path);
    const char *key = req->idempotency_key;
    unsigned char digest[crypto_hash_sha256_BYTES];
    char sha[sizeof digest * 2 + 1];
    crypto_hash_sha256(digest, (const unsigned char *)req->body, req->body_len);
    sodium_bin2hex(sha, sizeof sha, digest, sizeof digest);
    for (api_idem_flight_t *f = m->flights; f; f = f->next) {
        if (!strcmp(f->scope, scope) && !strcmp(f->key, key)) {
            api_error(req, 409, "idempotency_key_in_flight",
                      "a request with this Idempotency-Key is still being handled; retry once "
                      "it is answered");
            free(scope);
            return NULL;
        }
    }
    idemstore_entry_t e;
    int found = idemstore_get(m->store, scope, key, clock_now_ms() - API_IDEM_TTL_MS, &e, &err);
    if (found < 0) {
        api_error(req, 503, "unavailable", "%s", err);
        free(err);
    } else if (found && strcmp(e.body_sha256, sha)) {
        api_error(req, 422, "idempotency_key_reused",
                  "this Idempotency-Key was used with another body; use a new key for a new "
                  "request");
    } else if (found) {
        replay(req, &e);
    }
    if (found) idemstore_entry_free(&e);
    if (found) {
        free(scope);
        return NULL;
    }
    api_idem_flight_t *f = xcalloc(1, sizeof *f);
    f->scope = scope;
    f->key = xstrdup(key);
    memcpy(f->sha, sha, sizeof sha);
    f->next = m->flights;
    if (m->flights) m->flights->prev = f;
    m->flights = f;
    *answered = false;
    return f;
}

static void flight_free(api_idem_t *m, api_idem_flight_t *f) {
    if (f->prev)
        f->prev->next = f->next;
    else
        m->flights = f->next;
    if (f->next) f->next->prev = f->prev;
    free(f->scope);
    free(f->key);
    free(f);
}

void api_idem_answered(api_t *a, api_idem_flight_t *f, http_req_t *req, int status,
                       const char *content_type, const char *body, size_t len) {
    api_idem_t *m = a->idem;
    if (body && status < 500 && status != 409) {
        json_t *headers = json_object();
        const char *value, *name;
        for (size_t i = 0; (name = http_added_header(req, i, &value)); i++)
            json_object_set_new(headers, name, api_text(value));
        char *hdr_text = json_dumps(headers, JSON_COMPACT);
        json_decref(headers);
        idemstore_entry_t e = {.body_sha256 = f->sha,
                               .status = status,
                               .content_type = (char *)content_type,
                               .headers = hdr_text ? hdr_text : "{}",
                               .body = (char *)body,
                               .body_len = len,
                               .created_at = clock_now_ms()};
        char *err = NULL;
        if (idemstore_put(m->store, f->scope, f->key, &e, &err) != 0) {
            log_warn("idempotency_key_not_kept", err);
            free(err);
        }
        free(hdr_text);
        if (e.created_at - m->last_sweep_ms > SWEEP_EVERY_MS) sweep(m);
    }
    flight_free(m, f);
}

void api_idem_free(api_t *a) {
    if (!a->idem) return;
    while (a->idem->flights) flight_free(a->idem, a->idem->flights);
    idemstore_close(a->idem->store);
    free(a->idem);
    a->idem = NULL;
}
