#!/usr/bin/env bash
# Secrets never leave the provider call: providers whose error answers echo the API key (the
# fake's echo-key mode: OpenAI's "Incorrect API key provided: sk-...", and the header that
# carried it) fail a run and gateway calls, and the keys' values are then in no byte of the data
# dir (journal, projections, SQLite WAL), in no API answer (run, task, events, gateway errors)
# and not in the server's log. The rest of what the provider said is kept, the key reads
# [redacted]. One key has OpenAI's shape, one no known shape at all (only its being configured
# gives it away), one Google's.
source "$(dirname "$0")/lib.sh" "$@"
FIX="$ROOT/tests/cli/fixtures/router_agents.yaml"

start_fake
export FAKE_KEY="sk-test-SECRET-abcdef123456" PLAIN_KEY="plainSECRETvalue9876" \
  GOOGLE_KEY="AIzaSECRETfake0123456789abcdefghijklm"
cat > "$WORK/baton.yaml" <<YAML
providers:
  paid:
    type: openai
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    timeouts: {connect: 2s, first_byte: 2s, total: 10s}
    models:
      echo-key: {input_per_million: 2, output_per_million: 10}
  claude:
    type: anthropic
    base_url: $URL/v1
    api_key_env: PLAIN_KEY
    models:
      echo-key: {}
  google:
    type: gemini
    base_url: $URL/v1beta
    api_key_env: GOOGLE_KEY
    models:
      echo-key: {}
tiers:
  fast: [paid/echo-key]
  best: [paid/echo-key]
YAML
# no_key FILE...: no key's value is in any of the files (searched byte for byte)
no_key() {
  local k
  for k in "$FAKE_KEY" "$PLAIN_KEY" "$GOOGLE_KEY"; do
    if grep -r -a -q -F -- "$k" "$@"; then fail "the key $k is in: $(grep -r -a -l -F -- "$k" "$@" | tr '\n' ' ')"; fi
  done
  ok
}

# a run over the API whose only model answers with the key
serve --config "$WORK/baton.yaml"
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
# the provider's words are kept, the key is not (it was sent: the fake got it)
requests
expect_eq "$(json_get "$WORK/req.json" 'j[0].auth.scheme + " " + j[0].model')" "Bearer echo-key" "the key was sent"
expect_eq "$(json_get "$WORK/events.json" 'j.items.find(e => e.type == "llm.call").data.error')" \
  "paid/echo-key: HTTP 401: Incorrect API key provided: [redacted] (sent as Authorization: Bearer [redacted]). You can find your API key at https://platform.openai.com/account/api-keys." \
  "the llm.call event's error"
expect_grep "Incorrect API key provided: \[redacted\]" "$WORK/task.json"

# gateway calls to each provider, whose model answers with its key: OpenAI's error shape, without it
for m in paid claude google; do
  get POST /v1/chat/completions -H 'Content-Type: application/json' \
    -d "{\"model\": \"$m/echo-key\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"
  cp "$WORK/out" "$WORK/gateway-$m.json"
  expect_eq "$(status_code) $(json_get "$WORK/out" 'j.error.type')" "502 api_error" "gateway error from $m"
  expect_grep "\[redacted\]" "$WORK/out"
done
# the WAL is looked at while the server holds it open, and the whole data dir after it stopped
no_key "$WORK/d"
stop_serve
no_key "$WORK/run.json" "$WORK/task.json" "$WORK/events.json" "$WORK"/gateway-*.json
no_key "$WORK/serve.err" "$WORK/serve.out" "$WORK/d"

# the CLI's own run (no server) journals no key either, and prints none
expect_exit 1 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/cli"
expect_grep "\[redacted\]" "$WORK/out"
no_key "$WORK/out" "$WORK/err" "$WORK/cli"
finish
