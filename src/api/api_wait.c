/* api_wait.c - answers that wait until the journal has what they report (see wait.h).
 *
 * The engine journals a change at the end of the loop turn that made it (group commit), and
 * reports each event to its observer once committed. A request that started, paused or answered
 * something is parked here until its event comes by, so its answer, and any GET after it, reads
 * the committed state. */
#include "api/wait.h"
#include "api/answer.h"
#include "api/handlers.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct api_waiting {
    http_req_t *req;
    int status;
    api_wait_kind_t kind;
    char *run_id, *task_id;
    uint64_t seq;
    json_t *body; /* WAIT_BODY: the answer, ready */
    api_waiting_t *next;
};

void api_answer_now(api_t *a, http_req_t *req, int status, api_wait_kind_t kind, const char *run_id,
                    const char *task_id) {
    if (kind == WAIT_BODY) { /* only through api_wait_body, which answers itself */
        api_error(req, 500, "internal", "no answer was prepared");
        return;
    }
    if (kind == WAIT_RUN) {
        json_t *sum = store_run_summary(a->store, run_id);
        if (sum)
            api_json(req, status, sum);
        else
            api_error(req, 500, "internal", "run %s could not be read back", run_id);
        return;
    }
    json_t *rows = store_approvals(a->store, run_id, NULL);
    size_t i;
    json_t *row, *found = NULL;
    json_array_foreach(rows, i, row) {
        if (!strcmp(json_string_value(json_object_get(row, "task_id")), task_id)) found = row;
    }
    if (found) api_approval_id(found);
    if (found)
        api_json(req, status, json_incref(found));
    else
        api_error(req, 500, "internal", "the approval %s.%s could not be read back", run_id,
                  task_id);
    json_decref(rows);
}

void api_wait(api_t *a, http_req_t *req, int status, api_wait_kind_t kind, const char *run_id,
              const char *task_id, uint64_t seq) {
    api_waiting_t *w = xcalloc(1, sizeof *w);
    *w = (api_waiting_t){req, status, kind,      xstrdup(run_id), task_id ? xstrdup(task_id) : NULL,
                         seq, NULL,   a->waiting};
    a->waiting = w;
}

void api_wait_body(api_t *a, http_req_t *req, int status, const char *run_id, uint64_t seq,
                   json_t *body) {
    api_wait(a, req, status, WAIT_BODY, run_id, NULL, seq);
    a->waiting->body = body;
}

static void waiting_free(api_waiting_t *w) {
    json_decref(w->body);
    free(w->run_id);
    free(w->task_id);
    free(w);
}

void api_wait_release(api_t *a, const char *run_id, uint64_t seq) {
    for (api_waiting_t **p = &a->waiting; *p;) {
        api_waiting_t *w = *p;
        if (seq >= w->seq && !strcmp(w->run_id, run_id)) {
            *p = w->next;
            if (w->kind == WAIT_BODY) {
                api_json(w->req, w->status, w->body);
                w->body = NULL;
            } else {
                api_answer_now(a, w->req, w->status, w->kind, w->run_id, w->task_id);
            }
            waiting_free(w);
            continue;
        }
        p = &w->next;
    }
}

void api_wait_fail_all(api_t *a) {
    while (a->waiting) {
        api_waiting_t *w = a->waiting;
        a->waiting = w->next;
        api_error(w->req, 503, "unavailable",
                  "the server is stopping; run %s is journaled as it was", w->run_id);
        waiting_free(w);
    }
}
