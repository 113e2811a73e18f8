# Actions (Output -> Dataset): safe output file names.
kd_add_test(tst_safepath SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_safepath.cpp LIBS kaggledeck_core LABELS unit)
