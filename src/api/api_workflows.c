/* api_workflows.c - workflows: validate, templates (see api.h); stored ones are in
 * api_workflows_crud.c. */
#include "api/handlers.h"
#include "api/answer.h"
#include "api/page.h"
#include "api/workflow_text.h"

#include "util/fs.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- workflows ---------------------------------------------------------------------------------
 */

/* POST /api/v1/workflows/validate, the workflow's YAML (or JSON) as the body: 200 {valid, name,
 * tasks}, or 422 with every located error, as `baton validate --json` lists them. */
void api_workflows_validate(http_req_t *req, api_t *a, char **params) {
    (void)params;
    workflow_t *wf = api_load_body_workflow(req, a);
    if (!wf) return;
    api_json(req, 200,
             json_pack("{s:b, s:o?, s:I}", "valid", 1, "name", wf->name ? api_text(wf->name) : NULL,
                       "tasks_total", (json_int_t)wf->n_tasks));
    workflow_free(wf);
}

/* GET /api/v1/workflows/templates: the shipped workflows, by name (POST /api/v1/runs takes the
 * name): {items: [{id, name (the same), title, description, tasks, inputs}], next_cursor}. */
void api_workflow_templates(http_req_t *req, api_t *a, char **params) {
    (void)params;
    json_t *items = json_array();
    struct dirent **names = NULL;
    int n = a->templates_dir ? scandir(a->templates_dir, &names, NULL, alphasort) : 0;
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm);
        if (l > 5 && !strcmp(nm + l - 5, ".yaml")) {
            char *path = xasprintf("%s/%s", a->templates_dir, nm);
            size_t len;
            char *err = NULL;
            char *text = fs_read_regular(path, WF_MAX_DOC_BYTES, &len, &err);
            diag_list_t dl = {0};
            workflow_t *wf = text ? workflow_load(text, len, path, a->catalog, host_subflow_exists,
                                                  (void *)a->templates_dir, &dl)
                                  : NULL;
            if (wf) {
                json_t *inputs = wf->inputs ? json_deep_copy(wf->inputs) : json_object();
                json_array_append_new(
                    items,
                    json_pack("{s:s#, s:s#, s:o?, s:o?, s:I, s:o}", "id", nm, (int)(l - 5), "name",
                              nm, (int)(l - 5), "title", wf->name ? api_text(wf->name) : NULL,
                              "description", wf->description ? api_text(wf->description) : NULL,
                              "tasks_total", (json_int_t)wf->n_tasks, "inputs", inputs));
                workflow_free(wf);
            }
            diag_list_free(&dl);
            free(text);
            free(err);
            free(path);
        }
        free(names[i]);
    }
    free(names);
    api_page_answer(req, items, "id", true, 100);
}
