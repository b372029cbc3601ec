# shellcheck shell=bash
# Sourced by screenshot.sh (GIMP 2.10) and screenshot-gimp3.sh (GIMP 3), which differ only in the GIMP they
# start and the Script-Fu that opens the dialog. Before sourcing, a script sets `me` (its name, for
# messages); afterwards it sets its `plugin` and `out` defaults and calls, in order:
#   parse_args "$@"; check_inputs GIMP; setup; start_gimp GIMP OPTIONS...; capture_dialog SECONDS
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
model=$root/weights/default.safetensors
image=$root/samples/coffee-lowlight.png  # dataset images stay out of the repository
wait_preview=${LOWLIGHT_SCREENSHOT_WAIT:-8}
work=
xvfb_pid=
gimp_pid=

die() {
  echo "${me:-screenshot}: $*" >&2
  exit 1
}

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --plugin) plugin=$2; shift 2 ;;
      --model) model=$2; shift 2 ;;
      --image) image=$2; shift 2 ;;
      --out) out=$2; shift 2 ;;
      *) echo "${me:-screenshot}: unknown argument '$1'" >&2; exit 2 ;;
    esac
  done
}

check_inputs() {
  [ -n "$1" ] || die "GIMP is not installed"
  for tool in Xvfb import xdotool xdpyinfo; do
    command -v "$tool" > /dev/null || die "'$tool' is not installed"
  done
  [ -x "$plugin" ] || die "no plug-in binary at $plugin (build it first)"
  [ -f "$model" ] || die "no model at $model (pass --model FILE.safetensors)"
  [ -n "$image" ] && [ -f "$image" ] || die "no photo to open (pass --image FILE)"
}

cleanup() {
  # LOWLIGHT_SCREENSHOT_LOG=FILE keeps GIMP's output (warnings from the dialog) for inspection.
  [ -n "${LOWLIGHT_SCREENSHOT_LOG:-}" ] && cp "$work/gimp.log" "$LOWLIGHT_SCREENSHOT_LOG" 2> /dev/null || true
  [ -n "$gimp_pid" ] && kill "$gimp_pid" 2> /dev/null || true
  [ -n "$gimp_pid" ] && wait "$gimp_pid" 2> /dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2> /dev/null || true
  [ -n "$xvfb_pid" ] && wait "$xvfb_pid" 2> /dev/null || true
  rm -rf "$work"
}

# A throw-away GIMP profile holding the plug-in and the model under the name "default", and a virtual X
# server on a free display.
setup() {
  work=$(mktemp -d /tmp/lowlight-screenshot.XXXXXX)
  trap cleanup EXIT
  mkdir -p "$work/profile/plug-ins/lowlight-enhance" "$work/home"
  cp "$plugin" "$work/profile/plug-ins/lowlight-enhance/lowlight-enhance"
  cp "$model" "$work/profile/plug-ins/lowlight-enhance/default.safetensors"
  local display=99
  while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
  Xvfb ":$display" -screen 0 1280x960x24 -nolisten tcp > "$work/xvfb.log" 2>&1 &
  xvfb_pid=$!
  export DISPLAY=":$display"
  for _ in $(seq 100); do
    xdpyinfo > /dev/null 2>&1 && break
    sleep 0.1
  done
}

# GIMP in the background, with the throw-away profile whichever version it is.
start_gimp() {
  env -u LOWLIGHT_MODEL_PATH HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" \
    GIMP2_DIRECTORY="$work/profile" GIMP3_DIRECTORY="$work/profile" "$@" > "$work/gimp.log" 2>&1 &
  gimp_pid=$!
}

# Waits up to $1 seconds for the dialog, gives the model time to load and the first preview to compute,
# then writes the window to $out as a small PNG (8-bit palette where it loses nothing visible).
capture_dialog() {
  local window='' tries=$(($1 * 2))
  for _ in $(seq "$tries"); do
    window=$(xdotool search --name "^Low-Light Enhance$" 2> /dev/null | head -n 1 || true)
    [ -n "$window" ] && break
    kill -0 "$gimp_pid" 2> /dev/null || { cat "$work/gimp.log" >&2; die "GIMP exited"; }
    sleep 0.5
  done
  [ -n "$window" ] || { cat "$work/gimp.log" >&2; die "the dialog did not appear"; }
  sleep "$wait_preview"
  mkdir -p "$(dirname "$out")"
  import -window "$window" "$work/shot.png"
  convert "$work/shot.png" -strip -colors 256 PNG8:"$work/small.png"
  mv -f "$work/small.png" "$out"
  echo "Wrote $out ($(identify -format '%wx%h' "$out"))"
}
