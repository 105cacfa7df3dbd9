/* Fuzz target for Parquet pages: page headers, decompression, levels and
   every value encoding. The first four bytes choose the physical type, the
   codec and the definition and repetition levels; the rest is a column chunk
   of a 256-row group (a list of 4 values per row when there is a repetition
   level). Any bytes must decode or fail with a one-line error. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/parquet/pq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int types[] = {PQ_BOOLEAN, PQ_INT32, PQ_INT64, PQ_FLOAT, PQ_DOUBLE, PQ_FLBA};
  static const int codecs[] = {PQ_UNCOMPRESSED, PQ_SNAPPY, PQ_GZIP, PQ_ZSTD, PQ_LZ4_RAW, 4};
  if (size < 4) return 0;
  int max_rep = data[3] & 1;
  int max_def = data[2] % 4;
  if (max_rep && max_def == 0) max_def = 1; /* a list needs a definition level */
  sl_error err = {0};
  sl_status st = sl__parquet_decode_chunk(data + 4, size - 4, types[data[0] % 6],
                                          codecs[data[1] % 6], max_def, max_rep, &err);
  if (st != SL_OK) assert(err.code != SL_OK && strchr(err.message, '\n') == NULL);
  return 0;
}
