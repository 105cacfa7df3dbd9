# HDF5 driver tests beyond the unit test (tests/unit/test_hdf5.c) and the
# h5_* fixtures: shards whose data lies in other files (external storage,
# virtual datasets, external links: refused, or read inside the shard's
# directory with --hdf5-allow-external), and the HDF5 fuzz target: small
# h5py files mutated from a seed for 20 s, plus the committed inputs that
# once crashed or printed HDF5's own errors (tests/fuzz/corpus/hdf5), each
# of which must end in exit 0 or 1 with one line naming the file.
if(SL_HAVE_HDF5)
  # H5Dread/H5Lvisit that segfault on chosen files, preloaded: the crash
  # handler's test at 1 and 3 ranks without depending on HDF5's bugs.
  add_library(sl_h5_fault_shim MODULE interop/h5_fault_shim.c)
  target_include_directories(sl_h5_fault_shim PRIVATE ${HDF5_C_INCLUDE_DIRS})
  target_link_libraries(sl_h5_fault_shim PRIVATE ${HDF5_C_LIBRARIES} ${CMAKE_DL_LIBS})
  sl_test(interop_h5py_hostile ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/interop/test_h5py_hostile.py
          --shardload ${SL_CLI} --mpiexec ${SL_MPIEXEC}
          --shim $<TARGET_FILE:sl_h5_fault_shim>)
  set_tests_properties(interop_h5py_hostile PROPERTIES LABELS interop TIMEOUT 300)
  sl_test(fuzz_hdf5_mutate ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/hdf5_mutate.py
          --shardload ${SL_CLI} --seconds 20 --seed 1)
  set_tests_properties(fuzz_hdf5_mutate PROPERTIES LABELS fuzz TIMEOUT 300)
  sl_test(fuzz_hdf5_corpus ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/hdf5_mutate.py
          --shardload ${SL_CLI} --replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/hdf5)
  set_tests_properties(fuzz_hdf5_corpus PROPERTIES LABELS fuzz TIMEOUT 300)
endif()
