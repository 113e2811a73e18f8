# The main window's responsiveness with 100 streaming runs. Figures are printed, never asserted.
if(TARGET kaggledeck_ui)
    kd_add_test(bench_window SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_window.cpp
        LIBS kaggledeck_ui kaggledeck_sim LABELS bench TIMEOUT 600)
endif()
