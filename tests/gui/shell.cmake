# The dashboard window (MainWindow and its shell widgets) against the in-process simulator,
# and a smoke test of the real executable in demo mode under Xvfb.
kd_add_test(tst_mainwindow SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_mainwindow.cpp
    LIBS kaggledeck_ui kaggledeck_sim LABELS gui TIMEOUT 600)
target_compile_definitions(tst_mainwindow PRIVATE KD_SCREENSHOT_DIR="${KD_SCREENSHOT_DIR}")

add_test(NAME smoke_demo
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/smoke_demo.sh $<TARGET_FILE:kaggledeck> ${KD_SCREENSHOT_DIR})
set_tests_properties(smoke_demo PROPERTIES LABELS gui TIMEOUT 120 SKIP_RETURN_CODE 77)
