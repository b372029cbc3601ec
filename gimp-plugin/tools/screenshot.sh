#!/bin/bash
# Screenshot of the plug-in's dialog in a real GIMP 2.10 under a virtual X server (Xvfb), for the README.
#
#   gimp-plugin/tools/screenshot.sh [--plugin BINARY] [--model FILE.safetensors] [--image PHOTO] [--out PNG]
#
# Defaults: build/gimp-plugin/lowlight-enhance, weights/default.safetensors, the bundled sample
# samples/coffee-lowlight.png (dataset images stay out of the repository), docs/images/plugin-dialog.png. GIMP runs with a throw-away
# profile, opens the photo, and calls plug-in-lowlight-enhance in interactive mode; once the dialog's
# preview has had time to compute, the dialog window is captured with ImageMagick's `import`, and GIMP
# and Xvfb are stopped. Needs: gimp, xvfb, imagemagick, xdotool.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
plugin=$root/build/gimp-plugin/lowlight-enhance
model=$root/weights/default.safetensors
image=$root/samples/coffee-lowlight.png
out=$root/docs/images/plugin-dialog.png
wait_preview=${LOWLIGHT_SCREENSHOT_WAIT:-8}
while [ $# -gt 0 ]; do
  case "$1" in
    --plugin) plugin=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "screenshot.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for tool in gimp Xvfb import xdotool; do
  command -v "$tool" > /dev/null || { echo "screenshot.sh: '$tool' is not installed" >&2; exit 1; }
done
[ -x "$plugin" ] || { echo "screenshot.sh: no plug-in binary at $plugin (build it first)" >&2; exit 1; }
[ -f "$model" ] || { echo "screenshot.sh: no model at $model (pass --model FILE.safetensors)" >&2; exit 1; }
[ -n "$image" ] && [ -f "$image" ] || { echo "screenshot.sh: no photo to open (pass --image FILE)" >&2; exit 1; }

work=$(mktemp -d /tmp/lowlight-screenshot.XXXXXX)
xvfb_pid=
gimp_pid=
cleanup() {
  [ -n "$gimp_pid" ] && kill "$gimp_pid" 2> /dev/null || true
  [ -n "$gimp_pid" ] && wait "$gimp_pid" 2> /dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2> /dev/null || true
  [ -n "$xvfb_pid" ] && wait "$xvfb_pid" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A throw-away GIMP profile holding the plug-in and the model under the name "default".
mkdir -p "$work/profile/plug-ins/lowlight-enhance" "$work/home"
cp "$plugin" "$work/profile/plug-ins/lowlight-enhance/lowlight-enhance"
cp "$model" "$work/profile/plug-ins/lowlight-enhance/default.safetensors"

# A free display number.
display=99
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1280x960x24 -nolisten tcp > "$work/xvfb.log" 2>&1 &
xvfb_pid=$!
export DISPLAY=":$display"
for _ in $(seq 100); do
  xdpyinfo > /dev/null 2>&1 && break
  sleep 0.1
done

script="(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$image\" \"$image\")))
               (drawable (car (gimp-image-get-active-drawable image))))
          (gimp-display-new image)
          (plug-in-lowlight-enhance RUN-INTERACTIVE image drawable 1.0 \"default\" 0 0))"
env -u LOWLIGHT_MODEL_PATH HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" GIMP2_DIRECTORY="$work/profile" \
  gimp -n -d -f -s --no-splash -b "$script" > "$work/gimp.log" 2>&1 &
gimp_pid=$!

window=
for _ in $(seq 120); do
  window=$(xdotool search --name "^Low-Light Enhance$" 2> /dev/null | head -n 1 || true)
  [ -n "$window" ] && break
  kill -0 "$gimp_pid" 2> /dev/null || { cat "$work/gimp.log" >&2; echo "screenshot.sh: GIMP exited" >&2; exit 1; }
  sleep 0.5
done
[ -n "$window" ] || { cat "$work/gimp.log" >&2; echo "screenshot.sh: the dialog did not appear" >&2; exit 1; }
sleep "$wait_preview"  # model loading and the first preview
mkdir -p "$(dirname "$out")"
import -window "$window" "$work/shot.png"
# Small PNG for the README: 8-bit palette where it loses nothing visible.
convert "$work/shot.png" -strip -colors 256 PNG8:"$work/small.png"
mv -f "$work/small.png" "$out"
echo "Wrote $out ($(identify -format '%wx%h' "$out"))"
