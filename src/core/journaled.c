/* journaled.c - the workflow a run started with, read back from its run.created event (see
 * workflow.h). The engine's resume and the API's per-agent figures both need it, and must read
 * the same workflow: the journaled text with the journaled agents, never today's files. */
#include "core/workflow.h"

#include <string.h>

workflow_t *workflow_load_journaled(const json_t *created, wf_exists_fn subflow_exists,
                                    void *subflow_ud, diag_list_t *dl) {
    const char *source = json_string_value(json_object_get(created, "source"));
    const char *file = json_string_value(json_object_get(created, "file"));
    if (!source) {
        diag_add(dl, file ? file : "<journal>", (src_loc_t){0}, NULL,
                 "the journal has no workflow source");
        return NULL;
    }
    /* The catalog agents the run used, as they were: the workflow copies the ones its tasks
     * use, so this catalog can go once it is loaded. */
    agent_catalog_t cat = {0};
    arena_init(&cat.arena, 0);
    const char *id;
    json_t *a;
    json_object_foreach((json_t *)json_object_get(created, "agents"), id, a) {
        const char *text = json_string_value(json_object_get(a, "source"));
        if (text)
            catalog_add_yaml(&cat, text, strlen(text),
                             json_string_value(json_object_get(a, "file")), dl);
    }
    workflow_t *wf = dl->n ? NULL
                           : workflow_load(source, strlen(source), file ? file : "<journal>", &cat,
                                           subflow_exists, subflow_ud, dl);
    catalog_free(&cat);
    return wf;
}

json_t *workflow_task_agents(const workflow_t *wf) {
    json_t *map = json_object();
    for (size_t i = 0; i < wf->n_tasks; i++) {
        const wf_task_t *t = &wf->tasks[i];
        /* Only agent and human tasks name one agent; a consensus asks several, and its calls
         * do not say which of them each was. */
        bool one = t->agent_id && (t->type == TASK_AGENT || t->type == TASK_HUMAN);
        json_object_set_new(map, t->id, one ? json_string(t->agent_id) : json_null());
    }
    return map;
}
