/* Fuzz target for Parquet pages: page headers, decompression, levels and
   every value encoding. The first four bytes choose the physical type, the
   codec and the definition and repetition levels; the rest is a column chunk
   (a list of 4 values per row when there is a repetition level) whose first
   256 rows are decoded. Any bytes must decode or fail with a one-line error.

   Where the first 256 rows decode, rows [lo, 256) (lo from the second byte)
   are decoded again from only the pages that hold them, located from the
   page headers as for a file without an OffsetIndex: they must come out the
   same, and for a flat column they must decode at all. */
#undef NDEBUG /* the checks below are the point, in every build type */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/parquet/pq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ROWS = 256, ROW_MAX = 4 * 8 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int types[] = {PQ_BOOLEAN, PQ_INT32, PQ_INT64, PQ_FLOAT, PQ_DOUBLE, PQ_FLBA};
  static const int codecs[] = {PQ_UNCOMPRESSED, PQ_SNAPPY, PQ_GZIP, PQ_ZSTD, PQ_LZ4_RAW, 4};
  static uint8_t whole[ROWS * ROW_MAX], part[ROWS * ROW_MAX];
  if (size < 4) return 0;
  int type = types[data[0] % 6], codec = codecs[data[1] % 6];
  int max_rep = data[3] & 1;
  int max_def = data[2] % 4;
  if (max_rep && max_def == 0) max_def = 1; /* a list needs a definition level */
  sl_error err = {0};
  sl_status st = sl__parquet_decode_rows(data + 4, size - 4, type, codec, max_def, max_rep, 0,
                                         ROWS, false, whole, &err);
  if (st != SL_OK) {
    assert(err.code != SL_OK && strchr(err.message, '\n') == NULL);
    return 0;
  }
  int64_t lo = (data[1] / 6) * 6; /* 0..252 */
  memcpy(part, whole, sizeof part);
  err = (sl_error){0};
  st = sl__parquet_decode_rows(data + 4, size - 4, type, codec, max_def, max_rep, lo, ROWS,
                               true, part, &err);
  if (st != SL_OK) assert(max_rep && err.code != SL_OK && strchr(err.message, '\n') == NULL);
  else assert(memcmp(part, whole, sizeof part) == 0);
  return 0;
}
