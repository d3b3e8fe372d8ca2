#!/usr/bin/env bash
# `baton embed` against the fake providers (tests/fakes): the OpenAI, Gemini and Ollama
# embedding endpoints (request bodies, auth headers, vectors and token counts as the server sent
# them, cost at the configured price), fallback on each error class, the offline embedding model
# when nothing is configured, clear errors for bad input, and no API key in any output.
source "$(dirname "$0")/lib.sh" "$@"

start_fake --slow-ms 1500
export FAKE_KEY="sk-embed-secret-value-5678"
export GEMINI_FAKE_KEY="gm-embed-secret-value-9012"
LOG="$WORK/all-output.log"

# Every command's output is kept, to look for keys at the end.
run() { local want=$1; shift; expect_exit "$want" "$@"; cat "$WORK/out" "$WORK/err" >> "$LOG"; }

BAD="fail-429 fail-500 overloaded budget-refusal malformed cut-stream slow-first-byte not-found"
models() { for m in $BAD; do echo "      $m: {input_per_million: 0}"; done; }
cat > "$WORK/baton.yaml" <<YAML
providers:
  oa:
    type: openai
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    timeouts: {connect: 2s, first_byte: 700ms, total: 10s}
    models:
      text-embedding-3-small: {input_per_million: 20}
$(models)
  gm:
    type: gemini
    base_url: $URL/v1beta
    api_key_env: GEMINI_FAKE_KEY
    timeouts: {connect: 2s, first_byte: 700ms, total: 10s}
    models:
      gemini-embedding-001: {input_per_million: 150}
$(models)
  ol:
    type: ollama
    base_url: $URL
    timeouts: {connect: 2s, first_byte: 700ms, total: 10s}
    models:
      nomic-embed-text: {input_per_million: 0.5}
$(models)
  claude:
    type: anthropic
    base_url: $URL/v1
    api_key_env: FAKE_KEY
    models:
      claude-test: {input_per_million: 3, output_per_million: 15}
tiers:
  embedding: [oa/text-embedding-3-small]
  mixed: [oa/fail-500, gm/gemini-embedding-001]
  chat: [claude/claude-test]
routing: {policy: ordered}
YAML
CFG=(--config "$WORK/baton.yaml")

# same_vectors A.json B-expression: baton's vectors equal what the fake sent, to float precision.
same_vectors() { # $1: baton's JSON output, $2: the fake's vectors as JSON, $3: what
  node -e '
    const got = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).vectors;
    const want = JSON.parse(process.argv[2]);
    if (got.length !== want.length) { console.log(`count ${got.length} != ${want.length}`); process.exit(1); }
    want.forEach((w, i) => {
      if (got[i].length !== w.length) { console.log(`vector ${i}: ${got[i].length} values, fake sent ${w.length}`); process.exit(1); }
      w.forEach((x, d) => { if (Math.abs(x - got[i][d]) > 1e-6) { console.log(`vector ${i}[${d}]: ${got[i][d]} != ${x}`); process.exit(1); } });
    });' "$1" "$2" || fail "$3: vectors differ from the fake's"
  ok
}
# fake_post PATH BODY [HEADER]: what the fake answers to the same request (then forgotten)
fake_post() { curl -s -X POST "$URL$1" -H "content-type: application/json" ${3:+-H "$3"} -d "$2"; }

# 1. OpenAI-compatible: POST /v1/embeddings, Bearer key, float encoding, usage.prompt_tokens.
reset
run 0 "$BATON" embed "${CFG[@]}" --json --model oa/text-embedding-3-small "alpha beta" "gamma"
cp "$WORK/out" "$WORK/oa.json"
expect_eq "$(json_get "$WORK/oa.json" 'j.provider + "/" + j.model')" "oa/text-embedding-3-small" "openai model"
expect_eq "$(json_get "$WORK/oa.json" 'j.dimensions + ":" + j.vectors.length')" "64:2" "openai shape"
requests
expect_eq "$(json_get "$WORK/req.json" 'j.length + " " + j[0].path + " " + j[0].auth.scheme')" "1 /v1/embeddings Bearer" "openai request"
expect_eq "$(json_get "$WORK/req.json" 'j[0].headers.accept + " " + j[0].headers["content-type"]')" "application/json application/json" "one JSON answer asked for"
expect_eq "$(json_get "$WORK/req.json" 'JSON.stringify(j[0].body)')" \
  '{"model":"text-embedding-3-small","input":["alpha beta","gamma"],"encoding_format":"float"}' "openai body"
fake_post /v1/embeddings '{"model":"text-embedding-3-small","input":["alpha beta","gamma"],"encoding_format":"float"}' \
  "Authorization: Bearer x" > "$WORK/fake.json"
same_vectors "$WORK/oa.json" "$(json_get "$WORK/fake.json" 'j.data.map(d => d.embedding)')" "openai"
# the fake counts ceil(chars/4) per input: 3 + 2 tokens; at 20 USD per million: 0.0001
expect_eq "$(json_get "$WORK/fake.json" 'j.usage.prompt_tokens')" 5 "fake's count"
expect_eq "$(json_get "$WORK/oa.json" 'j.input_tokens')" 5 "openai tokens"
expect_eq "$(json_get "$WORK/oa.json" 'j.cost_usd.toFixed(7)')" "0.0001000" "openai cost"

# The default model is the `embedding` tier; --dimensions is sent as `dimensions`.
reset
curl -s -X POST "$URL/_fake/script" -d '[{"route":"openai-embeddings","usage":{"input":12345}}]' > /dev/null
run 0 "$BATON" embed "${CFG[@]}" --json --dimensions 16 "alpha"
expect_eq "$(json_get "$WORK/out" 'j.model + ":" + j.dimensions + ":" + j.vectors[0].length')" "text-embedding-3-small:16:16" "embedding tier, 16 dims"
requests
expect_eq "$(json_get "$WORK/req.json" 'j[0].body.dimensions')" 16 "dimensions sent"
# scripted usage: 12345 tokens at 20 USD per million = 0.2469
expect_eq "$(json_get "$WORK/out" 'j.input_tokens + " " + j.cost_usd.toFixed(4)')" "12345 0.2469" "reported usage wins"
# The human form: one line, then the first values of each vector.
# ceil(5/4) + ceil(4/4) = 3 tokens at 20 USD per million
run 0 "$BATON" embed "${CFG[@]}" "alpha" "beta"
expect_grep "^oa/text-embedding-3-small: 2 vectors of 64 dimensions, 3 input tokens, \$0.000060" "$WORK/out"
expect_eq "$(grep -c '^\[[12]\] ' "$WORK/out")" 2 "one line per vector"

# 2. Gemini: batchEmbedContents, x-goog-api-key (never in the URL), one request per text
#    naming the model, outputDimensionality; no usage in the answer, so tokens are estimated.
reset
run 0 "$BATON" embed "${CFG[@]}" --json --model gm/gemini-embedding-001 --dimensions 32 "hello world" "x"
cp "$WORK/out" "$WORK/gm.json"
requests
expect_eq "$(json_get "$WORK/req.json" 'j[0].path + " " + j[0].auth.header + " " + JSON.stringify(j[0].query)')" \
  "/v1beta/models/gemini-embedding-001:batchEmbedContents x-goog-api-key {}" "gemini request"
expect_eq "$(json_get "$WORK/req.json" 'JSON.stringify(j[0].body)')" \
  '{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hello world"}]},"outputDimensionality":32},{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"x"}]},"outputDimensionality":32}]}' "gemini body"
fake_post /v1beta/models/gemini-embedding-001:batchEmbedContents "$(json_get "$WORK/req.json" 'JSON.stringify(j[0].body)')" \
  "x-goog-api-key: k" > "$WORK/fake.json"
same_vectors "$WORK/gm.json" "$(json_get "$WORK/fake.json" 'j.embeddings.map(e => e.values)')" "gemini"
# estimate: ceil(11/4) + ceil(1/4) = 4 tokens; at 150 USD per million: 0.0006
expect_eq "$(json_get "$WORK/gm.json" 'j.input_tokens + " " + j.cost_usd.toFixed(7)')" "4 0.0006000" "gemini tokens and cost"

# 3. Ollama native: POST /api/embed, no auth header, prompt_eval_count.
reset
run 0 "$BATON" embed "${CFG[@]}" --json --model ol/nomic-embed-text "one" "two three"
cp "$WORK/out" "$WORK/ol.json"
requests
expect_eq "$(json_get "$WORK/req.json" 'j[0].path + " " + j[0].auth.header + " " + JSON.stringify(j[0].body)')" \
  '/api/embed null {"model":"nomic-embed-text","input":["one","two three"]}' "ollama request"
fake_post /api/embed '{"model":"nomic-embed-text","input":["one","two three"]}' > "$WORK/fake.json"
same_vectors "$WORK/ol.json" "$(json_get "$WORK/fake.json" 'j.embeddings')" "ollama"
expect_eq "$(json_get "$WORK/ol.json" 'j.input_tokens')" "$(json_get "$WORK/fake.json" 'j.prompt_eval_count')" "ollama tokens = prompt_eval_count"
# 1 + 3 tokens at 0.5 USD per million
expect_eq "$(json_get "$WORK/ol.json" 'j.input_tokens + " " + j.cost_usd.toFixed(7)')" "4 0.0000020" "ollama cost"

# 4. Fallback: [p/BAD, p/GOOD] answers from GOOD after BAD failed, for each error class that
#    another model could avoid; the same server's 404 (a model it does not have) fails at once.
for p in oa gm ol; do
  good=$(case $p in oa) echo text-embedding-3-small;; gm) echo gemini-embedding-001;; ol) echo nomic-embed-text;; esac)
  for bad in fail-429 fail-500 overloaded budget-refusal malformed cut-stream slow-first-byte; do
    reset
    run 0 "$BATON" embed "${CFG[@]}" --json --model "$p/$bad,$p/$good" "fall back"
    expect_eq "$(json_get "$WORK/out" 'j.provider + "/" + j.model + ":" + j.vectors.length')" "$p/$good:1" "$p: fallback from $bad"
    requests
    expect_eq "$(json_get "$WORK/req.json" 'j.map(r => r.model).join(",")')" "$bad,$good" "$p: $bad tried first"
  done
  reset
  run 1 "$BATON" embed "${CFG[@]}" --model "$p/not-found,$p/$good" "no fallback"
  expect_grep "$p/not-found: HTTP 404" "$WORK/err"
  requests
  expect_eq "$(json_get "$WORK/req.json" 'j.length')" 1 "$p: a 404 does not move on"
done
# Across providers, through a tier.
reset
run 0 "$BATON" embed "${CFG[@]}" --json --model mixed "across"
expect_eq "$(json_get "$WORK/out" 'j.provider + "/" + j.model')" "gm/gemini-embedding-001" "tier fallback across providers"
# Nothing left: the last error, worded as for chat calls, exit 1.
run 1 "$BATON" embed "${CFG[@]}" --model oa/fail-429,oa/fail-500 "none left"
expect_grep "baton embed: oa/fail-500: HTTP 500: The server had an error" "$WORK/err"
# An invalid key is an authentication failure (moves on); its value is never printed.
FAKE_KEY="invalid-$FAKE_KEY" run 0 "$BATON" embed "${CFG[@]}" --json --model oa/text-embedding-3-small,ol/nomic-embed-text "key"
expect_eq "$(json_get "$WORK/out" 'j.provider')" ol "fallback after a refused key"
FAKE_KEY="invalid-$FAKE_KEY" run 1 "$BATON" embed "${CFG[@]}" --model oa/text-embedding-3-small "key"
expect_grep "oa/text-embedding-3-small: HTTP 401: Incorrect API key" "$WORK/err"

# 5. No configuration: the offline embedding model, deterministic, unit length, 256 dimensions.
run 0 "$BATON" embed --json "the cat sat on the mat" "a cat sat on a mat" "quarterly revenue forecast"
cp "$WORK/out" "$WORK/off.json"
expect_eq "$(json_get "$WORK/off.json" 'j.provider + "/" + j.model + ":" + j.dimensions + ":" + j.cost_usd')" "offline/offline-embed-1:256:0" "offline default"
expect_eq "$(json_get "$WORK/off.json" 'j.vectors.map(v => Math.sqrt(v.reduce((a, x) => a + x * x, 0)).toFixed(5)).join(",")')" "1.00000,1.00000,1.00000" "unit length"
expect_eq "$(json_get "$WORK/off.json" '(([a, b, c]) => { const dot = (x, y) => x.reduce((s, v, i) => s + v * y[i], 0); return dot(a, b) > dot(a, c) + 0.3; })(j.vectors)')" true "shared words are closer"
# ceil(22/4) + ceil(18/4) + ceil(26/4) = 6 + 5 + 7
expect_eq "$(json_get "$WORK/off.json" 'j.input_tokens')" 18 "offline tokens"
run 0 "$BATON" embed --json "the cat sat on the mat" "a cat sat on a mat" "quarterly revenue forecast"
expect_eq "$(json_get "$WORK/out" 'JSON.stringify(j.vectors)')" "$(json_get "$WORK/off.json" 'JSON.stringify(j.vectors)')" "same vectors every time"
# A configuration whose `embedding` tier is not defined uses it too.
run 0 "$BATON" embed --config "$ROOT/config/defaults.yaml" --json "x"
expect_eq "$(json_get "$WORK/out" 'j.model')" offline-embed-1 "defaults without keys: offline"

# The shipped defaults' `embedding` tier: OPENAI_API_KEY alone enables text-embedding-3-small
# (here the defaults file points the OpenAI entry at the fake).
sed "s|https://api.openai.com/v1|$URL/v1|; s|OPENAI_API_KEY|FAKE_KEY|" "$ROOT/config/defaults.yaml" > "$WORK/defaults.yaml"
reset
BATON_DEFAULTS="$WORK/defaults.yaml" run 0 "$BATON" embed --json "from the defaults"
expect_eq "$(json_get "$WORK/out" 'j.provider + "/" + j.model')" "openai/text-embedding-3-small" "defaults: embedding tier"
# ceil(17/4) = 5 tokens at the listed 0.02 USD per million
expect_eq "$(json_get "$WORK/out" 'j.input_tokens + " " + j.cost_usd.toFixed(8)')" "5 0.00000010" "defaults: price"

# 6. Bad input: exit 2 with a message.
run 2 "$BATON" embed "${CFG[@]}"
expect_grep "no text to embed" "$WORK/err"
run 2 "$BATON" embed "${CFG[@]}" "ok" ""
expect_grep "text 2 is empty" "$WORK/err"
run 2 "$BATON" embed "${CFG[@]}" --dimensions 0 "x"
expect_grep "dimensions wants a whole number" "$WORK/err"
run 2 "$BATON" embed "${CFG[@]}" --dimensions 12abc "x"
run 2 "$BATON" embed "${CFG[@]}" --model nowhere "x"
expect_grep "'nowhere' is neither a configured tier nor a provider/model id" "$WORK/err"
run 2 "$BATON" embed "${CFG[@]}" --model oa/unknown-model "x"
expect_grep "no configured model in oa/unknown-model" "$WORK/err"
run 2 "$BATON" embed "${CFG[@]}" --model claude/claude-test "x"
expect_grep "'claude/claude-test' cannot embed" "$WORK/err"
run 2 "$BATON" embed "${CFG[@]}" --model chat "x"
expect_grep "tier 'chat' has no model that can embed" "$WORK/err"
run 2 "$BATON" embed --config "$WORK/missing.yaml" "x"
run 2 "$BATON" embed --bogus "x"

# 7. No key in any output.
if grep -q -e "$FAKE_KEY" -e "$GEMINI_FAKE_KEY" "$LOG"; then fail "an API key was printed"; fi; ok
finish
