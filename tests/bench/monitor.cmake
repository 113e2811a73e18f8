# Monitoring cost (requests against the ideal, CPU per hour) and memory of many big logs.
# Figures are printed, never asserted.
kd_add_test(bench_monitor SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_monitor.cpp
    LIBS kaggledeck_core kaggledeck_sim LABELS bench TIMEOUT 900)
if(TARGET kaggle-sim)
    # The simulator as a separate process gives a client-only CPU figure.
    add_dependencies(bench_monitor kaggle-sim)
    target_compile_definitions(bench_monitor PRIVATE KD_KAGGLE_SIM="$<TARGET_FILE:kaggle-sim>")
endif()
kd_add_test(bench_memory SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_memory.cpp
    LIBS kaggledeck_core LABELS bench TIMEOUT 900)
