#!/usr/bin/env bash
# Fails (exit 1) when a tracked C file differs from .clang-format, naming each one and the fix.
# `make format` rewrites them; `make test` runs this check (ctest: style.clang_format).
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r f; do
  if ! clang-format --style=file "$f" | cmp -s - "$f"; then
    echo "not formatted: $f"
    bad=1
  fi
done < <(git ls-files '*.c' '*.h' 2>/dev/null || find src tests bench -name '*.[ch]')
if [ "$bad" -ne 0 ]; then
  echo "run: make format (clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1))"
  exit 1
fi
echo "clang-format: every C file matches .clang-format"
