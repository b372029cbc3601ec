#!/bin/bash
# Screenshot of the GIMP 3 plug-in's dialog in a real GIMP 3 under a virtual X server (Xvfb), for the README
# (screenshot.sh is the GIMP 2.10 version).
#
#   gimp-plugin/tools/screenshot-gimp3.sh [--plugin BINARY] [--model FILE.safetensors] [--image PHOTO] [--out PNG]
#
# Defaults: build/gimp-plugin/gimp3/lowlight-enhance, weights/default.safetensors, the bundled sample
# samples/coffee-lowlight.png (dataset images stay out of the repository), docs/images/plugin-dialog-gimp3.png. GIMP runs with a throw-away
# profile, opens the photo, and calls plug-in-lowlight-enhance in interactive mode; once the dialog's
# preview has had time to compute, the dialog window is captured with ImageMagick's `import`, and GIMP
# and Xvfb are stopped. Needs: gimp (3.0), xvfb, imagemagick, xdotool.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
plugin=$root/build/gimp-plugin/gimp3/lowlight-enhance
model=$root/weights/default.safetensors
image=$root/samples/coffee-lowlight.png
out=$root/docs/images/plugin-dialog-gimp3.png
wait_preview=${LOWLIGHT_SCREENSHOT_WAIT:-8}
gimp=$(command -v gimp-3.0 || command -v gimp || true)
while [ $# -gt 0 ]; do
  case "$1" in
    --plugin) plugin=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --image) image=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "screenshot-gimp3.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$gimp" ] || { echo "screenshot-gimp3.sh: GIMP 3 (gimp-3.0) is not installed" >&2; exit 1; }
for tool in Xvfb import xdotool; do
  command -v "$tool" > /dev/null || { echo "screenshot-gimp3.sh: '$tool' is not installed" >&2; exit 1; }
done
[ -x "$plugin" ] || { echo "screenshot-gimp3.sh: no plug-in binary at $plugin (build it first)" >&2; exit 1; }
[ -f "$model" ] || { echo "screenshot-gimp3.sh: no model at $model (pass --model FILE.safetensors)" >&2; exit 1; }
[ -n "$image" ] && [ -f "$image" ] || { echo "screenshot-gimp3.sh: no photo to open (pass --image FILE)" >&2; exit 1; }

work=$(mktemp -d /tmp/lowlight-screenshot.XXXXXX)
xvfb_pid=
gimp_pid=
cleanup() {
  # LOWLIGHT_SCREENSHOT_LOG=FILE keeps GIMP's output (warnings from the dialog) for inspection.
  [ -n "${LOWLIGHT_SCREENSHOT_LOG:-}" ] && cp "$work/gimp.log" "$LOWLIGHT_SCREENSHOT_LOG" 2> /dev/null || true
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

script="(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$image\")))
               (drawable (vector-ref (car (gimp-image-get-selected-drawables image)) 0)))
          (gimp-display-new image)
          (plug-in-lowlight-enhance #:run-mode RUN-INTERACTIVE #:image image #:drawables (vector drawable)))"
env -u LOWLIGHT_MODEL_PATH HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" GIMP3_DIRECTORY="$work/profile" \
  "$gimp" -n -d -f -s --no-splash --batch-interpreter=plug-in-script-fu-eval -b "$script" > "$work/gimp.log" 2>&1 &
gimp_pid=$!

window=
for _ in $(seq 240); do
  window=$(xdotool search --name "^Low-Light Enhance$" 2> /dev/null | head -n 1 || true)
  [ -n "$window" ] && break
  kill -0 "$gimp_pid" 2> /dev/null || { cat "$work/gimp.log" >&2; echo "screenshot-gimp3.sh: GIMP exited" >&2; exit 1; }
  sleep 0.5
done
[ -n "$window" ] || { cat "$work/gimp.log" >&2; echo "screenshot-gimp3.sh: the dialog did not appear" >&2; exit 1; }
sleep "$wait_preview"  # model loading and the first preview
mkdir -p "$(dirname "$out")"
import -window "$window" "$work/shot.png"
# Small PNG for the README: 8-bit palette where it loses nothing visible.
convert "$work/shot.png" -strip -colors 256 PNG8:"$work/small.png"
mv -f "$work/small.png" "$out"
echo "Wrote $out ($(identify -format '%wx%h' "$out"))"
