/* api_approvals.c - human steps: list, read, answer (see api.h). An approval's id is
 * "<run_id>.<task_id>". */
#include "api/answer.h"
#include "api/page.h"
#include "api/wait.h"
#include "api/handlers.h"
#include "api/route.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

void api_approval_id(json_t *row) {
    char *id = xasprintf("%s.%s", json_string_value(json_object_get(row, "run_id")),
                         json_string_value(json_object_get(row, "task_id")));
    json_object_set_new(row, "id", json_string(id));
    free(id);
}

/* GET /api/v1/approvals?status=pending|answered|all (default pending): {items, next_cursor},
 * by id. */
void api_approvals_list(http_req_t *req, api_t *a, char **params) {
    (void)params;
    char status[16] = "pending";
    route_query(req->query, "status", status, sizeof status);
    if (strcmp(status, "pending") && strcmp(status, "answered") && strcmp(status, "all")) {
        api_error(req, 400, "bad_request", "status must be pending, answered or all");
        return;
    }
    json_t *rows = store_approvals(a->store, NULL, strcmp(status, "all") ? status : NULL);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) api_approval_id(row);
    api_page_answer(req, rows ? rows : json_array(), "id", true, 100);
}

/* The approval {id}: its row (caller decrefs) and its run and task ids (caller frees); NULL (and
 * a 404 sent) when there is none. */
static json_t *find_approval(http_req_t *req, api_t *a, const char *id, char **run_id,
                             char **task_id) {
    const char *dot = strchr(id, '.');
    json_t *found = NULL;
    if (dot && dot > id && dot[1]) {
        *run_id = xstrndup(id, (size_t)(dot - id));
        json_t *rows = store_approvals(a->store, *run_id, NULL);
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            if (!strcmp(json_string_value(json_object_get(row, "task_id")), dot + 1))
                found = json_incref(row);
        }
        json_decref(rows);
        if (found) {
            api_approval_id(found);
            *task_id = xstrdup(dot + 1);
            return found;
        }
        free(*run_id);
    }
    *run_id = *task_id = NULL;
    api_error(req, 404, "not_found", "no approval '%.200s' (ids are RUN_ID.TASK_ID)", id);
    return NULL;
}

void api_approval_get(http_req_t *req, api_t *a, char **params) {
    char *run_id, *task_id;
    json_t *row = find_approval(req, a, params[0], &run_id, &task_id);
    if (row) api_json(req, 200, row);
    free(run_id);
    free(task_id);
}

/* POST /api/v1/approvals/{id}/respond {decision, feedback, edited_output, answers, answered_by}:
 * 200 with the answered approval once journaled (the run carries on at once); 409 when it was
 * answered already; 400 for an answer the step does not take. */
void api_approval_respond(http_req_t *req, api_t *a, char **params) {
    static const char *const allowed[] = {"decision", "feedback",    "edited_output",
                                          "answers",  "answered_by", NULL};
    json_t *body = api_body_object(req, allowed);
    if (!body) return;
    char *run_id = NULL, *task_id = NULL, *err = NULL;
    json_t *row = NULL;
    /* null for an optional field is as good as leaving it out (clients send both) */
    const char *optional[] = {"feedback", "edited_output", "answers", "answered_by"};
    for (size_t k = 0; k < sizeof optional / sizeof *optional; k++)
        if (json_is_null(json_object_get(body, optional[k]))) json_object_del(body, optional[k]);
    const json_t *decision = json_object_get(body, "decision");
    const char *wrong =
        !json_is_string(decision) ? "decision must be a string"
        : json_object_get(body, "feedback") && !json_is_string(json_object_get(body, "feedback"))
            ? "feedback must be a string"
        : json_object_get(body, "edited_output") &&
                !json_is_string(json_object_get(body, "edited_output"))
            ? "edited_output must be a string"
        : json_object_get(body, "answered_by") &&
                !json_is_string(json_object_get(body, "answered_by"))
            ? "answered_by must be a string"
        : json_object_get(body, "answers") && !json_is_object(json_object_get(body, "answers"))
            ? "answers must be an object"
            : NULL;
    if (wrong) {
        api_error(req, 400, "bad_request", "%s", wrong);
        goto out;
    }
    if (!(row = find_approval(req, a, params[0], &run_id, &task_id))) goto out;
    if (strcmp(json_string_value(json_object_get(row, "status")), "pending")) {
        api_error(req, 409, "conflict", "approval %s was answered already", params[0]);
        goto out;
    }
    bool missing;
    engine_run_t *run = host_run(a->host, run_id, &missing, &err);
    if (!run) {
        api_error(req, 500, "internal", "%s", err ? err : "the run cannot be read");
        goto out;
    }
    if (!json_object_get(body, "answered_by"))
        json_object_set_new(body, "answered_by", json_string("api"));
    engine_rc_t rc = engine_respond(run, task_id, body, &err);
    if (rc != ENGINE_OK) {
        /* The answer itself is wrong (400: a decision not offered, an edit that does not fit
         * the schema), or the step moved on, perhaps with an answer from another request not
         * yet committed (409: ENGINE_E_ANSWERED, ENGINE_E_NOT_WAITING). */
        bool bad = engine_rc_bad_request(rc);
        api_error(req, bad ? 400 : 409, bad ? "bad_request" : "conflict", "%s", err);
        goto out;
    }
    api_wait(a, req, 200, WAIT_APPROVAL, run_id, task_id, engine_run_state(run)->seq);
out:
    json_decref(row);
    json_decref(body);
    free(run_id);
    free(task_id);
    free(err);
}
