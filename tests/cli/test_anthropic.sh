#!/usr/bin/env bash
# The Anthropic Messages provider against the fake server (tests/fakes, whose Anthropic route the
# official SDK checks): streamed answers with usage and prompt-cache accounting, the request's
# headers and body, JSON outputs through a forced tool, fallback on each error class, llm.call
# events, and no API key anywhere on disk.
source "$(dirname "$0")/lib.sh" "$@"
FIX="$ROOT/tests/cli/fixtures/anthropic_agents.yaml"

start_fake
export FAKE_KEY="sk-ant-test-secret-value-5678"

config() { # $1: writing tier, $2: scoring tier
  cat > "$WORK/baton.yaml" <<YAML
providers:
  claude:
    type: anthropic
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    timeouts: {connect: 2s, first_byte: 1s, total: 10s}
    models:
      claude-test: {input_per_million: 3, output_per_million: 15, cached_input_per_million: 0.3}
      fail-429: {input_per_million: 3, output_per_million: 15}
      fail-500: {input_per_million: 3, output_per_million: 15}
      overloaded: {input_per_million: 3, output_per_million: 15}
      cut-stream: {input_per_million: 3, output_per_million: 15}
      stream-error: {input_per_million: 3, output_per_million: 15}
      malformed: {input_per_million: 3, output_per_million: 15}
      budget-refusal: {input_per_million: 3, output_per_million: 15}
tiers:
  fast: $1
  best: $2
YAML
}

# 1. Streamed calls with exact usage, prompt caching included: uncached input at the input price,
#    cache reads at the cached price, cache writes at 1.25 times the input price.
config "[claude/claude-test]" "[claude/claude-test]"
curl -s -X POST "$URL/_fake/script" -d '[
  {"route":"anthropic","text":"Tide pools hold life.","usage":{"input":1000,"output":500,"cache_read":200,"cache_creation":100}},
  {"route":"anthropic","tool_call":{"name":"output","arguments":{"score":8}},"usage":{"input":200,"output":10}},
  {"route":"anthropic","tool_call":{"name":"output","arguments":{"value":["kelp","crab","tide"]}},"usage":{"input":100,"output":20}}]' > /dev/null
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text')" "Tide pools hold life." "streamed text"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "score").outputs.score')" 8 "JSON output from the forced tool"
expect_eq "$(json_get "$WORK/out" 'JSON.stringify(j.tasks.find(t => t.id == "words").outputs)')" '["kelp","crab","tide"]' "array output unwrapped"
# write: (700*3 + 200*0.3 + 100*3*1.25 + 500*15)/1e6 = 0.010035
# score: (200*3 + 10*15)/1e6 = 0.00075; words: (100*3 + 20*15)/1e6 = 0.0006
expect_eq "$(json_get "$WORK/out" 'j.cost_usd.toFixed(6)')" "0.011385" "cost"
expect_eq "$(json_get "$WORK/out" 'j.llm.calls')" 3 "calls recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.input_tokens')" 1300 "input tokens recorded (cached and written included)"
expect_eq "$(json_get "$WORK/out" 'j.llm.cached_tokens')" 200 "cache reads recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.output_tokens')" 530 "output tokens recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.cost_usd.toFixed(6)')" "0.011385" "cost recorded"
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").map(e => e.data.candidate + ":" + e.data.status).join(",")')" \
  "claude/claude-test:ok,claude/claude-test:ok,claude/claude-test:ok" "llm.call events"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "llm.call").data.first_token_ms >= 0')" true "time to first token"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "llm.call").data.cached_tokens')" 200 "cached tokens in llm.call"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "llm.call").data.call_cost_usd.toFixed(6)')" "0.010035" "call cost"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 3 "requests"
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.route + " " + r.path).join(",")')" \
  "anthropic /v1/messages,anthropic /v1/messages,anthropic /v1/messages" "Messages route"
expect_eq "$(json_get "$WORK/req.json" 'j[0].auth.header')" x-api-key "key in x-api-key"
expect_eq "$(json_get "$WORK/req.json" 'j[0].headers["anthropic-version"]')" 2023-06-01 "anthropic-version"
expect_eq "$(json_get "$WORK/req.json" 'j[0].stream')" true "stream"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.max_tokens')" 200 "max_tokens"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.model')" claude-test "model"
expect_eq "$(json_get "$WORK/req.json" 'typeof j[0].body.system')" string "system prompt"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.messages.map(m => m.role).join(",")')" user "one user message"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.tools === undefined')" true "no tool for text"
expect_eq "$(json_get "$WORK/req.json" 'j[1].body.tools[0].name')" output "output tool"
expect_eq "$(json_get "$WORK/req.json" 'j[1].body.tools[0].input_schema.required[0]')" score "schema sent as the tool's input"
expect_eq "$(json_get "$WORK/req.json" 'JSON.stringify(j[1].body.tool_choice)')" '{"type":"tool","name":"output"}' "tool forced"
expect_eq "$(json_get "$WORK/req.json" 'j[2].body.tools[0].input_schema.properties.value.type')" array "non-object schema wrapped"

# 2. Unscripted, the fake answers the forced tool from the schema alone (input_json_delta).
reset
config "[claude/claude-test]" "[claude/claude-test]"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d2"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status unscripted"
expect_eq "$(json_get "$WORK/out" 'typeof j.tasks.find(t => t.id == "score").outputs.score')" number "schema-shaped JSON"
expect_eq "$(json_get "$WORK/out" 'Array.isArray(j.tasks.find(t => t.id == "words").outputs)')" true "schema-shaped array"
expect_eq "$(json_get "$WORK/out" 'j.llm.calls')" 3 "no schema repairs"

# 3. Fallback on each error class: the next candidate answers, and the failure is recorded.
for bad in fail-429 fail-500 overloaded cut-stream stream-error malformed budget-refusal; do expect_fallback claude claude-test "$bad"; done
expect_fallback_error overloaded "HTTP 529 (overloaded_error)"
expect_fallback_error cut-stream "the stream ended before message_stop"
expect_cut_stream_billed
expect_fallback_error stream-error "error in stream (overloaded_error)"
expect_fallback_error budget-refusal "credit balance"

# 4. Nothing left: the attempt fails with the provider's message, and Retry-After sets the wait.
expect_no_candidate_left claude/fail-429 claude/claude-test "$WORK/d4" "HTTP 429 (rate_limit_error)"

# 5. A wrong key is an authentication failure, and the message does not carry the key.
reset
config "[claude/claude-test]" "[claude/claude-test]"
FAKE_KEY=invalid-key-value-0000 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d5" > "$WORK/out" 2> "$WORK/err" || true
grep -q "HTTP 401 (authentication_error)" <<< "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").error')" || fail "401 not reported: $(cat "$WORK/out")"; ok
if grep -r -a -q "invalid-key-value-0000" "$WORK/out" "$WORK/err" "$WORK/d5"; then fail "the wrong key was echoed"; fi; ok

# 6. The key never reaches the disk: journal, projections, artifacts.
if grep -r -a -q "$FAKE_KEY" "$WORK"; then fail "the API key was written to disk"; fi; ok
finish
