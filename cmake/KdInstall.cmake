# Desktop integration installed next to the executables (their install() rules live in app/):
# a freedesktop .desktop entry, hicolor icons (scalable SVG + PNGs from 16 to 256 px) and an
# AppStream metainfo file. All three carry the same reverse-DNS id, KD_APP_ID.
#
# The PNGs in resources/linux/icons are rendered from resources/icons/kaggledeck.svg with Qt's
# QSvgRenderer (antialiased, transparent background). Re-render them when the SVG changes, e.g.
# with rsvg-convert (package librsvg2-bin):
#   for s in 16 22 24 32 48 64 128 256; do
#     rsvg-convert -w $s -h $s resources/icons/kaggledeck.svg -o resources/linux/icons/kaggledeck-$s.png
#   done
# Included from the top-level CMakeLists.txt after include(GNUInstallDirs).

set(KD_APP_ID "io.github.kaggledeck.KaggleDeck")
set(KD_HOMEPAGE "https://github.com/kaggledeck/kaggledeck"
    CACHE STRING "Project home page (AppStream metainfo and the Debian package)")
set(KD_SCREENSHOT_BASE "https://raw.githubusercontent.com/kaggledeck/kaggledeck/main/resources/screenshots"
    CACHE STRING "Where AppStream clients download resources/screenshots/*.png from")
# Bump together with project(VERSION): the metainfo's <release> entry for this version.
set(KD_RELEASE_DATE "2026-11-28")

set(KD_ICON_SIZES 16 22 24 32 48 64 128 256)
set(_kd_linux ${PROJECT_SOURCE_DIR}/resources/linux)

# qt_standard_project_setup() gives installed executables RUNPATH $ORIGIN:$ORIGIN/../lib; ours link
# only static project libraries and system libraries, so the installed ones need none.
foreach(exe kaggledeck kaggledeck-cli kaggle-sim)
    if(TARGET ${exe})
        set_target_properties(${exe} PROPERTIES INSTALL_RPATH "")
    endif()
endforeach()

if(UNIX AND NOT APPLE)
    install(FILES ${_kd_linux}/${KD_APP_ID}.desktop
            DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)

    install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/kaggledeck.svg
            DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps
            RENAME ${KD_APP_ID}.svg)
    foreach(size IN LISTS KD_ICON_SIZES)
        install(FILES ${_kd_linux}/icons/kaggledeck-${size}.png
                DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps
                RENAME ${KD_APP_ID}.png)
    endforeach()

    configure_file(${_kd_linux}/${KD_APP_ID}.metainfo.xml.in
                   ${PROJECT_BINARY_DIR}/${KD_APP_ID}.metainfo.xml @ONLY)
    install(FILES ${PROJECT_BINARY_DIR}/${KD_APP_ID}.metainfo.xml
            DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
endif()
