# The run monitor against bad input, over a routing fake transport (in the test file).
kd_add_test(tst_monitor_badinput SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_monitor_badinput.cpp
    LIBS kaggledeck_core LABELS unit)
