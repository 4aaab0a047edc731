#!/usr/bin/env bash
# Sets a Debian 12 machine up for clinshub: installs every package the project needs
# (idempotent) and builds the release binary into build/.
# Usage: scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates openssl
  libboost1.81-dev libboost-url1.81-dev
  libsimdjson-dev rapidjson-dev
  libsqlite3-dev sqlite3 libzstd-dev liblz4-dev zlib1g-dev libdeflate-dev gzip
  libpq-dev postgresql-15
  libssl-dev libicu-dev
  libspdlog-dev libfmt-dev libcli11-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev
  curl procps
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

if [ "${1:-}" != "--no-build" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
  # Two cores and heavy Beast/simdjson translation units: one job per core fits 24 GB easily.
  cmake --build build -j "$(nproc)"
fi
