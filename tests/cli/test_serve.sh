#!/usr/bin/env bash
# `baton serve` with curl as the client: health, readiness and status, JSON errors with the
# right status for an unknown route, a wrong method and an oversized body, a request id on every
# answer and a JSON log line per request, loopback only unless --insecure, and SIGTERM stopping
# it with exit 0.
source "$(dirname "$0")/lib.sh" "$@"

# serve ARGS...: starts `baton serve --listen 127.0.0.1:0 ARGS`, sets $API and $serve
serve() {
  "$BATON" serve --listen 127.0.0.1:0 --data-dir "$WORK/d" "$@" > "$WORK/serve.out" 2> "$WORK/serve.err" &
  serve=$!
  trap 'kill $serve 2>/dev/null; rm -rf "$WORK"' EXIT
  for _ in $(seq 1 200); do [ -s "$WORK/serve.out" ] && break; sleep 0.05; done
  API=$(json_get "$WORK/serve.out" 'j.listening')
  [[ "$API" == http://127.0.0.1:* ]] || fail "no listening line: $(cat "$WORK/serve.out" "$WORK/serve.err")"
}

# get METHOD PATH [curl args...]: status in $WORK/status, body in $WORK/out, headers in $WORK/hdr
get() {
  local method=$1 path=$2; shift 2
  curl -s -X "$method" -o "$WORK/out" -D "$WORK/hdr" -w '%{http_code}' "$@" "$API$path" > "$WORK/status"
}

serve
get GET /health
expect_eq "$(cat "$WORK/status")" 200 "health status"
expect_eq "$(json_get "$WORK/out" 'j.status + " " + typeof j.version + " " + typeof j.uptime_s')" "ok string number" "health body"
expect_grep "^x-request-id: req-" "$WORK/hdr"
expect_grep "^content-type: application/json" "$WORK/hdr"
get GET /ready
expect_eq "$(cat "$WORK/status")" 200 "ready status"
expect_eq "$(json_get "$WORK/out" 'j.status')" ready "ready body"
get GET /api/v1/status
expect_eq "$(json_get "$WORK/out" '[j.active_runs, j.pending_approvals, j.providers[0].id, j.connections >= 1].join()')" \
  "0,0,offline/offline-1,true" "status body"

# errors: JSON in DESIGN's shape, with the right status
get GET /api/v1/nothing-here
expect_eq "$(cat "$WORK/status")" 404 "unknown route"
expect_eq "$(json_get "$WORK/out" 'j.error.code')" not_found "404 code"
get DELETE /health
expect_eq "$(cat "$WORK/status")" 405 "wrong method"
expect_eq "$(json_get "$WORK/out" 'j.error.code + ": " + j.error.message')" "method_not_allowed: DELETE is not allowed on /health" "405 body"
head -c 2000000 /dev/zero | tr '\0' 'x' > "$WORK/big"
get POST /api/v1/status --data-binary @"$WORK/big"
expect_eq "$(cat "$WORK/status")" 413 "oversized body"
expect_eq "$(json_get "$WORK/out" 'j.error.code')" payload_too_large "413 code"
# the server is still there after that
get GET /health
expect_eq "$(cat "$WORK/status")" 200 "health after an oversized body"
# many requests on one connection (keep-alive), and concurrent clients
curl -s "$API/health" "$API/ready" "$API/health" > "$WORK/three"
expect_eq "$(grep -o '"status"' "$WORK/three" | wc -l)" 3 "keep-alive"
pids=()
for i in $(seq 1 20); do curl -s -o /dev/null -w '%{http_code}\n' "$API/health" >> "$WORK/par" & pids+=($!); done
wait "${pids[@]}" # the curls only: a bare `wait` would wait for the server too
expect_eq "$(grep -c '^200$' "$WORK/par")" 20 "concurrent clients"

# one JSON log line per request, with its id, method, path and status
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(l => JSON.parse(l));
  const reqs = lines.filter(l => l.msg === "request");
  const ids = new Set(reqs.map(r => r.id));
  if (reqs.length < 30 || ids.size !== reqs.length) throw new Error(`log: ${reqs.length} lines, ${ids.size} ids`);
  if (!reqs.some(r => r.status === 413 && r.method === "POST")) throw new Error("no 413 logged");
' "$WORK/serve.err" || fail "request log"
ok

# SIGTERM: stops and exits 0, quickly
kill -TERM "$serve"
start=$(date +%s%N)
set +e; wait "$serve"; code=$?; set -e
expect_eq "$code" 0 "exit status after SIGTERM"
[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 10000 ] || fail "stopping took over 10 s"; ok
expect_grep '"msg":"stopping"' "$WORK/serve.err"

# loopback only, unless --insecure; a bad --listen is a usage error
expect_exit 2 "$BATON" serve --listen 0.0.0.0:0 --data-dir "$WORK/d"
expect_grep "no authentication" "$WORK/err"
expect_exit 2 "$BATON" serve --listen nonsense --data-dir "$WORK/d"
expect_grep "is not HOST:PORT" "$WORK/err"
# a port that is taken: a clear error, exit 1
serve
taken=${API##*:}
expect_exit 1 "$BATON" serve --listen "127.0.0.1:$taken" --data-dir "$WORK/d2"
expect_grep "cannot listen on 127.0.0.1:$taken" "$WORK/err"
finish
