# Parquet driver: our own reader (no Parquet C library in Debian 12); pages
# are decompressed through the library's codec table. SL_WITH_PARQUET=OFF
# leaves it out.
set(SL_WITH_PARQUET AUTO CACHE STRING "Parquet driver (AUTO|ON|OFF)")
if(NOT SL_WITH_PARQUET STREQUAL "OFF")
  set(SL_HAVE_PARQUET 1)
  set(_sl_pq ${CMAKE_CURRENT_LIST_DIR})
  list(APPEND SL_FORMAT_SOURCES ${_sl_pq}/thrift.c ${_sl_pq}/footer.c ${_sl_pq}/schema.c
       ${_sl_pq}/pages.c ${_sl_pq}/pagemap.c ${_sl_pq}/snappy_index.c ${_sl_pq}/decode.c
       ${_sl_pq}/column.c ${_sl_pq}/parquet.c ${_sl_pq}/write.c ${_sl_pq}/inspect.c)
  list(APPEND SL_FORMAT_INCLUDES ${_sl_pq})
  list(APPEND SL_DRIVER_NAMES parquet)
endif()
