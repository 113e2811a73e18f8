# Log ingest: parse + fold + metrics + tail model throughput, and event-loop stalls while a
# log streams in. Figures are printed, never asserted.
kd_add_test(bench_log_ingest SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_log_ingest.cpp LIBS kaggledeck_core LABELS bench TIMEOUT 600)
