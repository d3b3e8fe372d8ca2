#!/usr/bin/env bash
# `baton runs cancel|pause|resume|message` and `baton runs events --follow`, on the data dir and
# through a server (--server: the REST API, and the WebSocket for --follow); `baton run --resume
# and --retry` through a server. One process drives a run: a second one is refused, by name.
source "$(dirname "$0")/lib.sh" "$@"
D="$WORK/data"
printf 'providers:\n  offline:\n    latency_ms: 150\n' > "$WORK/slow.yaml"

# ---- on the data dir ---------------------------------------------------------------------
# A run stopped at its first human step (no terminal, no --auto-approve): nobody drives it.
expect_exit 3 "$BATON" run workflows/sdlc.yaml --data-dir "$D" --input project_brief="A wiki"
id=$(grep -o 'r-[0-9a-z]*' "$WORK/out" | head -n1)
expect_exit 0 "$BATON" runs message "$id" "Keep every document under a page" --data-dir "$D"
expect_grep "message for .*architecture" "$WORK/out"
expect_exit 0 "$BATON" runs pause "$id" --reason "waiting for legal" --data-dir "$D"
expect_grep "^paused  $id" "$WORK/out"
expect_exit 0 "$BATON" runs show "$id" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.status')" paused "status after runs pause"
expect_exit 0 "$BATON" runs events "$id" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "run.message").map(e => e.data.text).join()')" \
  "Keep every document under a page" "journaled message"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "run.paused").data.reason')" "waiting for legal" "pause reason"
# resume without a server carries the run on here, as baton run --resume does
expect_exit 0 timeout 120 "$BATON" runs resume "$id" --auto-approve --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status after runs resume"
expect_exit 1 "$BATON" runs cancel "$id" --data-dir "$D"
expect_grep "already completed" "$WORK/err"
# --follow on a finished run prints its journal and ends at once
expect_exit 0 timeout 20 "$BATON" runs events "$id" --follow --data-dir "$D"
expect_eq "$(tail -n1 "$WORK/out" | awk '{print $4}')" run.completed "last event followed"

expect_exit 3 "$BATON" run workflows/sdlc.yaml --data-dir "$D" --input project_brief="A wiki"
id2=$(grep -o 'r-[0-9a-z]*' "$WORK/out" | head -n1)
expect_exit 0 "$BATON" runs cancel "${id2%?}" --reason "not needed" --data-dir "$D"
expect_grep "^cancelled  $id2" "$WORK/out"

# A run another process drives is refused (and named), and --follow follows it live until it
# ends, from the journal.
"$BATON" run workflows/sdlc.yaml --auto-approve --config "$WORK/slow.yaml" --json --data-dir "$D" \
  --input project_brief="A wiki" > "$WORK/live.out" 2>&1 &
live=$!
for _ in $(seq 1 100); do
  "$BATON" runs ls --status running --json --data-dir "$D" > "$WORK/ls.json" 2>/dev/null || true
  [ "$(json_get "$WORK/ls.json" 'j.length' 2>/dev/null)" == 1 ] && break
  sleep 0.05
done
id3=$(json_get "$WORK/ls.json" 'j[0].id')
timeout 60 "$BATON" runs events "$id3" --follow --json --data-dir "$D" > "$WORK/follow.out" &
follower=$!
expect_exit 1 "$BATON" runs cancel "$id3" --data-dir "$D"
expect_grep "run $id3 is being driven by another baton process (pid $live)" "$WORK/err"
expect_exit 1 "$BATON" runs pause "$id3" --data-dir "$D"
wait $live || fail "the driven run failed: $(cat "$WORK/live.out")"
wait $follower || fail "runs events --follow did not end with the run"
ok
expect_exit 0 "$BATON" runs events "$id3" --json --data-dir "$D"
expect_eq "$(node -e 'const fs=require("fs"); const l=fs.readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse); console.log(l.map(e=>e.seq).join())' "$WORK/follow.out")" \
  "$(json_get "$WORK/out" 'j.map(e => e.seq).join()')" "followed events = the journal's"

# A run whose process was killed is left `running`: pausing it is refused, cancelling works.
"$BATON" run workflows/sdlc.yaml --auto-approve --config "$WORK/slow.yaml" --data-dir "$D" \
  --input project_brief="A wiki" > /dev/null 2>&1 &
victim=$!
for _ in $(seq 1 100); do
  "$BATON" runs ls --status running --json --data-dir "$D" > "$WORK/ls.json" 2>/dev/null || true
  [ "$(json_get "$WORK/ls.json" 'j.length' 2>/dev/null)" == 1 ] && break
  sleep 0.05
done
id4=$(json_get "$WORK/ls.json" 'j[0].id')
kill -KILL $victim; wait $victim 2>/dev/null || true
expect_exit 1 "$BATON" runs pause "$id4" --data-dir "$D"
expect_grep "left running by a process that stopped" "$WORK/err"
expect_exit 0 timeout 60 "$BATON" runs cancel "$id4" --data-dir "$D"
expect_grep "^cancelled  $id4" "$WORK/out"

# ---- through a server --------------------------------------------------------------------
serve --config "$WORK/slow.yaml"
get POST /api/v1/runs -d '{"workflow": "sdlc", "inputs": {"project_brief": "A wiki"}}'
sid=$(json_get "$WORK/out" 'j.id')
timeout 60 "$BATON" runs events "$sid" --follow --json --server "$API" > "$WORK/wsfollow.out" 2>"$WORK/wsfollow.err" &
wsf=$!
expect_exit 0 "$BATON" runs pause "$sid" --reason "hold on" --server "$API"
expect_grep "^paused  $sid" "$WORK/out"
until_status "$sid" paused
# the server serves the data dir: steering it locally would write beside it
expect_exit 1 "$BATON" runs cancel "$sid" --data-dir "$WORK/d"
expect_grep "baton serve (pid $serve) is serving this data dir" "$WORK/err"
expect_exit 1 "$BATON" serve --listen 127.0.0.1:0 --data-dir "$WORK/d"
expect_grep "baton serve (pid $serve) is serving this data dir" "$WORK/err"
expect_exit 0 "$BATON" runs message "$sid" "Mind the budget" --server "$API"
expect_grep "message for" "$WORK/out"
expect_exit 0 "$BATON" runs resume "$sid" --server "$API"
expect_exit 0 "$BATON" runs cancel "$sid" --reason "changed our minds" --server "$API"
expect_grep "^cancelled  $sid" "$WORK/out"
wait $wsf || fail "runs events --follow --server did not end: $(cat "$WORK/wsfollow.err")"
ok
get GET "/api/v1/runs/$sid/events?limit=1000"
expect_eq "$(node -e 'const fs=require("fs"); const l=fs.readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse); console.log(l.map(e=>e.seq+e.type).join())' "$WORK/wsfollow.out")" \
  "$(json_get "$WORK/out" 'j.items.map(e => e.seq + e.type).join()')" "events followed over the WebSocket = the journal's"
expect_exit 0 "$BATON" runs events "$sid" --json --server "$API"
expect_eq "$(json_get "$WORK/out" 'j.find(e => e.type == "run.message").data.text')" "Mind the budget" "message through the server"
expect_exit 1 "$BATON" runs cancel "$sid" --server "$API"
expect_grep "already cancelled" "$WORK/err"
expect_exit 1 "$BATON" runs pause r-nosuchrun --server "$API"
expect_grep "no run" "$WORK/err"
# run --retry with a server: the server carries the cancelled run on; --auto-approve answers
expect_exit 0 timeout 120 "$BATON" run --retry "$sid" --auto-approve --json --server "$API"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status after run --retry --server"
# run --resume with a server: a paused run carries on
get POST /api/v1/runs -d '{"workflow": "sdlc", "inputs": {"project_brief": "A wiki"}}'
sid2=$(json_get "$WORK/out" 'j.id')
expect_exit 0 "$BATON" runs pause "$sid2" --server "$API"
expect_exit 0 timeout 120 "$BATON" run --resume "$sid2" --auto-approve --server "$API"
expect_grep "^completed  $sid2" "$WORK/out"
expect_exit 1 "$BATON" run --resume "$sid2" --server "$API"
expect_grep "only a paused run" "$WORK/err"
stop_serve

# The WebSocket client checks the handshake (RFC 6455 4.1): a peer that answers 101 with a
# wrong Sec-WebSocket-Accept is refused, not read.
node -e '
  const http = require("http");
  const s = http.createServer((q, r) => { r.setHeader("Content-Type", "application/json");
    r.end(JSON.stringify({id: "r-x", status: "running"})); });
  s.on("upgrade", (q, sock) => sock.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
    "Connection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBvbmU=\r\n\r\n"));
  s.listen(0, "127.0.0.1", () => console.log(s.address().port));
  setTimeout(() => process.exit(0), 20000).unref();' > "$WORK/bogus.port" &
bogus=$!
for _ in $(seq 1 100); do [ -s "$WORK/bogus.port" ] && break; sleep 0.05; done
expect_exit 1 timeout 20 "$BATON" runs events r-x --follow --server "http://127.0.0.1:$(cat "$WORK/bogus.port")"
expect_grep "wrong Sec-WebSocket-Accept" "$WORK/err"
kill $bogus 2>/dev/null || true
finish
