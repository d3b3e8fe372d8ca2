# lib.sh - shared by the CLI tests: each test script gets the baton binary and the source tree,
# works in its own scratch folder, and fails with a message naming what a user would have seen.
# Usage in a test: source "$(dirname "$0")/lib.sh" "$@"
set -euo pipefail
BATON=$(realpath "$1")
ROOT=$(realpath "$2")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
export NO_COLOR=1
# Hermetic: a developer's real keys must never send a test's calls to a real provider.
unset OPENAI_API_KEY ANTHROPIC_API_KEY GEMINI_API_KEY OLLAMA_HOST BATON_DEFAULTS BATON_SERVER
# ... and a developer's own configuration must not change what a test sees.
unset BATON_CONFIG BATON_DATA_DIR
export XDG_CONFIG_HOME="$WORK/xdg"
# `script` runs its command through $SHELL: CI has none set (so /bin/sh, dash, which does not
# exec the command and dies of a Ctrl-C meant for baton). One shell everywhere, and on_terminal
# execs, so a key typed on the pseudo-terminal reaches baton alone.
export SHELL=/bin/sh
checks=0

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); }

# expect_exit CODE CMD... : runs CMD, keeps its output in $WORK/out and $WORK/err
expect_exit() {
  local want=$1; shift
  set +e
  "$@" >"$WORK/out" 2>"$WORK/err" </dev/null
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "--- stdout"; tail -n 30 "$WORK/out"; echo "--- stderr"; tail -n 30 "$WORK/err"
    fail "expected exit $want, got $got: $*"
  fi
  ok
}

# json_get FILE EXPR : evaluates a JavaScript expression on the parsed JSON (as `j`)
json_get() { node -e "const j=JSON.parse(require('fs').readFileSync('$1','utf8')); const v=($2); console.log(typeof v==='object'?JSON.stringify(v):v)"; }

expect_eq() { [ "$1" == "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; ok; }
expect_grep() { grep -q -- "$1" "$2" || { cat "$2"; fail "expected '$1' in $2"; }; ok; }

# on_terminal CMD : runs the command line CMD on a pseudo-terminal (stdin, stdout as given)
on_terminal() { script -qec "exec $1" /dev/null; }

# serve ARGS...: starts `baton serve --listen 127.0.0.1:0 ARGS`, sets $API and $serve
serve() {
  "$BATON" serve --listen 127.0.0.1:0 --data-dir "$WORK/d" "$@" > "$WORK/serve.out" 2> "$WORK/serve.err" &
  serve=$!
  trap 'kill $serve 2>/dev/null || true; rm -rf "$WORK"' EXIT
  for _ in $(seq 1 200); do [ -s "$WORK/serve.out" ] && break; sleep 0.05; done
  API=$(json_get "$WORK/serve.out" 'j.listening')
  [[ "$API" == http://127.0.0.1:* || "$API" == https://127.0.0.1:* ]] || fail "no listening line: $(cat "$WORK/serve.out" "$WORK/serve.err")"
}

# stop_serve : SIGTERM to the server started by serve; it must exit 0 (a sanitizer report fails it)
stop_serve() {
  kill -TERM "$serve"
  local code=0
  wait "$serve" || code=$?
  [ "$code" == 0 ] || { tail -n 40 "$WORK/serve.err"; fail "server exit: expected 0, got $code"; }
  ok
}

# until_status ID STATUS : polls GET /api/v1/runs/ID until it reports STATUS (10 s at most)
until_status() {
  for _ in $(seq 1 200); do
    get GET "/api/v1/runs/$1"
    [ "$(json_get "$WORK/out" 'j.status')" == "$2" ] && { ok; return 0; }
    sleep 0.05
  done
  fail "run $1: expected status $2, got $(json_get "$WORK/out" 'j.status')"
}
# the last answer's status code, and its error code
status_code() { cat "$WORK/status"; }
err_code() { json_get "$WORK/out" 'j.error.code'; }

# get METHOD PATH [curl args...]: status in $WORK/status, body in $WORK/out, headers in $WORK/hdr
get() {
  local method=$1 path=$2; shift 2
  curl -s -X "$method" -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' "$@" "$API$path" > "$WORK/status"
}

finish() { echo "$checks passed, 0 failed"; }

# start_fake [ARGS...]: starts tests/fakes/fake_server.mjs on a free loopback port, sets $URL,
# stops it when the test exits; `requests` saves what it received to $WORK/req.json, `reset`
# forgets it.
start_fake() {
  node "$ROOT/tests/fakes/fake_server.mjs" --port 0 --max-seconds 120 "$@" > "$WORK/fake.out" 2>"$WORK/fake.err" &
  fake=$!
  trap 'kill $fake 2>/dev/null || true; rm -rf "$WORK"' EXIT
  for _ in $(seq 1 100); do [ -s "$WORK/fake.out" ] && break; sleep 0.05; done
  local port
  port=$(head -n1 "$WORK/fake.out" | node -e "console.log(JSON.parse(require('fs').readFileSync(0)).port)")
  URL="http://127.0.0.1:$port"
}
requests() { curl -s "$URL/_fake/requests" > "$WORK/req.json"; }

# expect_fallback PROVIDER GOOD BAD: with the tier [PROVIDER/BAD, PROVIDER/GOOD] the run
# completes, BAD is tried first and GOOD answers, and the journal records one failed and one
# answered call; the run's events are kept in $WORK/events-BAD.json. Uses the test's `config`
# function, $FIX and the fake.
expect_fallback() {
  local p=$1 good=$2 bad=$3
  reset
  config "[$p/$bad, $p/$good]" "[$p/$good]"
  expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/fb-$bad"
  expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status after $bad"
  expect_eq "$(json_get "$WORK/out" 'j.llm.failed')" 1 "failed call recorded after $bad"
  requests
  expect_eq "$(json_get "$WORK/req.json" 'j.slice(0, 2).map(r => r.model).join(",")')" "$bad,$good" "fallback from $bad"
  expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$WORK/fb-$bad"
  cp "$WORK/out" "$WORK/events-$bad.json"
  expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").slice(0, 2).map(e => e.data.candidate + ":" + e.data.status).join(",")')" \
    "$p/$bad:error,$p/$good:ok" "llm.call events after $bad"
}
reset() { curl -s -X POST "$URL/_fake/reset" > /dev/null; }

# fallback_error BAD: the message of the failed call expect_fallback recorded for BAD
fallback_error() { json_get "$WORK/events-$1.json" 'j.find(e => e.type == "llm.call" && e.data.status == "error").data.error'; }
# expect_fallback_error BAD PATTERN [i]: that message matches PATTERN (grep; "i": ignoring case)
expect_fallback_error() {
  local msg; msg=$(fallback_error "$1")
  grep -q${3:-} -- "$2" <<< "$msg" || fail "$1: $msg"; ok
}
# expect_cut_stream_billed: the stream cut half-way (expect_fallback ... cut-stream) was recorded
# with the output it delivered
expect_cut_stream_billed() {
  expect_eq "$(json_get "$WORK/events-cut-stream.json" 'j.find(e => e.type == "llm.call" && e.data.status == "error").data.output_tokens > 0')" true "cut stream output estimated"
}

# expect_no_candidate_left BAD GOOD DATA_DIR PATTERN: with only BAD (it answers 429) for the
# writing tier, $WORK/retry.yaml's one task fails with an error matching PATTERN, and the retry
# waited for the provider's Retry-After. Uses the test's `config` function and the fake.
expect_no_candidate_left() {
  local bad=$1 good=$2 dir=$3 pattern=$4
  reset
  config "[$bad]" "[$good]"
  cat > "$WORK/retry.yaml" <<YAML
name: Retry after
agents: {w: {instructions: Write., model: fast}}
tasks:
  - {id: write, agent: w, max_retries: 1, retry_backoff: {initial: 0.01, jitter: false}}
YAML
  expect_exit 1 "$BATON" run "$WORK/retry.yaml" --config "$WORK/baton.yaml" --json --data-dir "$dir"
  expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").status')" failed "status with no candidate left"
  grep -q -- "$pattern" <<< "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").error')" || fail "the 429 is not in the error"; ok
  expect_exit 0 "$BATON" runs events "$(json_get "$WORK/out" 'j.id')" --json --data-dir "$dir"
  expect_eq "$(json_get "$WORK/out" 'j.find(e => e.data.retry_in_ms !== undefined).data.retry_in_ms >= 1000')" true "Retry-After honoured"
}
