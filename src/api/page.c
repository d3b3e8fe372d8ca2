/* page.c - paging a list held in memory (see page.h). */
#include "api/page.h"
#include "api/answer.h"
#include "api/route.h"

#include <stdlib.h>
#include <string.h>

static const char *sort_key; /* the loop thread is the only caller */

static const char *key_of(const json_t *item) {
    const char *k = json_string_value(json_object_get(item, sort_key));
    return k ? k : "";
}

static int by_key_order(const void *x, const void *y) {
    return strcmp(key_of(*(json_t *const *)x), key_of(*(json_t *const *)y));
}

void api_page_answer(http_req_t *req, json_t *all, const char *key, bool by_key, long long dflt) {
    long long limit;
    if (!api_query_int(req, "limit", 1, 100, dflt, &limit)) {
        json_decref(all);
        return;
    }
    char cursor[512];
    bool after = route_query(req->query, "cursor", cursor, sizeof cursor);
    size_t n = json_array_size(all);
    json_t **items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) items[i] = json_array_get(all, i);
    sort_key = key;
    size_t from = 0;
    if (by_key) {
        qsort(items, n, sizeof *items, by_key_order);
        while (after && from < n && strcmp(key_of(items[from]), cursor) <= 0) from++;
    } else if (after) {
        while (from < n && strcmp(key_of(items[from]), cursor)) from++;
        if (from == n) {
            api_error(req, 400, "bad_request",
                      "cursor is not one this server gave out (or its item is gone)");
            free(items);
            json_decref(all);
            return;
        }
        from++;
    }
    json_t *page = json_array(), *next = json_null();
    for (size_t i = from; i < n; i++) {
        if (json_array_size(page) == (size_t)limit) {
            json_decref(next);
            next = json_string(key_of(json_array_get(page, (size_t)limit - 1)));
            break;
        }
        json_array_append(page, items[i]);
    }
    free(items);
    json_decref(all);
    api_json(req, 200, json_pack("{s:o, s:o}", "items", page, "next_cursor", next));
}
