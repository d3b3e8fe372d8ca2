/* schema.h - database schema migrations (see schema.c for the versions). */
#ifndef BATON_STORE_SCHEMA_H
#define BATON_STORE_SCHEMA_H

#include <sqlite3.h>
#include <stdlib.h>

/* Brings the schema to the latest version; refuses a database newer than this binary.
 * 0, or -1 with *err (caller frees). */
int schema_migrate(sqlite3 *db, char **err);

/* The schema version this binary writes. */
int schema_latest(void);

#endif
