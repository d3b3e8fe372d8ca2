/* engine_bench.c - engine overhead per task with the durable journal and the offline model
 * (DESIGN.md section 8). Prints one table row per scenario:
 *
 *   chain      N tasks, each depending on the previous: one journal commit per step
 *   fanout     1 root -> N-2 parallel tasks -> 1 sink: commits batched by the loop turn
 *
 * Each scenario runs in a fresh data dir with synchronous=NORMAL (the default durability).
 * "model" is the offline model's own share, measured by calling it alone on the same requests,
 * so "engine" = total - model is what Baton itself costs per task. */
#include "core/workflow.h"
#include "engine/engine.h"
#include "llm/offline.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

#define AGENT                                                                                      \
    "agents:\n  w: {name: Worker, role: Worker, goal: Do one small step, instructions: Be "        \
    "brief., word_limit: 20}\n"

static char *chain_yaml(int n) {
    strbuf_t sb = {0};
    sb_printf(&sb, "name: chain\n" AGENT "concurrency: 10\ntasks:\n  - {id: t0, agent: w}\n");
    for (int i = 1; i < n; i++)
        sb_printf(&sb, "  - {id: t%d, agent: w, depends_on: [t%d]}\n", i, i - 1);
    return sb_take(&sb);
}

static char *fanout_yaml(int n) {
    strbuf_t sb = {0};
    sb_printf(&sb, "name: fanout\n" AGENT "concurrency: %d\ntasks:\n  - {id: root, agent: w}\n", n);
    for (int i = 1; i < n - 1; i++)
        sb_printf(&sb, "  - {id: t%d, agent: w, depends_on: [root]}\n", i);
    sb_puts(&sb, "  - id: sink\n    agent: w\n    depends_on: [");
    for (int i = 1; i < n - 1; i++) sb_printf(&sb, "%st%d", i > 1 ? ", " : "", i);
    sb_puts(&sb, "]\n");
    return sb_take(&sb);
}

static char *journal_lines; /* printed after the table */

typedef struct {
    double *done_at; /* completion time of each task, in order of completion */
    size_t n_done;
} observer_t;

static void on_event(void *ud, engine_run_t *run, uint64_t seq, int64_t ts, const char *type,
                     const json_t *data) {
    observer_t *o = ud;
    (void)run, (void)seq, (void)data;
    if (!strcmp(type, "task.completed")) o->done_at[o->n_done++] = now_us();
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The offline model alone on the same agent, to separate its cost from the engine's. */
static double model_us_per_call(const workflow_t *wf, int calls) {
    const wf_agent_t *a = wf->tasks[0].agent;
    json_t *inputs = json_object();
    double t0 = now_us();
    for (int i = 0; i < calls; i++) {
        char task[16];
        snprintf(task, sizeof task, "t%d", i);
        llm_request_t req = {.task_id = task,
                             .agent = a,
                             .system = a->instructions,
                             .prompt = "Task: t",
                             .inputs = inputs,
                             .format = a->format,
                             .word_limit = a->word_limit,
                             .max_tokens = a->max_tokens};
        llm_response_t r = {0};
        offline_generate(&req, &r);
        llm_response_free(&r);
    }
    json_decref(inputs);
    return (now_us() - t0) / calls;
}

/* Runs one scenario, prints its row, and returns the figure its target is about: the median
 * step for a chain, the time per task for a fan-out. */
static double run_scenario(const char *name, char *yaml, int n, bool chain) {
    diag_list_t dl = {0};
    double tl = now_us();
    workflow_t *wf = workflow_load(yaml, strlen(yaml), name, NULL, NULL, NULL, &dl);
    double load_ms = (now_us() - tl) / 1000.0;
    if (!wf) {
        fprintf(stderr, "%s: %s\n", name, dl.n ? dl.items[0].message : "load failed");
        exit(1);
    }
    char dir[] = "/tmp/baton-bench-XXXXXX";
    if (!mkdtemp(dir)) exit(1);
    char *db_path = xasprintf("%s/baton.db", dir), *arts = xasprintf("%s/artifacts", dir),
         *err = NULL;
    store_t *st = store_open(db_path, STORE_DURABILITY_NORMAL, &err);
    uv_loop_t loop;
    uv_loop_init(&loop);
    llm_provider_t *p = offline_provider_new(&loop, 0, (llm_prices_t){0}, NULL);
    observer_t obs = {xcalloc((size_t)n, sizeof(double)), 0};
    engine_opts_t o = {.loop = &loop,
                       .store = st,
                       .provider = p,
                       .artifacts_dir = arts,
                       .on_event = on_event,
                       .on_event_ud = &obs,
                       .seed = 1};
    engine_t *e = engine_new(&o);
    json_t *inputs = json_object();
    double t0 = now_us();
    engine_run_t *run = engine_start(e, wf, yaml, name, NULL, inputs, &err);
    uv_run(&loop, UV_RUN_DEFAULT);
    double total_us = now_us() - t0;
    if (state_run_status(engine_run_state(run)) != RS_COMPLETED || obs.n_done != (size_t)n) {
        fprintf(stderr, "%s: run did not complete (%zu of %d tasks)\n", name, obs.n_done, n);
        exit(1);
    }
    double model = model_us_per_call(wf, n < 2000 ? n : 2000);
    double per_task = total_us / n;
    double median = per_task;
    if (chain) {
        /* a chain's per-step latency: the gap between consecutive completions */
        double *gaps = xmalloc((size_t)n * sizeof *gaps);
        for (size_t i = 1; i < obs.n_done; i++) gaps[i - 1] = obs.done_at[i] - obs.done_at[i - 1];
        qsort(gaps, obs.n_done - 1, sizeof *gaps, cmp_double);
        median = gaps[(obs.n_done - 1) / 2];
        free(gaps);
    }
    /* Journal growth: event bytes per task (the journal stores deltas, so this must not grow
     * with the run's length), and the database file per task. */
    sqlite3 *db;
    sqlite3_stmt *q;
    double event_bytes = 0, file_bytes = 0;
    sqlite3_open(db_path, &db);
    if (sqlite3_prepare_v2(
            db,
            "SELECT (SELECT sum(length(data)) FROM events WHERE type != 'run.created'), "
            "(SELECT page_count * page_size FROM pragma_page_count, pragma_page_size)",
            -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        event_bytes = sqlite3_column_double(q, 0) / n;
        file_bytes = sqlite3_column_double(q, 1) / n;
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    journal_lines = journal_lines ? journal_lines : xstrdup("");
    char *line =
        xasprintf("%sjournal, %s: %.0f bytes of event data per task, %.0f bytes of database "
                  "file per task\n",
                  journal_lines, name, event_bytes, file_bytes);
    free(journal_lines);
    journal_lines = line;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("| %-8s | %6d | %9.1f | %9.1f | %10.1f | %7.1f | %10.0f | %7.1f | %6ld |\n", name, n,
           total_us / 1000.0, per_task, median, model, n / (total_us / 1e6), load_ms,
           ru.ru_maxrss / 1024);
    fflush(stdout);
    json_decref(inputs);
    engine_free(e);
    provider_destroy(p);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    store_close(st);
    workflow_free(wf);
    free(obs.done_at);
    char *rm = xasprintf("rm -rf %s", dir);
    if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", dir);
    free(rm);
    free(db_path);
    free(arts);
    free(yaml);
    return median;
}

/* The floor under any durable engine on this machine, measured in the same run: a bare SQLite
 * WAL commit of one small event row, and the per-event cost when 100 go in one transaction.
 * The engine's figures are also printed as multiples of these, which vary less between noisy
 * runs than the absolute times do. */
static void sqlite_reference(double *commit_us, double *batched_us) {
    char dir[] = "/tmp/baton-bench-XXXXXX";
    if (!mkdtemp(dir)) exit(1);
    char *path = xasprintf("%s/ref.db", dir);
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE events(run_id TEXT, seq INTEGER, ts INTEGER, type TEXT, data TEXT,"
                 " PRIMARY KEY(run_id, seq)) WITHOUT ROWID;",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db,
                       "INSERT INTO events VALUES ('r-0123456789abc', ?, 0, 'task.completed',"
                       " '{\"task\":\"t1\",\"output\":\"a short answer of some forty bytes\"}')",
                       -1, &st, NULL);
    int seq = 0;
    double t0 = now_us();
    for (int i = 0; i < 2000; i++) {
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        sqlite3_bind_int(st, 1, ++seq);
        sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    *commit_us = (now_us() - t0) / 2000;
    t0 = now_us();
    for (int b = 0; b < 200; b++) {
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        for (int i = 0; i < 100; i++) {
            sqlite3_bind_int(st, 1, ++seq);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    *batched_us = (now_us() - t0) / 20000;
    sqlite3_finalize(st);
    sqlite3_close(db);
    char *rm = xasprintf("rm -rf %s", dir);
    if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", dir);
    free(rm);
    free(path);
}

int main(int argc, char **argv) {
    int chain_n = argc > 1 ? atoi(argv[1]) : 1000;
    int fan_n = argc > 2 ? atoi(argv[2]) : 10000;
    if (sodium_init() < 0) return 1;
    double commit_us, batched_us;
    sqlite_reference(&commit_us, &batched_us);
    printf("| scenario | tasks  | total ms  | µs/task   | median µs  | model µs | tasks/s    | "
           "load ms | RSS MB |\n");
    printf("|----------|--------|-----------|-----------|------------|---------|------------|------"
           "---|--------|\n");
    double chain_median = run_scenario("chain", chain_yaml(chain_n), chain_n, true);
    double fan_per_task = run_scenario("fanout", fanout_yaml(fan_n), fan_n, false);
    printf("\n%s", journal_lines ? journal_lines : "");
    free(journal_lines);
    printf("\nSame run, bare SQLite (WAL, synchronous=NORMAL): one-event commit %.1f µs; "
           "per event in batches of 100 %.2f µs\n",
           commit_us, batched_us);
    printf("chain step = %.2f bare commits; fan-out task = %.1f batched events\n",
           chain_median / commit_us, fan_per_task / batched_us);
    return 0;
}
