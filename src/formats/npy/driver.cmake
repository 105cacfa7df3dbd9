# NumPy .npy driver: no library of its own.
list(APPEND SL_FORMAT_SOURCES ${CMAKE_CURRENT_LIST_DIR}/npy.c)
list(APPEND SL_DRIVER_NAMES npy)
