#!/usr/bin/env bash
# The OpenAPI document: Redocly's linter passes it (tests/integration/redocly.yaml says which
# recommended rules are off and why), and the server serves it byte for byte. That it lists
# every route the server answers, and no other, is tests/unit/test_openapi.c.
source "$(dirname "$0")/lib.sh" "$@"

(cd "$ROOT/tests/integration" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --no-install redocly lint --config redocly.yaml ../../src/api/openapi.json) \
  > "$WORK/lint.out" 2>&1 || { cat "$WORK/lint.out"; fail "redocly lint"; }
expect_grep "Your API description is valid" "$WORK/lint.out"

serve
get GET /api/v1/openapi.json
expect_eq "$(cat "$WORK/status")" 200 "openapi.json status"
cmp -s "$WORK/out" "$ROOT/src/api/openapi.json" || fail "the served document differs from src/api/openapi.json"
ok
get GET /api/v1/ws
expect_eq "$(cat "$WORK/status") $(json_get "$WORK/out" 'j.error.code')" "426 upgrade_required" "ws without upgrade"
stop_serve
finish
