/* page.h - one way to page every list the API answers: `limit` and `cursor` in, {"items",
 * "next_cursor"} out (null on the last page). For lists the server holds whole in memory (the
 * catalog, the router's candidates, templates, approvals, artifacts); runs, events and stored
 * workflows page in SQL with the same parameters. Only for src/api.
 *
 * Promises: a cursor is the key of the last item of the page before (opaque to clients). In a
 * list ordered by its key a page never repeats or skips an item that was there before and
 * after, even when others come or go in between; a list kept in its own order (the catalog's,
 * the router's) goes on after that item, and a cursor whose item is gone is a 400. */
#ifndef BATON_API_PAGE_H
#define BATON_API_PAGE_H

#include "api/api.h"

#include <jansson.h>
#include <stdbool.h>

/* Answers 200 {"items", "next_cursor"}: of all (stolen: freed here), ordered by the string
 * field `key` of each item (sorted here) or, when !by_key, in the order given, the `limit`
 * (1-100, dflt when absent) after `cursor`; a 400 for a bad limit or cursor. */
void api_page_answer(http_req_t *req, json_t *all, const char *key, bool by_key, long long dflt);

#endif
