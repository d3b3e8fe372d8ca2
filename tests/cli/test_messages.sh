#!/usr/bin/env bash
# Guidance posted to a running run (POST /api/v1/runs/{id}/messages): journaled as run.message
# and added to the next model call of the tasks it names, as the fake OpenAI-compatible server
# (tests/fakes) sees the request; not to calls already made, nor to other tasks. Bad messages
# and messages nobody would get are JSON errors.
source "$(dirname "$0")/lib.sh" "$@"

start_fake --latency-ms 3000   # each answer takes 3 s: the run is still going when we post, and a
                              # WebSocket client started meanwhile (node, slow on a busy machine)
                              # has subscribed before the first answer streams
export FAKE_KEY="sk-test-secret-value-1234"
cat > "$WORK/baton.yaml" <<YAML
providers:
  paid:
    type: openai
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    models:
      gpt-test: {input_per_million: 2, output_per_million: 10}
tiers:
  fast: [paid/gpt-test]
YAML
serve --config "$WORK/baton.yaml"
wf='{"name": "Guided", "agents": {"w": {"instructions": "Write a line.", "model": "fast"}, "r": {"instructions": "Review.", "model": "fast"}}, "tasks": [{"id": "a", "agent": "w"}, {"id": "b", "agent": "w", "depends_on": ["a"]}, {"id": "c", "agent": "r", "depends_on": ["b"]}]}'
get POST /api/v1/runs -d "{\"workflow\": $wf}"
run=$(json_get "$WORK/out" 'j.id')
# meanwhile a WebSocket client keeps what streams: task.delta pieces from the provider's SSE
(cd "$ROOT/tests/integration" && node --input-type=module -e '
  import WebSocket from "ws";
  const [url, run, out] = process.argv.slice(1);
  const ws = new WebSocket(url.replace("http", "ws") + "/api/v1/ws");
  const got = [];
  ws.on("open", () => ws.send(JSON.stringify({op: "subscribe", topics: ["run:" + run], after: {["run:" + run]: 0}})));
  ws.on("message", (m) => { const j = JSON.parse(m); got.push(j);
    if (j.type === "run.completed") { import("node:fs").then(fs => { fs.writeFileSync(out, JSON.stringify(got)); ws.close(); }); } });
  setTimeout(() => process.exit(1), 30000).unref();
' "$API" "$run" "$WORK/ws.json") &
ws_pid=$!

get POST "/api/v1/runs/$run/messages" -d '{"text": "Use a table.", "task_id": "b", "from": "lead"}'
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.task_ids.join() + " " + j.from')" "201 b lead" "a message for b"
get POST "/api/v1/runs/$run/messages" -d '{"text": "Be kind.", "agent_id": "r"}'
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.task_ids.join() + " " + j.from')" "201 c api" "a message for agent r"
get POST "/api/v1/runs/$run/messages" -d '{"text": "Hello?", "agent_id": "nobody"}'
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "409 conflict" "nobody to tell"
get POST "/api/v1/runs/$run/messages" -d '{"text": "Hello?", "task_id": "zzz"}'
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code + " " + j.error.message')" "400 bad_request run $run has no task 'zzz'" "no such task: the request is wrong, not the run's state"
get POST "/api/v1/runs/$run/messages" -d '{"task_id": "b"}'
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "400 bad_request" "no text"
get POST "/api/v1/runs/$run/messages" -d '{"text": "x", "to": "b"}'
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.message')" "400 unknown field 'to'" "unknown field"
get POST "/api/v1/runs/r-nope/messages" -d '{"text": "x"}'
expect_eq "$(cat "$WORK/status")" 404 "unknown run"

for _ in $(seq 1 200); do
  get GET "/api/v1/runs/$run"
  [ "$(json_get "$WORK/out" 'j.status')" == completed ] && break
  sleep 0.1
done
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "the guided run completed"
# what the model was sent: b and c got their guidance, a (already asked) did not
requests
said() { json_get "$WORK/req.json" "JSON.stringify(j.filter(r => JSON.stringify(r).includes('Task: $1')).map(r => JSON.stringify(r)))"; }
[[ "$(said b)" == *"Guidance from lead: Use a table."* ]] || fail "b's request lacks its guidance: $(said b)"
ok
[[ "$(said c)" == *"Guidance from api: Be kind."* && "$(said c)" != *"Use a table"* ]] || fail "c's request: $(said c)"
ok
[[ "$(said a)" != *"Guidance"* ]] || fail "a's request has guidance: $(said a)"
ok
wait $ws_pid || fail "the WebSocket client did not see the run complete"
# the answers streamed as task.delta from the provider before each task.completed
expect_eq "$(json_get "$WORK/ws.json" '(() => { const done = j.find(m => m.type === "task.completed" && m.data.task === "a");
  const text = j.filter(m => m.type === "task.delta" && m.data.task === "a").map(m => m.data.text).join("");
  const pieces = j.filter(m => m.type === "task.delta" && m.data.task === "a").length;
  return (text === done.data.output) + " " + (pieces > 1) + " " + j.find(m => m.type === "task.delta").data.candidate; })()')" \
  "true true paid/gpt-test" "deltas over the WebSocket add up to the answer"
get GET "/api/v1/runs/$run/events"
expect_eq "$(json_get "$WORK/out" 'j.items.filter(e => e.type == "run.message").map(e => e.data.text + ">" + e.data.tasks).join("|")')" \
  "Use a table.>b|Be kind.>c" "journaled"
get POST "/api/v1/runs/$run/messages" -d '{"text": "Too late."}'
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "409 conflict" "a finished run"
stop_serve
finish
