# Log tail and metrics: terminal folding, the tail model, the on-disk archive, metric parsing.
kd_add_test(tst_terminallog SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_terminallog.cpp LIBS kaggledeck_core LABELS unit)
kd_add_test(tst_logtailmodel SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_logtailmodel.cpp LIBS kaggledeck_core LABELS unit)
kd_add_test(tst_logarchive SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_logarchive.cpp LIBS kaggledeck_core LABELS unit)
kd_add_test(tst_metricsparser SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_metricsparser.cpp LIBS kaggledeck_core LABELS unit)
