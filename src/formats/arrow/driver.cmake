# Arrow IPC file (Feather v2) driver: our own bounds-checked flatbuffers
# reader (no Arrow C library in Debian 12); compressed record batch bodies
# (LZ4_FRAME, ZSTD) go through the library's codec table.
set(SL_HAVE_ARROW 1)
list(APPEND SL_FORMAT_SOURCES ${CMAKE_CURRENT_LIST_DIR}/flatbuf.c ${CMAKE_CURRENT_LIST_DIR}/ipc.c
     ${CMAKE_CURRENT_LIST_DIR}/decode.c ${CMAKE_CURRENT_LIST_DIR}/arrow.c
     ${CMAKE_CURRENT_LIST_DIR}/inspect.c)
list(APPEND SL_FORMAT_INCLUDES ${CMAKE_CURRENT_LIST_DIR})
list(APPEND SL_DRIVER_NAMES arrow)
