# Arrow IPC file (Feather v2) driver: our own bounds-checked flatbuffers
# reader (no Arrow C library in Debian 12), LZ4 frame and ZSTD for
# compressed record batch bodies. Left out, with a message, when either
# codec library is missing.
find_path(SL_LZ4_INCLUDE_DIR lz4frame.h)
find_library(SL_LZ4_LIBRARY lz4)
find_path(SL_ZSTD_INCLUDE_DIR zstd.h)
find_library(SL_ZSTD_LIBRARY zstd)
if(SL_LZ4_INCLUDE_DIR AND SL_LZ4_LIBRARY AND SL_ZSTD_INCLUDE_DIR AND SL_ZSTD_LIBRARY)
  set(SL_HAVE_ARROW 1)
  list(APPEND SL_FORMAT_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/arrow/flatbuf.c
    ${CMAKE_CURRENT_LIST_DIR}/arrow/ipc.c
    ${CMAKE_CURRENT_LIST_DIR}/arrow/decode.c
    ${CMAKE_CURRENT_LIST_DIR}/arrow/arrow.c)
  list(APPEND SL_FORMAT_LIBS ${SL_LZ4_LIBRARY} ${SL_ZSTD_LIBRARY} m)
  list(APPEND SL_FORMAT_INCLUDES ${SL_LZ4_INCLUDE_DIR} ${SL_ZSTD_INCLUDE_DIR}
       ${CMAKE_CURRENT_LIST_DIR}/arrow)
  list(APPEND SL_FEATURES arrow)
else()
  message(STATUS "Arrow IPC driver left out: needs liblz4-dev and libzstd-dev")
endif()
