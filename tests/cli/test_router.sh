#!/usr/bin/env bash
# The router against a fake OpenAI-compatible server (tests/fakes, checked by the official
# openai SDK): streaming calls, cost from the configured prices, local-first order, fallback on
# each error class, Retry-After, JSON outputs, and no API key anywhere on disk.
source "$(dirname "$0")/lib.sh" "$@"
FIX="$ROOT/tests/cli/fixtures/router_agents.yaml"

start_fake
export FAKE_KEY="sk-test-secret-value-1234"

config() { # $1: writing tier, $2: scoring tier
  cat > "$WORK/baton.yaml" <<YAML
providers:
  paid:
    type: openai
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    timeouts: {connect: 2s, first_byte: 1s, total: 10s}
    models:
      gpt-test: {input_per_million: 2, output_per_million: 10}
      gpt-cheap: {input_per_million: 0.1, output_per_million: 0.4}
      fail-429: {input_per_million: 2, output_per_million: 10}
      fail-500: {input_per_million: 2, output_per_million: 10}
      overloaded: {input_per_million: 2, output_per_million: 10}
      cut-stream: {input_per_million: 2, output_per_million: 10}
      malformed: {input_per_million: 2, output_per_million: 10}
      budget-refusal: {input_per_million: 2, output_per_million: 10}
      slow-first-byte: {input_per_million: 2, output_per_million: 10}
  local:
    type: openai
    base_url: $URL/v1
    api_key_env: FAKE_KEY       # the fake checks keys like OpenAI; a real vLLM needs none
    local: true
    models:
      llama-test: {input_per_million: 0, output_per_million: 0}
tiers:
  fast: $1
  best: $2
YAML
}

# 1. A streamed call with exact usage: the cost is the configured prices times the tokens.
config "[paid/gpt-test]" "[paid/gpt-test]"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"Tide pools hold life.","usage":{"input":1000,"output":500}},
  {"route":"openai","json":{"score":8},"usage":{"input":200,"output":10}}]' > /dev/null
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text')" "Tide pools hold life." "streamed text"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "score").outputs.score')" 8 "JSON output"
# (1000*2 + 500*10)/1e6 + (200*2 + 10*10)/1e6 = 0.007 + 0.0005
expect_eq "$(json_get "$WORK/out" 'j.cost_usd.toFixed(6)')" "0.007500" "cost"
expect_eq "$(json_get "$WORK/out" 'j.llm.calls')" 2 "calls recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.input_tokens')" 1200 "input tokens recorded"
expect_eq "$(json_get "$WORK/out" 'j.llm.output_tokens')" 510 "output tokens recorded"
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").map(e => e.data.candidate + ":" + e.data.status).join(",")')" "paid/gpt-test:ok,paid/gpt-test:ok" "llm.call events"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "llm.call").data.first_token_ms >= 0')" true "time to first token"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 2 "requests"
expect_eq "$(json_get "$WORK/req.json" 'j[0].stream')" true "stream"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.stream_options.include_usage')" true "include_usage"
expect_eq "$(json_get "$WORK/req.json" 'j[0].auth.scheme')" Bearer "auth scheme"
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.messages[0].role')" system "system message"
expect_eq "$(json_get "$WORK/req.json" 'j[1].body.response_format.type')" json_schema "response_format"
expect_eq "$(json_get "$WORK/req.json" 'j[1].body.response_format.json_schema.schema.required[0]')" score "schema sent"

# 1b. The JSON repair loop: an answer that breaks the agent's schema goes back to the same model
#     with the validator's message, in the same attempt; both answers are paid for.
reset
config "[paid/gpt-test]" "[paid/gpt-test]"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"Tide pools hold life.","usage":{"input":100,"output":10}},
  {"route":"openai","json":{"score":42},"usage":{"input":200,"output":10}},
  {"route":"openai","json":{"score":8},"usage":{"input":300,"output":10}}]' > /dev/null
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d1b"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "score").outputs.score')" 8 "repaired JSON output"
# (100*2 + 10*10 + 200*2 + 10*10 + 300*2 + 10*10)/1e6
expect_eq "$(json_get "$WORK/out" 'j.cost_usd.toFixed(6)')" "0.001500" "the rejected answer is paid for"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 3 "one repair round"
expect_eq "$(json_get "$WORK/req.json" 'JSON.stringify(j[2].body.messages).includes("42") && /maximum|at most|<= ?10/.test(JSON.stringify(j[2].body.messages))')" true "the validator's message goes back"
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d1b"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "task.output_rejected").map(e => e.data.task + ":" + e.data.repair).join()')" "score:1" "output_rejected journaled"

# 2. Local first: the local model is tried before the paid one, whatever the order written.
reset
config "[paid/gpt-test, local/llama-test]" "[local/llama-test]"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d2"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "llama-test,llama-test" "local first"

# 3. Fallback on each error class: the next candidate answers.
for bad in fail-429 fail-500 overloaded cut-stream malformed budget-refusal slow-first-byte; do expect_fallback paid gpt-test "$bad"; done

# 4. Nothing left: the attempt fails with the provider's message, and Retry-After sets the wait.
expect_no_candidate_left paid/fail-429 paid/gpt-test "$WORK/d4" "HTTP 429"

# 4b. Circuit breaker: after 2 consecutive failures the failing model is skipped for the
#     cooldown, so later tasks go straight to the next candidate.
reset
config "[paid/fail-500, paid/gpt-test]" "[paid/gpt-test]"
printf 'routing:\n  breaker: {failures: 2, cooldown: 60s}\n' >> "$WORK/baton.yaml"
{ echo "name: Breaker"; echo "agents: {w: {instructions: Write., model: fast}}"; echo "tasks:"
  echo "  - {id: t1, agent: w}"
  for i in 2 3 4 5; do echo "  - {id: t$i, agent: w, depends_on: [t$((i - 1))]}"; done
} > "$WORK/breaker.yaml"
expect_exit 0 "$BATON" run "$WORK/breaker.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4b"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.filter(r => r.model == "fail-500").length')" 2 "calls to the failing model"
expect_eq "$(json_get "$WORK/req.json" 'j.filter(r => r.model == "gpt-test").length')" 5 "calls to the healthy model"

# 4b'. ...and closes again: after the cooldown one probe goes through; it answers, so the model
#      is used again at once.
reset
config "[paid/flaky, paid/gpt-test]" "[paid/gpt-test]"
sed -i 's|      gpt-test: {input_per_million: 2, output_per_million: 10}|&\n      flaky: {input_per_million: 2, output_per_million: 10}|' "$WORK/baton.yaml"
printf 'routing:\n  breaker: {failures: 1, cooldown: 0.3s}\n' >> "$WORK/baton.yaml"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","model":"flaky","status":500,"body":{"error":{"message":"down","type":"server_error"}}},
  {"route":"openai","model":"gpt-test","text":"slow","delay_ms":500}]' > /dev/null
{ echo "name: Breaker closes"; echo "agents: {w: {instructions: Write., model: fast}}"; echo "tasks:"
  echo "  - {id: t1, agent: w}"; echo "  - {id: t2, agent: w, depends_on: [t1]}"; echo "  - {id: t3, agent: w, depends_on: [t2]}"
} > "$WORK/closes.yaml"
expect_exit 0 "$BATON" run "$WORK/closes.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4b2"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "flaky,gpt-test,flaky,flaky" "open, probe, closed"

# 4c. Provider limits: with concurrency 1 the calls queue and go one at a time; a call that
#     waits past the queue timeout moves on to the next candidate.
{ echo "name: Limits"; echo "agents: {w: {instructions: Write., model: fast}}"; echo "concurrency: 4"; echo "tasks:"
  for i in 1 2 3 4; do echo "  - {id: p$i, agent: w}"; done
} > "$WORK/limits.yaml"
reset
config "[paid/gpt-test]" "[paid/gpt-test]"
sed -i 's|^  paid:|  paid:\n    limits: {concurrency: 1, queue_timeout: 30s}|' "$WORK/baton.yaml"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"a","delay_ms":150},{"route":"openai","text":"b","delay_ms":150},
  {"route":"openai","text":"c","delay_ms":150},{"route":"openai","text":"d","delay_ms":150}]' > /dev/null
expect_exit 0 "$BATON" run "$WORK/limits.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4c"
requests
# one at a time: each request arrives after the previous answer (150 ms later)
expect_eq "$(json_get "$WORK/req.json" 'j.slice(1).every((r, i) => Date.parse(r.time) - Date.parse(j[i].time) >= 140)')" true "calls serialised by the limit"
reset
config "[paid/gpt-test, local/llama-test]" "[paid/gpt-test]"
sed -i 's|^  paid:|  paid:\n    limits: {concurrency: 1, queue_timeout: 0.05s}|' "$WORK/baton.yaml"
sed -i 's|^    local: true|    local: false|' "$WORK/baton.yaml"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","model":"gpt-test","text":"slow","delay_ms":400}]' > /dev/null
expect_exit 0 "$BATON" run "$WORK/limits.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4d"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.filter(r => r.model == "llama-test").length')" 3 "queued calls moved on after the queue timeout"

# 4d'. Tokens per minute: a call is charged its estimate (prompt + max_tokens) when admitted.
#      12,000 tokens a minute hold 2,000 at most and refill 200 a second; each call here is
#      ~733 tokens (16 of prompt, 717 of max_tokens) and uses exactly that, so two fit at once
#      and the third waits about a second for the bucket to refill.
{ echo "name: Token limits"; echo "agents: {w: {instructions: Write., model: fast, max_tokens: 717}}"
  echo "concurrency: 3"; echo "tasks:"; for i in 1 2 3; do echo "  - {id: p$i, agent: w}"; done
} > "$WORK/tpm.yaml"
reset
config "[paid/gpt-test]" "[paid/gpt-test]"
sed -i 's|^  paid:|  paid:\n    limits: {tokens_per_minute: 12000, queue_timeout: 30s}|' "$WORK/baton.yaml"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"a","usage":{"input":16,"output":717}},
  {"route":"openai","text":"b","usage":{"input":16,"output":717}},{"route":"openai","text":"c","usage":{"input":16,"output":717}}]' > /dev/null
expect_exit 0 "$BATON" run "$WORK/tpm.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4tpm"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 3 "calls under the token limit"
expect_eq "$(json_get "$WORK/req.json" 'Date.parse(j[1].time) - Date.parse(j[0].time) < 500')" true "two calls fit the bucket at once"
expect_eq "$(json_get "$WORK/req.json" 'Date.parse(j[2].time) - Date.parse(j[0].time) >= 800')" true "the third waits for the token limit"
expect_exit 0 "$BATON" providers ls --config "$WORK/baton.yaml" --json
expect_eq "$(json_get "$WORK/out" 'j.find(c => c.id == "paid/gpt-test").limits.tokens_per_minute')" 12000 "token limit shown"

# 4e. Edges that once crashed (ASan would fail these): every breaker open, a zero queue
#     timeout, a non-string tier entry, an absurd Retry-After.
reset
config "[paid/fail-500]" "[paid/gpt-test]"
printf 'routing:\n  breaker: {failures: 2, cooldown: 0.2s}\n' >> "$WORK/baton.yaml"
cat > "$WORK/open.yaml" <<YAML
name: All open
agents: {w: {instructions: Write., model: fast}}
tasks:
  - {id: write, agent: w, max_retries: 3, retry_backoff: {initial: 0.01, max: 0.01, jitter: false}}
YAML
expect_exit 1 "$BATON" run "$WORK/open.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4e1"
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d4e1"
# attempt 3 finds the breaker open and waits out the cooldown; attempt 4 is the probe
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "task.failed").map(e => /circuit breaker is open/.test(e.data.error)).join(",")')" \
  "false,false,true,false" "attempts against an open breaker"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").length')" 3 "no call while the breaker is open"
reset
config "[paid/gpt-test, local/llama-test]" "[paid/gpt-test]"
sed -i 's|^  paid:|  paid:\n    limits: {concurrency: 1, queue_timeout: 0s}|' "$WORK/baton.yaml"
expect_exit 0 "$BATON" run "$WORK/limits.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4e2"
config "[42, paid/gpt-test]" "[paid/gpt-test]"
expect_exit 2 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4e3"
expect_grep "baton.yaml:[0-9]*:[0-9]*: error: tiers.fast\[0\]: expected provider/model, got 42" "$WORK/err"
reset
config "[paid/gpt-test]" "[paid/gpt-test]"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","status":429,"headers":{"Retry-After":"1e30"},"body":{"error":{"message":"slow down","type":"rate_limit"}}}]' > /dev/null
expect_exit 1 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4e4"
grep -q "HTTP 429" <<< "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").error')" || fail "the 429 with an absurd Retry-After"; ok

# 4f. Routing policies: `cost` tries the cheapest candidate for the request first; `latency`
#     measures a candidate it has never timed, then prefers the faster one.
reset
config "[paid/gpt-test, paid/gpt-cheap]" "[paid/gpt-test, paid/gpt-cheap]"
printf 'routing:\n  policy: cost\n' >> "$WORK/baton.yaml"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4f1"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "gpt-cheap,gpt-cheap" "cost policy"
reset
config "[paid/gpt-test, paid/gpt-cheap]" "[paid/gpt-test]"
printf 'routing:\n  policy: latency\n' >> "$WORK/baton.yaml"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","model":"gpt-test","text":"slow","delay_ms":300}]' > /dev/null
expect_exit 0 "$BATON" run "$WORK/breaker.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4f2"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "gpt-test,gpt-cheap,gpt-cheap,gpt-cheap,gpt-cheap" "latency policy"
# The same through the environment: BATON__SECTION__KEY overrides the file.
reset
config "[paid/gpt-test, paid/gpt-cheap]" "[paid/gpt-test, paid/gpt-cheap]"
BATON__routing__policy=cost expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4f4"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "gpt-cheap,gpt-cheap" "cost policy from the environment"
BATON__budgets__daily_usd=-1 expect_exit 2 "$BATON" run "$FIX" --data-dir "$WORK/d4f5"
expect_grep "BATON__budgets__daily_usd: error: budgets.daily_usd: expected a number, 0 or more, got -1" "$WORK/err"
BATON__tiers=[] BATON__tiers__fast=x expect_exit 2 "$BATON" run "$FIX" --data-dir "$WORK/d4f5"
expect_grep "BATON__tiers__fast: error: not a configuration path: tiers is a list here" "$WORK/err"
config "[paid/gpt-test]" "[paid/gpt-test]"
printf 'routing:\n  policy: cheapest\n' >> "$WORK/baton.yaml"
expect_exit 2 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4f3"
expect_grep "not one of: local-first, ordered, cost, latency, score" "$WORK/err"

# 4g. A failed quality check moves on: an answer below the task's quality_threshold (here a
#     refusal, scored 0.4) is recorded as rejected, paid for, and the next candidate answers.
cat > "$WORK/quality.yaml" <<YAML
name: Quality
agents: {w: {instructions: Write., model: fast}}
tasks:
  - {id: write, agent: w, quality_threshold: 0.5, max_retries: 0}
YAML
reset
config "[paid/gpt-test, paid/gpt-cheap]" "[paid/gpt-test]"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","model":"gpt-test","text":"I am sorry, I cannot help with that.","usage":{"input":100,"output":10}},
  {"route":"openai","model":"gpt-cheap","text":"Tide pools teem with life.","usage":{"input":100,"output":20}}]' > /dev/null
expect_exit 0 "$BATON" run "$WORK/quality.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4g"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text')" "Tide pools teem with life." "the next candidate's answer"
# (100*2 + 10*10)/1e6 for the rejected answer + (100*0.1 + 20*0.4)/1e6 for the accepted one
expect_eq "$(json_get "$WORK/out" 'j.cost_usd.toFixed(6)')" "0.000318" "both answers paid for"
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d4g"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").map(e => e.data.candidate + ":" + e.data.status).join(",")')" \
  "paid/gpt-test:rejected,paid/gpt-cheap:ok" "llm.call statuses"
expect_eq "$(json_get "$WORK/out" '/reads as a refusal/.test(j.find(e => e.type == "llm.call").data.error)')" true "why it was rejected"
reset
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"I am sorry, I cannot help with that."},
  {"route":"openai","text":"I am sorry, I cannot help with that."}]' > /dev/null
expect_exit 1 "$BATON" run "$WORK/quality.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4g2"
expect_grep "quality 0.40 is below the threshold 0.50" "$WORK/out"

# 4h. Budget downgrade: when the next call's estimate on its tier would pass the budget, the
#     task moves to the most capable tier that still fits (journaled), instead of pausing.
#     best and balanced cost ~$0.0021 a call here (200 output tokens at $10/M), fast ~$0.0001.
cat > "$WORK/downgrade.yaml" <<YAML
name: Downgrade
budget: {max_cost_usd: 0.003, on_exceed: downgrade}
agents: {w: {instructions: Write., model: best, max_tokens: 200}}
tasks:
  - {id: t1, agent: w}
  - {id: t2, agent: w, depends_on: [t1]}
YAML
reset
config "[paid/gpt-cheap]" "[paid/gpt-test]"
printf '  balanced: [paid/gpt-test]\n' >> "$WORK/baton.yaml"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"first","usage":{"input":100,"output":150}},
  {"route":"openai","text":"second","usage":{"input":100,"output":150}}]' > /dev/null
expect_exit 0 "$BATON" run "$WORK/downgrade.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4h"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status after a downgrade"
# (100*2 + 150*10)/1e6 on best, then (100*0.1 + 150*0.4)/1e6 on fast
expect_eq "$(json_get "$WORK/out" 'j.cost_usd.toFixed(6)')" "0.001770" "cost within the budget"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "gpt-test,gpt-cheap" "the second call on the cheaper tier"
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d4h"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type.startsWith("budget.")).map(e => e.type + ":" + e.data.task + ":" + (e.data.model || "")).join(",")')" \
  "budget.exceeded:t2:,budget.downgraded:t2:fast" "budget events"
# Nothing cheap enough (every tier on the dear model; an unconfigured tier would run on the
# free offline model and fit): the run pauses, as with on_exceed: pause.
sed -i 's|max_cost_usd: 0.003|max_cost_usd: 0.0018|' "$WORK/downgrade.yaml"
sed -i 's|^  fast: .*|  fast: [paid/gpt-test]|' "$WORK/baton.yaml"
printf '  local: [paid/gpt-test]\n' >> "$WORK/baton.yaml"
reset
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"first","usage":{"input":100,"output":150}}]' > /dev/null
expect_exit 1 "$BATON" run "$WORK/downgrade.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4h2"
expect_eq "$(json_get "$WORK/out" 'j.status')" paused "paused when no tier fits"

# 4i. Daily limits: money spent today by every run (budgets.daily_usd) and by the runs of one
#     workflow (budgets.workflows.NAME.daily_usd) stops a call that would pass them, as the
#     run's on_exceed says (fail here). Each run below costs $0.0017 and estimates ~$0.0021.
cat > "$WORK/daily.yaml" <<YAML
name: Daily
agents: {w: {instructions: Write., model: best, max_tokens: 200}}
tasks:
  - {id: write, agent: w}
YAML
sed 's/^name: Daily/name: Other/' "$WORK/daily.yaml" > "$WORK/other.yaml"
reset
config "[paid/gpt-test]" "[paid/gpt-test]"
printf 'budgets:\n  daily_usd: 0.004\n' >> "$WORK/baton.yaml"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"a","usage":{"input":100,"output":150}},
  {"route":"openai","text":"b","usage":{"input":100,"output":150}}]' > /dev/null
expect_exit 0 "$BATON" run "$WORK/daily.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4i"
expect_exit 0 "$BATON" run "$WORK/other.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4i"
expect_exit 1 "$BATON" run "$WORK/daily.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4i"
expect_grep 'the daily limit of \$0.0040 for all runs would be exceeded: \$0.0034 spent today' "$WORK/out"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 2 "no call past the daily limit"
config "[paid/gpt-test]" "[paid/gpt-test]"
printf 'budgets:\n  workflows: {Daily: {daily_usd: 0.003}}\n' >> "$WORK/baton.yaml"
reset
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"a","usage":{"input":100,"output":150}},
  {"route":"openai","text":"b","usage":{"input":100,"output":150}}]' > /dev/null
expect_exit 0 "$BATON" run "$WORK/daily.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4i2"
expect_exit 1 "$BATON" run "$WORK/daily.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4i2"
expect_grep "the daily limit of \$0.0030 for workflow 'Daily' would be exceeded" "$WORK/out"
expect_exit 0 "$BATON" run "$WORK/other.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4i2"
printf 'budgets: {daily_usd: -1}\n' > "$WORK/bad-budget.yaml"
expect_exit 2 "$BATON" run "$WORK/daily.yaml" --config "$WORK/bad-budget.yaml" --data-dir "$WORK/d4i3"
expect_grep "bad-budget.yaml:1:22: error: budgets.daily_usd: expected a number, 0 or more" "$WORK/err"

# 4j. A call cancelled mid-stream (here by the task's timeout) is billed for what it received:
#     the streamed text (4 bytes a token) and the prompt it answered, recorded as cancelled and
#     counted in the run's cost.
cat > "$WORK/cancel.yaml" <<YAML
name: Cancelled
agents: {w: {instructions: Write., model: fast}}
tasks:
  - {id: write, agent: w, timeout: 1s, max_retries: 0}
YAML
reset
config "[paid/gpt-test]" "[paid/gpt-test]"
long=$(printf 'word%02d ' $(seq 1 40))
curl -s -X POST "$URL/_fake/script" -d "[{\"route\":\"openai\",\"text\":\"$long\",\"chunk_ms\":100}]" > /dev/null
expect_exit 1 "$BATON" run "$WORK/cancel.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4j"
cost=$(json_get "$WORK/out" 'j.cost_usd')
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d4j"
call='j.find(e => e.type == "llm.call").data'
expect_eq "$(json_get "$WORK/out" "$call.status")" cancelled "status of the cut-off call"
expect_eq "$(json_get "$WORK/out" "$call.output_tokens > 0 && $call.output_tokens < 100")" true "tokens received before the cancel"
expect_eq "$(json_get "$WORK/out" "$call.input_tokens > 0")" true "the prompt is billed"
expect_eq "$(json_get "$WORK/out" "(($call.input_tokens * 2 + $call.output_tokens * 10) / 1e6).toFixed(8) == $call.call_cost_usd.toFixed(8)")" true "cost from the tokens"
expect_eq "$(json_get "$WORK/out" "$call.call_cost_usd.toFixed(8) == Number($cost).toFixed(8)")" true "the run's cost includes it"

# 4k. The budget holds across fallbacks: when the cheap first candidate fails, a dearer one
#     whose estimate would pass the budget is not tried. The failure may pass (a 500), so the
#     attempt fails with it and the task's retries apply; the message says why no other
#     candidate was tried.
cat > "$WORK/fallback-budget.yaml" <<YAML
name: Fallback budget
budget: {max_cost_usd: 0.001, on_exceed: fail}
agents: {w: {instructions: Write., model: fast, max_tokens: 200}}
tasks:
  - {id: write, agent: w, max_retries: 0}
YAML
reset
config "[paid/fail-500, paid/gpt-test]" "[paid/gpt-test]"
sed -i 's|      fail-500: {input_per_million: 2, output_per_million: 10}|      fail-500: {input_per_million: 0.1, output_per_million: 0.4}|' "$WORK/baton.yaml"
expect_exit 1 "$BATON" run "$WORK/fallback-budget.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4k"
expect_eq "$(json_get "$WORK/out" '/HTTP 500.*the other candidates were not tried: each may cost more than the \$0.0010/.test(j.tasks.find(t => t.id == "write").error)')" true "why the fallback was skipped"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "fail-500" "the dearer fallback is not called"
# 4k'. The router sees the prompt as rendered, the engine only as written: here a 40,000-byte
#      upstream output fills the prompt ($0.02 of input on gpt-test) while the engine's estimate
#      fits the $0.01 budget. The router refuses every candidate, and on_exceed applies.
cat > "$WORK/rendered.yaml" <<YAML
name: Rendered prompt
budget: {max_cost_usd: 0.01, on_exceed: fail}
agents:
  w1: {instructions: Write., model: fast, max_tokens: 20000}
  w2: {instructions: Summarise., model: best, max_tokens: 100}
tasks:
  - {id: draft, agent: w1}
  - {id: sum, agent: w2, depends_on: [draft], inputs: {text: "{{tasks.draft.output}}"}}
YAML
reset
config "[paid/gpt-cheap]" "[paid/gpt-test]"
big=$(printf 'lorem%.0s ' $(seq 6700))
curl -s -X POST "$URL/_fake/script" -d "[{\"route\":\"openai\",\"text\":\"$big\",\"usage\":{\"input\":10,\"output\":10}}]" > /dev/null
expect_exit 1 "$BATON" run "$WORK/rendered.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4k2"
expect_grep 'budget of \$0.0100 would be exceeded' "$WORK/out"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 1 "no call on a prompt that would pass the budget"
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d4k2"
expect_eq "$(json_get "$WORK/out" '/every candidate left may cost more/.test(j.find(e => e.type == "budget.exceeded").data.detail)')" true "the router's refusal in the journal"
# The same for a consensus vote: a vote the budget refuses is not an abstention; on_exceed
# applies (here downgrade: the votes are asked again on the balanced tier, unconfigured, so
# the offline model).
cat > "$WORK/vote.yaml" <<YAML
name: Vote budget
budget: {max_cost_usd: 0.01, on_exceed: downgrade}
agents:
  w1: {instructions: Write., model: fast, max_tokens: 20000}
  a: {instructions: Judge., model: best, max_tokens: 100}
  b: {instructions: Judge., model: best, max_tokens: 100}
tasks:
  - {id: draft, agent: w1}
  - id: vote
    type: consensus
    depends_on: [draft]
    agents: [a, b]
    question: "Publish this? {{tasks.draft.output}}"
    options: [publish, hold]
    method: weighted
YAML
reset
curl -s -X POST "$URL/_fake/script" -d "[{\"route\":\"openai\",\"text\":\"$big\",\"usage\":{\"input\":10,\"output\":10}}]" > /dev/null
expect_exit 0 "$BATON" run "$WORK/vote.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4k3"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "vote").status')" completed "the vote after the downgrade"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length')" 1 "no vote sent past the budget"
expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/d4k3"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type.startsWith("budget.")).map(e => e.type + ":" + (e.data.model || "")).join()')" \
  "budget.exceeded:,budget.downgraded:balanced" "the votes' budget events"

# 5. A provider whose key variable is unset is left out, and says so.
reset
config "[paid/gpt-test]" "[paid/gpt-test]"
FAKE_KEY= "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d5" > "$WORK/out" 2> "$WORK/err" || true
expect_grep "FAKE_KEY is not set" "$WORK/err"

# 5b. providers ls: the configured candidates, their breakers and what they cost today;
#     providers test: one real round trip.
reset
config "[paid/gpt-test]" "[paid/gpt-test]"
expect_exit 0 "$BATON" providers ls --config "$WORK/baton.yaml" --data-dir "$WORK/d1" --json
expect_eq "$(json_get "$WORK/out" 'j.map(c => c.id).includes("paid/gpt-test")')" true "candidate listed"
expect_eq "$(json_get "$WORK/out" 'j.find(c => c.id == "paid/gpt-test").today.calls')" 2 "calls today"
expect_eq "$(json_get "$WORK/out" 'j.find(c => c.id == "local/llama-test").local')" true "local flag"
expect_exit 0 "$BATON" providers test paid/gpt-test --config "$WORK/baton.yaml" --json
expect_eq "$(json_get "$WORK/out" 'j.status')" ok "round trip"
expect_exit 1 "$BATON" providers test paid/fail-500 --config "$WORK/baton.yaml"
expect_grep "HTTP 500" "$WORK/out"
expect_exit 2 "$BATON" providers test nobody/none --config "$WORK/baton.yaml"

# 5c. No --config: the shipped defaults (config/defaults.yaml) apply, each provider enabled only
#     by its environment variable. None set: everything runs offline. Here a defaults file
#     points the standard OpenAI entry at the fake.
expect_exit 0 "$BATON" providers ls --json
expect_eq "$(json_get "$WORK/out" 'j.map(c => c.id).join(",")')" "offline/offline-1,offline/offline-embed-1" "no key: offline only"
sed "s|https://api.openai.com/v1|$URL/v1|; s|OPENAI_API_KEY|FAKE_KEY|" "$ROOT/config/defaults.yaml" > "$WORK/defaults.yaml"
reset
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"from the defaults"}]' > /dev/null
BATON_DEFAULTS="$WORK/defaults.yaml" expect_exit 0 "$BATON" run "$FIX" --json --data-dir "$WORK/d5c"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text')" "from the defaults" "default provider used"
requests
expect_eq "$(json_get "$WORK/req.json" 'j[0].model')" gpt-4o-mini "the fast tier's first enabled model"

# 6. The key never reaches the disk: journal, projections, artifacts.
if grep -r -a -q "$FAKE_KEY" "$WORK"; then fail "the API key was written to disk"; fi; ok
finish
