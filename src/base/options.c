/* The defaults of the public option and stats structs. Each starts with
   struct_size: the caller's sizeof, which the _init macros pass in, so
   that neither a library newer than the caller's header writes past its
   struct here, nor core/read.c reads past it later. Fields the library
   does not know (a caller newer than the library) are left zero. */
#include <string.h>

#include "base.h"

#define SL_DEFAULT_CHUNK (16 << 20)

/* Copies the library's defaults into the caller's size bytes. */
static void put(void *dst, size_t size, const void *defaults, size_t full) {
  memset(dst, 0, size);
  memcpy(dst, defaults, SL_MIN(size, full));
  size_t keep = SL_MIN(size, full);
  memcpy(dst, &keep, SL_MIN(size, sizeof keep)); /* struct_size comes first */
}

void sl_open_options_init_size(sl_open_options *o, size_t size) {
  sl_open_options d;
  memset(&d, 0, sizeof d);
  put(o, size, &d, sizeof d);
}

void sl_read_options_init_size(sl_read_options *o, size_t size) {
  sl_read_options d;
  memset(&d, 0, sizeof d);
  d.variant = SL_VARIANT_AUTO;
  d.io = SL_IO_AUTO;
  d.chunk_bytes = SL_DEFAULT_CHUNK;
  d.partition = SL_PARTITION_BALANCED;
  d.min_rows = 1;
  d.memory = SL_MEMORY_HOST;
  d.device = -1;
  d.gds = SL_GDS_AUTO;
  d.progress_ms = 200; /* a few updates a second */
  put(o, size, &d, sizeof d);
}

void sl_read_stats_init_size(sl_read_stats *s, size_t size) {
  sl_read_stats d;
  memset(&d, 0, sizeof d);
  d.device = -1;
  put(s, size, &d, sizeof d);
}

/* A struct_size above this is garbage, not a newer caller. */
#define SL_STRUCT_MAX (1u << 16)

sl_status sl__struct_check(const void *in, size_t first, const char *name, const char *init,
                           sl_error *err) {
  size_t n;
  memcpy(&n, in, sizeof n);
  if (n < first || n > SL_STRUCT_MAX)
    SL_FAIL(err, SL_EINVAL, "%s.struct_size is %zu: initialise it with %s", name, n, init);
  return SL_OK;
}

sl_status sl__struct_in(const void *in, void *out, size_t size, size_t first, const char *name,
                        const char *init, sl_error *err) {
  SL_TRY(sl__struct_check(in, first, name, init, err));
  size_t n;
  memcpy(&n, in, sizeof n);
  memcpy(out, in, SL_MIN(n, size));
  memcpy(out, &size, sizeof size);
  return SL_OK;
}
