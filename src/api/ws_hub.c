/* ws_hub.c - the live event feed at /api/v1/ws (DESIGN.md section 3, docs/api.md).
 *
 * Clients subscribe to topics: run:<id> (every event of a run), approvals
 * (approval.requested/responded), agents (task.*), system (run.*) and * (everything). Each
 * committed event is sent once per client, under the most specific topic it matched. A run
 * topic starts with a snapshot (the run as GET /api/v1/runs/{id} has it, and the seq of the
 * last event it includes) or, given "after", with the journal's events after that seq; a client
 * remembers the last seq it was sent per run topic, so an event that is both replayed from the
 * journal and then observed live is sent once. task.delta (an answer's text as it streams in)
 * goes to run:<id>, agents and * without a seq: it is not journaled, and never replayed. */
#include "api/answer.h"
#include "api/fanout.h"
#include "api/handlers.h"
#include "core/json_time.h"
#include "util/clock.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct sub {
    char *topic;
    uint64_t last_seq; /* run topics: the last seq sent (the snapshot's, at first) */
} sub_t;

struct api_ws_client {
    ws_conn_t *ws;
    sub_t *subs;
    size_t n_subs;
    api_ws_client_t *prev, *next;
};

static const char *const general_topics[] = {"approvals", "agents", "system", "*", NULL};

static void send_json(api_ws_client_t *c, json_t *msg) {
    char *text = json_dumps(msg, JSON_COMPACT);
    if (text) ws_send_text(c->ws, text, strlen(text));
    free(text);
    json_decref(msg);
}

static void send_error(api_ws_client_t *c, const char *code, const char *message) {
    send_json(c, json_pack("{s:s, s:{s:s, s:o}}", "type", "error", "data", "code", code, "message",
                           api_text(message)));
}

void api_ws_open(ws_conn_t *ws, void *ud) {
    api_t *a = ud;
    api_ws_client_t *c = xcalloc(1, sizeof *c);
    c->ws = ws;
    c->next = a->clients;
    if (a->clients) a->clients->prev = c;
    a->clients = c;
    ws_set_data(ws, c);
}

void api_ws_close(ws_conn_t *ws, void *ud) {
    api_t *a = ud;
    api_ws_client_t *c = ws_data(ws);
    if (!c) return;
    if (c->prev)
        c->prev->next = c->next;
    else
        a->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    for (size_t i = 0; i < c->n_subs; i++) free(c->subs[i].topic);
    free(c->subs);
    free(c);
}

static sub_t *find_sub(api_ws_client_t *c, const char *topic) {
    for (size_t i = 0; i < c->n_subs; i++)
        if (!strcmp(c->subs[i].topic, topic)) return &c->subs[i];
    return NULL;
}

static sub_t *add_sub(api_ws_client_t *c, const char *topic) {
    sub_t *s = find_sub(c, topic);
    if (s) return s;
    c->subs = xrealloc(c->subs, (c->n_subs + 1) * sizeof *c->subs);
    s = &c->subs[c->n_subs++];
    *s = (sub_t){xstrdup(topic), 0};
    return s;
}

/* One journaled event as the feed sends it. */
static json_t *event_msg(const char *topic, const char *run_id, uint64_t seq, int64_t ts,
                         const char *type, const json_t *data) {
    return json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "type", type, "topic", topic, "run_id",
                     run_id, "seq", (json_int_t)seq, "at", json_time_string(ts), "data",
                     store_event_view(type, data));
}

/* The last run replayed, as messages ready to send (index i: seq i + 1, topic run:<id>): a
 * thousand clients resuming the same run share one copy of each message (make bench, Server:
 * replay was parse, pack and dump per client). Extended from the journal when it grew. */
struct api_ws_replay {
    char *run_id;
    ws_msg_t **msgs;
    size_t n, cap;
};

static void replay_free(api_ws_replay_t *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) ws_msg_unref(r->msgs[i]);
    free(r->msgs);
    free(r->run_id);
    free(r);
}

void api_ws_free(api_t *a) {
    replay_free(a->replay);
    a->replay = NULL;
}

/* A replayed event as the journal stored it: its data is compact JSON text already, so the
 * message is written around it (no parse). The other fields are a journal event type and an
 * existing run's id and topic, which need no escaping. */
static int cache_event(void *ud, uint64_t seq, int64_t ts, const char *type, const char *data,
                       size_t len) {
    api_ws_replay_t *r = ud;
    if (seq != r->n + 1) return -1; /* journals are 1..n: anything else is not ours to cache */
    strbuf_t sb = {0};
    char at[JSON_TIME_LEN];
    json_time_format(ts, at);
    sb_printf(&sb,
              "{\"type\":\"%s\",\"topic\":\"run:%s\",\"run_id\":\"%s\",\"seq\":%llu,\"at\":\"%s\","
              "\"data\":",
              type, r->run_id, r->run_id, (unsigned long long)seq, at);
    json_t *parsed = NULL, *shown = NULL;
    char *text = NULL;
    if (store_event_has_paths(type) && (parsed = json_loadb(data, len, 0, NULL))) {
        shown = store_event_view(type, parsed); /* no server paths (store.h) */
        text = json_dumps(shown, JSON_COMPACT);
    }
    if (text)
        sb_append(&sb, text, strlen(text));
    else
        sb_append(&sb, data, len);
    sb_putc(&sb, '}');
    free(text);
    json_decref(shown);
    json_decref(parsed);
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->msgs = xrealloc(r->msgs, r->cap * sizeof *r->msgs);
    }
    r->msgs[r->n++] = ws_msg_new(sb.buf, sb.len);
    sb_free(&sb);
    return 0;
}

/* The replay of run_id, up to what the journal has committed now. */
static api_ws_replay_t *replay_of(api_t *a, const char *run_id) {
    if (a->replay && strcmp(a->replay->run_id, run_id)) api_ws_free(a);
    if (!a->replay) {
        a->replay = xcalloc(1, sizeof *a->replay);
        a->replay->run_id = xstrdup(run_id);
    }
    store_events_raw(a->store, run_id, a->replay->n, cache_event, a->replay);
    return a->replay;
}

static void subscribe_run(api_t *a, api_ws_client_t *c, const char *topic, const json_t *after) {
    const char *run_id = topic + 4;
    json_t *row = store_run(a->store, run_id);
    if (!row) {
        char msg[160];
        snprintf(msg, sizeof msg, "no run '%.100s'", run_id);
        send_error(c, "not_found", msg);
        return;
    }
    json_decref(row);
    sub_t *sub = add_sub(c, topic);
    if (after) {
        /* Resume: what the journal has after the client's last seq, then live events. */
        sub->last_seq = (uint64_t)json_integer_value(after);
        send_json(c, json_pack("{s:s, s:s, s:I, s:o, s:n}", "type", "subscribed", "topic", topic,
                               "seq", (json_int_t)sub->last_seq, "at",
                               json_time_string(clock_now_ms()), "data"));
        api_ws_replay_t *r = replay_of(a, run_id);
        for (size_t i = sub->last_seq; i < r->n; i++) ws_send(c->ws, r->msgs[i]);
        if (r->n > sub->last_seq) sub->last_seq = r->n;
        return;
    }
    uint64_t seq;
    json_t *snap = store_run_snapshot(a->store, run_id, &seq);
    sub->last_seq = seq;
    json_time_present(snap);
    send_json(c, json_pack("{s:s, s:s, s:I, s:o, s:o}", "type", "subscribed", "topic", topic, "seq",
                           (json_int_t)seq, "at", json_time_string(clock_now_ms()), "data",
                           snap ? snap : json_null()));
}

/* Runs rows (stolen) as clients see them (store_run_views). */
static json_t *run_views(json_t *rows) {
    json_t *out = store_run_views(rows);
    json_decref(rows);
    return out;
}

/* The snapshot of a general topic: what is pending (approvals) or the server's status. */
static void subscribe_general(api_t *a, api_ws_client_t *c, const char *topic) {
    add_sub(c, topic);
    json_t *data;
    if (!strcmp(topic, "approvals")) {
        json_t *rows = store_approvals(a->store, NULL, "pending");
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) api_approval_id(row);
        data = json_pack("{s:o}", "pending", rows);
    } else {
        /* runs going, and runs waiting for a person (an answer to an approval) */
        data = json_pack("{s:o, s:o}", "running", run_views(store_runs(a->store, "running", 0)),
                         "waiting", run_views(store_runs(a->store, "waiting_human", 0)));
    }
    json_time_present(data);
    send_json(c, json_pack("{s:s, s:s, s:o, s:o}", "type", "subscribed", "topic", topic, "at",
                           json_time_string(clock_now_ms()), "data", data));
}

static bool general_topic(const char *t) {
    for (const char *const *g = general_topics; *g; g++)
        if (!strcmp(*g, t)) return true;
    return false;
}

void api_ws_message(ws_conn_t *ws, const char *text, size_t len, void *ud) {
    api_t *a = ud;
    api_ws_client_t *c = ws_data(ws);
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, 0, &jerr);
    const char *op = json_string_value(json_object_get(msg, "op"));
    const json_t *topics = json_object_get(msg, "topics"), *after = json_object_get(msg, "after");
    bool topics_ok = json_is_array(topics);
    size_t i;
    json_t *t;
    json_array_foreach(topics, i, t) topics_ok &= json_is_string(t);
    if (!json_is_object(msg))
        send_error(c, "bad_request", "a message is a JSON object {\"op\", ...}");
    else if (op && !strcmp(op, "ping")) /* for clients that cannot see protocol pings */
        send_json(c, json_pack("{s:s}", "type", "pong"));
    else if (!op || (strcmp(op, "subscribe") && strcmp(op, "unsubscribe")))
        send_error(c, "bad_request", "op must be subscribe, unsubscribe or ping");
    else if (!topics_ok)
        send_error(c, "bad_request", "topics must be an array of strings");
    else if (after && !json_is_object(after))
        send_error(c, "bad_request", "after must be an object {topic: seq}");
    else {
        json_array_foreach(topics, i, t) {
            const char *topic = json_string_value(t);
            const json_t *from = json_object_get(after, topic);
            if (!strcmp(op, "unsubscribe")) {
                sub_t *s = find_sub(c, topic);
                if (s) {
                    free(s->topic);
                    *s = c->subs[--c->n_subs];
                }
                send_json(
                    c, json_pack("{s:s, s:o}", "type", "unsubscribed", "topic", api_text(topic)));
            } else if (from && (!json_is_integer(from) || json_integer_value(from) < 0)) {
                send_error(c, "bad_request", "after values are event seqs (whole numbers from 0)");
            } else if (!strncmp(topic, "run:", 4) && topic[4]) {
                subscribe_run(a, c, topic, from);
            } else if (general_topic(topic)) {
                subscribe_general(a, c, topic);
            } else {
                char m[240];
                snprintf(m, sizeof m,
                         "unknown topic '%.100s' (run:<id>, approvals, agents, system, *)", topic);
                send_error(c, "bad_request", m);
            }
        }
    }
    json_decref(msg);
}

/* The general topic an event belongs to, besides run:<id> and *. */
static const char *topic_of(const char *type) {
    if (!strncmp(type, "approval.", 9)) return "approvals";
    if (!strncmp(type, "task.", 5)) return "agents";
    if (!strncmp(type, "run.", 4)) return "system";
    return NULL;
}

/* Sends c the message of one topic variant (slot), made once per event: a message's bytes
 * differ only by its topic, so an event has at most three versions, shared by every client. */
static void send_made(api_ws_client_t *c, ws_msg_t **slot,
                      json_t *(*make)(const void *ctx, const char *topic), const void *ctx,
                      const char *topic) {
    if (!*slot) {
        json_t *m = make(ctx, topic);
        char *text = m ? json_dumps(m, JSON_COMPACT) : NULL;
        json_decref(m);
        if (!text) return;
        *slot = ws_msg_new(text, strlen(text));
        free(text);
    }
    ws_send(c->ws, *slot);
}

typedef struct event_ctx {
    const char *run_id, *type;
    uint64_t seq;
    int64_t ts;
    const json_t *data;
} event_ctx_t;

static json_t *make_event(const void *ctx, const char *topic) {
    const event_ctx_t *e = ctx;
    return event_msg(topic, e->run_id, e->seq, e->ts, e->type, e->data);
}

void api_ws_publish(api_t *a, const char *run_id, uint64_t seq, int64_t ts, const char *type,
                    const json_t *data) {
    if (!a->clients) return;
    char run_topic[128];
    snprintf(run_topic, sizeof run_topic, "run:%s", run_id);
    const char *general = topic_of(type);
    const char *topics[3] = {run_topic, general, "*"};
    ws_msg_t *made[3] = {0};
    event_ctx_t ctx = {run_id, type, seq, ts, data};
    for (api_ws_client_t *c = a->clients; c; c = c->next) {
        int pick = -1;
        sub_t *s = find_sub(c, run_topic);
        if (s) {
            if (seq <= s->last_seq) continue; /* sent already (replayed from the journal) */
            s->last_seq = seq;
            pick = 0;
        } else if (general && find_sub(c, general))
            pick = 1;
        else if (find_sub(c, "*"))
            pick = 2;
        if (pick >= 0) send_made(c, &made[pick], make_event, &ctx, topics[pick]);
    }
    for (int k = 0; k < 3; k++) ws_msg_unref(made[k]);
}

typedef struct delta_ctx {
    const char *run_id, *task, *candidate, *piece;
    int attempt;
    int64_t ts;
} delta_ctx_t;

static json_t *make_delta(const void *ctx, const char *topic) {
    const delta_ctx_t *d = ctx;
    /* no seq: a delta is not journaled (the answer is, with task.completed) */
    return json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:i, s:s, s:o}}", "type", "task.delta", "topic",
                     topic, "run_id", d->run_id, "at", json_time_string(d->ts), "data", "task",
                     d->task, "attempt", d->attempt, "candidate", d->candidate ? d->candidate : "",
                     "text", api_text(d->piece));
}

void api_ws_delta(api_t *a, const char *run_id, const char *task, int attempt,
                  const char *candidate, const char *piece) {
    if (!a->clients) return;
    char run_topic[128];
    snprintf(run_topic, sizeof run_topic, "run:%s", run_id);
    const char *topics[3] = {run_topic, "agents", "*"};
    ws_msg_t *made[3] = {0};
    delta_ctx_t ctx = {run_id, task, candidate, piece, attempt, clock_now_ms()};
    for (api_ws_client_t *c = a->clients; c; c = c->next) {
        int pick = find_sub(c, run_topic)  ? 0
                   : find_sub(c, "agents") ? 1
                   : find_sub(c, "*")      ? 2
                                           : -1;
        if (pick >= 0) send_made(c, &made[pick], make_delta, &ctx, topics[pick]);
    }
    for (int k = 0; k < 3; k++) ws_msg_unref(made[k]);
}
