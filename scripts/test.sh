#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs the whole CTest suite; then (what CI
# adds) the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan),
# the concurrency tests under ThreadSanitizer (build-tsan), and each fuzzer for a bounded time
# (scripts/fuzz.sh, build-fuzz). Arguments go to the first ctest run only.
#
#   CLINSHUB_SANITIZERS=0      skip the sanitizer stages
#   CLINSHUB_TSAN=0            skip the ThreadSanitizer stage only
#   CLINSHUB_FUZZ_SECONDS=N    seconds per fuzz target (default 45; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
stage() { echo "== $1 ($(date +%T), ${SECONDS}s so far)"; }

stage "release build and tests"
scripts/setup.sh --no-build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" "$@"

if [ "${CLINSHUB_SANITIZERS:-1}" != 0 ]; then
  # -O1 and line tables only: sanitizer reports keep file:line, builds stay fast enough.
  sanitized_build() {  # dir sanitizer targets...
    local dir="$1" sanitizer="$2"
    shift 2
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCLINSHUB_SANITIZE="$sanitizer" \
      -DCLINSHUB_BENCH=OFF >/dev/null
    if [ $# -gt 0 ]; then
      cmake --build "$dir" -j "$jobs" --target "$@"
    else
      cmake --build "$dir" -j "$jobs"
    fi
  }
  supp="$PWD/scripts/sanitizers"

  stage "AddressSanitizer + UndefinedBehaviorSanitizer: whole suite"
  sanitized_build build-asan address-undefined
  ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1" \
  LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp" \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"

  if [ "${CLINSHUB_TSAN:-1}" != 0 ]; then
    stage "ThreadSanitizer: store and HTTP tests (the concurrent ones)"
    sanitized_build build-tsan thread store_test http_integration_test http_robustness_test clinshub
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp" \
      ctest --test-dir build-tsan --output-on-failure -j "$jobs" \
      -L '^(store_test|http_integration_test|http_robustness_test)$'
  fi
fi

fuzz_seconds="${CLINSHUB_FUZZ_SECONDS:-45}"
if [ "$fuzz_seconds" != 0 ]; then
  stage "fuzzers, ${fuzz_seconds}s each"
  scripts/fuzz.sh "$fuzz_seconds"
fi
stage "all passed"
