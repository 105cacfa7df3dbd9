/* Fuzz target for the Arrow IPC driver (files and streams): footer or
   message scan, schema, column selection,
   record batch metadata and, for small files, decoding every row
   (decompression, bitmaps, nulls), all through the driver on a memory
   source. Any bytes must give SL_OK with a sane shape or an error, never a
   crash, hang or out-of-bounds read.
   Built with clang -fsanitize=fuzzer it is a libFuzzer target; otherwise
   replay.c feeds it the committed corpus under ASan/UBSan in CTest. */
#undef NDEBUG /* the checks below are the point, in every build type */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sl_tshard.h"

extern const sl_driver sl__arrow_driver;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, const sl_open_options *o) {
  sl_shard_info info = {0};
  sl_error err = {0};
  if (tshard_memory_all(&sl__arrow_driver, data, size, o, 16 << 20, &info, &err) == SL_OK) {
    assert(info.ndim == 2 && info.shape[0] >= 0 && info.shape[1] >= 1);
    assert(sl_dtype_size(info.dtype) > 0);
  } else {
    assert(err.code != SL_OK && strchr(err.message, '\n') == NULL);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_open_options o;
  sl_open_options_init(&o);
  one(data, size, NULL);
  o.fill_nulls = "0"; /* the null-replacing path too */
  one(data, size, &o);
  o.dtype = "float64"; /* and converting while interleaving */
  o.cast = "unsafe";
  one(data, size, &o);
  return 0;
}
