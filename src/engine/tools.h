/* tools.h - the built-in tools agents call: read_artifact, write_artifact, http_fetch, ask_human.
 *
 * One registry (tools.c) serves every agent: the definitions the model is offered (name,
 * description, JSON-Schema parameters) and the code that runs a call. The engine's tool loop
 * (tool_loop.c) drives them; this header is what the rest of Baton may use: checking the
 * `tools:` section of the configuration, and the pure allowlist rule http_fetch applies.
 *
 * Configuration (baton.yaml):
 *     tools:
 *       http_fetch:
 *         allow_hosts: [api.example.com, "*.wikipedia.org", "127.0.0.1:8080",
 *                       {host: hooks.example.com, methods: [POST]}]
 *         max_bytes: 262144        # the body is cut there (default 256 KiB)
 *         timeout: 10s             # the whole request (default 10 s)
 *         allow_private: false     # a host allowed by name may reach private addresses
 * Nothing is allowed by default: without allow_hosts every http_fetch is refused. A host entry
 * (a string) allows reads, GET and HEAD; an entry {host, methods} also allows the writes it
 * lists (POST, PUT, PATCH, DELETE) to that host.
 *
 * Ownership: every argument is borrowed for the call only and nothing here keeps a pointer to
 * it; the one thing returned to free is tools_config_check's *err (the caller frees it). `why`
 * is the caller's buffer of whylen bytes, filled (NUL-terminated) when the answer is false.
 * Threading: functions with no state of their own and no I/O: safe from any thread. The registry
 * the engine drives (engine_internal.h) is the loop thread's. */
#ifndef BATON_ENGINE_TOOLS_H
#define BATON_ENGINE_TOOLS_H

#include <sys/socket.h>

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TOOLS_DEFAULT_MAX_BYTES  (256 * 1024)
#define TOOLS_DEFAULT_TIMEOUT_MS 10000
/* How many tool-call rounds one attempt may take before it fails (agent max_tool_iterations). */
#define TOOLS_DEFAULT_MAX_ITERATIONS 8

/* Checks the `tools` section of the configuration (NULL is fine). 0, or -1 with *err (caller
 * frees) naming the key that is wrong. */
int tools_config_check(const json_t *tools, char **err);

/* Whether http_fetch may fetch `url` under `allow_hosts` (an array of "host", "host:port" or
 * "*.domain" entries; NULL or empty allows nothing). Only http and https URLs qualify; hosts
 * compare case-insensitively; "*.example.com" matches any subdomain of example.com, not
 * example.com itself; an entry with a port matches only that port, one without only the
 * scheme's own (80, 443), so "127.0.0.1" does not open every service on the machine. false
 * with a reason in why. *by_name (may be NULL) tells whether the entry that matched names a
 * host rather than an IP address: the connection must then go to a public address (see
 * tools_address_public), since a name can resolve, or be rebound, anywhere. */
bool tools_url_allowed(const json_t *allow_hosts, const char *url, char *why, size_t whylen);
bool tools_url_check(const json_t *allow_hosts, const char *url, bool *by_name, char *why,
                     size_t whylen);

/* Whether `method` (upper case, as tools_http_method gives it) may go to `url`: the URL must
 * pass as for tools_url_check, and a write needs an entry for its host whose `methods` lists
 * it. false with a reason in why: a write to a host allowed only to be read says so. */
bool tools_request_check(const json_t *allow_hosts, const char *method, const char *url,
                         bool *by_name, char *why, size_t whylen);
/* The method http_fetch sends for `m` (any case): "GET", "HEAD", "POST", "PUT", "PATCH",
 * "DELETE" (static strings), or NULL for anything else. */
const char *tools_http_method(const char *m);

/* Whether an address is public: not loopback, private (RFC 1918, fc00::/7), link-local (cloud
 * metadata lives at 169.254.169.254), CGNAT, unspecified or multicast, IPv4-mapped ones
 * included. */
bool tools_address_public(const struct sockaddr *a);

/* Whether `name` may name an artifact a tool reads or writes: 1 to 128 of [A-Za-z0-9._-], not
 * starting with '.', so it can never leave the run's folder; not NAME.vN.EXT nor NAME.tmp, the
 * names Baton gives later versions and files being written. */
bool tools_artifact_name_ok(const char *name);

#endif
