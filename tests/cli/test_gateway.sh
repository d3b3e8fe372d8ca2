#!/usr/bin/env bash
# The OpenAI-compatible gateway (/v1) with the official openai npm SDK as the client
# (tests/integration/openai_check.mjs): models, completions streamed and not, a conversation
# with tools, embeddings, OpenAI-shaped errors, calls priced in the ledger; and a server whose
# daily limit is spent refusing calls with 429 insufficient_quota.
source "$(dirname "$0")/lib.sh" "$@"
CHECK="$ROOT/tests/integration/openai_check.mjs"

# sdk_check [ARGS...] : openai_check.mjs against the server started last
sdk_check() {
  node "$CHECK" "$API" "$@" > "$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; fail "openai_check $*"; }
  ok
}

serve
sdk_check
# the ledger is a journal like a run's: the calls are in llm_calls, which the CLI reads too
get GET /api/v1/status
expect_eq "$(json_get "$WORK/out" 'j.gateway.calls >= 5 && j.gateway.failed == 0')" true "ledger in /status"
stop_serve
# the ledger is no run, and the integrity check knows it
expect_exit 0 "$BATON" admin check --data-dir "$WORK/d"

printf 'providers:\n  offline:\n    price: {input_per_million: 1000, output_per_million: 1000}\nbudgets:\n  daily_usd: 0.000001\n' > "$WORK/limited.yaml"
serve --config "$WORK/limited.yaml"
sdk_check limited
stop_serve
finish
