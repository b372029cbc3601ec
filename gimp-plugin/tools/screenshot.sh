#!/bin/bash
# Screenshot of the plug-in's dialog in a real GIMP 2.10 under a virtual X server (Xvfb), for the README.
#
#   gimp-plugin/tools/screenshot.sh [--plugin BINARY] [--model FILE.safetensors] [--image PHOTO] [--out PNG]
#
# Defaults: build/gimp-plugin/lowlight-enhance, weights/default.safetensors, the bundled sample
# samples/coffee-lowlight.png, docs/images/plugin-dialog.png. GIMP runs with a throw-away profile, opens the
# photo, and calls plug-in-lowlight-enhance in interactive mode; once the dialog's preview has had time to
# compute, the dialog window is captured with ImageMagick's `import`, and GIMP and Xvfb are stopped
# (screenshot-common.sh). Needs: gimp, xvfb, x11-utils, imagemagick, xdotool.
set -euo pipefail
me=screenshot.sh
# shellcheck source-path=SCRIPTDIR source=screenshot-common.sh
. "$(dirname "$0")/screenshot-common.sh"
plugin=$root/build/gimp-plugin/lowlight-enhance
out=$root/docs/images/plugin-dialog.png
parse_args "$@"
gimp=$(command -v gimp-2.10 || command -v gimp || true)
check_inputs "$gimp"
setup
script="(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"$image\" \"$image\")))
               (drawable (car (gimp-image-get-active-drawable image))))
          (gimp-display-new image)
          (plug-in-lowlight-enhance RUN-INTERACTIVE image drawable 1.0 \"default\" 0 0 0))"
start_gimp "$gimp" -n -d -f -s --no-splash -b "$script"
capture_dialog 60
