/* The defaults of the public option and stats structs. Each starts with
   struct_size, so that the library can tell how much of it a caller built
   against an older header filled in (core/read.c reads no further). */
#include <string.h>

#include "base.h"

#define SL_DEFAULT_CHUNK (16 << 20)

void sl_open_options_init(sl_open_options *o) {
  memset(o, 0, sizeof *o);
  o->struct_size = sizeof *o;
}

void sl_read_options_init(sl_read_options *o) {
  memset(o, 0, sizeof *o);
  o->struct_size = sizeof *o;
  o->variant = SL_VARIANT_AUTO;
  o->io = SL_IO_AUTO;
  o->chunk_bytes = SL_DEFAULT_CHUNK;
  o->partition = SL_PARTITION_BALANCED;
  o->min_rows = 1;
}

void sl_read_stats_init(sl_read_stats *s) {
  memset(s, 0, sizeof *s);
  s->struct_size = sizeof *s;
}
