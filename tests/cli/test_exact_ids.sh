#!/usr/bin/env bash
# Routes that change a run take its exact id (docs/api.md, "Conventions"): a prefix, which the
# CLI accepts for convenience, is a 404 over the API, as GET of the same path is, and changes
# nothing; a bare "r-" (a prefix of every run) is a 404, not a 500.
source "$(dirname "$0")/lib.sh" "$@"
printf 'providers:\n  offline:\n    latency_ms: 5000\n' > "$WORK/slow.yaml"
serve --config "$WORK/slow.yaml"
get POST /api/v1/runs -d '{"template": "sdlc", "inputs": {"project_brief": "A todo app"}}'
run=$(json_get "$WORK/out" 'j.id')
prefix=${run:0:8}
get GET "/api/v1/runs/$prefix"
expect_eq "$(status_code)" 404 "GET by a prefix"
for action in cancel pause retry resume; do
  get POST "/api/v1/runs/$prefix/$action"
  expect_eq "$(status_code) $(err_code)" "404 not_found" "POST $action by a prefix"
done
get POST "/api/v1/runs/$prefix/messages" -d '{"text": "hello"}'
expect_eq "$(status_code) $(err_code)" "404 not_found" "a message by a prefix"
get POST "/api/v1/runs/r-/cancel"
expect_eq "$(status_code) $(err_code)" "404 not_found" "a prefix of every run"
get GET "/api/v1/runs/$run"
expect_eq "$(json_get "$WORK/out" 'j.status')" running "the run is untouched"
get POST "/api/v1/runs/$run/cancel"
expect_eq "$(status_code) $(json_get "$WORK/out" 'j.status')" "200 cancelled" "the exact id cancels it"
stop_serve
finish
