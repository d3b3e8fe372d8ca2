#!/usr/bin/env bash
# The shipped workflows validate, run to completion with --auto-approve, and produce their
# artifacts on disk with the recorded size and SHA-256; the offline model is deterministic.
source "$(dirname "$0")/lib.sh" "$@"

expect_exit 0 "$BATON" validate workflows/*.yaml

# sdlc: eleven artifacts, each on disk with the recorded hash
expect_exit 0 "$BATON" run workflows/sdlc.yaml --auto-approve --json --data-dir "$WORK/d1" \
  --input project_brief="A todo app with shared lists"
cp "$WORK/out" "$WORK/sdlc1.json"
expect_eq "$(json_get "$WORK/sdlc1.json" 'j.status')" completed "sdlc status"
expect_eq "$(json_get "$WORK/sdlc1.json" 'j.artifacts.length')" 11 "sdlc artifact count"
for name in requirements.md architecture.md implementation_plan.md test_plan.md deployment_plan.md \
            analysis_execution_plan.md design_execution_plan.md build_execution_plan.md \
            validation_execution_plan.md launch_execution_plan.md; do
  path="$WORK/d1/artifacts/$(json_get "$WORK/sdlc1.json" 'j.id')/$name" # addressed by name, not path
  [ -s "$path" ] || fail "artifact $name missing at $path"
  sha=$(json_get "$WORK/sdlc1.json" "j.artifacts.find(a => a.name == '$name').sha256")
  expect_eq "$(sha256sum "$path" | cut -d' ' -f1)" "$sha" "sha256 of $name"
  bytes=$(json_get "$WORK/sdlc1.json" "j.artifacts.find(a => a.name == '$name').bytes")
  expect_eq "$(stat -c %s "$path")" "$bytes" "size of $name"
done
expect_grep "A todo app with shared lists" "$WORK/d1/artifacts/$(json_get "$WORK/sdlc1.json" 'j.id')/requirements.md"
expect_eq "$(json_get "$WORK/sdlc1.json" 'j.tasks.every(t => t.status == "completed")')" true "all sdlc tasks completed"

# Same inputs, same artifacts, byte for byte (a fresh data dir, a new run id).
expect_exit 0 "$BATON" run workflows/sdlc.yaml --auto-approve --json --data-dir "$WORK/d2" \
  --input project_brief="A todo app with shared lists"
a=$(json_get "$WORK/sdlc1.json" 'j.artifacts.map(a => a.name + ":" + a.sha256).sort().join(",")')
b=$(json_get "$WORK/out" 'j.artifacts.map(a => a.name + ":" + a.sha256).sort().join(",")')
expect_eq "$a" "$b" "artifact hashes of two identical runs"

# The other templates complete (or end as their conditions say) with --auto-approve.
expect_exit 0 "$BATON" run workflows/content_creation.yaml --auto-approve --json --data-dir "$WORK/d3" \
  --input domain="software engineering" --input topic="Local-first software"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "content_creation status"

expect_exit 0 "$BATON" run workflows/consensus_decision.yaml --auto-approve --json --data-dir "$WORK/d4" \
  --input question="Should we adopt PostgreSQL for analytics?"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "vote").outputs.votes.length')" 3 "consensus votes"

expect_exit 0 "$BATON" run workflows/code_review.yaml --auto-approve --json --data-dir "$WORK/d5"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "code_review status"
# the review was auto-approved; deploy runs only if the tests also passed, as its condition says
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "review").outputs.decision')" approve "review decision"
finish
