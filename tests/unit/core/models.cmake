# Chart and quota panel models: stitched metric series over a chain's sessions, the quota rows
# and the hours per run and chain. Real stores on temporary files, QAbstractItemModelTester.
kd_add_test(tst_metricseriesmodel SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_metricseriesmodel.cpp LIBS kaggledeck_core LABELS unit)
kd_add_test(tst_quotamodel SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_quotamodel.cpp LIBS kaggledeck_core LABELS unit)
