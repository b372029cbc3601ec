#!/bin/sh
# Installs the GIMP 2.10 plug-in for the current user: the binary and the shipped models go into
# ${GIMP2_DIRECTORY:-~/.config/GIMP/2.10}/plug-ins/lowlight-enhance/ (GIMP wants the folder named like
# the binary). Usage: install-user.sh [path/to/lowlight-enhance] [model.safetensors...]
# Without a binary argument it uses build/gimp-plugin/lowlight-enhance; without models it copies every
# weights/*.safetensors of the source tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
binary=${1:-$root/build/gimp-plugin/lowlight-enhance}
[ $# -gt 0 ] && shift
if [ ! -x "$binary" ]; then
  echo "install-user.sh: plug-in binary '$binary' not found; build it first (cmake --build build --target lowlight-enhance)" >&2
  exit 1
fi
if [ $# -eq 0 ]; then
  set -- "$root"/weights/*.safetensors
fi
profile=${GIMP2_DIRECTORY:-${XDG_CONFIG_HOME:-$HOME/.config}/GIMP/2.10}
target="$profile/plug-ins/lowlight-enhance"
mkdir -p "$target"
# Copy to a temporary name and rename, so a running GIMP never sees a half-written binary.
cp "$binary" "$target/.lowlight-enhance.tmp"
chmod 755 "$target/.lowlight-enhance.tmp"
mv -f "$target/.lowlight-enhance.tmp" "$target/lowlight-enhance"
models=0
for model in "$@"; do
  if [ -f "$model" ]; then
    cp "$model" "$target/.model.tmp"
    mv -f "$target/.model.tmp" "$target/$(basename "$model")"
    models=$((models + 1))
  else
    echo "install-user.sh: warning: no model file '$model' (the plug-in will report a missing model)" >&2
  fi
done
echo "Installed lowlight-enhance and $models model(s) into $target"
echo "Restart GIMP 2.10; the filter is in Filters > Enhance > Low-Light Enhance..."
