/* test_validate.c - the semantic half of workflow validation (spec sections 2, 3, 8): unknown and
 * duplicate dependencies, cycles named once each, unknown agents and tools, template syntax
 * located at the exact line and column inside every kind of YAML string, and the names templates
 * may read (upstream tasks only, item/index in maps, iteration/previous in loops, declared
 * inputs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/workflow.h"
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static agent_catalog_t cat;

static int setup(void **state) {
    (void)state;
    static const char *const files[][2] = {
        {"agents/analyst.yaml", "name: Analyst\ninstructions: Analyse.\n"},
        {"agents/architect.yaml", "name: Architect\ninstructions: Design.\n"},
        {"agents/human_review.yaml", "name: Human review\n"},
    };
    diag_list_t dl = {0};
    for (size_t i = 0; i < 3; i++)
        if (catalog_add_yaml(&cat, files[i][1], strlen(files[i][1]), files[i][0], &dl)) return -1;
    diag_list_free(&dl);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    catalog_free(&cat);
    return 0;
}

static workflow_t *load(const char *yaml, diag_list_t *dl) {
    return workflow_load(yaml, strlen(yaml), "wf.yaml", &cat, NULL, NULL, dl);
}

static void print_diags(const diag_list_t *dl) {
    for (size_t i = 0; i < dl->n; i++)
        fprintf(stderr, "  %u:%u: %s [%s]\n", dl->items[i].loc.line, dl->items[i].loc.col,
                dl->items[i].message, dl->items[i].hint ? dl->items[i].hint : "");
}

static void expect_ok(const char *yaml) {
    diag_list_t dl = {0};
    workflow_t *wf = load(yaml, &dl);
    if (!wf) {
        fprintf(stderr, "unexpected errors in:\n%s", yaml);
        print_diags(&dl);
    }
    assert_non_null(wf);
    workflow_free(wf);
    diag_list_free(&dl);
}

static size_t count_diags(const diag_list_t *dl, const char *msg) {
    size_t n = 0;
    for (size_t i = 0; i < dl->n; i++) n += strstr(dl->items[i].message, msg) != NULL;
    return n;
}

/* Loading fails; exactly one error contains `msg`, at line:col, with `hint` in its hint. */
static void expect_err(const char *yaml, unsigned line, unsigned col, const char *msg,
                       const char *hint) {
    diag_list_t dl = {0};
    workflow_t *wf = load(yaml, &dl);
    assert_null(wf);
    const diag_t *d = NULL;
    for (size_t i = 0; i < dl.n && !d; i++)
        if (strstr(dl.items[i].message, msg)) d = &dl.items[i];
    if (!d || d->loc.line != line || d->loc.col != col || count_diags(&dl, msg) != 1 ||
        (hint && (!d->hint || !strstr(d->hint, hint)))) {
        fprintf(stderr, "wanted %u:%u \"%s\" [%s] once; got:\n", line, col, msg, hint ? hint : "");
        print_diags(&dl);
        fail();
    }
    diag_list_free(&dl);
}

#define HEAD "name: t\ntasks:\n"

/* ---- dependencies ---- */

static void unknown_dependencies(void **state) {
    (void)state;
    expect_err(HEAD "  - {id: build, agent: analyst}\n"
                    "  - {id: test, agent: analyst, depends_on: [biuld]}\n",
               4, 45, "unknown task 'biuld' in depends_on of task 'test'", "did you mean 'build'?");
    expect_err(HEAD "  - id: a\n    agent: analyst\n    depends_on:\n      - nothing_like_it\n", 6,
               9, "unknown task 'nothing_like_it'", "task ids of this workflow");
    expect_err(HEAD "  - {id: a, agent: analyst, depends_on: a}\n", 3, 41,
               "task 'a' depends on itself", NULL);
    expect_err(HEAD
               "  - {id: a, agent: analyst}\n  - {id: b, agent: analyst, depends_on: [a, a]}\n",
               4, 45, "duplicate dependency 'a' in task 'b'", NULL);
}

static void cycles(void **state) {
    (void)state;
    /* b runs after a, c after b, a after c */
    expect_err(HEAD "  - {id: a, agent: analyst, depends_on: [c]}\n"
                    "  - {id: b, agent: analyst, depends_on: [a]}\n"
                    "  - {id: c, agent: analyst, depends_on: [b]}\n",
               3, 42, "dependency cycle: a -> b -> c -> a", "remove one depends_on");
    /* two separate cycles: each reported once; a task that only follows one is not reported */
    diag_list_t dl = {0};
    assert_null(load(HEAD "  - {id: x, agent: analyst, depends_on: [y]}\n"
                          "  - {id: y, agent: analyst, depends_on: [x]}\n"
                          "  - {id: p, agent: analyst, depends_on: [q, x]}\n"
                          "  - {id: q, agent: analyst, depends_on: [r]}\n"
                          "  - {id: r, agent: analyst, depends_on: [p]}\n"
                          "  - {id: after, agent: analyst, depends_on: [r],\n"
                          "     prompt: '{{ tasks.x.output }}'}\n",
                     &dl));
    assert_int_equal(count_diags(&dl, "dependency cycle"), 2);
    assert_int_equal(count_diags(&dl, "dependency cycle: x -> y -> x"), 1);
    assert_int_equal(count_diags(&dl, "dependency cycle: p -> r -> q -> p"), 1);
    assert_int_equal(dl.n, 2);
    diag_list_free(&dl);
    /* one component with several cycles through it is one report, naming the shortest */
    assert_null(load(HEAD "  - {id: a, agent: analyst, depends_on: [d, b]}\n"
                          "  - {id: b, agent: analyst, depends_on: [c]}\n"
                          "  - {id: c, agent: analyst, depends_on: [a]}\n"
                          "  - {id: d, agent: analyst, depends_on: [a]}\n",
                     &dl));
    assert_int_equal(dl.n, 1);
    assert_string_equal(dl.items[0].message, "dependency cycle: a -> d -> a");
    assert_int_equal(dl.items[0].loc.line, 3);
    assert_int_equal(dl.items[0].loc.col, 42);
    diag_list_free(&dl);
    /* a long cycle is named in short */
    strbuf_t sb = {0};
    sb_puts(&sb, HEAD);
    for (int i = 0; i < 30; i++)
        sb_printf(&sb, "  - {id: t%d, agent: analyst, depends_on: [t%d]}\n", i, (i + 29) % 30);
    assert_null(load(sb_str(&sb), &dl));
    assert_int_equal(dl.n, 1);
    assert_string_equal(dl.items[0].message, "dependency cycle: t0 -> t1 -> t2 -> t3 -> t4 -> "
                                             "t5 -> t6 -> t7 -> t8 -> ... (20 more) -> t29 -> t0");
    diag_list_free(&dl);
    sb_free(&sb);
}

static void big_graphs_are_fast(void **state) {
    (void)state;
    /* 10,000 tasks, each reading a task far upstream: needs the transitive closure */
    strbuf_t sb = {0};
    sb_puts(&sb, HEAD "  - {id: t0, agent: analyst}\n");
    for (int i = 1; i < WF_MAX_TASKS; i++)
        sb_printf(&sb,
                  "  - {id: t%d, agent: analyst, depends_on: [t%d], prompt: '{{ tasks.t0.output "
                  "}}'}\n",
                  i, i - 1);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    expect_ok(sb_str(&sb));
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_true((double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < 5.0);
    /* one big cycle through all of them */
    sb_reset(&sb);
    sb_puts(&sb, HEAD);
    for (int i = 0; i < WF_MAX_TASKS; i++)
        sb_printf(&sb, "  - {id: t%d, agent: analyst, depends_on: [t%d]}\n", i,
                  (i + WF_MAX_TASKS - 1) % WF_MAX_TASKS);
    diag_list_t dl = {0};
    assert_null(load(sb_str(&sb), &dl));
    assert_int_equal(dl.n, 1);
    assert_non_null(strstr(dl.items[0].message, "(9990 more) -> t9999 -> t0"));
    diag_list_free(&dl);
    sb_free(&sb);
}

/* ---- agents and tools ---- */

static void unknown_agents(void **state) {
    (void)state;
    expect_err(HEAD "  - {id: a, agent: analist}\n", 3, 20, "unknown agent 'analist'",
               "did you mean 'analyst'?");
    expect_err("name: t\nagents:\n  reviewer_bot: {instructions: Review.}\n"
               "tasks:\n  - {id: a, agent: reviewr_bot}\n",
               5, 20, "unknown agent 'reviewr_bot'", "did you mean 'reviewer_bot'?");
    expect_err(HEAD "  - {id: a, agent: zzzzzz}\n", 3, 20, "unknown agent 'zzzzzz'",
               "under 'agents:'");
    expect_err(HEAD "  - {id: v, type: consensus, agents: [analyst, architekt], question: q, "
                    "options: [y, n]}\n",
               3, 48, "unknown agent 'architekt'", "did you mean 'architect'?");
    expect_err(HEAD "  - {id: v, type: consensus, agents: [analyst, human_review], question: q, "
                    "options: [y, n]}\n",
               3, 48, "human_review cannot vote in a consensus", NULL);
    expect_err(HEAD "  - {id: m, type: map, over: '{{ [1] }}', task: {agent: anallyst}}\n", 3, 57,
               "unknown agent 'anallyst'", "did you mean 'analyst'?");
    /* human_review works even without a catalog entry, and makes the task human */
    diag_list_t dl = {0};
    const char *y = HEAD "  - {id: r, agent: human_review}\n";
    workflow_t *wf = workflow_load(y, strlen(y), "wf.yaml", NULL, NULL, NULL, &dl);
    assert_non_null(wf);
    assert_int_equal(wf->tasks[0].type, TASK_HUMAN);
    assert_null(wf->tasks[0].agent);
    workflow_free(wf);
    diag_list_free(&dl);
}

static void unknown_tools(void **state) {
    (void)state;
    expect_err(HEAD "  - {id: f, type: tool, tool: http_fetsh}\n", 3, 31,
               "unknown tool 'http_fetsh'", "did you mean 'http_fetch'?");
    expect_err(HEAD "  - {id: f, type: tool, tool: shell}\n", 3, 31, "unknown tool 'shell'",
               "http_fetch, read_artifact, write_artifact, ask_human");
    expect_err("name: t\nagents:\n  w: {tools: [read_artifact, writeartifact]}\n"
               "tasks: [{id: a, agent: w}]\n",
               3, 30, "unknown tool 'writeartifact'", "did you mean 'write_artifact'?");
    expect_ok("name: t\nagents:\n  w: {tools: [http_fetch, read_artifact, write_artifact, "
              "ask_human]}\ntasks: [{id: a, agent: w}, {id: f, type: tool, tool: ask_human}]\n");
}

/* ---- template syntax, located inside each kind of string ---- */

static void template_syntax_positions(void **state) {
    (void)state;
    /* plain scalar: column of the scalar + byte offset */
    expect_err(HEAD "  - id: a\n    agent: analyst\n    prompt: Check {{ 1 + }} now\n", 5, 26,
               "invalid template in 'prompt'", NULL);
    /* double quotes: +1 for the quote, and an escape takes two source columns */
    expect_err(HEAD "  - id: a\n    agent: analyst\n    prompt: \"a\\tb {{ 1 + }}\"\n", 5, 26,
               "invalid template in 'prompt'", NULL);
    /* single quotes: '' is one character of the value */
    expect_err(HEAD "  - id: a\n    agent: analyst\n    prompt: 'it''s {{ 1 + }}'\n", 5, 27,
               "invalid template in 'prompt'", NULL);
    /* literal block: the line inside the block, and its indentation */
    expect_err(HEAD "  - id: a\n    agent: analyst\n    prompt: |\n      first line\n"
                    "        indented {{ 'ok' }}\n      third {{ 1 + }}\n",
               8, 20, "invalid template in 'prompt'", NULL);
    /* folded block */
    expect_err(HEAD "  - id: a\n    agent: analyst\n    prompt: >\n      one\n      two\n\n"
                    "      four {{ 1 + }}\n",
               9, 19, "invalid template in 'prompt'", NULL);
    /* a multi-line plain scalar */
    expect_err(HEAD "  - id: a\n    agent: analyst\n    prompt: first\n      second {{ 1 + }}\n", 6,
               21, "invalid template in 'prompt'", NULL);
    /* an unclosed hole and an unknown function are syntax errors too */
    expect_err(HEAD "  - {id: a, agent: analyst, prompt: 'x {{ 1'}\n", 3, 40,
               "invalid template in 'prompt'", NULL);
    expect_err(HEAD "  - {id: a, agent: analyst, prompt: '{{ lenn([1]) }}'}\n", 3, 41,
               "invalid template in 'prompt'", NULL);
    /* deep inside inputs */
    expect_err(HEAD "  - id: a\n    agent: analyst\n    inputs:\n      cfg:\n        list:\n"
                    "          - ok\n          - \"{{ ) }}\"\n",
               9, 17, "invalid template in 'inputs'", NULL);
}

static void templates_everywhere_are_checked(void **state) {
    (void)state;
    diag_list_t dl = {0};
    const char *y =
        "name: t\n"
        "tasks:\n"
        "  - {id: up, agent: analyst}\n" /* 3 */
        "  - id: a\n"
        "    agent: analyst\n"
        "    prompt: '{{ tasks.up.output }}'\n"             /* 6 */
        "    inputs: {x: '{{ tasks.up.output }}'}\n"        /* 7 */
        "    conditions: [{if: '{{ tasks.up.status }}'}]\n" /* 8 */
        "    loop: {until: '{{ tasks.up.output }}'}\n"      /* 9 */
        "  - id: h\n"
        "    type: human\n"
        "    title: '{{ tasks.up.output }}'\n"       /* 12 */
        "    description: '{{ tasks.up.output }}'\n" /* 13 */
        "  - {id: v, type: consensus, agents: [analyst, architect], options: [y, n],\n"
        "     question: '{{ tasks.up.output }}'}\n"                       /* 15 */
        "  - {id: m, type: map, over: '{{ tasks.up.output }}',\n"         /* 16 */
        "     task: {agent: analyst, prompt: '{{ tasks.up.output }}'}}\n" /* 17 */
        "  - {id: f, type: tool, tool: http_fetch, args: {url: '{{ tasks.up.output }}'}}\n"
        "  - {id: s, type: subflow, workflow: w, inputs: {d: '{{ tasks.up.cost }}'}}\n";
    assert_null(load(y, &dl));
    static const struct {
        unsigned line, col;
        const char *task;
    } want[] = {
        {6, 17, "a"},  {7, 21, "a"},  {8, 27, "a"},  {9, 23, "a"},  {12, 16, "h"}, {13, 22, "h"},
        {15, 20, "v"}, {16, 34, "m"}, {17, 41, "m"}, {18, 59, "f"}, {19, 57, "s"},
    };
    size_t n = sizeof want / sizeof *want;
    if (dl.n != n) print_diags(&dl);
    assert_int_equal(dl.n, n);
    for (size_t i = 0; i < n; i++) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "task '%s' reads tasks.up but up is not upstream of it; add it "
                 "to depends_on",
                 want[i].task);
        if (strcmp(dl.items[i].message, msg) || dl.items[i].loc.line != want[i].line ||
            dl.items[i].loc.col != want[i].col) {
            fprintf(stderr, "#%zu wanted %u:%u %s\n", i, want[i].line, want[i].col, msg);
            print_diags(&dl);
            fail();
        }
    }
    assert_non_null(strstr(dl.items[0].hint, "add 'up' to depends_on of task 'a'"));
    diag_list_free(&dl);
}

/* ---- names templates may read ---- */

static void upstream_rules(void **state) {
    (void)state;
    /* transitive upstream is fine */
    expect_ok(HEAD
              "  - {id: a, agent: analyst}\n  - {id: b, agent: analyst, depends_on: [a]}\n"
              "  - {id: c, agent: analyst, depends_on: [b], prompt: '{{ tasks.a.outputs.x }}'}\n");
    /* downstream is not */
    expect_err(HEAD "  - {id: a, agent: analyst, prompt: '{{ tasks.b.output }}'}\n"
                    "  - {id: b, agent: analyst, depends_on: [a]}\n",
               3, 41, "task 'a' reads tasks.b but b is not upstream of it; add it to depends_on",
               "add 'b' to depends_on of task 'a'");
    /* unknown task, with a hint */
    expect_err(
        HEAD
        "  - {id: build, agent: analyst}\n"
        "  - {id: b, agent: analyst, depends_on: [build], prompt: '{{ tasks.biuld.output }}'}\n",
        4, 62, "unknown task 'biuld'", "did you mean 'build'?");
    expect_err(HEAD "  - {id: a, agent: analyst, prompt: '{{ len(tasks) }}'}\n", 3, 45,
               "'tasks' must be followed by a task id", NULL);
    /* a task reading itself: only in its loop.until */
    expect_ok(HEAD "  - id: a\n    agent: analyst\n"
                   "    inputs: {last: '{{ previous }}', n: '{{ iteration }}'}\n"
                   "    loop: {until: '{{ tasks.a.outputs.done }}', max_iterations: 5}\n");
    expect_err(HEAD "  - id: a\n    agent: analyst\n    prompt: '{{ tasks.a.output }}'\n"
                    "    loop: {until: '{{ tasks.a.outputs.done }}'}\n",
               5, 17, "task 'a' reads its own result (tasks.a); only its loop.until may",
               "use 'previous'");
    expect_err(HEAD "  - {id: a, agent: analyst, prompt: '{{ iteration }}'}\n", 3, 41,
               "'iteration' is only available in a task with a loop", "add loop");
    expect_err(HEAD "  - {id: a, agent: analyst, prompt: '{{ previous.x }}'}\n", 3, 41,
               "'previous' is only available in a task with a loop", NULL);
}

static void map_scopes(void **state) {
    (void)state;
    const char *ok = HEAD "  - {id: list, agent: analyst}\n"
                          "  - id: each\n    type: map\n    depends_on: [list]\n"
                          "    over: '{{ tasks.list.outputs.items }}'\n"
                          "    task:\n      agent: analyst\n"
                          "      inputs: {it: '{{ item.name }}', i: '{{ index }}', "
                          "all: '{{ tasks.list.output }}'}\n";
    expect_ok(ok);
    expect_err(HEAD "  - {id: a, agent: analyst, prompt: '{{ item }}'}\n", 3, 41,
               "'item' is only available inside the body of a map task", NULL);
    expect_err(HEAD "  - {id: m, type: map, over: '{{ index }}', task: {agent: analyst}}\n", 3, 34,
               "'index' is only available inside the body of a map task", NULL);
    expect_err(HEAD "  - {id: x, agent: analyst}\n"
                    "  - {id: m, type: map, over: '{{ [1] }}', task: {agent: analyst, "
                    "prompt: '{{ tasks.x.output }}'}}\n",
               4, 78, "task 'm' reads tasks.x but x is not upstream of it", NULL);
    expect_err(HEAD "  - {id: m, type: map, over: '{{ [1] }}', task: {agent: analyst, "
                    "prompt: '{{ tasks.m.output }}'}}\n",
               3, 78, "task 'm' reads its own result", NULL);
}

static void inputs_variables_and_roots(void **state) {
    (void)state;
    const char *decl = "name: t\ninputs:\n  project_brief: {type: string}\n"
                       "variables:\n  branch: main\ntasks:\n";
    char y[512];
    snprintf(y, sizeof y, "%s  - {id: a, agent: analyst, prompt: '{{ inputs.project_brif }}'}\n",
             decl);
    expect_err(y, 7, 41, "unknown input 'project_brif'", "did you mean 'project_brief'?");
    snprintf(y, sizeof y, "%s  - {id: a, agent: analyst, prompt: '{{ variables.brnch }}'}\n", decl);
    expect_err(y, 7, 41, "unknown variable 'brnch'", "did you mean 'branch'?");
    snprintf(y, sizeof y,
             "%s  - {id: a, agent: analyst, prompt: '{{ inputs.project_brief }} "
             "{{ variables.branch }} {{ variables.project_brief }} {{ inputs }}'}\n",
             decl);
    expect_ok(y);
    /* without an inputs block, run inputs are free-form */
    expect_ok(HEAD
              "  - {id: a, agent: analyst, prompt: '{{ inputs.anything }} {{ variables.x }}'}\n");
    expect_err(HEAD "  - {id: a, agent: analyst, prompt: '{{ inputz.x }}'}\n", 3, 41,
               "unknown name 'inputz'", "did you mean 'inputs'?");
    expect_err(HEAD "  - {id: a, agent: analyst, prompt: '{{ run.idd }}'}\n", 3, 41,
               "unknown run field 'idd'", "did you mean 'id'?");
    expect_ok(HEAD "  - {id: a, agent: analyst, prompt: '{{ run.id }} {{ run.started_at }} "
                   "{{ artifacts.report }}'}\n");
}

static void conditions_must_be_expressions(void **state) {
    (void)state;
    expect_err(HEAD "  - {id: a, agent: analyst, conditions: [{if: tasks.x.ok}]}\n", 3, 47,
               "'if' must be a {{ expression }}; a plain string is always true", NULL);
    expect_err(HEAD "  - {id: a, agent: analyst, conditions: [{if: false}]}\n", 3, 47,
               "'if' must be a {{ expression }}", "{{ true }}");
    expect_err(HEAD "  - {id: a, agent: analyst, loop: {until: done}}\n", 3, 43,
               "'until' must be a {{ expression }}", NULL);
}

static void many_template_errors_at_once(void **state) {
    (void)state;
    diag_list_t dl = {0};
    assert_null(load(HEAD "  - id: a\n    agent: analyst\n"
                          "    prompt: '{{ item }} {{ iteration }} {{ nope }} {{ tasks.zz.x }}'\n"
                          "    inputs: {a: '{{ 1 + }}', b: '{{ inputs.x }}'}\n",
                     &dl));
    assert_int_equal(dl.n, 5);
    static const unsigned cols[] = {17, 28, 44, 55};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(dl.items[i].loc.line, 5);
        assert_int_equal(dl.items[i].loc.col, cols[i]);
    }
    assert_int_equal(dl.items[4].loc.line, 6);
    diag_list_free(&dl);
}

/* tasks.X.outputs.FIELD against the output schema of X's agent: checked when the schema is
 * closed (properties + additionalProperties: false), down nested closed objects, wherever a
 * template is written; left alone when the schema admits other keys or the outputs are not the
 * agent's (human, consensus, map). */
#define OUT_HEAD                                                                                   \
    "name: t\n"                                                                                    \
    "agents:\n"                                                                                    \
    "  scan:\n"                                                                                    \
    "    instructions: Scan.\n"                                                                    \
    "    output:\n"                                                                                \
    "      format: json\n"                                                                         \
    "      schema:\n"                                                                              \
    "        type: object\n"                                                                       \
    "        additionalProperties: false\n"                                                        \
    "        properties:\n"                                                                        \
    "          security_score: {type: number}\n"                                                   \
    "          findings: {type: array, items: {type: object, additionalProperties: false,\n"       \
    "                     properties: {severity: {type: string}}}}\n"                              \
    "          meta: {type: object, additionalProperties: false, properties: {source: {}}}\n"      \
    "          extra: {type: object, properties: {a: {}}}\n"                                       \
    "  loose:\n"                                                                                   \
    "    instructions: Anything.\n"                                                                \
    "    output: {format: json, schema: {type: object, properties: {a: {}}}}\n"                    \
    "  wide:\n"                                                                                    \
    "    instructions: Anything.\n"                                                                \
    "    output: {format: json, schema: {properties: {a: {}}, additionalProperties: true}}\n"      \
    "  typed:\n"                                                                                   \
    "    instructions: Anything.\n"                                                                \
    "    output: {format: json, schema: {properties: {a: {}}, additionalProperties: {}}}\n"        \
    "tasks:\n"                                                                                     \
    "  - {id: s, agent: scan}\n"

static void output_fields(void **state) {
    (void)state;
    /* line 27 is the first task after OUT_HEAD */
    expect_ok(OUT_HEAD "  - id: a\n"
                       "    agent: analyst\n"
                       "    depends_on: [s]\n"
                       "    conditions: [{if: \"{{tasks.s.outputs.security_score < 8}}\"}]\n"
                       "    inputs:\n"
                       "      m: \"{{tasks.s.outputs.meta.source}}\"\n"
                       "      f: \"{{tasks.s.outputs.findings[0].severity}}\"\n"
                       "      open: \"{{tasks.s.outputs.extra.anything}}\"\n"
                       "      raw: \"{{tasks.s.output}} {{tasks.s.outputs}}\"\n");
    /* a typo in a condition: located at the field, with a hint */
    expect_err(OUT_HEAD "  - id: a\n"
                        "    agent: analyst\n"
                        "    depends_on: [s]\n"
                        "    conditions:\n"
                        "      - if: \"{{tasks.s.outputs.securty_score < 8}}\"\n",
               31, 32, "unknown output field 'securty_score' in tasks.s.outputs: agent 'scan'",
               "did you mean 'security_score'?");
    /* no close name: the hint lists the declared fields */
    expect_err(OUT_HEAD "  - {id: a, agent: analyst, depends_on: [s], prompt: "
                        "\"Score {{ tasks.s.outputs.zzz }}\"}\n",
               27, 80, "unknown output field 'zzz'", "has: security_score, findings, meta, extra");
    /* nested closed object; inputs, args and a human task's description */
    expect_err(OUT_HEAD "  - {id: a, agent: analyst, depends_on: [s], inputs: {m: "
                        "\"{{tasks.s.outputs.meta.sorce}}\"}}\n",
               27, 82, "unknown output field 'sorce' in tasks.s.outputs.meta", "'source'");
    expect_err(OUT_HEAD "  - {id: a, type: tool, tool: http_fetch, depends_on: [s], args: {url: "
                        "\"{{tasks.s.outputs.url}}\"}}\n",
               27, 91, "unknown output field 'url'", NULL);
    expect_err(OUT_HEAD "  - {id: h, type: human, depends_on: [s], description: "
                        "\"{{tasks.s.outputs.findigs}}\"}\n",
               27, 75, "unknown output field 'findigs'", "'findings'");
    /* a loop's until reads its own task */
    expect_err(OUT_HEAD "  - {id: l, agent: scan, loop: {until: \"{{tasks.l.outputs.pased}}\"}}\n",
               27, 59, "unknown output field 'pased' in tasks.l.outputs", NULL);
    /* previous, in a loop, is the task's own outputs */
    expect_err(OUT_HEAD
               "  - {id: l, agent: scan, prompt: \"{{ previous.finding }}\", loop: {until: "
               "\"{{ previous.meta.source }}\"}}\n",
               27, 47, "unknown output field 'finding' in previous: agent 'scan'", "'findings'");
    /* schemas that admit other keys, and outputs that are not the agent's: not checked */
    expect_ok(OUT_HEAD "  - {id: o, agent: loose}\n"
                       "  - {id: w, agent: wide}\n"
                       "  - {id: y, agent: typed}\n"
                       "  - {id: h, type: human, depends_on: [s]}\n"
                       "  - {id: a, agent: analyst, depends_on: [o, w, y, h], prompt: "
                       "\"{{tasks.o.outputs.b}} {{tasks.w.outputs.x}} {{tasks.y.outputs.z}} "
                       "{{tasks.h.outputs.decision}}\"}\n"
                       "  - {id: t, agent: analyst, depends_on: [a], prompt: "
                       "\"{{tasks.a.outputs.anything}}\"}\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_dependencies),
        cmocka_unit_test(cycles),
        cmocka_unit_test(big_graphs_are_fast),
        cmocka_unit_test(unknown_agents),
        cmocka_unit_test(unknown_tools),
        cmocka_unit_test(template_syntax_positions),
        cmocka_unit_test(templates_everywhere_are_checked),
        cmocka_unit_test(upstream_rules),
        cmocka_unit_test(map_scopes),
        cmocka_unit_test(inputs_variables_and_roots),
        cmocka_unit_test(conditions_must_be_expressions),
        cmocka_unit_test(many_template_errors_at_once),
        cmocka_unit_test(output_fields),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
