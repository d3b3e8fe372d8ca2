#!/usr/bin/env bash
# Output of the offline model never passes for real work (docs/models.md): a run it answered is
# "simulated": true in every channel (baton run --json, runs show/ls --json, the REST run, list
# and task, the WebSocket snapshot, the journal's llm.call events; also when the response cache
# answers again), baton run says so on stderr with how to configure a model, each Markdown
# artifact starts with the notice, and a rebuild from the journal (also one written before the
# flag) derives the same. The same workflow on a
# fake provider is "simulated": false everywhere. The offline consensus record agrees with its
# vote, and an enum field gets one of its values.
source "$(dirname "$0")/lib.sh" "$@"
FIX="$ROOT/tests/cli/fixtures/simulated_agents.yaml"
NOTICE="> Simulated by Baton's offline model: no model wrote this. See docs/models.md to configure one."
D="$WORK/off"

# 1. baton run on the offline model (nothing configured)
expect_exit 0 "$BATON" run "$FIX" --json --data-dir "$D"
id=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" '[j.simulated, j.tasks.find(t => t.id == "write").simulated, j.tasks.find(t => t.id == "triage").simulated].join()')" \
  "true,true,true" "run --json: run and tasks simulated"
expect_grep "simulated: the offline model may answer for write, triage" "$WORK/err"
expect_grep "set \`providers\` and \`tiers\` in baton.yaml (--config FILE): see docs/models.md" "$WORK/err"
expect_eq "$(json_get "$WORK/out" '["ship", "hold", "drop"].includes(j.tasks.find(t => t.id == "triage").outputs.verdict)')" true "enum value"
notes="$D/artifacts/$id/notes.md" # DATA_DIR/artifacts/RUN_ID/NAME
expect_eq "$(head -n1 "$notes")" "$NOTICE" "first line of the Markdown artifact"
expect_eq "$(sed -n 3p "$notes")" "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text.split("\n")[0]')" \
  "the model's text follows the notice"
triage="$D/artifacts/$id/triage.json"
expect_eq "$(node -e "console.log(JSON.parse(require('fs').readFileSync('$triage', 'utf8')).verdict)")" \
  "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "triage").outputs.verdict')" "a JSON artifact stays JSON"
# the live view (a log here: stdout is no terminal) gets the notice on stderr too
expect_exit 0 "$BATON" run "$FIX" --data-dir "$D"
expect_grep "simulated: the offline model may answer for write, triage" "$WORK/err"
expect_grep "simulated: the offline model wrote some of this output" "$WORK/out"
expect_exit 0 "$BATON" runs show "$id" --data-dir "$D"
expect_grep "^simulated yes" "$WORK/out"

expect_exit 0 "$BATON" runs show "$id" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" '[j.simulated, j.tasks.find(t => t.id == "write").simulated, j.tasks.find(t => t.id == "triage").simulated].join()')" \
  "true,true,true" "runs show --json"
expect_exit 0 "$BATON" runs ls --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.map(r => r.simulated).join()')" "true,true" "runs ls --json"
expect_exit 0 "$BATON" runs events "$id" --json --data-dir "$D"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").map(e => e.data.candidate + ":" + e.data.simulated).join()')" \
  "offline/offline-1:true,offline/offline-1:true" "llm.call events"

# 2. the projections rebuild to the same, also from a journal written before the flag existed
expect_exit 0 "$BATON" admin rebuild --data-dir "$D"
expect_grep "identical to the live tables" "$WORK/out"
if command -v sqlite3 >/dev/null; then
  sqlite3 "$D/baton.db" "UPDATE events SET data = json_remove(data, '\$.simulated');
    DELETE FROM tasks; DELETE FROM runs"
  expect_exit 0 "$BATON" admin rebuild --data-dir "$D"
  expect_exit 0 "$BATON" runs show "$id" --json --data-dir "$D"
  expect_eq "$(json_get "$WORK/out" '[j.simulated, j.tasks.find(t => t.id == "write").simulated].join()')" "true,true" \
    "rebuilt from an old journal"
fi

# 2b. an offline answer served again from the response cache is still simulated
printf 'cache: {enabled: true, include_nonzero_temperature: true}\n' > "$WORK/cache.yaml"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/cache.yaml" --json --data-dir "$WORK/cached"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/cache.yaml" --json --data-dir "$WORK/cached"
cid=$(json_get "$WORK/out" 'j.id')
expect_eq "$(json_get "$WORK/out" '[j.simulated, j.tasks.find(t => t.id == "write").simulated, j.tasks.find(t => t.id == "triage").simulated].join()')" \
  "true,true,true" "a run answered from the cache"
expect_eq "$(head -n1 "$WORK/cached/artifacts/$cid/notes.md")" \
  "$NOTICE" "its Markdown artifact"
expect_exit 0 "$BATON" runs events "$cid" --json --data-dir "$WORK/cached"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").map(e => e.data.cached + ":" + e.data.simulated).join()')" \
  "true:true,true:true" "cached llm.call events"

# 2c. an output approved by a person (in another process: the state comes from the journal)
#     keeps the notice; a person's edited output is written as they gave it
H="$ROOT/tests/cli/fixtures/crash_human.yaml"
printf 'A person wrote this.\n' > "$WORK/edited.md"
for how in approve edit; do
  expect_exit 3 "$BATON" run "$H" --json --data-dir "$WORK/h-$how"
  hid=$(json_get "$WORK/out" 'j.id')
  if [ "$how" = approve ]; then
    expect_exit 3 "$BATON" approvals respond "$hid" draft --decision approve --data-dir "$WORK/h-$how"
    expect_eq "$(head -n1 "$WORK/h-$how/artifacts/$hid/draft.md")" "$NOTICE" "an approved offline draft"
  else
    expect_exit 3 "$BATON" approvals respond "$hid" draft --decision modify \
      --edited-output-file "$WORK/edited.md" --data-dir "$WORK/h-$how"
    cmp -s "$WORK/edited.md" "$WORK/h-$how/artifacts/$hid/draft.md" || fail "the edited draft was changed"; ok
  fi
done

# 3. the server: REST, the WebSocket snapshot, baton run --server, the gateway
serve
body=$(node -e "console.log(JSON.stringify({workflow: require('fs').readFileSync('$FIX', 'utf8')}))")
get POST /api/v1/runs -d "$body"
sid=$(json_get "$WORK/out" 'j.id')
until_status "$sid" completed
expect_eq "$(json_get "$WORK/out" '[j.simulated, j.tasks.find(t => t.id == "write").simulated, j.tasks.find(t => t.id == "triage").simulated].join()')" \
  "true,true,true" "GET /api/v1/runs/{id}"
get GET /api/v1/runs
expect_eq "$(json_get "$WORK/out" 'j.items.find(r => r.id == "'"$sid"'").simulated')" true "GET /api/v1/runs"
get GET "/api/v1/runs/$sid/tasks/triage"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.simulated')" "200 true" "GET /api/v1/runs/{id}/tasks/{task}"
node --input-type=module -e "
import { createRequire } from 'node:module';
const WebSocket = createRequire('$ROOT/tests/integration/package.json')('ws');
const ws = new WebSocket('ws://' + new URL('$API').host + '/api/v1/ws');
const stop = setTimeout(() => { console.log('timeout'); process.exit(1); }, 10000);
ws.on('open', () => ws.send(JSON.stringify({op: 'subscribe', topics: ['run:$sid']})));
ws.on('message', m => {
  const msg = JSON.parse(m);
  if (msg.type !== 'subscribed') return;
  console.log(JSON.stringify({run: msg.data.simulated, tasks: msg.data.tasks.map(t => t.simulated)}));
  clearTimeout(stop);
  ws.close();
});" > "$WORK/ws.out" 2>&1 || { cat "$WORK/ws.out"; fail "WebSocket client"; }
expect_eq "$(cat "$WORK/ws.out")" '{"run":true,"tasks":[true,true]}' "WebSocket snapshot"
get POST /v1/chat/completions -H 'content-type: application/json' \
  -d '{"model": "offline/offline-1", "messages": [{"role": "user", "content": "Hello"}]}'
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.system_fingerprint')" "200 baton-offline-simulated" \
  "gateway answer of the offline model"
expect_exit 0 "$BATON" run "$FIX" --server "$API" --json
expect_eq "$(json_get "$WORK/out" 'j.simulated')" true "run --server --json"
expect_grep "simulated: the offline model answered for this run" "$WORK/err"
stop_serve

# 4. the offline consensus record names the decision its vote reached (a person's when the
#    vote was split: --auto-approve picks the first option)
for q in "Should we move CI to GitHub Actions?" "Should we rewrite the billing service in Rust?"; do
  expect_exit 0 "$BATON" run workflows/consensus_decision.yaml --input question="$q" --auto-approve \
    --json --data-dir "$WORK/vote"
  vote=$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "vote").outputs.decision')
  [[ "$vote" =~ ^(revise|adopt|reject)$ ]] || fail "the vote's decision: $vote"; ok
  expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "decision").outputs.decision')" "$vote" "decision record of \"$q\""
  vid=$(json_get "$WORK/out" 'j.id')
  record="$WORK/vote/artifacts/$vid/decision_record.json"
  expect_eq "$(node -e "console.log(JSON.parse(require('fs').readFileSync('$record', 'utf8')).decision)")" \
    "$vote" "decision_record.json"
  expect_eq "$(head -n1 "$WORK/vote/artifacts/$vid/decision_brief.md")" \
    "$NOTICE" "decision_brief.md"
  expect_eq "$(json_get "$WORK/out" 'j.tasks.every(t => t.simulated)')" true "every task"
done

# 5. the same workflow on a fake provider: nothing simulated, no notice
start_fake
export FAKE_KEY="sk-test-secret-value-1234"
cat > "$WORK/baton.yaml" <<YAML
providers:
  paid:
    type: openai
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    models:
      gpt-test: {input_per_million: 2, output_per_million: 10}
tiers:
  fast: [paid/gpt-test]
YAML
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/real"
expect_eq "$(json_get "$WORK/out" '[j.simulated, j.tasks.find(t => t.id == "write").simulated, j.tasks.find(t => t.id == "triage").simulated].join()')" \
  "false,false,false" "a run on a real provider"
grep -q "simulated" "$WORK/err" && fail "a notice for a real run: $(cat "$WORK/err")"; ok
rid=$(json_get "$WORK/out" 'j.id')
notes="$WORK/real/artifacts/$rid/notes.md"
expect_eq "$(head -n1 "$notes")" "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text.split("\n")[0]')" \
  "the artifact is the model's text"
rid=$(json_get "$WORK/out" 'j.id')
expect_exit 0 "$BATON" runs show "$rid" --data-dir "$WORK/real"
grep -q "simulated" "$WORK/out" && fail "runs show of a real run: $(cat "$WORK/out")"; ok
expect_exit 0 "$BATON" runs ls --json --data-dir "$WORK/real"
expect_eq "$(json_get "$WORK/out" 'j[0].simulated')" false "runs ls --json"
rm -rf "$WORK/d" && cp -r "$WORK/real" "$WORK/d" # the server reads the same data dir
serve --config "$WORK/baton.yaml"
get GET "/api/v1/runs/$rid"
expect_eq "$(json_get "$WORK/out" '[j.simulated, j.tasks.find(t => t.id == "write").simulated].join()')" "false,false" "GET /api/v1/runs/{id}"
get GET /api/v1/runs
expect_eq "$(json_get "$WORK/out" 'j.items[0].simulated')" false "GET /api/v1/runs"
get GET "/api/v1/runs/$rid/tasks/write"
expect_eq "$(json_get "$WORK/out" 'j.simulated')" false "GET /api/v1/runs/{id}/tasks/{task}"
get POST /v1/chat/completions -H 'content-type: application/json' \
  -d '{"model": "paid/gpt-test", "messages": [{"role": "user", "content": "Hello"}]}'
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.system_fingerprint === undefined')" "200 true" \
  "gateway answer of a provider"
stop_serve
finish
