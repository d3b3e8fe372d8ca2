/* cmd_embed.c - `baton embed [--model M] [--dimensions N] [--config F] [--json] TEXT...`: one
 * embedding call through the router (llm/embed.h), the vectors printed. */
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/cli.h"
#include "llm/embed.h"
#include "util/xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmd_embed_usage(FILE *f) {
    fputs("usage: baton embed [--model M] [--dimensions N] [--config F] [--json] TEXT...\n"
          "  M: a tier (default: embedding), a provider/model, or a comma-separated list\n",
          f);
}

typedef struct embed_wait {
    bool done;
    llm_response_t *resp;
    char *error;
} embed_wait_t;

static void embed_done(void *ud, llm_response_t *resp, const llm_error_t *err) {
    embed_wait_t *w = ud;
    w->done = true;
    w->resp = resp;
    if (!resp) w->error = xstrdup(err && err->message ? err->message : "failed");
}

/* "a/x" -> "a/x"; "a/x,b/y" -> ["a/x", "b/y"] (the order is the fallback order). */
static json_t *model_arg(const char *m) {
    if (!m) return NULL;
    if (!strchr(m, ',')) return json_string(m);
    json_t *list = json_array();
    char *copy = xstrdup(m), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (*t) json_array_append_new(list, json_string(t));
    free(copy);
    return list;
}

/* The configured provider's name: "openai" of "openai/text-embedding-3-small". */
static char *provider_of(const char *id) {
    const char *slash = strchr(id, '/');
    return slash ? xstrndup(id, (size_t)(slash - id)) : xstrdup(id);
}

static void print_result(const llm_response_t *r, bool json) {
    char *provider = provider_of(r->provider);
    if (json) {
        json_t *vectors = json_array();
        for (size_t i = 0; i < r->n_vectors; i++) {
            json_t *v = json_array();
            for (size_t d = 0; d < r->dimensions; d++)
                json_array_append_new(v, json_real(r->vectors[i * r->dimensions + d]));
            json_array_append_new(vectors, v);
        }
        json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:I, s:f, s:I}", "model", r->model, "provider",
                              provider, "dimensions", (json_int_t)r->dimensions, "vectors", vectors,
                              "input_tokens", (json_int_t)r->input_tokens, "cost_usd", r->cost_usd,
                              "latency_ms", (json_int_t)r->latency_ms);
        /* One vector per line would be thousands of lines: compact, one object. */
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
        puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("%s/%s: %zu vector%s of %zu dimensions, %lld input tokens, $%.6f, %lld ms\n",
               provider, r->model, r->n_vectors, r->n_vectors == 1 ? "" : "s", r->dimensions,
               (long long)r->input_tokens, r->cost_usd, (long long)r->latency_ms);
        for (size_t i = 0; i < r->n_vectors; i++) {
            printf("[%zu]", i + 1);
            size_t shown = r->dimensions < 8 ? r->dimensions : 8;
            for (size_t d = 0; d < shown; d++) printf(" %.4f", r->vectors[i * r->dimensions + d]);
            printf("%s\n", shown < r->dimensions ? " ..." : "");
        }
    }
    free(provider);
}

int cmd_embed(int argc, char **argv) {
    static const struct option longopts[] = {
        {"model", required_argument, NULL, 'm'},  {"dimensions", required_argument, NULL, 'n'},
        {"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {0, 0, 0, 0},
    };
    const char *config = NULL, *model = NULL;
    long dimensions = 0;
    bool json = false;
    int c;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "hm:", longopts, "embed")) != -1) {
        switch (c) {
        case 'm':
            model = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'n': {
            char *end;
            errno = 0;
            dimensions = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || dimensions < 1 || dimensions > 65536) {
                fprintf(stderr,
                        "baton embed: --dimensions wants a whole number from 1 to 65536, "
                        "not '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        }
        case 'h':
            cmd_embed_usage(stdout);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "baton embed: no text to embed\n");
        cmd_embed_usage(stderr);
        return EXIT_USAGE;
    }
    cli_config_t cfg;
    char *err = NULL;
    if (cli_load_config(config, &cfg, &err) != 0) {
        fprintf(stderr, "baton embed: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    int code = EXIT_USAGE;
    router_t *r = router_new(&loop, cfg.root, cfg.offline_latency_ms, cfg.offline_prices,
                             cfg.offline_fail_attempts, &err);
    json_t *m = model_arg(model);
    if (!r) {
        fprintf(stderr, "baton embed: %s\n", err);
    } else {
        llm_embed_request_t req = {.model = m,
                                   .texts = (const char *const *)argv + optind,
                                   .n_texts = (size_t)(argc - optind),
                                   .dimensions = (int)dimensions};
        embed_wait_t w = {0};
        if (!llm_embed(r, &req, embed_done, &w, &err)) {
            fprintf(stderr, "baton embed: %s\n", err);
        } else {
            while (!w.done) uv_run(&loop, UV_RUN_ONCE);
            if (w.resp) {
                print_result(w.resp, json);
                llm_response_free(w.resp);
                free(w.resp);
                code = EXIT_OK;
            } else {
                fprintf(stderr, "baton embed: %s\n", w.error);
                code = EXIT_FAILED;
            }
            free(w.error);
        }
        router_free(r);
    }
    free(err);
    json_decref(m);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    cli_config_free(&cfg);
    return code;
}
