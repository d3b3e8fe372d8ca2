#!/usr/bin/env bash
# Crash test: a 24-task workflow with fan-out/fan-in, retries and artifacts is killed with SIGKILL
# at every journal commit (right after it, and right before it), resumed (the resume itself is
# sometimes killed too), and must end exactly as an uninterrupted run: same run and task
# statuses, attempts and outputs, the same artifacts byte for byte, and a journal with no gap, no
# lost event and no duplicate (no task started or completed twice, no artifact written twice).
# Usage: test_crash.sh BATON ROOT CRASH_SHIM (the LD_PRELOAD library built from crash_shim.c)
source "$(dirname "$0")/lib.sh" "$@"
[ -n "${3:-}" ] || fail "usage: test_crash.sh BATON ROOT CRASH_SHIM"
SHIM=$(realpath "$3")
WF=tests/cli/fixtures/crash_fanout.yaml
CFG=tests/cli/fixtures/crash_config.yaml
source "$(dirname "$0")/crash_lib.sh"

reference_run
expect_eq "$(json_get "$WORK/ref.json" 'j.tasks.length')" 24 "tasks in the workflow"
expect_eq "$(json_get "$WORK/ref.json" 'j.tasks.filter(t => t.attempts_total > 1).length')" 3 "tasks retried"

# resume_until_done DIR ID LABEL [K2 [BEFORE2]] : resumes until the run has ended; the first
# resume is killed at its K2-th commit when K2 is given.
resume_until_done() {
  local D=$1 id=$2 label=$3 k2=${4:-0} before2=${5:-0} n=0 code
  while :; do
    n=$((n + 1))
    [ $n -le 6 ] || fail "$label: still not finished after 6 resumes"
    set +e
    if [ "$n" = 1 ] && [ "$k2" != 0 ]; then
      quietly "${CRASH_ENV[@]}" BATON_CRASH_AFTER_COMMITS="$k2" BATON_CRASH_BEFORE="$before2" "$BATON" run \
        --resume "$id" --config "$CFG" --data-dir "$D" --json >"$WORK/out" 2>"$WORK/err" </dev/null
    else
      "$BATON" run --resume "$id" --config "$CFG" --data-dir "$D" --json >"$WORK/out" 2>"$WORK/err" </dev/null
    fi
    code=$?
    set -e
    case $code in
      0) ok; return ;;
      137) ok; resumed_crashes=$((resumed_crashes + 1)) ;;
      *) echo "--- stdout"; tail -n 20 "$WORK/out"; echo "--- stderr"; tail -n 30 "$WORK/err"
         fail "$label: resume #$n exited $code" ;;
    esac
  done
}

# crash_at K BEFORE [K2 [BEFORE2]] : a fresh run killed at its K-th commit (before it when BEFORE
# is 1), resumed (the first resume killed at K2 when given) and compared with the reference.
scenarios=0
killed_midway=0
resumed_crashes=0
crash_at() {
  local k=$1 before=$2 k2=${3:-0} before2=${4:-0}
  local label="k$k$([ "$before" = 1 ] && echo -before)$([ "$k2" != 0 ] && echo "-resume-k$k2")"
  local D="$WORK/$label" code
  set +e
  quietly "${CRASH_ENV[@]}" BATON_CRASH_AFTER_COMMITS="$k" BATON_CRASH_BEFORE="$before" "$BATON" run "$WF" \
    --config "$CFG" --data-dir "$D" --json >"$WORK/out" 2>"$WORK/err" </dev/null
  code=$?
  set -e
  # 0: this run made fewer commits than the reference (timing groups events differently)
  [ "$code" = 137 ] || [ "$code" = 0 ] || { tail -n 30 "$WORK/err"; fail "$label: exit $code, not a kill"; }
  ok
  expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
  if [ "$(json_get "$WORK/out" 'j.length')" = 0 ]; then
    # killed before the first commit: the run was never created, and that is all right
    [ "$k" = 1 ] && [ "$before" = 1 ] || fail "$label: no run in the journal"
    ok
    return
  fi
  local id
  id=$(json_get "$WORK/out" 'j[0].id')
  case "$code $(json_get "$WORK/out" 'j[0].status')" in
    "137 running") killed_midway=$((killed_midway + 1)) ;;
    "137 completed"|"0 completed") ;; # the kill came at (or after) the run's last commit
    *) fail "$label: exit $code and status $(json_get "$WORK/out" 'j[0].status') before the resume" ;;
  esac
  ok
  resume_until_done "$D" "$id" "$label" "$k2" "$before2"
  summary "$D" "$id" "$label"
  compare "$label" "$D" "$id"
  scenarios=$((scenarios + 1))
}

for k in $(seq 1 "$commits"); do
  crash_at "$k" 0
  crash_at "$k" 1
done
# The resume killed too, early and late in what is left, after and before a commit.
for k in 1 3 5 $((commits / 2)) $((commits - 3)); do
  crash_at "$k" 0 2 0
  crash_at "$k" 1 3 1
done
echo "reference: $commits commits; $scenarios runs killed ($killed_midway of them mid-run) and resumed," \
  "$resumed_crashes resumes killed as well"
[ "$killed_midway" -ge "$commits" ] || fail "only $killed_midway runs were killed before their end"
ok
finish
