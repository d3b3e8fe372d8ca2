/* router_bench.c - the model router under load (DESIGN.md section 8):
 *   - N concurrent calls through the router to a fake OpenAI-compatible server that answers
 *     each after a fixed latency: time until the last answer, and peak RSS;
 *   - the router's own overhead per call: the offline model through the router versus called
 *     directly, same requests;
 *   - the layer in front of the router (llm/recall.h): its cost with the cache off, and a
 *     cache hit (a lookup in SQLite on the thread pool) against the offline model it replaces.
 * Usage: router_bench PORT [N]   (bench/run.sh starts the fake and passes its port) */
#include "llm/offline.h"
#include "llm/provider.h"
#include "llm/recall.h"
#include "llm/router.h"
#include "store/store.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct {
    int done, failed;
    const char *first_error;
} tally_t;

static void on_done(void *ud, llm_response_t *resp, const llm_error_t *err) {
    tally_t *t = ud;
    t->done++;
    if (!resp) {
        t->failed++;
        if (!t->first_error && err && err->message) t->first_error = xstrdup(err->message);
        return;
    }
    llm_response_free(resp);
    free(resp);
}

/* Counts the calls a cache answered (the bench checks that every "hit" was one). */
static void count_cached(void *ud, const llm_call_record_t *rec) {
    if (rec->cached) ++*(int *)ud;
}

static double run_calls(uv_loop_t *loop, llm_provider_t *p, const wf_agent_t *agent, int n,
                        json_t *model, tally_t *t) {
    json_t *inputs = json_object();
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        char task[32];
        snprintf(task, sizeof task, "t%d", i);
        llm_request_t req = {.run_id = "bench",
                             .task_id = task,
                             .attempt = 1,
                             .iteration = 1,
                             .agent = agent,
                             .system = "Be brief.",
                             .prompt = "Say hello.",
                             .inputs = inputs,
                             .model = model,
                             .format = OUTPUT_TEXT,
                             .max_tokens = 16};
        provider_call(p, &req, on_done, t);
    }
    while (t->done < n) uv_run(loop, UV_RUN_ONCE);
    json_decref(inputs);
    return now_ms() - t0;
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int n = argc > 2 ? atoi(argv[2]) : 10000;
    uv_loop_t loop;
    uv_loop_init(&loop);
    char *err = NULL;
    json_t *config = json_pack(
        "{s:{s:{s:s, s:s, s:s, s:{s:s}, s:{s:{s:f, s:f}}}}, s:{s:[s]}}", "providers", "fake",
        "type", "openai", "base_url", xasprintf("http://127.0.0.1:%d/v1", port), "api_key_env",
        "BENCH_KEY", "timeouts", "total", "60s", "models", "bench-model", "input_per_million", 1.0,
        "output_per_million", 2.0, "tiers", "fast", "fake/bench-model");
    setenv("BENCH_KEY", "bench-key", 1);
    router_t *r = router_new(&loop, config, 0, (llm_prices_t){0}, NULL, &err);
    if (!r) {
        fprintf(stderr, "router: %s\n", err);
        return 1;
    }
    wf_agent_t agent = {.id = "bench", .name = "Bench", .max_tokens = 16};
    json_t *tier = json_string("fast"), *offline = json_string("offline/offline-1");

    printf("| what | calls | total ms | per call µs | failed | peak RSS MB |\n");
    printf("|------|-------|----------|-------------|--------|-------------|\n");
    if (port) {
        tally_t t = {0};
        double ms = run_calls(&loop, router_provider(r), &agent, n, tier, &t);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("| %d concurrent calls, fake with fixed latency | %d | %.0f | %.1f | %d | %ld |\n",
               n, n, ms, ms * 1000 / n, t.failed, ru.ru_maxrss / 1024);
        if (t.first_error) fprintf(stderr, "first error: %s\n", t.first_error);
    }
    tally_t a = {0}, b = {0};
    llm_provider_t *direct = offline_provider_new(&loop, 0, (llm_prices_t){0}, NULL);
    double direct_ms = run_calls(&loop, direct, &agent, n, NULL, &a);
    double routed_ms = run_calls(&loop, router_provider(r), &agent, n, offline, &b);
    printf("| offline model, direct | %d | %.0f | %.2f | %d | |\n", n, direct_ms,
           direct_ms * 1000 / n, a.failed);
    printf("| offline model, through the router | %d | %.0f | %.2f | %d | |\n", n, routed_ms,
           routed_ms * 1000 / n, b.failed);

    /* The layer the engine calls, cache off (a pass-through) and on (every call a hit: one
     * answer stored first, then n identical questions; temperature 0 so they may be cached). */
    char dir[] = "/tmp/baton-bench-XXXXXX";
    double layer_ms = 0, hit_ms = 0;
    tally_t c = {0}, d = {0}, warm = {0};
    if (mkdtemp(dir)) {
        char *db = xasprintf("%s/baton.db", dir);
        store_t *st = store_open(db, STORE_DURABILITY_NORMAL, &err); /* creates the schema */
        if (st) store_close(st);
        recall_t *off = recall_new(&loop, r, &(recall_opts_t){.db_path = db}, &err);
        if (off) {
            layer_ms = run_calls(&loop, recall_provider(off), &agent, n, offline, &c);
            recall_free(off);
        }
        json_t *cfg = json_pack("{s:{s:b}}", "cache", "enabled", 1);
        recall_t *on = recall_new(&loop, r, &(recall_opts_t){.config = cfg, .db_path = db}, &err);
        int hits = 0;
        if (on) {
            run_calls(&loop, recall_provider(on), &agent, 1, offline, &warm);
            recall_set_observer(on, count_cached, &hits);
            for (int k = 0; k < 100; k++) uv_run(&loop, UV_RUN_NOWAIT); /* the put lands */
            uv_sleep(50);
            uv_run(&loop, UV_RUN_NOWAIT);
            hit_ms = run_calls(&loop, recall_provider(on), &agent, n, offline, &d);
            recall_free(on);
        }
        json_decref(cfg);
        printf("| offline model, through the cache layer (cache off) | %d | %.0f | %.2f | %d | |\n",
               n, layer_ms, layer_ms * 1000 / n, c.failed);
        printf("| cache hits (SQLite on the thread pool) | %d | %.0f | %.2f | %d | |\n", hits,
               hit_ms, hit_ms * 1000 / n, d.failed + (n - hits));
        char *rm = xasprintf("rm -rf %s", dir);
        if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", dir);
        free(rm);
        free(db);
    }
    printf("\nrouter overhead per call: %.2f µs\n", (routed_ms - direct_ms) * 1000 / n);
    if (layer_ms > 0)
        printf("cache layer overhead per call (cache off): %.2f µs\n",
               (layer_ms - routed_ms) * 1000 / n);
    provider_destroy(direct);
    router_free(r);
    json_decref(tier);
    json_decref(offline);
    json_decref(config);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return 0;
}
