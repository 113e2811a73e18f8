# CPack: a Debian package of everything `cmake --install` puts in place (the three executables
# and the desktop integration from KdInstall.cmake). Build it from a release build tree with
#   cmake --build build/release --target kaggledeck kaggledeck-cli kaggle-sim
#   cd build/release && cpack -G DEB          # -> kaggledeck_<version>-1_<arch>.deb
# Dependencies come from dpkg-shlibdeps (package dpkg-dev) plus the Qt SQLite driver, a plug-in
# the programs load at run time that no linker records.

set(KD_PACKAGE_MAINTAINER "KaggleDeck developers <kaggledeck@users.noreply.github.com>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "kaggledeck")
set(CPACK_PACKAGE_VENDOR "KaggleDeck")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${KD_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_HOMEPAGE_URL "${KD_HOMEPAGE}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Debian shows the long description as given: keep its lines short.
set(CPACK_PACKAGE_DESCRIPTION
    "KaggleDeck is a native Qt 6 desktop dashboard for people who fine-tune models
on Kaggle's free GPUs. It watches all your committed notebook runs in one
window: their states, live logs, metrics and time caps, your GPU and TPU quota
with a forecast, alerts, and epoch chains that resume training from the
previous run's output.
.
The package also holds kaggledeck-cli, a command-line client, and kaggle-sim,
a local Kaggle API simulator for trying KaggleDeck without an account.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_RELEASE "1")
set(CPACK_DEBIAN_PACKAGE_SECTION "devel")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${KD_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${KD_HOMEPAGE}")
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")

# The SQLite driver is a plug-in (QSqlDatabase "QSQLITE"), which dpkg-shlibdeps cannot see. The SVG
# icon engine plug-in ships in libqt6svg6, which kaggledeck links and shlibdeps lists.
set(_kd_plugin_depends "libqt6sql6-sqlite (>= 6.4)")
find_program(KD_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(KD_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS "${_kd_plugin_depends}")
else()
    # Without dpkg-dev: the Debian 12 runtime packages the executables link against.
    message(STATUS "dpkg-shlibdeps not found (package dpkg-dev): listing .deb dependencies by hand")
    set(CPACK_DEBIAN_PACKAGE_DEPENDS
        "libc6 (>= 2.34), libstdc++6 (>= 12), libgcc-s1 (>= 3.0), libqt6core6 (>= 6.4), \
libqt6gui6 (>= 6.4), libqt6widgets6 (>= 6.4), libqt6sql6 (>= 6.4), libqt6charts6 (>= 6.4), \
libqt6svg6 (>= 6.4), libcurl4 (>= 7.88), libcpp-httplib0.11 (>= 0.11), ${_kd_plugin_depends}")
endif()
# Wayland sessions need the Qt Wayland platform plug-in; X11 (xcb) comes with libqt6gui6.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-wayland, hicolor-icon-theme")

set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/;/build/;/\\\\.cache/")

include(CPack)
