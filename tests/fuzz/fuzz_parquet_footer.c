/* Fuzz target for the Parquet footer: the Thrift compact reader, the
   FileMetaData parser, the schema walk and the column selection. Input is a
   whole file (footer found by its trailing length and PAR1) or bare
   FileMetaData bytes. Any bytes must give SL_OK or a one-line error, never a
   crash, hang, leak or out-of-bounds read. */
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
  return 0;
}
