#!/usr/bin/env bash
# Crash test with human steps: a run prompting on a terminal is killed with SIGKILL while the
# step is pending; the step is still pending afterwards, answering it from the command line
# carries the run on, and the run ends as an uninterrupted one does (same statuses, same
# artifacts byte for byte, no event lost or duplicated). Also: the process answering a step is
# killed right after its answer is journaled (the resume acts on it, nobody is asked again), and
# right before (the answer is lost, the step is still pending).
# Usage: test_crash_human.sh BATON ROOT CRASH_SHIM (the LD_PRELOAD library built from crash_shim.c)
source "$(dirname "$0")/lib.sh" "$@"
[ -n "${3:-}" ] || fail "usage: test_crash_human.sh BATON ROOT CRASH_SHIM"
SHIM=$(realpath "$3")
WF=tests/cli/fixtures/crash_human.yaml
CFG="$WORK/config.yaml"
printf 'providers:\n  offline:\n    latency_ms: 20\n' > "$CFG"
CRASH_ENV=(env LD_PRELOAD="$SHIM" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
quietly() { "$@" & wait $!; } # no "Killed" notice from bash for the processes killed on purpose

# state FILE : what must match the reference in a `run --json`/`runs show --json` object
state() { json_get "$1" '[j.status, j.tasks.map(t => t.id + ":" + t.status).join(","),
                             j.artifacts.map(a => a.name + ":" + a.version + ":" + a.sha256).sort().join(",")].join(" ")'; }

expect_exit 0 "$BATON" run "$WF" --auto-approve --json --config "$CFG" --data-dir "$WORK/ref"
ref=$(state "$WORK/out")
expect_eq "$(json_get "$WORK/out" 'j.status + " " + j.artifacts.length')" "completed 3" "reference run"

# on_tty LOG CMD : runs CMD on a pseudo-terminal in the background, its input open and empty (so
# a prompt waits), its screen in LOG
on_tty() {
  rm -f "$WORK/tty.in"
  mkfifo "$WORK/tty.in"
  on_terminal "$2" < "$WORK/tty.in" > "$1" 2>&1 &
  tty_pid=$!
  exec 7> "$WORK/tty.in"
}

# baton_under PID : the baton process under PID (script, maybe a shell between them)
baton_under() {
  local c
  for c in $(pgrep -P "$1"); do
    if [ "$(cat "/proc/$c/comm" 2>/dev/null)" = baton ]; then echo "$c"; return 0; fi
    baton_under "$c" && return 0
  done
  return 1
}

# kill_at_prompt LOG D TASK : waits until the terminal shows the prompt for TASK's step (and the
# journal has it pending), then kills baton with SIGKILL
kill_at_prompt() {
  local log=$1 D=$2 task=$3 pid="" i
  for i in $(seq 1 150); do
    if grep -q "needs you" "$log" &&
       "$BATON" approvals ls --json --data-dir "$D" 2>/dev/null | grep -q "\"task_id\": *\"$task\""; then
      pid=$(baton_under "$tty_pid") && break
    fi
    sleep 0.1
  done
  [ -n "$pid" ] || { cat "$log"; fail "no prompt for $task within 15 s"; }
  kill -9 "$pid"
  wait "$tty_pid" 2>/dev/null || true
  exec 7>&-
  ok
}

# pending D : the tasks whose human step is waiting, comma-separated
pending() {
  expect_exit 0 "$BATON" approvals ls --json --data-dir "$D"
  json_get "$WORK/out" 'j.map(a => a.task_id).join(",")'
}

# check_journal D ID LABEL : seq without gap; nothing that may happen once happened twice
check_journal() {
  expect_exit 0 "$BATON" runs events "$2" --json --data-dir "$1"
  local bad
  bad=$(json_get "$WORK/out" '(() => {
    const seen = {}, bad = [];
    j.forEach((e, i) => { if (e.seq !== i + 1) bad.push("seq " + e.seq + " at #" + (i + 1)); });
    for (const e of j) {
      const d = e.data || {};
      const key = /^(task\.(completed|skipped)|approval\.(requested|responded))$/.test(e.type) ? e.type + " " + d.task
                : e.type === "task.started" ? e.type + " " + d.task + " " + d.attempt
                : e.type === "artifact.written" ? e.type + " " + d.name + " " + d.version
                : /^run\.(created|started|completed|failed)$/.test(e.type) ? e.type : null;
      if (key && seen[key]) bad.push(key + " twice (seq " + seen[key] + ", " + e.seq + ")");
      if (key) seen[key] = e.seq;
    }
    return bad.join("; ") || "ok"; })()')
  if [ "$bad" != ok ]; then
    "$BATON" runs events "$2" --data-dir "$1" | cut -c1-160 >&2
    fail "$3: journal: $bad"
  fi
  ok
}

# finished D ID LABEL : the run ended as the reference did, with a sound journal
finished() {
  expect_exit 0 "$BATON" runs show "$2" --json --data-dir "$1"
  expect_eq "$(state "$WORK/out")" "$ref" "$3: final state"
  check_journal "$1" "$2" "$3"
}

# 1. Killed while each of the two steps waits at a terminal prompt; answered from the CLI.
D="$WORK/tty"
on_tty "$WORK/tty1.log" "$BATON run $WF --config $CFG --data-dir $D"
kill_at_prompt "$WORK/tty1.log" "$D" draft
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
id=$(json_get "$WORK/out" 'j[0].id')
expect_eq "$(json_get "$WORK/out" 'j[0].status')" waiting_human "status after the kill at the prompt"
expect_eq "$(pending)" draft "pending after the kill at the prompt"
expect_exit 3 "$BATON" approvals respond "$id" draft --decision approve --json --config "$CFG" --data-dir "$D"
expect_eq "$(pending)" go_live "pending after approving the draft"
on_tty "$WORK/tty2.log" "$BATON run --resume $id --config $CFG --data-dir $D"
kill_at_prompt "$WORK/tty2.log" "$D" go_live
expect_eq "$(pending)" go_live "pending after the kill at the second prompt"
expect_exit 0 "$BATON" approvals respond "$id" go_live --decision ship --json --config "$CFG" --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status after answering"
finished "$D" "$id" "killed at the prompts"

# 2. The answering process killed right after its answer is durable, then right before.
D="$WORK/respond"
expect_exit 3 "$BATON" run "$WF" --config "$CFG" --data-dir "$D"
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
id=$(json_get "$WORK/out" 'j[0].id')
expect_exit 137 quietly "${CRASH_ENV[@]}" BATON_CRASH_AFTER_COMMITS=1 "$BATON" approvals respond "$id" draft \
  --decision approve --config "$CFG" --data-dir "$D"
expect_eq "$(pending)" "" "pending once the answer is journaled"
# the resume acts on the journaled answer and stops at the next step, asking nobody again
expect_exit 3 "$BATON" run --resume "$id" --json --config "$CFG" --data-dir "$D"
expect_eq "$(pending)" go_live "pending after the resume"
expect_exit 137 quietly "${CRASH_ENV[@]}" BATON_CRASH_AFTER_COMMITS=1 BATON_CRASH_BEFORE=1 "$BATON" approvals \
  respond "$id" go_live --decision ship --config "$CFG" --data-dir "$D"
expect_eq "$(pending)" go_live "pending when the answer was lost with its process"
expect_exit 0 "$BATON" approvals respond "$id" go_live --decision ship --json --config "$CFG" --data-dir "$D"
finished "$D" "$id" "killed while answering"
finish
