/* Step 5's optional check. The test pattern is a counter-based function of
 * (seed, global element index): `write` fills shards with it and any rank can
 * check its own tile alone, so verification never needs the whole array. */
#include <string.h>

#include "sl_internal.h"

static uint64_t mix(uint64_t x) { /* splitmix64's finaliser */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* Exactly representable values in [-1, 1): no rounding can differ between
   writer and checker. */
static float f32_of(uint64_t h) { return (float)((double)(h >> 40) * 0x1p-23 - 1.0); }
static double f64_of(uint64_t h) { return (double)(h >> 11) * 0x1p-52 - 1.0; }

/* A finite, normal half: exponent 1..29, any mantissa and sign. */
static uint16_t f16_of(uint64_t h) {
  return (uint16_t)(((h >> 63) << 15) | ((1 + (h >> 32) % 29) << 10) | (h & 0x3ff));
}

static void fill_one(sl_dtype t, uint64_t h, char *p) {
  switch (t) {
    case SL_BOOL: *(uint8_t *)p = (uint8_t)(h & 1); break;
    case SL_FLOAT16: { uint16_t v = f16_of(h); memcpy(p, &v, 2); break; }
    case SL_FLOAT32: { float v = f32_of(h); memcpy(p, &v, 4); break; }
    case SL_FLOAT64: { double v = f64_of(h); memcpy(p, &v, 8); break; }
    case SL_COMPLEX64: {
      float v[2] = {f32_of(h), f32_of(mix(h))};
      memcpy(p, v, 8);
      break;
    }
    case SL_COMPLEX128: {
      double v[2] = {f64_of(h), f64_of(mix(h))};
      memcpy(p, v, 16);
      break;
    }
    default: memcpy(p, &h, sl_dtype_size(t)); break; /* integers: the low bytes */
  }
}

void sl_pattern_fill(sl_dtype t, uint64_t seed, int64_t first, int64_t n, void *dst) {
  size_t es = sl_dtype_size(t);
  uint64_t key = mix(seed);
  char *p = dst;
  for (int64_t i = 0; i < n; i++) fill_one(t, mix(key ^ (uint64_t)(first + i)), p + (size_t)i * es);
}

/* Compares elements [first, first+n) of the pattern with buf. @return the
   index of the first difference relative to first, or -1. */
static int64_t first_difference(sl_dtype t, uint64_t seed, int64_t first, int64_t n,
                                const char *buf, char *scratch, int64_t block) {
  size_t es = sl_dtype_size(t);
  for (int64_t done = 0; done < n; done += block) {
    int64_t m = SL_MIN(block, n - done);
    sl_pattern_fill(t, seed, first + done, m, scratch);
    if (memcmp(scratch, buf + (size_t)done * es, (size_t)m * es) == 0) continue;
    for (int64_t i = 0; i < m; i++)
      if (memcmp(scratch + (size_t)i * es, buf + (size_t)(done + i) * es, es) != 0)
        return done + i;
  }
  return -1;
}

sl_status sl__verify_local(const sl_array *a, uint64_t seed, sl_error *err) {
  int64_t rows = sl_array_local_rows(a);
  if (rows == 0) return SL_OK;
  int64_t per_row = a->row_bytes / (int64_t)sl_dtype_size(a->dtype);
  const int64_t block = 1 << 16;
  char *scratch = sl__malloc((size_t)block * sl_dtype_size(a->dtype));
  if (scratch == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory for verification");
  int64_t lo = a->bounds[a->part];
  int64_t bad = first_difference(a->dtype, seed, lo * per_row, rows * per_row, a->data,
                                 scratch, block);
  sl__free(scratch);
  if (bad >= 0)
    SL_FAIL(err, SL_EVERIFY, "verification failed: global row %lld (element %lld of the row) "
            "differs from the pattern of seed %llu", (long long)(lo + bad / per_row),
            (long long)(bad % per_row), (unsigned long long)seed);
  return SL_OK;
}

/* Re-reads the tile's rows in blocks with the plain path and compares. */
sl_status sl__reread_local(const sl_array *a, const sl_dataset *d, sl_error *err) {
  int64_t lo = a->bounds[a->part], hi = a->bounds[a->part + 1];
  if (hi == lo) return SL_OK;
  int64_t block = SL_MAX((4 << 20) / SL_MAX(a->row_bytes, 1), 1);
  char *buf = sl__malloc((size_t)(SL_MIN(block, hi - lo) * a->row_bytes));
  if (buf == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory for verification");
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_CPU;
  o.io = SL_IO_BUFFERED;
  sl_status st = SL_OK;
  for (int64_t r = lo; r < hi && st == SL_OK; r += block) {
    int64_t m = SL_MIN(block, hi - r);
    st = sl_dataset_read_rows(d, r, r + m, buf, &o, NULL, err);
    const char *tile = (const char *)a->data + (r - lo) * a->row_bytes;
    for (int64_t i = 0; st == SL_OK && i < m; i++)
      if (memcmp(buf + i * a->row_bytes, tile + i * a->row_bytes, (size_t)a->row_bytes) != 0)
        st = sl__fail(err, SL_EVERIFY, "verification failed: global row %lld differs between "
                      "the tile and a plain re-read of %s", (long long)(r + i),
                      d->shards[sl__shard_of_row(d->cum_rows, d->nshards, r + i)].path);
  }
  sl__free(buf);
  return st;
}
