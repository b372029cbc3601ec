#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine, builds, and runs the whole test suite.
# LOWLIGHT_BUILD_DIR, when set, builds there instead of the preset's build/ (used in the Debian 13 root, where the
# source tree is mounted read-only).
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
# ctest runs nproc tests at once; each also using nproc OpenMP threads oversubscribes the cores, and libgomp's
# spin-waiting then makes LibTorch up to 20x slower (LibTorch 2.6 defaults to all cores, Debian's 1.13 to one).
# Tests that want more threads ask for them (set_cpu_threads).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
# Tests ON explicitly: run-sample.sh turns them off in the same build folder.
if [ -n "${LOWLIGHT_BUILD_DIR:-}" ]; then
  cmake --preset default -B "$LOWLIGHT_BUILD_DIR" -DLOWLIGHT_BUILD_TESTS=ON
  cmake --build "$LOWLIGHT_BUILD_DIR" -j "$(nproc)"
  # Not --preset here: ctest would still write its logs into the preset's build/ (CMake 3.31).
  ctest --test-dir "$LOWLIGHT_BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600
else
  cmake --preset default -DLOWLIGHT_BUILD_TESTS=ON
  cmake --build --preset default -j "$(nproc)"
  ctest --preset default -j "$(nproc)" --timeout 600
fi
