/* tool_http.c - the http_fetch tool: a GET on the loop's HTTP client (libcurl multi on libuv, as
 * model calls), only to hosts the configuration allows, with a size cap and a time limit.
 * Redirects are not followed (the client never does): a redirect comes back as the result, so a
 * allowed host cannot bounce the fetch to one that is not. */
#include "engine/engine_internal.h"
#include "engine/tools.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <strings.h>

/* ---- the allowlist (pure) ------------------------------------------------------------------ */

/* One entry against a host (lower case) and port: "host", "host:port", "*.domain". */
/* An entry names an IP address (as curl writes hosts: IPv6 in brackets) rather than a host. */
static bool is_ip_literal(const char *h) {
    if (*h == '[') return true;
    struct in_addr a4;
    return inet_pton(AF_INET, h, &a4) == 1;
}

static bool entry_matches(const char *entry, const char *host, long port, long default_port,
                          bool *by_name) {
    char e[256];
    snprintf(e, sizeof e, "%s", entry);
    for (char *p = e; *p; p++) *p = (char)tolower((unsigned char)*p);
    long want_port = -1;
    char *colon = strrchr(e, ':');
    /* "[::1]:8080" has its port after the bracket; a bare IPv6 literal has no port */
    if (colon && (e[0] != '[' || colon > strchr(e, ']'))) {
        char *end;
        long pn = strtol(colon + 1, &end, 10);
        if (*end || pn <= 0 || pn > 65535) return false;
        want_port = pn;
        *colon = '\0';
    }
    if ((want_port >= 0 ? want_port : default_port) != port) return false;
    *by_name = !is_ip_literal(e);
    if (!strncmp(e, "*.", 2)) {
        size_t hl = strlen(host), dl = strlen(e + 1); /* ".domain" */
        return hl > dl && !strcmp(host + hl - dl, e + 1);
    }
    return !strcmp(e, host);
}

bool tools_address_public(const struct sockaddr *a) {
    const unsigned char *b;
    unsigned char mapped[4];
    if (a->sa_family == AF_INET6) {
        const unsigned char *s6 = ((const struct sockaddr_in6 *)(const void *)a)->sin6_addr.s6_addr;
        static const unsigned char v4map[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(s6, v4map, 12)) {
            static const unsigned char zero[15] = {0};
            if (!memcmp(s6, zero, 15) && s6[15] <= 1) return false;    /* :: and ::1 */
            if ((s6[0] & 0xfe) == 0xfc) return false;                  /* fc00::/7 unique local */
            if (s6[0] == 0xfe && (s6[1] & 0xc0) == 0x80) return false; /* fe80::/10 link-local */
            if (s6[0] == 0xff) return false;                           /* multicast */
            return true;
        }
        memcpy(mapped, s6 + 12, 4); /* ::ffff:a.b.c.d is a.b.c.d */
        b = mapped;
    } else if (a->sa_family == AF_INET) {
        b = (const unsigned char *)&((const struct sockaddr_in *)(const void *)a)->sin_addr;
    } else {
        return false;
    }
    return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
             (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
             (b[0] == 100 && (b[1] & 0xc0) == 64) || b[0] >= 224);
}

bool tools_url_allowed(const json_t *allow_hosts, const char *url, char *why, size_t whylen) {
    return tools_url_check(allow_hosts, url, NULL, why, whylen);
}

bool tools_url_check(const json_t *allow_hosts, const char *url, bool *by_name, char *why,
                     size_t whylen) {
    bool name_entry = false;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    bool ok = false;
    if (!url || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        snprintf(why, whylen, "'%.200s' is not a URL", url ? url : "");
        goto out;
    }
    if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) {
        snprintf(why, whylen, "only http:// and https:// URLs can be fetched (not %s://)", scheme);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(why, whylen, "'%.200s' has no host", url);
        goto out;
    }
    for (char *p = host; *p; p++) *p = (char)tolower((unsigned char)*p);
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    long pn = port ? strtol(port, NULL, 10) : -1;
    long default_port = strcasecmp(scheme, "https") ? 80 : 443;
    size_t i;
    json_t *h;
    json_array_foreach(allow_hosts, i, h) {
        if (json_is_string(h) &&
            entry_matches(json_string_value(h), host, pn, default_port, &name_entry)) {
            ok = true;
            if (by_name) *by_name = name_entry;
            goto out;
        }
    }
    if (!json_array_size(allow_hosts))
        snprintf(why, whylen,
                 "http_fetch is not allowed to fetch anything: the configuration's "
                 "tools.http_fetch.allow_hosts is empty");
    else
        snprintf(why, whylen,
                 "host '%.100s' port %ld is not in tools.http_fetch.allow_hosts (an "
                 "entry without a port allows only %ld)",
                 host, pn, default_port);
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

/* ---- the fetch ------------------------------------------------------------------------------- */

struct tool_fetch {
    engine_run_t *run;
    uint32_t task;
    json_t *call;
    tool_done_fn done;
    http_request_t *req;
    strbuf_t body;
    size_t max;
    bool cut;
    int64_t started_ms;
    bool public_only;               /* the host was allowed by name: only public addresses */
    char refused[INET6_ADDRSTRLEN]; /* the address refused for that, if one was */
};

static bool fetch_address_ok(void *ud, const struct sockaddr *a) {
    struct tool_fetch *f = ud;
    if (!f->public_only || tools_address_public(a)) return true;
    const void *raw = a->sa_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)(const void *)a)->sin_addr;
    if (!inet_ntop(a->sa_family, raw, f->refused, sizeof f->refused))
        snprintf(f->refused, sizeof f->refused, "?");
    return false;
}

static void fetch_free(struct tool_fetch *f) {
    json_decref(f->call);
    sb_free(&f->body);
    free(f);
}

static int fetch_data(void *ud, const char *data, size_t len) {
    struct tool_fetch *f = ud;
    size_t room = f->max - f->body.len;
    sb_append(&f->body, data, len < room ? len : room);
    if (len > room) {
        f->cut = true;
        return 1; /* enough: stop the transfer (reported as an error, which fetch_done forgives) */
    }
    return 0;
}

/* The body as text for the model (journaled as a JSON string): bytes that are not UTF-8 become
 * '?', and a body cut at max_bytes loses a split character at the end. */
static char *body_text(strbuf_t *b) { return utf8_valid(b->buf, b->len); }

static void fetch_done(void *ud, const http_result_t *res) {
    struct tool_fetch *f = ud;
    engine_run_t *run = f->run;
    uint32_t i = f->task;
    run->exec[i].fetch = NULL;
    char *content;
    bool error = false;
    if (res->error && f->refused[0]) {
        content =
            xasprintf("refused: the host resolved to %s, which is not a public address (allow "
                      "the address itself in tools.http_fetch.allow_hosts, or set allow_private)",
                      f->refused);
        error = true;
    } else if (res->error && !f->cut) {
        content = xasprintf("fetch failed: %s", res->error);
        error = true;
    } else {
        char *text = body_text(&f->body);
        content =
            xasprintf("HTTP %ld\n\n%s%s", res->status, text,
                      f->cut ? "\n[cut: the body is longer than tools.http_fetch.max_bytes]" : "");
        free(text);
    }
    json_t *call = json_incref(f->call);
    int64_t ms = engine_now_ms() - f->started_ms;
    tool_done_fn report = f->done;
    fetch_free(f);
    report(run, i, call, content, error, ms);
    free(content);
    json_decref(call);
}

void tools_cancel(engine_run_t *run, uint32_t i) {
    struct tool_fetch *f = run->exec[i].fetch;
    if (!f) return;
    run->exec[i].fetch = NULL;
    http_request_cancel(f->req);
    fetch_free(f);
}

tool_status_t tool_http_fetch(engine_run_t *run, uint32_t i, const json_t *call, tool_done_fn done,
                              char **content, bool *is_error) {
    const json_t *cfg = json_object_get(run->eng->o.tools_config, "http_fetch");
    const char *url = json_string_value(json_object_get(json_object_get(call, "arguments"), "url"));
    char why[300];
    *is_error = true;
    if (!url) {
        *content = xstrdup("http_fetch needs {\"url\": \"https://...\"}");
        return TOOL_DONE;
    }
    bool by_name = false;
    if (!tools_url_check(json_object_get(cfg, "allow_hosts"), url, &by_name, why, sizeof why)) {
        *content = xasprintf("refused: %s", why);
        return TOOL_DONE;
    }
    engine_t *e = run->eng;
    if (!e->http) e->http = http_client_new(e->o.loop);
    struct tool_fetch *f = xcalloc(1, sizeof *f);
    f->run = run;
    f->task = i;
    f->call = json_incref((json_t *)call);
    f->done = done;
    f->public_only = by_name && !json_is_true(json_object_get(cfg, "allow_private"));
    json_int_t max = json_integer_value(json_object_get(cfg, "max_bytes"));
    f->max = max > 0 ? (size_t)max : TOOLS_DEFAULT_MAX_BYTES;
    f->started_ms = engine_now_ms();
    static const char *const headers[] = {"Accept: text/*, application/json;q=0.9, */*;q=0.5",
                                          "User-Agent: baton-http-fetch", NULL};
    long total = wf_duration_ms(json_object_get(cfg, "timeout"), TOOLS_DEFAULT_TIMEOUT_MS);
    http_req_opts_t o = {.method = "GET",
                         .url = url,
                         .headers = headers,
                         .connect_timeout_ms = total < 10000 ? total : 10000,
                         .total_timeout_ms = total,
                         .on_data = fetch_data,
                         .on_done = fetch_done,
                         .ud = f,
                         .allow_address = fetch_address_ok};
    f->req = http_request_start(e->http, &o);
    if (!f->req) {
        fetch_free(f);
        *content = xasprintf("fetch failed: '%.200s' is not a URL this client can fetch", url);
        return TOOL_DONE;
    }
    run->exec[i].fetch = f;
    return TOOL_PENDING;
}
