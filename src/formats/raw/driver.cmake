# Raw binary driver: the sidecar _meta.json is read with cJSON (required by
# the whole build anyway).
list(APPEND SL_FORMAT_SOURCES ${CMAKE_CURRENT_LIST_DIR}/raw.c)
list(APPEND SL_DRIVER_NAMES raw)
set(SL_HAVE_RAW 1)
