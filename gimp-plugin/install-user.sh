#!/bin/sh
# Installs the GIMP plug-in for the current user: the binary, the shipped models and the help page go into
# <profile>/plug-ins/lowlight-enhance/ (GIMP wants the folder named like the binary), where <profile> is
#   GIMP 2.10: ${GIMP2_DIRECTORY:-~/.config/GIMP/2.10}    GIMP 3: ${GIMP3_DIRECTORY:-~/.config/GIMP/3.0}
# Usage: install-user.sh [path/to/lowlight-enhance] [model.safetensors...]
# A given binary goes to the GIMP it was built for (one linked against libgimp-3.0 is a GIMP 3 plug-in).
# Without a binary argument it installs each of build/gimp-plugin/lowlight-enhance (GIMP 2.10) and
# build/gimp-plugin/gimp3/lowlight-enhance (GIMP 3) that exists; without models it copies every
# weights/*.safetensors of the source tree.
#
# GIMP makes its profile (brushes, gradients, scripts, ...) only when the profile folder does not exist yet,
# so creating plug-ins/ in it first would leave GIMP without one. When the profile is missing, GIMP itself
# (headless, gimp-console) makes it first; a profile an earlier version of this script started (it lacks
# GIMP's folders) is completed the same way, from a profile GIMP makes aside, without replacing any file.
# Running it again only replaces the plug-in's own files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
config=${XDG_CONFIG_HOME:-$HOME/.config}

# The GIMP major version a plug-in binary was linked for: its dynamic section names libgimp-3.0.so.N.
gimp_version() {
  if grep -q 'libgimp-3\.0\.so' "$1"; then echo 3; else echo 2; fi
}

# Starts GIMP <version> headless once with its profile in <dir>, so that GIMP makes the profile there.
run_gimp_once() {
  version=$1
  dir=$2
  if [ "$version" = 3 ]; then
    console=$(command -v gimp-console-3.0 || command -v gimp-console-3 || true)
    set -- -i -d -f --quit
  else
    console=$(command -v gimp-console-2.10 || command -v gimp-console || true)
    set -- -i -d -f -b '(gimp-quit 0)'
  fi
  if [ -z "$console" ]; then
    echo "install-user.sh: GIMP $version is not installed (no gimp-console found); install GIMP first" >&2
    exit 1
  fi
  log=$(mktemp)
  if ! env -u DISPLAY GIMP2_DIRECTORY="$dir" GIMP3_DIRECTORY="$dir" timeout 300 "$console" "$@" \
      </dev/null >"$log" 2>&1 || [ ! -d "$dir/gradients" ]; then
    tail -n 20 "$log" >&2
    rm -f "$log"
    echo "install-user.sh: GIMP could not make its profile in $dir" >&2
    exit 1
  fi
  rm -f "$log"
}

# Makes sure <profile> is a complete GIMP profile (GIMP's own folders exist) before anything goes into it.
ensure_profile() {
  version=$1
  profile=$2
  [ -d "$profile/gradients" ] && return 0
  if [ ! -e "$profile" ]; then
    echo "Starting GIMP once (headless) so that it makes its profile in $profile ..."
    mkdir -p "$(dirname "$profile")"
    run_gimp_once "$version" "$profile"
    return 0
  fi
  echo "Completing the GIMP profile in $profile (GIMP's own folders are missing) ..."
  aside="$profile.lowlight-new.$$"
  run_gimp_once "$version" "$aside"
  # pluginrc is GIMP's cache of plug-ins found: the one made aside would name the wrong folders.
  rm -f "$aside/pluginrc"
  cp -R -n "$aside/." "$profile/"
  rm -rf "$aside"
}

install_binary() {
  binary=$1
  shift
  if [ "$(gimp_version "$binary")" = 3 ]; then
    version=3
    profile=${GIMP3_DIRECTORY:-$config/GIMP/3.0}
    name="GIMP 3"
    script=batch-enhance-gimp3.scm
  else
    version=2
    profile=${GIMP2_DIRECTORY:-$config/GIMP/2.10}
    name="GIMP 2.10"
    script=batch-enhance.scm
  fi
  ensure_profile "$version" "$profile"
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
  # The help page the dialog's Help button opens (GIMP's help-domain layout, docs/help/).
  if [ -f "$root/docs/help/en/gimp-help.xml" ]; then
    rm -rf "$target/.help.tmp"
    cp -R "$root/docs/help" "$target/.help.tmp"
    rm -rf "$target/help"
    mv "$target/.help.tmp" "$target/help"
  fi
  echo "Installed lowlight-enhance for $name and $models model(s) into $target"
  echo "Start (or restart) $name; the filter is in Filters > Enhance > Low-Light Enhance..."
  echo "For a whole folder, copy $root/gimp-plugin/examples/$script into $profile/scripts/"
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
