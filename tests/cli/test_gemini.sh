#!/usr/bin/env bash
# The Google Gemini provider against the fake server (tests/fakes, whose Gemini route the
# official SDK checks): streamed answers (streamGenerateContent?alt=sse) with usageMetadata and
# cached-token pricing, the request's headers and body (x-goog-api-key, systemInstruction,
# generationConfig, responseSchema in Gemini's OpenAPI subset), JSON outputs, fallback on each
# error class, RetryInfo as Retry-After, llm.call events, and no API key anywhere on disk.
source "$(dirname "$0")/lib.sh" "$@"
FIX="$ROOT/tests/cli/fixtures/gemini_agents.yaml"

start_fake
export FAKE_KEY="AIzaSy-gemini-test-secret-value-9012"

config() { # $1: writing tier, $2: scoring tier
  cat > "$WORK/baton.yaml" <<YAML
providers:
  gem:
    type: gemini
    base_url: $URL/v1beta/
    api_key_env: FAKE_KEY
    timeouts: {connect: 2s, first_byte: 1s, total: 10s}
    models:
      gemini-test: {input_per_million: 1, output_per_million: 4, cached_input_per_million: 0.25}
      fail-429: {input_per_million: 1, output_per_million: 4}
      fail-500: {input_per_million: 1, output_per_million: 4}
      overloaded: {input_per_million: 1, output_per_million: 4}
      cut-stream: {input_per_million: 1, output_per_million: 4}
      stream-error: {input_per_million: 1, output_per_million: 4}
      malformed: {input_per_million: 1, output_per_million: 4}
      budget-refusal: {input_per_million: 1, output_per_million: 4}
      slow-first-byte: {input_per_million: 1, output_per_million: 4}
      not-found: {input_per_million: 1, output_per_million: 4}
  badkey:
    type: gemini
    base_url: $URL/v1beta
    api_key_env: FAKE_BAD_KEY
    models:
      gemini-test: {input_per_million: 1, output_per_million: 4}
  nokey:
    type: gemini
    base_url: $URL/v1beta
    models:
      gemini-test: {input_per_million: 1, output_per_million: 4}
tiers:
  fast: $1
  best: $2
YAML
}
export FAKE_BAD_KEY="invalid-gemini-key-0000"

# 1. Streamed calls with exact usage: promptTokenCount includes the cached part, which costs the
#    cached-input price; the rest of the prompt the input price, candidates the output price.
config "[gem/gemini-test]" "[gem/gemini-test]"
curl -s -X POST "$URL/_fake/script" -d '[
  {"route":"gemini","text":"Tide pools hold life.","usage":{"input":1000,"output":500,"cache_read":200}},
  {"route":"gemini","json":{"score":8,"verdict":"keep"},"usage":{"input":200,"output":10}},
  {"route":"gemini","json":["kelp","crab","tide"],"usage":{"input":100,"output":20}}]' > /dev/null
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text')" "Tide pools hold life." "streamed text"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "score").outputs.score')" 8 "JSON output"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "score").outputs.verdict')" keep "JSON output (enum)"
expect_eq "$(json_get "$WORK/out" 'JSON.stringify(j.tasks.find(t => t.id == "words").outputs)')" '["kelp","crab","tide"]' "array output"
# write: (800*1 + 200*0.25 + 500*4)/1e6 = 0.00285
# score: (200*1 + 10*4)/1e6 = 0.00024; words: (100*1 + 20*4)/1e6 = 0.00018
expect_eq "$(json_get "$WORK/out" 'j.cost_usd.toFixed(6)')" "0.003270" "cost"
expect_eq "$(json_get "$WORK/out" 'j.llm.calls')" 3 "calls recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.input_tokens')" 1300 "input tokens recorded (cached included)"
expect_eq "$(json_get "$WORK/out" 'j.llm.cached_tokens')" 200 "cached tokens recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.output_tokens')" 530 "output tokens recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.cost_usd.toFixed(6)')" "0.003270" "cost recorded"
RUN1=$(json_get "$WORK/out" 'j.id')
expect_exit 0 "$BATON" runs show "$RUN1" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.llm.calls + ":" + j.llm.cached_tokens')" "3:200" "runs show adds the calls up"
expect_exit 0 "$BATON" runs events "$RUN1" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").map(e => e.data.candidate + ":" + e.data.status).join(",")')" \
  "gem/gemini-test:ok,gem/gemini-test:ok,gem/gemini-test:ok" "llm.call events"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "llm.call").data.first_token_ms >= 0')" true "time to first token"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "llm.call").data.cached_tokens')" 200 "cached tokens in llm.call"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "llm.call").data.call_cost_usd.toFixed(6)')" "0.002850" "call cost"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 3 "requests"
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.route + " " + r.path + "?alt=" + r.query.alt).join(",")')" \
  "gemini /v1beta/models/gemini-test:streamGenerateContent?alt=sse,gemini /v1beta/models/gemini-test:streamGenerateContent?alt=sse,gemini /v1beta/models/gemini-test:streamGenerateContent?alt=sse" \
  "streamGenerateContent route"
expect_eq "$(json_get "$WORK/req.json" 'j[0].auth.header')" x-goog-api-key "key in x-goog-api-key"
expect_eq "$(json_get "$WORK/req.json" 'Object.keys(j[0].query).join(",")')" alt "no key in the URL"
expect_eq "$(json_get "$WORK/req.json" 'j[0].stream')" true "stream"
expect_eq "$(json_get "$WORK/req.json" 'Object.keys(j[0].body).sort().join(",")')" \
  "contents,generationConfig,systemInstruction" "only Gemini's fields"
expect_eq "$(json_get "$WORK/req.json" 'typeof j[0].body.systemInstruction.parts[0].text')" string "system instruction"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.contents.map(c => c.role + ":" + c.parts.length).join(",")')" "user:1" "one user turn"
expect_eq "$(json_get "$WORK/req.json" 'JSON.stringify(j[0].body.generationConfig)')" \
  '{"temperature":0.7,"maxOutputTokens":200}' "generationConfig for text"
expect_eq "$(json_get "$WORK/req.json" 'j[1].body.generationConfig.responseMimeType')" application/json "responseMimeType"
expect_eq "$(json_get "$WORK/req.json" 'j[1].body.generationConfig.maxOutputTokens')" 100 "maxOutputTokens"
expect_eq "$(json_get "$WORK/req.json" 'JSON.stringify(j[1].body.generationConfig.responseSchema)')" \
  '{"type":"OBJECT","properties":{"score":{"type":"NUMBER","description":"0 to 10","minimum":0,"maximum":10},"verdict":{"type":"STRING","enum":["keep","cut"],"format":"enum"},"note":{"type":"STRING","nullable":true}},"propertyOrdering":["score","verdict","note"],"required":["score","verdict"]}' \
  "responseSchema in Gemini's subset (\$schema, additionalProperties, default dropped)"
expect_eq "$(json_get "$WORK/req.json" 'JSON.stringify(j[2].body.generationConfig.responseSchema)')" \
  '{"type":"ARRAY","items":{"type":"STRING"},"minItems":3}' "array responseSchema"

# 2. Unscripted, the fake answers from the responseSchema alone.
reset
config "[gem/gemini-test]" "[gem/gemini-test]"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d2"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status unscripted"
expect_eq "$(json_get "$WORK/out" 'typeof j.tasks.find(t => t.id == "score").outputs.score')" number "schema-shaped JSON"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "score").outputs.verdict')" keep "schema-shaped enum"
expect_eq "$(json_get "$WORK/out" 'Array.isArray(j.tasks.find(t => t.id == "words").outputs)')" true "schema-shaped array"
expect_eq "$(json_get "$WORK/out" 'j.llm.calls')" 3 "no schema repairs"
expect_eq "$(json_get "$WORK/out" 'j.llm.input_tokens > 0 && j.llm.output_tokens > 0')" true "usage from usageMetadata"

# 3. A schema Gemini's subset cannot express (an object with no properties) is not sent:
#    responseMimeType alone asks for JSON, and the engine validates the answer.
reset
cat > "$WORK/free.yaml" <<YAML
name: Free-form JSON
agents:
  j: {instructions: Answer., model: best, output: {format: json, schema: {type: object}}}
tasks:
  - {id: answer, agent: j}
YAML
expect_exit 0 "$BATON" run "$WORK/free.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d3"
expect_eq "$(json_get "$WORK/out" 'typeof j.tasks.find(t => t.id == "answer").outputs.reply')" string "free-form JSON answer"
requests
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.generationConfig.responseMimeType')" application/json "JSON asked for"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.generationConfig.responseSchema === undefined')" true "no responseSchema"

# 4. Fallback on each error class: the next candidate answers, and the failure is recorded.
for bad in fail-429 fail-500 overloaded cut-stream stream-error malformed budget-refusal slow-first-byte; do expect_fallback gem gemini-test "$bad"; done
expect_fallback_error fail-429 "HTTP 429 (RESOURCE_EXHAUSTED)"
expect_fallback_error fail-500 "HTTP 500 (INTERNAL)"
expect_fallback_error overloaded "HTTP 503 (UNAVAILABLE)"
expect_fallback_error cut-stream "the stream ended before a finishReason"
expect_cut_stream_billed
expect_fallback_error stream-error "error in stream (UNAVAILABLE)"
expect_fallback_error malformed "malformed stream chunk"
expect_fallback_error budget-refusal "exceeded your current quota"
expect_fallback_error slow-first-byte "first byte\|timeout\|timed out" i

# 5. A model that does not exist is not worth another candidate: the attempt fails at once.
reset
config "[gem/not-found, gem/gemini-test]" "[gem/gemini-test]"
expect_exit 1 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d5"
grep -q "HTTP 404 (NOT_FOUND)" <<< "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").error')" || fail "404 not reported"; ok
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "not-found" "no fallback from a 404"

# 6. Nothing left: the attempt fails with Google's message; Retry-After (or, without the header,
#    RetryInfo's retryDelay) sets the wait.
expect_no_candidate_left gem/fail-429 gem/gemini-test "$WORK/d6" "HTTP 429 (RESOURCE_EXHAUSTED)"
reset
config "[gem/gemini-test]" "[gem/gemini-test]"
curl -s -X POST "$URL/_fake/script" -d '{"route":"gemini","status":429,"body":{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded for metric: generate_content_free_tier_requests","details":[
  {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
  {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2.5s"}]}}}' > /dev/null
expect_exit 0 "$BATON" run "$WORK/retry.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d6b"
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d6b"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.data.retry_in_ms !== undefined).data.retry_in_ms >= 2500')" true "RetryInfo's retryDelay honoured"

# 7. A wrong key (400 API_KEY_INVALID) and no key (403) are authentication failures: the next
#    candidate answers, and no message carries the key.
reset
config "[badkey/gemini-test, nokey/gemini-test, gem/gemini-test]" "[gem/gemini-test]"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d7"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status after auth failures"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.slice(0, 3).map(r => r.auth.header).join(",")')" "x-goog-api-key,,x-goog-api-key" "auth headers sent"
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d7"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").slice(0, 3).map(e => e.data.candidate + ":" + e.data.status).join(",")')" \
  "badkey/gemini-test:error,nokey/gemini-test:error,gem/gemini-test:ok" "fallback after auth failures"
grep -q "API key not valid" "$WORK/out" || fail "invalid key not reported"; ok
grep -q "HTTP 403 (PERMISSION_DENIED)" "$WORK/out" || fail "missing key not reported"; ok
if grep -r -a -q "$FAKE_BAD_KEY" "$WORK/out" "$WORK/err" "$WORK/d7"; then fail "the wrong key was echoed"; fi; ok

# 8. Raw streams: thought parts are not part of the answer and thinking tokens are billed as
#    output; an answer withheld for safety fails the attempt without trying another candidate.
cat > "$WORK/once.yaml" <<YAML
name: Once
agents: {w: {instructions: Write., model: fast}}
tasks:
  - {id: write, agent: w, max_retries: 0}
YAML
reset
config "[gem/gemini-test, gem/fail-500]" "[gem/gemini-test]"
curl -s -X POST "$URL/_fake/script" -d '{"route":"gemini","status":200,"body":"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Let me think.\",\"thought\":true}]},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":100}}\r\n\r\ndata: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Answer.\"}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":100,\"candidatesTokenCount\":10,\"thoughtsTokenCount\":40}}\r\n\r\n"}' > /dev/null
expect_exit 0 "$BATON" run "$WORK/once.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d8"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text')" "Answer." "thought parts left out"
expect_eq "$(json_get "$WORK/out" 'j.llm.output_tokens')" 50 "thinking tokens counted as output"
# (100*1 + 50*4)/1e6 = 0.0003
expect_eq "$(json_get "$WORK/out" 'j.cost_usd.toFixed(6)')" "0.000300" "thinking tokens billed as output"
reset
curl -s -X POST "$URL/_fake/script" -d '{"route":"gemini","status":200,"body":"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"\"}]},\"finishReason\":\"SAFETY\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":100}}\r\n\r\n"}' > /dev/null
expect_exit 1 "$BATON" run "$WORK/once.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d8b"
grep -q "withheld (finishReason SAFETY)" <<< "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").error')" || fail "SAFETY not reported: $(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").error')"; ok
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "gemini-test" "no fallback from a withheld answer"

# 9. The key never reaches the disk: journal, projections, artifacts.
if grep -r -a -q "$FAKE_KEY" "$WORK"; then fail "the API key was written to disk"; fi; ok
finish
