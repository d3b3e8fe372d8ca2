#!/usr/bin/env bash
# The tool-calling loop through `baton run` against the fake providers (tests/fakes): for each of
# the four wire protocols the model asks for read_artifact in its native format (OpenAI's
# streamed delta.tool_calls fragments, Anthropic's tool_use + input_json_delta, Gemini's
# functionCall, Ollama's message.tool_calls), Baton runs it and sends the result back the same
# way, and the model's answer quoting it is the task's output. Then http_fetch (allowlist,
# size cap, refusal), ask_human answered with `baton approvals respond`, the iteration bound,
# and a kill -9 mid-loop that resumes without repeating the finished tool call.
source "$(dirname "$0")/lib.sh" "$@"
FIX="$ROOT/tests/cli/fixtures/tools_agents.yaml"

start_fake
export FAKE_KEY="sk-test-secret-value-tools-1234"

config() { # $1: the fast tier; $2: extra top-level YAML
  cat > "$WORK/baton.yaml" <<YAML
providers:
  oa: {type: openai, base_url: $URL/v1, api_key_env: FAKE_KEY, models: {gpt-test: {}}}
  an: {type: anthropic, base_url: $URL/v1, api_key_env: FAKE_KEY, models: {claude-test: {}}}
  ge: {type: gemini, base_url: $URL/v1beta, api_key_env: FAKE_KEY, models: {gemini-test: {}}}
  ol: {type: ollama, base_url: $URL, models: {llama-test: {}}}
tiers:
  fast: [$1]
${2:-}
YAML
}

script() { curl -s -X POST "$URL/_fake/script" -d "$1" > /dev/null; }

# events RUN_ID DATA_DIR: the run's journal in $WORK/events.json
events() {
  expect_exit 0 "$BATON" runs events "$1" --json --data-dir "$2"
  cp "$WORK/out" "$WORK/events.json"
}

# 1. read_artifact through each provider's native tool-call format.
for p in oa/gpt-test:openai an/claude-test:anthropic ge/gemini-test:gemini ol/llama-test:ollama; do
  cand=${p%%:*}; route=${p##*:}
  reset
  config "$cand"
  script "[{\"route\":\"$route\",\"tool_call\":{\"name\":\"read_artifact\",\"arguments\":{\"name\":\"notes.md\"}}}]"
  D="$WORK/d-$route"
  expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$D"
  expect_eq "$(json_get "$WORK/out" 'j.status')" completed "$route: status"
  run_id=$(json_get "$WORK/out" 'j.id')
  notes=$(cat "$D"/artifacts/*/notes.md)
  first=$(head -n1 <<< "$notes")
  out=$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "read").outputs.text')
  case "$out" in "The read_artifact tool returned: "*"${first:0:40}"*) ok ;;
    *) fail "$route: the answer should quote the artifact's first line '$first', got: $out" ;; esac
  requests
  expect_eq "$(json_get "$WORK/req.json" 'j.length')" 2 "$route: two model calls"
  # what the first request offered: read_artifact, with the run's artifact names as an enum
  case $route in
    openai) tools='j[0].body.tools.map(t => t.type + ":" + t.function.name + ":" + t.function.parameters.properties.name.enum).join()' ;;
    anthropic) tools='j[0].body.tools.map(t => "function:" + t.name + ":" + t.input_schema.properties.name.enum).join()' ;;
    gemini) tools='j[0].body.tools[0].functionDeclarations.map(t => "function:" + t.name + ":" + t.parametersJsonSchema.properties.name.enum).join()' ;;
    ollama) tools='j[0].body.tools.map(t => t.type + ":" + t.function.name + ":" + t.function.parameters.properties.name.enum).join()' ;;
  esac
  expect_eq "$(json_get "$WORK/req.json" "$tools")" "function:read_artifact:notes.md" "$route: tools offered"
  # what the second request carried back: the call, then its result, matched by id/name
  case $route in
    openai) back='(() => { const m = j[1].body.messages, a = m[m.length - 2], r = m[m.length - 1];
      return [a.role, JSON.parse(a.tool_calls[0].function.arguments).name, r.role, r.tool_call_id == a.tool_calls[0].id, r.content.split("\n")[0]].join("|"); })()' ;;
    anthropic) back='(() => { const m = j[1].body.messages, a = m[m.length - 2], r = m[m.length - 1];
      const u = a.content.find(b => b.type == "tool_use"), t = r.content[0];
      return [a.role, u.input.name, r.role + "/" + t.type, t.tool_use_id == u.id, t.content.split("\n")[0]].join("|"); })()' ;;
    gemini) back='(() => { const c = j[1].body.contents, a = c[c.length - 2], r = c[c.length - 1];
      const f = a.parts.find(p => p.functionCall).functionCall, t = r.parts[0].functionResponse;
      return [a.role == "model" ? "assistant" : a.role, f.args.name, "tool", t.name == f.name && t.id == f.id, t.response.result.split("\n")[0]].join("|"); })()' ;;
    ollama) back='(() => { const m = j[1].body.messages, a = m[m.length - 2], r = m[m.length - 1];
      return [a.role, a.tool_calls[0].function.arguments.name, r.role, r.tool_name == "read_artifact", r.content.split("\n")[0]].join("|"); })()' ;;
  esac
  want_role=tool; [ "$route" = anthropic ] && want_role="user/tool_result"
  expect_eq "$(json_get "$WORK/req.json" "$back")" "assistant|notes.md|$want_role|true|$first" "$route: result sent back"
  # the journal: the request, then the result, then the answer
  events "$run_id" "$D"
  expect_eq "$(json_get "$WORK/events.json" 'j.filter(e => e.data.task == "read" && /^(tool|task)\./.test(e.type)).map(e => e.type).join()')" \
    "task.started,tool.requested,tool.result,task.completed" "$route: journal"
  expect_eq "$(json_get "$WORK/events.json" 'j.find(e => e.type == "tool.result").data.content')" "$notes" "$route: journaled result"
done

# one_task AGENT_YAML: a workflow of one task `t` run by that agent (on the fast tier)
one_task() {
  cat > "$WORK/one.yaml" <<YAML
name: One tool task
defaults: {max_retries: 0}
agents:
  a: {name: Agent, model: fast, $1}
tasks:
  - id: t
    agent: a
    prompt: Do it
YAML
}

# 2. http_fetch: an allowed loopback host (body cut at max_bytes), a host not on the list, then
#    write_artifact refusing a path out of the run's folder and writing a good name.
reset
port=${URL##*:}
config oa/gpt-test "tools: {http_fetch: {allow_hosts: [\"127.0.0.1:$port\"], max_bytes: 8, timeout: 5s}}"
one_task "tools: [http_fetch, write_artifact]"
script "[{\"route\":\"openai\",\"tool_call\":{\"name\":\"http_fetch\",\"arguments\":{\"url\":\"$URL/_fake/health\"}}},
  {\"route\":\"openai\",\"tool_call\":{\"name\":\"http_fetch\",\"arguments\":{\"url\":\"http://localhost:$port/_fake/health\"}}},
  {\"route\":\"openai\",\"tool_call\":{\"name\":\"write_artifact\",\"arguments\":{\"name\":\"../escape.md\",\"content\":\"x\"}}},
  {\"route\":\"openai\",\"tool_call\":{\"name\":\"write_artifact\",\"arguments\":{\"name\":\"fetched.md\",\"content\":\"ok\"}}},
  {\"route\":\"openai\",\"tool_call\":{\"name\":\"http_fetch\",\"arguments\":{\"url\":\"$URL/_fake/health\",\"method\":\"POST\",\"body\":\"x\"}}}]"
D="$WORK/d-fetch"
expect_exit 0 "$BATON" run "$WORK/one.yaml" --config "$WORK/baton.yaml" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "fetch: status"
expect_eq "$(json_get "$WORK/out" 'j.artifacts.map(a => a.name).join()')" fetched.md "fetch: artifact listed"
run_id=$(json_get "$WORK/out" 'j.id')
events "$run_id" "$D"
results='j.filter(e => e.type == "tool.result").map(e => (e.data.is_error ? "ERR " : "OK ") + e.data.content)'
expect_eq "$(json_get "$WORK/events.json" "$results[0]")" "OK HTTP 200

{\"ok\":tr
[cut: the body is longer than tools.http_fetch.max_bytes]" "fetch: allowed host, cut body"
expect_eq "$(json_get "$WORK/events.json" "$results[1]")" \
  "ERR refused: host 'localhost' port $port is not in tools.http_fetch.allow_hosts (an entry without a port allows only 80)" "fetch: host not allowed"
case "$(json_get "$WORK/events.json" "$results[2]")" in
  "ERR '../escape.md' is not an artifact name"*) ok ;; *) fail "write_artifact should refuse ../escape.md" ;; esac
expect_eq "$(json_get "$WORK/events.json" "$results[3]")" "OK wrote fetched.md (version 1, 2 bytes)" "write_artifact"
expect_eq "$(cat "$D/artifacts/$run_id/fetched.md")" ok "written artifact"
# a model's POST to a host allowed only to be read: an error result, never a GET in its place
expect_eq "$(json_get "$WORK/events.json" "$results[4]")" \
  "ERR refused: POST to host '127.0.0.1' is not allowed: tools.http_fetch.allow_hosts lets it be read (GET, HEAD) only; grant writes with an entry {host: 127.0.0.1, methods: [POST]}" "fetch: POST refused"
requests
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.tools.find(t => t.function.name == "http_fetch").function.parameters.properties.method.enum.join()')" \
  "GET,HEAD,POST,PUT,PATCH,DELETE" "fetch: methods offered to the model"
[ -z "$(find "$WORK" -name 'escape.md')" ] || fail "write_artifact wrote outside the run's folder"
ok

# A host allowed by name must connect to a public address: "localhost" resolves to loopback and
# is refused at the socket (a name can resolve, or be rebound, anywhere); allow_private lifts it.
reset
config oa/gpt-test "tools: {http_fetch: {allow_hosts: [\"localhost:$port\"]}}"
script "[{\"route\":\"openai\",\"tool_call\":{\"name\":\"http_fetch\",\"arguments\":{\"url\":\"http://localhost:$port/_fake/health\"}}}]"
expect_exit 0 "$BATON" run "$WORK/one.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d-fetch-name"
events "$(json_get "$WORK/out" 'j.id')" "$WORK/d-fetch-name"
case "$(json_get "$WORK/events.json" "$results[0]")" in
  "ERR refused: the host resolved to 127.0.0.1, which is not a public address"*|"ERR refused: the host resolved to ::1, which is not a public address"*) ok ;;
  *) fail "a name resolving to loopback: $(json_get "$WORK/events.json" "$results[0]")" ;; esac
reset
config oa/gpt-test "tools: {http_fetch: {allow_hosts: [\"localhost:$port\"], allow_private: true}}"
script "[{\"route\":\"openai\",\"tool_call\":{\"name\":\"http_fetch\",\"arguments\":{\"url\":\"http://localhost:$port/_fake/health\"}}}]"
expect_exit 0 "$BATON" run "$WORK/one.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d-fetch-private"
events "$(json_get "$WORK/out" 'j.id')" "$WORK/d-fetch-private"
expect_eq "$(json_get "$WORK/events.json" "$results[0]")" 'OK HTTP 200

{"ok":true}' "allow_private lets a name reach a private address"

# Nothing is allowed without configuration.
reset
config oa/gpt-test
script "[{\"route\":\"openai\",\"tool_call\":{\"name\":\"http_fetch\",\"arguments\":{\"url\":\"$URL/_fake/health\"}}}]"
D="$WORK/d-fetch-default"
expect_exit 0 "$BATON" run "$WORK/one.yaml" --config "$WORK/baton.yaml" --json --data-dir "$D"
events "$(json_get "$WORK/out" 'j.id')" "$D"
case "$(json_get "$WORK/events.json" "$results[0]")" in
  "ERR refused: http_fetch is not allowed to fetch anything"*) ok ;; *) fail "http_fetch allowed without allow_hosts" ;; esac
# a bad tools section is refused at start, naming the key
config oa/gpt-test "tools: {http_fetch: {allow_hosts: example.com}}"
expect_exit 2 "$BATON" run "$WORK/one.yaml" --config "$WORK/baton.yaml" --json --data-dir "$D"
expect_grep "tools.http_fetch.allow_hosts: expected a list" "$WORK/err"

# `type: tool` tasks run the same tools: a fetch, its body written as an artifact, and ask_human
# refused (a question for a person is a human task).
cat > "$WORK/tooltasks.yaml" <<YAML
name: Tool tasks
defaults: {max_retries: 0}
tasks:
  - id: fetch
    type: tool
    tool: http_fetch
    args: {url: "$URL/_fake/health"}
  - id: save
    type: tool
    tool: write_artifact
    depends_on: [fetch]
    args: {name: health.json, content: "{{tasks.fetch.outputs.body}}"}
  - id: ask
    type: tool
    tool: ask_human
    on_failure: continue
    args: {question: Why?}
YAML
config oa/gpt-test "tools: {http_fetch: {allow_hosts: [\"127.0.0.1:$port\"]}}"
D="$WORK/d-tooltasks"
expect_exit 0 "$BATON" run "$WORK/tooltasks.yaml" --config "$WORK/baton.yaml" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "fetch").outputs.status + " " + j.tasks.find(t => t.id == "fetch").outputs.body')" '200 {"ok":true}' "tool task: fetch outputs"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "save").outputs.text')" "wrote health.json (version 1, 11 bytes)" "tool task: write_artifact"
expect_eq "$(cat "$D/artifacts/$(json_get "$WORK/out" 'j.id')/health.json")" '{"ok":true}' "tool task: the artifact"
case "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "ask").error')" in "ask_human is for agents"*) ok ;; *) fail "ask_human as a tool task" ;; esac
# without the allowlist the fetch task fails with the refusal
config oa/gpt-test
expect_exit 1 "$BATON" run "$WORK/tooltasks.yaml" --config "$WORK/baton.yaml" --json --data-dir "$D"
case "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "fetch").error')" in "http_fetch: refused: http_fetch is not allowed"*) ok ;;
  *) fail "fetch task without allow_hosts: $(json_get "$WORK/out" 'j.tasks.find(t => t.id == "fetch").error')" ;; esac

# A quality threshold judges the answer, not the turn that asks for tools (which has no text).
reset
config oa/gpt-test
script '[{"route":"openai","tool_call":{"name":"read_artifact","arguments":{"name":"notes.md"}}}]'
sed 's/^    prompt: Summarise notes.md/    prompt: Summarise notes.md\n    quality_threshold: 0.5/' "$FIX" > "$WORK/quality.yaml"
grep -q "quality_threshold: 0.5" "$WORK/quality.yaml" || fail "the quality fixture was not made"
expect_exit 0 "$BATON" run "$WORK/quality.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d-quality"
events "$(json_get "$WORK/out" 'j.id')" "$WORK/d-quality"
expect_eq "$(json_get "$WORK/events.json" 'j.filter(e => e.type == "llm.call" && e.data.task == "read").map(e => e.data.status).join()')" "ok,ok" "a tool turn is not rejected"

# Text that is not UTF-8 once clipped (a name or URL of multibyte characters cut at a byte count
# in the error message) must still make a journaled result: once, it made the tool loop spin.
long=$(printf 'ツ%.0s' $(seq 70))
reset
config oa/gpt-test
script "[{\"route\":\"openai\",\"tool_call\":{\"name\":\"write_artifact\",\"arguments\":{\"name\":\"$long.md\",\"content\":\"x\"}}},
  {\"route\":\"openai\",\"text\":\"done\"}]"
sed 's/tools: \[read_artifact\]/tools: [write_artifact]/' "$FIX" > "$WORK/write.yaml"
D="$WORK/d-utf8"
expect_exit 0 timeout 60 "$BATON" run "$WORK/write.yaml" --config "$WORK/baton.yaml" --json --data-dir "$D"
events "$(json_get "$WORK/out" 'j.id')" "$D"
expect_eq "$(json_get "$WORK/events.json" '(r => r.data.is_error + " " + /is not an artifact name/.test(r.data.content))(j.find(e => e.type == "tool.result"))')" "true true" "a clipped multibyte name: an error result"
printf 'name: Bad URL\ndefaults: {max_retries: 0}\ntasks:\n  - {id: fetch, type: tool, tool: http_fetch, args: {url: "%s"}}\n' "$long" > "$WORK/badurl.yaml"
config oa/gpt-test "tools: {http_fetch: {allow_hosts: [\"127.0.0.1:$port\"]}}"
expect_exit 1 timeout 60 "$BATON" run "$WORK/badurl.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d-badurl"
expect_eq "$(json_get "$WORK/out" 'j.status')" failed "a tool task with a multibyte URL fails cleanly"
case "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "fetch").error')" in "http_fetch: refused: "*) ok ;;
  *) fail "multibyte URL: $(json_get "$WORK/out" 'j.tasks.find(t => t.id == "fetch").error')" ;; esac

# 3. ask_human becomes an input step; `baton approvals respond` answers it and the loop goes on.
reset
config an/claude-test
one_task "tools: [ask_human]"
script '[{"route":"anthropic","tool_call":{"name":"ask_human","arguments":{"question":"Which colour?"}}}]'
D="$WORK/d-ask"
expect_exit 3 "$BATON" run "$WORK/one.yaml" --config "$WORK/baton.yaml" --json --data-dir "$D"
run_id=$(json_get "$WORK/out" 'j.id')
expect_exit 0 "$BATON" approvals ls --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.map(a => a.task_id + ":" + a.request.kind + ":" + a.request.title).join()')" "t:input:Which colour?" "ask_human request"
expect_exit 0 "$BATON" approvals respond "$run_id" t --decision submitted --feedback Blue \
  --config "$WORK/baton.yaml" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "ask: status after the answer"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "t").outputs.text')" "The ask_human tool returned: Blue
(answered by cli)" "ask: the answer reached the model"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 2 "ask: the question was asked once"
events "$run_id" "$D"
expect_eq "$(json_get "$WORK/events.json" 'j.filter(e => /^(tool|task|approval)\./.test(e.type)).map(e => e.type).join()')" \
  "task.started,tool.requested,approval.requested,approval.responded,tool.result,task.completed" "ask: journal"

# The tool rounds count in the budget: after a person's long answer (40,000 characters, about
# 10,000 tokens at $2/M, $0.02) the next call would pass the $0.01 budget, so it is not made.
reset
config oa/gpt-test
sed -i 's|models: {gpt-test: {}}|models: {gpt-test: {input_per_million: 2, output_per_million: 10}}|' "$WORK/baton.yaml"
one_task "tools: [ask_human], max_tokens: 100"
sed -i 's/^defaults: {max_retries: 0}/defaults: {max_retries: 0}\nbudget: {max_cost_usd: 0.01, on_exceed: fail}/' "$WORK/one.yaml"
script '[{"route":"openai","tool_call":{"name":"ask_human","arguments":{"question":"Tell me everything"}},"usage":{"input":50,"output":20}}]'
D="$WORK/d-ask-budget"
expect_exit 3 "$BATON" run "$WORK/one.yaml" --config "$WORK/baton.yaml" --json --data-dir "$D"
run_id=$(json_get "$WORK/out" 'j.id')
expect_exit 1 "$BATON" approvals respond "$run_id" t --decision submitted --feedback "$(head -c 40000 /dev/zero | tr '\0' 'x')" \
  --config "$WORK/baton.yaml" --json --data-dir "$D"
expect_grep 'budget of \$0.0100 would be exceeded' "$WORK/out"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 1 "no call whose tool rounds would pass the budget"

# Anthropic with JSON output and tools: the forced `output` tool is offered beside the agent's
# tools with tool_choice any; a tool round, then `output` gives the answer.
reset
config an/claude-test
cat > "$WORK/json.yaml" <<YAML
name: JSON with tools
defaults: {max_retries: 0}
agents:
  a:
    name: Agent
    model: fast
    tools: [read_artifact]
    output: {format: json, schema: {type: object, properties: {score: {type: integer}}, required: [score]}}
tasks:
  - {id: t, agent: a, prompt: Score it}
YAML
script '[{"route":"anthropic","tool_call":{"name":"read_artifact","arguments":{"name":"x.md"}}},
  {"route":"anthropic","tool_call":{"name":"output","arguments":{"score":7}}}]'
expect_exit 0 "$BATON" run "$WORK/json.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d-json"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "t").outputs.score')" 7 "anthropic: JSON answer after a tool round"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.body.tool_choice.type + ":" + r.body.tools.map(t => t.name).join("+")).join()')" \
  "any:read_artifact+output,any:read_artifact+output" "anthropic: tools and tool_choice with a schema"

# 4. The iteration bound: a model that keeps asking fails the attempt with a clear message.
reset
config ol/llama-test
one_task "tools: [read_artifact], max_tool_iterations: 2"
call='{"route":"ollama","tool_call":{"name":"read_artifact","arguments":{"name":"none.md"}}}'
script "[$call, $call, $call]"
D="$WORK/d-loop"
expect_exit 1 "$BATON" run "$WORK/one.yaml" --config "$WORK/baton.yaml" --json --data-dir "$D"
case "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "t").error')" in
  *"after 2 rounds of tool calls (max_tool_iterations: 2)"*) ok ;;
  *) fail "iteration bound message: $(json_get "$WORK/out" 'j.tasks.find(t => t.id == "t").error')" ;; esac
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 3 "loop: model calls before the bound"
events "$(json_get "$WORK/out" 'j.id')" "$D"
case "$(json_get "$WORK/events.json" "$results[0]")" in
  "ERR this run has no artifact 'none.md' (it has: none yet)") ok ;;
  *) fail "unknown artifact result: $(json_get "$WORK/events.json" "$results[0]")" ;; esac

# 5. kill -9 while the model's second turn is in flight; the resume sends the journaled result
#    again and never repeats the tool call or the first turn.
reset
config oa/gpt-test
script '[{"route":"openai","tool_call":{"name":"read_artifact","arguments":{"name":"notes.md"}}},
  {"route":"openai","text":"too late","delay_ms":5000}]'
D="$WORK/d-crash"
"$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$D" > "$WORK/bg.out" 2>&1 &
pid=$!
for _ in $(seq 400); do
  [ "$(sqlite3 "$D/baton.db" "SELECT count(*) FROM events WHERE type = 'tool.result'" 2>/dev/null)" = 1 ] 2>/dev/null && break
  sleep 0.05
done
sleep 0.3 # the second turn's request reaches the fake
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
run_id=$(json_get "$WORK/out" 'j[0].id')
expect_eq "$(json_get "$WORK/out" 'j[0].status')" running "crash: killed mid-loop"
expect_exit 0 "$BATON" run --resume "$run_id" --config "$WORK/baton.yaml" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "crash: status after resume"
case "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "read").outputs.text')" in
  "The read_artifact tool returned: "*) ok ;; *) fail "crash: the resumed turn did not carry the result" ;; esac
events "$run_id" "$D"
expect_eq "$(json_get "$WORK/events.json" 'j.filter(e => e.type == "tool.requested").length + "," + j.filter(e => e.type == "tool.result").length')" "1,1" "crash: tool call not repeated"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.body.messages.some(m => m.role == "tool") ? "result" : "first").join()')" \
  "first,result,result" "crash: model turns (the killed one and its resend)"
# The budget is checked before every model call, the next turn after a tool round included:
# the first call (a tool call billed 100 + 2,000 tokens, $0.0202) fits $0.03, the turn after it
# would not, so the run stops there without a second request.
sed 's/^name: Tool loop check/name: Tool loop budget\nbudget: {max_cost_usd: 0.03, on_exceed: fail}/' "$FIX" > "$WORK/budget.yaml"
reset
config "oa/gpt-test"
sed -i 's|models: {gpt-test: {}}|models: {gpt-test: {input_per_million: 2, output_per_million: 10}}|' "$WORK/baton.yaml"
script '[{"route":"openai","tool_call":{"name":"read_artifact","arguments":{"name":"notes.md"}},"usage":{"input":100,"output":2000}}]'
expect_exit 1 "$BATON" run "$WORK/budget.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d-budget"
expect_grep 'budget of \$0.0300 would be exceeded: \$0.0202 spent' "$WORK/out"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 1 "no model call past the budget after a tool round"
events "$(json_get "$WORK/out" 'j.id')" "$WORK/d-budget"
expect_eq "$(json_get "$WORK/events.json" 'j.filter(e => e.type == "tool.result").length')" 1 "the tool ran before the check"
finish
