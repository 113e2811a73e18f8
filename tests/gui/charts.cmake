# The chart widgets (Timeline, Metrics, the quota panel) against the in-process simulator.
kd_add_test(tst_charts SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_charts.cpp
    LIBS kaggledeck_ui kaggledeck_sim LABELS gui TIMEOUT 300)
target_compile_definitions(tst_charts PRIVATE KD_SCREENSHOT_DIR="${KD_SCREENSHOT_DIR}")
kd_add_test(tst_quotapanel SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_quotapanel.cpp
    LIBS kaggledeck_ui kaggledeck_sim LABELS gui TIMEOUT 300)
target_compile_definitions(tst_quotapanel PRIVATE KD_SCREENSHOT_DIR="${KD_SCREENSHOT_DIR}")
