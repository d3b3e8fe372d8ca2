/* fanout.c - the host's observers (see api.h and fanout.h): each committed event goes to the
 * WebSocket hub, the AG-UI streams and the answers waiting for it, in that order, so a client
 * that watches sees the event no later than the answer of the request that made it. */
#include "api/fanout.h"
#include "api/wait.h"

void api_on_event(void *ud, engine_run_t *run, uint64_t seq, int64_t ts, const char *type,
                  const json_t *data) {
    api_t *a = ud;
    const char *id = engine_run_id(run);
    api_ws_publish(a, id, seq, ts, type, data);
    api_agui_event(a, id, seq, type, data);
    api_wait_release(a, id, seq);
}

void api_on_delta(void *ud, engine_run_t *run, const char *task, int attempt, const char *candidate,
                  const char *piece) {
    api_ws_delta(ud, engine_run_id(run), task, attempt, candidate, piece);
}

void api_stop(api_t *a) {
    api_gateway_stop(a);
    api_agui_stop(a);
    api_wait_fail_all(a);
}
