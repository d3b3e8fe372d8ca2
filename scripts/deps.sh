#!/usr/bin/env bash
# Installs what Baton needs and is missing, through apt-get (and npm once there are JS tests).
# Idempotent, and silent when nothing is missing.
set -euo pipefail

pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libuv1-dev libjansson-dev libyaml-dev libsqlite3-dev libsodium-dev
      libcmocka-dev sqlite3)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
