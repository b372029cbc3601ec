#!/bin/sh
# gimp-plugin/install-user.sh with a fresh HOME, as a user who never started GIMP: afterwards GIMP's own
# profile folders exist, GIMP starts and exits without errors and registers the plug-in (and its help
# domain), a second install changes nothing but the plug-in's files, and a profile that an earlier version of
# the script started (only plug-ins/ in it, GIMP's folders missing) is completed.
# Usage: install_user_check.sh <install-user.sh> <plug-in binary> <gimp-console> <2|3>
set -eu
installer=$1
plugin=$2
console=$3
version=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "$version" = 3 ]; then
  profile_name=3.0
  env_profile=GIMP3_DIRECTORY
else
  profile_name=2.10
  env_profile=GIMP2_DIRECTORY
fi


# A clean environment: the user's own profile variables must not leak in.
run() {
  home=$1
  shift
  env -u DISPLAY -u GIMP2_DIRECTORY -u GIMP3_DIRECTORY -u XDG_CONFIG_HOME -u LOWLIGHT_MODEL_PATH HOME="$home" "$@"
}

check_profile() {
  profile=$1
  for folder in brushes gradients palettes patterns scripts plug-ins/lowlight-enhance/help/en; do
    [ -d "$profile/$folder" ] || fail "$profile/$folder does not exist"
  done
  [ -x "$profile/plug-ins/lowlight-enhance/lowlight-enhance" ] || fail "no plug-in binary in $profile"
  ls "$profile/plug-ins/lowlight-enhance/"*.safetensors >/dev/null 2>&1 || fail "no model beside the plug-in"
}

# GIMP starts with the installed plug-in and exits cleanly.
check_gimp() {
  home=$1
  if [ "$version" = 3 ]; then
    set -- -i -d -f --quit
  else
    set -- -i -d -f -b '(gimp-quit 0)'
  fi
  run "$home" timeout 240 "$console" "$@" >"$work/gimp.log" 2>&1 || { cat "$work/gimp.log"; fail "GIMP failed"; }
  # GIMP 3 greets a profile it has not run with before as a console warning ("Welcome to GIMP 3.0.4!"): not an
  # error.
  if grep -v "GIMP-Warning: Welcome to GIMP" "$work/gimp.log" |
       grep -E "GIMP-(Error|Warning)|Failed to save|does not exist|crashed"; then
    fail "GIMP reported errors (above)"
  fi
}

# 1. Never started GIMP: the profile does not exist.
home=$work/fresh
mkdir -p "$home"
run "$home" sh "$installer" "$plugin" >"$work/install1.log" 2>&1 || { cat "$work/install1.log"; fail "install failed"; }
cat "$work/install1.log"
profile=$home/.config/GIMP/$profile_name
check_profile "$profile"
grep -q "into $profile/plug-ins/lowlight-enhance" "$work/install1.log" || fail "install did not say where it went"
grep -q "Filters > Enhance > Low-Light Enhance" "$work/install1.log" || fail "install did not name the menu"
echo "user data" >"$profile/gradients/mine.ggr"
# 2. Again: harmless.
run "$home" sh "$installer" "$plugin" >"$work/install2.log" 2>&1 || { cat "$work/install2.log"; fail "second install failed"; }
check_profile "$profile"
[ "$(cat "$profile/gradients/mine.ggr")" = "user data" ] || fail "the second install changed the user's files"
check_gimp "$home"
grep -q "lowlight-enhance" "$profile/pluginrc" || fail "GIMP did not register the plug-in (pluginrc)"
if [ "$version" = 2 ]; then
  grep -q 'help-def "lowlight-enhance"' "$profile/pluginrc" || fail "the plug-in registered no help domain"
fi

# 3. A profile an earlier install-user.sh started: only plug-ins/lowlight-enhance in it.
home=$work/partial
mkdir -p "$home/.config/GIMP/$profile_name/plug-ins/lowlight-enhance"
run "$home" sh "$installer" "$plugin" >"$work/install3.log" 2>&1 || { cat "$work/install3.log"; fail "repairing install failed"; }
check_profile "$home/.config/GIMP/$profile_name"
[ -z "$(ls -d "$home/.config/GIMP/$profile_name".lowlight-new.* 2>/dev/null)" ] || fail "a temporary profile was left"
check_gimp "$home"
echo "install-user.sh: fresh, repeated and partial profiles OK ($env_profile unset, HOME only)"
