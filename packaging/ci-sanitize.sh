#!/usr/bin/env bash
# The core, CLI and trainer tests under AddressSanitizer + UndefinedBehaviorSanitizer (clang, the `sanitize`
# preset), then each libFuzzer target for a short, bounded run from its seed corpus (tests/fuzz/corpus).
# Any sanitizer report fails the test that triggered it; a fuzzer's crash fails this script. Debian 12 or 13.
#   LOWLIGHT_SANITIZE_DIR  build folder (default build-sanitize)
#   LOWLIGHT_FUZZ_SECONDS  seconds per fuzzer (default 30; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
build=${LOWLIGHT_SANITIZE_DIR:-build-sanitize}
fuzz_seconds=${LOWLIGHT_FUZZ_SECONDS:-30}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # as run-tests.sh: one thread per test, nproc tests at once

cmake --preset sanitize -B "$build"
# Only what the tests and fuzzers below need: the benchmark's test (minutes of timing loops, no new code paths
# for the sanitizers) is left out, as are the GIMP plug-ins (off in the preset).
targets=(lowlight lowlight-train fuzz_image fuzz_safetensors fuzz_engine)
for source in tests/core/*_test.cpp tests/cli/*_test.cpp tests/trainer/*_test.cpp; do
  name=$(basename "$source" .cpp)
  folder=$(basename "$(dirname "$source")")
  case "$name" in bench_test | *_slow_test) continue ;; esac
  targets+=("${folder}_${name}")
done
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

# LibTorch and OpenCV are not instrumented; their one-time allocations at exit are not leaks of ours, and
# LibTorch's own registries trip the ODR check across its shared libraries.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:detect_odr_violation=0:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Tests of targets not built above are registered as *_NOT_BUILT placeholders: excluded.
ctest --test-dir "$build" -L unit -LE gimp -E '_NOT_BUILT$' --output-on-failure -j "$(nproc)" --timeout 900

[ "$fuzz_seconds" -gt 0 ] || exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/fuzz-artifacts"
for fuzzer in image safetensors engine; do
  seeds=(tests/fuzz/corpus/$fuzzer)
  [ "$fuzzer" = safetensors ] && seeds+=(tests/fixtures/safetensors)
  mkdir -p "$work/$fuzzer"
  echo "ci-sanitize: fuzz_$fuzzer for ${fuzz_seconds} s"
  # New inputs go to the scratch folder; the committed corpus is only read.
  "$build/tests/fuzz/fuzz_$fuzzer" -max_total_time="$fuzz_seconds" -rss_limit_mb=4096 -timeout=60 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/" "$work/$fuzzer" "${seeds[@]}" 2>&1 | tail -n 15
  # A crash fails the script (pipefail keeps the fuzzer's status) and leaves its input in fuzz-artifacts/.
done
echo "ci-sanitize: all passed"
