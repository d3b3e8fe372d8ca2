#!/usr/bin/env bash
# The response cache, record/replay and savings, through `baton run` against the fake OpenAI-
# compatible server: a second identical run is answered from the cache (no request reaches the
# provider, cost 0, llm_calls.cached = 1), temperature > 0 bypasses it unless configured, an
# expired entry is asked again, a recorded run replays with the provider gone and gives the same
# outputs and artifact bytes, a replay miss fails loudly without calling anyone, and savings
# against the reference model match hand-computed values.
source "$(dirname "$0")/lib.sh" "$@"
FIX="$ROOT/tests/cli/fixtures/cache_agents.yaml"
command -v sqlite3 >/dev/null || { echo "sqlite3 shell missing: skipped"; exit 0; }

start_fake
export FAKE_KEY="sk-test-secret-value-1234"

# paid/gpt-test answers; ref/gpt-big is only the reference for savings (never called).
config() { # $1: extra YAML appended
  cat > "$WORK/baton.yaml" <<YAML
providers:
  paid:
    type: openai
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    models:
      gpt-test: {input_per_million: 2, output_per_million: 10, cached_input_per_million: 1}
  ref:
    type: openai
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    models:
      gpt-big: {input_per_million: 5, output_per_million: 20, cached_input_per_million: 2.5}
tiers:
  fast: [paid/gpt-test]
  best: [paid/gpt-test]
$1
YAML
}
script() { # the two answers of one run, with exact usage
  curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"Tide pools hold life.","usage":{"input":1000,"output":500}},
    {"route":"openai","json":{"score":8},"usage":{"input":200,"output":10}}]' > /dev/null
}
count_requests() { requests; json_get "$WORK/req.json" 'j.length'; }
q() { sqlite3 "$1/baton.db" "$2"; }

CACHE='cache: {enabled: true, ttl: 24h}
routing: {reference_model: ref/gpt-big}'

# 1. First run: a miss, priced normally. cost = (1000*2 + 500*10 + 200*2 + 10*10)/1e6 = 0.0075;
#    on the reference: (1000*5 + 500*20 + 200*5 + 10*20)/1e6 = 0.0162; savings 0.0087.
config "$CACHE"
script
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d1"
cp "$WORK/out" "$WORK/run1.json"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "first run"
expect_eq "$(json_get "$WORK/out" 'j.cost_usd.toFixed(6)')" "0.007500" "first run cost"
expect_eq "$(json_get "$WORK/out" 'j.llm.cached')" 0 "first run cached calls"
expect_eq "$(json_get "$WORK/out" 'j.llm.reference_cost_usd.toFixed(6)')" "0.016200" "first run reference cost"
expect_eq "$(json_get "$WORK/out" 'j.llm.savings_usd.toFixed(6)')" "0.008700" "first run savings"
expect_eq "$(count_requests)" 2 "first run reaches the provider"
R1=$(json_get "$WORK/run1.json" 'j.id')
expect_eq "$(q "$WORK/d1" "SELECT group_concat(cached || ':' || cost_usd || ':' || reference_cost_usd, ',') FROM (SELECT * FROM llm_calls WHERE run_id = '$R1' ORDER BY seq)")" \
  "0:0.007:0.015,0:0.0005:0.0012" "first run llm_calls rows"
expect_eq "$(q "$WORK/d1" "SELECT count(*) FROM llm_cache")" 2 "answers stored in the cache"

# 2. The same run again (a new process: the cache lives in baton.db): answered from the cache,
#    nothing reaches the provider, cost 0, the stored tokens, savings = the whole reference cost.
reset
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d1"
cp "$WORK/out" "$WORK/run2.json"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "cached run"
expect_eq "$(count_requests)" 0 "cached run reaches no provider"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text')" "Tide pools hold life." "cached text"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "score").outputs.score')" 8 "cached JSON output"
expect_eq "$(json_get "$WORK/out" 'j.cost_usd')" 0 "cached run cost"
expect_eq "$(json_get "$WORK/out" 'j.llm.cached')" 2 "cached calls"
expect_eq "$(json_get "$WORK/out" 'j.llm.input_tokens + "/" + j.llm.output_tokens')" "1200/510" "cached tokens reported"
expect_eq "$(json_get "$WORK/out" 'j.llm.reference_cost_usd.toFixed(6)')" "0.016200" "cached run reference cost"
expect_eq "$(json_get "$WORK/out" 'j.llm.savings_usd.toFixed(6)')" "0.016200" "cached run saves the whole reference cost"
R2=$(json_get "$WORK/run2.json" 'j.id')
expect_eq "$(q "$WORK/d1" "SELECT group_concat(candidate || ':' || cached || ':' || cost_usd || ':' || input_tokens || ':' || output_tokens, ',') FROM (SELECT * FROM llm_calls WHERE run_id = '$R2' ORDER BY seq)")" \
  "paid/gpt-test:1:0.0:1000:500,paid/gpt-test:1:0.0:200:10" "cached llm_calls rows"
expect_eq "$(json_get "$WORK/run1.json" 'j.artifacts[0].sha256')" "$(json_get "$WORK/run2.json" 'j.artifacts[0].sha256')" "same artifact from the cache"
expect_exit 0 "$BATON" runs show "$R2" --data-dir "$WORK/d1"
expect_grep 'reference \$0.0162  savings \$0.0162  2 cached calls' "$WORK/out"
expect_exit 0 "$BATON" runs events "$R2" --json --data-dir "$WORK/d1"
expect_eq "$(json_get "$WORK/out" 'j.filter(e => e.type == "llm.call").map(e => e.data.cached).join(",")')" "true,true" "llm.call events marked cached"

# 2b. Provider-side prompt caching (400 of the writer's 1000 input tokens read from OpenAI's
#     cache) is priced at each model's cached price: cost (600*2 + 400*1 + 500*10)/1e6 + 0.0005
#     = 0.0071, reference (600*5 + 400*2.5 + 500*20)/1e6 + 0.0012 = 0.0152. A hit on our response
#     cache then costs 0 and saves the whole 0.0152, and keeps the recorded 400 cached tokens.
reset
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"Kelp forests sway.","usage":{"input":1000,"output":500,"cache_read":400}},
  {"route":"openai","json":{"score":7},"usage":{"input":200,"output":10}}]' > /dev/null
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d2b"
expect_eq "$(json_get "$WORK/out" 'j.llm.cached_tokens + ":" + j.cost_usd.toFixed(6) + ":" + j.llm.reference_cost_usd.toFixed(6) + ":" + j.llm.savings_usd.toFixed(6)')"   "400:0.007100:0.015200:0.008100" "provider-cached tokens: cost, reference, savings"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d2b"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").outputs.text')" "Kelp forests sway." "cached text (2b)"
expect_eq "$(json_get "$WORK/out" 'j.llm.cached + ":" + j.llm.cached_tokens + ":" + j.cost_usd + ":" + j.llm.reference_cost_usd.toFixed(6) + ":" + j.llm.savings_usd.toFixed(6)')"   "2:400:0:0.015200:0.015200" "response-cache hit of a provider-cached call"
expect_eq "$(count_requests)" 2 "only the first run of 2b reaches the provider"

# 3. Temperature > 0 bypasses the cache: both runs call the provider...
sed 's/temperature: 0$/temperature: 0.7/' "$FIX" > "$WORK/warm.yaml"
reset
expect_exit 0 "$BATON" run "$WORK/warm.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d3"
expect_exit 0 "$BATON" run "$WORK/warm.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d3"
expect_eq "$(count_requests)" 4 "temperature 0.7 bypasses the cache"
expect_eq "$(json_get "$WORK/out" 'j.llm.cached')" 0 "no cached calls at temperature 0.7"
expect_eq "$(q "$WORK/d3" "SELECT count(*) FROM llm_cache")" 0 "nothing stored at temperature 0.7"
# ... unless include_nonzero_temperature says otherwise.
config "cache: {enabled: true, include_nonzero_temperature: true}"
reset
expect_exit 0 "$BATON" run "$WORK/warm.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d3"
expect_exit 0 "$BATON" run "$WORK/warm.yaml" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d3"
expect_eq "$(count_requests)" 2 "include_nonzero_temperature caches temperature 0.7"
expect_eq "$(json_get "$WORK/out" 'j.llm.cached')" 2 "cached calls at temperature 0.7"
expect_eq "$(json_get "$WORK/out" 'j.llm.reference_cost_usd')" null "no reference model: no reference cost"

# 4. TTL: entries older than the TTL are not served (and are swept); a 1 s TTL expires too.
config "$CACHE"
sqlite3 "$WORK/d1/baton.db" "UPDATE llm_cache SET created_at = created_at - 25 * 3600 * 1000"
reset
script
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d1"
expect_eq "$(count_requests)" 2 "expired entries are asked again"
expect_eq "$(json_get "$WORK/out" 'j.llm.cached')" 0 "no cached calls after expiry"
expect_eq "$(q "$WORK/d1" "SELECT count(*) FROM llm_cache WHERE created_at < (strftime('%s','now') - 3600) * 1000")" 0 "expired entries swept or replaced"
config "cache: {enabled: true, ttl: 1s}"
reset
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4"
sleep 1.2
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4"
expect_eq "$(count_requests)" 4 "a 1 s TTL has expired after 1.2 s"
# max_entries bounds the table.
config "cache: {enabled: true, max_entries: 1}"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d4"
expect_eq "$(q "$WORK/d4" "SELECT count(*) FROM llm_cache")" 1 "max_entries keeps the table bounded"

# 5. Record against the fake (no cache), then replay: no provider is called, a miss fails loudly.
config "routing: {reference_model: ref/gpt-big}"
reset
script
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d5" --llm-mode record --recordings "$WORK/rec.json"
cp "$WORK/out" "$WORK/rec-run.json"
expect_eq "$(count_requests)" 2 "recording calls the provider"
expect_eq "$(json_get "$WORK/rec.json" 'Object.keys(j.entries).length')" 2 "two answers recorded"
expect_eq "$(json_get "$WORK/rec.json" 'Object.values(j.entries).map(e => e.task + ":" + e.candidate).sort().join(",")')" "score:paid/gpt-test,write:paid/gpt-test" "recorded tasks and candidates"
grep -q "$FAKE_KEY" "$WORK/rec.json" && fail "the API key is in the recordings"; ok
# A miss: another topic is another prompt. It fails naming the task and the key, and the live
# provider (still up) is not asked.
reset
expect_exit 1 "$BATON" run "$FIX" --input topic=kelp --config "$WORK/baton.yaml" --json --data-dir "$WORK/d5m" --llm-mode replay --recordings "$WORK/rec.json"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").status')" failed "replay miss fails the task"
json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").error' | grep -Eq "replay: no recording for task 'write' \(request key [0-9a-f]{64}\) in $WORK/rec.json" \
  || fail "replay miss message: $(json_get "$WORK/out" 'j.tasks.find(t => t.id == "write").error')"; ok
expect_eq "$(count_requests)" 0 "a replay miss calls no provider"
# A hit, with the fake stopped: same outputs, same artifact bytes, cost 0, reference priced.
kill $fake; wait $fake 2>/dev/null || true
trap 'rm -rf "$WORK"' EXIT # the fake is gone: the exit trap must not fail killing it again
curl -s -m 2 "$URL/_fake/health" > /dev/null && fail "the fake is still answering"; ok
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d6" --llm-mode replay --recordings "$WORK/rec.json"
expect_eq "$(json_get "$WORK/out" 'j.status')" completed "replay with the provider gone"
expect_eq "$(json_get "$WORK/out" 'JSON.stringify(j.tasks.find(t => t.id == "write").outputs) + JSON.stringify(j.tasks.find(t => t.id == "score").outputs)')" \
  "$(json_get "$WORK/rec-run.json" 'JSON.stringify(j.tasks.find(t => t.id == "write").outputs) + JSON.stringify(j.tasks.find(t => t.id == "score").outputs)')" "replayed outputs"
expect_eq "$(json_get "$WORK/out" 'j.artifacts[0].sha256')" "$(json_get "$WORK/rec-run.json" 'j.artifacts[0].sha256')" "replayed artifact bytes"
expect_eq "$(json_get "$WORK/out" 'j.cost_usd + ":" + j.llm.cached + ":" + j.llm.reference_cost_usd.toFixed(6)')" "0:2:0.016200" "replay cost, cached calls, reference cost"
# Replay is also a configuration choice (routing.mode), and a missing file is a usage error.
config "routing: {mode: replay, recordings: $WORK/rec.json}"
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d7"
expect_exit 2 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d7" --recordings "$WORK/none.json"
expect_grep "cannot read recordings $WORK/none.json" "$WORK/err"

# 6. Configuration errors are clear.
config "cache: {enabled: true, ttl: soon}"
expect_exit 2 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --data-dir "$WORK/d8"
expect_grep "cache.ttl" "$WORK/err"
config "routing: {reference_model: nobody/none}"
expect_exit 2 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --data-dir "$WORK/d8"
expect_grep "routing.reference_model 'nobody/none' is not a model" "$WORK/err"
expect_exit 2 "$BATON" run "$FIX" --data-dir "$WORK/d8" --llm-mode rewind
expect_grep "llm-mode 'rewind' is not a mode" "$WORK/err"
echo '{"baton_recordings": 1, "entries": {"x": {}}}' > "$WORK/bad.json"
expect_exit 2 "$BATON" run "$FIX" --data-dir "$WORK/d8" --llm-mode replay --recordings "$WORK/bad.json"
expect_grep "bad.json: entry 'x'" "$WORK/err"

# 9. A JSON answer that fails its schema goes back to the model for repair and is never cached:
#    the next run asks the provider again rather than being served the same mistake.
start_fake # (stopped for the replay above)
config "$CACHE"
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","text":"Tide pools hold life."},
  {"route":"openai","json":{"score":"high"}}, {"route":"openai","json":{"score":7}}]' > /dev/null
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d9"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "score").outputs.score')" 7 "repaired answer"
expect_eq "$(count_requests)" 3 "a repair round"
reset
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai","json":{"score":6}}]' > /dev/null
expect_exit 0 "$BATON" run "$FIX" --config "$WORK/baton.yaml" --json --data-dir "$WORK/d9"
expect_eq "$(json_get "$WORK/out" 'j.tasks.find(t => t.id == "score").outputs.score')" 6 "the rejected answer was not cached"
expect_eq "$(count_requests)" 1 "only the uncached question reaches the provider"
finish
