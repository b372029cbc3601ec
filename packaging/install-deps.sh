#!/usr/bin/env bash
# Installs every build and test dependency from Debian packages. Idempotent; safe to run again.
# Supported: Debian 12 (bookworm: GIMP 2.10, LibTorch 1.13) and Debian 13 (trixie: GIMP 3.0, LibTorch 2.6).
set -euo pipefail

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

. /etc/os-release
case "${ID:-}:${VERSION_ID:-}" in
  debian:12) gimp_dev=libgimp2.0-dev; clang_rt=libclang-rt-14-dev ;;
  debian:13) gimp_dev=libgimp-3.0-dev; clang_rt=libclang-rt-19-dev ;;
  *)
    echo "install-deps: unsupported system '${PRETTY_NAME:-unknown}': Lowlight supports Debian 12 and Debian 13" >&2
    exit 1 ;;
esac

packages=(
  # build
  cmake ninja-build g++ pkg-config ccache
  libtorch-dev libopencv-dev libpng-dev nlohmann-json3-dev libcli11-dev
  libgloo-dev  # headers of LibTorch's Gloo process group: data-parallel lowlight-train (core/src/distributed.cpp)
  "$gimp_dev" gimp
  # tests and reference checks
  libgtest-dev python3-torch python3-numpy python3-pil
  # sanitizer build and fuzzers (packaging/ci-sanitize.sh): clang with its sanitizer and libFuzzer runtimes
  clang "$clang_rt"
  # the .deb package (cpack): man pages, Depends from dpkg-shlibdeps (which CPack finds ELF files with `file`)
  help2man dpkg-dev file
  # screenshots of the plug-in dialog
  xvfb xauth x11-utils xdotool imagemagick
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
