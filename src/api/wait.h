/* wait.h - answers that wait until the journal has what they report (api_wait.c). Only for
 * src/api.
 *
 * Promises: a parked request is answered exactly once: when its run's event seq is committed
 * (api_wait_release), or with 503 when the server stops (api_wait_fail_all). A request is never
 * answered from state the journal does not have yet. */
#ifndef BATON_API_WAIT_H
#define BATON_API_WAIT_H

#include "api/api.h"

#include <jansson.h>
#include <stdint.h>

/* What a waiting answer sends once the journal has it. */
typedef enum { WAIT_RUN, WAIT_APPROVAL, WAIT_BODY } api_wait_kind_t;

/* Answers req with `status` once run_id's event `seq` is committed (and observed): the run's
 * summary (WAIT_RUN) or the approval of task_id (WAIT_APPROVAL), as the store then has them.
 * run_id and task_id are copied. */
void api_wait(api_t *a, http_req_t *req, int status, api_wait_kind_t kind, const char *run_id,
              const char *task_id, uint64_t seq);
/* Answers req with body (stolen) once run_id's event seq is committed. */
void api_wait_body(api_t *a, http_req_t *req, int status, const char *run_id, uint64_t seq,
                   json_t *body);
/* Sends what a waiting answer sends, now. */
void api_answer_now(api_t *a, http_req_t *req, int status, api_wait_kind_t kind, const char *run_id,
                    const char *task_id);

/* Answers every request that waited for run_id's events up to seq (now committed). */
void api_wait_release(api_t *a, const char *run_id, uint64_t seq);
/* Answers every request still waiting with 503 (the server is stopping). */
void api_wait_fail_all(api_t *a);

#endif
