/* fuzz_loader.c - any bytes through the workflow loader and validator (and the agent-file
 * parser): nothing may crash, leak or run away, whatever the YAML, JSON or garbage. A tiny
 * catalog is loaded once so agent resolution, inline overrides and consensus refs are reached. */
#include "core/workflow.h"

#include <stdint.h>
#include <string.h>

static agent_catalog_t catalog;
static int ready;

static bool subflow_exists(void *ud, const char *name) {
    (void)ud;
    return strcmp(name, "missing") != 0;
}

static void load_catalog(void) {
    static const char *const files[][2] = {
        {"agents/analyst.yaml", "name: Analyst\nrole: Analyst\ninstructions: Analyse.\n"
                                "model: fast\ntools: [http_fetch, read_artifact]\n"},
        {"agents/code_analyzer.yaml",
         "name: Code Analyzer\nmodel: [local/llama3.1]\noutput:\n  format: json\n"
         "  schema: {type: object, required: [quality_score], properties: "
         "{quality_score: {type: number}}}\n  artifact: analysis.json\n"},
        {"agents/human_review.yaml", "name: Human review\n"},
    };
    diag_list_t dl = {0};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        catalog_add_yaml(&catalog, files[i][1], strlen(files[i][1]), files[i][0], &dl);
    diag_list_free(&dl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) {
        load_catalog();
        ready = 1;
    }
    diag_list_t dl = {0};
    workflow_t *wf =
        workflow_load((const char *)data, size, "fuzz.yaml", &catalog, subflow_exists, NULL, &dl);
    workflow_free(wf);
    diag_list_free(&dl);

    /* the same bytes as an agent file, into a scratch catalog */
    agent_catalog_t scratch = {0};
    catalog_add_yaml(&scratch, (const char *)data, size, "agents/fuzz.yaml", &dl);
    catalog_free(&scratch);
    diag_list_free(&dl);
    return 0;
}
