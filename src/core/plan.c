/* Step 3, partition: pure functions from row counts to who reads what.
 * No I/O, no MPI, no allocation: callers count first (out == NULL), then fill. */
#include <assert.h>

#include "core.h"

/* Balanced: part p owns [p*N/P', (p+1)*N/P') where P' = min(P, N/min_rows)
 * parts are used, so tiles stay at least min_rows long; the rest are empty.
 * Tiled: tile = max(ceil(N/P), min_rows), the last tile short, perhaps fewer
 * tiles than parts (the recipe's partition_by_tiling). */
void sl__partition(int64_t nrows, int nparts, sl_partition_kind kind, int64_t min_rows,
                   int64_t *bounds) {
  assert(nparts >= 1 && nrows >= 0);
  if (min_rows < 1) min_rows = 1;
  if (kind == SL_PARTITION_TILED) {
    int64_t tile = SL_MAX((nrows + nparts - 1) / nparts, min_rows);
    for (int p = 0; p <= nparts; p++) bounds[p] = SL_MIN((int64_t)p * tile, nrows);
    return;
  }
  int64_t used = SL_MIN((int64_t)nparts, SL_MAX(nrows / min_rows, 1));
  for (int p = 0; p <= nparts; p++) {
    int64_t q = SL_MIN((int64_t)p, used);
    /* p*N/used without overflow: split N into quotient and remainder */
    bounds[p] = q * (nrows / used) + q * (nrows % used) / used;
  }
  assert(bounds[0] == 0 && bounds[nparts] == nrows);
}

size_t sl__shard_of_row(const int64_t *cum_rows, size_t nshards, int64_t r) {
  /* the last i with cum_rows[i] <= r; zero-row shards share a cum value, so
     taking the last one skips them */
  size_t lo = 0, hi = nshards;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (cum_rows[mid] <= r) lo = mid;
    else hi = mid;
  }
  return lo;
}

size_t sl__segments(const int64_t *cum_rows, size_t nshards, int64_t lo, int64_t hi,
                    sl_segment *out) {
  assert(lo <= hi && hi <= cum_rows[nshards]);
  if (lo == hi) return 0;
  size_t n = 0;
  for (size_t s = sl__shard_of_row(cum_rows, nshards, lo); s < nshards && cum_rows[s] < hi;
       s++) {
    int64_t a = SL_MAX(lo, cum_rows[s]), b = SL_MIN(hi, cum_rows[s + 1]);
    if (a >= b) continue;
    if (out) out[n] = (sl_segment){s, a - cum_rows[s], b - cum_rows[s], a - lo};
    n++;
  }
  return n;
}

/* Where the piece from a ends: a + max_rows, or the unit start nearest to
   it when one lies within half a piece of it (pieces stay between half and
   one and a half times max_rows); failing that, the unit's end when the
   piece stays within `most` rows: cutting a unit makes both sides read and
   decode what they share (a compressed record batch or Parquet page whole),
   which costs more than lost parallelism while other units keep the threads
   busy. A unit longer than that is cut into pieces of `most` rows. */
#define SL_UNIT_STRETCH 8

static int64_t piece_end(const sl_segment *seg, int64_t a, int64_t max_rows, int64_t most,
                         sl_unit_fn unit, void *ctx) {
  int64_t want = a + max_rows;
  if (want >= seg->file_hi) return seg->file_hi;
  if (unit == NULL) return want;
  int64_t lo = a + (max_rows + 1) / 2, hi = SL_MIN(seg->file_hi, want + max_rows / 2);
  int64_t after = unit(ctx, seg->shard, want);
  if (after >= lo && after <= hi) return after;
  int64_t before = unit(ctx, seg->shard, lo); /* the first start past half a piece */
  if (before >= lo && before <= hi) return before;
  if (after <= want) return want; /* no answer */
  if (after - a <= most) return SL_MIN(after, seg->file_hi);
  return SL_MIN(seg->file_hi, a + most);
}

size_t sl__split_units(const sl_segment *seg, size_t n, int64_t max_rows, int64_t share,
                       sl_unit_fn unit, void *ctx, sl_segment *out) {
  assert(max_rows >= 1);
  int64_t stretch = max_rows > INT64_MAX / SL_UNIT_STRETCH ? INT64_MAX : SL_UNIT_STRETCH * max_rows;
  int64_t most = SL_MAX(max_rows, SL_MIN(share, stretch));
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    for (int64_t a = seg[i].file_lo, b; a < seg[i].file_hi; a = b) {
      b = piece_end(&seg[i], a, max_rows, most, unit, ctx);
      assert(b > a && b <= seg[i].file_hi);
      if (out) out[k] = (sl_segment){seg[i].shard, a, b, seg[i].dst_row + (a - seg[i].file_lo)};
      k++;
    }
  }
  return k;
}
