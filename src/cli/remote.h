/* remote.h - the CLI as a client of `baton serve` (--server URL, or $BATON_SERVER): one JSON
 * request at a time, blocking (a command-line tool waits for its answer anyway), over libcurl.
 *
 * Promises: a JSON answer with a 2xx status comes back parsed; anything else is NULL with a
 * message a user can act on: the server cannot be reached (and where it was looked for), or the
 * server's own error message with its status. */
#ifndef BATON_CLI_REMOTE_H
#define BATON_CLI_REMOTE_H

#include <jansson.h>

/* The server to talk to: --server's value, else $BATON_SERVER, else NULL (use the data dir). */
const char *remote_server(const char *flag);

/* METHOD server+path with body (NULL: none; borrowed) as JSON. New reference, or NULL with *err
 * (caller frees). */
json_t *remote_call(const char *server, const char *method, const char *path, const json_t *body,
                    char **err);

/* The same with a body of text (a workflow's YAML, say) sent as it is. */
json_t *remote_call_text(const char *server, const char *method, const char *path, const char *text,
                         size_t text_len, char **err);

/* path with %-escapes for one path segment or query value (caller frees). */
char *remote_escape(const char *s);

#endif
