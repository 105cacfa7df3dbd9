/* Step 5's optional check. The test pattern is a counter-based function of
 * (seed, global element index): `write` fills shards with it and any rank can
 * check its own tile alone, so verification never needs the whole array. */
#include <string.h>

#include "core.h"

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

/* The tile is read back through the executor a block of rows at a time:
   from where it is for a host tile, through a staging copy for a device
   tile, never as one whole-tile copy. */
#define SL_VERIFY_BLOCK (4 << 20)

typedef struct tile_blocks {
  const sl_array *a;
  int64_t rows;      /* per block */
  void *scratch;     /* NULL for host tiles */
} tile_blocks;

static sl_status blocks_start(const sl_array *a, tile_blocks *b, sl_error *err) {
  b->a = a;
  b->rows = SL_MAX(SL_VERIFY_BLOCK / SL_MAX(a->row_bytes, 1), 1);
  b->scratch = NULL;
  if (a->tile.kind == SL_MEMORY_HOST && !a->tile.staged) return SL_OK;
  b->scratch = sl__malloc((size_t)(b->rows * a->row_bytes));
  if (b->scratch == NULL)
    SL_FAIL(err, SL_ENOMEM, "out of memory for verifying the tile of part %d", a->part);
  return SL_OK;
}

/* Rows [r, r + m) of the tile (r relative to its first row) in host memory. */
static sl_status block_at(const tile_blocks *b, int64_t r, int64_t m, const char **out,
                          sl_error *err) {
  const void *p;
  SL_TRY(b->a->ex->to_host(&b->a->tile, (size_t)(r * b->a->row_bytes),
                           (size_t)(m * b->a->row_bytes), b->scratch, &p, err));
  *out = p;
  return SL_OK;
}

sl_status sl__verify_local(const sl_array *a, uint64_t seed, sl_error *err) {
  int64_t rows = sl_array_local_rows(a);
  if (rows == 0 || a->row_bytes == 0) return SL_OK; /* rows of no bytes hold nothing */
  int64_t per_row = a->row_bytes / (int64_t)sl_dtype_size(a->dtype);
  const int64_t block = 1 << 16;
  tile_blocks tb;
  SL_TRY(blocks_start(a, &tb, err));
  char *scratch = sl__malloc((size_t)block * sl_dtype_size(a->dtype));
  sl_status st = scratch ? SL_OK
                         : sl__fail(err, SL_ENOMEM, "out of memory for verifying the tile "
                                    "of part %d", a->part);
  int64_t lo = a->bounds[a->part], bad = -1;
  for (int64_t r = 0; st == SL_OK && bad < 0 && r < rows; r += tb.rows) {
    int64_t m = SL_MIN(tb.rows, rows - r);
    const char *p;
    st = block_at(&tb, r, m, &p, err);
    if (st == SL_OK)
      bad = first_difference(a->dtype, seed, (lo + r) * per_row, m * per_row, p, scratch, block);
    if (bad >= 0) bad += r * per_row;
  }
  sl__free(scratch);
  sl__free(tb.scratch);
  if (st == SL_OK && bad >= 0)
    st = sl__fail(err, SL_EVERIFY, "verification failed: global row %lld (element %lld of the "
                  "row) differs from the pattern of seed %llu", (long long)(lo + bad / per_row),
                  (long long)(bad % per_row), (unsigned long long)seed);
  return st;
}

static sl_status compare_block(const sl_array *a, const sl_dataset *d, const char *buf,
                               const char *tile, int64_t r, int64_t m, sl_error *err) {
  for (int64_t i = 0; i < m; i++)
    if (memcmp(buf + i * a->row_bytes, tile + i * a->row_bytes, (size_t)a->row_bytes) != 0)
      SL_FAIL(err, SL_EVERIFY, "verification failed: global row %lld differs between the "
              "tile and a plain re-read of %s", (long long)(r + i),
              d->shards[sl__shard_of_row(d->cum_rows, d->nshards, r + i)].path);
  return SL_OK;
}

/* Re-reads the tile's rows in blocks with the plain path and compares. */
sl_status sl__reread_local(const sl_array *a, const sl_dataset *d, sl_error *err) {
  int64_t lo = a->bounds[a->part], hi = a->bounds[a->part + 1];
  if (hi == lo || a->row_bytes == 0) return SL_OK;
  tile_blocks tb;
  SL_TRY(blocks_start(a, &tb, err));
  char *buf = sl__malloc((size_t)(SL_MIN(tb.rows, hi - lo) * a->row_bytes));
  sl_status st = buf ? SL_OK
                     : sl__fail(err, SL_ENOMEM, "%s: out of memory for verification", d->root);
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_CPU;
  o.io = SL_IO_BUFFERED;
  for (int64_t r = lo; r < hi && st == SL_OK; r += tb.rows) {
    int64_t m = SL_MIN(tb.rows, hi - r);
    const char *tile;
    st = sl__read(d, r, r + m, &sl__exec_cpu, 1, buf, &o, NULL, NULL, err);
    if (st == SL_OK) st = block_at(&tb, r - lo, m, &tile, err);
    if (st == SL_OK) st = compare_block(a, d, buf, tile, r, m, err);
  }
  sl__free(buf);
  sl__free(tb.scratch);
  return st;
}
