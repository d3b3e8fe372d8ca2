#!/usr/bin/env bash
# The Ollama native provider against the fake server (tests/fakes): streamed /api/chat answers
# (NDJSON, counts on the done line) and their cost, the request's body (messages, stream,
# options, format), no auth header unless a key is configured, local-first routing, JSON
# outputs, fallback on each error class, llm.call events, and no key anywhere on disk.
source "$(dirname "$0")/lib.sh" "$@"
FIX="$ROOT/tests/cli/fixtures/ollama_agents.yaml"

start_fake
export FAKE_KEY="sk-test-secret-value-3456"
export PROXY_KEY="ollama-proxy-secret-7890"

config() { # $1: writing tier, $2: scoring tier
  cat > "$WORK/baton.yaml" <<YAML
providers:
  ol:
    type: ollama
    base_url: $URL/
    local: true
    timeouts: {connect: 2s, first_byte: 1s, total: 10s}
    models:
      llama-test: {input_per_million: 0.5, output_per_million: 1.5}
      fail-429: {input_per_million: 0, output_per_million: 0}
      fail-500: {input_per_million: 0, output_per_million: 0}
      overloaded: {input_per_million: 0, output_per_million: 0}
      cut-stream: {input_per_million: 0, output_per_million: 0}
      stream-error: {input_per_million: 0, output_per_million: 0}
      malformed: {input_per_million: 0, output_per_million: 0}
      budget-refusal: {input_per_million: 0, output_per_million: 0}
      slow-first-byte: {input_per_million: 0, output_per_million: 0}
      not-found: {input_per_million: 0, output_per_million: 0}
  proxied:
    type: ollama
    base_url: $URL
    api_key_env: PROXY_KEY        # a proxy in front of Ollama that wants a bearer token
    models:
      llama-test: {input_per_million: 0, output_per_million: 0}
  paid:
    type: openai
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    models:
      gpt-test: {input_per_million: 2, output_per_million: 10}
tiers:
  fast: $1
  best: $2
YAML
}

# 1. Streamed calls: prompt_eval_count and eval_count of the done line, at the configured prices.
config "[ol/llama-test]" "[ol/llama-test]"
curl -s -X POST "$URL/_fake/script" -d '[
  {"route":"ollama","text":"Tide pools hold life.","usage":{"input":1000,"output":500}},
  {"route":"ollama","json":{"score":8,"verdict":"keep"},"usage":{"input":200,"output":10}},
  {"route":"ollama","json":["kelp","crab","tide"],"usage":{"input":100,"output":20}}]' > /dev/null
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text')" "Tide pools hold life." "streamed text"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "score").outputs.score')" 8 "JSON output"
expect_eq "$(json_get "$WORK/out" 'JSON.stringify(j.tasks.find(t => t.id == "words").outputs)')" '["kelp","crab","tide"]' "array output"
# write: (1000*0.5 + 500*1.5)/1e6 = 0.00125
# score: (200*0.5 + 10*1.5)/1e6 = 0.000115; words: (100*0.5 + 20*1.5)/1e6 = 0.00008
expect_eq "$(json_get "$WORK/out" 'j.cost_usd.toFixed(6)')" "0.001445" "cost"
expect_eq "$(json_get "$WORK/out" 'j.llm.calls')" 3 "calls recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.input_tokens')" 1300 "input tokens recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.cached_tokens')" 0 "no cached tokens"
expect_eq "$(json_get "$WORK/out" 'j.llm.output_tokens')" 530 "output tokens recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.cost_usd.toFixed(6)')" "0.001445" "cost recorded"
RUN1=$(json_get "$WORK/out" 'j.id')
expect_exit 0 "$BATON" runs show "$RUN1" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.llm.calls + ":" + j.llm.input_tokens')" "3:1300" "runs show adds the calls up"
expect_exit 0 "$BATON" runs events "$RUN1" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").map(e => e.data.candidate + ":" + e.data.status).join(",")')" \
  "ol/llama-test:ok,ol/llama-test:ok,ol/llama-test:ok" "llm.call events"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "llm.call").data.first_token_ms >= 0')" true "time to first token"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "llm.call").data.call_cost_usd.toFixed(6)')" "0.001250" "call cost"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 3 "requests"
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.route + " " + r.path).join(",")')" \
  "ollama /api/chat,ollama /api/chat,ollama /api/chat" "/api/chat route"
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.auth.header).join(",")')" ",," "no auth header without a key"
expect_eq "$(json_get "$WORK/req.json" 'j[0].stream')" true "stream"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.stream')" true "stream: true sent"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.model')" llama-test "model"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.messages.map(m => m.role).join(",")')" system,user "system and user messages"
expect_eq "$(json_get "$WORK/req.json" 'JSON.stringify(j[0].body.options)')" '{"temperature":0.7,"num_predict":200}' "options"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.format === undefined')" true "no format for text"
expect_eq "$(json_get "$WORK/req.json" 'j[1].body.options.num_predict')" 100 "num_predict from max_tokens"
expect_eq "$(json_get "$WORK/req.json" 'j[1].body.format.required.join(",")')" score,verdict "schema sent as format"
expect_eq "$(json_get "$WORK/req.json" 'j[1].body.format.additionalProperties')" false "schema sent as written"
expect_eq "$(json_get "$WORK/req.json" 'j[2].body.format.type')" array "array schema as format"

# 2. Unscripted, the fake answers from the format schema alone; JSON without a schema asks for
#    format: "json".
reset
config "[ol/llama-test]" "[ol/llama-test]"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d2"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status unscripted"
expect_eq "$(json_get "$WORK/out" 'typeof j.tasks.find(t => t.id == "score").outputs.score')" number "schema-shaped JSON"
expect_eq "$(json_get "$WORK/out" 'Array.isArray(j.tasks.find(t => t.id == "words").outputs)')" true "schema-shaped array"
expect_eq "$(json_get "$WORK/out" 'j.llm.calls')" 3 "no schema repairs"
expect_eq "$(json_get "$WORK/out" 'j.llm.input_tokens > 0 && j.llm.output_tokens > 0')" true "usage from the done line"
reset
cat > "$WORK/free.yaml" <<YAML
name: Any JSON
agents:
  j: {instructions: Answer., model: best, output: {format: json}}
tasks:
  - {id: answer, agent: j}
YAML
expect_exit 0 "$BATON" run "$WORK/free.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d2b"
expect_eq "$(json_get "$WORK/out" 'typeof j.tasks.find(t => t.id == "answer").outputs.reply')" string "JSON answer without a schema"
requests
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.format')" json 'format: "json"'

# 3. Ollama is local: under local-first it is tried before a paid model written first.
reset
config "[paid/gpt-test, ol/llama-test]" "[ol/llama-test]"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d3"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.route).join(",")')" "ollama,ollama,ollama" "local first"

# 4. Fallback on each error class: the next candidate answers, and the failure is recorded.
for bad in fail-429 fail-500 overloaded cut-stream stream-error malformed budget-refusal slow-first-byte; do expect_fallback ol llama-test "$bad"; done
expect_fallback_error fail-429 "HTTP 429: too many requests"
expect_fallback_error fail-500 "HTTP 500: llama runner"
expect_fallback_error overloaded "HTTP 503: server busy"
expect_fallback_error cut-stream "the stream ended before done"
expect_cut_stream_billed
expect_fallback_error stream-error "error in stream: an error was encountered"
expect_fallback_error malformed "malformed stream line"
expect_fallback_error budget-refusal "HTTP 402: insufficient quota"
expect_fallback_error slow-first-byte "first byte\|timeout\|timed out" i

# 5. A model that is not pulled is not worth another candidate: the attempt fails at once.
reset
config "[ol/not-found, ol/llama-test]" "[ol/llama-test]"
expect_exit 1 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d5"
grep -q 'HTTP 404: model "not-found" not found' <<< "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").error')" || fail "404 not reported"; ok
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "not-found" "no fallback from a 404"

# 6. Nothing left: the attempt fails with Ollama's message, and Retry-After sets the wait.
expect_no_candidate_left ol/fail-429 ol/llama-test "$WORK/d6" "HTTP 429"

# 7. With a key configured (a proxy in front of Ollama), it goes as Authorization: Bearer, and
#    never reaches the disk.
reset
config "[proxied/llama-test]" "[proxied/llama-test]"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d7"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.auth.header + " " + r.auth.scheme).join(",")')" \
  "authorization Bearer,authorization Bearer,authorization Bearer" "bearer token for a proxy"
if grep -r -a -q "$PROXY_KEY\|$FAKE_KEY" "$WORK"; then fail "a key was written to disk"; fi; ok
finish
