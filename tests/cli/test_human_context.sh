#!/usr/bin/env bash
# A human task written as `agent: human_review` with requires_approval and inputs (the workflow
# language's example): it validates and runs; its rendered inputs are the context the reviewer
# sees (the terminal prompt, the "waiting for a human" instructions, request.context in the
# approvals API) and are journaled in approval.requested.
source "$(dirname "$0")/lib.sh" "$@"
FIX=tests/cli/fixtures/human_review_context.yaml
D="$WORK/data"

expect_exit 0 "$BATON" validate "$FIX"
expect_grep ": ok" "$WORK/out"

# --auto-approve: the run completes, the step that reads the answer runs.
expect_exit 0 "$BATON" run "$FIX" --auto-approve --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "status with --auto-approve"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "human_review").status')" completed "human step"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "deploy_note").status')" completed "step after the approval"
run=$(json_get "$WORK/out" 'j.id')
expect_exit 0 "$BATON" runs events "$run" --json --data-dir "$D"
cp "$WORK/out" "$WORK/events.json"
# the context is the inputs rendered: the numbers the upstream agents produced, typed
expect_eq "$(json_get "$WORK/events.json" 'j.find(e => e.type == "approval.requested").data.context.review_context.code_quality === j.find(e => e.type == "task.completed" && e.data.task == "code_analysis").data.outputs.quality_score')" true "journaled context: code_quality"
expect_eq "$(json_get "$WORK/events.json" 'typeof j.find(e => e.type == "approval.requested").data.context.review_context.security_score')" number "journaled context: security_score"
expect_eq "$(json_get "$WORK/events.json" 'j.find(e => e.type == "approval.responded").data.decision')" approve "journaled answer"

# Without a terminal: the instructions show the context.
expect_exit 3 "$BATON" run "$FIX" --data-dir "$D"
expect_grep "human_review: Senior Developer Review" "$WORK/out"
expect_grep "^  context:" "$WORK/out"
expect_grep "^      code_quality: [0-9]" "$WORK/out"
expect_grep "^      security_score: [0-9]" "$WORK/out"

# On a terminal: the prompt shows the context; "1" picks approve, then an empty comment.
printf '1\n\n' > "$WORK/answers"
set +e
on_terminal "$BATON run $FIX --data-dir $D" < "$WORK/answers" > "$WORK/tty.out" 2>&1
code=$?
set -e
expect_eq "$code" 0 "exit after answering on the terminal"
expect_grep "human_review needs you" "$WORK/tty.out"
expect_grep "^Context:" "$WORK/tty.out"
expect_grep "^  review_context:" "$WORK/tty.out"
expect_grep "^    code_quality: [0-9]" "$WORK/tty.out"

# requires_approval: false cannot turn a person's step off: a located error.
sed 's/requires_approval: true/requires_approval: false/' "$FIX" > "$WORK/off.yaml"
expect_exit 1 "$BATON" validate "$WORK/off.yaml"
expect_grep "off.yaml:[0-9]*:[0-9]*: error: requires_approval: false on human task 'human_review'" "$WORK/err"

# Over the API: the approval's request carries the context; answering it carries the run on.
serve
node -e "console.log(JSON.stringify({workflow: require('fs').readFileSync('$FIX', 'utf8')}))" > "$WORK/start.json"
get POST /api/v1/runs -H 'Content-Type: application/json' --data-binary @"$WORK/start.json"
expect_eq "$(status_code)" 201 "start the run over the API"
run=$(json_get "$WORK/out" 'j.id')
until_status "$run" waiting_human
get GET /api/v1/approvals
expect_eq "$(json_get "$WORK/out" 'j.items.map(a => a.id).join()')" "$run.human_review" "inbox"
expect_eq "$(json_get "$WORK/out" 'typeof j.items[0].request.context.review_context.code_quality')" number "request.context in the inbox"
expect_eq "$(json_get "$WORK/out" 'Object.keys(j.items[0].request.context.review_context).sort().join()')" "code_quality,security_score" "request.context keys"
get POST "/api/v1/approvals/$run.human_review/respond" -d '{"decision": "approve", "answered_by": "senior"}'
expect_eq "$(status_code)" 200 "answer over the API"
until_status "$run" completed
get GET "/api/v1/approvals?status=answered"
expect_eq "$(json_get "$WORK/out" 'j.items[0].response.answered_by')" senior "answer kept with the request"
expect_eq "$(json_get "$WORK/out" 'typeof j.items[0].request.context.review_context.security_score')" number "context kept with the answer"

# AG-UI: the run stops at the human step as an interrupt carrying the context, and the
# baton.approval_requested CUSTOM event carries it too.
node -e "console.log(JSON.stringify({threadId: 't-ctx', runId: 'a1', messages: [{id: 'm', role: 'user', content: 'Review'}], forwardedProps: {workflow: require('fs').readFileSync('$FIX', 'utf8')}}))" > "$WORK/agui.json"
timeout 60 curl -sN -X POST "$API/api/v1/agui" -H 'Content-Type: application/json' --data-binary @"$WORK/agui.json" > "$WORK/agui.out"
grep '^data: ' "$WORK/agui.out" | sed 's/^data: //' | node -e "
  const ev = require('fs').readFileSync(0, 'utf8').trim().split('\n').map(l => JSON.parse(l));
  const fin = ev.at(-1), custom = ev.find(e => e.type === 'CUSTOM' && e.name === 'baton.approval_requested');
  console.log(JSON.stringify({outcome: fin.outcome?.type, ctx: fin.outcome?.interrupts?.[0]?.metadata?.context, custom: custom?.value?.context}));
" > "$WORK/agui.json.out"
expect_eq "$(json_get "$WORK/agui.json.out" 'j.outcome')" interrupt "AG-UI run stops at the human step"
expect_eq "$(json_get "$WORK/agui.json.out" 'typeof j.ctx.review_context.code_quality')" number "AG-UI interrupt metadata.context"
expect_eq "$(json_get "$WORK/agui.json.out" 'typeof j.custom.review_context.security_score')" number "AG-UI approval_requested context"
stop_serve
finish
