/* Fuzz target for the npy header parser: any bytes must give SL_OK with a
   sane shape or an error, never a crash, hang or out-of-bounds read.
   Built with clang -fsanitize=fuzzer it is a libFuzzer target; otherwise
   replay.c feeds it the committed corpus under ASan/UBSan in CTest. */
#undef NDEBUG /* the checks below are the point, in every build type */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sl_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sl_shard_info info;
  sl_error err = {0};
  if (sl__npy_parse_buffer(data, size, &info, &err) == SL_OK) {
    assert(info.ndim >= 1 && info.ndim <= SL_MAX_DIMS);
    assert(sl_dtype_size(info.dtype) > 0);
  } else {
    assert(err.code != SL_OK && strchr(err.message, '\n') == NULL);
  }
  return 0;
}
