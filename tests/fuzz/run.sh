#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time on a scratch copy of its committed corpus.
# Usage: run.sh FUZZER CORPUS_DIR SECONDS
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=$3
out=$PWD  # crash reproducers land here (the ctest build dir), not in the scratch dir
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
[ -d "$corpus" ] && cp -r "$corpus"/. "$work/corpus/" 2>/dev/null || true
cd "$work"
# -rss_limit_mb keeps a runaway allocation a failure instead of a machine-wide problem.
exec "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
     -artifact_prefix="$out/" corpus
