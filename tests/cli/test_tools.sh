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
  run_id=$(json_get "$WORK/out" 'j.run_id')
  notes=$(cat "$D"/artifacts/*/notes.md)
  first=$(head -n1 <<< "$notes")
  out=$(json_get "$WORK/out" 'j.tasks.read.outputs.text')
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
finish
