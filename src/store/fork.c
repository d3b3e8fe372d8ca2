/* fork.c - a new run that shares another run's history up to an event (LangGraph's time travel,
 * done on the journal). */
#include "store/store_internal.h"
#include "util/xalloc.h"

#include <string.h>

typedef struct fork_ctx {
    store_t *st;
    const char *parent, *child;
    uint64_t at;
    const json_t *inputs; /* the child's inputs (run.created), already checked by the caller */
    uint64_t copied;
} fork_ctx_t;

static int copy_event(void *ud, uint64_t seq, int64_t ts, const char *type, json_t *data) {
    fork_ctx_t *c = ud;
    if (seq > c->at) return 1;
    if (seq == 1) {
        /* The child's own birth certificate: its id, its parent, its inputs. */
        json_t *d = json_deep_copy(data);
        json_object_set_new(d, "run_id", json_string(c->child));
        json_object_set_new(d, "parent_run_id", json_string(c->parent));
        json_object_set_new(d, "fork_seq", json_integer((json_int_t)c->at));
        if (c->inputs) json_object_set(d, "inputs", (json_t *)c->inputs);
        store_append(c->st, c->child, seq, ts, type, d);
        json_decref(d);
    } else {
        store_append(c->st, c->child, seq, ts, type, data);
    }
    c->copied = seq;
    return 0;
}

int store_fork(store_t *st, const char *parent, uint64_t at, const char *child,
               const json_t *inputs, char **err) {
    if (at < 1) {
        *err = xasprintf("--at must be an event sequence number, 1 or more");
        return -1;
    }
    fork_ctx_t c = {st, parent, child, at, inputs, 0};
    int rc = store_events(st, parent, 0, copy_event, &c);
    if (rc < 0) {
        *err = xasprintf("cannot read the journal of %s", parent);
        return -1;
    }
    if (c.copied < at) {
        *err = xasprintf("run %s has %llu events; --at %llu is past its end (see baton runs events "
                         "%s)", parent, (unsigned long long)c.copied, (unsigned long long)at, parent);
        /* Nothing of a refused fork may reach the journal. */
        store_discard(st);
        return -1;
    }
    return store_commit(st, err);
}
