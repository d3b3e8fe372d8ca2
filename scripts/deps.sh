#!/usr/bin/env bash
# Installs what Baton needs and is missing. `scripts/deps.sh run` (make build, run, demo,
# install): what building and running baton needs, nothing more, so a first start is quick.
# `scripts/deps.sh test` (the default; make test, bench, fuzz): that, the test toolchain (clang
# and its sanitizer runtime, cmocka, clang-format, wrk, the sqlite3 and openssl tools, the JSON
# Schema test suite, zsh and fish to check the completion scripts) and the
# official npm packages the tests use (tests/fakes, tests/integration) through npm ci.
# Idempotent, and silent when nothing is missing.
set -euo pipefail

what=${1:-test}
case "$what" in
  run|test) ;;
  *) echo "usage: scripts/deps.sh [run|test]" >&2; exit 2 ;;
esac

pkgs=(build-essential cmake pkg-config
      libuv1-dev libjansson-dev libyaml-dev libsqlite3-dev libsodium-dev libcurl4-openssl-dev
      libwebsockets-dev libwebsockets-evlib-uv libpcre2-dev)
if [ "$what" = test ]; then
  pkgs+=(clang libclang-rt-14-dev libcmocka-dev clang-format sqlite3 curl openssl wrk
         json-schema-test-suite zsh fish)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The CLI tests read JSON with node; any node will do (the machine image ships one outside apt).
if [ "$what" = test ]; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The fake providers are checked with each provider's official npm SDK (tests/fakes), and the
# server with real clients (tests/integration), pinned by the committed package-lock.json files.
# Reinstall when node_modules is missing or older than the lock file.
[ "$what" = test ] || exit 0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for dir in "$root/tests/fakes" "$root/tests/integration"; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "deps: npm ci in ${dir#"$root"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
    touch "$dir/node_modules"
  fi
done
