# The Debian package: everything `cmake --install` installs (lowlight and lowlight-train in bin/ with man pages,
# the GIMP plug-in in GIMP's system plug-in folder, the models and the plug-in help in share/lowlight/), under
# /usr. Made from a configured and built tree: `cpack --config <build>/CPackConfig.cmake` (packaging/ci-deb.sh).
# Depends come from dpkg-shlibdeps (dpkg-dev) over the installed binaries, so they name the runtime
# libraries of the distribution it was built on: a package built on Debian 12 is for Debian 12
# (GIMP 2.10, LibTorch 1.13), one built on Debian 13 for Debian 13 (GIMP 3, LibTorch 2.6); the version
# says which (0.1.0+deb12).
set(os_version "")
if(EXISTS /etc/os-release)
  file(STRINGS /etc/os-release os_line REGEX "^VERSION_ID=")
  string(REGEX REPLACE "^VERSION_ID=\"?([0-9]+).*" "\\1" os_version "${os_line}")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME lowlight)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Lowlight contributors")
set(CPACK_PACKAGE_CONTACT "Lowlight contributors <lowlight@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "low-light photo enhancement (MIRNet): GIMP filter, command line tool and trainer")
set(CPACK_PACKAGE_DESCRIPTION
    "Brightens photos taken in low light with a MIRNet network trained on the LoL data set. Contains the GIMP "
    "filter Filters > Enhance > Low-Light Enhance..., the command line tool lowlight (enhance, evaluate, "
    "describe weight files), the trainer lowlight-train and the shipped model.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
if(os_version)
  set(CPACK_DEBIAN_PACKAGE_VERSION "${PROJECT_VERSION}+deb${os_version}")
endif()
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The filter is the main use, but the command line tools work without GIMP.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS gimp)
include(CPack)
