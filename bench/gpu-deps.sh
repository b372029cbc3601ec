#!/bin/sh
# Collects what bench/gpu-check.sh needs on a GPU machine that has PyTorch, CMake and a compiler but none
# of Debian's -dev packages: nlohmann-json and CLI11 (headers and CMake files) and GoogleTest's source.
# Run on a Debian machine with the project's build dependencies; the folder (gitignored) then travels with
# the working tree to the device machine (the device tool's `carry`). Usage: bench/gpu-deps.sh [DIR]
set -eu
dir=${1:-gpu-deps}
rm -rf "$dir"
mkdir -p "$dir/prefix/include" "$dir/prefix/share/cmake"
cp -r /usr/include/nlohmann /usr/include/CLI "$dir/prefix/include/"
cp -r /usr/share/cmake/nlohmann_json /usr/share/cmake/CLI11 "$dir/prefix/share/cmake/"
cp -r /usr/src/googletest "$dir/googletest"
du -sh "$dir"
