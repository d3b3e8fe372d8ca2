#!/usr/bin/env bash
# Runs a server left going carry on when it starts again, without anyone asking about them:
# runs killed (kill -9) mid-task finish, a run waiting for a person still waits and can be
# answered, a retry pending fires, GET /api/v1/status counts them and the log names each run;
# a crash loop (killed again right after restart) does not run any task twice. The journal is
# the witness: one task.completed per task, and no attempt started beyond the re-dispatch of
# the one that was interrupted.
source "$(dirname "$0")/lib.sh" "$@"
D="$WORK/d"
cat > "$WORK/baton.yaml" <<YAML
providers:
  offline:
    latency_ms: 1500
    fail_attempts: {flaky: 1}
YAML
cat > "$WORK/chain.yaml" <<YAML
name: Chain
agents: {w: {instructions: Write a line.}}
tasks:
  - {id: a, agent: w}
  - {id: b, agent: w, depends_on: [a]}
  - {id: c, agent: w, depends_on: [b]}
  - {id: d, agent: w, depends_on: [c]}
  - {id: e, agent: w, depends_on: [d]}
  - {id: f, agent: w, depends_on: [e]}
  - {id: g, agent: w, depends_on: [f]}
  - {id: h, agent: w, depends_on: [g]}
YAML
# attempt 1 fails (injected) after 1.5 s; its retry waits 8 s, past the kill
cat > "$WORK/flaky.yaml" <<YAML
name: Flaky
agents: {w: {instructions: Write a line.}}
tasks:
  - {id: flaky, agent: w, max_retries: 2, retry_backoff: {initial: 8, jitter: false}}
  - {id: after, agent: w, depends_on: [flaky]}
YAML
# a person approves the draft (the sdlc template does it at its architecture, four tasks in)
cat > "$WORK/approve.yaml" <<YAML
name: Approve
agents: {w: {instructions: Write a line.}}
tasks:
  - {id: draft, agent: w, requires_approval: true}
  - {id: final, agent: w, depends_on: [draft]}
YAML
start_run() { # start_run BODY: POSTs it, prints the new run's id
  get POST /api/v1/runs -d "$1"
  [ "$(status_code)" == 201 ] || fail "start: $(status_code) $(cat "$WORK/out")"
  json_get "$WORK/out" 'j.id'
}
yaml_body() { node -e "console.log(JSON.stringify({workflow: require('fs').readFileSync('$1','utf8')}))"; }
# kill9: SIGKILL to the server; it must die of it (not have exited already)
kill9() {
  kill -KILL "$serve"
  local code=0
  wait "$serve" 2>/dev/null || code=$?
  expect_eq "$code" 137 "server killed"
}
run_status() { get GET "/api/v1/runs/$1"; json_get "$WORK/out" 'j.status'; }
runs_list() { get GET "/api/v1/runs?limit=100"; cp "$WORK/out" "$WORK/runs.json"; }
status_of() { json_get "$WORK/runs.json" "(j.items.find(r => r.id == '$1') || {}).status"; }

serve --config "$WORK/baton.yaml"
r1=$(start_run "$(yaml_body "$WORK/chain.yaml")")
r2=$(start_run "$(yaml_body "$WORK/chain.yaml")")
r3=$(start_run "$(yaml_body "$WORK/chain.yaml")")
rf=$(start_run "$(yaml_body "$WORK/flaky.yaml")")
rh=$(start_run "$(yaml_body "$WORK/approve.yaml")")
# the draft waits for its approval, the chains are mid-way, the flaky task failed once and
# waits for its retry
for _ in $(seq 1 300); do
  [ "$(run_status "$rh")" == waiting_human ] && break
  sleep 0.05
done
expect_eq "$(run_status "$rh")" waiting_human "the draft waits for its approval"
expect_eq "$(run_status "$r1")" running "chain still running before the kill"
get GET "/api/v1/runs/$rf/tasks/flaky"
expect_eq "$(json_get "$WORK/out" 'j.status')" retrying "flaky task waits for its retry"
kill9

# ---- restart: only the status route and the runs list are asked ------------------------------
restart() {
  mv "$WORK/serve.err" "$WORK/serve.err.$1"
  serve --config "$WORK/baton.yaml"
}
restart 1
# crash loop: killed again right after it started resuming
sleep 0.3
kill9
restart 2
max_active=0
for _ in $(seq 1 400); do
  get GET /api/v1/status
  a=$(json_get "$WORK/out" 'j.active_runs')
  [ "$a" -gt "$max_active" ] && max_active=$a
  runs_list
  done_n=0
  for r in "$r1" "$r2" "$r3" "$rf"; do [ "$(status_of "$r")" == completed ] && done_n=$((done_n + 1)); done
  [ "$done_n" == 4 ] && break
  sleep 0.05
done
for r in "$r1" "$r2" "$r3" "$rf"; do expect_eq "$(status_of "$r")" completed "run $r after restart"; done
expect_eq "$(status_of "$rh")" waiting_human "the waiting run still waits"
[ "$max_active" -ge 4 ] || fail "active_runs never counted the resumed runs (max $max_active)"
ok
for r in "$r1" "$r2" "$r3" "$rf" "$rh"; do
  grep -q "\"msg\":\"run resumed\",\"run_id\":\"$r\"" "$WORK/serve.err" || { cat "$WORK/serve.err"; fail "no log line for $r"; }
  ok
done
expect_grep '"msg":"resuming runs","runs":5' "$WORK/serve.err"
# the waiting one is answered and finishes
get POST "/api/v1/approvals/$rh.draft/respond" -d '{"decision": "approve"}'
expect_eq "$(status_code)" 200 "answer after restart"
until_status "$rh" completed
get GET /api/v1/status
expect_eq "$(json_get "$WORK/out" 'j.active_runs')" 0 "nothing running once they finished"
stop_serve

# ---- the journal: nothing done twice --------------------------------------------------------
for r in "$r1" "$r2" "$r3" "$rf" "$rh"; do
  expect_exit 0 "$BATON" runs events "$r" --json --data-dir "$D"
  cp "$WORK/out" "$WORK/ev.json"
  # one task.completed per task
  expect_eq "$(json_get "$WORK/ev.json" '(() => { const c = {}; for (const e of j) if (e.type == "task.completed") c[e.data.task] = (c[e.data.task] || 0) + 1; return Object.values(c).every(n => n == 1) && Object.keys(c).length; })()')" \
    "$(json_get "$WORK/ev.json" 'j[0].data.tasks.length')" "run $r: each task completed once"
  # an attempt is started again only while it never finished (the re-dispatch after a kill):
  # no task.started for an attempt after that attempt's end, and attempts in order
  expect_eq "$(json_get "$WORK/ev.json" '(() => { const ended = new Set(), bad = []; let last = {}; for (const e of j) { const k = e.data.task + "#" + e.data.attempt; if (e.type == "task.started") { if (ended.has(k) || (last[e.data.task] || 0) > e.data.attempt) bad.push(k); last[e.data.task] = e.data.attempt; } if (e.type == "task.completed" || e.type == "task.failed") ended.add(k); } return bad.join() || "none"; })()')" \
    none "run $r: no attempt started after it ended"
done
# the chains ran each task in one attempt; the flaky task in two (the injected failure)
expect_exit 0 "$BATON" runs events "$rf" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "task.completed").map(e => e.data.task + "#" + e.data.attempt).join()')" \
  "flaky#2,after#1" "flaky retried once, after the restart"
for r in "$r1" "$r2" "$r3"; do
  expect_exit 0 "$BATON" runs events "$r" --json --data-dir "$D"
  expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type.startsWith("task.")).every(e => e.data.attempt == null || e.data.attempt == 1)')" \
    true "run $r: every task in its first attempt"
done
finish
