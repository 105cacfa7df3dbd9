# Zarr v2/v3 driver: cJSON for metadata, chunk codecs from the shared codec
# table (Blosc: libblosc-dev, BZ2: libbz2-dev, found with the codecs).
set(_sl_zarr ${CMAKE_CURRENT_LIST_DIR})
list(APPEND SL_FORMAT_SOURCES ${_sl_zarr}/meta.c ${_sl_zarr}/chunk.c ${_sl_zarr}/zarr.c
     ${_sl_zarr}/write.c ${_sl_zarr}/inspect.c)
list(APPEND SL_DRIVER_NAMES zarr)
set(SL_HAVE_ZARR 1)
