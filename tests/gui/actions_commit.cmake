# The commit and persistence dialogs against the in-process simulator.
kd_add_test(tst_commitdialog SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_commitdialog.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/detailsfixture.h
    LIBS kaggledeck_ui kaggledeck_sim LABELS gui TIMEOUT 300)
target_compile_definitions(tst_commitdialog PRIVATE KD_SCREENSHOT_DIR="${KD_SCREENSHOT_DIR}")
