# Quota forecast and alert engine: pure logic, time always passed in.
kd_add_test(tst_quotaforecast SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_quotaforecast.cpp LIBS kaggledeck_core LABELS unit)
kd_add_test(tst_alertengine SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_alertengine.cpp LIBS kaggledeck_core LABELS unit)
