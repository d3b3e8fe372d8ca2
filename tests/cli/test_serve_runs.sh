#!/usr/bin/env bash
# Runs started, steered and answered over HTTP (curl as the client): POST /api/v1/runs with a
# template, a workflow's text or object; the approval inbox and answers (409 when answered
# twice); pause, resume and cancel (409 when the state does not allow it); a paused run resumed
# by a server started again; and a JSON error with the right status for every bad request.
source "$(dirname "$0")/lib.sh" "$@"


serve
get GET /api/v1/workflows/templates
expect_eq "$(json_get "$WORK/out" 'j.items.map(t => t.name).join()')" \
  "code_review,consensus_decision,content_creation,sdlc" "templates"
expect_eq "$(json_get "$WORK/out" 'j.items.find(t => t.name == "sdlc").inputs.project_brief.required')" true "template inputs"

# a template by name: 201 with the run, journaled (a GET right after finds it)
get POST /api/v1/runs -d '{"workflow": "sdlc", "inputs": {"project_brief": "A todo app"}}'
expect_eq "$(status_code)" 201 "start a template"
run=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" 'j.workflow')" "Software Delivery Lifecycle" "started run's workflow"
get GET "/api/v1/runs/$run"
expect_eq "$(status_code)" 200 "the started run is readable at once"
until_status "$run" waiting_human

# the approval inbox
get GET /api/v1/approvals
expect_eq "$(json_get "$WORK/out" 'j.items.map(a => a.id + " " + a.status).join()')" "$run.architecture pending" "inbox"
get GET "/api/v1/approvals/$run.architecture"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.request.options.join()')" "200 approve,reject,modify" "one approval"
get GET "/api/v1/approvals/$run.nope"
expect_eq "$(status_code) $(err_code)" "404 not_found" "unknown approval"
get POST "/api/v1/approvals/$run.architecture/respond" -d '{"decision": "maybe"}'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "a decision the step does not take"
get POST "/api/v1/approvals/$run.architecture/respond" -d '{"decision": 3}'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "decision of the wrong type"
get POST "/api/v1/approvals/$run.architecture/respond" -d '{"decision": "approve", "mood": "good"}'
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.error.message')" "400 unknown field 'mood'" "unknown field"
get POST "/api/v1/approvals/$run.architecture/respond" -d '{"decision": "approve", "feedback": "ship it"}'
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.status + " " + j.response.decision + " " + j.response.answered_by')" \
  "200 answered approve api" "answer"
get POST "/api/v1/approvals/$run.architecture/respond" -d '{"decision": "approve"}'
expect_eq "$(status_code) $(err_code)" "409 conflict" "answered twice"
until_status "$run" completed
expect_eq "$(json_get "$WORK/out" '[j.progress.finished, j.progress.total, j.progress.percent, j.current.length, j.estimate.finished_at == j.finished_at, j.estimate.cost_usd == j.cost_usd].join()')" \
  "11,11,100,0,true,true" "a finished run's progress and estimate are its own figures"
get GET "/api/v1/approvals?status=pending"
expect_eq "$(json_get "$WORK/out" 'j.items.length')" 0 "inbox empty"
get GET "/api/v1/runs?status=sometimes"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "bad runs filter"
get GET "/api/v1/approvals?status=sometimes"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "bad approvals filter"
# finished runs cannot be steered
get POST "/api/v1/runs/$run/cancel"
expect_eq "$(status_code) $(err_code)" "409 conflict" "cancel a finished run"
get POST "/api/v1/runs/r-nope/pause"
expect_eq "$(status_code) $(err_code)" "404 not_found" "pause an unknown run"

# a workflow's text, and the same workflow as a JSON object
wf='name: Slow\nagents: {w: {instructions: Write a line.}}\ntasks:\n  - {id: a, agent: w}\n  - {id: b, agent: w, depends_on: [a]}\n  - {id: c, agent: w, depends_on: [b]}\n'
get POST /api/v1/runs -d "{\"workflow\": \"$wf\"}"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.workflow')" "201 Slow" "start from text"
get POST /api/v1/runs -d '{"workflow": {"name": "Obj", "agents": {"w": {"instructions": "Hi."}}, "tasks": [{"id": "a", "agent": "w"}]}}'
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.workflow')" "201 Obj" "start from an object"
until_status "$(json_get "$WORK/out" 'j.id')" completed

# bad requests: JSON errors with the right status, and the server carries on
get POST /api/v1/runs -d '{"workflow": "name: X\ntasks: []\n"}'
expect_eq "$(status_code) $(err_code)" "422 invalid_workflow" "invalid workflow"
expect_eq "$(json_get "$WORK/out" 'typeof j.error.details[0].line')" number "located errors"
get POST /api/v1/runs -d '{"workflow": "sdlc"}'
expect_eq "$(status_code) $(err_code)" "422 invalid_inputs" "a required input missing"
get POST /api/v1/runs -d '{"workflow": "sdlc", "inputs": [1]}'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "inputs not an object"
get POST /api/v1/runs -d '{"inputs": {}}'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "no workflow"
get POST /api/v1/runs -d '{"workflow": "sdlc", '
expect_eq "$(status_code) $(err_code)" "400 bad_request" "malformed JSON"
get POST /api/v1/runs -d '[]'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "not an object"
get PUT /api/v1/runs
expect_eq "$(status_code) $(err_code)" "405 method_not_allowed" "wrong method"

# pause, resume, cancel (the offline model takes 2 s an answer here, so the run is still going
# however slow the machine is)
stop_serve
printf "providers:\n  offline:\n    latency_ms: 2000\n" > "$WORK/slow.yaml"
serve --config "$WORK/slow.yaml"
get POST /api/v1/runs -d "{\"workflow\": \"$wf\"}"
slow=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" '[j.progress.finished, j.progress.total, j.current.map(c => c.task_id + ":" + c.status).join("+"), j.estimate.cost_usd].join()')" \
  "0,3,a:running," "a running run: progress, current task, no estimate before a task finished"
get POST "/api/v1/runs/$slow/resume"
expect_eq "$(status_code) $(err_code)" "409 conflict" "resume a running run"
get POST "/api/v1/runs/$slow/pause" -d '{"reason": "lunch"}'
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.status')" "200 paused" "pause"
expect_eq "$(json_get "$WORK/out" '[j.paused_reason, j.error, j.cancelled_reason].join()')" "lunch,," "a pause has paused_reason, not error"
get GET "/api/v1/runs?status=paused"
expect_eq "$(json_get "$WORK/out" 'j.items.map(r => r.id + ":" + r.paused_reason + ":" + r.error).join()')" "$slow:lunch:null" "the list says the same"
get POST "/api/v1/runs/$slow/pause"
expect_eq "$(status_code) $(err_code)" "409 conflict" "pause twice"
# the server stops with the run paused; started again, it resumes it from the journal
stop_serve
serve --config "$WORK/slow.yaml"
get POST "/api/v1/runs/$slow/resume"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.status')" "200 running" "resume after a restart"
# an empty body (Content-Length: 0) is one request, answered once
get POST "/api/v1/runs/$slow/pause" -d ''
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.status')" "200 paused" "pause with an empty body"
get POST "/api/v1/runs/$slow/resume" -d '{"reason": 7}'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "reason of the wrong type"
get POST "/api/v1/runs/$slow/resume" -d ''
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.status')" "200 running" "resume with an empty body"
get POST "/api/v1/runs/$slow/cancel" -d '{"reason": "changed my mind"}'
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.status')" "200 cancelled" "cancel"
get GET "/api/v1/runs/$slow/events"
expect_eq "$(json_get "$WORK/out" 'j.items.filter(e => /^run\./.test(e.type) && e.type != "run.status").map(e => e.type).join()')" \
  "run.created,run.started,run.paused,run.resumed,run.paused,run.resumed,run.cancelled" "the journal of pause, resume, cancel"
expect_eq "$(json_get "$WORK/out" 'j.items.find(e => e.type == "run.cancelled").data.reason')" "changed my mind" "cancel reason"
stop_serve
finish
