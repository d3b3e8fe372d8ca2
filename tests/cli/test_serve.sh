#!/usr/bin/env bash
# `baton serve` with curl as the client: health, readiness and status, JSON errors with the
# right status for an unknown route, a wrong method and an oversized body, a request id on every
# answer and a JSON log line per request, loopback only unless --insecure, and SIGTERM stopping
# it with exit 0.
source "$(dirname "$0")/lib.sh" "$@"

# three finished runs in the data dir the server will read
cat > "$WORK/tiny.yaml" <<YAML
name: Tiny
agents: {w: {instructions: Write a line.}}
tasks:
  - {id: a, agent: w}
  - {id: b, agent: w, depends_on: [a]}
YAML
for i in 1 2 3; do expect_exit 0 "$BATON" run "$WORK/tiny.yaml" --json --data-dir "$WORK/d"; done
expect_exit 0 "$BATON" runs ls --json --data-dir "$WORK/d"
cp "$WORK/out" "$WORK/ls.json"

serve
get GET /health
expect_eq "$(cat "$WORK/status")" 200 "health status"
expect_eq "$(json_get "$WORK/out" 'j.status + " " + typeof j.version + " " + typeof j.uptime_ms + " " + /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(j.started_at)')" "ok string number true" "health body"
expect_grep "^x-request-id: req-" "$WORK/hdr"
expect_grep "^content-type: application/json" "$WORK/hdr"
get GET /ready
expect_eq "$(cat "$WORK/status")" 200 "ready status"
expect_eq "$(json_get "$WORK/out" 'j.status')" ready "ready body"
get GET /api/v1/status
expect_eq "$(json_get "$WORK/out" '[j.active_runs, j.pending_approvals, j.providers[0].id, j.connections >= 1].join()')" \
  "0,0,offline/offline-1,true" "status body"

# runs: cursor pages, newest first, the same runs and order as `baton runs ls`
get GET "/api/v1/runs?limit=2"
expect_eq "$(cat "$WORK/status")" 200 "runs page 1"
cp "$WORK/out" "$WORK/p1.json"
expect_eq "$(json_get "$WORK/p1.json" 'j.items.length + " " + (typeof j.next_cursor)')" "2 string" "page 1 size and cursor"
get GET "/api/v1/runs?limit=2&cursor=$(json_get "$WORK/p1.json" 'encodeURIComponent(j.next_cursor)')"
cp "$WORK/out" "$WORK/p2.json"
expect_eq "$(json_get "$WORK/p2.json" 'j.items.length + " " + j.next_cursor')" "1 null" "page 2"
expect_eq "$(node -e '
  const f = p => JSON.parse(require("fs").readFileSync(p, "utf8"));
  const api = [...f(process.argv[1]).items, ...f(process.argv[2]).items].map(r => r.id).join();
  const cli = f(process.argv[3]).map(r => r.id).join();
  console.log(api === cli ? "same" : api + " vs " + cli)' "$WORK/p1.json" "$WORK/p2.json" "$WORK/ls.json")" same "runs as the CLI lists them"
get GET "/api/v1/runs?status=completed&workflow=Tiny"
expect_eq "$(json_get "$WORK/out" 'j.items.length')" 3 "filter by status and workflow"
get GET "/api/v1/runs?status=failed"
expect_eq "$(json_get "$WORK/out" 'j.items.length')" 0 "no failed runs"
get GET "/api/v1/runs?limit=500"
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "400 bad_request" "limit out of range"
get GET "/api/v1/runs?cursor=nonsense"
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "400 bad_request" "bad cursor"
# one run: the same JSON as `baton runs show --json`
id=$(json_get "$WORK/ls.json" 'j[0].id')
get GET "/api/v1/runs/$id"
expect_eq "$(cat "$WORK/status")" 200 "run"
cp "$WORK/out" "$WORK/run.json"
expect_exit 0 "$BATON" runs show "$id" --json --data-dir "$WORK/d"
expect_eq "$(node -e '
  const f = p => JSON.parse(require("fs").readFileSync(p, "utf8"));
  console.log(JSON.stringify(f(process.argv[1])) === JSON.stringify(f(process.argv[2])))' "$WORK/run.json" "$WORK/out")" true "run as the CLI shows it"
# a long answer (the SDLC run: tens of kilobytes, written in several chunks) arrives whole
expect_exit 0 "$BATON" run workflows/sdlc.yaml --auto-approve --json --data-dir "$WORK/sdlc" --input project_brief="A todo app"
big_id=$(json_get "$WORK/out" 'j.id')
expect_exit 0 "$BATON" runs show "$big_id" --json --data-dir "$WORK/sdlc"
cp "$WORK/out" "$WORK/big-cli.json"
kill -TERM "$serve"; wait "$serve" || true
"$BATON" serve --listen 127.0.0.1:0 --data-dir "$WORK/sdlc" > "$WORK/serve2.out" 2>> "$WORK/serve.err" &
serve2=$!
for _ in $(seq 1 200); do [ -s "$WORK/serve2.out" ] && break; sleep 0.05; done
BIG=$(json_get "$WORK/serve2.out" 'j.listening')
curl -s "$BIG/api/v1/runs/$big_id" > "$WORK/big-api.json"
kill -TERM "$serve2"; wait "$serve2" || true
[ "$(wc -c < "$WORK/big-api.json")" -gt 16384 ] || fail "the SDLC run's answer is shorter than one write chunk"; ok
expect_eq "$(node -e '
  const f = p => JSON.stringify(JSON.parse(require("fs").readFileSync(p, "utf8")));
  console.log(f(process.argv[1]) === f(process.argv[2]))' "$WORK/big-api.json" "$WORK/big-cli.json")" true "a long answer, whole"
serve

get GET /api/v1/runs/r-nope
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "404 not_found" "unknown run"
# its journal, in pages
get GET "/api/v1/runs/$id/events?after=2&limit=3"
expect_eq "$(json_get "$WORK/out" 'j.items.map(e => e.seq).join() + " " + j.next_cursor')" "3,4,5 5" "events page"
get GET "/api/v1/runs/$id/events?after=5"
cp "$WORK/out" "$WORK/ev.json"
expect_exit 0 "$BATON" runs events "$id" --json --data-dir "$WORK/d"
expect_eq "$(json_get "$WORK/ev.json" 'j.items.map(e => e.type).join()')" "$(json_get "$WORK/out" 'j.slice(5).map(e => e.type).join()')" "the rest of the journal"
expect_eq "$(json_get "$WORK/ev.json" 'j.next_cursor')" null "end of the journal"
get GET "/api/v1/runs/r-nope/events"
expect_eq "$(cat "$WORK/status")" 404 "events of an unknown run"

# workflow validation: 200, or 422 with every located error
get POST /api/v1/workflows/validate --data-binary @"$WORK/tiny.yaml"
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.valid + " " + j.name + " " + j.tasks_total')" "200 true Tiny 2" "a valid workflow"
printf 'name: Bad\ntasks:\n  - {id: a, agent: wrighter}\n  - {id: b, agent: w, depends_on: [zz]}\n' > "$WORK/bad.yaml"
get POST /api/v1/workflows/validate --data-binary @"$WORK/bad.yaml"
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "422 invalid_workflow" "an invalid workflow"
expect_eq "$(json_get "$WORK/out" 'j.error.details.length >= 2 && j.error.details.every(d => d.line >= 3 && d.message)')" true "every error, located"
get POST /api/v1/workflows/validate --data-binary '{]'
expect_eq "$(cat "$WORK/status")" 422 "not even YAML"
get POST /api/v1/workflows/validate
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "400 bad_request" "no body"

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
# bytes that are not UTF-8 in a path or a workflow: JSON errors, not a crash (once, a crash)
get GET "/%FF%FE"
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "404 not_found" "a path that is not UTF-8"
get GET "/api/v1/runs/%FF"
expect_eq "$(cat "$WORK/status")" 404 "a run id that is not UTF-8"
printf 'name: \xff\ntasks: []\n' > "$WORK/latin1.yaml"
get POST /api/v1/workflows/validate --data-binary @"$WORK/latin1.yaml"
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.details[0].hint')" "422 save the file as UTF-8" "a workflow that is not UTF-8"
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
