#!/bin/bash
# Screenshot of the GIMP 3 plug-in's dialog in a real GIMP 3 under a virtual X server (Xvfb), for the README
# (screenshot.sh is the GIMP 2.10 version).
#
#   gimp-plugin/tools/screenshot-gimp3.sh [--plugin BINARY] [--model FILE.safetensors] [--image PHOTO] [--out PNG]
#
# Defaults: build/gimp-plugin/gimp3/lowlight-enhance, weights/default.safetensors, the bundled sample
# samples/coffee-lowlight.png, docs/images/plugin-dialog-gimp3.png. Otherwise as screenshot.sh; GIMP 3 takes
# longer to start. Needs: gimp (3.0), xvfb, x11-utils, imagemagick, xdotool.
set -euo pipefail
me=screenshot-gimp3.sh
# shellcheck source-path=SCRIPTDIR source=screenshot-common.sh
. "$(dirname "$0")/screenshot-common.sh"
plugin=$root/build/gimp-plugin/gimp3/lowlight-enhance
out=$root/docs/images/plugin-dialog-gimp3.png
parse_args "$@"
gimp=$(command -v gimp-3.0 || command -v gimp || true)
check_inputs "$gimp"
setup
script="(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$image\")))
               (drawable (vector-ref (car (gimp-image-get-selected-drawables image)) 0)))
          (gimp-display-new image)
          (plug-in-lowlight-enhance #:run-mode RUN-INTERACTIVE #:image image #:drawables (vector drawable)))"
start_gimp "$gimp" -n -d -f -s --no-splash --batch-interpreter=plug-in-script-fu-eval -b "$script"
capture_dialog 120
