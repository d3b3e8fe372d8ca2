#!/usr/bin/env bash
# I/O-fault test: the K-th journal COMMIT of a 24-task run meets a disk error (the crash shim
# makes SQLite's file writes, or its fsync, fail with EIO during that COMMIT), for K spread over
# the run's life. Baton must stop cleanly: exit 1 (not a crash, not a hang) with a message that
# names the disk I/O error and says how to carry on, and a data dir that `baton admin check`
# finds intact (nothing half written). `baton run --resume` must then finish the run exactly as an
# uninterrupted one: every task completed once, the same outputs and artifacts, no lost or
# duplicated event (the checks of test_crash.sh, tests/cli/crash_lib.sh).
# Usage: test_io_fault.sh BATON ROOT CRASH_SHIM (the LD_PRELOAD library built from crash_shim.c)
source "$(dirname "$0")/lib.sh" "$@"
[ -n "${3:-}" ] || fail "usage: test_io_fault.sh BATON ROOT CRASH_SHIM"
SHIM=$(realpath "$3")
WF=tests/cli/fixtures/crash_fanout.yaml
CFG=tests/cli/fixtures/crash_config.yaml
source "$(dirname "$0")/crash_lib.sh"

reference_run

# check_intact DIR LABEL : the data dir passes `baton admin check` (integrity, every journal
# complete, every blob matching its hash)
check_intact() {
  set +e
  "$BATON" admin check --data-dir "$1" >"$WORK/check" 2>&1
  local code=$?
  set -e
  [ "$code" = 0 ] || { cat "$WORK/check"; fail "$2: admin check exits $code"; }
  ok
}

# fault_at K OP DURABILITY [K2] : a fresh run whose K-th commit fails (OP: write or sync), then
# resumed (the first resume's K2-th commit failing too when given) and compared with the
# reference.
runs=0
scenarios=0
faulted=0
fault_at() {
  local k=$1 op=$2 durability=$3 k2=${4:-0}
  runs=$((runs + 1))
  local label="k$k-$op-$durability$([ "$k2" != 0 ] && echo "-resume-k$k2")" D code id
  D="$WORK/$label"
  set +e
  "${CRASH_ENV[@]}" BATON_FAIL_COMMIT="$k" BATON_FAIL_OP="$op" "$BATON" run "$WF" --config "$CFG" \
    --durability "$durability" --data-dir "$D" --json >"$WORK/out" 2>"$WORK/err" </dev/null
  code=$?
  set -e
  case $code in
    1) faulted=$((faulted + 1)) ;;
    0) ;; # this run made fewer commits than the reference (timing groups events differently)
    *) tail -n 30 "$WORK/err"; fail "$label: exit $code, not a clean stop" ;;
  esac
  ok
  cp "$WORK/err" "$WORK/fault.err"
  if [ "$code" = 1 ]; then
    expect_grep "journal write failed: disk I/O error; stopping" "$WORK/fault.err"
  fi
  check_intact "$D" "$label, before the resume"
  expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
  if [ "$(json_get "$WORK/out" 'j.length')" = 0 ]; then
    # the first commit (the run's creation) failed: nothing of the run was kept, and it says so
    [ "$k" = 1 ] || fail "$label: no run in the journal"
    expect_grep "was not started: its journal could not be written (journal write failed: disk I/O error); nothing of it was kept" "$WORK/fault.err"
    return
  fi
  id=$(json_get "$WORK/out" 'j[0].id')
  if [ "$code" = 1 ]; then
    expect_eq "$(json_get "$WORK/out" 'j[0].status')" running "$label: the run's status after the fault"
    expect_grep "run $id stopped: its journal could not be written (journal write failed: disk I/O error)" "$WORK/fault.err"
    expect_grep "\`baton run --resume $id\` carries on from there" "$WORK/fault.err"
  fi
  if [ "$k2" != 0 ]; then
    set +e
    "${CRASH_ENV[@]}" BATON_FAIL_COMMIT="$k2" BATON_FAIL_OP="$op" "$BATON" run --resume "$id" --config "$CFG" \
      --durability "$durability" --data-dir "$D" --json >"$WORK/out" 2>"$WORK/err" </dev/null
    code=$?
    set -e
    [ "$code" = 1 ] || { tail -n 30 "$WORK/err"; fail "$label: the faulted resume exits $code, not 1"; }
    expect_grep "journal write failed: disk I/O error; stopping" "$WORK/err"
    check_intact "$D" "$label, after the faulted resume"
  fi
  expect_exit 0 "$BATON" run --resume "$id" --config "$CFG" --durability "$durability" --data-dir "$D" --json
  expect_eq "$(json_get "$WORK/out" 'j.status')" completed "$label: the resumed run"
  summary "$D" "$id" "$label"
  compare "$label" "$D" "$id"
  check_intact "$D" "$label, after the resume"
  scenarios=$((scenarios + 1))
}

# Writes failing: the transaction never reaches the WAL. Early, middle and late in the run.
for k in 1 2 3 $((commits / 4)) $((commits / 2)) $((commits * 3 / 4)) $((commits - 1)) "$commits"; do
  fault_at "$k" write normal
done
# The fsync failing with every commit synced (--durability full): the frames are in the WAL,
# their sync is not; whatever SQLite kept, the resume must end as the reference.
for k in 2 $((commits / 2)) $((commits - 1)); do
  fault_at "$k" sync full
done
# The resume meets a fault too; a second resume finishes.
fault_at $((commits / 3)) write normal 2
echo "reference: $commits commits; $faulted of $runs runs stopped by a disk error, $scenarios resumed to the end"
[ "$faulted" -ge 9 ] || fail "only $faulted runs met their disk error before their end"
ok
finish
