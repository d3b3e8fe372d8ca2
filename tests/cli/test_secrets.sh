#!/usr/bin/env bash
# Secrets never leave the provider call: a provider whose error answer echoes the API key (as
# OpenAI's "Incorrect API key provided: sk-..." does) fails a run and a gateway call, and the
# key's value is then in no byte of the data dir (journal, projections, SQLite WAL), in no API
# answer (run, task, events, gateway error) and not in the server's log. What the provider said
# otherwise is kept, with the key replaced by [redacted].
source "$(dirname "$0")/lib.sh" "$@"
FIX="$ROOT/tests/cli/fixtures/router_agents.yaml"

start_fake
export FAKE_KEY="sk-test-SECRET-abcdef123456"
cat > "$WORK/baton.yaml" <<YAML
providers:
  paid:
    type: openai
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    timeouts: {connect: 2s, first_byte: 2s, total: 10s}
    models:
      gpt-test: {input_per_million: 2, output_per_million: 10}
tiers:
  fast: [paid/gpt-test]
  best: [paid/gpt-test]
YAML

# echo_key N: the fake's next N chat answers are 401s quoting the key, as providers word it
echo_key() {
  local body entries="" i
  body=$(node -e 'const k = process.env.FAKE_KEY; console.log(JSON.stringify(JSON.stringify({error: {
    message: `Incorrect API key provided: ${k}. Sent: Authorization: Bearer ${k}; x-api-key: ${k}`,
    type: "invalid_request_error", code: "invalid_api_key"}})))')
  for i in $(seq 1 "$1"); do entries+="${entries:+,}{\"route\":\"openai\",\"status\":401,\"body\":$body}"; done
  curl -s -X POST -H 'Content-Type: application/json' -d "[$entries]" "$URL/_fake/script" > /dev/null
}
# no_key FILE...: the key's value is in none of the files (searched byte for byte)
no_key() {
  if grep -r -a -l -F -- "$FAKE_KEY" "$@"; then fail "the key is in: $(grep -r -a -l -F -- "$FAKE_KEY" "$@" | tr '\n' ' ')"; fi
  ok
}

# a run over the API whose only model answers with the key
serve --config "$WORK/baton.yaml"
echo_key 4
get POST /api/v1/runs -H 'Content-Type: application/json' \
  -d "{\"workflow\": $(node -e 'console.log(JSON.stringify(require("fs").readFileSync(process.argv[1], "utf8")))' "$FIX")}"
expect_eq "$(status_code)" 201 "run started"
run=$(json_get "$WORK/out" 'j.id')
until_status "$run" failed
cp "$WORK/out" "$WORK/run.json"
get GET "/api/v1/runs/$run/tasks/write"
cp "$WORK/out" "$WORK/task.json"
get GET "/api/v1/runs/$run/events"
cp "$WORK/out" "$WORK/events.json"
# the provider's words are kept, the key is not
expect_grep "Incorrect API key provided: \[redacted\]" "$WORK/events.json"
expect_grep "Incorrect API key provided" "$WORK/task.json"

# a gateway call whose model answers with the key: OpenAI's error shape, without it
reset
echo_key 4
get POST /v1/chat/completions -H 'Content-Type: application/json' \
  -d '{"model": "paid/gpt-test", "messages": [{"role": "user", "content": "hi"}]}'
cp "$WORK/out" "$WORK/gateway.json"
expect_eq "$(status_code) $(json_get "$WORK/gateway.json" 'j.error.type')" "502 api_error" "gateway error"
expect_grep "\[redacted\]" "$WORK/gateway.json"
# the WAL is looked at while the server holds it open, and the whole data dir after it stopped
no_key "$WORK/d"
stop_serve
no_key "$WORK/run.json" "$WORK/task.json" "$WORK/events.json" "$WORK/gateway.json"
no_key "$WORK/serve.err" "$WORK/serve.out" "$WORK/d"

# the CLI's own run (no server) journals no key either, and prints none
reset
echo_key 4
expect_exit 1 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/cli"
expect_grep "\[redacted\]" "$WORK/out"
no_key "$WORK/out" "$WORK/err" "$WORK/cli"
finish
