#!/usr/bin/env bash
# The configuration is strict: an unknown key or a wrong type in the file, or a BATON__ variable
# that names no setting, stops `baton serve` and `baton run` (exit 2) with the place and the
# closest key; BATON__ variables work in any case; the file is found by --config, BATON_CONFIG,
# ./baton.yaml, then $XDG_CONFIG_HOME/baton/config.yaml; BATON_DATA_DIR is --data-dir's
# default; `baton config show` tells where every value came from and never prints a key; and
# `baton config check` checks a file. The shipped defaults and the docs' examples pass.
source "$(dirname "$0")/lib.sh" "$@"

cat > "$WORK/one.yaml" <<YAML
name: One
agents: {w: {instructions: Write a line.}}
tasks:
  - {id: a, agent: w}
YAML

# 1. An unknown key in the file: serve and run refuse, located, with a hint.
printf 'routing:\n  policy: cost\nbudgets:\n  daly_usd: 20\n' > "$WORK/typo.yaml"
expect_exit 2 timeout 20 "$BATON" serve --listen 127.0.0.1:0 --data-dir "$WORK/ds" --config "$WORK/typo.yaml"
expect_grep "$WORK/typo.yaml:4:3: error: unknown key 'daly_usd' in budgets" "$WORK/err"
expect_grep "hint: did you mean 'daily_usd'?" "$WORK/err"
[ ! -e "$WORK/ds/baton.db" ] || fail "serve created a data dir before refusing its configuration"; ok
expect_exit 2 "$BATON" run "$WORK/one.yaml" --config "$WORK/typo.yaml" --data-dir "$WORK/d1"
expect_grep "$WORK/typo.yaml:4:3: error: unknown key 'daly_usd' in budgets" "$WORK/err"
expect_grep "did you mean 'daily_usd'?" "$WORK/err"

# 2. Wrong types are located too, every problem at once.
printf 'budgets: {daily_usd: twenty}\nroutng: {policy: cost}\ncache: {enabled: true, ttl: soon}\n' > "$WORK/types.yaml"
expect_exit 2 "$BATON" run "$WORK/one.yaml" --config "$WORK/types.yaml" --data-dir "$WORK/d1"
expect_grep "not valid (3 errors)" "$WORK/err"
expect_grep "types.yaml:1:22: error: budgets.daily_usd: expected a number, 0 or more, got \"twenty\"" "$WORK/err"
expect_grep "types.yaml:2:1: error: unknown key 'routng'" "$WORK/err"
expect_grep "did you mean 'routing'?" "$WORK/err"
expect_grep "types.yaml:3:29: error: cache.ttl: expected a duration" "$WORK/err"

# 3. BATON__ variables: upper case as the README writes them, lower or mixed case alike, and they
#    take effect: a daily budget from the environment stops a priced run.
printf 'providers:\n  offline:\n    price: {input_per_million: 1000, output_per_million: 1000}\n' > "$WORK/priced.yaml"
expect_exit 0 "$BATON" run "$WORK/one.yaml" --config "$WORK/priced.yaml" --json --data-dir "$WORK/d3"
for var in BATON__BUDGETS__DAILY_USD baton__budgets__daily_usd BATON__Budgets__Daily_Usd; do
  expect_exit 1 env "$var=0.000001" "$BATON" run "$WORK/one.yaml" --config "$WORK/priced.yaml" --json --data-dir "$WORK/d3"
  expect_grep "the daily limit of \$0.0000 for all runs would be exceeded" "$WORK/out"
  env "$var=20" "$BATON" config show --config "$WORK/priced.yaml" --json > "$WORK/show.json"
  expect_eq "$(json_get "$WORK/show.json" 'j.settings.find(s => s.key == "budgets.daily_usd").value')" 20 "$var"
  expect_eq "$(json_get "$WORK/show.json" 'j.settings.find(s => s.key == "budgets.daily_usd").source.variable')" "$var" "source of $var"
done
# a bad value is refused like the file's, naming the variable
BATON__BUDGETS__DAILY_USD=-1 expect_exit 2 "$BATON" run "$WORK/one.yaml" --data-dir "$WORK/d3"
expect_grep "BATON__BUDGETS__DAILY_USD: error: budgets.daily_usd: expected a number, 0 or more, got -1" "$WORK/err"

# 4. A variable that names no setting is refused by run and serve, with the closest one.
BATON__FOO__BAR=1 expect_exit 2 "$BATON" run "$WORK/one.yaml" --data-dir "$WORK/d4"
expect_grep "BATON__FOO__BAR: error: names no setting: 'foo' is not a section" "$WORK/err"
expect_grep "hint: the settings here are: BATON__PROVIDERS, BATON__TIERS" "$WORK/err"
BATON__BUDGETS__DALY_USD=20 expect_exit 2 timeout 20 "$BATON" serve --listen 127.0.0.1:0 --data-dir "$WORK/d4"
expect_grep "BATON__BUDGETS__DALY_USD: error: names no setting: budgets has no key 'daly_usd'" "$WORK/err"
expect_grep "hint: did you mean BATON__BUDGETS__DAILY_USD?" "$WORK/err"

# 5. Which file: --config, then BATON_CONFIG, then ./baton.yaml, then $XDG_CONFIG_HOME, then none.
P="$WORK/proj"
mkdir -p "$P" "$WORK/xdg/baton"
printf 'routing: {policy: cost}\n' > "$WORK/flag.yaml"
printf 'routing: {policy: latency}\n' > "$WORK/env.yaml"
printf 'routing: {policy: ordered}\n' > "$P/baton.yaml"
printf 'routing: {policy: score}\n' > "$WORK/xdg/baton/config.yaml"
policy() { # policy WANT SOURCE_FILE ARGS... : config show in $P says routing.policy is WANT from SOURCE_FILE
  local want=$1 file=$2; shift 2
  (cd "$P" && "$@" "$BATON" config show --json) > "$WORK/show.json" || fail "config show failed"
  expect_eq "$(json_get "$WORK/show.json" 'j.settings.find(s => s.key == "routing.policy").value')" "$want" "policy"
  expect_eq "$(json_get "$WORK/show.json" 'j.settings.find(s => s.key == "routing.policy").source.file || "default"')" "$file" "policy's file"
}
(cd "$P" && BATON_CONFIG="$WORK/env.yaml" "$BATON" config show --json --config "$WORK/flag.yaml") > "$WORK/show.json"
expect_eq "$(json_get "$WORK/show.json" 'j.settings.find(s => s.key == "routing.policy").value')" cost "--config first"
policy latency "$WORK/env.yaml" env BATON_CONFIG="$WORK/env.yaml"
policy ordered baton.yaml env
expect_eq "$(json_get "$WORK/show.json" 'j.found')" "./baton.yaml" "found in the current directory"
rm "$P/baton.yaml"
policy score "$WORK/xdg/baton/config.yaml" env
mkdir -p "$WORK/home/.config/baton" && cp "$WORK/xdg/baton/config.yaml" "$WORK/home/.config/baton/config.yaml"
sed -i 's/score/cost/' "$WORK/home/.config/baton/config.yaml"
policy cost "$WORK/home/.config/baton/config.yaml" env -u XDG_CONFIG_HOME HOME="$WORK/home"
rm "$WORK/xdg/baton/config.yaml"
policy local-first default env HOME="$WORK/nowhere"
# the file found is the one run reads: a broken ./baton.yaml stops run without --config
printf 'budgets: {daly_usd: 1}\n' > "$P/baton.yaml"
(cd "$P" && "$BATON" run "$WORK/one.yaml" --data-dir "$WORK/d5") > "$WORK/out" 2> "$WORK/err" && fail "run ignored ./baton.yaml"
expect_grep "baton.yaml:1:11: error: unknown key 'daly_usd' in budgets" "$WORK/err"
rm "$P/baton.yaml"
BATON_CONFIG="$WORK/missing.yaml" expect_exit 2 "$BATON" run "$WORK/one.yaml" --data-dir "$WORK/d5"
expect_grep "missing.yaml: No such file or directory (the configuration BATON_CONFIG names)" "$WORK/err"

# 6. BATON_DATA_DIR is the data dir of every command without --data-dir; --data-dir wins.
BATON_DATA_DIR="$WORK/dd" expect_exit 0 "$BATON" run "$WORK/one.yaml" --json
[ -f "$WORK/dd/baton.db" ] || fail "BATON_DATA_DIR was not used by run"; ok
run_id=$(json_get "$WORK/out" 'j.id')
BATON_DATA_DIR="$WORK/dd" expect_exit 0 "$BATON" runs ls --json
expect_eq "$(json_get "$WORK/out" 'j.map(r => r.id).join()')" "$run_id" "runs ls with BATON_DATA_DIR"
BATON_DATA_DIR="$WORK/dd" expect_exit 0 "$BATON" artifacts ls "$run_id" --json
BATON_DATA_DIR="$WORK/dd" expect_exit 0 "$BATON" admin check --json
BATON_DATA_DIR="$WORK/dd" expect_exit 0 "$BATON" runs ls --json --data-dir "$WORK/d3"
[ "$(json_get "$WORK/out" 'j.length')" -gt 0 ] || fail "--data-dir was not read"; ok
if grep -q "$run_id" "$WORK/out"; then fail "--data-dir did not win over BATON_DATA_DIR"; fi; ok

# 7. config show: every value with its source; a key's variable is named, its value never shown.
cat > "$WORK/show.yaml" <<YAML
providers:
  p:
    type: openai
    base_url: http://127.0.0.1:9/v1
    api_key_env: FAKE_SECRET_KEY
    models:
      m: {input_per_million: 1.5}
tiers:
  fast: [p/m]
YAML
FAKE_SECRET_KEY=sk-do-not-print-me BATON__ROUTING__POLICY=cost expect_exit 0 "$BATON" config show --config "$WORK/show.yaml"
expect_grep "^# configuration: $WORK/show.yaml" "$WORK/out"
expect_grep "^providers.p.type  *= openai  # $WORK/show.yaml:3:11$" "$WORK/out"
expect_grep "^providers.p.api_key_env  *= FAKE_SECRET_KEY  # $WORK/show.yaml:5:18 (FAKE_SECRET_KEY is set)$" "$WORK/out"
expect_grep "^providers.p.models.m.input_per_million  *= 1.5  # $WORK/show.yaml:7:30$" "$WORK/out"
expect_grep "^tiers.fast  *= \[\"p/m\"\]  # $WORK/show.yaml:9:9$" "$WORK/out"
expect_grep "^routing.policy  *= cost  # BATON__ROUTING__POLICY$" "$WORK/out"
expect_grep "^routing.breaker.failures  *= 5  # default$" "$WORK/out"
if grep -q "sk-do-not-print-me" "$WORK/out" "$WORK/err"; then fail "config show printed an API key"; fi; ok
FAKE_SECRET_KEY=sk-do-not-print-me expect_exit 0 "$BATON" config show --config "$WORK/show.yaml" --json
if grep -q "sk-do-not-print-me" "$WORK/out"; then fail "config show --json printed an API key"; fi; ok
expect_eq "$(json_get "$WORK/out" 'JSON.stringify(j.settings.find(s => s.key == "providers.p.type").source)')" \
  "{\"kind\":\"file\",\"file\":\"$WORK/show.yaml\",\"line\":3,\"column\":11}" "a file source"
expect_eq "$(json_get "$WORK/out" 'j.settings.find(s => s.key == "providers.p.api_key_env").note')" "FAKE_SECRET_KEY is set" "the key's variable"
expect_eq "$(json_get "$WORK/out" '(s => typeof s.value + " " + s.value + " " + s.source.kind)(j.settings.find(s => s.key == "routing.breaker.failures"))')" \
  "number 5 default" "a default, typed"
# without a file: the shipped defaults, by line
expect_exit 0 "$BATON" config show
expect_grep "^# configuration: none (built-in defaults); providers from config/defaults.yaml" "$WORK/out"
expect_grep "^providers.openai.api_key_env  *= OPENAI_API_KEY  # config/defaults.yaml:[0-9]*:[0-9]* (OPENAI_API_KEY is not set)$" "$WORK/out"
# an invalid configuration is not shown: its errors are
BATON__FOO=1 expect_exit 2 "$BATON" config show
expect_grep "BATON__FOO: error: names no setting" "$WORK/err"

# 8. config check: ok, or every error located; usage errors exit 2.
expect_exit 0 "$BATON" config check "$WORK/show.yaml"
expect_grep "show.yaml: ok" "$WORK/out"
expect_exit 2 "$BATON" config check "$WORK/typo.yaml"
expect_grep "$WORK/typo.yaml:4:3: error: unknown key 'daly_usd' in budgets" "$WORK/err"
expect_grep "did you mean 'daily_usd'?" "$WORK/err"
# it checks the file alone: the environment does not count
BATON__FOO=1 expect_exit 0 "$BATON" config check "$WORK/show.yaml"
expect_exit 2 "$BATON" config check "$WORK/missing.yaml"
expect_grep "missing.yaml" "$WORK/err"
printf 'providers: [a, b]\n' > "$WORK/list.yaml"
expect_exit 2 "$BATON" config check "$WORK/list.yaml"
expect_grep "list.yaml:1:12: error: providers: expected a mapping, got a list" "$WORK/err"
printf '[a, b]\n' > "$WORK/notmap.yaml"
expect_exit 2 "$BATON" config check "$WORK/notmap.yaml"
expect_grep "notmap.yaml:1:1: error: a configuration is a mapping" "$WORK/err"
expect_exit 2 "$BATON" config check
expect_exit 2 "$BATON" config frobnicate
expect_exit 0 "$BATON" config --help
expect_grep "baton config show" "$WORK/out"

# 9. What ships passes: the defaults, and every configuration example in the docs.
expect_exit 0 "$BATON" config check config/defaults.yaml
n=0
for doc in docs/*.md README.md; do
  awk -v out="$WORK/example" '
    /^ *```yaml/ { inblock = 1; text = ""; next }
    inblock && /^ *```/ { inblock = 0
      if (text ~ /^ *(providers|tiers|routing|cache|budgets|retention|tools):/) { n++; f = out "-" n ".yaml"; printf "%s", text > f; close(f) }
      next }
    inblock { if (text == "" && $0 ~ /^ *#/) next; text = text $0 "\n" }
  ' "$doc"
  for f in "$WORK"/example-*.yaml; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    "$BATON" config check "$f" > "$WORK/out" 2> "$WORK/err" || { cat "$f" "$WORK/err"; fail "an example configuration in $doc is refused"; }
    ok
    rm "$f"
  done
done
[ "$n" -ge 8 ] || fail "expected at least 8 configuration examples in the docs, found $n"; ok

echo "test_config: $checks checks passed"
