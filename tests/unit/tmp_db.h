/* tmp_db.h - a cmocka fixture for tests of one database file: setup makes a fresh folder under
 * /tmp (`dir`) and names `db` = dir/baton.db in it (nothing is created: the code under test
 * opens it); teardown removes the folder. Include once, in a test file, after cmocka.h. */
#ifndef BATON_TESTS_TMP_DB_H
#define BATON_TESTS_TMP_DB_H

#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

static char dir[64];
static char *db;

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/baton-db-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    db = xasprintf("%s/baton.db", dir);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char *cmd = xasprintf("rm -rf %s", dir);
    int rc = system(cmd);
    free(cmd);
    free(db);
    return rc == 0 ? 0 : -1;
}

#endif
