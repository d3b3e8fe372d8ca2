#!/usr/bin/env bash
# The CLI as a client of a server (--server URL or $BATON_SERVER): `baton run` starts the run on
# the server and waits for it with the usual exit statuses (3 when a person is needed, 0 with
# --auto-approve answering over the API); `runs ls|show|events` and `approvals ls` print exactly
# what they print from the server's data dir; `approvals respond` lets the server carry on; an
# unreachable server and an invalid workflow are clear errors.
source "$(dirname "$0")/lib.sh" "$@"
serve

same() { # same LABEL ARGS... : the command's --json output over the server and from the data dir
  local label=$1; shift
  expect_exit 0 "$BATON" "$@" --json --server "$API"
  cp "$WORK/out" "$WORK/remote.json"
  expect_exit 0 "$BATON" "$@" --json --data-dir "$WORK/d"
  cmp -s "$WORK/out" "$WORK/remote.json" || { diff "$WORK/out" "$WORK/remote.json" | head -20; fail "$label differs"; }
  ok
}

expect_exit 3 "$BATON" run workflows/sdlc.yaml --server "$API" --input project_brief="A todo app" --json
run=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" 'j.status')" waiting_human "waiting on the server"
same "approvals ls" approvals ls
expect_exit 0 "$BATON" approvals respond "$run" architecture --decision approve --server "$API"
expect_grep "the server carries the run on" "$WORK/out"
for _ in $(seq 1 100); do
  expect_exit 0 "$BATON" runs show "$run" --json --server "$API"
  [ "$(json_get "$WORK/out" 'j.status')" == completed ] && break
  sleep 0.05
done
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "completed after the answer"
expect_exit 2 "$BATON" approvals respond "$run" architecture --decision approve --server "$API"   # as on a data dir (docs/cli.md)
expect_grep "answered already (HTTP 409)" "$WORK/err"

expect_exit 0 "$BATON" run workflows/sdlc.yaml --server "$API" --input project_brief="A blog" --auto-approve --json
expect_eq "$(json_get "$WORK/out" 'j.status + " " + j.tasks.length')" "completed 11" "--auto-approve over the API"

same "runs ls" runs ls
same "runs show" runs show "$run"
same "runs events" runs events "$run"
BATON_SERVER="$API" expect_exit 0 "$BATON" runs ls --json
cmp -s "$WORK/out" "$WORK/remote.json" 2>/dev/null || true
expect_eq "$(json_get "$WORK/out" 'j.length')" 2 "BATON_SERVER"
expect_exit 0 "$BATON" runs show "$run" --server "$API"
expect_grep "architecture" "$WORK/out"

# errors: a bad workflow, an unknown run, nobody listening
printf 'name: X\ntasks: []\n' > "$WORK/bad.yaml"
expect_exit 2 "$BATON" run "$WORK/bad.yaml" --server "$API"
expect_grep "the workflow has" "$WORK/err"
expect_exit 1 "$BATON" runs show r-nope --server "$API"
expect_grep "no run 'r-nope' (HTTP 404)" "$WORK/err"
stop_serve
expect_exit 1 "$BATON" runs ls --server "$API"
expect_grep "cannot reach the Baton server" "$WORK/err"
finish
