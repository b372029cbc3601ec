#!/usr/bin/env bash
# Runs a command inside a cached Debian 13 (trixie) root, the project's second platform (LibTorch 2.6, OpenCV 4.10,
# GoogleTest 1.16, g++ 14, GIMP 3). Needs root (debootstrap, chroot, mount) and, only when the root must be made
# or its packages changed, network access to the Debian mirror.
#
#   packaging/debian13-root.sh [COMMAND [ARG...]]     (default COMMAND: an interactive bash)
#
# Inside, the project is /src/lowlight (read-only, except out/, which is the host's out/) and the folder beside it, ../shared, is /src/shared (read-only),
# so paths the build derives from the project root (../shared/data/...) mean the same thing there. /build and
# /root/.ccache live in the root and persist between runs; the command starts in /src/lowlight with
# LOWLIGHT_BUILD_DIR=/build set (packaging/run-tests.sh builds there instead of the read-only source tree).
#
# The root is reused when valid: base.ok (written after debootstrap succeeded) and deps.sha256 (hash of
# packaging/install-deps.sh, whose Debian 13 branch is the package list) under /etc/lowlight/ in the root. Without
# base.ok the root is made again from scratch; when only the hash differs, install-deps.sh runs inside again
# (it installs what is missing). Mounts are made in a private mount namespace and unmounted by a trap, so an
# interrupted run leaves nothing mounted on the host.
#
# Environment: LOWLIGHT_D13_ROOT (default /var/cache/lowlight/trixie-root), LOWLIGHT_D13_MIRROR (debootstrap
# mirror; default: debootstrap's), LOWLIGHT_D13_REBUILD=1 (make the root again).
set -euo pipefail

log() { echo "debian13-root: $*" >&2; }
die() { log "$*"; exit 1; }
now() { date +%s; }

root=${LOWLIGHT_D13_ROOT:-/var/cache/lowlight/trixie-root}
root=$(realpath -m "$root")
[ "$root" != / ] || die "LOWLIGHT_D13_ROOT must not be /"
project=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=$(cd "$project/.." && pwd)/shared
self="$project/packaging/debian13-root.sh"
guest_src=/src/lowlight
guest_shared=/src/shared
guest_build=/build
guest_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Runs inside the private mount namespace: mount, chroot, and always unmount.
mounts=()
inside() {
  cleanup() {
    local status=$? pid i
    # Processes started in the root (a D-Bus daemon, Xvfb) would keep its mounts busy.
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
      [ "$pid" = "$$" ] && continue
      [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] && kill "$pid" 2>/dev/null || true
    done
    for (( i=${#mounts[@]}-1; i>=0; i-- )); do
      umount -R "${mounts[i]}" 2>/dev/null || umount -R -l "${mounts[i]}" 2>/dev/null \
        || log "could not unmount ${mounts[i]}"
    done
    exit "$status"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  mount -t proc proc "$root/proc";                        mounts+=("$root/proc")
  mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys"; mounts+=("$root/sys")
  mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"; mounts+=("$root/dev")
  mkdir -p "$root$guest_src" "$root$guest_shared" "$root$guest_build"
  mount --bind "$project" "$root$guest_src"; mounts+=("$root$guest_src")
  mount -o remount,bind,ro "$root$guest_src"
  # out/ alone is writable, and it is the host's own out/: what run-sample.sh writes there is found at the
  # same path on the host.
  mount --bind "$project/out" "$root$guest_src/out"; mounts+=("$root$guest_src/out")
  if [ -d "$shared" ]; then
    mount --bind "$shared" "$root$guest_shared"; mounts+=("$root$guest_shared")
    mount -o remount,bind,ro "$root$guest_shared"
  else
    log "note: $shared does not exist; tests that need ../shared data will fail"
  fi
  # A fresh /tmp each run (we hold the root's lock, so nobody else is using it).
  find "$root/tmp" -mindepth 1 -xdev -delete 2>/dev/null || true
  # Name resolution for apt-get follows the host's.
  cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

  # A clean environment: nothing of the host's PATH, pyenv or toolchain settings leaks in.
  chroot "$root" /usr/bin/env -i \
    PATH="$guest_path" HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive \
    LOWLIGHT_BUILD_DIR="$guest_build" LOWLIGHT_HOST_SRC="$project" CCACHE_DIR=/root/.ccache CCACHE_MAXSIZE=5G \
    bash -c 'cd "$1" && shift && exec "$@"' bash "$guest_src" "$@"
}

# Runs a command in the root (mounts in a private namespace).
in_root() { unshare --mount --propagation private bash "$self" --inside-namespace "$@"; }

mounted_under() { awk -v r="$1" '$2 == r || index($2, r "/") == 1' /proc/self/mounts | grep -q .; }

make_base() {
  local tmp="$root.new" start
  start=$(now)
  mounted_under "$tmp" && die "$tmp has mounts under it; refusing to delete it"
  rm -rf --one-file-system "$tmp"
  log "debootstrap trixie into $tmp (minbase)"
  debootstrap --variant=minbase trixie "$tmp" ${LOWLIGHT_D13_MIRROR:+"$LOWLIGHT_D13_MIRROR"} >"$tmp.log" 2>&1 \
    || { tail -n 30 "$tmp.log" >&2; die "debootstrap failed (log: $tmp.log)"; }
  # No services start inside the root while packages are installed.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  mkdir -p "$tmp/etc/lowlight"
  echo "trixie minbase $(date -u +%FT%TZ)" >"$tmp/etc/lowlight/base.ok"
  if [ -e "$root" ]; then
    mounted_under "$root" && die "$root has mounts under it; refusing to replace it"
    # A mistyped LOWLIGHT_D13_ROOT must not cost someone a folder: replace only what looks like a Debian root.
    [ -z "$(ls -A "$root")" ] || grep -qs '^ID=debian' "$root/etc/os-release" \
      || die "$root exists and is not a Debian root; remove it yourself or choose another LOWLIGHT_D13_ROOT"
    rm -rf --one-file-system "$root"
  fi
  mv "$tmp" "$root"
  rm -f "$tmp.log"
  log "base system made in $(( $(now) - start )) s"
}

# The host tools this script uses, from Debian when missing: a fresh machine (and CI on one) has no debootstrap.
install_host_tools() {
  local tool missing=()
  for tool in debootstrap:debootstrap unshare:util-linux chroot:coreutils flock:util-linux sha256sum:coreutils; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  log "installing ${missing[*]} (apt-get)"
  apt-get update -q >&2 || die "apt-get update failed; install ${missing[*]} yourself"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
    || die "could not install ${missing[*]}"
}

# The whole program is a function so that bash has read all of it before it runs: editing or checking out
# this file during a run (which lasts minutes) cannot change what the run does.
main() {
  if [ "${1:-}" = "--inside-namespace" ]; then
    shift
    inside "$@"
    return
  fi

  [ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot and mount need it)"
  install_host_tools
  for tool in debootstrap unshare chroot flock sha256sum; do
    command -v "$tool" >/dev/null || die "missing '$tool' (Debian: apt-get install debootstrap util-linux coreutils)"
  done
  [ $# -gt 0 ] || set -- bash
  mkdir -p "$project/out"  # the one writable folder of the project inside (see inside())

  # One root, one user at a time: CI runs and a developer's shell must not build into the same /build at once.
  mkdir -p "$(dirname "$root")"
  exec 9>"$root.lock"
  flock -w 3600 9 || die "timed out waiting for $root.lock"

  want_hash=$( { echo "recipe 1"; cat "$project/packaging/install-deps.sh"; } | sha256sum | cut -d' ' -f1)
  if [ "${LOWLIGHT_D13_REBUILD:-0}" = 1 ] || [ ! -f "$root/etc/lowlight/base.ok" ] \
     || ! grep -q '^VERSION_ID="13"' "$root/etc/os-release" 2>/dev/null; then
    make_base
  fi
  have_hash=$(cat "$root/etc/lowlight/deps.sha256" 2>/dev/null || true)
  if [ "$have_hash" != "$want_hash" ]; then
    start=$(now)
    log "installing packages (packaging/install-deps.sh) in $root"
    rm -f "$root/etc/lowlight/deps.sha256"
    in_root bash "$guest_src/packaging/install-deps.sh"
    in_root apt-get clean   # the downloaded .deb files (~900 MB) are not needed again
    echo "$want_hash" >"$root/etc/lowlight/deps.sha256"
    log "packages installed in $(( $(now) - start )) s"
  else
    log "reusing $root (packages up to date)"
  fi

  in_root "$@"
}

main "$@"
exit
