#!/bin/sh
# Installs the GIMP plug-in for the current user: the binary and the shipped models go into
# <profile>/plug-ins/lowlight-enhance/ (GIMP wants the folder named like the binary), where <profile> is
#   GIMP 2.10: ${GIMP2_DIRECTORY:-~/.config/GIMP/2.10}    GIMP 3: ${GIMP3_DIRECTORY:-~/.config/GIMP/3.0}
# Usage: install-user.sh [path/to/lowlight-enhance] [model.safetensors...]
# A given binary goes to the GIMP it was built for (one linked against libgimp-3.0 is a GIMP 3 plug-in).
# Without a binary argument it installs each of build/gimp-plugin/lowlight-enhance (GIMP 2.10) and
# build/gimp-plugin/gimp3/lowlight-enhance (GIMP 3) that exists; without models it copies every
# weights/*.safetensors of the source tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
config=${XDG_CONFIG_HOME:-$HOME/.config}

# The GIMP major version a plug-in binary was linked for: its dynamic section names libgimp-3.0.so.N.
gimp_version() {
  if grep -q 'libgimp-3\.0\.so' "$1"; then echo 3; else echo 2; fi
}

install_binary() {
  binary=$1
  shift
  if [ "$(gimp_version "$binary")" = 3 ]; then
    profile=${GIMP3_DIRECTORY:-$config/GIMP/3.0}
    name="GIMP 3"
  else
    profile=${GIMP2_DIRECTORY:-$config/GIMP/2.10}
    name="GIMP 2.10"
  fi
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
  echo "Installed lowlight-enhance for $name and $models model(s) into $target"
  echo "Restart $name; the filter is in Filters > Enhance > Low-Light Enhance..."
}

binary=
if [ $# -gt 0 ]; then
  binary=$1
  shift
  if [ ! -x "$binary" ]; then
    echo "install-user.sh: plug-in binary '$binary' not found; build it first" \
         "(cmake --build build --target lowlight-enhance, or lowlight-enhance-gimp3 for GIMP 3)" >&2
    exit 1
  fi
fi
if [ $# -eq 0 ]; then
  set -- "$root"/weights/*.safetensors
fi
if [ -n "$binary" ]; then
  install_binary "$binary" "$@"
  exit 0
fi
found=0
for candidate in "$root/build/gimp-plugin/lowlight-enhance" "$root/build/gimp-plugin/gimp3/lowlight-enhance"; do
  if [ -x "$candidate" ]; then
    install_binary "$candidate" "$@"
    found=$((found + 1))
  fi
done
if [ "$found" -eq 0 ]; then
  echo "install-user.sh: no plug-in binary in $root/build/gimp-plugin; build it first" \
       "(cmake --build build --target lowlight-enhance, or lowlight-enhance-gimp3 for GIMP 3)" >&2
  exit 1
fi
