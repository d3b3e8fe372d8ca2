/* writer.h - group commit on the store writer thread (DESIGN.md section 2).
 *
 * The loop thread queues events with store_append and, once per loop turn, hands them to the
 * writer as one batch (store_writer_submit). The writer thread commits through a connection of
 * its own (opened at start): it commits each batch, with its projections, in one transaction, in
 * submission order, and reports back on the loop thread (committed_fn, through uv_async) with
 * the batch's ticket. Effects that depend on a batch start only in that callback, so nothing
 * acts on an event before it is durable, while the loop keeps working on the next batch.
 *
 * Rules: while a writer runs, the loop thread must not commit synchronously (store_commit) nor
 * write through the store in any other way; reads are fine, and see committed batches only (the
 * store's connection is not the writer's; WAL lets them run side by side). The async
 * handle keeps the loop alive only while batches are in flight. */
#ifndef BATON_STORE_WRITER_H
#define BATON_STORE_WRITER_H

#include "store/store.h"

#include <stdint.h>
#include <uv.h>

typedef struct store_writer store_writer_t;

/* err is NULL on success; otherwise the batch did not commit (nor any after it: the writer
 * stops at the first failure, because later batches may depend on it). */
typedef void (*store_committed_fn)(void *ud, uint64_t ticket, const char *err);

store_writer_t *store_writer_start(store_t *st, uv_loop_t *loop, store_committed_fn fn, void *ud);

/* Hands what store_append queued to the writer and returns the batch's ticket (1, 2, ...).
 * A small batch (at most STORE_WRITER_INLINE events) while nothing is in flight is committed
 * right here instead, because handing it over would only add the thread wake-up to its latency:
 * then 0 is returned, and *err is set if that commit failed. 0 too when nothing was queued. */
#define STORE_WRITER_INLINE 64
uint64_t store_writer_submit(store_writer_t *w, char **err);

/* Batches handed over and not yet reported. */
size_t store_writer_in_flight(const store_writer_t *w);

/* Waits for the batches in flight to be written, stops the thread and releases the writer (its
 * uv handle closes with the loop's next turn). Reports nothing more. */
void store_writer_stop(store_writer_t *w);

#endif
