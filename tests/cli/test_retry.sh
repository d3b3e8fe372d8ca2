#!/usr/bin/env bash
# Retrying a failed run from its failed tasks: the CLI (`baton run --retry`) and the API
# (POST /api/v1/runs/{id}/retry). Completed tasks keep their results (not run again), the failed
# task runs with a new attempt number, its blocked dependents run after it, and the journal says
# run.retried. A run that did not fail cannot be retried; a paused run resumes with --resume.
source "$(dirname "$0")/lib.sh" "$@"

# b's first attempt fails and it has no retries left: the run fails, c is skipped (blocked)
printf 'providers:\n  offline:\n    fail_attempts: {b: 1}\n' > "$WORK/flaky.yaml"
cat > "$WORK/chain.yaml" <<YAML
name: Chain
agents: {w: {instructions: Write a line.}}
tasks:
  - {id: a, agent: w}
  - {id: b, agent: w, depends_on: [a], max_retries: 0}
  - {id: c, agent: w, depends_on: [b]}
YAML
D="$WORK/d"
expect_exit 1 "$BATON" run "$WORK/chain.yaml" --json --config "$WORK/flaky.yaml" --data-dir "$D"
run=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" '[j.status, j.tasks.find(t => t.id == "a").status, j.tasks.find(t => t.id == "b").status, j.tasks.find(t => t.id == "c").status].join()')" \
  "failed,completed,failed,skipped" "the run failed at b"
a_output=$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "a").outputs.text')

expect_exit 0 "$BATON" run --retry "$run" --json --config "$WORK/flaky.yaml" --data-dir "$D"
expect_eq "$(json_get "$WORK/out" '[j.status, j.tasks.find(t => t.id == "a").status, j.tasks.find(t => t.id == "b").status, j.tasks.find(t => t.id == "c").status].join()')" \
  "completed,completed,completed,completed" "retried to the end"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "a").outputs.text')" "$a_output" "a kept its result"
expect_eq "$(json_get "$WORK/out" '[j.tasks.find(t => t.id == "a").attempts_total, j.tasks.find(t => t.id == "b").attempts_total, j.tasks.find(t => t.id == "c").attempts_total].join()')" "1,2,1" \
  "a not run again, b on attempt 2"
expect_exit 0 "$BATON" runs events "$run" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "task.started" && e.data.task == "a").length')" 1 "a started once"
expect_eq "$(json_get "$WORK/out" 'JSON.stringify(j.find(e => e.type == "run.retried").data.tasks)')" '["b","c"]' "run.retried lists b and c"
# the projections agree with the journal
expect_exit 0 "$BATON" admin rebuild --data-dir "$D"
expect_grep "identical" "$WORK/out"
expect_exit 2 "$BATON" run --retry "$run" --data-dir "$D"
expect_grep "only a failed or cancelled run" "$WORK/err"

# over the API: a failed run retried, answered once journaled
expect_exit 1 "$BATON" run "$WORK/chain.yaml" --json --config "$WORK/flaky.yaml" --data-dir "$D"
run2=$(json_get "$WORK/out" 'j.id')
serve --config "$WORK/flaky.yaml"
get POST "/api/v1/runs/$run2/retry"
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.status')" "200 running" "retry over the API"
for _ in $(seq 1 100); do
  get GET "/api/v1/runs/$run2"
  [ "$(json_get "$WORK/out" 'j.status')" == completed ] && break
  sleep 0.05
done
expect_eq "$(json_get "$WORK/out" 'j.status + " " + j.tasks.find(t => t.id == "b").attempts_total')" "completed 2" "retried run completed"
get POST "/api/v1/runs/$run2/retry"
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "409 conflict" "retry a completed run"
stop_serve
finish
