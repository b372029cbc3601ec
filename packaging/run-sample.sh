#!/usr/bin/env bash
# The main job on a fresh Debian machine: installs dependencies, builds, enhances the bundled sample with the
# shipped default model into out/coffee-enhanced.png (replacing an earlier result, so it can run again), and
# installs the GIMP plug-in that was built (GIMP 2.10 on Debian 12, GIMP 3 on Debian 13) into the user's profile.
# LOWLIGHT_BUILD_DIR, when set, builds there instead of the preset's build/ (as packaging/run-tests.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
build=${LOWLIGHT_BUILD_DIR:-build}
cmake --preset default -B "$build" -DLOWLIGHT_BUILD_TESTS=OFF
cmake --build "$build" -j "$(nproc)"
if [ ! -f weights/default.safetensors ]; then
  echo "run-sample: no trained weights are shipped yet (weights/default.safetensors is missing); nothing to enhance" >&2
  exit 1
fi
mkdir -p out
"$build/cli/lowlight" enhance samples/coffee-lowlight.png out/coffee-enhanced.png --model default --overwrite
# In the Debian 13 root out/ is the host's (packaging/debian13-root.sh): name the path the user can open.
echo "run-sample: wrote ${LOWLIGHT_HOST_SRC:-$PWD}/out/coffee-enhanced.png"
installed=0
for plugin in "$build/gimp-plugin/lowlight-enhance" "$build/gimp-plugin/gimp3/lowlight-enhance"; do
  if [ -x "$plugin" ]; then
    gimp-plugin/install-user.sh "$plugin"
    installed=$((installed + 1))
  fi
done
if [ "$installed" -eq 0 ]; then
  echo "run-sample: GIMP plug-in not built (libgimp2.0-dev or libgimp-3.0-dev missing?); skipped its install" >&2
fi
