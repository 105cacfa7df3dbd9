/* Fuzz target for the Parquet footer: the Thrift compact reader, the
   FileMetaData parser, the schema walk and the column selection. Input is a
   whole file (footer found by its trailing length and PAR1) or bare
   FileMetaData bytes; the same bytes are also parsed as an OffsetIndex,
   whose accepted pages must be in order. Any bytes must give SL_OK or a one-line error, never a
   crash, hang, leak or out-of-bounds read. */
#undef NDEBUG /* the checks below are the point, in every build type */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/parquet/pq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_error err = {0};
  if (sl__parquet_parse_footer(data, size, &err) != SL_OK)
    assert(err.code != SL_OK && strchr(err.message, '\n') == NULL);
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
