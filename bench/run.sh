#!/usr/bin/env bash
# make bench: prints the benchmark tables. Targets: DESIGN.md section 8; figures: docs/benchmarks.md.
set -euo pipefail
build=${1:-build}
echo "Engine overhead per task (durable SQLite journal, synchronous=NORMAL, offline model)"
echo "targets: chain median <= 50 µs/step; 10,000-task fan-out <= 15 µs/task and >= 60,000 tasks/s"
echo
"$build/engine_bench" "${CHAIN_TASKS:-1000}" "${FANOUT_TASKS:-10000}"
echo
echo "Durable events per second through the store writer (group commit)"
"$build/store_bench"
echo
echo "Model router: ${ROUTER_CALLS:-10000} concurrent calls to a fake OpenAI-compatible server answering after 1 s"
echo "targets: all done within 3 s, RSS <= 200 MB"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fake_out=$(mktemp)
node tests/fakes/fake_server.mjs --port 0 --latency-ms 1000 --max-seconds 120 > "$fake_out" &
fake=$!
for _ in $(seq 1 100); do [ -s "$fake_out" ] && break; sleep 0.05; done
port=$(head -n1 "$fake_out" | sed 's/[^0-9]//g')
"$build/router_bench" "$port" "${ROUTER_CALLS:-10000}" || true
kill "$fake" 2>/dev/null; rm -f "$fake_out"
