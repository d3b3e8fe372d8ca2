/* idemstore.h - the answers kept for requests that carried an Idempotency-Key (the table
 * `idempotency_keys` in baton.db), so that a retry gets the first answer again, also after a
 * restart. The API's rules (what is kept, for how long, what a retry gets) are in
 * api/idempotency.h; this is only the table.
 *
 * Its own connection to the database file, used only by the thread that calls these (the loop
 * thread in `baton serve`), as stored workflows have (store/workflows.c says why): a short
 * statement of a row, waiting at most a bounded time for a journal commit; a database that stays
 * locked fails the call (-1 with *err), never hangs it. */
#ifndef BATON_STORE_IDEMSTORE_H
#define BATON_STORE_IDEMSTORE_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct idemstore idemstore_t;

/* One kept answer. Strings are NUL-terminated; body may hold NULs (body_len bytes). */
typedef struct idemstore_entry {
    char *body_sha256;  /* hex SHA-256 of the request's body */
    int status;         /* the answer's status */
    char *content_type; /* its Content-Type */
    char *headers;      /* the headers that matter, as a JSON object {"Location": "..."} */
    char *body;         /* its body */
    size_t body_len;
    int64_t created_at; /* wall-clock ms */
} idemstore_entry_t;

/* Opens a connection to st's database (migrated already). NULL with *err (caller frees). */
idemstore_t *idemstore_open(store_t *st, char **err);
void idemstore_close(idemstore_t *s);

/* The entry of (scope, key) created after not_before_ms: 1 (out filled: free it with
 * idemstore_entry_free), 0 none, -1 with *err. */
int idemstore_get(idemstore_t *s, const char *scope, const char *key, int64_t not_before_ms,
                  idemstore_entry_t *out, char **err);
/* Keeps e under (scope, key), replacing what was there. 0, or -1 with *err. */
int idemstore_put(idemstore_t *s, const char *scope, const char *key, const idemstore_entry_t *e,
                  char **err);
/* Deletes the entries created before before_ms: how many, or -1 with *err. */
int64_t idemstore_sweep(idemstore_t *s, int64_t before_ms, char **err);

/* Frees what an entry holds (not the struct itself). */
void idemstore_entry_free(idemstore_entry_t *e);

#endif
