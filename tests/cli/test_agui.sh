#!/usr/bin/env bash
# AG-UI over Server-Sent Events with @ag-ui/client's HttpAgent as the client
# (tests/integration/agui_check.mjs): a thread runs a workflow to its interrupt and resumes it;
# a run replayed after a Last-Event-ID. The server stops cleanly afterwards (a sanitizer report
# of a leaked stream would fail it).
source "$(dirname "$0")/lib.sh" "$@"
serve
node "$ROOT/tests/integration/agui_check.mjs" "$API" > "$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; fail "agui_check"; }
ok
# a client that leaves mid-stream: the server notices at its next event and carries on
printf 'providers:\n  offline:\n    latency_ms: 200\n' > "$WORK/slow.yaml"
stop_serve
serve --config "$WORK/slow.yaml"
timeout 1 curl -sN -X POST "$API/api/v1/agui" \
  -d '{"threadId": "t-left", "runId": "a", "messages": [{"id": "m", "role": "user", "content": "A blog"}], "forwardedProps": {"workflow": "sdlc"}}' \
  > "$WORK/left.out" || true
expect_grep '"RUN_STARTED"' "$WORK/left.out"
for _ in $(seq 1 100); do
  get GET /api/v1/approvals
  [ "$(json_get "$WORK/out" 'j.items.length')" == 1 ] && break
  sleep 0.1
done
expect_eq "$(json_get "$WORK/out" 'j.items.length')" 1 "the run went on without its client"
stop_serve
finish
