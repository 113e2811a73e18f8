# The local history store: API round trips, refusal of foreign/newer/damaged files, write
# failures, and durability under SIGKILL (a helper process writes while the test kills it).
kd_add_test(tst_store
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_store.cpp
    LIBS kaggledeck_core
    LABELS unit)

qt_add_executable(store_writer ${CMAKE_CURRENT_SOURCE_DIR}/store_writer.cpp)
target_link_libraries(store_writer PRIVATE kaggledeck_core kd_common_cfg)

kd_add_test(tst_store_crash
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tst_store_crash.cpp
    LIBS kaggledeck_core
    LABELS unit
    TIMEOUT 120)
target_compile_definitions(tst_store_crash PRIVATE
    KD_STORE_WRITER="$<TARGET_FILE:store_writer>")
add_dependencies(tst_store_crash store_writer)
