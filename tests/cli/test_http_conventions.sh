#!/usr/bin/env bash
# The API's HTTP conventions (docs/api.md, "HTTP behaviour"), with curl, raw sockets and the
# `ws` npm client: Idempotency-Key on the creating POSTs (the first answer again for the same
# body, one run only, 422 for another body, 409 while in flight, no second run from a burst, kept across a restart, forgotten
# after a day); chunked request bodies (read, limited, malformed ones refused); Location on a
# 201; Allow on a 405; HEAD wherever GET works (also over HTTP/2 with TLS), with no body; a
# client's X-Request-Id kept and a malformed one replaced; the WebSocket ping op and the 1013
# refusal past --max-connections.
source "$(dirname "$0")/lib.sh" "$@"

BRIEF='{"workflow": "sdlc", "inputs": {"project_brief": "A todo app"}}'
# hdr NAME: the value of header NAME in the last answer (curl's -D file), "" when absent
hdr() { tr -d '\r' < "$WORK/hdr" | awk -v n="$(tr '[:upper:]' '[:lower:]' <<< "$1")" -F': ' 'tolower($1) == n { print $2 }' | tail -n1; }
runs() { curl -s "$API/api/v1/runs?limit=100" | node -e "console.log(JSON.parse(require('fs').readFileSync(0)).items.length)"; }
# raw REQUEST: what the server answers to REQUEST (written at once; \r\n as in C) on one
# connection, until it closes it (in $WORK/raw)
raw() {
  node -e '
    const net = require("net");
    const [port, req] = [Number(process.argv[1]), process.argv[2].replace(/\\r/g, "\r").replace(/\\n/g, "\n")];
    const chunks = [];
    const s = net.connect(port, "127.0.0.1", () => s.write(req));
    s.on("data", (d) => chunks.push(d));
    s.on("error", () => {});
    s.on("close", () => { process.stdout.write(Buffer.concat(chunks)); process.exit(0); });
    setTimeout(() => s.destroy(), 10000);
  ' "${API##*:}" "$1" > "$WORK/raw"
}

serve

# ---- Idempotency-Key -------------------------------------------------------------------------
get POST /api/v1/runs -H 'Idempotency-Key: order-1' -d "$BRIEF"
expect_eq "$(status_code)" 201 "first POST with a key"
run=$(json_get "$WORK/out" 'j.id')
cp "$WORK/out" "$WORK/first.json"
expect_eq "$(hdr Location)" "/api/v1/runs/$run" "Location of the new run"
expect_eq "$(hdr Idempotent-Replayed)" "" "a first answer is no replay"
get POST /api/v1/runs -H 'Idempotency-Key: order-1' -d "$BRIEF"
expect_eq "$(status_code) $(hdr Location) $(hdr Idempotent-Replayed)" "201 /api/v1/runs/$run true" "the same key and body again"
cmp -s "$WORK/out" "$WORK/first.json" || fail "the replayed body differs from the first"
ok
expect_eq "$(runs)" 1 "one run for two POSTs with one key"
get POST /api/v1/runs -H 'Idempotency-Key: order-1' -d '{"workflow": "sdlc", "inputs": {"project_brief": "Another"}}'
expect_eq "$(status_code) $(err_code)" "422 idempotency_key_reused" "the same key with another body"
expect_eq "$(runs)" 1 "no run for a reused key"
get POST /api/v1/runs -H "Idempotency-Key: $(printf 'k%.0s' $(seq 1 256))" -d "$BRIEF"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "a key of 256 characters"
get POST /api/v1/runs -d "$BRIEF"
expect_eq "$(status_code)" 201 "no key: a new run each time"
expect_eq "$(runs)" 2 "a run without a key"

# keys are per route: the same key on POST /api/v1/workflows is another key
get POST /api/v1/workflows -H 'Idempotency-Key: order-1' --data-binary @workflows/code_review.yaml
expect_eq "$(status_code) $(hdr Idempotent-Replayed)" "201 " "the key on another route"
wf=$(json_get "$WORK/out" 'j.id')
expect_eq "$(hdr Location)" "/api/v1/workflows/$wf" "Location of the new workflow"
get GET "$(hdr Location)"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.id')" "200 $wf" "the Location of a workflow reads it"
get POST /api/v1/workflows -H 'Idempotency-Key: order-1' --data-binary @workflows/code_review.yaml
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.id') $(hdr Idempotent-Replayed)" "201 $wf true" "a workflow created once"
get GET /api/v1/workflows
expect_eq "$(json_get "$WORK/out" 'j.items.length')" 1 "one stored workflow"

# a run's messages: one run.message for two POSTs; its Location reads that event
until_status "$run" waiting_human
get POST "/api/v1/runs/$run/messages" -H 'Idempotency-Key: note-1' -d '{"text": "keep it short"}'
expect_eq "$(status_code)" 201 "a message"
seq=$(json_get "$WORK/out" 'j.seq')
loc=$(hdr Location)
expect_eq "$loc" "/api/v1/runs/$run/events?after=$((seq - 1))&limit=1" "Location of a message"
get POST "/api/v1/runs/$run/messages" -H 'Idempotency-Key: note-1' -d '{"text": "keep it short"}'
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.seq') $(hdr Idempotent-Replayed)" "201 $seq true" "the message again"
get GET "$loc"
expect_eq "$(json_get "$WORK/out" 'j.items.map(e => e.seq + " " + e.type + " " + e.data.text).join()')" "$seq run.message keep it short" "the event at the message's Location"
get GET "/api/v1/runs/$run/events?limit=1000"
expect_eq "$(json_get "$WORK/out" 'j.items.filter(e => e.type == "run.message").length')" 1 "one run.message journaled"

# an approval answered twice with one key: the same 200 again, not a 409
get POST "/api/v1/approvals/$run.architecture/respond" -H 'Idempotency-Key: yes-1' -d '{"decision": "approve"}'
expect_eq "$(status_code)" 200 "an approval answered with a key"
cp "$WORK/out" "$WORK/approved.json"
get POST "/api/v1/approvals/$run.architecture/respond" -H 'Idempotency-Key: yes-1' -d '{"decision": "approve"}'
expect_eq "$(status_code) $(hdr Idempotent-Replayed)" "200 true" "the answer retried"
cmp -s "$WORK/out" "$WORK/approved.json" || fail "the replayed approval differs"
ok
get POST "/api/v1/approvals/$run.architecture/respond" -H 'Idempotency-Key: yes-2' -d '{"decision": "approve"}'
expect_eq "$(status_code) $(err_code)" "409 conflict" "another key: the approval was answered already"

# many at once with one key: one run, and each answer is that run or a 409 (in flight). Whether
# a 409 shows depends on timing (the loop thread commits small batches itself, so requests
# rarely overlap): what is checked is that none makes a second run.
before=$(runs)
seq 1 16 | xargs -P 16 -I{} curl -s -o "$WORK/par-{}.json" -w '%{http_code}\n' -X POST \
  -H "Idempotency-Key: burst-1" -d "$BRIEF" "$API/api/v1/runs" > "$WORK/codes"
expect_eq "$(runs)" $((before + 1)) "one run for 16 POSTs with one key"
ids=$(for f in "$WORK"/par-*.json; do json_get "$f" 'j.id || j.error.code'; done | sort -u | tr '\n' ' ')
[[ "$ids" =~ ^(idempotency_key_in_flight\ )?r-[0-9a-z]+\ (idempotency_key_in_flight\ )?$ ]] || fail "the answers: $ids"
ok

# kept across a restart. The server comes back on a slow disk for its journal writer thread
# (each batch it commits waits 3 s first: the crash shim). A run of 100 tasks started at once
# hands the writer a batch too big for the loop to commit itself; a request that comes after it
# waits its turn behind that batch while the loop keeps answering, so a second request with the
# same key meets the first in flight: a 409, with no race.
stop_serve
SHIM=$(realpath "$3")
LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
  BATON_SLOW_COMMIT_MS=3000 serve
wide=$(node -e 'console.log(JSON.stringify({workflow: {name: "Wide", concurrency: 100,
  agents: {w: {instructions: "Write a line."}},
  tasks: Array.from({length: 100}, (_, i) => ({id: "t" + i, agent: "w"}))}}))')
get POST /api/v1/runs -d "$wide"
expect_eq "$(status_code)" 201 "a run of 100 tasks at once"
sleep 0.3 # its tasks start on the next loop turn: one batch of 100 task.started for the writer
curl -s -o "$WORK/slow-a.json" -w '%{http_code}' -X POST -H "Idempotency-Key: slow-1" -d "$BRIEF" \
  "$API/api/v1/runs" > "$WORK/slow-a.code" &
slow_a=$!
# the second request goes only once the server has the first (busy machines start curl late)
for _ in $(seq 1 100); do
  [ "$(curl -s "$API/api/v1/status" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).connections)')" -ge 2 ] && break
  sleep 0.05
done
sleep 0.2
get POST /api/v1/runs -H 'Idempotency-Key: slow-1' -d "$BRIEF"
expect_eq "$(status_code) $(err_code)" "409 idempotency_key_in_flight" "the same key while the first is in flight"
wait "$slow_a"
expect_eq "$(cat "$WORK/slow-a.code")" 201 "the first request, once committed"
get POST /api/v1/runs -H 'Idempotency-Key: slow-1' -d "$BRIEF"
expect_eq "$(status_code) $(hdr Idempotent-Replayed) $(json_get "$WORK/out" 'j.id')" \
  "201 true $(json_get "$WORK/slow-a.json" 'j.id')" "then its answer, replayed"
get POST /api/v1/runs -H 'Idempotency-Key: order-1' -d "$BRIEF"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.id') $(hdr Idempotent-Replayed)" "201 $run true" "the key after a restart"
count=$(runs)

# forgotten after a day: answers 25 hours old are not replayed, and are swept
stop_serve
sqlite3 "$WORK/d/baton.db" "UPDATE idempotency_keys SET created_at = created_at - 25 * 3600 * 1000"
expect_eq "$(sqlite3 "$WORK/d/baton.db" "SELECT count(*) FROM idempotency_keys WHERE key = 'note-1'")" 1 "an old key kept until swept"
serve
get POST /api/v1/runs -H 'Idempotency-Key: order-1' -d "$BRIEF"
expect_eq "$(status_code) $(hdr Idempotent-Replayed)" "201 " "an expired key runs the request again"
[ "$(json_get "$WORK/out" 'j.id')" != "$run" ] || fail "the expired key gave the old run"
expect_eq "$(runs)" $((count + 1)) "a new run for an expired key"
expect_eq "$(sqlite3 "$WORK/d/baton.db" "SELECT count(*) FROM idempotency_keys WHERE key = 'note-1'")" 0 "expired keys swept"

# ---- chunked request bodies ------------------------------------------------------------------
get POST /api/v1/workflows/validate --data-binary @workflows/sdlc.yaml
cp "$WORK/out" "$WORK/plain.json"
get POST /api/v1/workflows/validate -H 'Transfer-Encoding: chunked' --data-binary @workflows/sdlc.yaml
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.valid')" "200 true" "a chunked workflow validated"
cmp -s "$WORK/out" "$WORK/plain.json" || fail "a chunked body answered otherwise than a Content-Length one"
ok
expect_eq "$(hdr Connection)" close "a chunked request's connection is closed after the answer"
get POST /api/v1/runs -H 'Transfer-Encoding: chunked' -H 'Idempotency-Key: chunked-1' -d "$BRIEF"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.workflow')" "201 Software Delivery Lifecycle" "a run started with a chunked body"
get POST /api/v1/runs -H 'Idempotency-Key: chunked-1' -d "$BRIEF"
expect_eq "$(status_code) $(hdr Idempotent-Replayed)" "201 true" "the same body with Content-Length replays it"
head -c 1100000 /dev/zero | tr '\0' 'a' > "$WORK/big"
get POST /api/v1/workflows/validate -H 'Transfer-Encoding: chunked' -H 'Expect:' --data-binary @"$WORK/big"
expect_eq "$(status_code) $(err_code)" "413 payload_too_large" "a chunked body over 1 MiB"
get POST /api/v1/workflows/validate -H 'Expect:' --data-binary @"$WORK/big"
expect_eq "$(status_code) $(err_code)" "413 payload_too_large" "the same body with Content-Length"
# framing curl will not send: written by hand on a socket
raw 'POST /api/v1/workflows/validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nname:\r\n2\r\n x\r\n0\r\n\r\n'
expect_grep '"code":"invalid_workflow"' "$WORK/raw"
expect_grep '^HTTP/1.1 422' "$WORK/raw"
raw 'POST /api/v1/workflows/validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nname: x\r\n0\r\n\r\n'
expect_grep '^HTTP/1.1 400' "$WORK/raw"
expect_grep 'the chunked body is malformed' "$WORK/raw"
raw 'POST /api/v1/workflows/validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxx'
expect_grep '^HTTP/1.1 501' "$WORK/raw"
raw 'POST /api/v1/workflows/validate HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
expect_grep '^HTTP/1.1 400' "$WORK/raw"
expect_grep 'not both' "$WORK/raw"
raw "DELETE /api/v1/workflows/$wf HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
expect_grep '^HTTP/1.1 400' "$WORK/raw"
expect_grep 'POST, PUT and PATCH only' "$WORK/raw"
get PUT "/api/v1/workflows/$wf" -H 'Transfer-Encoding: chunked' --data-binary @workflows/code_review.yaml
expect_eq "$(status_code)" 200 "a workflow updated with a chunked body"

# ---- Allow on 405 ----------------------------------------------------------------------------
get DELETE /api/v1/runs
expect_eq "$(status_code) $(err_code) $(hdr Allow)" "405 method_not_allowed GET, HEAD, POST" "Allow of /api/v1/runs"
get PATCH "/api/v1/workflows/$wf"
expect_eq "$(status_code) $(hdr Allow)" "405 GET, HEAD, PUT, DELETE" "Allow of a workflow"
get POST /health
expect_eq "$(status_code) $(hdr Allow)" "405 GET, HEAD" "Allow of /health"
get GET "/api/v1/runs/$run/messages"
expect_eq "$(status_code) $(hdr Allow)" "405 POST" "Allow of a POST-only path"

# ---- HEAD ------------------------------------------------------------------------------------
# what does not change between two reads: the same headers, Content-Length included
for path in "/api/v1/workflows/$wf" /api/v1/workflows/templates /api/v1/openapi.json /api/v1/runs/r-nope /nope; do
  get GET "$path"
  want="$(status_code) $(hdr Content-Type) $(wc -c < "$WORK/out")"
  get HEAD "$path" -I
  expect_eq "$(status_code) $(hdr Content-Type) $(hdr Content-Length)" "$want" "HEAD $path"
done
# what may (a run going on, uptime, counters): the same status and type
for path in /health /api/v1/runs "/api/v1/runs/$run" "/api/v1/runs/$run/events" /metrics; do
  get GET "$path"
  want="$(status_code) $(hdr Content-Type)"
  get HEAD "$path" -I
  expect_eq "$(status_code) $(hdr Content-Type)" "$want" "HEAD $path"
  [ "$(hdr Content-Length)" -gt 0 ] || fail "HEAD $path: no Content-Length"
done
# a stream (AG-UI's SSE): the headers, then the end (curl -m: a stream left open fails the test)
get HEAD "/api/v1/runs/$run/agui" -I -m 5
expect_eq "$(status_code) $(hdr Content-Type)" "200 text/event-stream" "HEAD of an event stream"
# no body: a HEAD and a GET on one connection read back as two answers, one body
raw 'HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
expect_eq "$(grep -c '^HTTP/1.1 200' "$WORK/raw") $(grep -o '"status":"ok"' "$WORK/raw" | wc -l)" "2 1" "HEAD sends no body"

# ---- X-Request-Id ----------------------------------------------------------------------------
get GET /health -H 'X-Request-Id: trace-7.a_B'
expect_eq "$(hdr X-Request-Id)" "trace-7.a_B" "a client's request id echoed"
expect_grep '"id":"trace-7.a_B","method":"GET","path":"/health"' "$WORK/serve.err"
get GET /health -H 'X-Request-Id: no spaces allowed'
[[ "$(hdr X-Request-Id)" =~ ^req-[0-9]+$ ]] || fail "a malformed request id kept: $(hdr X-Request-Id)"
ok
get GET /health -H "X-Request-Id: $(printf 'a%.0s' $(seq 1 129))"
[[ "$(hdr X-Request-Id)" =~ ^req-[0-9]+$ ]] || fail "a request id of 129 characters kept"
ok

# ---- WebSocket -------------------------------------------------------------------------------
CHECK="$ROOT/tests/integration/ws_conventions.mjs"
node "$CHECK" ping "$API" > "$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; fail "ws ping"; }
ok
stop_serve
serve --max-connections 3
node "$CHECK" limit "$API" 3 > "$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; fail "ws limit"; }
ok
expect_grep '"msg":"ws_refused"' "$WORK/serve.err"
stop_serve

# ---- HEAD over HTTP/2 (TLS) ------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 1 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
serve --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
for path in /health /api/v1/openapi.json; do
  get GET "$path" --cacert "$WORK/cert.pem"
  len=$(wc -c < "$WORK/out")
  curl -s --cacert "$WORK/cert.pem" -I -D "$WORK/hdr" -o /dev/null -w '%{http_version} %{http_code}' "$API$path" > "$WORK/status"
  expect_eq "$(status_code) $(hdr Content-Length)" "2 200 $len" "HEAD $path over HTTP/2"
done
stop_serve
finish
