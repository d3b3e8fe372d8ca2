/* maintenance.h - keeping a data dir healthy: rebuilding projections from the journal, checking
 * it, backups, and the retention sweep.
 *
 * All but restore are safe while another process writes to the same database: SQLite's locking
 * serialises them with its writers, and the backup API copies a consistent snapshot. */
#ifndef BATON_STORE_MAINTENANCE_H
#define BATON_STORE_MAINTENANCE_H

#include "store/store.h"

/* Deletes every projection row and replays the whole journal through the projection, in one
 * transaction. *events receives how many events were replayed. 0, or -1 with *err. */
int store_rebuild(store_t *st, uint64_t *events, char **err);

/* A JSON object describing the projection tables (every row, in a stable order), for comparing
 * the live tables with rebuilt ones. New reference. */
json_t *store_projection_dump(store_t *st);

/* Checks the database file (PRAGMA integrity_check) and every run's journal (seq 1..n with no
 * gap or duplicate, starting with run.created). Returns the number of problems found (0 when
 * healthy) and appends one message per problem, each saying what to do, to `problems`. */
int store_check(store_t *st, json_t *problems);

/* Verifies every blob an artifact references (size and SHA-256); appends one message per
 * damaged or missing blob, naming the runs' artifact and what to do. Returns how many. */
int store_check_blobs(store_t *st, const char *data_dir, json_t *problems);

/* Online backup of the whole database to `path` (overwritten), with the artifact blobs it
 * references packed in (table backup_blobs), each verified as it is read: one self-contained
 * file. A damaged blob fails the backup with its message. 0, or -1 with *err. */
int store_backup(store_t *st, const char *path, const char *data_dir, char **err);

/* Replaces the database's content with the Baton backup at `path` (checked first: a file that
 * is not a Baton database, one from a newer Baton, or one with a damaged blob is refused before
 * anything changes) and unpacks its blobs into data_dir's blobs/ (each checked against its
 * name). Not while a process is running runs in that data dir. 0, or -1 with *err. */
int store_restore(store_t *st, const char *path, const char *data_dir, char **err);

/* Retention: deletes runs that finished before the cutoffs (failed runs by failed_before_ms,
 * the others by finished_before_ms; 0 disables a cutoff), with their events, tasks, artifacts
 * and approvals. The ids of deleted runs are appended to `deleted` (so the caller can remove
 * their files). 0, or -1 with *err. */
int store_sweep(store_t *st, int64_t finished_before_ms, int64_t failed_before_ms, json_t *deleted,
                char **err);

/* The SHA-256 of every blob an artifact row references, as an object used as a set. */
json_t *store_referenced_blobs(store_t *st);

#endif
