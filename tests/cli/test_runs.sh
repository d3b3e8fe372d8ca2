#!/usr/bin/env bash
# `baton runs ls|show|events` read what `baton run` journaled; inputs are checked at start.
source "$(dirname "$0")/lib.sh" "$@"
D="$WORK/data"

# A data dir that does not exist is an error for a read, not an empty list (a typo must show).
expect_exit 2 "$BATON" runs ls --data-dir "$D"
expect_grep "no Baton data dir at $D" "$WORK/err"

expect_exit 2 "$BATON" run workflows/sdlc.yaml --auto-approve --data-dir "$D"
expect_grep "missing required input 'project_brief'" "$WORK/err"
expect_exit 2 "$BATON" run workflows/sdlc.yaml --auto-approve --data-dir "$D" --input project_brief=x --input projct=y
expect_grep "unknown input 'projct'" "$WORK/err"

echo '{"project_brief": "An inventory tracker"}' > "$WORK/in.json"
expect_exit 0 "$BATON" run workflows/sdlc.yaml --auto-approve --inputs-file "$WORK/in.json" --data-dir "$D"
expect_grep "completed" "$WORK/out"
expect_grep "requirements.md" "$WORK/out"

expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
id=$(json_get "$WORK/out" 'j[0].id')
expect_eq "$(json_get "$WORK/out" 'j[0].status')" completed "runs ls status"

expect_exit 0 "$BATON" runs show "${id:0:8}" --data-dir "$D"
expect_grep "architecture" "$WORK/out"
expect_grep "sha256\|SHA256" "$WORK/out"
expect_exit 0 "$BATON" runs show "$id" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.id')" "$id" "runs show id"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "requirements").status')" completed "runs show task"

expect_exit 0 "$BATON" runs events "$id" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j[0].type')" run.created "first event"
expect_eq "$(json_get "$WORK/out" 'j[j.length-1].type')" run.completed "last event"
expect_eq "$(json_get "$WORK/out" 'j.every((e, i) => e.seq == i + 1)')" true "gapless journal"

expect_exit 1 "$BATON" runs show r-nope --data-dir "$D"
finish
