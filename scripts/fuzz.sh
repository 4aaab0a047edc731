#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang in build-fuzz and runs each for a bounded
# time. Fails on any crash, hang (-timeout), leak, out-of-memory or sanitizer report; the
# input that did it is saved as build-fuzz/artifacts/<target>-crash-... (see docs/reliability.md
# for turning it into a regression test).
#
#   scripts/fuzz.sh                 # every target, 45 s each (what CI runs)
#   scripts/fuzz.sh 3600            # every target, an hour each
#   scripts/fuzz.sh 600 fuzz_json   # one target
#
# Seeds are generated at run time: the JP-CLINS examples in ../shared/clins (skipped when
# absent), bundles from clinshub-gen, and the small hand-written seeds in fuzz/seeds. What a
# run discovers accumulates in build-fuzz/corpus/<target> and is reused by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-45}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_json fuzz_bundle fuzz_request_target fuzz_identifier fuzz_gzip)
fi
shared="${CLINSHUB_SHARED_DIR:-../shared}"
out=build-fuzz

CC=clang-14 CXX=clang++-14 cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCLINSHUB_FUZZ=ON -DCLINSHUB_BENCH=OFF -DCLINSHUB_SHARED_DIR="$shared" >/dev/null
cmake --build "$out" -j "$(nproc)" --target "${targets[@]}" clinshub-gen

# Seeds, rebuilt every run.
seeds="$out/seeds"
rm -rf "$seeds"
mkdir -p "$seeds/json" "$seeds/generated" "$out/artifacts"
cp fuzz/seeds/json/* "$seeds/json/"
if [ -d "$shared/clins/examples" ]; then
  find "$shared/clins/examples" -name '*.json' -size -200k -print0 |
    while IFS= read -r -d '' f; do cp "$f" "$seeds/json/$(echo "$f" | sha1sum | cut -c1-16).json"; done
else
  echo "fuzz.sh: $shared/clins/examples missing; seeding without the JP-CLINS examples"
fi
ASAN_OPTIONS=detect_leaks=0 "$out/tools/generator/clinshub-gen" --seed 1 --persons 3 \
  --out "$seeds/generated" >/dev/null
cp "$seeds"/generated/bundles/*.json "$seeds/json/"
# gzip seeds: a few generated bundles gzip-coded (what a client sends with Content-Encoding).
mkdir -p "$seeds/gzip"
for f in $(ls "$seeds"/generated/bundles/*.json | head -20); do
  gzip -c "$f" >"$seeds/gzip/$(basename "$f").gz"
done

seed_dirs() {
  case "$1" in
    fuzz_json | fuzz_bundle) echo "$seeds/json" ;;
    fuzz_request_target) echo "fuzz/seeds/request_target" ;;
    fuzz_identifier) echo "fuzz/seeds/identifier" ;;
    fuzz_gzip) echo "$seeds/gzip" ;;
  esac
}
extra_flags() {
  case "$1" in
    fuzz_json | fuzz_bundle) echo "-dict=fuzz/json.dict" ;;
    *) echo "-max_len=4096" ;;
  esac
}

export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
failed=()
for t in "${targets[@]}"; do
  corpus="$out/corpus/$t"
  mkdir -p "$corpus"
  echo "== $t for ${seconds}s"
  # shellcheck disable=SC2046
  if ! "$out/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" $(extra_flags "$t") \
      "$corpus" $(seed_dirs "$t") >"$out/$t.log" 2>&1; then
    tail -n 60 "$out/$t.log"
    failed+=("$t")
  else
    grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$out/$t.log" | tr '\n' ' '
    echo
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $out/artifacts/)"
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ran ${seconds}s without a finding"
