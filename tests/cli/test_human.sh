#!/usr/bin/env bash
# Human steps: without a terminal and without --auto-approve a run stops at the first human step
# (exit 3) and says how to answer; answering from the CLI carries the run on; rejecting fails
# it; on a terminal the run prompts.
source "$(dirname "$0")/lib.sh" "$@"
D="$WORK/data"

expect_exit 3 "$BATON" run workflows/sdlc.yaml --data-dir "$D" --input project_brief="A wiki"
expect_grep "waiting for a human" "$WORK/out"
expect_grep "baton approvals respond" "$WORK/out"
run_id=$(grep -o 'r-[0-9a-z]*' "$WORK/out" | head -n1)
[ -n "$run_id" ] || fail "no run id in the output"

expect_exit 0 "$BATON" approvals ls --data-dir "$D" --json
expect_eq "$(json_get "$WORK/out" 'j.length')" 1 "pending approvals"
expect_eq "$(json_get "$WORK/out" 'j[0].task_id')" architecture "approval task"

expect_exit 0 "$BATON" runs ls --data-dir "$D" --json
expect_eq "$(json_get "$WORK/out" 'j[0].status')" waiting_human "run status while waiting"

# A wrong decision is refused and changes nothing.
expect_exit 2 "$BATON" approvals respond "$run_id" architecture --decision maybe --data-dir "$D"
expect_grep "not one of" "$WORK/err"

# Answered from another folder (no ./agents there): the run carries on with the agents it
# journaled when it started.
pushd "$WORK" >/dev/null
expect_exit 0 "$BATON" approvals respond "$run_id" architecture --decision approve --json --data-dir "$D"
popd >/dev/null
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status after approval"
expect_eq "$(json_get "$WORK/out" 'j.artifacts.length')" 11 "artifacts after approval"

# Answering again is a conflict.
expect_exit 2 "$BATON" approvals respond "$run_id" architecture --decision approve --data-dir "$D"

# Reject: the task fails with the reason, dependents are skipped, the run fails.
expect_exit 3 "$BATON" run workflows/sdlc.yaml --data-dir "$D" --input project_brief="A wiki"
run2=$(grep -o 'r-[0-9a-z]*' "$WORK/out" | head -n1)
expect_exit 1 "$BATON" approvals respond "$run2" architecture --decision reject --feedback "no diagrams" --json --data-dir "$D"
reason=$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "architecture").error')
[[ "$reason" == "rejected by "*": no diagrams" ]] || fail "reject reason: $reason"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "deployment_plan").status')" skipped "dependent of a rejected task"

# On a terminal: the prompt shows the proposal; "a" approves.
printf 'a\n' > "$WORK/answers"
set +e
on_terminal "$BATON run workflows/sdlc.yaml --data-dir $D --input project_brief=Chat" \
  < "$WORK/answers" > "$WORK/tty.out" 2>&1
code=$?
set -e
expect_eq "$code" 0 "exit after answering on the terminal"
expect_grep "needs you" "$WORK/tty.out"
expect_grep "\[a\]pprove" "$WORK/tty.out"
expect_grep "completed" "$WORK/tty.out"

# On a terminal, a refused answer exits 2 and changes nothing (and the live view's last frame
# must not read a run that is already freed: ASan would fail this).
expect_exit 3 "$BATON" run workflows/sdlc.yaml --data-dir "$D" --input project_brief="A blog"
run3=$(grep -o 'r-[0-9a-z]*' "$WORK/out" | head -n1)
set +e
on_terminal "$BATON approvals respond $run3 architecture --decision bogus --data-dir $D" \
  < /dev/null > "$WORK/tty2.out" 2>&1
code=$?
set -e
expect_eq "$code" 2 "exit of a refused answer on a terminal"
expect_grep "not one of" "$WORK/tty2.out"

# Ctrl-C at the prompt cancels the run (journaled) and exits 1.
set +e
# The keystroke waits for the prompt itself (a fixed sleep raced a slow sanitizer build).
(for _ in $(seq 600); do grep -q 'pprove' "$WORK/tty3.out" 2>/dev/null && break; sleep 0.1; done
 printf '\003'; sleep 1) | on_terminal "$BATON run workflows/sdlc.yaml --data-dir $D --input project_brief=Maps" \
  > "$WORK/tty3.out" 2>&1
code=$?
set -e
expect_eq "$code" 1 "exit after Ctrl-C at the prompt"
expect_grep "needs you" "$WORK/tty3.out"
expect_grep "cancelled" "$WORK/tty3.out"
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j[0].status')" cancelled "status after Ctrl-C"
finish
