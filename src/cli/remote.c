/* remote.c - JSON over HTTP to a Baton server (see remote.h). */
#include "cli/remote.h"
#include "cli/cli.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

/* The last call's HTTP status (remote_last_status): the CLI is one thread. */
static long last_status;

long remote_last_status(void) { return last_status; }

int remote_exit_code(void) {
    switch (last_status) {
    case 400:
    case 404:
    case 409:
    case 422:
        return EXIT_USAGE;
    default:
        return EXIT_FAILED;
    }
}

const char *remote_server(const char *flag) {
    if (flag && *flag) return flag;
    const char *env = getenv("BATON_SERVER");
    return env && *env ? env : NULL;
}

static size_t collect(char *ptr, size_t size, size_t n, void *ud) {
    strbuf_t *sb = ud;
    if (sb->len + size * n > (64u << 20)) return 0; /* an answer this big is not one of ours */
    sb_append(sb, ptr, size * n);
    return size * n;
}

char *remote_escape(const char *s) {
    char *e = curl_easy_escape(NULL, s, 0);
    char *out = xstrdup(e ? e : "");
    curl_free(e);
    return out;
}

json_t *remote_call(const char *server, const char *method, const char *path, const json_t *body,
                    char **err) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_t *answer = remote_call_text(server, method, path, text, text ? strlen(text) : 0, err);
    free(text);
    return answer;
}

json_t *remote_call_text(const char *server, const char *method, const char *path, const char *text,
                         size_t text_len, char **err) {
    CURL *c = curl_easy_init();
    if (!c) {
        *err = xstrdup("libcurl failed to initialise");
        return NULL;
    }
    size_t n = strlen(server);
    while (n && server[n - 1] == '/') n--;
    char *url = xasprintf("%.*s%s", (int)n, server, path);
    strbuf_t got = {0};
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    if (text) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)text_len);
    } else if (!strcmp(method, "POST"))
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    last_status = rc == CURLE_OK ? status : 0;
    json_t *answer = NULL;
    if (rc != CURLE_OK) {
        *err = xasprintf("cannot reach the Baton server at %.*s: %s (is `baton serve` running? "
                         "--server or BATON_SERVER say where)",
                         (int)n, server, curl_easy_strerror(rc));
    } else {
        json_error_t jerr;
        answer = json_loadb(got.buf ? got.buf : "", got.len, JSON_DECODE_ANY, &jerr);
        if (status < 200 || status > 299 || !answer) {
            const char *msg =
                json_string_value(json_object_get(json_object_get(answer, "error"), "message"));
            *err = msg ? xasprintf("%s (HTTP %ld)", msg, status)
                       : xasprintf("the server answered HTTP %ld to %s %s", status, method, path);
            json_decref(answer);
            answer = NULL;
        }
    }
    sb_free(&got);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    free(url);
    return answer;
}
