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
# The fake is native (bench/fake_openai.c, single-threaded libuv) so that the figure measures
# Baton, not the fake: the Node fake spends ~3.6 s of CPU on 10,000 calls (this one ~0.7 s) on
# the same two cores as the router. It is checked with the official openai SDK first, so a fake
# that drifts from the protocol stops the bench.
if ! check=$(node bench/check_fake_openai.mjs "$build/fake_openai" 2>&1); then
    printf '%s\n' "$check"
    echo "bench: bench/fake_openai fails its protocol check; no router figures" >&2
    exit 1
fi
echo "fake: $build/fake_openai, checked with the openai SDK ($(tail -n1 <<<"$check"))"
echo
fake_out=$(mktemp)
fake_err=$(mktemp)
"$build/fake_openai" --port 0 --latency-ms 1000 --max-seconds 120 > "$fake_out" 2> "$fake_err" &
fake=$!
for _ in $(seq 1 100); do [ -s "$fake_out" ] && break; sleep 0.05; done
port=$(head -n1 "$fake_out" | sed 's/[^0-9]//g')
"$build/router_bench" "$port" "${ROUTER_CALLS:-10000}" || true
kill "$fake" 2>/dev/null && wait "$fake" 2>/dev/null || true
echo
cat "$fake_err" # the fake's own counts and CPU time
rm -f "$fake_out" "$fake_err"
