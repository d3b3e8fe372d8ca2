/* test_loader.c - the structural half of workflow loading (spec sections 1, 2, 4, 7, 8):
 * defaults, key and type checks with positions and hints, the limits that protect the server,
 * YAML corner cases, JSON input, the agent catalog and durations. Graph and template rules are
 * in test_validate.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/workflow.h"
#include "core/yaml_tree.h"
#include "util/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static agent_catalog_t cat;

static const char *const CATALOG[][2] = {
    {"agents/analyst.yaml", "name: Analyst\nrole: Requirements analyst\ngoal: Clarify\n"
                            "instructions: |\n  Ask questions.\nmodel: fast\ntemperature: 0.3\n"
                            "tools: [http_fetch, read_artifact]\n"},
    {"agents/code_analyzer.yaml",
     "id: code_analyzer\nname: Code Analyzer\nmodel: [local/llama3.1, openai/gpt-4o-mini]\n"
     "output:\n  format: json\n  artifact: analysis.json\n  schema:\n    type: object\n"
     "    required: [quality_score]\n    properties:\n      quality_score: {type: number}\n"},
    {"agents/human_review.yaml", "name: Human review\nrole: A person\n"},
};

static int setup(void **state) {
    (void)state;
    diag_list_t dl = {0};
    for (size_t i = 0; i < sizeof CATALOG / sizeof *CATALOG; i++)
        if (catalog_add_yaml(&cat, CATALOG[i][1], strlen(CATALOG[i][1]), CATALOG[i][0], &dl))
            return -1;
    diag_list_free(&dl);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    catalog_free(&cat);
    return 0;
}

static bool known_subflow(void *ud, const char *name) {
    (void)ud;
    return !strcmp(name, "content_creation");
}

static workflow_t *load(const char *yaml, diag_list_t *dl) {
    return workflow_load(yaml, strlen(yaml), "wf.yaml", &cat, known_subflow, NULL, dl);
}

static void print_diags(const diag_list_t *dl) {
    for (size_t i = 0; i < dl->n; i++)
        fprintf(stderr, "  %s:%u:%u: %s [%s]\n", dl->items[i].file, dl->items[i].loc.line,
                dl->items[i].loc.col, dl->items[i].message,
                dl->items[i].hint ? dl->items[i].hint : "");
}

static workflow_t *load_ok(const char *yaml) {
    diag_list_t dl = {0};
    workflow_t *wf = load(yaml, &dl);
    if (!wf) print_diags(&dl);
    assert_non_null(wf);
    assert_int_equal(dl.n, 0);
    diag_list_free(&dl);
    return wf;
}

/* The diagnostic whose message contains `msg`, or a test failure listing what there was. */
static const diag_t *find_diag(const diag_list_t *dl, const char *msg) {
    for (size_t i = 0; i < dl->n; i++)
        if (strstr(dl->items[i].message, msg)) return &dl->items[i];
    fprintf(stderr, "no diagnostic contains \"%s\"; got:\n", msg);
    print_diags(dl);
    fail();
    return NULL;
}

/* Loading fails with an error containing `msg` at line:col, with a hint containing `hint`
 * (when given). */
static void expect_err(const char *yaml, unsigned line, unsigned col, const char *msg,
                       const char *hint) {
    diag_list_t dl = {0};
    workflow_t *wf = load(yaml, &dl);
    assert_null(wf);
    const diag_t *d = find_diag(&dl, msg);
    if (d->loc.line != line || d->loc.col != col) {
        fprintf(stderr, "\"%s\" at %u:%u, expected %u:%u\n", d->message, d->loc.line, d->loc.col,
                line, col);
        fail();
    }
    assert_string_equal(d->file, "wf.yaml");
    if (hint) {
        if (!d->hint || !strstr(d->hint, hint))
            fprintf(stderr, "hint of \"%s\" is \"%s\", expected \"%s\"\n", d->message,
                    d->hint ? d->hint : "(none)", hint);
        assert_non_null(d->hint);
        assert_non_null(strstr(d->hint, hint));
    }
    diag_list_free(&dl);
}

#define HEAD "name: t\ntasks:\n"

/* ---- a valid workflow, with defaults ---- */

static const char FULL[] =
    "name: Code Review and Deploy Pipeline\n"
    "description: Static analysis, tests, human review, deploy\n"
    "version: 2.1\n"
    "inputs:\n"
    "  project_brief: {type: string, required: true, description: What to build}\n"
    "  max_items:     {type: integer, default: 10}\n"
    "variables:\n"
    "  repository_url: \"\"\n"
    "  branch: main\n"
    "triggers:\n"
    "  schedule: {cron: \"0 9 * * 1\", timezone: UTC}\n"
    "  on_push: {branches: [main, develop]}\n"
    "defaults:\n"
    "  timeout: 10m\n"
    "  max_retries: 2\n"
    "  retry_backoff: {initial: 1s, factor: 3, max: 30s, jitter: false}\n"
    "  model: balanced\n"
    "concurrency: 4\n"
    "budget: {max_cost_usd: 5.00, on_exceed: pause}\n"
    "agents:\n"
    "  scanner:\n"
    "    name: Scanner\n"
    "    instructions: Scan.\n"
    "    tools: [read_artifact]\n"
    "    output: {format: json, schema: {type: object, required: [security_score]}}\n"
    "  analyst:\n"
    "    temperature: 0.9\n"
    "tasks:\n"
    "  - id: code_analysis\n" /* 29 */
    "    agent: code_analyzer\n"
    "    inputs:\n"
    "      repo: \"{{variables.repository_url}}\"\n"
    "      brief: \"{{ inputs.project_brief }}\"\n"
    "      deep: {list: [1, true, null]}\n"
    "  - id: security_scan\n" /* 35 */
    "    name: Security Vulnerability Scan\n"
    "    agent: scanner\n"
    "    prompt: Focus on injection flaws.\n"
    "    depends_on: [code_analysis]\n"
    "    conditions:\n"
    "      - if: \"{{tasks.code_analysis.outputs.quality_score < 8}}\"\n"
    "        then: execute\n"
    "        else: fail\n"
    "    timeout: 300\n"
    "    max_retries: 0\n"
    "    retry_backoff: {factor: 4}\n"
    "    requires_approval: true\n"
    "    approval: {approvers: [role:approver], timeout: 24h, on_timeout: approve}\n"
    "    estimated_cost: 0.30\n"
    "    artifact: security_report.md\n"
    "    on_failure: continue\n"
    "    model: [openai/gpt-4o]\n"
    "    quality_threshold: 0.7\n"
    "    loop: {until: \"{{tasks.security_scan.outputs.passed}}\"}\n"
    "  - id: review\n"
    "    agent: human_review\n"
    "    kind: decision\n"
    "    title: Senior Developer Review\n"
    "    description: \"Quality {{tasks.code_analysis.outputs.quality_score}}\"\n"
    "    options: [approve, reject]\n"
    "    timeout: 24h\n"
    "    on_timeout: fail\n"
    "    depends_on: [security_scan]\n"
    "  - id: vote\n"
    "    type: consensus\n"
    "    agents: [analyst, scanner, code_analyzer]\n"
    "    question: Publish this piece?\n"
    "    options: [publish, hold, reject]\n"
    "    method: weighted\n"
    "    deadline: 5m\n"
    "    on_no_consensus: human\n"
    "    depends_on: review\n"
    "  - id: per_asset\n"
    "    type: map\n"
    "    over: \"{{tasks.code_analysis.outputs.modified_files}}\"\n"
    "    concurrency: 50\n"
    "    depends_on: [code_analysis]\n"
    "    task: {agent: analyst, inputs: {asset: \"{{item}}\", i: \"{{ index }}\"}, timeout: 20}\n"
    "  - id: fetch\n"
    "    type: tool\n"
    "    tool: http_fetch\n"
    "    args: {url: \"{{variables.repository_url}}\"}\n"
    "  - id: child\n"
    "    type: subflow\n"
    "    workflow: content_creation\n"
    "    inputs: {domain: \"{{variables.branch}}\"}\n";

static void full_workflow_loads(void **state) {
    (void)state;
    workflow_t *wf = load_ok(FULL);
    assert_string_equal(wf->file, "wf.yaml");
    assert_string_equal(wf->name, "Code Review and Deploy Pipeline");
    assert_string_equal(wf->version, "2.1"); /* a plain number read as the text written */
    assert_true(
        json_is_true(json_object_get(json_object_get(wf->inputs, "project_brief"), "required")));
    assert_true(
        json_is_false(json_object_get(json_object_get(wf->inputs, "max_items"), "required")));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(wf->inputs, "max_items"), "default")),
        10);
    assert_string_equal(json_string_value(json_object_get(wf->variables, "branch")), "main");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(wf->triggers, "schedule"), "cron")),
        "0 9 * * 1");
    assert_true(wf->default_timeout_s == 600);
    assert_int_equal(wf->default_max_retries, 2);
    assert_true(wf->default_backoff.initial_s == 1 && wf->default_backoff.factor == 3 &&
                wf->default_backoff.max_s == 30 && !wf->default_backoff.jitter);
    assert_string_equal(json_string_value(wf->default_model), "balanced");
    assert_int_equal(wf->concurrency, 4);
    assert_true(wf->budget_usd == 5.0);
    assert_int_equal(wf->on_exceed, BUDGET_PAUSE);
    assert_int_equal(wf->n_agents, 2);
    assert_int_equal(wf->n_tasks, 7);

    const wf_task_t *ca = workflow_task(wf, "code_analysis");
    assert_non_null(ca);
    assert_int_equal(ca->loc.line, 29);
    assert_int_equal(ca->loc.col, 5);
    assert_int_equal(ca->type, TASK_AGENT);
    assert_string_equal(ca->name, "code_analysis");      /* name defaults to the id */
    assert_string_equal(ca->agent->id, "code_analyzer"); /* from the catalog */
    assert_int_equal(ca->agent->format, OUTPUT_JSON);
    assert_non_null(ca->agent->schema);
    assert_string_equal(ca->artifact, "analysis.json");        /* the agent's artifact */
    assert_true(json_is_array(ca->model));                     /* the agent's model list */
    assert_true(ca->timeout_s == 600 && ca->max_retries == 2); /* workflow defaults */
    assert_true(ca->backoff.factor == 3 && !ca->backoff.jitter);
    assert_int_equal(ca->on_failure, ON_FAILURE_FAIL_RUN);
    assert_true(json_is_null(
        json_array_get(json_object_get(json_object_get(ca->inputs, "deep"), "list"), 2)));
    assert_int_equal(ca->n_deps, 0);

    const wf_task_t *ss = workflow_task(wf, "security_scan");
    assert_string_equal(ss->name, "Security Vulnerability Scan");
    assert_string_equal(ss->agent->id, "scanner");
    assert_string_equal(ss->agent->file, "wf.yaml");
    assert_string_equal(ss->prompt.src, "Focus on injection flaws.");
    assert_int_equal(ss->prompt.loc.line, 38);
    assert_int_equal(ss->prompt.loc.col, 13);
    assert_int_equal(ss->n_deps, 1);
    assert_int_equal(ss->dep_index[0], 0);
    assert_int_equal(ss->depends_on_loc[0].line, 39);
    assert_int_equal(ss->n_conditions, 1);
    assert_int_equal(ss->conditions[0].then_action, COND_EXECUTE);
    assert_int_equal(ss->conditions[0].else_action, COND_FAIL);
    assert_int_equal(ss->conditions[0].when.loc.line, 41);
    assert_true(ss->timeout_s == 300);
    assert_int_equal(ss->max_retries, 0);
    assert_true(ss->backoff.factor == 4 && ss->backoff.initial_s == 1); /* merged per field */
    assert_true(ss->requires_approval);
    assert_int_equal(ss->n_approvers, 1);
    assert_string_equal(ss->approvers[0], "role:approver");
    assert_true(ss->approval_timeout_s == 86400);
    assert_int_equal(ss->approval_on_timeout, TIMEOUT_APPROVE);
    assert_true(fabs(ss->estimated_cost - 0.30) < 1e-9);
    assert_string_equal(ss->artifact, "security_report.md");
    assert_int_equal(ss->on_failure, ON_FAILURE_CONTINUE);
    assert_string_equal(json_string_value(json_array_get(ss->model, 0)), "openai/gpt-4o");
    assert_true(ss->quality_threshold == 0.7);
    assert_non_null(ss->loop_until.src);
    assert_int_equal(ss->loop_max_iterations, 3);

    const wf_task_t *rv = workflow_task(wf, "review");
    assert_int_equal(rv->type, TASK_HUMAN); /* agent: human_review */
    assert_true(rv->agent && rv->agent->is_human);
    assert_int_equal(rv->human_kind, HUMAN_DECISION);
    assert_string_equal(rv->title.src, "Senior Developer Review");
    assert_non_null(rv->description.src);
    assert_int_equal(json_array_size(rv->options), 2);
    assert_true(rv->human_timeout_s == 86400);
    assert_int_equal(rv->human_on_timeout, TIMEOUT_FAIL);

    const wf_task_t *vt = workflow_task(wf, "vote");
    assert_int_equal(vt->type, TASK_CONSENSUS);
    assert_int_equal(vt->n_consensus_agents, 3);
    assert_string_equal(vt->consensus_agent_refs[0]->id, "analyst");
    assert_true(vt->consensus_agent_refs[0]->temperature == 0.9); /* inline override */
    assert_string_equal(vt->consensus_agent_refs[0]->role, "Requirements analyst"); /* catalog */
    assert_int_equal(vt->consensus_agent_refs[0]->n_tools, 2);
    assert_string_equal(vt->consensus_agent_refs[2]->id, "code_analyzer");
    assert_int_equal(vt->method, CONSENSUS_WEIGHTED);
    assert_true(vt->deadline_s == 300);
    assert_int_equal(vt->on_no_consensus, NO_CONSENSUS_HUMAN);
    assert_int_equal(vt->n_deps, 1); /* a lone string is a list of one */
    assert_int_equal(vt->dep_index[0], 2);

    const wf_task_t *pa = workflow_task(wf, "per_asset");
    assert_int_equal(pa->type, TASK_MAP);
    assert_int_equal(pa->map_concurrency, 50);
    assert_non_null(pa->map_task);
    assert_string_equal(pa->map_task->id, "per_asset");
    assert_string_equal(pa->map_task->agent->id, "analyst");
    assert_true(pa->map_task->timeout_s == 20);

    const wf_task_t *ft = workflow_task(wf, "fetch");
    assert_string_equal(ft->tool, "http_fetch");
    assert_true(json_is_string(json_object_get(ft->args, "url")));

    const wf_task_t *ch = workflow_task(wf, "child");
    assert_string_equal(ch->subflow, "content_creation");
    assert_true(json_is_object(ch->inputs));

    assert_int_equal(workflow_task_index(wf, "child"), 6);
    assert_int_equal(workflow_task_index(wf, "nope"), -1);
    assert_null(workflow_task(wf, "nope"));
    workflow_free(wf);
}

static void defaults_applied(void **state) {
    (void)state;
    workflow_t *wf = load_ok("name: d\n"
                             "agents:\n  solo: {instructions: Do it.}\n"
                             "tasks:\n"
                             "  - id: a\n    agent: solo\n"
                             "    conditions: [{if: '{{ true }}'}]\n"
                             "    loop: {until: '{{ iteration > 1 }}'}\n"
                             "  - {id: h, type: human}\n"
                             "  - id: m\n    type: map\n    over: '{{ [1, 2] }}'\n"
                             "    task: {agent: solo}\n");
    assert_string_equal(wf->version, "1.0");
    assert_null(wf->description);
    assert_true(wf->default_timeout_s == 300);
    assert_int_equal(wf->default_max_retries, 3);
    assert_true(wf->default_backoff.initial_s == 2 && wf->default_backoff.factor == 2 &&
                wf->default_backoff.max_s == 60 && wf->default_backoff.jitter);
    assert_null(wf->default_model);
    assert_int_equal(wf->concurrency, 10);
    assert_true(wf->budget_usd < 0);
    assert_int_equal(wf->on_exceed, BUDGET_FAIL);
    assert_null(wf->triggers);
    assert_int_equal(json_object_size(wf->inputs), 0);
    assert_int_equal(json_object_size(wf->variables), 0);
    const wf_agent_t *solo = &wf->agents[0];
    assert_string_equal(solo->name, "solo");
    assert_true(solo->temperature == 0.2);
    assert_int_equal(solo->max_tokens, 1500);
    assert_int_equal(solo->word_limit, 0);
    assert_int_equal(solo->format, OUTPUT_MARKDOWN);
    assert_null(solo->schema);
    assert_false(solo->is_human);
    const wf_task_t *a = &wf->tasks[0];
    assert_true(a->timeout_s == 300);
    assert_int_equal(a->max_retries, 3);
    assert_true(a->backoff.jitter);
    assert_int_equal(a->conditions[0].then_action, COND_EXECUTE);
    assert_int_equal(a->conditions[0].else_action, COND_SKIP);
    assert_int_equal(a->loop_max_iterations, 3);
    assert_false(a->requires_approval);
    assert_null(a->artifact);
    assert_null(a->model);
    assert_true(a->quality_threshold == 0);
    assert_true(json_is_object(a->inputs) && json_object_size(a->inputs) == 0);
    const wf_task_t *h = &wf->tasks[1];
    assert_int_equal(h->type, TASK_HUMAN);
    assert_int_equal(h->human_kind, HUMAN_APPROVAL);
    assert_int_equal(h->human_on_timeout, TIMEOUT_REJECT);
    assert_true(h->human_timeout_s == 0);
    assert_null(h->agent);
    const wf_task_t *m = &wf->tasks[2];
    assert_int_equal(m->map_concurrency, 10);
    assert_int_equal(m->loop_max_iterations, 0);
    assert_int_equal(m->map_task->loop_max_iterations, 0);
    workflow_free(wf);
}

static void null_means_unset(void **state) {
    (void)state;
    workflow_t *wf = load_ok("name: n\ndescription:\ndefaults: {timeout: ~}\nvariables:\n"
                             "agents:\n  x:\ntasks:\n  - {id: a, agent: x, timeout: null, "
                             "inputs: {k: null}}\n");
    assert_null(wf->description);
    assert_true(wf->tasks[0].timeout_s == 300);
    assert_true(json_is_null(json_object_get(wf->tasks[0].inputs, "k")));
    workflow_free(wf);
}

static void json_input_works(void **state) {
    (void)state;
    const char *js = "{\"name\": \"From JSON\", \"defaults\": {\"timeout\": \"2m\"},\n"
                     " \"tasks\": [{\"id\": \"a\", \"agent\": \"analyst\", \"inputs\": {\"n\": 1.5,"
                     " \"s\": \"{{ variables.x }}\", \"b\": false, \"z\": null}},\n"
                     "  {\"id\": \"b\", \"agent\": \"analyst\", \"depends_on\": [\"a\"]}]}";
    workflow_t *wf = load_ok(js);
    assert_string_equal(wf->name, "From JSON");
    assert_true(wf->tasks[0].timeout_s == 120);
    assert_true(json_real_value(json_object_get(wf->tasks[0].inputs, "n")) == 1.5);
    assert_true(json_is_false(json_object_get(wf->tasks[0].inputs, "b")));
    assert_int_equal(wf->tasks[1].dep_index[0], 0);
    workflow_free(wf);
    /* and JSON errors are located too */
    expect_err("{\"name\": \"j\", \"tasks\": [{\"id\": \"a\", \"agent\": \"analyst\", "
               "\"timeout\": true}]}",
               1, 68, "expected a duration for 'timeout', got a boolean", NULL);
}

/* ---- YAML syntax and YAML features ---- */

static void yaml_syntax_errors(void **state) {
    (void)state;
    expect_err("name: a: b\ntasks: []\n", 1, 8, "invalid YAML: mapping values are not allowed",
               "quote values");
    expect_err("name: t\ntasks:\n  - id: a\n   agent: x\n", 4, 4, "invalid YAML", NULL);
    expect_err("name: t\ntasks:\n\t- id: a\n", 3, 1, "invalid YAML", "tabs");
    expect_err("name: \"unterminated\ntasks: []\n", 3, 1,
               "invalid YAML: found unexpected end of "
               "stream",
               "not closed");
    expect_err("name: t\ntasks: [{id: a, agent: analyst}\n", 3, 1, "invalid YAML", NULL);
    expect_err("name: \"bad \\q escape\"\n", 1, 12, "invalid YAML: found unknown escape character",
               "backslash");
    /* bytes that are not UTF-8, and control characters */
    expect_err("name: caf\xe9\ntasks: []\n", 1, 10, "invalid YAML: invalid trailing UTF-8 octet",
               "UTF-8");
    const char nul[] = "name: a\0b\ntasks: []\n";
    diag_list_t dl = {0};
    assert_null(workflow_load(nul, sizeof nul - 1, "wf.yaml", &cat, NULL, NULL, &dl));
    const diag_t *d = find_diag(&dl, "control characters are not allowed");
    assert_int_equal(d->loc.line, 1);
    assert_int_equal(d->loc.col, 8);
    diag_list_free(&dl);
}

static void yaml_features(void **state) {
    (void)state;
    expect_err("name: t\nname: u\ntasks: [{id: a, agent: analyst}]\n", 2, 1,
               "duplicate key 'name' (first at line 1)", NULL);
    expect_err("name: t\nbase: &b {agent: analyst}\ntasks:\n  - <<: *b\n    id: a\n", 4, 5,
               "YAML merge keys ('<<') are not supported", "alias");
    expect_err("name: t\n---\nname: u\n", 2, 1, "expected one YAML document", "one workflow");
    expect_err(HEAD "  - {id: a, agent: *nope}\n", 3, 20, "unknown YAML anchor 'nope'", NULL);
    expect_err(HEAD "  - {id: a, agent: !custom analyst}\n", 3, 20,
               "unsupported YAML tag '!custom'", NULL);
    expect_err(HEAD "  - id: a\n    agent: analyst\n    prompt: {{ variables.x }}\n", 5, 14,
               "unquoted template", "must be quoted");
}

/* Aliases below the limit are fine; the aliased value is shared, and converted where used. */
static void yaml_aliases_share_values(void **state) {
    (void)state;
    workflow_t *wf =
        load_ok("name: t\nvariables:\n  common: &c {region: eu, tags: [a, b]}\n"
                "tasks:\n  - {id: a, agent: analyst, inputs: *c}\n"
                "  - {id: b, agent: analyst, inputs: {cfg: *c}, timeout: !!int \"7\"}\n");
    assert_string_equal(json_string_value(json_object_get(wf->tasks[0].inputs, "region")), "eu");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(wf->tasks[1].inputs, "cfg"), "tags")), 2);
    assert_true(wf->tasks[1].timeout_s == 7);
    workflow_free(wf);
}

static void core_schema_scalars(void **state) {
    (void)state;
    workflow_t *wf =
        load_ok("name: s\nvariables:\n  n: ~\n  e:\n  t: True\n  f: FALSE\n  i: -42\n  h: 0x1F\n"
                "  o: 0o17\n  r: 1.5e3\n  inf: .inf\n  nan: .NaN\n  q: \"12\"\n  yes: yes\n  big: "
                "123456789012345678901234\n"
                "  lit: |\n    two\n    lines\n"
                "tasks: [{id: a, agent: analyst}]\n");
    json_t *v = wf->variables;
    assert_true(json_is_null(json_object_get(v, "n")));
    assert_true(json_is_null(json_object_get(v, "e")));
    assert_true(json_is_true(json_object_get(v, "t")));
    assert_true(json_is_false(json_object_get(v, "f")));
    assert_int_equal(json_integer_value(json_object_get(v, "i")), -42);
    assert_int_equal(json_integer_value(json_object_get(v, "h")), 31);
    assert_int_equal(json_integer_value(json_object_get(v, "o")), 15);
    assert_true(json_real_value(json_object_get(v, "r")) == 1500.0);
    assert_string_equal(json_string_value(json_object_get(v, "inf")), ".inf"); /* JSON has none */
    assert_string_equal(json_string_value(json_object_get(v, "nan")), ".NaN");
    assert_string_equal(json_string_value(json_object_get(v, "q")), "12");
    assert_string_equal(json_string_value(json_object_get(v, "yes")), "yes"); /* YAML 1.2 */
    assert_true(json_is_real(json_object_get(v, "big")));
    assert_string_equal(json_string_value(json_object_get(v, "lit")), "two\nlines\n");
    workflow_free(wf);
}

/* ---- required keys, unknown keys, types, enums ---- */

static void required_keys(void **state) {
    (void)state;
    expect_err("tasks: [{id: a, agent: analyst}]\n", 1, 1, "a workflow needs a 'name'", NULL);
    expect_err("name: \"\"\ntasks: [{id: a, agent: analyst}]\n", 1, 7,
               "'name' must be 1 to 200 characters, got 0", NULL);
    strbuf_t sb = {0};
    sb_puts(&sb, "name: ");
    for (int i = 0; i < 201; i++) sb_puts(&sb, "\xc3\xa9"); /* 201 characters, 402 bytes */
    sb_puts(&sb, "\ntasks: [{id: a, agent: analyst}]\n");
    expect_err(sb_str(&sb), 1, 7, "'name' must be 1 to 200 characters, got 201", NULL);
    sb_reset(&sb);
    sb_puts(&sb, "name: ");
    for (int i = 0; i < 200; i++) sb_puts(&sb, "\xc3\xa9");
    sb_puts(&sb, "\ntasks: [{id: a, agent: analyst}]\n");
    workflow_free(load_ok(sb_str(&sb)));
    sb_free(&sb);
    expect_err("name: t\n", 1, 1, "a workflow needs 'tasks'", NULL);
    expect_err("name: t\ntasks: []\n", 2, 8, "'tasks' is empty", "at least one");
    expect_err("name: t\ntasks:\n  - {agent: analyst}\n", 3, 5, "task #1 needs an 'id'", NULL);
    expect_err("", 0, 0, "the document is empty", NULL);
    expect_err("- a\n- b\n", 1, 1, "expected a mapping at the top of the workflow, got a list",
               NULL);
    expect_err("name: t\ntasks:\n  build: {agent: analyst}\n", 3, 3,
               "expected a list for 'tasks', got a mapping", NULL);
    expect_err(HEAD "  - just a string\n", 3, 5, "expected a mapping for a task, got a string",
               NULL);
}

static void unknown_keys_everywhere(void **state) {
    (void)state;
    static const struct {
        const char *yaml;
        unsigned line, col;
        const char *msg, *hint;
    } cases[] = {
        {"name: t\ndescripton: x\ntasks: [{id: a, agent: analyst}]\n", 2, 1,
         "unknown key 'descripton' at the top level", "did you mean 'description'?"},
        {"name: t\ndefaults: {timeot: 5}\ntasks: [{id: a, agent: analyst}]\n", 2, 12,
         "unknown key 'timeot' in defaults", "did you mean 'timeout'?"},
        {"name: t\ndefaults: {retry_backoff: {intial: 1}}\ntasks: [{id: a, agent: analyst}]\n", 2,
         28, "unknown key 'intial' in retry_backoff", "did you mean 'initial'?"},
        {"name: t\nbudget: {max_cost: 1}\ntasks: [{id: a, agent: analyst}]\n", 2, 10,
         "unknown key 'max_cost' in budget", "max_cost_usd"},
        {"name: t\ninputs:\n  x: {type: string, requird: true}\ntasks: [{id: a, agent: analyst}]\n",
         3, 21, "unknown key 'requird' in input 'x'", "did you mean 'required'?"},
        {"name: t\ntriggers: {cron: x}\ntasks: [{id: a, agent: analyst}]\n", 2, 12,
         "unknown key 'cron' in triggers", "schedule"},
        {"name: t\ntriggers: {schedule: {cron: '* * * * *', tz: UTC}}\n"
         "tasks: [{id: a, agent: analyst}]\n",
         2, 42, "unknown key 'tz' in schedule", NULL},
        {"name: t\ntriggers: {on_push: {branch: [main]}}\ntasks: [{id: a, agent: analyst}]\n", 2,
         22, "unknown key 'branch' in on_push", "did you mean 'branches'?"},
        {HEAD "  - {id: a, agent: analyst, dependson: [b]}\n", 3, 29,
         "unknown key 'dependson' in task 'a'", "did you mean 'depends_on'?"},
        {HEAD "  - {id: a, agent: analyst, conditions: [{if: '{{true}}', than: skip}]}\n", 3, 59,
         "unknown key 'than' in condition", "did you mean 'then'?"},
        {HEAD "  - {id: a, agent: analyst, approval: {aprovers: [x]}}\n", 3, 40,
         "unknown key 'aprovers' in approval", "did you mean 'approvers'?"},
        {HEAD "  - {id: a, agent: analyst, loop: {until: '{{true}}', max_iteration: 2}}\n", 3, 55,
         "unknown key 'max_iteration' in loop", "did you mean 'max_iterations'?"},
        {"name: t\nagents:\n  x: {nmae: X}\ntasks: [{id: a, agent: x}]\n", 3, 7,
         "unknown key 'nmae' in agent 'x'", "did you mean 'name'?"},
        {"name: t\nagents:\n  x: {output: {fromat: json}}\ntasks: [{id: a, agent: x}]\n", 3, 16,
         "unknown key 'fromat' in the output of agent 'x'", "did you mean 'format'?"},
        {HEAD "  - {id: m, type: map, over: '{{[1]}}', task: {agent: analyst, promt: x}}\n", 3, 64,
         "unknown key 'promt' in the body of map task 'm'", "did you mean 'prompt'?"},
        {HEAD "  - {id: h, type: human, titel: x}\n", 3, 26, "unknown key 'titel' in task 'h'",
         "did you mean 'title'?"},
        {HEAD "  - {id: v, type: consensus, agents: [analyst, analyst], question: q, "
              "options: [a, b], methd: majority}\n",
         3, 88, "unknown key 'methd' in task 'v'", "did you mean 'method'?"},
        {HEAD "  - {id: f, type: tool, tool: http_fetch, arg: {}}\n", 3, 43,
         "unknown key 'arg' in task 'f'", "did you mean 'args'?"},
        {HEAD "  - {id: s, type: subflow, workflow: content_creation, input: {}}\n", 3, 56,
         "unknown key 'input' in task 's'", "did you mean 'inputs'?"},
        /* keys of another task type */
        {HEAD "  - {id: a, agent: analyst, over: x}\n", 3, 29,
         "'over' is not used by agent tasks (task 'a')", "set 'type: map'"},
        {HEAD "  - {id: h, type: human, prompt: x}\n", 3, 26,
         "'prompt' is not used by human tasks (task 'h')", "type: agent"},
        {HEAD "  - {id: h, agent: human_review, approval: {timeout: 1h}}\n", 3, 34,
         "'approval' is not used by human tasks", NULL},
        /* a human task is a person's step: requires_approval cannot turn that off */
        {HEAD "  - {id: h, agent: human_review, requires_approval: false}\n", 3, 53,
         "requires_approval: false on human task 'h'", "always waits for a person"},
        {HEAD "  - {id: m, type: map, over: '{{[1]}}', task: {agent: analyst, depends_on: [x]}}\n",
         3, 64, "'depends_on' is not used in the body of map task 'm'", "map task itself"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_err(cases[i].yaml, cases[i].line, cases[i].col, cases[i].msg, cases[i].hint);
}

static void wrong_types(void **state) {
    (void)state;
    static const struct {
        const char *yaml;
        unsigned line, col;
        const char *msg;
    } cases[] = {
        {HEAD "  - {id: a, agent: analyst, timeout: [1]}\n", 3, 38,
         "expected a duration for 'timeout', got a list"},
        {HEAD "  - {id: a, agent: analyst, timeout: soon}\n", 3, 38,
         "invalid duration 'soon' for 'timeout'"},
        {HEAD "  - {id: a, agent: analyst, timeout: -5}\n", 3, 38,
         "'timeout' must be greater than 0"},
        {HEAD "  - {id: a, agent: analyst, max_retries: '3'}\n", 3, 42,
         "expected an integer for 'max_retries', got a string"},
        {HEAD "  - {id: a, agent: analyst, max_retries: 2.5}\n", 3, 42,
         "expected an integer for 'max_retries', got a number"},
        {HEAD "  - {id: a, agent: analyst, max_retries: 1000}\n", 3, 42,
         "'max_retries' must be between 0 and 100, got 1000"},
        {HEAD "  - {id: a, agent: analyst, requires_approval: yes}\n", 3, 48,
         "expected a boolean (true or false) for 'requires_approval', got a string"},
        {HEAD "  - {id: a, agent: analyst, depends_on: {b: 1}}\n", 3, 41,
         "expected a list of strings for 'depends_on', got a mapping"},
        {HEAD "  - {id: a, agent: analyst, depends_on: [[b]]}\n", 3, 42,
         "expected a non-empty string in 'depends_on', got a list"},
        {HEAD "  - {id: a, agent: analyst, inputs: [1, 2]}\n", 3, 37,
         "expected a mapping for 'inputs', got a list"},
        {HEAD "  - {id: a, agent: analyst, prompt: {x: 1}}\n", 3, 37,
         "expected a string for 'prompt', got a mapping"},
        {HEAD "  - {id: a, agent: analyst, estimated_cost: cheap}\n", 3, 45,
         "expected a number for 'estimated_cost', got a string"},
        {HEAD "  - {id: a, agent: analyst, conditions: {if: x}}\n", 3, 41,
         "expected a list for 'conditions', got a mapping"},
        {HEAD "  - {id: a, agent: analyst, conditions: [yes]}\n", 3, 42,
         "expected a mapping for a condition, got a string"},
        {HEAD "  - {id: a, agent: analyst, model: fastest}\n", 3, 36, "unknown model 'fastest'"},
        {HEAD "  - {id: a, agent: analyst, model: [fast]}\n", 3, 37,
         "expected provider/model in 'model'"},
        {HEAD "  - {id: a, agent: analyst, artifact: ../etc/passwd}\n", 3, 39,
         "invalid artifact name '../etc/passwd'"},
        {HEAD "  - {id: m, type: map, over: '{{[1]}}', concurrency: 0, task: {agent: analyst}}\n",
         3, 54, "'concurrency' must be between 1 and 100000, got 0"},
        {"name: [x]\ntasks: [{id: a, agent: analyst}]\n", 1, 7,
         "expected a string for 'name', got a list"},
        {"name: t\nconcurrency: many\ntasks: [{id: a, agent: analyst}]\n", 2, 14,
         "expected an integer for 'concurrency', got a string"},
        {"name: t\nconcurrency: 100001\ntasks: [{id: a, agent: analyst}]\n", 2, 14,
         "'concurrency' must be between 1 and 100000"},
        {"name: t\nvariables: [a]\ntasks: [{id: a, agent: analyst}]\n", 2, 12,
         "expected a mapping for 'variables', got a list"},
        {"name: t\nbudget: {max_cost_usd: -1}\ntasks: [{id: a, agent: analyst}]\n", 2, 24,
         "'max_cost_usd' must be between 0 and"},
        {"name: t\nbudget: {on_exceed: fail}\ntasks: [{id: a, agent: analyst}]\n", 2, 9,
         "budget needs 'max_cost_usd'"},
        {"name: t\ndefaults: {retry_backoff: {factor: 0.5}}\ntasks: [{id: a, agent: analyst}]\n", 2,
         36, "'factor' must be between 1 and 100, got 0.5"},
        {"name: t\ndefaults: {retry_backoff: {initial: 10s, max: 5s}}\n"
         "tasks: [{id: a, agent: analyst}]\n",
         2, 47, "retry_backoff 'max' (5s) is below 'initial'"},
        {"name: t\ndefaults: {retry_backoff: {jitter: 1}}\ntasks: [{id: a, agent: analyst}]\n", 2,
         36, "expected a boolean (true or false) for 'jitter', got a number"},
        {"name: t\ninputs:\n  n: {type: integer, default: ten}\ntasks: [{id: a, agent: analyst}]\n",
         3, 31, "default of input 'n' is a string, not integer"},
        {"name: t\ninputs:\n  n: string\ntasks: [{id: a, agent: analyst}]\n", 3, 6,
         "expected a mapping for input 'n', got a string"},
        {"name: t\ntriggers: {schedule: {cron: '61 * * * *'}}\ntasks: [{id: a, agent: analyst}]\n",
         2, 29, "invalid cron expression '61 * * * *': the minute field is not valid"},
        {"name: t\ntriggers: {schedule: {cron: '* * *'}}\ntasks: [{id: a, agent: analyst}]\n", 2,
         29, "invalid cron expression '* * *': it needs 5 fields"},
        {"name: t\ntriggers: {schedule: {timezone: UTC}}\ntasks: [{id: a, agent: analyst}]\n", 2,
         22, "schedule needs 'cron'"},
        {"name: t\nagents:\n  x: {temperature: 3}\ntasks: [{id: a, agent: x}]\n", 3, 20,
         "'temperature' must be between 0 and 2, got 3"},
        {"name: t\nagents:\n  x: {max_tokens: lots}\ntasks: [{id: a, agent: x}]\n", 3, 19,
         "expected an integer for 'max_tokens', got a string"},
        {"name: t\nagents:\n  x: {tools: http_fetch}\ntasks: [{id: a, agent: x}]\n", 3, 14,
         "expected a list of strings for 'tools', got a string"},
        {"name: t\nagents:\n  x: [a]\ntasks: [{id: a, agent: x}]\n", 3, 6,
         "expected a mapping for 'x', got a list"},
        {"name: t\nagents:\n  x: {output: {schema: {type: object}}}\ntasks: [{id: a, agent: x}]\n",
         3, 24, "agent 'x' has an output schema but its format is not json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_err(cases[i].yaml, cases[i].line, cases[i].col, cases[i].msg, NULL);
}

static void enums_with_hints(void **state) {
    (void)state;
    expect_err(HEAD "  - {id: a, type: agnet, agent: analyst}\n", 3, 19,
               "invalid type 'agnet' (expected one of: agent, human, consensus, map, tool, "
               "subflow)",
               "did you mean 'agent'?");
    expect_err(HEAD "  - {id: a, agent: analyst, conditions: [{if: '{{true}}', then: excute}]}\n",
               3, 65, "invalid then 'excute'", "did you mean 'execute'?");
    expect_err(HEAD "  - {id: a, agent: analyst, conditions: [{if: '{{true}}', else: skp}]}\n", 3,
               65, "invalid else 'skp'", "did you mean 'skip'?");
    expect_err(HEAD "  - {id: a, agent: analyst, on_failure: contineu}\n", 3, 41,
               "invalid on_failure 'contineu'", "did you mean 'continue'?");
    expect_err("name: t\nbudget: {max_cost_usd: 1, on_exceed: pasue}\n"
               "tasks: [{id: a, agent: analyst}]\n",
               2, 38, "invalid on_exceed 'pasue'", "did you mean 'pause'?");
    expect_err(HEAD "  - {id: h, type: human, kind: desicion}\n", 3, 32, "invalid kind 'desicion'",
               "did you mean 'decision'?");
    expect_err(HEAD "  - {id: h, type: human, on_timeout: rejct}\n", 3, 38,
               "invalid on_timeout 'rejct'", "did you mean 'reject'?");
    expect_err(HEAD "  - {id: v, type: consensus, agents: [analyst, analyst], question: q, "
                    "options: [a, b], method: majorty}\n",
               3, 96, "invalid method 'majorty'", "did you mean 'majority'?");
    expect_err(HEAD "  - {id: v, type: consensus, agents: [analyst, analyst], question: q, "
                    "options: [a, b], on_no_consensus: humn}\n",
               3, 105, "invalid on_no_consensus 'humn'", "did you mean 'human'?");
    expect_err("name: t\nagents:\n  x: {output: {format: jsn}}\ntasks: [{id: a, agent: x}]\n", 3,
               24, "invalid format 'jsn'", "did you mean 'json'?");
    expect_err("name: t\ninputs:\n  x: {type: strin}\ntasks: [{id: a, agent: analyst}]\n", 3, 13,
               "invalid type 'strin'", "did you mean 'string'?");
}

/* The workflow language's human step: `agent: human_review` with requires_approval and
 * inputs (its context for the reviewer) loads as a human task; the flag asks for nothing more. */
static void human_task_inputs(void **state) {
    (void)state;
    workflow_t *wf = load_ok(HEAD "  - {id: a, agent: analyst}\n"
                                  "  - id: \"human_review\"\n"
                                  "    name: \"Senior Developer Review\"\n"
                                  "    agent: \"human_review\"\n"
                                  "    depends_on: [\"a\"]\n"
                                  "    requires_approval: true\n"
                                  "    inputs:\n"
                                  "      review_context:\n"
                                  "        code_quality: \"{{tasks.a.outputs.score}}\"\n");
    const wf_task_t *t = workflow_task(wf, "human_review");
    assert_int_equal(t->type, TASK_HUMAN);
    assert_false(t->requires_approval);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(t->inputs, "review_context"), "code_quality")),
                        "{{tasks.a.outputs.score}}");
    workflow_free(wf);
    /* its inputs are templates like any task's: names are checked */
    expect_err(HEAD "  - {id: h, type: human, inputs: {x: \"{{tasks.nope.output}}\"}}\n", 3, 41,
               "unknown task 'nope'", NULL);
}

static void task_type_requirements(void **state) {
    (void)state;
    expect_err(HEAD "  - {id: a, type: agent}\n", 3, 5, "task 'a' of type agent needs an 'agent'",
               NULL);
    expect_err(HEAD "  - {id: h, type: human, kind: decision}\n", 3, 5,
               "human task 'h' of kind decision needs 'options'", NULL);
    expect_err(HEAD "  - {id: h, type: human, agent: analyst}\n", 3, 33,
               "a human task takes no agent other than human_review", NULL);
    expect_err(HEAD
               "  - {id: v, type: consensus, agents: [analyst], question: q, options: [a, b]}\n",
               3, 38, "consensus task 'v' needs at least 2 'agents'", NULL);
    expect_err(HEAD "  - {id: v, type: consensus, agents: [analyst, analyst], options: [a, b]}\n",
               3, 5, "consensus task 'v' needs a 'question'", NULL);
    expect_err(HEAD "  - {id: v, type: consensus, agents: [analyst, analyst], question: q}\n", 3, 5,
               "consensus task 'v' needs at least 2 'options'", NULL);
    expect_err(HEAD "  - {id: m, type: map, task: {agent: analyst}}\n", 3, 5,
               "map task 'm' needs 'over'", NULL);
    expect_err(HEAD "  - {id: m, type: map, over: '{{[1]}}'}\n", 3, 5,
               "map task 'm' needs a 'task'", NULL);
    expect_err(HEAD "  - {id: m, type: map, over: '{{[1]}}', task: {type: agent}}\n", 3, 47,
               "task 'm' of type agent needs an 'agent'", NULL);
    expect_err(HEAD "  - {id: f, type: tool}\n", 3, 5, "tool task 'f' needs a 'tool'", NULL);
    expect_err(HEAD "  - {id: s, type: subflow}\n", 3, 5, "subflow task 's' needs a 'workflow'",
               NULL);
    expect_err(HEAD "  - {id: s, type: subflow, workflow: content_creaton}\n", 3, 38,
               "unknown workflow 'content_creaton'", NULL);
    expect_err(HEAD "  - {id: s, type: subflow, workflow: ../x}\n", 3, 38,
               "invalid workflow name '../x'", NULL);
    expect_err(HEAD "  - {id: h, type: human, options: [a, a]}\n", 3, 39, "duplicate option 'a'",
               NULL);
    expect_err(HEAD "  - {id: a, agent: analyst, loop: {max_iterations: 2}}\n", 3, 35,
               "loop needs 'until'", NULL);
    expect_err(HEAD "  - {id: a, agent: analyst, conditions: [{then: skip}]}\n", 3, 42,
               "condition needs 'if'", NULL);
    /* subflow names are only checked for syntax without a callback */
    diag_list_t dl = {0};
    const char *y = HEAD "  - {id: s, type: subflow, workflow: anything}\n";
    workflow_t *wf = workflow_load(y, strlen(y), "wf.yaml", &cat, NULL, NULL, &dl);
    assert_non_null(wf);
    workflow_free(wf);
    diag_list_free(&dl);
}

static void ids(void **state) {
    (void)state;
    expect_err(HEAD "  - {id: Build, agent: analyst}\n", 3, 10, "invalid task id 'Build'",
               "did you mean 'build'?");
    expect_err(HEAD "  - {id: \"a.b\", agent: analyst}\n", 3, 10, "invalid task id 'a.b'",
               "lowercase letters");
    strbuf_t sb = {0};
    sb_puts(&sb, HEAD "  - {id: ");
    for (int i = 0; i < 65; i++) sb_putc(&sb, 'x');
    sb_puts(&sb, ", agent: analyst}\n");
    expect_err(sb_str(&sb), 3, 10, "invalid task id 'xxxx", NULL);
    sb_free(&sb);
    expect_err(HEAD "  - {id: a, agent: analyst}\n  - {id: b, agent: analyst}\n"
                    "  - id: a\n    agent: analyst\n",
               5, 9, "duplicate task id 'a' (first defined at line 3)", NULL);
    workflow_free(load_ok(HEAD "  - {id: a-b_9, agent: analyst}\n  - {id: '7', agent: analyst}\n"));
}

/* ---- several errors at once ---- */

static void several_errors_reported(void **state) {
    (void)state;
    diag_list_t dl = {0};
    const char *y = "name: t\n"
                    "concurrency: 0\n"
                    "tasks:\n"
                    "  - id: a\n"
                    "    agent: analyst\n"
                    "    timeot: 5\n"
                    "  - id: a\n"
                    "    agent: nobody\n"
                    "    depends_on: [zzz]\n"
                    "    prompt: \"{{ tasks.a.outputs. }}\"\n";
    assert_null(load(y, &dl));
    assert_true(dl.n >= 6);
    find_diag(&dl, "'concurrency' must be between");
    find_diag(&dl, "unknown key 'timeot'");
    find_diag(&dl, "duplicate task id 'a'");
    find_diag(&dl, "unknown agent 'nobody'");
    find_diag(&dl, "unknown task 'zzz'");
    find_diag(&dl, "invalid template in 'prompt'");
    for (size_t i = 1; i < dl.n; i++) /* sorted by position */
        assert_true(dl.items[i - 1].loc.line <= dl.items[i].loc.line);
    diag_list_free(&dl);

    /* a caller's earlier diagnostics stay first and untouched */
    diag_list_t mixed = {0};
    diag_add(&mixed, "zzz.yaml", (src_loc_t){9, 9}, NULL, "earlier");
    assert_null(load("name: t\nbad: 1\ntasks: [{id: a, agent: analyst}]\n", &mixed));
    assert_int_equal(mixed.n, 2);
    assert_string_equal(mixed.items[0].message, "earlier");
    diag_list_free(&mixed);
}

/* ---- limits (spec section 8) ---- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void limit_document_size(void **state) {
    (void)state;
    size_t n = WF_MAX_DOC_BYTES + 1;
    char *big = malloc(n);
    memset(big, '#', n); /* a comment: valid YAML, but too big to look at */
    diag_list_t dl = {0};
    assert_null(workflow_load(big, n, "wf.yaml", &cat, NULL, NULL, &dl));
    assert_int_equal(dl.n, 1);
    assert_string_equal(dl.items[0].message, "document is larger than 1 MiB (1048577 bytes)");
    assert_int_equal(dl.items[0].loc.line, 0);
    diag_list_free(&dl);
    free(big);
}

static void limit_depth(void **state) {
    (void)state;
    strbuf_t sb = {0};
    sb_puts(&sb, "name: t\ntasks: [{id: a, agent: analyst, inputs: {x: ");
    /* the root mapping, the tasks list, the task and inputs are 4 levels: 60 more make 64 */
    for (int i = 0; i < 60; i++) sb_putc(&sb, '[');
    for (int i = 0; i < 60; i++) sb_putc(&sb, ']');
    sb_puts(&sb, "}}]\n");
    workflow_free(load_ok(sb_str(&sb)));
    sb_reset(&sb);
    sb_puts(&sb, "name: t\ntasks: [{id: a, agent: analyst, inputs: {x: ");
    for (int i = 0; i < 61; i++) sb_putc(&sb, '[');
    for (int i = 0; i < 61; i++) sb_putc(&sb, ']');
    sb_puts(&sb, "}}]\n");
    expect_err(sb_str(&sb), 2, 105, "nesting deeper than 64 levels", NULL);
    sb_free(&sb);
    /* deep block nesting too, and through an alias that would go deeper where it is used */
    sb_puts(&sb, "x:\n");
    for (int i = 1; i <= 70; i++) {
        for (int j = 0; j < i; j++) sb_puts(&sb, " ");
        sb_puts(&sb, "x:\n");
    }
    expect_err(sb_str(&sb), 65, 65, "nesting deeper than 64 levels", NULL);
    sb_reset(&sb);
    sb_puts(&sb, "name: t\nvariables:\n  deep: &d ");
    for (int i = 0; i < 40; i++) sb_putc(&sb, '[');
    for (int i = 0; i < 40; i++) sb_putc(&sb, ']');
    sb_puts(&sb, "\n  more: ");
    for (int i = 0; i < 30; i++) sb_putc(&sb, '[');
    sb_puts(&sb, "*d");
    for (int i = 0; i < 30; i++) sb_putc(&sb, ']');
    sb_puts(&sb, "\ntasks: [{id: a, agent: analyst}]\n");
    expect_err(sb_str(&sb), 4, 39, "nesting deeper than 64 levels (through an alias)", NULL);
    sb_free(&sb);
}

static void limit_tasks(void **state) {
    (void)state;
    strbuf_t sb = {0};
    sb_puts(&sb, "name: many\ntasks:\n");
    for (int i = 0; i < WF_MAX_TASKS; i++)
        if (i)
            sb_printf(&sb, "  - {id: t%d, agent: analyst, depends_on: t%d}\n", i, i - 1);
        else
            sb_puts(&sb, "  - {id: t0, agent: analyst}\n");
    /* 10,000 tasks in a chain load, and quickly */
    double t0 = now_s();
    workflow_t *wf = load_ok(sb_str(&sb));
    assert_int_equal(wf->n_tasks, WF_MAX_TASKS);
    assert_int_equal(wf->tasks[WF_MAX_TASKS - 1].dep_index[0], WF_MAX_TASKS - 2);
    workflow_free(wf);
    assert_true(now_s() - t0 < 5.0);
    sb_puts(&sb, "  - {id: one_more, agent: analyst}\n");
    expect_err(sb_str(&sb), 3, 3, "too many tasks: 10001 (at most 10000)", "subflows");
    sb_free(&sb);
}

static void limit_billion_laughs(void **state) {
    (void)state;
    strbuf_t sb = {0};
    sb_puts(&sb, "name: lol\nvariables:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (char c = 'b'; c <= 'j'; c++)
        sb_printf(&sb, "  %c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", c, c, c - 1,
                  c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
    sb_puts(&sb, "tasks: [{id: a, agent: analyst, inputs: {boom: *j}}]\n");
    double t0 = now_s();
    diag_list_t dl = {0};
    assert_null(load(sb_str(&sb), &dl));
    assert_true(now_s() - t0 < 0.5);
    const diag_t *d = find_diag(&dl, "YAML aliases expand to more than 10000 nodes");
    assert_int_equal(d->loc.line, 7); /* the first alias that goes over: inside `e` */
    assert_int_equal(dl.n, 1);
    diag_list_free(&dl);
    sb_free(&sb);
    /* a quadratic-blowup variant: one big anchored list reused many times */
    sb_puts(&sb, "name: q\nvariables:\n  a: &a [");
    for (int i = 0; i < 2000; i++) sb_puts(&sb, i ? ", x" : "x");
    sb_puts(&sb, "]\n  b: [*a, *a, *a, *a, *a, *a]\ntasks: [{id: a, agent: analyst}]\n");
    expect_err(sb_str(&sb), 4, 23, "YAML aliases expand to more than 10000 nodes", NULL);
    sb_free(&sb);
}

static void limit_string(void **state) {
    (void)state;
    strbuf_t sb = {0};
    sb_puts(&sb, "name: t\ntasks:\n  - id: a\n    agent: analyst\n    prompt: ");
    for (size_t i = 0; i < WF_MAX_STRING; i++) sb_putc(&sb, 'a');
    sb_puts(&sb, "\n");
    workflow_t *wf = load_ok(sb_str(&sb)); /* exactly 256 KiB is fine */
    assert_int_equal(strlen(wf->tasks[0].prompt.src), WF_MAX_STRING);
    workflow_free(wf);
    sb_reset(&sb);
    sb_puts(&sb, "name: t\ntasks:\n  - id: a\n    agent: analyst\n    prompt: \"");
    for (size_t i = 0; i <= WF_MAX_STRING; i++) sb_putc(&sb, 'a');
    sb_puts(&sb, "\"\n");
    expect_err(sb_str(&sb), 5, 13, "string longer than 256 KiB", NULL);
    sb_free(&sb);
}

static void too_many_errors_are_capped(void **state) {
    (void)state;
    strbuf_t sb = {0};
    sb_puts(&sb, "name: t\ntasks:\n");
    for (int i = 0; i < 3000; i++) sb_printf(&sb, "  - {id: t%d, agent: nobody%d}\n", i, i);
    diag_list_t dl = {0};
    assert_null(load(sb_str(&sb), &dl));
    assert_true(dl.n <= 1001);
    find_diag(&dl, "too many errors; stopping after 1000");
    diag_list_free(&dl);
    sb_free(&sb);
}

/* ---- the yaml tree's own promises ---- */

static void yaml_tree_positions(void **state) {
    (void)state;
    const char *src = "a: \"x\\ty {{ q }}\"\n"
                      "b: 'it''s {{ q }}'\n"
                      "c: |\n  first\n    second {{ q }}\n"
                      "d: >\n  folded\n  text {{ q }}\n"
                      "e: plain\n  continued {{ q }}\n";
    yaml_tree_t t;
    diag_list_t dl = {0};
    assert_int_equal(yaml_tree_parse(&t, src, strlen(src), "t.yaml", &dl), 0);
    assert_int_equal(dl.n, 0);
    static const struct {
        const char *key;
        unsigned line, col;
    } want[] = {{"a", 1, 13}, {"b", 2, 14}, {"c", 5, 15}, {"d", 8, 11}, {"e", 10, 16}};
    for (size_t i = 0; i < 5; i++) {
        const yt_node_t *n = yaml_tree_get(t.root, want[i].key);
        const char *q = strstr(n->scalar.str, "{{");
        src_loc_t l = yaml_tree_offset_loc(&t, n, (size_t)(q - n->scalar.str) + 3);
        if (l.line != want[i].line || l.col != want[i].col)
            fprintf(stderr, "%s: %u:%u, expected %u:%u\n", want[i].key, l.line, l.col, want[i].line,
                    want[i].col);
        assert_int_equal(l.line, want[i].line);
        assert_int_equal(l.col, want[i].col);
    }
    yaml_tree_free(&t);
}

/* ---- catalog ---- */

static void catalog_loading(void **state) {
    (void)state;
    agent_catalog_t c = {0};
    diag_list_t dl = {0};
    const char *a =
        "name: Architect\nrole: Technical architect\ngoal: Design\n"
        "instructions: |\n  You design systems.\nmodel: [local/llama3.1, openai/gpt-4o]\n"
        "temperature: 0.1\nmax_tokens: 900\nword_limit: 500\n"
        "tools: [http_fetch, read_artifact]\nquality_threshold: 0.5\n"
        "output: {format: markdown, artifact: architecture.md}\n";
    assert_int_equal(catalog_add_yaml(&c, a, strlen(a), "agents/architect.yaml", &dl), 0);
    const char *h = "id: human_review\nname: Human\n";
    assert_int_equal(catalog_add_yaml(&c, h, strlen(h), "agents/whatever.yml", &dl), 0);
    assert_int_equal(dl.n, 0);
    assert_int_equal(c.n, 2);
    const wf_agent_t *ar = catalog_agent(&c, "architect"); /* id from the file name */
    assert_non_null(ar);
    assert_string_equal(ar->name, "Architect");
    assert_string_equal(ar->instructions, "You design systems.\n");
    assert_int_equal(json_array_size(ar->model), 2);
    assert_true(ar->temperature == 0.1);
    assert_int_equal(ar->max_tokens, 900);
    assert_int_equal(ar->word_limit, 500);
    assert_int_equal(ar->n_tools, 2);
    assert_string_equal(ar->tools[1], "read_artifact");
    assert_true(ar->quality_threshold == 0.5);
    assert_string_equal(ar->artifact, "architecture.md");
    assert_string_equal(ar->file, "agents/architect.yaml");
    assert_false(ar->is_human);
    assert_true(catalog_agent(&c, "human_review")->is_human);
    assert_null(catalog_agent(&c, "nobody"));

    /* errors: each leaves the catalog as it was */
    static const struct {
        const char *text, *file;
        unsigned line, col;
        const char *msg;
    } bad[] = {
        {"name: A\ntools: [http_fech]\n", "agents/a.yaml", 2, 9, "unknown tool 'http_fech'"},
        {"name: A\nrole: [x]\n", "agents/a.yaml", 2, 7, "expected a string for 'role', got a list"},
        {"name: A\noutput: {format: json, schema: {type: objekt}}\n", "agents/a.yaml", 2, 33,
         "invalid output schema"},
        {"name: A\ncolour: red\n", "agents/a.yaml", 2, 1, "unknown key 'colour' in agent 'a'"},
        {"name: Again\n", "agents/architect.yaml", 1, 1,
         "agent 'architect' is already defined in agents/architect.yaml"},
        {"id: Big\n", "agents/x.yaml", 1, 5, "invalid agent id 'Big'"},
        {"- a\n", "agents/x.yaml", 1, 1, "expected a mapping for the agent, got a list"},
        {"name: [\n", "agents/x.yaml", 2, 1, "invalid YAML"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        diag_list_t d = {0};
        assert_int_equal(catalog_add_yaml(&c, bad[i].text, strlen(bad[i].text), bad[i].file, &d),
                         -1);
        const diag_t *x = find_diag(&d, bad[i].msg);
        assert_string_equal(x->file, bad[i].file);
        assert_int_equal(x->loc.line, bad[i].line);
        assert_int_equal(x->loc.col, bad[i].col);
        diag_list_free(&d);
    }
    assert_int_equal(c.n, 2);

    /* a workflow loaded against it keeps working after the catalog is gone */
    const char *y = "name: t\nagents:\n  architect: {temperature: 0.7}\n"
                    "tasks:\n  - {id: a, agent: architect}\n  - {id: r, agent: human_review}\n";
    workflow_t *wf = workflow_load(y, strlen(y), "wf.yaml", &c, NULL, NULL, &dl);
    assert_non_null(wf);
    catalog_free(&c);
    assert_string_equal(wf->tasks[0].agent->instructions, "You design systems.\n");
    assert_true(wf->tasks[0].agent->temperature == 0.7);
    assert_int_equal(json_array_size(wf->tasks[0].model), 2);
    assert_string_equal(wf->tasks[0].artifact, "architecture.md");
    assert_true(wf->tasks[0].quality_threshold == 0.5);
    assert_int_equal(wf->tasks[1].type, TASK_HUMAN);
    assert_string_equal(wf->tasks[1].agent->name, "Human");
    workflow_free(wf);
    diag_list_free(&dl);

    /* without any catalog, only inline agents exist */
    y = "name: t\ntasks:\n  - {id: a, agent: analyst}\n";
    assert_null(workflow_load(y, strlen(y), "wf.yaml", NULL, NULL, NULL, &dl));
    find_diag(&dl, "unknown agent 'analyst'");
    diag_list_free(&dl);
}

/* ---- durations ---- */

static void durations(void **state) {
    (void)state;
    static const struct {
        const char *s;
        double v;
    } ok[] = {
        {"300", 300},   {"5m", 300},      {"24h", 86400}, {"2s", 2},      {"1h30m", 5400},
        {"500ms", 0.5}, {"1.5h", 5400},   {"0.25", 0.25}, {"7d", 604800}, {"1m30s", 90},
        {"0s", 0},      {"1h0m0s", 3600}, {".5s", 0.5},   {"1.s", 1},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        double v = wf_parse_duration(ok[i].s);
        if (fabs(v - ok[i].v) > 1e-9) fprintf(stderr, "%s -> %g\n", ok[i].s, v);
        assert_true(fabs(v - ok[i].v) < 1e-9);
    }
    static const char *const bad[] = {"",     "m",    "5x",   "-5s", "1h30",   "1 h", "5 m",
                                      "1e3s", "..5s", "5ms5", "h1",  "1.2.3s", " 5s", "5s "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (wf_parse_duration(bad[i]) != -1) fprintf(stderr, "'%s' accepted\n", bad[i]);
        assert_true(wf_parse_duration(bad[i]) == -1);
    }
    /* numbers in YAML are seconds too */
    workflow_t *wf = load_ok(HEAD "  - {id: a, agent: analyst, timeout: 1.5}\n"
                                  "  - {id: b, agent: analyst, timeout: '90'}\n");
    assert_true(wf->tasks[0].timeout_s == 1.5);
    assert_true(wf->tasks[1].timeout_s == 90);
    workflow_free(wf);
    expect_err(HEAD "  - {id: a, agent: analyst, timeout: 400d}\n", 3, 38,
               "'timeout' is longer than 366 days", NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_workflow_loads),
        cmocka_unit_test(defaults_applied),
        cmocka_unit_test(null_means_unset),
        cmocka_unit_test(json_input_works),
        cmocka_unit_test(yaml_syntax_errors),
        cmocka_unit_test(yaml_features),
        cmocka_unit_test(yaml_aliases_share_values),
        cmocka_unit_test(core_schema_scalars),
        cmocka_unit_test(required_keys),
        cmocka_unit_test(unknown_keys_everywhere),
        cmocka_unit_test(wrong_types),
        cmocka_unit_test(enums_with_hints),
        cmocka_unit_test(task_type_requirements),
        cmocka_unit_test(human_task_inputs),
        cmocka_unit_test(ids),
        cmocka_unit_test(several_errors_reported),
        cmocka_unit_test(limit_document_size),
        cmocka_unit_test(limit_depth),
        cmocka_unit_test(limit_tasks),
        cmocka_unit_test(limit_billion_laughs),
        cmocka_unit_test(limit_string),
        cmocka_unit_test(too_many_errors_are_capped),
        cmocka_unit_test(yaml_tree_positions),
        cmocka_unit_test(catalog_loading),
        cmocka_unit_test(durations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
