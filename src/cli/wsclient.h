/* wsclient.h - a minimal RFC 6455 client for `baton runs events --follow --server URL`: it
 * opens ws://HOST:PORT/api/v1/ws on an http:// server, sends one message (a subscription) and
 * hands each text message the server sends, parsed as JSON, to a callback. Blocking: a
 * command-line tool that follows a feed has nothing else to do.
 *
 * Limits (said, not hidden): plain ws:// only (an https:// server is refused with a message:
 * the caller falls back to polling the REST API); no extensions (no compression); messages up to
 * 16 MiB. The handshake is checked as RFC 6455 says (101, Upgrade, Sec-WebSocket-Accept);
 * pings are answered. */
#ifndef BATON_CLI_WSCLIENT_H
#define BATON_CLI_WSCLIENT_H

#include <jansson.h>
#include <stdbool.h>

/* Return nonzero to stop following. msg is borrowed. */
typedef int (*wsclient_fn)(void *ud, const json_t *msg);

/* Whether wsclient_follow can reach this server (an http:// URL). */
bool wsclient_supports(const char *server);

/* Follows until fn returns nonzero (0), or the connection fails or closes (-1 with *err,
 * caller frees). */
int wsclient_follow(const char *server, const char *path, const json_t *hello, wsclient_fn fn,
                    void *ud, char **err);

#endif
