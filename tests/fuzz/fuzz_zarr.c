/* Fuzz target for the Zarr driver's metadata parser and chunk decoder: the
   input is metadata text (.zarray or zarr.json), then optionally a NUL and
   one chunk's bytes, decoded with the codecs that metadata names (for a
   sharded array, as one of its inner chunks). Any bytes must give SL_OK
   with a sane array or an error, never a crash, hang or out-of-bounds read.
   Built with clang -fsanitize=fuzzer it is a libFuzzer target; otherwise
   replay.c feeds it the committed corpus and the fixtures' zarr.json files
   under ASan/UBSan in CTest. */
#undef NDEBUG /* the checks below are the point, in every build type */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zarr/zarr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const zarr_array *a, const uint8_t *chunk, size_t n) {
  const zarr_pipe *p = a->sharded ? &a->inner : &a->chunk;
  int64_t m = sl__zarr_chunk_bytes(a, p);
  if (m <= 0 || m > (1 << 22)) return;
  uint8_t *out = malloc((size_t)m);
  zarr_work w = {0};
  sl_error err = {0};
  if (sl__zarr_decode(a, p, chunk, n, out, (size_t)m, &w, "fuzz", &err) != SL_OK)
    assert(err.code != SL_OK && strchr(err.message, '\n') == NULL);
  sl__zarr_work_free(&w);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, 0, size);
  size_t tn = nul ? (size_t)(nul - data) : size;
  for (int version = 2; version <= 3; version++) {
    zarr_array a;
    sl_error err = {0};
    if (sl__zarr_parse((const char *)data, tn, version, "fuzz.zarr", &a, &err) != SL_OK) {
      assert(err.code != SL_OK && strchr(err.message, '\n') == NULL);
      continue;
    }
    assert(a.nd >= 1 && a.nd <= SL_MAX_DIMS && sl_dtype_size(a.dtype) == a.esize);
    for (int k = 0; k < a.nd; k++) assert(a.shape[k] >= 0 && a.chunk.cs[k] >= 1);
    if (nul) decode(&a, nul + 1, size - tn - 1);
    sl__zarr_free(&a);
  }
  return 0;
}
