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
