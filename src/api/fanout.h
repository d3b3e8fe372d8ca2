/* fanout.h - where the host's committed events and streamed text go (fanout.c): to the
 * WebSocket hub (ws_hub.c), the AG-UI streams (agui.c) and the answers waiting for the journal
 * (api_wait.c). fanout.c defines api.h's api_on_event, api_on_delta and api_stop; this header
 * declares what the hubs offer it. Only for src/api. All arguments are borrowed. */
#ifndef BATON_API_FANOUT_H
#define BATON_API_FANOUT_H

#include "api/api.h"

#include <jansson.h>
#include <stdint.h>

/* ws_hub.c: sends one committed event (ts: epoch ms) to the WebSocket clients subscribed to
 * it. */
void api_ws_publish(api_t *a, const char *run_id, uint64_t seq, int64_t ts, const char *type,
                    const json_t *data);
/* ws_hub.c: sends a piece of an answer's streamed text (task.delta, no seq) to the run's
 * subscribers. */
void api_ws_delta(api_t *a, const char *run_id, const char *task, int attempt,
                  const char *candidate, const char *piece);
/* ws_hub.c: frees the WebSocket replay cache. */
void api_ws_free(api_t *a);

/* agui.c: streams one committed event to the AG-UI clients of its run. */
void api_agui_event(api_t *a, const char *run_id, uint64_t seq, const char *type,
                    const json_t *data);
/* agui.c: ends every AG-UI stream (the server stops). */
void api_agui_stop(api_t *a);

/* gateway.c: cancels the gateway's calls in flight and answers them 503. */
void api_gateway_stop(api_t *a);

#endif
