#!/usr/bin/env bash
# The live event feed (/api/v1/ws) with the `ws` npm package as the client
# (tests/integration/ws_check.mjs): a run streamed from its snapshot and compared with the
# journal; a reconnect resumed from the last seq with nothing missed or repeated; 1,000 clients
# each receiving every event in order; a client that stops reading cut off while another is not.
source "$(dirname "$0")/lib.sh" "$@"
CHECK="$ROOT/tests/integration/ws_check.mjs"

# scenario NAME [ARGS...] : runs one scenario of ws_check.mjs against the server started last
scenario() {
  node "$CHECK" "$1" "$API" "${@:2}" > "$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; fail "ws_check $1"; }
  grep -E '^(fanout|slow) ' "$WORK/check.out" || true
  ok
}

serve
scenario stream
scenario fanout 1000
stop_serve

printf 'providers:\n  offline:\n    latency_ms: 1000\n' > "$WORK/slow.yaml"
serve --config "$WORK/slow.yaml"
scenario reconnect
stop_serve

# a 1 MiB send queue: loopback's socket buffers take a few megabytes before the queue grows
serve --ws-queue-bytes 1048576
scenario slow
stop_serve
expect_grep '"msg":"ws_dropped"' "$WORK/serve.err"
finish
