#!/usr/bin/env bash
# Compiles the trainer's NCCL backend (core/src/distributed.cpp with LOWLIGHT_WITH_NCCL) for syntax and types
# against this system's LibTorch headers and the CUDA toolkit's nccl.h. Nothing is linked or run: Debian's
# LibTorch is CPU-only, so the NCCL process group can only be linked against a CUDA LibTorch (preset `cuda`).
# Usage: bash packaging/nccl-compile-check.sh [BUILD_DIR (for lowlight/version.h; default build)] [CUDA_HOME]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cuda=${2:-/usr/local/cuda}
[ -f "$cuda/include/nccl.h" ] || { echo "nccl-compile-check: no $cuda/include/nccl.h (CUDA toolkit with NCCL)" >&2; exit 1; }
[ -f "$build/include/lowlight/version.h" ] || { echo "nccl-compile-check: configure $build first (cmake --preset default)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A CPU LibTorch ships the CUDA headers but not this one, which its own build generates.
mkdir -p "$tmp/c10/cuda/impl"
printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' > "$tmp/c10/cuda/impl/cuda_cmake_macros.h"
${CXX:-g++} -fsyntax-only -std=gnu++17 -D_GLIBCXX_USE_CXX11_ABI=1 \
  -DLOWLIGHT_WITH_DISTRIBUTED=1 -DLOWLIGHT_WITH_NCCL=1 -DUSE_C10D_NCCL -DUSE_C10D_GLOO -DUSE_DISTRIBUTED \
  -Icore/include -I"$build/include" -isystem "$tmp" -isystem /usr/include/torch/csrc/api/include \
  -isystem "$cuda/include" core/src/distributed.cpp
echo "nccl-compile-check: core/src/distributed.cpp compiles with the NCCL backend ($(${CXX:-g++} --version | head -1), $cuda)"
