#!/usr/bin/env bash
# `baton validate`: every error located as FILE:LINE:COL, all at once, hints, --json, exit codes,
# and the limits that protect the process.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK"
ln -s "$ROOT/agents" agents

cat > broken.yaml <<'YAML'
name: Broken
tasks:
  - id: a
    agent: analist
    depends_on: [c]
  - id: b
    agent: analyst
    depends_on: [a, ghost]
    timout: 30
    inputs:
      x: "{{tasks.a.output"
  - id: c
    agent: analyst
    depends_on: [b]
  - id: a
    agent: analyst
  - id: d
    agent: analyst
    inputs:
      y: "{{tasks.c.output}}"
YAML
expect_exit 1 "$BATON" validate broken.yaml
e="$WORK/err"
expect_grep "broken.yaml:4:12: error: unknown agent 'analist'" "$e"
expect_grep "did you mean 'analyst'" "$e"
expect_grep "broken.yaml:8:21: error: .*ghost" "$e"
expect_grep "broken.yaml:9:5: error: .*timout" "$e"
expect_grep "did you mean 'timeout'" "$e"
expect_grep "broken.yaml:11:" "$e"
expect_grep "broken.yaml:15:9: error: .*duplicate" "$e"
expect_grep "a -> c -> b -> a\|a -> b -> c -> a\|b -> c -> b\|cycle" "$e"
expect_grep "not upstream" "$e"
[ "$(grep -c ': error: ' "$e")" -ge 6 ] || fail "expected every error at once"; ok

expect_exit 1 "$BATON" validate --json broken.yaml
expect_eq "$(json_get "$WORK/out" 'j.every(d => d.file && d.line > 0 && d.column > 0 && d.message)')" true "json diagnostics"
expect_eq "$(json_get "$WORK/out" 'j.find(d => d.message.includes("analist")).hint')" "did you mean 'analyst'?" "json hint"

# valid and invalid together: exit 1, the valid one says ok
expect_exit 1 "$BATON" validate "$ROOT/workflows/sdlc.yaml" broken.yaml
expect_grep "sdlc.yaml: ok" "$WORK/out"

# YAML syntax errors are located
printf 'name: x\ntasks:\n  - id: a\n    agent: [unclosed\n' > syntax.yaml
expect_exit 1 "$BATON" validate syntax.yaml
expect_grep "syntax.yaml:[0-9]*:[0-9]*: error:" "$WORK/err"

# billion laughs: rejected quickly and in bounded memory
{
  echo 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'
  prev=a
  for l in b c d e f g h i; do echo "$l: &$l [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"; prev=$l; done
  echo 'name: lol'
  echo 'tasks: [{id: t, agent: analyst, inputs: {x: *i}}]'
} > lol.yaml
start=$(date +%s%N)
expect_exit 1 "$BATON" validate lol.yaml
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_grep "10000 nodes" "$WORK/err"
[ "$ms" -lt 5000 ] || fail "billion laughs took ${ms} ms"; ok

# over 1 MiB: refused before parsing
head -c 1100000 /dev/zero | tr '\0' '#' > big.yaml
expect_exit 1 "$BATON" validate big.yaml
expect_grep "limit" "$WORK/err"

# messages quoting long non-ASCII input stay valid UTF-8 (and so valid JSON)
name=$(printf 'é%.0s' $(seq 1 80))
printf 'name: u\ntasks:\n  - {id: a, agent: analyst, artifact: "%s.md"}\n' "$name" > utf8.yaml
expect_exit 1 "$BATON" validate --json utf8.yaml
expect_eq "$(json_get "$WORK/out" 'j.length')" 1 "diagnostics for a non-ASCII artifact name"

# a typo in an output field of an agent with a closed JSON schema (the catalog's code_analyzer):
# located at the field, with a hint; before, the condition read null and skipped the task
sed 's/outputs.security_score < 8/outputs.securty_score < 8/' "$ROOT/workflows/code_review.yaml" > typo.yaml
expect_exit 1 "$BATON" validate typo.yaml
expect_grep "^typo.yaml:52:44: error: unknown output field 'securty_score' in tasks.code_analysis.outputs: agent 'code_analyzer' does not declare it" "$WORK/err"
expect_grep "did you mean 'security_score'?" "$WORK/err"
expect_exit 1 "$BATON" validate --json typo.yaml
expect_eq "$(json_get "$WORK/out" 'j.map(d => d.line + ":" + d.column).join()')" "52:44" "typo as JSON"

# usage errors exit 2
expect_exit 2 "$BATON" validate
expect_exit 2 "$BATON" run
expect_exit 2 "$BATON" run broken.yaml --data-dir "$WORK/d"
expect_exit 1 "$BATON" validate does-not-exist.yaml
finish
