/* tool_http.c - the http_fetch tool: a request (GET by default; HEAD, or a write - POST, PUT,
 * PATCH, DELETE - with headers and a body) on the loop's HTTP client (libcurl multi on libuv, as
 * model calls), only to hosts the configuration allows (writes only where an entry grants the
 * method), with a size cap and a time limit.
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
    return tools_request_check(allow_hosts, "GET", url, by_name, why, whylen);
}

const char *tools_http_method(const char *m) {
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; m && i < sizeof methods / sizeof *methods; i++)
        if (!strcasecmp(m, methods[i])) return methods[i];
    return NULL;
}

/* The host an entry names: the string itself, or an object's `host`. */
static const char *entry_host(const json_t *e) {
    return json_is_string(e) ? json_string_value(e) : json_string_value(json_object_get(e, "host"));
}

/* Whether an entry lets `method` through: reads (GET, HEAD) always; a write only when the entry
 * is an object whose `methods` lists it. */
static bool entry_grants(const json_t *e, const char *method) {
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) return true;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(e, "methods"), i, m) {
        if (json_is_string(m) && !strcasecmp(json_string_value(m), method)) return true;
    }
    return false;
}

bool tools_request_check(const json_t *allow_hosts, const char *method, const char *url,
                         bool *by_name, char *why, size_t whylen) {
    bool name_entry = false, host_matched = false;
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
        const char *eh = entry_host(h);
        if (eh && entry_matches(eh, host, pn, default_port, &name_entry)) {
            host_matched = true;
            if (!entry_grants(h, method)) continue; /* another entry may grant it */
            ok = true;
            if (by_name) *by_name = name_entry;
            goto out;
        }
    }
    if (host_matched)
        snprintf(why, whylen,
                 "%s to host '%.100s' is not allowed: tools.http_fetch.allow_hosts lets it be read "
                 "(GET, HEAD) only; grant writes with an entry {host: %.100s, methods: [%s]}",
                 method, host, host, method);
    else if (!json_array_size(allow_hosts))
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

/* A header name is an HTTP token; neither name nor value may hold CR or LF (a second header or
 * request smuggled in). Host and the framing headers are the client's to set. */
static bool header_ok(const char *name, const char *value) {
    if (!*name) return false;
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~", *p))) return false;
    if (!strcasecmp(name, "Host") || !strcasecmp(name, "Content-Length") ||
        !strcasecmp(name, "Transfer-Encoding") || !strcasecmp(name, "Connection"))
        return false;
    return !strpbrk(value, "\r\n");
}

/* The request's headers as "Name: value" lines (NULL-terminated, caller frees each and the
 * array), defaults first unless the call sets them; NULL with *err for a header refused. */
static char **build_headers(const json_t *given, bool json_body, bool has_body, char **err) {
    size_t n = json_object_size(given), k = 0;
    char **out = xcalloc(n + 5, sizeof *out);
    bool accept = false, agent = false, ctype = false;
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)given, name, v) {
        char *text = json_is_string(v) ? xstrdup(json_string_value(v)) : expr_format(v);
        if (!header_ok(name, text)) {
            *err = xasprintf("header '%.100s' is not allowed (a name is letters, digits and "
                             "-_.; no line breaks; Host, Content-Length, Transfer-Encoding and "
                             "Connection are set by the client)",
                             name);
            free(text);
            for (size_t j = 0; j < k; j++) free(out[j]);
            free(out);
            return NULL;
        }
        accept |= !strcasecmp(name, "Accept");
        agent |= !strcasecmp(name, "User-Agent");
        ctype |= !strcasecmp(name, "Content-Type");
        out[k++] = xasprintf("%s: %s", name, text);
        free(text);
    }
    if (!accept) out[k++] = xstrdup("Accept: text/*, application/json;q=0.9, */*;q=0.5");
    if (!agent) out[k++] = xstrdup("User-Agent: baton-http-fetch");
    if (has_body && !ctype)
        out[k++] = xstrdup(json_body ? "Content-Type: application/json"
                                     : "Content-Type: text/plain; charset=utf-8");
    return out;
}

static void free_headers(char **h) {
    for (size_t j = 0; h && h[j]; j++) free(h[j]);
    free(h);
}

tool_status_t tool_http_fetch(engine_run_t *run, uint32_t i, const json_t *call, tool_done_fn done,
                              char **content, bool *is_error) {
    const json_t *cfg = json_object_get(run->eng->o.tools_config, "http_fetch");
    const json_t *args = json_object_get(call, "arguments");
    const char *url = json_string_value(json_object_get(args, "url"));
    const json_t *mv = json_object_get(args, "method"), *hv = json_object_get(args, "headers");
    const json_t *bv = json_object_get(args, "body");
    char why[400];
    *is_error = true;
    if (!url) {
        *content = xstrdup("http_fetch needs {\"url\": \"https://...\"}");
        return TOOL_DONE;
    }
    const char *method = mv && !json_is_null(mv) ? tools_http_method(json_string_value(mv)) : "GET";
    if (!method) {
        char *shown = json_dumps(mv, JSON_ENCODE_ANY | JSON_COMPACT);
        *content = xasprintf("http_fetch: method %.40s is not one of GET, HEAD, POST, PUT, PATCH, "
                             "DELETE",
                             shown ? shown : "?");
        free(shown);
        return TOOL_DONE;
    }
    if (hv && !json_is_null(hv) && !json_is_object(hv)) {
        *content = xstrdup("http_fetch: headers must be an object of header names to values");
        return TOOL_DONE;
    }
    bool has_body = bv && !json_is_null(bv);
    if (has_body && (!strcmp(method, "GET") || !strcmp(method, "HEAD"))) {
        *content =
            xasprintf("http_fetch: a %s request has no body (use POST, PUT or PATCH)", method);
        return TOOL_DONE;
    }
    bool by_name = false;
    if (!tools_request_check(json_object_get(cfg, "allow_hosts"), method, url, &by_name, why,
                             sizeof why)) {
        *content = xasprintf("refused: %s", why);
        return TOOL_DONE;
    }
    char *herr = NULL;
    char **headers = build_headers(hv, has_body && !json_is_string(bv), has_body, &herr);
    if (!headers) {
        *content = xasprintf("http_fetch: %s", herr);
        free(herr);
        return TOOL_DONE;
    }
    /* A string body is sent as it is; any other JSON value as JSON. */
    char *body = !has_body            ? NULL
                 : json_is_string(bv) ? xstrndup(json_string_value(bv), json_string_length(bv))
                                      : json_dumps(bv, JSON_ENCODE_ANY | JSON_COMPACT);
    size_t body_len = json_is_string(bv) ? json_string_length(bv) : body ? strlen(body) : 0;
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
    long total = wf_duration_ms(json_object_get(cfg, "timeout"), TOOLS_DEFAULT_TIMEOUT_MS);
    http_req_opts_t o = {.method = method,
                         .url = url,
                         .headers = (const char *const *)headers,
                         .body = body,
                         .body_len = body_len,
                         .connect_timeout_ms = total < 10000 ? total : 10000,
                         .total_timeout_ms = total,
                         .on_data = fetch_data,
                         .on_done = fetch_done,
                         .ud = f,
                         .allow_address = fetch_address_ok};
    f->req = http_request_start(e->http, &o); /* copies the headers and the body */
    free_headers(headers);
    free(body);
    if (!f->req) {
        fetch_free(f);
        *content = xasprintf("fetch failed: '%.200s' is not a URL this client can fetch", url);
        return TOOL_DONE;
    }
    run->exec[i].fetch = f;
    return TOOL_PENDING;
}
