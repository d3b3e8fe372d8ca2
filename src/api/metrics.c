/* metrics.c - GET /metrics in Prometheus' text exposition format (0.0.4): the process, the HTTP
 * server, the runs, approvals and model calls as the store has them. Counters that the store
 * keeps (model calls, cost) are totals over the data dir, so they survive restarts. */
#include "api/handlers.h"
#include "util/clock.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

/* A label value escaped as the format wants (backslash, quote, newline). */
static void label(strbuf_t *sb, const char *v) {
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\' || *p == '"')
            sb_printf(sb, "\\%c", *p);
        else if (*p == '\n')
            sb_puts(sb, "\\n");
        else
            sb_putc(sb, *p);
    }
}

static void family(strbuf_t *sb, const char *name, const char *type, const char *help) {
    sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void api_metrics(http_req_t *req, api_t *a, char **params) {
    (void)params;
    strbuf_t sb = {0};
    family(&sb, "baton_build_info", "gauge", "The running release.");
    sb_printf(&sb, "baton_build_info{version=\"%s\"} 1\n", BATON_VERSION);
    family(&sb, "baton_uptime_seconds", "gauge", "Seconds since the server started.");
    sb_printf(&sb, "baton_uptime_seconds %.3f\n", (clock_now_ms_f() - a->started_ms) / 1000.0);

    family(&sb, "baton_http_responses_total", "counter", "HTTP answers written, by status class.");
    static const char *const classes[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int c = 0; c < 6; c++)
        sb_printf(&sb, "baton_http_responses_total{code=\"%s\"} %llu\n", classes[c],
                  (unsigned long long)(a->server ? http_server_answered(a->server, c) : 0));
    family(&sb, "baton_websocket_clients", "gauge", "WebSocket clients connected to /api/v1/ws.");
    sb_printf(&sb, "baton_websocket_clients %zu\n",
              a->server ? http_server_ws_connections(a->server) : 0);

    family(&sb, "baton_runs", "gauge", "Runs in the data dir, by status.");
    json_t *runs = store_run_counts(a->store);
    const char *k;
    json_t *v;
    json_object_foreach(runs, k, v) {
        sb_puts(&sb, "baton_runs{status=\"");
        label(&sb, k);
        sb_printf(&sb, "\"} %lld\n", (long long)json_integer_value(v));
    }
    json_decref(runs);
    json_t *pending = store_approvals(a->store, NULL, "pending");
    family(&sb, "baton_approvals_pending", "gauge", "Human steps waiting for an answer.");
    sb_printf(&sb, "baton_approvals_pending %zu\n", json_array_size(pending));
    json_decref(pending);

    /* Model calls, by candidate: every physical call, failed ones and the gateway's included. */
    json_t *spend = store_llm_spend_since(a->store, 0);
    family(&sb, "baton_llm_calls_total", "counter",
           "Model calls made, by candidate (provider/model).");
    json_object_foreach(spend, k, v) {
        sb_puts(&sb, "baton_llm_calls_total{candidate=\"");
        label(&sb, k);
        sb_printf(&sb, "\"} %lld\n", (long long)json_integer_value(json_object_get(v, "calls")));
    }
    family(&sb, "baton_llm_failed_calls_total", "counter",
           "Model calls that failed, by candidate.");
    json_object_foreach(spend, k, v) {
        sb_puts(&sb, "baton_llm_failed_calls_total{candidate=\"");
        label(&sb, k);
        sb_printf(&sb, "\"} %lld\n", (long long)json_integer_value(json_object_get(v, "failed")));
    }
    family(&sb, "baton_llm_cost_usd_total", "counter",
           "What model calls cost, in USD, by candidate.");
    json_object_foreach(spend, k, v) {
        sb_puts(&sb, "baton_llm_cost_usd_total{candidate=\"");
        label(&sb, k);
        sb_printf(&sb, "\"} %.6f\n", json_number_value(json_object_get(v, "cost_usd")));
    }
    json_decref(spend);
    http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", sb_str(&sb), sb.len);
    sb_free(&sb);
}
