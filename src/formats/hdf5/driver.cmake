# HDF5 driver (libhdf5-dev). SL_WITH_HDF5=AUTO leaves it out when HDF5 is
# missing; ON makes that an error. Deflate chunks are inflated through the
# codec table (zlib), outside HDF5's lock.
if(NOT SL_WITH_HDF5 STREQUAL "OFF")
  find_package(HDF5 COMPONENTS C)
  sl_dependency(SL_WITH_HDF5 HDF5_FOUND "HDF5 (libhdf5-dev)")
  if(HDF5_FOUND)
    set(SL_HAVE_HDF5 1)
    set(_sl_h5 ${CMAKE_CURRENT_LIST_DIR})
    list(APPEND SL_FORMAT_SOURCES ${_sl_h5}/lock.c ${_sl_h5}/names.c ${_sl_h5}/types.c
         ${_sl_h5}/foreign.c
         ${_sl_h5}/storage.c ${_sl_h5}/chunks.c ${_sl_h5}/hdf5.c ${_sl_h5}/write.c
         ${_sl_h5}/inspect.c)
    list(APPEND SL_FORMAT_LIBS ${HDF5_C_LIBRARIES})
    list(APPEND SL_FORMAT_INCLUDES ${HDF5_C_INCLUDE_DIRS})
    list(APPEND SL_FORMAT_DEFINITIONS ${HDF5_C_DEFINITIONS})
    list(APPEND SL_DRIVER_NAMES hdf5)
    string(APPEND SL_PC_REQUIRES_PRIVATE " hdf5")
  endif()
endif()
