/* Fuzz target for the npy driver: its real header parser (and, for small
   images, its read) run on the bytes as a memory source. Any bytes must
   give SL_OK with a sane shape or an error, never a crash, hang or
   out-of-bounds read.
   Built with clang -fsanitize=fuzzer it is a libFuzzer target; otherwise
   replay.c feeds it the committed corpus under ASan/UBSan in CTest. */
#undef NDEBUG /* the checks below are the point, in every build type */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sl_tshard.h"

extern const sl_driver sl__npy_driver;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_shard_info info = {0};
  sl_error err = {0};
  if (tshard_memory_all(&sl__npy_driver, data, size, NULL, 1 << 20, &info, &err) == SL_OK) {
    assert(info.ndim >= 1 && info.ndim <= SL_MAX_DIMS);
    assert(sl_dtype_size(info.dtype) > 0);
  } else {
    assert(err.code != SL_OK && strchr(err.message, '\n') == NULL);
  }
  return 0;
}
