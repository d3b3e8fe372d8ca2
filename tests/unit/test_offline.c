/* test_offline.c - the offline model: deterministic bytes, documents that respect word limits
 * and quote their inputs, JSON that validates against agent schemas, feedback that shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/jsonschema.h"
#include "llm/offline.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *J(const char *text) {
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v) fail_msg("bad JSON in test: %s: %s", text, e.text);
    return v;
}

static const wf_agent_t ARCHITECT = {
    .id = "architect",
    .name = "Architect",
    .role = "Technical architect",
    .goal = "Turn requirements into an architecture document",
    .format = OUTPUT_MARKDOWN,
};

static llm_request_t md_request(const wf_agent_t *agent, const char *task, json_t *inputs) {
    return (llm_request_t){
        .run_id = "run-1",
        .task_id = task,
        .attempt = 1,
        .iteration = 1,
        .agent = agent,
        .system = "You design systems. Output structured markdown.",
        .prompt = "Design the system for the brief below.",
        .inputs = inputs,
        .format = OUTPUT_MARKDOWN,
    };
}

/* Generates and returns the text (caller frees); fails the test when generation fails. */
static char *gen_text(const llm_request_t *req) {
    llm_response_t r;
    if (offline_generate(req, &r) != 0) fail_msg("offline_generate failed: %s", r.text);
    assert_true(r.simulated); /* what it wrote never passes for a model's work */
    char *t = strdup(r.text);
    llm_response_free(&r);
    return t;
}

static size_t words(const char *s) {
    size_t n = 0;
    bool in = false;
    for (; *s; s++) {
        bool sp = isspace((unsigned char)*s);
        if (!sp && !in) n++;
        in = !sp;
    }
    return n;
}

static bool valid_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80         ? 1
                   : (*p >> 5) == 6  ? 2
                   : (*p >> 4) == 14 ? 3
                   : (*p >> 3) == 30 ? 4
                                     : 0;
        if (!n) return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += n;
    }
    return true;
}

static bool has_line_starting(const char *text, const char *prefix) {
    size_t n = strlen(prefix);
    for (const char *p = text; p; p = strchr(p, '\n')) {
        if (*p == '\n') p++;
        if (!strncmp(p, prefix, n)) return true;
    }
    return false;
}

/* Every "**" opens and closes on its line, and every line has an even number of '"'. */
static void assert_balanced_lines(const char *text) {
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        size_t stars = 0, quotes = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '"') quotes++;
            if (i + 1 < n && p[i] == '*' && p[i + 1] == '*') {
                stars++;
                i++;
            }
        }
        if (stars % 2 || quotes % 2) fail_msg("unbalanced line: %.*s", (int)n, p);
        p += n + (e ? 1 : 0);
    }
}

/* ---------------------------------------------------------------------------------------- */

static void test_estimate_tokens_and_free(void **state) {
    (void)state;
    assert_int_equal(llm_estimate_tokens(NULL), 0);
    assert_int_equal(llm_estimate_tokens(""), 0);
    assert_int_equal(llm_estimate_tokens("a"), 1);
    assert_int_equal(llm_estimate_tokens("abcd"), 1);
    assert_int_equal(llm_estimate_tokens("abcde"), 2);
    assert_int_equal(llm_estimate_tokens("abcdefgh"), 2);
    llm_response_free(NULL);
    llm_response_t r = {0};
    llm_response_free(&r);
    llm_response_free(&r); /* zeroed after a free: freeing twice is harmless */
}

static void test_markdown_document(void **state) {
    (void)state;
    json_t *in = json_pack("{s:s, s:i, s:[s,s]}", "project_brief", "A todo app", "budget", 5000,
                           "platforms", "web", "ios");
    llm_request_t req = md_request(&ARCHITECT, "design", in);
    llm_response_t r;
    assert_int_equal(offline_generate(&req, &r), 0);
    const char *t = r.text;
    assert_true(has_line_starting(t, "# Architecture document: A todo app"));
    assert_true(has_line_starting(t, "## Summary"));
    assert_true(has_line_starting(t, "## Context"));
    assert_true(has_line_starting(t, "- "));
    assert_true(has_line_starting(t, "1. ")); /* next steps */
    assert_non_null(strstr(t, "**project_brief**: \"A todo app\""));
    assert_non_null(strstr(t, "**budget**: 5000"));
    assert_non_null(strstr(t, "\"web\""));
    assert_non_null(strstr(t, "rchitect"));
    assert_null(strstr(t, "## Revisions"));
    assert_balanced_lines(t);
    assert_true(valid_utf8(t));
    assert_string_equal(r.provider, "offline");
    assert_string_equal(r.model, "offline-1");
    assert_null(r.json);
    assert_int_equal(r.input_tokens,
                     llm_estimate_tokens(req.system) + llm_estimate_tokens(req.prompt));
    assert_int_equal(r.output_tokens, llm_estimate_tokens(r.text));
    assert_true(r.cost_usd == 0);
    assert_int_equal(r.latency_ms, 0);
    llm_response_free(&r);
    json_decref(in);
}

static void test_plain_text_has_no_markup(void **state) {
    (void)state;
    json_t *in = json_pack("{s:s}", "topic", "Edge AI");
    llm_request_t req = md_request(&ARCHITECT, "design", in);
    req.format = OUTPUT_TEXT;
    char *t = gen_text(&req);
    assert_null(strstr(t, "#"));
    assert_null(strstr(t, "**"));
    assert_non_null(strstr(t, "\"Edge AI\""));
    free(t);
    json_decref(in);
}

static void test_deterministic(void **state) {
    (void)state;
    json_t *a = J("{\"project_brief\":\"A todo app\",\"n\":3,\"tags\":[\"x\"]}");
    json_t *b =
        J("{\"tags\":[\"x\"],\"n\":3,\"project_brief\":\"A todo app\"}"); /* other key order */
    llm_request_t req = md_request(&ARCHITECT, "design", a);
    char *t1 = gen_text(&req);
    char *t2 = gen_text(&req);
    assert_string_equal(t1, t2);
    req.attempt = 3; /* retries of the same request answer the same */
    req.run_id = "run-2";
    char *t3 = gen_text(&req);
    assert_string_equal(t1, t3);
    req.inputs = b;
    char *t4 = gen_text(&req);
    assert_string_equal(t1, t4);

    json_t *c = J("{\"project_brief\":\"A chess engine\",\"n\":3,\"tags\":[\"x\"]}");
    req.inputs = c;
    char *t5 = gen_text(&req);
    assert_string_not_equal(t1, t5);
    assert_non_null(strstr(t5, "A chess engine"));

    wf_agent_t dev = {.id = "developer",
                      .name = "Developer",
                      .role = "Software developer",
                      .goal = "Implement the architecture"};
    req.inputs = a;
    req.agent = &dev;
    char *t6 = gen_text(&req);
    assert_string_not_equal(t1, t6);
    req.agent = &ARCHITECT;
    req.task_id = "design2";
    char *t7 = gen_text(&req);
    assert_string_not_equal(t1, t7);
    free(t1), free(t2), free(t3), free(t4), free(t5), free(t6), free(t7);
    json_decref(a), json_decref(b), json_decref(c);
}

static void test_word_limits(void **state) {
    (void)state;
    json_t *in = json_pack("{s:s, s:s}", "project_brief", "A todo app with sharing and reminders",
                           "notes", "Keep it simple. Users are small teams.");
    llm_request_t req = md_request(&ARCHITECT, "design", in);
    req.feedback = "Please add more detail on security. Mention offline mode too.";
    const int limits[] = {50, 120, 500};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        req.word_limit = limits[i];
        char *t = gen_text(&req);
        if ((int)words(t) > limits[i])
            fail_msg("%zu words over a limit of %d:\n%s", words(t), limits[i], t);
        assert_true(has_line_starting(t, "# "));
        assert_true(has_line_starting(t, "## "));
        assert_true(has_line_starting(t, "- "));
        assert_balanced_lines(t);
        free(t);
    }
    /* A generous limit changes nothing; a tight one keeps a well-formed document. */
    req.word_limit = 0;
    char *full = gen_text(&req);
    req.word_limit = 5000;
    char *same = gen_text(&req);
    assert_string_equal(full, same);
    for (int lim = 1; lim <= 200; lim++) {
        req.word_limit = lim;
        char *t = gen_text(&req);
        if ((int)words(t) > lim) fail_msg("%zu words over a limit of %d:\n%s", words(t), lim, t);
        assert_true(words(t) >= (size_t)(lim < 20 ? 1 : lim * 3 / 4)); /* fills most of it */
        assert_true(valid_utf8(t));
        assert_balanced_lines(t);
        free(t);
    }
    free(full);
    free(same);
    json_decref(in);
}

static void test_long_upstream_document_is_summarised(void **state) {
    (void)state;
    const char *doc =
        "# Architecture document: Todo app\n\n## Summary\n\nShort.\n\n"
        "## Storage layer\n\nZEBRA-UNIQUE-MARKER appears only in the body. "
        "It goes on for a while to make the document long enough to be a document.\n\n"
        "## Sync protocol\n\n- Clients pull every minute.\n\n## Next steps\n\n1. Build it.\n";
    json_t *in = json_pack("{s:s}", "architecture", doc);
    wf_agent_t dev = {.id = "developer",
                      .name = "Developer",
                      .role = "Software developer",
                      .goal = "Write the implementation plan"};
    llm_request_t req = md_request(&dev, "implement", in);
    char *t = gen_text(&req);
    assert_null(strstr(t, "ZEBRA-UNIQUE-MARKER"));
    assert_non_null(strstr(t, "upstream document \"Architecture document: Todo app\""));
    assert_non_null(strstr(t, "\"Storage layer\""));
    assert_non_null(strstr(t, "\"Sync protocol\""));
    assert_non_null(strstr(
        t, "Builds on \"Storage layer\" and \"Sync protocol\" from the architecture input."));
    free(t);

    /* Long prose without headings: its first sentence stands for it. */
    char prose[2000] = "Readers want practical guides about edge inference. ";
    while (strlen(prose) < 1500) strcat(prose, "More words follow here to pad the text. ");
    json_t *in2 = json_pack("{s:s}", "research", prose);
    req.inputs = in2;
    t = gen_text(&req);
    assert_non_null(strstr(t, "\"Readers want practical guides about edge inference.\""));
    assert_null(strstr(t, "pad the text"));
    free(t);
    json_decref(in);
    json_decref(in2);
}

static void test_feedback_is_reflected(void **state) {
    (void)state;
    json_t *in = json_pack("{s:s}", "project_brief", "A todo app");
    llm_request_t req = md_request(&ARCHITECT, "design", in);
    char *before = gen_text(&req);
    req.feedback = "Add more detail on security. Also cover offline mode!";
    char *after = gen_text(&req);
    assert_string_not_equal(before, after);
    assert_true(has_line_starting(after, "## Revisions"));
    assert_non_null(strstr(after, "\"Add more detail on security. Also cover offline mode!\""));
    assert_non_null(strstr(after, "\"Add more detail on security\""));
    assert_non_null(strstr(after, "\"Also cover offline mode\""));
    /* The revision survives a tight word limit. */
    req.word_limit = 50;
    char *tight = gen_text(&req);
    assert_true(has_line_starting(tight, "## Revisions"));
    free(before), free(after), free(tight);
    json_decref(in);
}

static void test_agents_read_differently(void **state) {
    (void)state;
    static const char *ids[] = {"analyst",
                                "architect",
                                "developer",
                                "tester",
                                "deployer",
                                "content_scout",
                                "trend_analyst",
                                "editorial_strategist",
                                "quality_assessor",
                                "decision_coordinator",
                                "code_generator",
                                "debug_assistant",
                                "test_generator",
                                "security_scanner",
                                "documentation_writer",
                                "code_reviewer",
                                "code_analyzer",
                                "test_runner",
                                "deployment_agent",
                                "someone_else"};
    const size_t n = sizeof ids / sizeof *ids;
    char *texts[sizeof ids / sizeof *ids];
    json_t *in = json_pack("{s:s}", "topic", "AI in healthcare");
    for (size_t i = 0; i < n; i++) {
        wf_agent_t a = {.id = ids[i]}; /* no name, role or goal: still a document */
        llm_request_t req = md_request(&a, "task", in);
        req.prompt = NULL;
        texts[i] = gen_text(&req);
        assert_true(has_line_starting(texts[i], "# "));
        assert_true(has_line_starting(texts[i], "## Summary"));
        assert_non_null(strstr(texts[i], "AI in healthcare"));
        for (size_t j = 0; j < i; j++) assert_string_not_equal(texts[i], texts[j]);
    }
    assert_true(has_line_starting(texts[6], "# Trend report"));
    assert_true(has_line_starting(texts[13], "# Security review"));
    for (size_t i = 0; i < n; i++) free(texts[i]);
    json_decref(in);

    /* No agent, no inputs, no prompt: a minimal document, not a crash. */
    llm_request_t bare = {.task_id = NULL, .format = OUTPUT_MARKDOWN};
    char *t = gen_text(&bare);
    assert_true(has_line_starting(t, "# Report"));
    free(t);
}

/* ---------------------------------------------------------------------------------------- */
/* JSON */

static json_t *gen_json(const wf_agent_t *agent, const char *task, json_t *inputs, json_t *schema) {
    llm_request_t req = md_request(agent, task, inputs);
    req.format = OUTPUT_JSON;
    req.schema = schema;
    llm_response_t r;
    if (offline_generate(&req, &r) != 0) fail_msg("offline_generate failed: %s", r.text);
    assert_true(r.simulated);
    char err[512];
    if (jsonschema_validate(schema, r.json, err, sizeof err) != 0)
        fail_msg("invalid output %s: %s", r.text, err);
    json_t *back = json_loads(r.text, JSON_DECODE_ANY, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, r.json)); /* the text and the value agree */
    assert_null(strchr(r.text, '\n'));     /* compact */
    assert_int_equal(r.output_tokens, llm_estimate_tokens(r.text));
    json_decref(back);
    json_t *v = json_incref(r.json);
    llm_response_free(&r);
    return v;
}

static void test_json_code_analyzer(void **state) {
    (void)state;
    json_t *schema =
        J("{\"type\":\"object\",\"required\":[\"quality_score\",\"security_score\",\"modified_"
          "files\"],"
          "\"properties\":{\"quality_score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":10},"
          "\"security_score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":10},"
          "\"modified_files\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}");
    wf_agent_t a = {.id = "code_analyzer", .format = OUTPUT_JSON, .schema = schema};
    for (int i = 0; i < 20; i++) {
        char task[16];
        snprintf(task, sizeof task, "t%d", i);
        json_t *v = gen_json(&a, task, NULL, schema);
        double q = json_number_value(json_object_get(v, "quality_score"));
        double s = json_number_value(json_object_get(v, "security_score"));
        assert_true(q >= 7 && q <= 9); /* realistic: a demo's "quality_score >= 7" usually holds */
        assert_true(s >= 7 && s <= 9);
        json_t *files = json_object_get(v, "modified_files");
        assert_true(json_array_size(files) >= 1 && json_array_size(files) <= 3);
        assert_non_null(strchr(json_string_value(json_array_get(files, 0)), '.')); /* a path */
        json_decref(v);
    }
    json_decref(schema);
}

static void test_json_test_runner(void **state) {
    (void)state;
    json_t *schema =
        J("{\"type\":\"object\",\"properties\":{\"all_passed\":{\"type\":\"boolean\"},"
          "\"coverage_percentage\":{\"type\":\"number\",\"minimum\":0,\"maximum\":100},"
          "\"failed\":{\"type\":\"integer\",\"minimum\":0}},"
          "\"required\":[\"all_passed\",\"coverage_percentage\"]}");
    wf_agent_t a = {.id = "test_runner"};
    int passed = 0;
    for (int i = 0; i < 40; i++) {
        char task[16];
        snprintf(task, sizeof task, "t%d", i);
        json_t *v = gen_json(&a, task, NULL, schema);
        passed += json_is_true(json_object_get(v, "all_passed"));
        double c = json_number_value(json_object_get(v, "coverage_percentage"));
        assert_true(c >= 80 && c <= 95);
        assert_true(json_is_integer(json_object_get(v, "failed")));
        json_decref(v);
    }
    assert_true(passed >= 28); /* mostly true */
    json_decref(schema);
}

static void test_json_consensus_vote(void **state) {
    (void)state;
    json_t *schema =
        J("{\"type\":\"object\",\"properties\":{\"decision\":{\"type\":\"string\","
          "\"enum\":[\"publish\",\"hold\",\"reject\"]},\"confidence\":{\"type\":\"number\","
          "\"minimum\":0,\"maximum\":1},\"rationale\":{\"type\":\"string\",\"minLength\":20,"
          "\"maxLength\":200}},\"required\":[\"decision\",\"confidence\",\"rationale\"],"
          "\"additionalProperties\":false}");
    json_t *in = json_pack("{s:s}", "topic", "Rust in embedded systems");
    int seen[3] = {0};
    for (int i = 0; i < 30; i++) {
        char task[16];
        snprintf(task, sizeof task, "vote%d", i);
        wf_agent_t a = {.id = i % 2 ? "quality_assessor" : "trend_analyst"};
        json_t *v = gen_json(&a, task, in, schema);
        const char *d = json_string_value(json_object_get(v, "decision"));
        seen[!strcmp(d, "publish") ? 0 : !strcmp(d, "hold") ? 1 : 2]++;
        double c = json_number_value(json_object_get(v, "confidence"));
        assert_true(c >= 0.7 && c <= 0.95);
        assert_non_null(
            strstr(json_string_value(json_object_get(v, "rationale")), "Rust in embedded systems"));
        assert_int_equal(json_object_size(v), 3);
        json_decref(v);
    }
    assert_true(seen[0] > seen[1] && seen[0] > seen[2]); /* the first option leads */
    json_decref(in);
    json_decref(schema);
}

static void test_json_nested(void **state) {
    (void)state;
    json_t *schema =
        J("{\"type\":\"object\",\"required\":[\"security_score\",\"findings\",\"meta\"],"
          "\"properties\":{"
          "\"security_score\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":10},"
          "\"findings\":{\"type\":\"array\",\"minItems\":4,\"maxItems\":6,\"items\":{\"type\":"
          "\"object\","
          "\"required\":[\"severity\",\"description\"],\"additionalProperties\":false,"
          "\"properties\":{"
          "\"severity\":{\"enum\":[\"low\",\"medium\",\"high\"]},\"description\":{\"type\":"
          "\"string\",\"maxLength\":40},"
          "\"line\":{\"type\":\"integer\",\"exclusiveMinimum\":0},\"tags\":{\"type\":\"array\","
          "\"items\":{\"type\":\"string\"},"
          "\"minItems\":2,\"maxItems\":2}}}},"
          "\"meta\":{\"type\":\"object\",\"properties\":{\"generated_at\":{\"type\":\"string\","
          "\"format\":\"date-time\"},"
          "\"ratio\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":0.001},"
          "\"note\":{\"type\":[\"null\",\"string\"],\"minLength\":3,\"maxLength\":3},\"k\":{"
          "\"const\":[1,2]},"
          "\"grid\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":{\"type\":"
          "\"integer\"},\"minItems\":1}}}}}}");
    wf_agent_t a = {.id = "security_scanner"};
    json_t *v = gen_json(&a, "scan", NULL, schema);
    json_t *findings = json_object_get(v, "findings");
    assert_true(json_array_size(findings) >= 4 && json_array_size(findings) <= 6);
    assert_int_equal(json_array_size(json_object_get(json_array_get(findings, 0), "tags")), 2);
    json_t *meta = json_object_get(v, "meta");
    assert_int_equal(strlen(json_string_value(json_object_get(meta, "note"))), 3);
    json_t *k = json_pack("[i,i]", 1, 2);
    assert_true(json_equal(json_object_get(meta, "k"), k));
    json_decref(k);
    double ratio = json_number_value(json_object_get(meta, "ratio"));
    assert_true(ratio > 0 && ratio < 0.001);
    json_decref(v);
    json_decref(schema);

    /* Top-level scalars and untyped schemas work too. */
    const char *scalars[] = {"{\"type\":\"integer\",\"minimum\":-5,\"maximum\":-3}",
                             "{\"type\":\"boolean\"}",
                             "{\"type\":\"null\"}",
                             "{\"enum\":[2.5]}",
                             "{}",
                             "true",
                             "{\"type\":\"string\",\"minLength\":500}",
                             "{\"maxItems\":0}",
                             "{\"minimum\":1e300}",
                             "{\"type\":\"integer\",\"minimum\":9e18}"};
    for (size_t i = 0; i < sizeof scalars / sizeof *scalars; i++) {
        json_t *s = J(scalars[i]);
        json_decref(gen_json(&a, "x", NULL, s));
        json_decref(s);
    }
}

static void test_json_inputs_flow_into_matching_properties(void **state) {
    (void)state;
    json_t *schema =
        J("{\"type\":\"object\",\"properties\":{\"topic\":{\"type\":\"string\"},"
          "\"word_count\":{\"type\":\"integer\"},\"title\":{\"type\":\"string\",\"maxLength\":3}},"
          "\"required\":[\"topic\",\"word_count\",\"title\"]}");
    json_t *in = json_pack("{s:s, s:i, s:s}", "topic", "Quantum networking", "word_count", 1200,
                           "title", "Too long for three");
    wf_agent_t a = {.id = "editorial_strategist"};
    json_t *v = gen_json(&a, "plan", in, schema);
    assert_string_equal(json_string_value(json_object_get(v, "topic")), "Quantum networking");
    assert_int_equal(json_integer_value(json_object_get(v, "word_count")), 1200);
    assert_true(strlen(json_string_value(json_object_get(v, "title"))) <=
                3); /* input did not fit */
    json_decref(v);
    json_decref(in);
    json_decref(schema);
}

static bool in_list(const json_t *v, const json_t *list) {
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e) if (json_equal((json_t *)v, (json_t *)e)) return true;
    return false;
}

/* An enum in the output schema is the workflow's list of allowed values: every value the offline
 * model writes there is one of them, at the top, in array items and next to other keywords, for
 * any request (checked here by membership, not only by the validator). */
static void test_json_enum_values_are_allowed(void **state) {
    (void)state;
    json_t *schema =
        J("{\"type\":\"object\",\"required\":[\"verdict\",\"level\",\"labels\",\"size\"],"
          "\"properties\":{"
          "\"verdict\":{\"type\":\"string\",\"enum\":[\"ship\",\"hold\",\"drop\"]},"
          "\"level\":{\"enum\":[\"p0\",\"p1\",3]},"
          "\"labels\":{\"type\":\"array\",\"minItems\":3,\"items\":{\"enum\":[\"ui\",\"api\"]}},"
          "\"size\":{\"type\":\"string\",\"enum\":[\"s\",7,\"xl\"],\"maxLength\":1}}}");
    json_t *verdicts = J("[\"ship\",\"hold\",\"drop\"]"), *levels = J("[\"p0\",\"p1\",3]"),
           *labels = J("[\"ui\",\"api\"]");
    /* inputs that name a value outside the list must not leak into it */
    json_t *in = json_pack("{s:s, s:s}", "verdict", "approve", "topic", "Release 2.0");
    for (int i = 0; i < 40; i++) {
        char task[16];
        snprintf(task, sizeof task, "triage%d", i);
        wf_agent_t a = {.id = i % 2 ? "reviewer" : "release_manager"};
        json_t *v = gen_json(&a, task, in, schema);
        assert_true(in_list(json_object_get(v, "verdict"), verdicts));
        assert_true(in_list(json_object_get(v, "level"), levels));
        size_t k;
        json_t *l;
        json_array_foreach(json_object_get(v, "labels"), k, l) assert_true(in_list(l, labels));
        /* the only option that is a string of at most one character */
        assert_string_equal(json_string_value(json_object_get(v, "size")), "s");
        json_decref(v);
    }
    json_decref(in);
    json_decref(verdicts);
    json_decref(levels);
    json_decref(labels);
    json_decref(schema);
}

/* A decision record never contradicts the vote it is given: the decision is the one the vote
 * reached (not one of the votes cast), within the options when the schema lists them; without
 * an outcome it is one of the options the inputs list. The Markdown memo states it too, and
 * recommends it rather than another course. */
static void test_decision_follows_the_vote(void **state) {
    (void)state;
    json_t *free_schema = J("{\"type\":\"object\",\"required\":[\"decision\",\"rationale\"],"
                            "\"properties\":{\"decision\":{\"type\":\"string\",\"minLength\":1},"
                            "\"rationale\":{\"type\":\"string\"}}}");
    json_t *enum_schema = J("{\"type\":\"object\",\"required\":[\"decision\"],"
                            "\"properties\":{\"decision\":{\"enum\":[\"revise\",\"adopt\","
                            "\"reject\"]}}}");
    wf_agent_t a = {.id = "decision_coordinator", .role = "Decision coordinator"};
    int recommended = 0;
    for (int i = 0; i < 20; i++) {
        char task[16];
        snprintf(task, sizeof task, "decide%d", i);
        json_t *in = J("{\"question\":\"Move CI to GitHub Actions?\","
                       "\"options\":[\"revise\",\"adopt\",\"reject\"],"
                       "\"vote\":{\"consensus\":true,\"decision\":\"reject\",\"confidence\":0.6,"
                       "\"votes\":[{\"decision\":\"adopt\"},{\"decision\":\"reject\"}]}}");
        json_t *v = gen_json(&a, task, in, free_schema);
        assert_string_equal(json_string_value(json_object_get(v, "decision")), "reject");
        json_decref(v);
        v = gen_json(&a, task, in, enum_schema);
        assert_string_equal(json_string_value(json_object_get(v, "decision")), "reject");
        json_decref(v);

        llm_request_t req = md_request(&a, task, in);
        char *doc = gen_text(&req);
        assert_non_null(strstr(doc, "**Decision**: reject"));
        /* the memo's recommendation (when it has one) carries the decision out, never the
         * stock "Proceed with ..." */
        char *rec = strstr(doc, "## Recommendation");
        recommended += rec != NULL;
        if (rec) {
            char *end = strstr(rec + 3, "\n## ");
            if (end) *end = '\0';
            assert_null(strstr(rec, "Proceed"));
            assert_non_null(strstr(rec, "reject"));
        }
        free(doc);

        /* No outcome (the vote was split): one of the listed options, never an invented one. */
        json_object_set_new(json_object_get(in, "vote"), "consensus", json_false());
        json_object_set_new(json_object_get(in, "vote"), "decision", json_null());
        v = gen_json(&a, task, in, free_schema);
        const char *d = json_string_value(json_object_get(v, "decision"));
        assert_true(!strcmp(d, "revise") || !strcmp(d, "adopt") || !strcmp(d, "reject"));
        json_decref(v);
        json_decref(in);
    }
    assert_true(recommended > 0); /* the section the check above reads did appear */
    json_decref(free_schema);
    json_decref(enum_schema);
}

static void test_json_deterministic_and_no_schema(void **state) {
    (void)state;
    json_t *schema =
        J("{\"type\":\"object\",\"properties\":{\"score\":{\"type\":\"number\",\"maximum\":10},"
          "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}");
    wf_agent_t a = {.id = "quality_assessor"};
    llm_request_t req = md_request(&a, "assess", NULL);
    req.format = OUTPUT_JSON;
    req.schema = schema;
    char *t1 = gen_text(&req), *t2 = gen_text(&req);
    assert_string_equal(t1, t2);
    req.feedback = "/score: 12 is greater than the maximum 10";
    char *t3 = gen_text(&req);
    assert_string_not_equal(t1, t3);
    free(t1), free(t2), free(t3);

    req.schema = NULL; /* json without a schema: a small object */
    llm_response_t r;
    assert_int_equal(offline_generate(&req, &r), 0);
    assert_true(json_is_string(json_object_get(r.json, "summary")));
    assert_int_equal(json_array_size(json_object_get(r.json, "key_points")), 3);
    llm_response_free(&r);
    json_decref(schema);
}

static void test_json_impossible_schema(void **state) {
    (void)state;
    const char *impossible[] = {
        "{\"type\":\"integer\",\"minimum\":1.2,\"maximum\":1.8}",
        "{\"type\":\"number\",\"exclusiveMinimum\":1,\"exclusiveMaximum\":1}",
        "{\"enum\":[1,2],\"type\":\"string\"}",
        "{\"type\":\"array\",\"minItems\":5,\"maxItems\":2}",
        "{\"type\":\"array\",\"minItems\":100000000}",
        "{\"type\":\"string\",\"minLength\":100000000}",
        "false",
        "{\"required\":[\"a\"],\"additionalProperties\":false}",
        ("{\"properties\":{\"a\":{\"type\":\"array\",\"minItems\":1000,\"items\":"
         "{\"type\":\"array\",\"minItems\":1000}}}}")};
    wf_agent_t a = {.id = "x"};
    for (size_t i = 0; i < sizeof impossible / sizeof *impossible; i++) {
        json_t *s = J(impossible[i]);
        llm_request_t req = md_request(&a, "t", NULL);
        req.format = OUTPUT_JSON;
        req.schema = s;
        llm_response_t r;
        assert_int_equal(offline_generate(&req, &r), -1);
        assert_null(r.json);
        assert_non_null(strstr(r.text, "offline: no value satisfies the output schema: "));
        assert_string_equal(r.provider, "offline");
        llm_response_free(&r);
        json_decref(s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimate_tokens_and_free),
        cmocka_unit_test(test_markdown_document),
        cmocka_unit_test(test_plain_text_has_no_markup),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_word_limits),
        cmocka_unit_test(test_long_upstream_document_is_summarised),
        cmocka_unit_test(test_feedback_is_reflected),
        cmocka_unit_test(test_agents_read_differently),
        cmocka_unit_test(test_json_code_analyzer),
        cmocka_unit_test(test_json_test_runner),
        cmocka_unit_test(test_json_consensus_vote),
        cmocka_unit_test(test_json_nested),
        cmocka_unit_test(test_json_inputs_flow_into_matching_properties),
        cmocka_unit_test(test_json_enum_values_are_allowed),
        cmocka_unit_test(test_decision_follows_the_vote),
        cmocka_unit_test(test_json_deterministic_and_no_schema),
        cmocka_unit_test(test_json_impossible_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
