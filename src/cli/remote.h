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

/* The HTTP status of the last remote_call or remote_call_text: 0 when the server was not
 * reached. The CLI is one thread; a command that must tell "the request is wrong" (400, 409,
 * 422: exit 2, as the same refusal on a data dir) from a failure reads it after a NULL. */
long remote_last_status(void);

/* The exit status for a call that failed: EXIT_USAGE (2) when the server refused the request
 * itself or the state it finds (400, 404, 409, 422), EXIT_FAILED (1) otherwise (not reached,
 * 5xx), so a command exits as its local twin does. */
int remote_exit_code(void);

/* path with %-escapes for one path segment or query value (caller frees). */
char *remote_escape(const char *s);

#endif
