#!/usr/bin/env bash
# The CUDA checks, run on a GPU machine with Python PyTorch (the device machine; see docs/performance.md):
# builds Lowlight against the LibTorch bundled with that PyTorch (no OpenCV there: LOWLIGHT_WITH_OPENCV=OFF),
# runs the gpu tests (CUDA against CPU output) and the CPU tests that build there, then `lowlight bench` on
# CUDA beside PyTorch eager on the same GPU. Logs and JSON go to OUT. DEPS comes from bench/gpu-deps.sh.
#   bench/gpu-check.sh [DEPS] [OUT]
set -uo pipefail
deps=$(realpath "${1:-gpu-deps}")
out=${2:-${OUT:-out/gpu}}
mkdir -p "$out"
exec > >(tee "$out/gpu-check.log") 2>&1
py=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
prefix=${TORCH_PREFIX:-$($py -c 'import torch; print(torch.utils.cmake_prefix_path)')} || exit 1
abi=$($py -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))') || exit 1
$py -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name())'
flags=-D_GLIBCXX_USE_CXX11_ABI=$abi  # LibTorch's ABI, for GoogleTest as for us
jobs=$(nproc)
gen=; command -v ninja >/dev/null && gen="-G Ninja"
if [ ! -f "$deps/prefix/lib/cmake/GTest/GTestConfig.cmake" ] && [ ! -f "$deps/prefix/lib64/cmake/GTest/GTestConfig.cmake" ]; then
  cmake -S "$deps/googletest" -B "$deps/gtest-build" $gen -DCMAKE_BUILD_TYPE=Release -DBUILD_GMOCK=OFF \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_INSTALL_PREFIX="$deps/prefix" >/dev/null &&
    cmake --build "$deps/gtest-build" -j "$jobs" >/dev/null && cmake --install "$deps/gtest-build" >/dev/null ||
    { echo "GoogleTest build failed"; exit 1; }
fi
SECONDS=0
cmake -S . -B build-gpu $gen -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix;$deps/prefix" \
  -DLOWLIGHT_WITH_OPENCV=OFF -DLOWLIGHT_BUILD_GIMP=OFF -DCMAKE_CXX_FLAGS="$flags" >"$out/configure.log" 2>&1 ||
  { tail -40 "$out/configure.log"; exit 1; }
grep 'LibTorch' "$out/configure.log"
cmake --build build-gpu -j "$jobs" >"$out/build.log" 2>&1 || { grep -m20 -A5 'error' "$out/build.log"; exit 1; }
echo "configured and built in ${SECONDS}s"
(cd build-gpu && ctest -L gpu --no-tests=error --output-on-failure) || echo "GPU TESTS FAILED"
(cd build-gpu && ctest -LE gpu -E 'BenchTest' -j 8 --timeout 300 | tail -6)  # the bench tests want Debian's python3
lowlight=build-gpu/cli/lowlight
$lowlight info weights/default.safetensors | head -5
$lowlight bench --model default --device cuda --sizes 600x400,4000x3000,8000x6000 --repeats 5 --train \
  --python "$py" --json-out "$out/bench-default.json" || echo "BENCH FAILED (status $?)"
$lowlight bench --config '{"channels":64,"rrgs":3,"mrbs":2}' --device cuda --sizes 600x400,4000x3000 --repeats 3 \
  --python "$py" --json-out "$out/bench-paper.json" || echo "BENCH FAILED (status $?)"
# Where CUDA time goes (PyTorch's profiler on the equivalent Python model): what a custom kernel could win.
for cfg in "16 1 1" "64 3 2"; do
  set -- $cfg
  $py bench/profile_torch.py --device cuda --precision fp16 --channels $1 --rrgs $2 --mrbs $3 --size 2000x1500 \
    --rows 15 >"$out/profile-c$1-${2}x$3.txt" 2>&1 || echo "profile C=$1 failed"
done
echo "done in ${SECONDS}s"
