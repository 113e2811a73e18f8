# The Output -> Dataset dialog and the chain dialog/view against the in-process simulator.
kd_add_test(tst_outputdatasetdialog SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_outputdatasetdialog.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/detailsfixture.h
    LIBS kaggledeck_ui kaggledeck_sim LABELS gui TIMEOUT 300)
target_compile_definitions(tst_outputdatasetdialog PRIVATE KD_SCREENSHOT_DIR="${KD_SCREENSHOT_DIR}")
kd_add_test(tst_chainview SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_chainview.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/detailsfixture.h
    LIBS kaggledeck_ui kaggledeck_sim LABELS gui TIMEOUT 300)
target_compile_definitions(tst_chainview PRIVATE KD_SCREENSHOT_DIR="${KD_SCREENSHOT_DIR}")
