#!/usr/bin/env bash
# Stored, versioned workflows over HTTP (curl as the client): create from YAML and from JSON
# (422 with located errors, nothing stored), list by cursor pages, read with every version,
# update (a new version; the same bytes again make none), read an old version's source, runs
# started from a stored workflow pinned to its latest or a given version (and saying so), delete
# (404 from then on, its runs carry on), bad requests with the right status, and a server
# started again over the same data dir that still has them all.
source "$(dirname "$0")/lib.sh" "$@"

j() { json_get "$WORK/out" "$1"; }

serve

# create from YAML: 201 with id, version 1, its SHA-256 and one version
get POST /api/v1/workflows --data-binary @workflows/sdlc.yaml -H 'Content-Type: application/yaml'
expect_eq "$(status_code)" 201 "create from YAML"
sdlc=$(j 'j.id')
[[ "$sdlc" == wf-* ]] || fail "workflow id: $sdlc"; ok
expect_eq "$(j 'j.name + " " + j.version + " " + j.format')" "Software Delivery Lifecycle 1 yaml" "created"
expect_eq "$(j 'j.sha256')" "$(sha256sum workflows/sdlc.yaml | cut -c1-64)" "sha256 of the source"
expect_eq "$(j 'j.versions.map(v => v.version).join()')" 1 "one version"

# create from JSON (any Content-Type): the text comes back byte for byte
json_wf='{"name": "Json One", "agents": {"w": {"instructions": "Write a line."}}, "tasks": [{"id": "a", "agent": "w"}]}'
printf '%s' "$json_wf" > "$WORK/one.json"
get POST /api/v1/workflows --data-binary @"$WORK/one.json" -H 'Content-Type: text/plain'
expect_eq "$(status_code) $(j 'j.name + " " + j.format')" "201 Json One json" "create from JSON"
jsonwf=$(j 'j.id')
get GET "/api/v1/workflows/$jsonwf"
node -e "process.stdout.write(JSON.parse(require('fs').readFileSync('$WORK/out', 'utf8')).source)" > "$WORK/back.json"
cmp -s "$WORK/back.json" "$WORK/one.json" || fail "the JSON source did not come back as sent"; ok

# invalid workflows: 422 with every located error, and nothing stored
printf 'name: Bad\ntasks:\n  - {id: a, agent: wrighter}\n  - {id: b, agent: w, depends_on: [zz]}\n' > "$WORK/bad.yaml"
get POST /api/v1/workflows --data-binary @"$WORK/bad.yaml"
expect_eq "$(status_code) $(err_code)" "422 invalid_workflow" "create an invalid workflow"
expect_eq "$(j 'j.error.details.length >= 2 && j.error.details.every(d => d.line >= 3 && d.column >= 1 && d.message)')" true "every error, located"
get POST /api/v1/workflows --data-binary '{]'
expect_eq "$(status_code) $(err_code)" "422 invalid_workflow" "not even YAML"
get POST /api/v1/workflows
expect_eq "$(status_code) $(err_code)" "400 bad_request" "no body"
get GET /api/v1/workflows
expect_eq "$(j 'j.items.length')" 2 "nothing stored by the failures"

# list: newest first, cursor pages that visit each workflow once
for n in 3 4 5; do
  printf 'name: Tiny %s\nagents: {w: {instructions: Write a line.}}\ntasks:\n  - {id: a, agent: w}\n' "$n" > "$WORK/t$n.yaml"
  get POST /api/v1/workflows --data-binary @"$WORK/t$n.yaml"
  expect_eq "$(status_code)" 201 "create Tiny $n"
done
get GET /api/v1/workflows
expect_eq "$(j 'j.items.map(w => w.name).join()')" "Tiny 5,Tiny 4,Tiny 3,Json One,Software Delivery Lifecycle" "newest first"
expect_eq "$(j 'Object.keys(j.items[0]).sort().join()')" "created_at,id,name,updated_at,version" "list row"
expect_eq "$(j 'j.next_cursor')" null "one page"
seen=""; cursor=""
for page in 1 2 3; do
  get GET "/api/v1/workflows?limit=2${cursor:+&cursor=$cursor}"
  expect_eq "$(status_code)" 200 "page $page"
  seen="$seen$(j 'j.items.map(w => w.name).join()'),"
  cursor=$(j 'j.next_cursor')
  [ "$cursor" == null ] && break
done
expect_eq "$page $seen" "3 Tiny 5,Tiny 4,Tiny 3,Json One,Software Delivery Lifecycle," "pages"
expect_eq "$cursor" null "the last page says so"
get GET "/api/v1/workflows?limit=0"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "limit 0"
get GET "/api/v1/workflows?limit=101"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "limit 101"
get GET "/api/v1/workflows?cursor=nonsense"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "a cursor this server did not give out"

# get: the latest source, metadata, every version
get GET "/api/v1/workflows/$sdlc"
expect_eq "$(status_code) $(j 'j.version + " " + j.versions.length')" "200 1 1" "get"
node -e "process.stdout.write(JSON.parse(require('fs').readFileSync('$WORK/out', 'utf8')).source)" > "$WORK/src1.yaml"
cmp -s "$WORK/src1.yaml" workflows/sdlc.yaml || fail "the YAML source did not come back as sent"; ok
get GET /api/v1/workflows/wf-nope
expect_eq "$(status_code) $(err_code)" "404 not_found" "unknown workflow"

# update: a new version; the same bytes again make none; an invalid one is a 422
printf 'name: Tiny lifecycle\nagents: {w: {instructions: Write a line.}}\ntasks:\n  - {id: a, agent: w}\n  - {id: b, agent: w, depends_on: [a]}\n' > "$WORK/v2.yaml"
get PUT "/api/v1/workflows/$sdlc" --data-binary @"$WORK/v2.yaml"
expect_eq "$(status_code) $(j 'j.version + " " + j.changed + " " + j.name')" "200 2 true Tiny lifecycle" "update"
expect_eq "$(j 'j.versions.map(v => v.version).join() + " " + (j.updated_at >= j.created_at)')" "1,2 true" "versions after update"
get PUT "/api/v1/workflows/$sdlc" --data-binary @"$WORK/v2.yaml"
expect_eq "$(status_code) $(j 'j.version + " " + j.changed')" "200 2 false" "the same text again"
get PUT "/api/v1/workflows/$sdlc" --data-binary @"$WORK/bad.yaml"
expect_eq "$(status_code) $(err_code)" "422 invalid_workflow" "an invalid update"
get GET "/api/v1/workflows/$sdlc"
expect_eq "$(j 'j.version + " " + j.versions.length + " " + j.name')" "2 2 Tiny lifecycle" "nothing changed by those"
get PUT /api/v1/workflows/wf-nope --data-binary @"$WORK/v2.yaml"
expect_eq "$(status_code) $(err_code)" "404 not_found" "update an unknown workflow"

# an old version's source
get GET "/api/v1/workflows/$sdlc/versions/1"
expect_eq "$(status_code) $(j 'j.workflow_id + " " + j.version')" "200 $sdlc 1" "version 1"
node -e "process.stdout.write(JSON.parse(require('fs').readFileSync('$WORK/out', 'utf8')).source)" > "$WORK/v1back.yaml"
cmp -s "$WORK/v1back.yaml" workflows/sdlc.yaml || fail "version 1 is not the text first sent"; ok
get GET "/api/v1/workflows/$sdlc/versions/2"
expect_eq "$(status_code) $(j 'j.source.startsWith("name: Tiny lifecycle")')" "200 true" "version 2"
for v in 0 -1 x 1.5; do
  get GET "/api/v1/workflows/$sdlc/versions/$v"
  expect_eq "$(status_code) $(err_code)" "400 bad_request" "version $v"
done
get GET "/api/v1/workflows/$sdlc/versions/99"
expect_eq "$(status_code) $(j 'j.error.code + ": " + j.error.message')" "404 not_found: workflow '$sdlc' has no version 99" "version 99"
get GET "/api/v1/workflows/wf-nope/versions/1"
expect_eq "$(status_code) $(j 'j.error.message')" "404 no workflow 'wf-nope'" "a version of an unknown workflow"

# runs from a stored workflow: the latest version by default, or the one asked for; pinned
get POST /api/v1/runs -d "{\"workflow_id\": \"$sdlc\"}"
expect_eq "$(status_code) $(j 'j.workflow + " " + j.workflow_id + " " + j.workflow_version')" \
  "201 Tiny lifecycle $sdlc 2" "a run of the latest version"
latest_run=$(j 'j.id')
get POST /api/v1/runs -d "{\"workflow_id\": \"$sdlc\", \"version\": 1, \"inputs\": {\"project_brief\": \"A todo app\"}}"
expect_eq "$(status_code) $(j 'j.workflow + " " + j.workflow_id + " " + j.workflow_version')" \
  "201 Software Delivery Lifecycle $sdlc 1" "a run of version 1"
old_run=$(j 'j.id')
until_status "$latest_run" completed
expect_eq "$(j 'j.workflow_id + " " + j.workflow_version')" "$sdlc 2" "the summary says where the run came from"
get GET "/api/v1/runs?workflow=Tiny%20lifecycle"
expect_eq "$(j 'j.items.map(r => r.id + " " + r.workflow_id + " " + r.workflow_version).join()')" "$latest_run $sdlc 2" "the run row too"
get GET "/api/v1/runs/$latest_run/events?limit=1"
expect_eq "$(j 'j.items[0].data.workflow_id + " " + j.items[0].data.workflow_version')" "$sdlc 2" "run.created journals it"
get POST /api/v1/runs -d '{"workflow": "sdlc", "inputs": {"project_brief": "x"}}'
expect_eq "$(status_code) $(j 'j.workflow_id')" "201 null" "a template's run has no workflow_id"
get POST "/api/v1/runs/$(j 'j.id')/cancel"
# a later version does not move a run that started on an earlier one
get PUT "/api/v1/workflows/$sdlc" --data-binary @"$WORK/t3.yaml"
expect_eq "$(status_code) $(j 'j.version')" "200 3" "version 3"
until_status "$old_run" waiting_human
expect_eq "$(j 'j.workflow + " " + j.workflow_version')" "Software Delivery Lifecycle 1" "pinned to version 1"

# bad run requests
get POST /api/v1/runs -d '{"workflow_id": 7}'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "workflow_id of the wrong type"
get POST /api/v1/runs -d "{\"workflow_id\": \"$sdlc\", \"version\": \"1\"}"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "version of the wrong type"
get POST /api/v1/runs -d "{\"workflow_id\": \"$sdlc\", \"version\": 0}"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "version 0"
get POST /api/v1/runs -d "{\"workflow_id\": \"$sdlc\", \"version\": 99}"
expect_eq "$(status_code) $(err_code)" "404 not_found" "version 99"
get POST /api/v1/runs -d '{"workflow_id": "wf-nope"}'
expect_eq "$(status_code) $(err_code)" "404 not_found" "unknown workflow_id"
get POST /api/v1/runs -d "{\"workflow_id\": \"$sdlc\", \"workflow\": \"sdlc\"}"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "workflow and workflow_id"
get POST /api/v1/runs -d '{"workflow": "sdlc", "version": 1}'
expect_eq "$(status_code) $(err_code)" "400 bad_request" "version without workflow_id"
get POST /api/v1/runs -d "{\"workflow_id\": \"$sdlc\", "
expect_eq "$(status_code) $(err_code)" "400 bad_request" "malformed JSON"
get POST /api/v1/runs -d "{\"workflow_id\": \"$sdlc\", \"inputs\": 3}"
expect_eq "$(status_code) $(err_code)" "400 bad_request" "inputs of the wrong type"

# literal routes stay theirs: templates and validate are no workflow ids
get DELETE /api/v1/workflows/templates
expect_eq "$(status_code) $(err_code)" "405 method_not_allowed" "DELETE templates"
get GET /api/v1/workflows/validate
expect_eq "$(status_code) $(err_code)" "405 method_not_allowed" "GET validate"
get PATCH "/api/v1/workflows/$sdlc"
expect_eq "$(status_code) $(err_code)" "405 method_not_allowed" "PATCH a workflow"

# delete: 404 from then on; the runs it started carry on
get DELETE "/api/v1/workflows/$sdlc"
expect_eq "$(status_code) $(j 'j.id + " " + j.deleted')" "200 $sdlc true" "delete"
for path in "/api/v1/workflows/$sdlc" "/api/v1/workflows/$sdlc/versions/1"; do
  get GET "$path"
  expect_eq "$(status_code) $(err_code)" "404 not_found" "GET $path after delete"
done
get DELETE "/api/v1/workflows/$sdlc"
expect_eq "$(status_code) $(err_code)" "404 not_found" "delete twice"
get PUT "/api/v1/workflows/$sdlc" --data-binary @"$WORK/v2.yaml"
expect_eq "$(status_code) $(err_code)" "404 not_found" "update after delete"
get POST /api/v1/runs -d "{\"workflow_id\": \"$sdlc\"}"
expect_eq "$(status_code) $(err_code)" "404 not_found" "a run of a deleted workflow"
get GET /api/v1/workflows
expect_eq "$(j 'j.items.length + " " + j.items.some(w => w.id == "'"$sdlc"'")')" "4 false" "left out of the list"
get GET "/api/v1/runs/$latest_run"
expect_eq "$(status_code) $(j 'j.status + " " + j.workflow_id')" "200 completed $sdlc" "its finished run is still readable"
get POST "/api/v1/approvals/$old_run.architecture/respond" -d '{"decision": "approve"}'
expect_eq "$(status_code)" 200 "its waiting run takes an answer"
until_status "$old_run" completed

# a server started again over the same data dir has them all
stop_serve
expect_eq "$(sqlite3 "$WORK/d/baton.db" 'PRAGMA user_version' | awk '{print ($1 >= 6)}')" 1 "schema version (stored workflows: 6)"
serve
get GET /api/v1/workflows
expect_eq "$(j 'j.items.map(w => w.name).join()')" "Tiny 5,Tiny 4,Tiny 3,Json One" "the list after a restart"
get GET "/api/v1/workflows/$jsonwf"
expect_eq "$(status_code) $(j 'j.version + " " + j.format')" "200 1 json" "a workflow after a restart"
get GET "/api/v1/workflows/$sdlc"
expect_eq "$(status_code)" 404 "still deleted after a restart"
get POST /api/v1/runs -d "{\"workflow_id\": \"$jsonwf\", \"version\": 1}"
expect_eq "$(status_code) $(j 'j.workflow + " " + j.workflow_version')" "201 Json One 1" "a run after a restart"
until_status "$(j 'j.id')" completed
get GET "/api/v1/runs/$old_run"
expect_eq "$(j 'j.status + " " + j.workflow_version')" "completed 1" "an old run after a restart"
stop_serve

# the projection rebuilt from the journal keeps where runs came from
expect_exit 0 "$BATON" admin rebuild --data-dir "$WORK/d"
expect_eq "$(sqlite3 "$WORK/d/baton.db" "SELECT workflow_id || ' ' || workflow_version FROM runs WHERE id = '$old_run'")" "$sdlc 1" "rebuilt runs row"
finish
