/* Fuzz target for the Parquet footer, through the driver on a memory
   source: the Thrift compact reader, the FileMetaData parser, the schema
   walk, the column selection and, for small files, decoding every row.
   Input is a whole file, or bare FileMetaData bytes, which are framed as a
   file (PAR1, the bytes, their length, PAR1); the same bytes are also parsed
   as an OffsetIndex, whose accepted pages must be in order. Any bytes must
   give SL_OK or a one-line error, never a crash, hang, leak or
   out-of-bounds read. */
#undef NDEBUG /* the checks below are the point, in every build type */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/pq.h"
#include "sl_tshard.h"

extern const sl_driver sl__parquet_driver;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void as_file(const uint8_t *data, size_t size) {
  bool whole = size >= 12 && memcmp(data + size - 4, "PAR1", 4) == 0;
  uint8_t *framed = whole ? NULL : malloc(size + 12);
  if (framed != NULL) {
    memcpy(framed, "PAR1", 4);
    memcpy(framed + 4, data, size);
    for (int i = 0; i < 4; i++) framed[4 + size + (size_t)i] = (uint8_t)(size >> (8 * i));
    memcpy(framed + size + 8, "PAR1", 4);
  }
  sl_shard_info info = {0};
  sl_error err = {0};
  if (tshard_memory_all(&sl__parquet_driver, framed ? framed : data, framed ? size + 12 : size,
                        NULL, 1 << 20, &info, &err) != SL_OK)
    assert(err.code != SL_OK && strchr(err.message, '\n') == NULL);
  free(framed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  as_file(data, size);
  pq_loc *locs;
  size_t n;
  bool oom;
  if (pq_parse_offset_index(data, size, 4, 1 << 30, 1 << 20, &locs, &n, &oom) != NULL) {
    assert(locs == NULL && n == 0);
    return 0;
  }
  assert(n > 0 && locs[0].first_row == 0);
  for (size_t i = 1; i < n; i++)
    assert(locs[i].first_row > locs[i - 1].first_row &&
           locs[i].offset >= locs[i - 1].offset + locs[i - 1].size);
  sl__free(locs);
  return 0;
}
