/* store_bench.c - durable events per second through the store writer (group commit), with
 * synchronous=NORMAL and FULL, batched as the engine batches a loop turn and one by one as a
 * chain commits. Prints one table row per case. */
#include "store/store.h"
#include "store/writer.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    uint64_t done;
    const char *err;
} progress_t;

static void committed(void *ud, uint64_t ticket, const char *err) {
    progress_t *p = ud;
    p->done = ticket;
    if (err) p->err = "commit failed";
}

/* Submits `events` events in batches of `batch`, keeping at most two batches in flight (as the
 * engine does when each turn's work depends on the last), and returns events per second. */
static double run_case(store_durability_t d, int events, int batch) {
    char dir[] = "/tmp/baton-store-bench-XXXXXX";
    if (!mkdtemp(dir)) exit(1);
    char *path = xasprintf("%s/baton.db", dir), *err = NULL;
    store_t *st = store_open(path, d, &err);
    if (!st) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    progress_t p = {0};
    store_writer_t *w = store_writer_start(st, &loop, committed, &p);
    json_t *data = json_pack("{s:s, s:i, s:s, s:f}", "task", "t", "attempt", 1, "output",
                             "a short answer of about forty bytes....", "cost_usd", 0.0);
    uint64_t seq = 0, submitted = 0;
    double t0 = now_s();
    while ((int)seq < events) {
        for (int k = 0; k < batch && (int)seq < events; k++)
            store_append(st, "r-bench", ++seq, 0, "task.completed", data);
        uint64_t ticket = store_writer_submit(w, &err);
        if (err) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
        if (ticket) submitted = ticket;
        while (submitted > p.done + 1) uv_run(&loop, UV_RUN_ONCE);
    }
    while (store_writer_in_flight(w)) uv_run(&loop, UV_RUN_ONCE);
    double rate = events / (now_s() - t0);
    store_writer_stop(w);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    json_decref(data);
    store_close(st);
    char *rm = xasprintf("rm -rf %s", dir);
    if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", dir);
    free(rm);
    free(path);
    if (p.err) exit(1);
    return rate;
}

int main(void) {
    printf("| durability | batch | events | events/s   |\n");
    printf("|------------|-------|--------|------------|\n");
    const struct {
        store_durability_t d;
        const char *name;
        int events, batch;
    } cases[] = {
        {STORE_DURABILITY_NORMAL, "normal", 100000, 1000},
        {STORE_DURABILITY_NORMAL, "normal", 50000, 100},
        {STORE_DURABILITY_NORMAL, "normal", 5000, 1},
        {STORE_DURABILITY_FULL, "full", 100000, 1000},
        {STORE_DURABILITY_FULL, "full", 50000, 100},
        {STORE_DURABILITY_FULL, "full", 2000, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        printf("| %-10s | %5d | %6d | %10.0f |\n", cases[i].name, cases[i].batch, cases[i].events,
               run_case(cases[i].d, cases[i].events, cases[i].batch));
    return 0;
}
