# Parquet driver (src/formats/parquet/): our own reader, with Debian's codec
# libraries for page compression. SL_WITH_PARQUET=AUTO leaves the driver out
# (with a message) when a codec library is missing; ON makes that an error.
set(SL_WITH_PARQUET AUTO CACHE STRING "Parquet driver (AUTO|ON|OFF)")
if(NOT SL_WITH_PARQUET STREQUAL "OFF")
  find_path(SL_SNAPPY_INCLUDE snappy-c.h)
  find_library(SL_SNAPPY_LIB snappy)
  find_path(SL_ZSTD_INCLUDE zstd.h)
  find_library(SL_ZSTD_LIB zstd)
  find_path(SL_LZ4_INCLUDE lz4.h)
  find_library(SL_LZ4_LIB lz4)
  find_path(SL_BROTLI_INCLUDE brotli/decode.h)
  find_library(SL_BROTLI_LIB brotlidec)
  find_package(ZLIB)
  set(_sl_pq_missing "")
  foreach(v SL_SNAPPY_INCLUDE SL_SNAPPY_LIB SL_ZSTD_INCLUDE SL_ZSTD_LIB SL_LZ4_INCLUDE
            SL_LZ4_LIB SL_BROTLI_INCLUDE SL_BROTLI_LIB)
    if(NOT ${v})
      list(APPEND _sl_pq_missing ${v})
    endif()
  endforeach()
  if(NOT ZLIB_FOUND)
    list(APPEND _sl_pq_missing zlib)
  endif()
  if(_sl_pq_missing)
    sl_dependency(SL_WITH_PARQUET FALSE
      "a Parquet codec library (${_sl_pq_missing}; install libsnappy-dev libzstd-dev liblz4-dev libbrotli-dev zlib1g-dev)")
    message(STATUS "Parquet driver left out: missing ${_sl_pq_missing} "
                   "(install libsnappy-dev libzstd-dev liblz4-dev libbrotli-dev zlib1g-dev)")
  else()
    set(SL_HAVE_PARQUET 1)
    set(_sl_pq ${CMAKE_CURRENT_LIST_DIR}/parquet)
    list(APPEND SL_FORMAT_SOURCES ${_sl_pq}/thrift.c ${_sl_pq}/footer.c ${_sl_pq}/decode.c
                                  ${_sl_pq}/codec.c ${_sl_pq}/column.c ${_sl_pq}/parquet.c
                                  ${_sl_pq}/write.c)
    # plain library paths, not ZLIB::ZLIB: the exported static library's link
    # interface must not name a target the consumer has not imported
    list(APPEND SL_FORMAT_LIBS ${SL_SNAPPY_LIB} ${SL_ZSTD_LIB} ${SL_LZ4_LIB} ${SL_BROTLI_LIB}
         ${ZLIB_LIBRARIES} m)
    list(APPEND SL_FORMAT_INCLUDES ${SL_SNAPPY_INCLUDE} ${SL_ZSTD_INCLUDE} ${SL_LZ4_INCLUDE}
         ${SL_BROTLI_INCLUDE}
         ${ZLIB_INCLUDE_DIRS})
    list(APPEND SL_FEATURES parquet)
  endif()
endif()
