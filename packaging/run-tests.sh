#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine, builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
cmake --preset default
cmake --build --preset default -j "$(nproc)"
ctest --preset default -j "$(nproc)" --timeout 600
