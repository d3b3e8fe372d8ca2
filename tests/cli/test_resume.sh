#!/usr/bin/env bash
# A run killed with SIGKILL mid-flight resumes from its journal: finished tasks are not run
# again, and the result (artifact hashes) is the same as an uninterrupted run's.
source "$(dirname "$0")/lib.sh" "$@"
printf 'providers:\n  offline:\n    latency_ms: 150\n' > "$WORK/slow.yaml"

# the reference: one uninterrupted run
expect_exit 0 "$BATON" run workflows/sdlc.yaml --auto-approve --json --config "$WORK/slow.yaml" \
  --data-dir "$WORK/ref" --input project_brief="A recipe planner"
ref=$(json_get "$WORK/out" 'j.artifacts.map(a => a.name + ":" + a.sha256).sort().join(",")')

# The delays count from the run's first journaled event, not from the process start, so a slow
# (sanitizer, loaded) start cannot turn the earliest kill into a kill before the run exists.
for delay in 0.1 0.6 1.0; do
  D="$WORK/killed-$delay"
  "$BATON" run workflows/sdlc.yaml --auto-approve --config "$WORK/slow.yaml" --data-dir "$D" \
    --input project_brief="A recipe planner" > "$WORK/bg.out" 2>&1 &
  pid=$!
  for _ in $(seq 300); do
    [ "$(sqlite3 "$D/baton.db" 'SELECT count(*) FROM events' 2>/dev/null)" -gt 0 ] 2>/dev/null && break
    sleep 0.05
  done
  sleep "$delay"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
  id=$(json_get "$WORK/out" 'j[0].id')
  before=$(json_get "$WORK/out" 'j[0].status')
  [ "$before" != completed ] || fail "the run finished before the kill at ${delay}s; nothing was tested"
  ok
  expect_exit 0 "$BATON" run --resume "$id" --auto-approve --json --config "$WORK/slow.yaml" --data-dir "$D"
  expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status after resume ($delay s)"
  got=$(json_get "$WORK/out" 'j.artifacts.map(a => a.name + ":" + a.sha256).sort().join(",")')
  expect_eq "$got" "$ref" "artifacts after resume ($delay s)"
  expect_exit 0 "$BATON" runs events "$id" --json --data-dir "$D"
  # no task completed twice, and the journal has no gap
  expect_eq "$(json_get "$WORK/out" 'new Set(j.filter(e => e.type == "task.completed").map(e => e.data.task)).size')" 11 "distinct completions"
  expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "task.completed").length')" 11 "completions"
  expect_eq "$(json_get "$WORK/out" 'j.every((e, i) => e.seq == i + 1)')" true "gapless journal"
done

# resuming a finished run is harmless and reports it
expect_exit 0 "$BATON" run --resume "$id" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "resume of a finished run"
finish
