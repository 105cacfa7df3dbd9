# Parquet driver tests: the unit test (tests/unit/test_parquet.c) is
# picked up with the other driver tests; the fixture cases parquet_* are
# registered by tests/CMakeLists.txt once SL_HAVE_PARQUET is set. Here: the
# fuzz targets for the footer (Thrift, FileMetaData, schema) and for pages
# (headers, codecs, levels, encodings), replayed over a committed corpus, and
# the DuckDB interop test. Its test-data step installs @duckdb/node-api with
# npm into the build tree (never the source tree); offline it is skipped.
if(SL_HAVE_PARQUET)
  list(APPEND SL_FUZZ_TARGETS parquet_footer parquet_page)
  sl_test(interop_parquet_duckdb ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_parquet.py
          --shardload ${SL_CLI} --mpiexec ${SL_MPIEXEC}
          --node-dir ${CMAKE_BINARY_DIR}/interop-node)
  set_tests_properties(interop_parquet_duckdb PROPERTIES LABELS interop TIMEOUT 900)
endif()
# Parquet written by arrow-rs (npm parquet-wasm) and Arrow IPC written by
# apache-arrow JS: every encoding and codec, made from numpy's values in a
# test-data step that installs the writers into the build tree.
if(SL_HAVE_PARQUET AND SL_HAVE_ARROW)
  sl_test(interop_arrow_writers ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_arrow_writers.py
          --shardload ${SL_CLI} --mpiexec ${SL_MPIEXEC}
          --node-dir ${CMAKE_BINARY_DIR}/interop-node-arrow)
  set_tests_properties(interop_arrow_writers PROPERTIES LABELS interop TIMEOUT 900)
endif()
