#!/usr/bin/env bash
# CI: the .deb from an already built tree, installed and used as a user would, then removed without a trace.
#   bash packaging/ci-deb.sh                                          (Debian 12: the build/ run-tests.sh made)
#   bash packaging/debian13-root.sh bash packaging/ci-deb.sh          (Debian 13: $LOWLIGHT_BUILD_DIR, /build)
# 1. cpack makes lowlight_<version>_amd64.deb (Depends from dpkg-shlibdeps) in <build>/packages;
# 2. apt installs it (its dependencies are already there: the build needed them);
# 3. `lowlight enhance` runs on the bundled sample with the installed model, from another folder, and
#    the installed binaries hold no path of the source tree;
# 4. the installed plug-in enhances the sample in headless GIMP (a fresh HOME: the system plug-in folder and
#    /usr/share/lowlight/weights, nothing of the user's);
# 5. apt purges it, and none of its files is left.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=$(realpath "${LOWLIGHT_BUILD_DIR:-build}")
[ -f "$build/CPackConfig.cmake" ] || { echo "ci-deb: no configured build in $build (run packaging/run-tests.sh)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { echo "ci-deb: $*"; }
fail() { echo "ci-deb: FAILED: $*" >&2; exit 1; }

# The man pages and anything else not yet built (all of it is, after run-tests.sh: this is quick).
cmake --build "$build" -j "$(nproc)" >/dev/null
rm -rf "$build/packages"
(cd "$build" && cpack --config CPackConfig.cmake) >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$build"/packages/lowlight_*_amd64.deb)
say "built $deb"
dpkg-deb --field "$deb" Package Version Depends Recommends
dpkg-deb --field "$deb" Depends | grep -q libtorch || fail "Depends names no LibTorch library"
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$work/contents"
for path in /usr/bin/lowlight /usr/bin/lowlight-train /usr/share/man/man1/lowlight.1.gz \
            /usr/share/man/man1/lowlight-train.1.gz /usr/share/lowlight/weights/default.safetensors \
            /usr/share/lowlight/help/en/gimp-help.xml; do
  grep -qx "$path" "$work/contents" || fail "the package lacks $path"
done
plugin=$(grep -E '^/usr/lib/.*gimp/[23]\.0/plug-ins/lowlight-enhance/lowlight-enhance$' "$work/contents") \
  || fail "the package has no GIMP plug-in"
say "plug-in: $plugin"

# A left-over install (an interrupted run) would hide what this one does.
if dpkg-query -W lowlight >/dev/null 2>&1; then apt-get purge -y -q lowlight >/dev/null; fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" >"$work/apt.log" 2>&1 \
  || { cat "$work/apt.log"; fail "apt-get install"; }
say "installed"

for binary in /usr/bin/lowlight /usr/bin/lowlight-train "$plugin"; do
  if grep -q -F "$src" "$binary"; then fail "$binary contains the source path $src"; fi
done
man_text=$(gzip -dc /usr/share/man/man1/lowlight.1.gz)
grep -q "enhance" <<<"$man_text" || fail "the lowlight man page does not describe enhance"

cd "$work"
env -u LOWLIGHT_MODEL_PATH lowlight enhance "$src/samples/coffee-lowlight.png" "$work/cli.png" --model default
[ -s "$work/cli.png" ] || fail "lowlight enhance wrote nothing"
say "lowlight enhance with the installed model: OK"

# The installed plug-in in headless GIMP, with a fresh HOME.
home=$work/home
mkdir -p "$home"
if command -v gimp-console-3.0 >/dev/null; then
  gimp=(gimp-console-3.0 -i -d -f --quit --batch-interpreter=plug-in-script-fu-eval -b
        "(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$src/samples/coffee-lowlight.png\")))
                (layer (vector-ref (car (gimp-image-get-selected-drawables image)) 0)))
           (plug-in-lowlight-enhance #:run-mode RUN-NONINTERACTIVE #:image image #:drawables (vector layer)
                                     #:strength 1.0 #:model \"default\" #:device \"cpu\" #:tile-size 0)
           (gimp-file-save RUN-NONINTERACTIVE image \"$work/gimp.png\" -1))")
else
  gimp=(gimp-console-2.10 -i -d -f -b
        "(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$src/samples/coffee-lowlight.png\" \"x\")))
                (layer (car (gimp-image-get-active-drawable image))))
           (plug-in-lowlight-enhance RUN-NONINTERACTIVE image layer 1.0 \"default\" 1 0 0)
           (gimp-file-save RUN-NONINTERACTIVE image layer \"$work/gimp.png\" \"x\"))" -b "(gimp-quit 0)")
fi
env -u LOWLIGHT_MODEL_PATH -u DISPLAY -u GIMP2_DIRECTORY -u GIMP3_DIRECTORY -u XDG_CONFIG_HOME HOME="$home" \
  timeout 300 "${gimp[@]}" >"$work/gimp.log" 2>&1 || { cat "$work/gimp.log"; fail "GIMP"; }
[ -s "$work/gimp.png" ] || { cat "$work/gimp.log"; fail "the installed plug-in wrote nothing"; }
cmp -s "$work/gimp.png" "$src/samples/coffee-lowlight.png" && fail "the plug-in left the image unchanged"
say "installed plug-in in headless GIMP: OK"
cd "$src"

apt-get purge -y -q lowlight >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "apt-get purge"; }
left=0
while read -r path; do
  # Folders other packages own (/usr/bin, GIMP's plug-in folder) stay; the package's own must go.
  if [ -d "$path" ]; then
    case "$path" in
      /usr/share/lowlight*|/usr/share/doc/lowlight*|*/plug-ins/lowlight-enhance*) ;;
      *) continue ;;
    esac
  fi
  if [ -e "$path" ]; then echo "ci-deb: left behind: $path" >&2; left=$((left + 1)); fi
done <"$work/contents"
[ "$left" -eq 0 ] || fail "$left path(s) left after purge"
say "purged, nothing left: OK"
