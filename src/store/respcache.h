/* respcache.h - the response cache's table (`llm_cache` in baton.db), read and written off the
 * loop thread.
 *
 * Each entry is one answer under its request key (llm/reqkey.h): {candidate, response JSON,
 * created_at}. An entry older than the TTL is never returned, and is deleted by the sweep that
 * runs when the cache opens and after every write; the sweep also keeps at most `max_entries`
 * (newest first), so the table cannot grow without bound.
 *
 * The cache has its own SQLite connection to the database file, used only on libuv's thread
 * pool (uv_queue_work): a lookup or a write never blocks the loop, and never touches the store's
 * write connection (the journal writer's), so group commit is unaffected; SQLite's busy timeout
 * orders the two writers. Results come back on the loop thread, always on a later turn.
 *
 * A cache that cannot be read or written answers "miss" and drops the write: a broken cache
 * costs money, never a run. */
#ifndef BATON_STORE_RESPCACHE_H
#define BATON_STORE_RESPCACHE_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

typedef struct respcache respcache_t;
typedef struct respcache_get respcache_get_t;

/* Opens the cache over the database at db_path (whose schema the store already migrated). ttl_ms
 * > 0; max_entries > 0. NULL with *err when the file cannot be opened. */
respcache_t *respcache_open(uv_loop_t *loop, const char *db_path, int64_t ttl_ms,
                            int64_t max_entries, char **err);

/* entry: {candidate, response} (new reference, the callee's), or NULL on a miss. */
typedef void (*respcache_get_fn)(void *ud, json_t *entry);

/* Looks key up; fn runs on a later loop turn unless the lookup is cancelled first. */
respcache_get_t *respcache_get(respcache_t *c, const char *key, respcache_get_fn fn, void *ud);
void respcache_get_cancel(respcache_get_t *g);

/* Stores (or replaces) key's answer; response is borrowed (serialised at once). */
void respcache_put(respcache_t *c, const char *key, const char *candidate, const json_t *response);

/* Closes the cache: lookups and writes in flight finish first (their callbacks still run), then
 * the connection closes. */
void respcache_close(respcache_t *c);

/* Wall-clock milliseconds (the TTL outlives processes, so it cannot be loop time). */
int64_t respcache_now_ms(void);

#endif
