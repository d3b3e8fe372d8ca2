#!/usr/bin/env bash
# The server's read routes with curl as the client: one task in detail (attempts, model calls,
# errors), a run's artifacts (the bytes `baton artifacts cat` prints, the diff `baton artifacts
# diff` prints, a damaged blob refused with a 500 and the server carrying on), the agents with
# their status and figures, and the providers with their limits and spending; a JSON error with
# the right status for every bad request.
source "$(dirname "$0")/lib.sh" "$@"
D="$WORK/d"
status_code() { cat "$WORK/status"; }
err_code() { json_get "$WORK/out" 'j.error.code'; }
run_id() { json_get "$WORK/out" 'j.id'; }

# ---- runs in the data dir before the server starts -------------------------------------------

# sdlc with the offline model: Markdown artifacts (one version each), catalog agents
expect_exit 0 "$BATON" run workflows/sdlc.yaml --auto-approve --data-dir "$D" --input project_brief=x --json
sdlc=$(run_id)
# notes.md in two versions, final.md in three
expect_exit 0 "$BATON" run tests/cli/fixtures/artifact_versions.yaml --auto-approve --data-dir "$D" --json
arts=$(run_id)
# a task whose first attempt fails (injected) and is retried, priced so attempts have a cost
cat > "$WORK/flaky.yaml" <<YAML
name: Flaky
agents: {w: {instructions: Write a line.}}
tasks:
  - {id: flaky, agent: w, max_retries: 2, retry_backoff: {initial: 0.01, jitter: false}}
  - {id: after, agent: w, depends_on: [flaky]}
YAML
# a provider with limits that nothing calls (the router lists it; limits come from here)
cat > "$WORK/baton.yaml" <<YAML
providers:
  offline:
    price: {input_per_million: 1, output_per_million: 2}
    fail_attempts: {flaky: 1}
  lim:
    type: openai
    base_url: "http://127.0.0.1:9/v1"
    local: true
    limits: {concurrency: 2, requests_per_minute: 60, queue_timeout: 5s}
    models: {m1: {input_per_million: 0.5, output_per_million: 1.5}}
YAML
expect_exit 0 "$BATON" run "$WORK/flaky.yaml" --config "$WORK/baton.yaml" --data-dir "$D" --json
flaky=$(run_id)
expect_exit 0 "$BATON" artifacts ls "$arts" --json --data-dir "$D"
cp "$WORK/out" "$WORK/arts.json"

serve --config "$WORK/baton.yaml"

# ---- GET /api/v1/runs/{id}/tasks/{task} ----------------------------------------------------------

get GET "/api/v1/runs/$flaky/tasks/flaky"
expect_eq "$(status_code)" 200 "task detail"
cp "$WORK/out" "$WORK/flaky.json"
expect_eq "$(json_get "$WORK/flaky.json" '[j.run_id, j.id, j.status, j.agent_id].join()')" "$flaky,flaky,completed,w" "task fields"
expect_eq "$(json_get "$WORK/flaky.json" 'j.attempts.map(a => a.attempt + ":" + a.status).join()')" "1:failed,2:completed" "attempts"
expect_eq "$(json_get "$WORK/flaky.json" '/injected failure/.test(j.attempts[0].error) && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(j.attempts[0].retry_at)')" true "failed attempt: error and retry"
expect_eq "$(json_get "$WORK/flaky.json" 'j.attempts[1].output.length > 0 && j.attempts[1].outputs === null && j.attempts[1].error === null')" true "answered attempt: output"
expect_eq "$(json_get "$WORK/flaky.json" 'j.attempts.every(a => a.started_at <= a.finished_at)')" true "attempt times"
expect_eq "$(json_get "$WORK/flaky.json" 'j.calls.map(c => c.attempt + ":" + c.candidate + ":" + c.status).join()')" \
  "1:offline/offline-1:error,2:offline/offline-1:ok" "calls"
expect_eq "$(json_get "$WORK/flaky.json" 'j.calls.every(c => typeof c.first_token_ms == "number" && typeof c.total_ms == "number" && typeof c.cached == "boolean")')" true "call timings"
expect_eq "$(json_get "$WORK/flaky.json" 'j.attempts.map(a => a.llm.calls).join() + " " + j.llm.calls + " " + (j.llm.input_tokens == j.calls.reduce((s, c) => s + c.input_tokens, 0))')" \
  "1,1 2 true" "tokens by attempt"
expect_eq "$(json_get "$WORK/flaky.json" 'j.attempts[1].cost_usd > 0 && Math.abs(j.attempts.reduce((s, a) => s + a.cost_usd, 0) - j.cost_usd) < 1e-12')" true "attempts add up to the task's cost"
expect_eq "$(json_get "$WORK/flaky.json" 'j.errors.map(e => e.type + ":" + e.attempt).join()')" "task.failed:1" "errors"
# the same status, cost and outputs as the run's summary
get GET "/api/v1/runs/$flaky"
expect_eq "$(json_get "$WORK/out" 'JSON.stringify([j.tasks.find(t => t.id == "flaky").status, j.tasks.find(t => t.id == "flaky").cost_usd, j.tasks.find(t => t.id == "flaky").outputs])')" \
  "$(json_get "$WORK/flaky.json" 'JSON.stringify([j.status, j.cost_usd, j.outputs])')" "task detail agrees with the run"
# a human step's task and a catalog agent's
get GET "/api/v1/runs/$sdlc/tasks/architecture"
expect_eq "$(json_get "$WORK/out" '[j.agent_id, j.status, j.attempts.length, j.attempts[0].status].join()')" "architect,completed,1,completed" "approved task"
get GET "/api/v1/runs/$sdlc/tasks/nope"
expect_eq "$(status_code) $(err_code)" "404 not_found" "unknown task"
get GET "/api/v1/runs/r-nope/tasks/flaky"
expect_eq "$(status_code) $(err_code)" "404 not_found" "task of an unknown run"

# ---- artifacts -------------------------------------------------------------------------------------

get GET "/api/v1/runs/$arts/artifacts"
expect_eq "$(status_code)" 200 "artifacts"
expect_eq "$(json_get "$WORK/out" 'j.items.map(a => a.name + ":" + a.version + "/" + a.versions + ":" + a.task_id).join()')" \
  "final.md:3/3:again,notes.md:2/2:second" "latest of each"
expect_eq "$(json_get "$WORK/out" 'j.items[1].sha256')" "$(json_get "$WORK/arts.json" 'j[1].versions[1].sha256')" "latest sha256"
get GET "/api/v1/runs/$sdlc/artifacts"
expect_eq "$(json_get "$WORK/out" 'j.items.length > 5 && j.items.every(a => a.versions == 1 && a.mime == "text/markdown")')" true "sdlc artifacts"
get GET "/api/v1/runs/$arts/artifacts/notes.md"
expect_eq "$(json_get "$WORK/out" 'j.name + " " + j.latest + " " + j.versions.map(v => v.version + ":" + v.task_id + ":" + v.agent_id).join()')" \
  "notes.md 2 1:first:writer,2:second:writer" "one artifact"

# content: the bytes `baton artifacts cat` prints, with the artifact's type
for v in "" 1 2; do
  if [ -z "$v" ]; then get GET "/api/v1/runs/$arts/artifacts/notes.md/content"; cli=()
  else get GET "/api/v1/runs/$arts/artifacts/notes.md/content?version=$v"; cli=(--version "$v"); fi
  expect_eq "$(status_code)" 200 "content ${v:-latest}"
  cp "$WORK/out" "$WORK/http.bytes"
  expect_exit 0 "$BATON" artifacts cat "$arts" notes.md "${cli[@]}" --data-dir "$D"
  cmp -s "$WORK/out" "$WORK/http.bytes" || fail "content ${v:-latest} differs from baton artifacts cat"
  ok
done
expect_grep "^content-type: text/markdown" "$WORK/hdr"
expect_eq "$(sha256sum < "$WORK/http.bytes" | cut -d' ' -f1)" "$(json_get "$WORK/arts.json" 'j[1].versions[1].sha256')" "content hash"

# diff: what `baton artifacts diff` prints
diff_same() { # QUERY CLI_ARGS...: the route's diff equals the command's
  local q=$1; shift
  get GET "/api/v1/runs/$arts/artifacts/$q"
  expect_eq "$(status_code)" 200 "diff $q"
  cp "$WORK/out" "$WORK/http.diff"
  expect_exit 0 "$BATON" artifacts diff "$arts" "$@" --data-dir "$D"
  cmp -s "$WORK/out" "$WORK/http.diff" || { diff "$WORK/out" "$WORK/http.diff"; fail "diff $q differs from baton artifacts diff"; }
  ok
}
diff_same notes.md/diff notes.md
expect_grep "^content-type: text/plain" "$WORK/hdr"
expect_eq "$(head -n 2 "$WORK/http.diff")" "$(printf -- '--- notes.md@v1\n+++ notes.md@v2')" "diff labels"
diff_same "final.md/diff?from=1&to=3" final.md --from 1 --to 3
diff_same "final.md/diff?to=2" final.md --to 2
diff_same "final.md/diff?from=2&to=2" final.md --from 2 --to 2
expect_eq "$(wc -c < "$WORK/http.diff")" 0 "a version against itself"

# bad versions (400), unknown runs, names and versions (404)
for q in "notes.md/content?version=0" "notes.md/content?version=two" "notes.md/diff?from=-1" "notes.md/diff?to=1.5" \
         "notes.md/diff?to=1"; do
  get GET "/api/v1/runs/$arts/artifacts/$q"
  expect_eq "$(status_code) $(err_code)" "400 bad_request" "$q"
done
get GET "/api/v1/runs/$sdlc/artifacts/requirements.md/diff"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "diff of an artifact with one version"
for q in "notes.md/content?version=3" "notes.md/diff?from=1&to=9" "notes.md/diff?from=7&to=2" "nope.md" \
         "nope.md/content" "nope.md/diff"; do
  get GET "/api/v1/runs/$arts/artifacts/$q"
  expect_eq "$(status_code) $(err_code)" "404 not_found" "$q"
done
for p in artifacts artifacts/notes.md artifacts/notes.md/content artifacts/notes.md/diff; do
  get GET "/api/v1/runs/r-nope/$p"
  expect_eq "$(status_code) $(err_code)" "404 not_found" "unknown run: $p"
done
get POST "/api/v1/runs/$arts/artifacts"
expect_eq "$(status_code) $(err_code)" "405 method_not_allowed" "artifacts are read only"

# a damaged blob: a 500 that says so, no bytes; the other versions and the server carry on
sha1=$(json_get "$WORK/arts.json" 'j[1].versions[0].sha256')
blob1="$D/blobs/${sha1:0:2}/$sha1"
chmod u+w "$blob1"
printf 'X' | dd of="$blob1" bs=1 seek=10 conv=notrunc 2>/dev/null
get GET "/api/v1/runs/$arts/artifacts/notes.md/content?version=1"
expect_eq "$(status_code) $(err_code)" "500 artifact_damaged" "damaged blob"
expect_grep "^content-type: application/json" "$WORK/hdr"
expect_eq "$(json_get "$WORK/out" '/notes.md v1 .*is corrupted: expected sha256 '"$sha1"', found [0-9a-f]{64}.*; restore .* \(baton backup\)/.test(j.error.message)')" true "damaged blob message"
get GET "/api/v1/runs/$arts/artifacts/notes.md/diff"
expect_eq "$(status_code) $(err_code)" "500 artifact_damaged" "diff against a damaged blob"
get GET "/api/v1/runs/$arts/artifacts/notes.md/content?version=2"
expect_eq "$(status_code)" 200 "the other version still served"
rm "$blob1"
get GET "/api/v1/runs/$arts/artifacts/notes.md/content?version=1"
expect_eq "$(status_code) $(err_code)" "500 artifact_damaged" "missing blob"
expect_grep "cannot be read" "$WORK/out"
get GET /health
expect_eq "$(status_code)" 200 "alive after damaged blobs"

# ---- agents ------------------------------------------------------------------------------------------

get GET /api/v1/agents
expect_eq "$(status_code)" 200 "agents"
cp "$WORK/out" "$WORK/agents.json"
expect_eq "$(json_get "$WORK/agents.json" 'j.items.map(a => a.id).includes("analyst") && j.items.every(a => a.status == "idle" && a.current.length == 0)')" true "catalog, all idle"
expect_eq "$(json_get "$WORK/agents.json" 'JSON.stringify(["name", "role", "goal", "tools"].map(k => typeof j.items.find(a => a.id == "analyst")[k]))')" \
  '["string","string","string","object"]' "catalog fields"
# sdlc's analyst tasks: their figures from the run's own events
get GET "/api/v1/runs/$sdlc/events?limit=1000"
cp "$WORK/out" "$WORK/events.json"
analyst='["analysis_plan", "requirements", "delivery_summary"]'
expect_eq "$(json_get "$WORK/agents.json" 'JSON.stringify((a => [a.tasks_total, a.completed, a.failed, a.success_rate, a.calls, a.failed_calls, a.input_tokens, a.output_tokens])(j.items.find(a => a.id == "analyst")))')" \
  "$(json_get "$WORK/events.json" 'JSON.stringify((c => [3, 3, 0, 1, c.length, 0, c.reduce((s, e) => s + e.data.input_tokens, 0), c.reduce((s, e) => s + e.data.output_tokens, 0)])(j.items.filter(e => e.type == "llm.call" && '"$analyst"'.includes(e.data.task))))')" \
  "analyst figures"
expect_eq "$(json_get "$WORK/agents.json" '(a => a.calls > 3 && a.mean_duration_ms >= 0 && a.mean_call_ms >= 0 && a.cost_usd == 0)(j.items.find(a => a.id == "analyst"))')" true "analyst means"
expect_eq "$(json_get "$WORK/agents.json" '(a => [a.tasks_total, a.success_rate, a.mean_duration_ms, a.mean_call_ms].join())(j.items.find(a => a.id == "code_analyzer"))')" \
  "0,,," "an agent with no tasks"

# ---- providers ----------------------------------------------------------------------------------------

get GET /api/v1/providers
expect_eq "$(status_code)" 200 "providers"
cp "$WORK/out" "$WORK/prov.json"
expect_eq "$(json_get "$WORK/prov.json" 'j.items.map(p => p.id).join()')" "offline/offline-1,offline/offline-embed-1,lim/m1" "candidates"
expect_eq "$(json_get "$WORK/prov.json" 'JSON.stringify(j.items.find(p => p.id == "lim/m1").limits)')" \
  '{"concurrency":2,"requests_per_minute":60,"tokens_per_minute":null,"queue_timeout_ms":5000}' "configured limits"
expect_eq "$(json_get "$WORK/prov.json" '(p => [p.local, p.breaker, p.consecutive_failures, p.in_flight, p.queued, p.prices.output_per_million, p.limits].join())(j.items[0])')" \
  "true,closed,0,0,0,2,"  "offline candidate"
# spending: every call in llm_calls, as `baton providers ls` counts today's
calls=$(json_get "$WORK/prov.json" 'j.items[0].total.calls')
expect_exit 0 "$BATON" providers ls --json --config "$WORK/baton.yaml" --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'JSON.stringify(j[0].today)')" "$(json_get "$WORK/prov.json" 'JSON.stringify(j.items[0].today)')" "today as providers ls"
expect_eq "$(json_get "$WORK/prov.json" '(p => p.total.failed + " " + (p.total.cost_usd > 0) + " " + JSON.stringify(j.items[2].total))(j.items[0])')" \
  '1 true {"calls":0,"failed":0,"cost_usd":0}' "spending in total"
[ "$calls" -gt 20 ] || fail "offline calls in total: $calls"
ok
stop_serve

# working: an agent whose task runs now (the offline model answers slowly here)
printf 'providers:\n  offline:\n    latency_ms: 5000\n' > "$WORK/slow.yaml"
serve --config "$WORK/slow.yaml"
get POST /api/v1/runs -d '{"workflow": "sdlc", "inputs": {"project_brief": "A todo app"}}'
live=$(run_id)
for _ in $(seq 1 100); do # the first task starts once run.started is journaled
  get GET /api/v1/agents
  [ "$(json_get "$WORK/out" 'j.items.filter(a => a.status == "working").length')" == 1 ] && break
  sleep 0.05
done
expect_eq "$(json_get "$WORK/out" 'j.items.filter(a => a.status == "working").map(a => a.id + " " + a.current.map(c => c.run_id).join()).join()')" \
  "analyst $live" "the analyst at work on the run"
task=$(json_get "$WORK/out" 'j.items.find(a => a.status == "working").current[0].task_id')
get GET "/api/v1/runs/$live/tasks/$task"
expect_eq "$(json_get "$WORK/out" 'j.agent_id + " " + j.attempts[0].status')" "analyst running" "its current task"
get POST "/api/v1/runs/$live/cancel"
get GET /api/v1/agents
expect_eq "$(json_get "$WORK/out" 'j.items.every(a => a.status == "idle")')" true "idle after cancel"
stop_serve
finish
