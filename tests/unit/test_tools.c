/* test_tools.c - the pure parts of tool calling: normalised tool calls from the arguments a
 * model wrote, the assembler for streamed fragments (OpenAI's delta.tool_calls, Anthropic's
 * input_json_delta), http_fetch's host allowlist, artifact names a tool may use, the `tools`
 * configuration check, and the reducer's ask_human transition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/state.h"
#include "engine/tools.h"
#include "llm/llm.h"

#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static char *dump(const json_t *v) { return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS); }

static void expect_json(const json_t *v, const char *want) {
    char *got = dump(v);
    assert_string_equal(got, want);
    free(got);
}

static void tool_call_arguments(void **state) {
    (void)state;
    json_t *c = llm_tool_call("call_9", "read_artifact", "{\"name\": \"a.md\"}", 0);
    expect_json(c,
                "{\"arguments\":{\"name\":\"a.md\"},\"id\":\"call_9\",\"name\":\"read_artifact\"}");
    json_decref(c);
    /* no id, empty arguments: a made-up id, {} */
    c = llm_tool_call(NULL, "t", "", 2);
    expect_json(c, "{\"arguments\":{},\"id\":\"call_3\",\"name\":\"t\"}");
    json_decref(c);
    /* not an object: {} and the raw text for the model to be told about */
    c = llm_tool_call("x", "t", "[1, 2", 0);
    expect_json(c,
                "{\"arguments\":{},\"id\":\"x\",\"invalid_arguments\":\"[1, 2\",\"name\":\"t\"}");
    json_decref(c);
    c = llm_tool_call("x", "t", "\"a string\"", 0);
    assert_non_null(json_object_get(c, "invalid_arguments"));
    json_decref(c);
    /* invalid UTF-8 in the name or the arguments never yields a broken JSON value */
    c = llm_tool_call("x", "bad\xff", "{\"a\": \"\xff\"}", 0);
    assert_string_equal(json_string_value(json_object_get(c, "name")), "(not UTF-8)");
    /* the raw text is kept up to the last whole character */
    assert_string_equal(json_string_value(json_object_get(c, "invalid_arguments")), "{\"a\": \"");
    json_decref(c);
    c = llm_tool_call("x", "t", "\xff\xfe", 0);
    assert_string_equal(json_string_value(json_object_get(c, "invalid_arguments")), "(not UTF-8)");
    json_decref(c);
}

static void assembler_openai_fragments(void **state) {
    (void)state;
    /* Two calls interleaved the way a streamed chat completion sends them. */
    llm_tool_asm_t a = {0};
    llm_tool_asm_add(&a, 0, "call_a", "get_weather", "");
    llm_tool_asm_add(&a, 0, NULL, NULL, "{\"ci");
    llm_tool_asm_add(&a, 1, "call_b", "read_artifact", "{\"name\":");
    llm_tool_asm_add(&a, 0, NULL, NULL, "ty\": \"Rome\"}");
    llm_tool_asm_add(&a, 1, NULL, NULL, " \"x.md\"}");
    json_t *calls = llm_tool_asm_finish(&a);
    expect_json(
        calls, "[{\"arguments\":{\"city\":\"Rome\"},\"id\":\"call_a\",\"name\":\"get_weather\"},"
               "{\"arguments\":{\"name\":\"x.md\"},\"id\":\"call_b\",\"name\":\"read_artifact\"}]");
    json_decref(calls);
    assert_int_equal(a.n, 0); /* emptied */
}

static void assembler_edges(void **state) {
    (void)state;
    llm_tool_asm_t a = {0};
    /* a later empty id or name does not erase the first; a nameless call is left out */
    llm_tool_asm_add(&a, 3, "id3", "t", NULL);
    llm_tool_asm_add(&a, 3, "", "", "{}");
    llm_tool_asm_add(&a, 4, "id4", NULL, "{}");
    json_t *calls = llm_tool_asm_finish(&a);
    expect_json(calls, "[{\"arguments\":{},\"id\":\"id3\",\"name\":\"t\"}]");
    json_decref(calls);
    /* bounded: calls past the limit are dropped and flagged */
    for (long i = 0; i < LLM_TOOL_CALLS_MAX + 5; i++) llm_tool_asm_add(&a, i, NULL, "t", "{}");
    assert_true(a.dropped);
    calls = llm_tool_asm_finish(&a);
    assert_int_equal(json_array_size(calls), LLM_TOOL_CALLS_MAX);
    json_decref(calls);
    /* arguments past the size cap become an invalid-arguments call, not a huge allocation */
    char *piece = malloc(64 * 1024 + 1);
    memset(piece, 'a', 64 * 1024);
    piece[64 * 1024] = '\0';
    for (int i = 0; i < 20; i++) llm_tool_asm_add(&a, 0, "big", "t", piece);
    free(piece);
    calls = llm_tool_asm_finish(&a);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(calls, 0), "invalid_arguments")),
        "(arguments too long)");
    json_decref(calls);
}

static void allowlist(void **state) {
    (void)state;
    json_t *allow = json_pack("[sss]", "api.example.com", "*.wiki.org", "127.0.0.1:8080");
    char why[300];
    assert_true(tools_url_allowed(allow, "https://api.example.com/v1?q=1", why, sizeof why));
    assert_true(tools_url_allowed(allow, "HTTP://API.Example.COM/", why, sizeof why));
    assert_true(tools_url_allowed(allow, "https://en.wiki.org/x", why, sizeof why));
    assert_false(tools_url_allowed(allow, "https://wiki.org/x", why, sizeof why));
    assert_false(tools_url_allowed(allow, "https://evilwiki.org/x", why, sizeof why));
    assert_true(tools_url_allowed(allow, "http://127.0.0.1:8080/health", why, sizeof why));
    assert_false(tools_url_allowed(allow, "http://127.0.0.1:9090/health", why, sizeof why));
    assert_string_equal(why, "host '127.0.0.1' port 9090 is not in tools.http_fetch.allow_hosts "
                             "(an entry without a port allows only 80)");
    assert_false(tools_url_allowed(allow, "http://127.0.0.1/", why, sizeof why)); /* port 80 */
    /* an entry without a port: the scheme's own only, not every service on the host */
    assert_false(tools_url_allowed(allow, "https://api.example.com:6379/", why, sizeof why));
    assert_false(tools_url_allowed(allow, "http://api.example.com:443/", why, sizeof why));
    /* a name must then connect to a public address; an address entry is taken as given */
    bool by_name = false;
    assert_true(tools_url_check(allow, "https://en.wiki.org/x", &by_name, why, sizeof why));
    assert_true(by_name);
    assert_true(tools_url_check(allow, "http://127.0.0.1:8080/", &by_name, why, sizeof why));
    assert_false(by_name);
    /* userinfo cannot smuggle another host past the check */
    assert_false(tools_url_allowed(allow, "http://api.example.com@evil.com/", why, sizeof why));
    assert_false(tools_url_allowed(allow, "file:///etc/passwd", why, sizeof why));
    assert_string_equal(why, "only http:// and https:// URLs can be fetched (not file://)");
    assert_false(tools_url_allowed(allow, "not a url", why, sizeof why));
    assert_false(tools_url_allowed(allow, NULL, why, sizeof why));
    json_decref(allow);
    /* nothing is allowed without a list */
    assert_false(tools_url_allowed(NULL, "https://api.example.com/", why, sizeof why));
    assert_non_null(strstr(why, "allow_hosts is empty"));
}

/* Writes: a host entry (a string) lets GET and HEAD through; {host, methods} also the writes it
 * lists. Any matching entry that grants the method will do. */
static void allowlist_methods(void **state) {
    (void)state;
    json_t *allow = json_loads("[\"read.example.com\", {\"host\": \"*.hooks.io\", \"methods\": "
                               "[\"post\", \"PUT\"]}, \"x.hooks.io\"]",
                               0, NULL);
    assert_non_null(allow);
    char why[400];
    bool by_name = false;
    assert_true(
        tools_request_check(allow, "GET", "https://read.example.com/", &by_name, why, sizeof why));
    assert_true(
        tools_request_check(allow, "HEAD", "https://read.example.com/", NULL, why, sizeof why));
    assert_false(
        tools_request_check(allow, "POST", "https://read.example.com/a", NULL, why, sizeof why));
    assert_string_equal(why, "POST to host 'read.example.com' is not allowed: "
                             "tools.http_fetch.allow_hosts lets it be read (GET, HEAD) only; grant "
                             "writes with an entry {host: read.example.com, methods: [POST]}");
    assert_true(
        tools_request_check(allow, "POST", "https://a.hooks.io/", &by_name, why, sizeof why));
    assert_true(by_name);
    assert_true(tools_request_check(allow, "PUT", "https://a.hooks.io/", NULL, why, sizeof why));
    assert_true(tools_request_check(allow, "GET", "https://a.hooks.io/", NULL, why, sizeof why));
    assert_false(
        tools_request_check(allow, "DELETE", "https://a.hooks.io/", NULL, why, sizeof why));
    /* x.hooks.io matches a read-only entry after the one that grants POST: still granted */
    assert_true(tools_request_check(allow, "POST", "https://x.hooks.io/", NULL, why, sizeof why));
    assert_false(tools_request_check(allow, "POST", "https://other.io/", NULL, why, sizeof why));
    assert_non_null(strstr(why, "is not in tools.http_fetch.allow_hosts"));
    json_decref(allow);
    assert_string_equal(tools_http_method("patch"), "PATCH");
    assert_null(tools_http_method("FETCH"));
    assert_null(tools_http_method(NULL));
}

static struct sockaddr_storage addr(const char *text) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(text, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, text, &a->sin_addr), 1);
    }
    return ss;
}

static void public_addresses(void **state) {
    (void)state;
    static const char *const private[] = {"127.0.0.1",
                                          "10.1.2.3",
                                          "172.16.0.1",
                                          "172.31.255.255",
                                          "192.168.1.1",
                                          "169.254.169.254",
                                          "0.0.0.0",
                                          "100.64.0.1",
                                          "224.0.0.1",
                                          "::1",
                                          "::",
                                          "fd00::1",
                                          "fe80::1",
                                          "::ffff:127.0.0.1",
                                          "::ffff:169.254.169.254"};
    static const char *const public[] = {"93.184.216.34", "172.32.0.1", "8.8.8.8",
                                         "2606:4700::1111", "::ffff:8.8.8.8"};
    for (size_t i = 0; i < sizeof private / sizeof *private; i++) {
        struct sockaddr_storage ss = addr(private[i]);
        if (tools_address_public((struct sockaddr *)&ss))
            fail_msg("%s counted as public", private[i]);
    }
    for (size_t i = 0; i < sizeof public / sizeof *public; i++) {
        struct sockaddr_storage ss = addr(public[i]);
        if (!tools_address_public((struct sockaddr *)&ss))
            fail_msg("%s counted as private", public[i]);
    }
}

static void artifact_names(void **state) {
    (void)state;
    assert_true(tools_artifact_name_ok("notes.md"));
    assert_true(tools_artifact_name_ok("a-b_c.json"));
    assert_true(tools_artifact_name_ok("plan.vision.md")); /* ".v" without a number is a name */
    /* Baton's own names in the run's folder: versions and files being written */
    assert_false(tools_artifact_name_ok("a-b_c.v2.json"));
    assert_false(tools_artifact_name_ok("notes.v12"));
    assert_false(tools_artifact_name_ok("a.md.tmp"));
    assert_false(tools_artifact_name_ok("../x.md"));
    assert_false(tools_artifact_name_ok("dir/x.md"));
    assert_false(tools_artifact_name_ok(".hidden"));
    assert_false(tools_artifact_name_ok(""));
    assert_false(tools_artifact_name_ok(NULL));
    char long_name[140];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_false(tools_artifact_name_ok(long_name));
}

static void config_check(void **state) {
    (void)state;
    char *err = NULL;
    assert_int_equal(tools_config_check(NULL, &err), 0);
    json_t *good = json_loads("{\"http_fetch\": {\"allow_hosts\": [\"a.com\", {\"host\": "
                              "\"b.com\", \"methods\": [\"POST\", \"delete\"]}], \"max_bytes\": "
                              "1000, \"timeout\": \"5s\"}}",
                              0, NULL);
    assert_non_null(good);
    assert_int_equal(tools_config_check(good, &err), 0);
    json_decref(good);
    static const char *const bad[][2] = {
        {"[1]", "tools is a mapping"},
        {"{\"shell\": {}}", "tools.shell: only http_fetch"},
        {"{\"http_fetch\": {\"allow_hosts\": \"a.com\"}}",
         "tools.http_fetch.allow_hosts: expected a list"},
        {"{\"http_fetch\": {\"max_bytes\": 0}}", "tools.http_fetch.max_bytes: expected"},
        {"{\"http_fetch\": {\"timeout\": \"soon\"}}",
         "tools.http_fetch.timeout: expected a duration"},
        {"{\"http_fetch\": {\"allow\": []}}", "tools.http_fetch.allow: unknown key"},
        {"{\"http_fetch\": {\"allow_hosts\": [\"a.com\", {\"host\": \"b.com\", \"methods\": "
         "[\"SEND\"]}]}}",
         "tools.http_fetch.allow_hosts[1].methods: expected a list of GET, HEAD, POST"},
        {"{\"http_fetch\": {\"allow_hosts\": [{\"methods\": [\"POST\"]}]}}",
         "tools.http_fetch.allow_hosts[0].host: expected a host name"},
        {"{\"http_fetch\": {\"allow_hosts\": [{\"host\": \"b.com\", \"method\": [\"POST\"]}]}}",
         "tools.http_fetch.allow_hosts[0].method: unknown key (host, methods)"},
        {"{\"http_fetch\": {\"allow_hosts\": [{\"host\": \"b.com\", \"methods\": []}]}}",
         "tools.http_fetch.allow_hosts[0].methods: expected a list"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *v = json_loads(bad[i][0], 0, NULL);
        assert_int_equal(tools_config_check(v, &err), -1);
        assert_non_null(strstr(err, bad[i][1]));
        free(err);
        err = NULL;
        json_decref(v);
    }
}

/* ask_human: the answer does not become reviewer feedback, and its tool.result puts the task
 * back to running; other tool events change no status. */
static void reducer_ask_human(void **state) {
    (void)state;
    const char *yaml =
        "name: w\nagents:\n  a: {name: A, tools: [ask_human]}\ntasks:\n  - id: t\n    agent: a\n";
    diag_list_t dl = {0};
    workflow_t *wf = workflow_load(yaml, strlen(yaml), "t.yaml", NULL, NULL, NULL, &dl);
    assert_non_null(wf);
    run_state_t s;
    state_init(&s, wf);
    char err[256];
    struct {
        const char *type, *data;
    } ev[] = {
        {"run.created", "{\"run_id\": \"r\"}"},
        {"run.started", "{}"},
        {"task.started", "{\"task\": \"t\", \"attempt\": 1, \"iteration\": 1}"},
        {"tool.requested", "{\"task\": \"t\", \"calls\": [], \"cost_usd\": 0.5}"},
        {"approval.requested",
         "{\"task\": \"t\", \"kind\": \"input\", \"tool_call\": {\"id\": \"c\"}}"},
        {"approval.responded",
         "{\"task\": \"t\", \"decision\": \"submitted\", \"feedback\": \"Blue\"}"},
    };
    for (size_t i = 0; i < sizeof ev / sizeof *ev; i++) {
        json_t *d = json_loads(ev[i].data, 0, NULL);
        assert_int_equal(state_apply(&s, i + 1, 0, ev[i].type, d, err, sizeof err), 0);
        json_decref(d);
    }
    assert_int_equal(s.tasks[0].status, TS_WAITING_HUMAN);
    assert_null(s.tasks[0].feedback);        /* not a reviewer's note for later attempts */
    assert_true(s.tasks[0].cost_usd == 0.5); /* the tool round's model call is counted */
    json_t *d = json_loads("{\"task\": \"t\", \"id\": \"c\", \"content\": \"Blue\"}", 0, NULL);
    assert_int_equal(state_apply(&s, 7, 0, "tool.result", d, err, sizeof err), 0);
    assert_int_equal(s.tasks[0].status, TS_RUNNING);
    assert_null(s.tasks[0].human);
    assert_null(s.tasks[0].answer);
    assert_int_equal(state_apply(&s, 8, 0, "tool.result", d, err, sizeof err), 0);
    assert_int_equal(s.tasks[0].status, TS_RUNNING);
    json_decref(d);
    state_free(&s);
    workflow_free(wf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tool_call_arguments), cmocka_unit_test(assembler_openai_fragments),
        cmocka_unit_test(assembler_edges),     cmocka_unit_test(allowlist),
        cmocka_unit_test(allowlist_methods),   cmocka_unit_test(artifact_names),
        cmocka_unit_test(public_addresses),    cmocka_unit_test(config_check),
        cmocka_unit_test(reducer_ask_human),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
