/* retention.c - the retention sweep: finished runs older than the policy go, with their journal,
 * projections and artifact files. */
#include "cli/cli.h"
#include "engine/engine.h"
#include "store/blobs.h"
#include "store/maintenance.h"
#include "util/xalloc.h"

#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <stdio.h>
#include <unistd.h>

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* A blob younger than this is never collected: a run may have written it a moment ago and not
 * yet committed the event that references it (git's gc keeps a grace period for the same
 * reason). */
#define BLOB_GRACE_S 3600

/* nftw passes no user data: the walk's state lives here for the one walk at a time. */
static const json_t *referenced;
static time_t grace_cutoff;
static size_t collected;

static int collect_blob(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    if (flag != FTW_F || ftw->level != 2 || sb->st_mtime > grace_cutoff) return 0;
    const char *name = path + ftw->base;
    /* blobs/<aa>/<sha>, or a temporary file a crash left behind */
    if (blob_valid_hash(name) && json_object_get(referenced, name)) return 0;
    if (unlink(path) == 0) collected++;
    return 0;
}

/* Removes blobs no artifact references any more (and crash leftovers), past the grace period. */
static size_t collect_blobs(store_t *st, const char *data_dir) {
    json_t *set = store_referenced_blobs(st);
    char *dir = xasprintf("%s/blobs", data_dir);
    referenced = set;
    grace_cutoff = time(NULL) - BLOB_GRACE_S;
    collected = 0;
    nftw(dir, collect_blob, 16, FTW_PHYS);
    referenced = NULL;
    free(dir);
    json_decref(set);
    return collected;
}

int cli_retention_sweep(store_t *st, const char *data_dir, const cli_config_t *cfg, json_t *deleted,
                        char **err) {
    int64_t now = engine_now_ms();
    int64_t done_cut =
        cfg->retention_runs_s > 0 ? now - (int64_t)(cfg->retention_runs_s * 1000) : 0;
    int64_t failed_cut =
        cfg->retention_failed_s > 0 ? now - (int64_t)(cfg->retention_failed_s * 1000) : 0;
    size_t before = json_array_size(deleted);
    if (store_sweep(st, done_cut, failed_cut, deleted, err) != 0) return -1;
    /* The journal is committed first: a crash here leaves files without rows, which the next
     * sweep of blobs or a person can remove, never rows pointing at missing files. */
    for (size_t i = before; i < json_array_size(deleted); i++) {
        char *dir =
            xasprintf("%s/artifacts/%s", data_dir, json_string_value(json_array_get(deleted, i)));
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(dir);
    }
    collect_blobs(st, data_dir);
    return 0;
}
