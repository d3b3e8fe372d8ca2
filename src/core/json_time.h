/* json_time.h - how Baton writes times for people and programs (REST answers, WebSocket
 * messages, `--json` CLI output): RFC 3339 in UTC with milliseconds, "2026-12-08T01:02:03.456Z".
 * The journal and the store keep epoch milliseconds; these functions turn them into that form at
 * the edge, and read it back from queries.
 *
 * Promises: no allocation but the JSON values returned (the caller owns them); json_time_present
 * changes only integer fields named "at" or "*_at" (and "*_at_ms", renamed "*_at"), never what
 * users or models wrote (see json_time.c for the fields it leaves alone). */
#ifndef BATON_CORE_JSON_TIME_H
#define BATON_CORE_JSON_TIME_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define JSON_TIME_LEN 25 /* "2026-12-08T01:02:03.456Z" and its NUL */

/* Epoch milliseconds as RFC 3339 UTC with milliseconds into out. */
void json_time_format(int64_t ms, char out[JSON_TIME_LEN]);
/* The same as a new JSON string. */
json_t *json_time_string(int64_t ms);
/* Reads an RFC 3339 time ("2026-12-08T01:02:03Z", fraction and offset optional, "+01:00" or
 * "Z"; a date alone is its midnight UTC) into epoch milliseconds; false when s is not one. */
bool json_time_parse(const char *s, int64_t *ms);
/* Rewrites v in place: every integer field named "at" or "*_at" becomes its RFC 3339 string, and
 * every
 * "*_at_ms" becomes "*_at" so. Does not go into journaled data and user text: fields named
 * data, inputs, outputs, output, request, response, source, details. */
void json_time_present(json_t *v);

#endif
