# The detail tabs (Log, Info, Outputs) against the in-process simulator.
kd_add_test(tst_logview SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_logview.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/detailsfixture.h
    LIBS kaggledeck_ui kaggledeck_sim LABELS gui TIMEOUT 300)
target_compile_definitions(tst_logview PRIVATE KD_SCREENSHOT_DIR="${KD_SCREENSHOT_DIR}")
kd_add_test(tst_detailtabs SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_detailtabs.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/detailsfixture.h
    LIBS kaggledeck_ui kaggledeck_sim LABELS gui TIMEOUT 300)
target_compile_definitions(tst_detailtabs PRIVATE KD_SCREENSHOT_DIR="${KD_SCREENSHOT_DIR}")
