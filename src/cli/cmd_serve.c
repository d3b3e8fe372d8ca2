/* cmd_serve.c - `baton serve`: the HTTP API on one loop with the router (docs/api.md).
 *
 * Loopback only unless --insecure: there is no authentication yet, and a server on a public
 * address would let anyone start runs and spend the configured providers' money. SIGTERM and
 * SIGINT stop it: the listener and every connection close, and it exits 0. */
#include "api/api.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "cli/runlock.h"
#include "cli/cli.h"
#include "engine/host.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <errno.h>
#include <unistd.h>

void cmd_serve_usage(FILE *f) {
    fputs("usage: baton serve [--listen HOST:PORT] [--data-dir DIR] [--config FILE] [--insecure]\n"
          "                   [--max-connections N] [--ws-queue-bytes N] [--tls-cert PEM --tls-key "
          "PEM]\n"
          "                   [--ui-dir DIR]\n"
          "  --listen           address to listen on (default 127.0.0.1:8080; port 0: a free one)\n"
          "  --insecure         allow an address other than loopback (no authentication yet)\n"
          "  --tls-cert/--tls-key  serve HTTPS (HTTP/2 and HTTP/1.1) with this certificate\n"
          "  --ui-dir DIR       serve DIR's files for GETs outside the API (the web console)\n"
          "  --max-connections  WebSocket clients at once (default 1000)\n"
          "  --ws-queue-bytes   bytes waiting for one WebSocket client before it is cut off as\n"
          "                     too slow (default 4194304)\n",
          f);
}

/* "host:port", "[v6]:port", or ":port" (loopback). false when malformed. */
static bool parse_listen(const char *s, char *host, size_t hostlen, int *port) {
    const char *colon = strrchr(s, ':');
    if (!colon) return false;
    size_t hl = (size_t)(colon - s);
    const char *h = s;
    if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= hostlen) return false;
    if (hl == 0)
        snprintf(host, hostlen, "127.0.0.1");
    else
        snprintf(host, hostlen, "%.*s", (int)hl, h);
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 0 || p > 65535) return false;
    *port = (int)p;
    return true;
}

static bool loopback(const char *host) {
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "::1") || !strcmp(host, "localhost") ||
           !strncmp(host, "127.", 4);
}

typedef struct serve {
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    http_server_t *server;
    api_t *api;
    bool stopping;
} serve_t;

static void on_signal(uv_signal_t *h, int signum) {
    serve_t *s = h->data;
    if (s->stopping) return;
    s->stopping = true;
    fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopping\",\"signal\":%d}\n", signum);
    /* Answers still waiting get a 503; what the engine queued is journaled; runs still going
     * stay journaled as running, and carry on when the server starts again. */
    api_stop(s->api);
    http_server_stop(s->server);
    host_close(s->api->host);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
}

/* One JSON line on stderr per run resumed at start (or not, and why). */
static void on_resumed(void *ud, const char *run_id, engine_run_t *run, const char *err) {
    (void)ud;
    json_t *line =
        run ? json_pack("{s:s, s:s, s:s, s:s}", "level", "info", "msg", "run resumed", "run_id",
                        run_id, "status", run_status_name(state_run_status(engine_run_state(run))))
            : json_pack("{s:s, s:s, s:s, s:s}", "level", "error", "msg", "run not resumed",
                        "run_id", run_id, "error", err);
    char *text = json_dumps(line, JSON_COMPACT);
    fprintf(stderr, "%s\n", text ? text : "{}");
    free(text);
    json_decref(line);
}

int cmd_serve(int argc, char **argv) {
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"data-dir", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"insecure", no_argument, NULL, 'i'},
        {"max-connections", required_argument, NULL, 'm'},
        {"ws-queue-bytes", required_argument, NULL, 'q'},
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'K'},
        {"ui-dir", required_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    size_t max_ws = 1000, ws_queue = 4u << 20;
    const char *listen = "127.0.0.1:8080", *data_dir = cli_default_data_dir(), *config = NULL;
    bool insecure = false;
    const char *tls_cert = NULL, *tls_key = NULL, *ui_dir = NULL;
    int c;
    optind = 1;
    while ((c = cli_getopt(argc, argv, "h", longopts, "serve")) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'i':
            insecure = true;
            break;
        case 'C':
            tls_cert = optarg;
            break;
        case 'K':
            tls_key = optarg;
            break;
        case 'U':
            ui_dir = optarg;
            break;
        case 'm':
        case 'q': {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (*end || !*optarg || v == 0 || v > (1ull << 40)) {
                fprintf(stderr, "baton serve: --%s takes a whole number above 0\n",
                        c == 'm' ? "max-connections" : "ws-queue-bytes");
                return EXIT_USAGE;
            }
            *(c == 'm' ? &max_ws : &ws_queue) = (size_t)v;
            break;
        }
        case 'h':
            cmd_serve_usage(stdout);
            return EXIT_OK;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        cmd_serve_usage(stderr);
        return EXIT_USAGE;
    }
    if (ui_dir && access(ui_dir, R_OK | X_OK) != 0) {
        fprintf(stderr, "baton serve: --ui-dir %s: %s\n", ui_dir, strerror(errno));
        return EXIT_USAGE;
    }
    if (!tls_cert != !tls_key) {
        fprintf(stderr, "baton serve: --tls-cert and --tls-key go together\n");
        return EXIT_USAGE;
    }
    for (const char *const *f = (const char *const[]){tls_cert, tls_key, NULL}; tls_cert && *f;
         f++) {
        if (access(*f, R_OK) != 0) {
            fprintf(stderr, "baton serve: cannot read %s: %s\n", *f, strerror(errno));
            return EXIT_USAGE;
        }
    }
    char host[256];
    int port;
    if (!parse_listen(listen, host, sizeof host, &port)) {
        fprintf(stderr, "baton serve: --listen '%s' is not HOST:PORT (e.g. 127.0.0.1:8080)\n",
                listen);
        return EXIT_USAGE;
    }
    if (!loopback(host) && !insecure) {
        fprintf(stderr,
                "baton serve: refusing to listen on %s: this release has no "
                "authentication, so anyone who can reach the address could start runs and "
                "spend your providers' money; use a loopback address, or --insecure if a "
                "proxy in front of it authenticates\n",
                host);
        return EXIT_USAGE;
    }
    /* Blobs are hashed: artifacts written by runs, and checked when the API serves them. */
    if (sodium_init() < 0) {
        fprintf(stderr, "baton serve: libsodium failed to initialise\n");
        return EXIT_FAILED;
    }
    cli_config_t cfg;
    char *err = NULL;
    if (cli_load_config(config, &cfg, &err) != 0) {
        fprintf(stderr, "baton serve: %s\n", err);
        free(err);
        return EXIT_USAGE;
    }
    /* Every connection is a file descriptor: a thousand WebSocket clients need more than the
     * usual soft limit of 1024, and the hard limit is ours to take. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    int code = EXIT_USAGE;
    serve_t s = {0};
    uv_loop_init(&s.loop);
    agent_catalog_t catalog;
    diag_list_t cat_diags = {0};
    cli_load_catalog(&catalog, NULL, &cat_diags); /* a broken catalog file shows in validation */
    diag_list_free(&cat_diags);
    char *templates = cli_templates_dir();
    api_t api = {.catalog = &catalog,
                 .templates_dir = templates,
                 .data_dir = data_dir,
                 .ui_dir = ui_dir,
                 .started_ms = clock_now_ms_f(),
                 .agui_threads = json_object()};
    s.api = &api;
    api.store = cli_open_store(data_dir, STORE_DURABILITY_NORMAL, &err);
    /* Held while serving: `baton runs cancel` and `baton run --resume` on this data dir then
     * go through the server instead of writing the journal beside it (runlock.h). */
    int serve_lock = api.store ? runlock_take(data_dir, NULL, &err) : -1;
    if (serve_lock >= 0) {
        host_opts_t ho = {.loop = &s.loop,
                          .store = api.store,
                          .data_dir = data_dir,
                          .config = cfg.root,
                          .offline_latency_ms = cfg.offline_latency_ms,
                          .offline_prices = cfg.offline_prices,
                          .offline_fail_attempts = cfg.offline_fail_attempts,
                          .daily = cli_daily_limits(&cfg, api.store),
                          .catalog = &catalog,
                          .on_event = api_on_event,
                          .on_delta = api_on_delta,
                          .on_event_ud = &api};
        api.host = host_new(&ho, &err);
    }
    if (api.host) {
        http_server_opts_t o = {.host = host,
                                .port = port,
                                .handler = api_handle,
                                .ud = &api,
                                .tls_cert = tls_cert,
                                .tls_key = tls_key,
                                .ws = {.path = API_WS_PATH,
                                       .max_connections = max_ws,
                                       .max_queue = ws_queue,
                                       .on_open = api_ws_open,
                                       .on_message = api_ws_message,
                                       .on_close = api_ws_close}};
        s.server = api.server = http_server_start(&s.loop, &o, &err);
    }
    if (!s.server) {
        fprintf(stderr, "baton serve: %s\n", err ? err : "cannot start");
        free(err);
        code = EXIT_FAILURE;
        host_close(api.host);
    } else {
        uv_signal_init(&s.loop, &s.sigterm);
        uv_signal_init(&s.loop, &s.sigint);
        s.sigterm.data = s.sigint.data = &s;
        uv_signal_start(&s.sigterm, on_signal, SIGTERM);
        uv_signal_start(&s.sigint, on_signal, SIGINT);
        /* The first line on stdout says where (scripts and tests read the port from it). */
        printf("{\"listening\":\"%s://%s%s%s:%d\",\"data_dir\":\"%s\"}\n",
               tls_cert ? "https" : "http", strchr(host, ':') ? "[" : "", host,
               strchr(host, ':') ? "]" : "", http_server_port(s.server), data_dir);
        fflush(stdout);
        /* Runs the last process left going carry on now, not when someone asks about them.
         * After the listener is up, so the status route answers while they come back; a few
         * per loop turn (host.h), so requests are answered in between. */
        size_t left = host_resume_left(api.host, on_resumed, NULL);
        if (left)
            fprintf(stderr, "{\"level\":\"info\",\"msg\":\"resuming runs\",\"runs\":%zu}\n", left);
        uv_run(&s.loop, UV_RUN_DEFAULT);
        code = EXIT_OK;
    }
    uv_run(&s.loop,
           UV_RUN_DEFAULT);     /* the engine's, the router's and libwebsockets' handles close */
    http_server_free(s.server); /* what libwebsockets keeps until its handles are closed */
    uv_run(&s.loop, UV_RUN_DEFAULT);
    uv_loop_close(&s.loop);
    host_free(api.host);
    api_free(&api);
    if (api.store) store_close(api.store);
    free(templates);
    json_decref(api.agui_threads);
    catalog_free(&catalog);
    cli_config_free(&cfg);
    if (serve_lock >= 0) close(serve_lock);
    return code;
}
