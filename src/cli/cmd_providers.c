/* cmd_providers.c - `baton providers ls|test`: what the configuration makes available, what it
 * cost today, and one real round trip to a model. */
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "llm/router.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

void cmd_providers_usage(FILE *f) {
    fputs("usage: baton providers ls [--config F] [--data-dir DIR] [--json]\n"
          "       baton providers test PROVIDER/MODEL [--config F] [--json]\n",
          f);
}

/* Calls recorded today (local time) per candidate, from the data dir's llm_calls. */
static json_t *spend_today(const char *data_dir) {
    bool missing;
    char *err = NULL;
    store_t *st = cli_open_existing_store(data_dir, &missing, &err);
    free(err);
    if (!st) return json_object();
    json_t *rows = store_llm_spend_since(st, clock_today_start_ms());
    store_close(st);
    return rows ? rows : json_object();
}

static int providers_ls(router_t *r, const char *data_dir, bool json) {
    json_t *list = router_describe(r);
    json_t *spend = spend_today(data_dir);
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c) {
        json_t *s = json_object_get(spend, json_string_value(json_object_get(c, "id")));
        json_object_set_new(
            c, "today",
            s ? json_incref(s)
              : json_pack("{s:i, s:i, s:f}", "calls", 0, "failed", 0, "cost_usd", 0.0));
    }
    if (json) {
        cli_print_json(list);
    } else {
        printf("%-32s %-6s %-10s %12s %12s %7s %7s %10s\n", "MODEL", "LOCAL", "BREAKER", "IN $/M",
               "OUT $/M", "CALLS", "FAILED", "SPENT");
        json_array_foreach(list, i, c) {
            json_t *p = json_object_get(c, "prices"), *t = json_object_get(c, "today");
            printf("%-32s %-6s %-10s %12.4f %12.4f %7lld %7lld %10.4f\n",
                   json_string_value(json_object_get(c, "id")),
                   json_is_true(json_object_get(c, "local")) ? "yes" : "no",
                   json_string_value(json_object_get(c, "breaker")),
                   json_number_value(json_object_get(p, "input_per_million")),
                   json_number_value(json_object_get(p, "output_per_million")),
                   json_integer_value(json_object_get(t, "calls")),
                   json_integer_value(json_object_get(t, "failed")),
                   json_number_value(json_object_get(t, "cost_usd")));
        }
        printf("(spent today: calls recorded in %s since local midnight)\n", data_dir);
    }
    json_decref(list);
    json_decref(spend);
    return EXIT_OK;
}

typedef struct probe {
    bool done;
    llm_response_t *resp;
    char *error;
    int64_t started;
} probe_t;

static void probe_done(void *ud, llm_response_t *resp, const llm_error_t *err) {
    probe_t *p = ud;
    p->done = true;
    p->resp = resp;
    if (!resp) p->error = xstrdup(err && err->message ? err->message : "failed");
}

static int providers_test(uv_loop_t *loop, router_t *r, const char *id, bool json) {
    llm_provider_t *p = router_candidate(r, id);
    if (!p) {
        fprintf(stderr,
                "baton providers test: no candidate '%s' in the configuration (see baton "
                "providers ls)\n",
                id);
        return EXIT_USAGE;
    }
    wf_agent_t agent = {.id = "providers_test", .name = "Connectivity check", .max_tokens = 16};
    json_t *inputs = json_object();
    llm_request_t req = {.run_id = "providers-test",
                         .task_id = "providers_test",
                         .attempt = 1,
                         .iteration = 1,
                         .agent = &agent,
                         .system = "Answer in one word.",
                         .prompt = "Reply with OK.",
                         .inputs = inputs,
                         .format = OUTPUT_TEXT,
                         .max_tokens = 16};
    probe_t pr = {.started = engine_now_ms()};
    provider_call(p, &req, probe_done, &pr);
    while (!pr.done) uv_run(loop, UV_RUN_ONCE);
    json_decref(inputs);
    int64_t ms = engine_now_ms() - pr.started;
    int code = pr.resp ? EXIT_OK : EXIT_FAILED;
    if (json) {
        json_t *o = pr.resp ? json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:I}", "id", id,
                                        "status", "ok", "answer", pr.resp->text, "input_tokens",
                                        (json_int_t)pr.resp->input_tokens, "output_tokens",
                                        (json_int_t)pr.resp->output_tokens, "first_token_ms",
                                        (json_int_t)pr.resp->first_token_ms, "cost_usd",
                                        pr.resp->cost_usd, "total_ms", (json_int_t)ms)
                            : json_pack("{s:s, s:s, s:s, s:I}", "id", id, "status", "error",
                                        "error", pr.error, "total_ms", (json_int_t)ms);
        cli_print_json(o);
        json_decref(o);
    } else if (pr.resp) {
        printf("%s: ok in %lld ms (first token %lld ms), %lld+%lld tokens, $%.6f: %.60s\n", id,
               (long long)ms, (long long)pr.resp->first_token_ms, (long long)pr.resp->input_tokens,
               (long long)pr.resp->output_tokens, pr.resp->cost_usd, pr.resp->text);
    } else {
        printf("%s: failed after %lld ms: %s\n", id, (long long)ms, pr.error);
    }
    if (pr.resp) {
        llm_response_free(pr.resp);
        free(pr.resp);
    }
    free(pr.error);
    return code;
}

int cmd_providers(int argc, char **argv) {
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"data-dir", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *config = NULL, *data_dir = cli_default_data_dir();
    bool json = false;
    int c;
    optind = 2;
    while ((c = cli_getopt(argc, argv, "h", longopts, "providers")) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            cmd_providers_usage(stdout);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    bool ls = argc >= 2 && !strcmp(argv[1], "ls") && optind == argc;
    bool test = argc >= 2 && !strcmp(argv[1], "test") && optind == argc - 1;
    if (!ls && !test) {
        cmd_providers_usage(stderr);
        return EXIT_USAGE;
    }
    cli_config_t cfg;
    char *err = NULL;
    if (cli_load_config(config, &cfg, &err) != 0) {
        fprintf(stderr, "baton providers: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    router_t *r = router_new(&loop, cfg.root, cfg.offline_latency_ms, cfg.offline_prices,
                             cfg.offline_fail_attempts, &err);
    int code = EXIT_USAGE;
    if (!r) {
        fprintf(stderr, "baton providers: %s\n", err);
        free(err);
    } else {
        code = ls ? providers_ls(r, data_dir, json) : providers_test(&loop, r, argv[optind], json);
        router_free(r);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    cli_config_free(&cfg);
    return code;
}
