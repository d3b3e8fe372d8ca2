/* writer.c - the store writer thread (see writer.h). */
#include "store/store_internal.h"
#include "store/writer.h"
#include "util/xalloc.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct job {
    store_batch_t batch;
    uint64_t ticket;
    char *err;
    struct job *next;
} job_t;

typedef struct queue {
    job_t *head, *tail;
} queue_t;

struct store_writer {
    store_t *st;
    store_t *own; /* the writer thread's connection (see store_writer_start), or NULL */
    uv_async_t async;
    store_committed_fn fn;
    void *ud;
    /* mu guards todo, done, stopping and failed; everything else is the loop thread's. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    queue_t todo, done;
    bool stopping, failed;
    pthread_t thread;
    uint64_t written; /* the writer thread's: the last ticket it wrote (or failed) */
    /* the loop thread's: */
    uint64_t next_ticket;
    uint64_t reported; /* the last ticket reported */
    size_t in_flight;
};

static void push(queue_t *q, job_t *j) {
    j->next = NULL;
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
}

static job_t *pop(queue_t *q) {
    job_t *j = q->head;
    if (j) {
        q->head = j->next;
        if (!q->head) q->tail = NULL;
    }
    return j;
}

static void job_free(job_t *j) {
    store_batch_clear(&j->batch);
    free(j->batch.recs);
    free(j->err);
    free(j);
}

static void *writer_main(void *arg) {
    store_writer_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->todo.head && !w->stopping) pthread_cond_wait(&w->cv, &w->mu);
        job_t *j = pop(&w->todo);
        if (!j) break; /* stopping, and everything handed over is written */
        /* Batches are written in the order they were handed over (later ones may build on
         * earlier ones): the queue is FIFO and only this thread pops it. */
        assert(j->ticket == w->written + 1);
        w->written = j->ticket;
        bool skip = w->failed;
        pthread_mutex_unlock(&w->mu);
        /* After a failure nothing more is written: a later batch may depend on the lost one. */
        if (skip)
            j->err = xstrdup("not written: an earlier batch failed");
        else if (store_commit_batch(w->own ? w->own : w->st, &j->batch, &j->err) != 0)
            skip = true;
        pthread_mutex_lock(&w->mu);
        if (skip) w->failed = true;
        push(&w->done, j);
        uv_async_send(&w->async);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* On the loop thread: report finished batches in submission order. */
static void on_done(uv_async_t *h) {
    store_writer_t *w = h->data;
    pthread_mutex_lock(&w->mu);
    queue_t done = w->done;
    w->done = (queue_t){0};
    pthread_mutex_unlock(&w->mu);
    job_t *j;
    while ((j = pop(&done))) {
        /* Reported in submission order, each once: the engine matches reports to its oldest
         * batch in flight. */
        assert(w->in_flight > 0 && j->ticket == w->reported + 1);
        w->reported = j->ticket;
        w->in_flight--;
        if (w->fn) w->fn(w->ud, j->ticket, j->err);
        job_free(j);
    }
    if (!w->in_flight) uv_unref((uv_handle_t *)&w->async);
}

store_writer_t *store_writer_start(store_t *st, uv_loop_t *loop, store_committed_fn fn, void *ud) {
    store_writer_t *w = xcalloc(1, sizeof *w);
    w->st = st;
    /* The thread commits through a connection of its own: a connection has one transaction, so
     * reads on the loop thread's connection would otherwise see a batch half written (and a
     * transaction statement there would interfere with the writer's). Reads now see committed
     * batches only (WAL). Without a second connection, it shares the store's as before. */
    char *err = NULL;
    w->own = st->path ? store_open(st->path, st->durability, &err) : NULL;
    if (!w->own)
        fprintf(stderr, "baton: the journal writer shares the store's connection: %s\n",
                err ? err : "?");
    free(err);
    w->fn = fn;
    w->ud = ud;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    uv_async_init(loop, &w->async, on_done);
    w->async.data = w;
    uv_unref((uv_handle_t *)&w->async);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) abort(); /* no thread: no journal */
    return w;
}

uint64_t store_writer_submit(store_writer_t *w, char **err) {
    if (!w->st->batch.n) return 0;
    /* Idle writer, small batch: the thread is parked on its condition variable and does not
     * touch the connection, so the loop thread may commit itself. */
    if (!w->in_flight && w->st->batch.n <= STORE_WRITER_INLINE) {
        assert(w->reported == w->next_ticket); /* nothing in flight: everything reported */
        store_commit_batch(w->st, &w->st->batch, err);
        return 0;
    }
    job_t *j = xcalloc(1, sizeof *j);
    j->batch = w->st->batch; /* the queued events move to the job; the store starts afresh */
    w->st->batch = (store_batch_t){0};
    j->ticket = ++w->next_ticket;
    if (w->in_flight++ == 0) uv_ref((uv_handle_t *)&w->async);
    pthread_mutex_lock(&w->mu);
    push(&w->todo, j);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return j->ticket;
}

size_t store_writer_in_flight(const store_writer_t *w) { return w->in_flight; }

static void async_closed(uv_handle_t *h) {
    store_writer_t *w = h->data;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

void store_writer_stop(store_writer_t *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    store_close(w->own);
    w->own = NULL;
    job_t *j;
    while ((j = pop(&w->done))) job_free(j);
    uv_close((uv_handle_t *)&w->async, async_closed);
}
