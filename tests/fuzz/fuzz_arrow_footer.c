/* Fuzz target for the Arrow IPC file parser: footer, schema, column
   selection, record batch metadata and, for small files, decoding every row
   (decompression, bitmaps, nulls). Any bytes must give SL_OK with a sane
   shape or an error, never a crash, hang or out-of-bounds read.
   Built with clang -fsanitize=fuzzer it is a libFuzzer target; otherwise
   replay.c feeds it the committed corpus under ASan/UBSan in CTest. */
#undef NDEBUG /* the checks below are the point, in every build type */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../src/formats/arrow/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, const sl_open_options *o) {
  sl_shard_info info;
  sl_error err = {0};
  if (sl__arrow_parse_buffer(data, size, o, &info, &err) == SL_OK) {
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
  return 0;
}
