/* recordings.c - the recordings file and a response's JSON form (see recordings.h). */
#include "llm/recordings.h"
#include "util/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORDINGS_VERSION 1

struct recordings {
    json_t *entries; /* key -> entry */
};

json_t *llm_response_to_json(const llm_response_t *r) {
    json_t *j = json_pack(
        "{s:s, s:O?, s:s?, s:s?, s:I, s:I, s:I, s:I, s:I, s:O?}", "text", r->text ? r->text : "",
        "json", r->json, "provider", r->provider, "model", r->model, "input_tokens",
        (json_int_t)r->input_tokens, "output_tokens", (json_int_t)r->output_tokens, "cached_tokens",
        (json_int_t)r->cached_tokens, "latency_ms", (json_int_t)r->latency_ms, "first_token_ms",
        (json_int_t)r->first_token_ms, "tool_calls", r->tool_calls);
    if (j && r->simulated) json_object_set_new(j, "simulated", json_true());
    return j;
}

/* Absent, or a non-empty list of {id, name, arguments: {...}} as providers produce them. */
static bool tool_calls_ok(const json_t *calls) {
    if (!calls || json_is_null(calls)) return true;
    if (!json_is_array(calls) || !json_array_size(calls)) return false;
    size_t i;
    const json_t *c;
    json_array_foreach(calls, i, c) {
        if (!json_is_string(json_object_get(c, "id")) ||
            !json_is_string(json_object_get(c, "name")) ||
            !json_is_object(json_object_get(c, "arguments")))
            return false;
    }
    return true;
}

static bool count_ok(const json_t *j, const char *k, int64_t *out) {
    const json_t *v = json_object_get(j, k);
    if (!v) {
        *out = 0;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < -1) return false;
    *out = json_integer_value(v);
    return true;
}

llm_response_t *llm_response_from_json(const json_t *j, char **err) {
    const json_t *text = json_object_get(j, "text");
    const json_t *provider = json_object_get(j, "provider"), *model = json_object_get(j, "model");
    if (json_is_null(provider)) provider = NULL;
    if (json_is_null(model)) model = NULL;
    int64_t in, out, cached, lat, first;
    if (!json_is_object(j) || !json_is_string(text) || (provider && !json_is_string(provider)) ||
        (model && !json_is_string(model)) || !count_ok(j, "input_tokens", &in) ||
        !count_ok(j, "output_tokens", &out) || !count_ok(j, "cached_tokens", &cached) ||
        !count_ok(j, "latency_ms", &lat) || !count_ok(j, "first_token_ms", &first) ||
        !tool_calls_ok(json_object_get(j, "tool_calls"))) {
        *err = xstrdup("a response needs a string `text`, whole-number token counts, and "
                       "tool_calls (if any) as a list of {id, name, arguments: {...}}");
        return NULL;
    }
    llm_response_t *r = xcalloc(1, sizeof *r);
    r->text = xstrdup(json_string_value(text));
    const json_t *parsed = json_object_get(j, "json");
    r->json = parsed && !json_is_null(parsed) ? json_deep_copy(parsed) : NULL;
    r->provider = provider ? xstrdup(json_string_value(provider)) : NULL;
    r->model = model ? xstrdup(json_string_value(model)) : NULL;
    r->input_tokens = in;
    r->output_tokens = out;
    r->cached_tokens = cached;
    r->latency_ms = lat;
    r->first_token_ms = first;
    const json_t *calls = json_object_get(j, "tool_calls");
    r->tool_calls = json_is_array(calls) ? json_deep_copy(calls) : NULL;
    /* Entries stored before the flag existed: the offline provider is the only "offline". */
    r->simulated = json_is_true(json_object_get(j, "simulated")) ||
                   (r->provider && !strcmp(r->provider, "offline"));
    return r;
}

recordings_t *recordings_parse(const char *text, size_t len, const char *name, char **err) {
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        *err = xasprintf("%s:%d:%d: %s", name, je.line, je.column, je.text);
        return NULL;
    }
    const json_t *version = json_object_get(root, "baton_recordings");
    json_t *entries = json_object_get(root, "entries");
    if (!json_is_object(root) || !json_is_integer(version) || !json_is_object(entries)) {
        *err = xasprintf("%s: not a baton recordings file (expected {\"baton_recordings\": 1, "
                         "\"entries\": {...}})",
                         name);
        json_decref(root);
        return NULL;
    }
    if (json_integer_value(version) != RECORDINGS_VERSION) {
        *err = xasprintf("%s: recordings version %lld; this baton reads version %d", name,
                         (long long)json_integer_value(version), RECORDINGS_VERSION);
        json_decref(root);
        return NULL;
    }
    const char *key;
    json_t *e;
    json_object_foreach(entries, key, e) {
        const json_t *task = json_object_get(e, "task"), *cand = json_object_get(e, "candidate");
        char *why = NULL;
        llm_response_t *r =
            json_is_object(e) ? llm_response_from_json(json_object_get(e, "response"), &why) : NULL;
        bool ok = r && json_is_string(task) && json_is_string(cand) && strlen(key) == 64 &&
                  strspn(key, "0123456789abcdef") == 64;
        llm_response_free(r);
        free(r);
        if (!ok) {
            *err = xasprintf("%s: entry '%.80s': %s", name, key,
                             why ? why
                                 : "needs a 64-digit hex key, a string task and candidate, "
                                   "and a response");
            free(why);
            json_decref(root);
            return NULL;
        }
    }
    recordings_t *r = xcalloc(1, sizeof *r);
    r->entries = json_incref(entries);
    json_decref(root);
    return r;
}

recordings_t *recordings_load(const char *path, bool missing_ok, char **err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT && missing_ok) {
            recordings_t *r = xcalloc(1, sizeof *r);
            r->entries = json_object();
            return r;
        }
        *err = xasprintf("cannot read recordings %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (cap - len < 65536) buf = xrealloc(buf, cap = cap * 2 + 65536);
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    bool bad = ferror(f);
    fclose(f);
    recordings_t *r = NULL;
    if (bad)
        *err = xasprintf("cannot read recordings %s: %s", path, strerror(errno));
    else
        r = recordings_parse(buf, len, path, err);
    free(buf);
    return r;
}

const json_t *recordings_get(const recordings_t *r, const char *key) {
    return json_object_get(r->entries, key);
}

void recordings_put(recordings_t *r, const char *key, const char *task, const char *candidate,
                    const json_t *request, const json_t *response) {
    json_object_set_new(r->entries, key,
                        json_pack("{s:s, s:s, s:O, s:O}", "task", task, "candidate", candidate,
                                  "request", request, "response", response));
}

size_t recordings_count(const recordings_t *r) { return json_object_size(r->entries); }

int recordings_save(const recordings_t *r, const char *path, char **err) {
    json_t *root =
        json_pack("{s:i, s:O}", "baton_recordings", RECORDINGS_VERSION, "entries", r->entries);
    char *tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
    /* Sorted and indented: a re-recording shows as a readable diff in the user's repository. */
    int rc = json_dump_file(root, tmp, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(root);
    if (rc != 0 || rename(tmp, path) != 0) {
        *err = xasprintf("cannot write recordings %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

void recordings_free(recordings_t *r) {
    if (!r) return;
    json_decref(r->entries);
    free(r);
}
