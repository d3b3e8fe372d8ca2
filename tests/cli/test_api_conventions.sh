#!/usr/bin/env bash
# The API's conventions (docs/api.md, "Conventions") as a client meets them, with curl, the `ws`
# npm package and `baton ... --json`: every list pages with limit and cursor to the end; times
# are RFC 3339 in REST, WebSocket and --json output; a query parameter a route does not take is
# a 400 invalid_query with a did-you-mean; runs start from a template (404 for an unknown one)
# and filter by template, workflow id and name; one agent by id; `error` only on failed runs;
# no server path in any answer. tests/unit/test_openapi.c holds the OpenAPI document to them.
source "$(dirname "$0")/lib.sh" "$@"
D="$WORK/d"
ISO='/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/'

# ---- --json output of the CLI ------------------------------------------------------------------

cat > "$WORK/tiny.yaml" <<'YAML'
name: Tiny
agents: {w: {instructions: Write a line.}}
tasks:
  - {id: a, agent: w}
  - {id: b, agent: w, depends_on: [a]}
YAML
cat > "$WORK/broken.yaml" <<'YAML'
name: Broken
agents: {w: {instructions: Write a line.}}
tasks:
  - {id: t, agent: w, max_retries: 0}
YAML
printf 'providers:\n  offline:\n    fail_attempts: {t: 5}\n' > "$WORK/fail.yaml"
expect_exit 0 "$BATON" run "$WORK/tiny.yaml" --json --data-dir "$D"
tiny=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" "$ISO.test(j.created_at) && $ISO.test(j.started_at) && $ISO.test(j.finished_at)")" true "baton run --json: RFC 3339 times"
expect_eq "$(json_get "$WORK/out" '[("run_id" in j), ("file" in j), j.tasks.map(t => t.id + ":" + t.attempts_total).join()].join(" ")')" \
  "false false a:1,b:1" "baton run --json: the run as the API has it (id, tasks as a list)"
expect_exit 0 "$BATON" run tests/cli/fixtures/artifact_versions.yaml --auto-approve --json --data-dir "$D"
arts=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" 'j.artifacts.every(a => a.id == a.name && a.task_id && !("path" in a))')" true "artifacts by name, no path"
expect_exit 1 "$BATON" run "$WORK/broken.yaml" --json --config "$WORK/fail.yaml" --data-dir "$D"
broken=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" '[j.status, /task failed/.test(j.error), j.paused_reason].join()')" "failed,true," "a failed run has error"
expect_exit 0 "$BATON" runs events "$tiny" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" "j.length > 3 && j.every(e => $ISO.test(e.at) && !('ts' in e))")" true "runs events --json: at, RFC 3339"
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" "j.length == 3 && j.every(r => $ISO.test(r.created_at) && !('file' in r))")" true "runs ls --json: RFC 3339, no file"

serve

# ---- runs from a template, and filters -----------------------------------------------------------

get POST /api/v1/runs -d '{"template": "sdlc", "inputs": {"project_brief": "A todo app"}}'
expect_eq "$(status_code)" 201 "start from a template"
sdlc=$(json_get "$WORK/out" 'j.id')
get POST /api/v1/runs -d '{"workflow": "sdlc", "inputs": {"project_brief": "A todo app"}}'
expect_eq "$(status_code)" 201 "a template's name as workflow (README's curl) still starts it"
sdlc2=$(json_get "$WORK/out" 'j.id')
get POST /api/v1/runs -d '{"template": "nope"}'
expect_eq "$(status_code) $(err_code)" "404 template_not_found" "an unknown template"
get POST /api/v1/runs -d '{"template": "sdlc", "workflow": "sdlc"}'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "template and workflow"
get POST /api/v1/runs -d '{"template": "sdlc"}'
expect_eq "$(status_code) $(err_code)" "422 invalid_inputs" "a required input left out"
[[ "$(json_get "$WORK/out" 'j.error.message')" != *--* ]] || fail "the API's message names a CLI flag: $(cat "$WORK/out")"; ok
get POST /api/v1/workflows --data-binary @"$WORK/tiny.yaml"
wf=$(json_get "$WORK/out" 'j.id')
get POST /api/v1/runs -d "{\"workflow_id\": \"$wf\"}"
stored=$(json_get "$WORK/out" 'j.id')
until_status "$sdlc" waiting_human
until_status "$sdlc2" waiting_human
until_status "$stored" completed

ids() { json_get "$WORK/out" 'j.items.map(r => r.id).sort().join()'; }
get GET "/api/v1/runs?template=sdlc"
expect_eq "$(ids)" "$(printf '%s\n' "$sdlc" "$sdlc2" | sort | paste -sd,)" "runs of a template"
get GET "/api/v1/runs?template=nope"
expect_eq "$(status_code) $(err_code)" "404 template_not_found" "runs of an unknown template"
get GET "/api/v1/runs?workflow_id=$wf"
expect_eq "$(ids)" "$stored" "runs of a stored workflow"
get GET "/api/v1/runs?workflow=Artifact%20versions"
expect_eq "$(ids)" "$arts" "runs by workflow name"
get GET "/api/v1/runs?since=2000-01-01T00:00:00Z&limit=100"
expect_eq "$(json_get "$WORK/out" 'j.items.length')" 6 "since, RFC 3339"
get GET "/api/v1/runs?since=2999-01-01"
expect_eq "$(json_get "$WORK/out" 'j.items.length')" 0 "since a date to come"
get GET "/api/v1/runs?since=1234"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "since as epoch ms"

# ---- unknown query parameters --------------------------------------------------------------------

get GET "/api/v1/runs?limt=1"
expect_eq "$(status_code) $(err_code) $(json_get "$WORK/out" 'j.error.details.parameter + " " + j.error.details.did_you_mean')" \
  "400 invalid_query limt limit" "a misspelt parameter"
expect_grep "did you mean 'limit'" "$WORK/out"
get GET "/api/v1/runs/$tiny?verbose=1"
expect_eq "$(status_code) $(err_code)" "400 invalid_query" "a parameter on a route that takes none"
get GET "/health?x"
expect_eq "$(status_code) $(err_code)" "400 invalid_query" "even /health"
get POST /api/v1/runs -d '{"templat": "sdlc"}'
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.error.details.field + " " + j.error.details.did_you_mean')" \
  "400 templat template" "an unknown body field, the same way"
get GET "/api/v1/approvals?status=all&cursr=x"
expect_eq "$(json_get "$WORK/out" 'j.error.details.did_you_mean')" cursor "did you mean cursor"

# ---- every list pages the same way -------------------------------------------------------------

# page_all PATH KEY: follows next_cursor with limit=1 to the end; the keys seen, in order, must be
# the one-page listing's, and every page but the last must have one item
page_all() {
  local path=$1 key=$2 sep='?' seen="" cursor="" n=0
  [[ "$path" == *\?* ]] && sep='&'
  get GET "$path${sep}limit=100"
  [ "$(status_code)" == 200 ] || fail "GET $path: $(cat "$WORK/out")"
  local all
  all=$(json_get "$WORK/out" "j.items.map(x => x.$key).join()")
  [ "$(json_get "$WORK/out" 'j.next_cursor')" == null ] || fail "GET $path: more than 100"
  while :; do
    get GET "$path${sep}limit=1${cursor:+&cursor=$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "$cursor")}"
    [ "$(status_code)" == 200 ] || fail "GET $path page $n: $(cat "$WORK/out")"
    [ "$(json_get "$WORK/out" 'j.items.length')" -le 1 ] || fail "GET $path: limit=1 gave more"
    seen="$seen${seen:+,}$(json_get "$WORK/out" "j.items.map(x => x.$key).join()")"
    cursor=$(json_get "$WORK/out" 'j.next_cursor')
    n=$((n + 1))
    [ "$cursor" == null ] && break
    [ $n -lt 200 ] || fail "GET $path: no end"
  done
  seen=${seen%,}
  expect_eq "$seen" "$all" "GET $path one item a page, to the end"
  [ -n "$all" ] || fail "GET $path: an empty list proves nothing"
}
page_all /api/v1/runs id
page_all "/api/v1/runs/$arts/events" seq
page_all "/api/v1/runs/$arts/artifacts" id
page_all "/api/v1/approvals?status=all" id
page_all /api/v1/agents id
page_all /api/v1/providers id
page_all /api/v1/workflows/templates id
page_all /api/v1/workflows id
get GET "/api/v1/agents?cursor=nobody"
expect_eq "$(status_code)" 400 "a cursor this server did not give out"

# ---- times, ids and shapes in REST answers -----------------------------------------------------

get GET /health
expect_eq "$(json_get "$WORK/out" "$ISO.test(j.started_at) && typeof j.uptime_ms == 'number' && !('uptime_s' in j)")" true "health: started_at, uptime_ms"
get GET "/api/v1/runs/$arts"
cp "$WORK/out" "$WORK/run.json"
expect_eq "$(json_get "$WORK/out" "$ISO.test(j.created_at) && $ISO.test(j.finished_at) && $ISO.test(j.estimate.finished_at) && j.id == '$arts'")" true "a run: id, RFC 3339"
get GET "/api/v1/runs?workflow=Artifact%20versions"
expect_eq "$(node -e '
  const fs = require("fs"), run = JSON.parse(fs.readFileSync(process.argv[1])), row = JSON.parse(fs.readFileSync(process.argv[2])).items[0];
  console.log(Object.keys(row).filter(k => !(k in run) || JSON.stringify(row[k]) !== JSON.stringify(run[k])).join() || "same")' "$WORK/run.json" "$WORK/out")" \
  same "a run's list item is the run less its heavy fields, under the same names"
get GET "/api/v1/runs/$arts/events?limit=2"
expect_eq "$(json_get "$WORK/out" "j.items.every(e => $ISO.test(e.at) && !('ts' in e)) + ' ' + j.next_cursor")" "true 2" "events: at, next_cursor"
get GET "/api/v1/runs/$arts/events?cursor=2&limit=1"
expect_eq "$(json_get "$WORK/out" 'j.items[0].seq')" 3 "events from the cursor"
get GET "/api/v1/runs/$tiny/tasks/a"
expect_eq "$(json_get "$WORK/out" "[j.id, j.run_id, j.agent_id, j.attempts_total, $ISO.test(j.started_at)].join()")" "a,$tiny,w,1,true" "a task: id and references"
get GET "/api/v1/runs/$broken"
expect_eq "$(json_get "$WORK/out" '[j.status, /task failed/.test(j.error), j.paused_reason, j.cancelled_reason].join()')" "failed,true,," "failed: error"
get POST "/api/v1/runs/$sdlc2/cancel" -d '{"reason": "not now"}'
expect_eq "$(json_get "$WORK/out" '[j.status, j.error, j.cancelled_reason].join()')" "cancelled,,not now" "cancelled: a reason, no error"
get GET "/api/v1/approvals"
expect_eq "$(json_get "$WORK/out" "j.items.length == 1 && j.items.every(a => $ISO.test(a.requested_at))")" true "approvals: RFC 3339"
get GET "/api/v1/workflows/$wf"
expect_eq "$(json_get "$WORK/out" "$ISO.test(j.created_at) && $ISO.test(j.updated_at)")" true "a workflow: RFC 3339"

# one agent
get GET /api/v1/agents/analyst
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.id + " " + j.status + " " + typeof j.tasks_total')" "200 analyst idle number" "one agent"
cp "$WORK/out" "$WORK/agent.json"
get GET /api/v1/agents
expect_eq "$(json_get "$WORK/out" 'JSON.stringify(j.items.find(a => a.id == "analyst"))')" "$(json_get "$WORK/agent.json" 'JSON.stringify(j)')" "the agent as the list has it"
get GET /api/v1/agents/nope
expect_eq "$(status_code) $(err_code)" "404 agent_not_found" "an unknown agent"

# no answer names a file on the server
for p in "/api/v1/runs?limit=100" "/api/v1/runs/$arts" "/api/v1/runs/$sdlc" "/api/v1/runs/$arts/artifacts" \
         "/api/v1/runs/$arts/artifacts/notes.md" /api/v1/workflows/templates "/api/v1/approvals?status=all" \
         "/api/v1/runs/$arts/events?limit=1000" "/api/v1/runs/$sdlc/events?limit=1000"; do
  get GET "$p"
  ! grep -q "$D\|\"path\"\|\"file\"" "$WORK/out" || fail "GET $p shows a server path: $(head -c 300 "$WORK/out")"
  ok
done

# ---- the WebSocket: RFC 3339, and the system snapshot lists runs waiting for a person -----------

(cd "$ROOT/tests/integration" && node --input-type=module -e '
  import WebSocket from "ws";
  const [url, out] = process.argv.slice(1);
  const ws = new WebSocket(url.replace("http", "ws") + "/api/v1/ws");
  ws.on("open", () => ws.send(JSON.stringify({op: "subscribe", topics: ["system"]})));
  ws.on("message", (m) => { const j = JSON.parse(m);
    if (j.type === "subscribed") { import("node:fs").then(fs => { fs.writeFileSync(out, JSON.stringify(j)); ws.close(); }); } });
  setTimeout(() => process.exit(1), 10000).unref();
' "$API" "$WORK/ws.json") || fail "no system snapshot"
expect_eq "$(json_get "$WORK/ws.json" "[$ISO.test(j.at), j.data.waiting.map(r => r.id).join(), j.data.waiting.every(r => $ISO.test(r.created_at) && !('file' in r))].join(' ')")" \
  "true $sdlc true" "system snapshot: the run waiting for a person" || { get GET "/api/v1/runs/$sdlc"; cat "$WORK/ws.json" "$WORK/out" | head -c 1500; exit 1; }

# ... nor does the journal as the WebSocket replays it (run.created, artifact.written)
(cd "$ROOT/tests/integration" && node --input-type=module -e '
  import WebSocket from "ws";
  import fs from "node:fs";
  const [url, run, out] = process.argv.slice(1);
  const ws = new WebSocket(url.replace("http", "ws") + "/api/v1/ws");
  const seen = [];
  ws.on("open", () => ws.send(JSON.stringify({op: "subscribe", topics: ["run:" + run], after: {["run:" + run]: 0}})));
  ws.on("message", (m) => { const j = JSON.parse(m); if (j.seq) seen.push(j);
    if (j.type === "run.completed") { fs.writeFileSync(out, JSON.stringify(seen)); ws.close(); } });
  setTimeout(() => process.exit(1), 10000).unref();
' "$API" "$arts" "$WORK/replay.json") || fail "no replay of $arts"
expect_eq "$(json_get "$WORK/replay.json" 'j.filter(e => e.type == "artifact.written").length > 0 && j.some(e => e.type == "run.created")')" true "the replay has the events that journal paths"
! grep -q "$D\|\"path\"\|\"file\"\|\"blob\"" "$WORK/replay.json" || fail "the WebSocket replay shows a server path: $(grep -o '.\{80\}"path".\{80\}' "$WORK/replay.json" | head -n 2)"
ok
expect_exit 0 "$BATON" runs events "$arts" --json --server "$API"
! grep -q "$D\|\"path\"\|\"file\"\|\"blob\"" "$WORK/out" || fail "runs events --json shows a server path"
ok
stop_serve
finish
