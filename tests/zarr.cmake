# The Zarr driver's tests beyond its unit test: interop with Debian's
# python3-zarr both ways, and its fuzz target (metadata and chunk decoding).
if(SL_HAVE_ZARR)
  list(APPEND SL_FUZZ_TARGETS zarr)
  sl_test(interop_zarr ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_zarr.py
          --shardload ${SL_CLI} --mpiexec ${SL_MPIEXEC})
  set_tests_properties(interop_zarr PROPERTIES LABELS interop TIMEOUT 900)
endif()
