/* Planner properties over random layouts: every row read exactly once, in the
   right place, whatever the ranks, shards, zero-row shards and chunk sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"

static uint64_t rng = 0x1234567;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* Random shard sizes, some zero, cumulative table in cum[0..n]. */
static void random_layout(size_t n, int64_t *cum) {
  cum[0] = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t r = next() % 4 == 0 ? 0 : (int64_t)(next() % 50);
    cum[i + 1] = cum[i] + r;
  }
}

static void check_cover(const int64_t *cum, size_t ns, const int64_t *bounds, int P,
                        int64_t max_rows) {
  int64_t N = cum[ns];
  int *seen = calloc((size_t)N + 1, sizeof *seen);
  for (int p = 0; p < P; p++) {
    assert_true(bounds[p] <= bounds[p + 1]);
    size_t k = sl__segments(cum, ns, bounds[p], bounds[p + 1], NULL);
    sl_segment *seg = calloc(k + 1, sizeof *seg);
    assert_int_equal(sl__segments(cum, ns, bounds[p], bounds[p + 1], seg), k);
    size_t m = sl__split_units(seg, k, max_rows, max_rows, NULL, NULL, NULL);
    sl_segment *pc = calloc(m + 1, sizeof *pc);
    sl__split_units(seg, k, max_rows, max_rows, NULL, NULL, pc);
    for (size_t i = 0; i < m; i++) {
      assert_true(pc[i].file_hi - pc[i].file_lo <= max_rows);
      assert_true(pc[i].file_lo < pc[i].file_hi);
      assert_true(cum[pc[i].shard] + pc[i].file_hi <= cum[pc[i].shard + 1]);
      for (int64_t r = pc[i].file_lo; r < pc[i].file_hi; r++) {
        int64_t global = cum[pc[i].shard] + r;
        /* lands where the global row belongs in this part's tile */
        assert_int_equal(bounds[p] + pc[i].dst_row + (r - pc[i].file_lo), global);
        seen[global]++;
      }
    }
    free(seg);
    free(pc);
  }
  for (int64_t r = 0; r < N; r++) assert_int_equal(seen[r], 1);
  free(seen);
}

static void test_plan_every_row_read_once(void **state) {
  (void)state;
  for (int iter = 0; iter < 3000; iter++) {
    size_t ns = 1 + next() % 200;
    int P = 1 + (int)(next() % 64);
    int64_t *cum = malloc((ns + 1) * sizeof *cum), *bounds = malloc(((size_t)P + 1) * sizeof *bounds);
    random_layout(ns, cum);
    sl_partition_kind kind = next() % 2 ? SL_PARTITION_TILED : SL_PARTITION_BALANCED;
    int64_t min_rows = next() % 3 == 0 ? 1 + (int64_t)(next() % 100) : 1;
    sl__partition(cum[ns], P, kind, min_rows, bounds);
    assert_int_equal(bounds[0], 0);
    assert_int_equal(bounds[P], cum[ns]);
    check_cover(cum, ns, bounds, P, 1 + (int64_t)(next() % 40));
    free(cum);
    free(bounds);
  }
}

static void test_plan_balanced_sizes_differ_by_at_most_one(void **state) {
  (void)state;
  int64_t b[8];
  sl__partition(10, 7, SL_PARTITION_BALANCED, 1, b);
  for (int p = 0; p < 7; p++) {
    int64_t n = b[p + 1] - b[p];
    assert_true(n == 1 || n == 2);
  }
}

static void test_plan_more_ranks_than_rows(void **state) {
  (void)state;
  int64_t b[9];
  sl__partition(3, 8, SL_PARTITION_BALANCED, 1, b);
  int nonempty = 0;
  for (int p = 0; p < 8; p++) nonempty += b[p + 1] > b[p];
  assert_int_equal(nonempty, 3);
  sl__partition(0, 8, SL_PARTITION_BALANCED, 1, b);
  for (int p = 0; p <= 8; p++) assert_int_equal(b[p], 0);
}

static void test_plan_tiled_is_ceil_with_short_last_tile(void **state) {
  (void)state;
  int64_t b[5];
  sl__partition(10, 4, SL_PARTITION_TILED, 1, b); /* tile 3: 3,3,3,1 */
  int64_t want[] = {0, 3, 6, 9, 10};
  for (int p = 0; p <= 4; p++) assert_int_equal(b[p], want[p]);
  sl__partition(9, 4, SL_PARTITION_TILED, 1, b); /* tile 3: 3,3,3,0 */
  assert_int_equal(b[3], 9);
  assert_int_equal(b[4], 9);
}

static void test_plan_min_rows_limits_parts(void **state) {
  (void)state;
  int64_t b[5];
  sl__partition(100, 4, SL_PARTITION_BALANCED, 40, b); /* only 2 parts of 50 */
  assert_int_equal(b[1], 50);
  assert_int_equal(b[2], 100);
  assert_int_equal(b[4], 100);
  sl__partition(100, 4, SL_PARTITION_TILED, 40, b); /* tiles of 40: 40,40,20,0 */
  assert_int_equal(b[1], 40);
  assert_int_equal(b[3], 100);
}

static void test_plan_shard_of_row_skips_empty_shards(void **state) {
  (void)state;
  int64_t cum[] = {0, 5, 5, 5, 9};
  assert_int_equal(sl__shard_of_row(cum, 4, 4), 0);
  assert_int_equal(sl__shard_of_row(cum, 4, 5), 3);
  assert_int_equal(sl__shard_of_row(cum, 4, 8), 3);
}

/* Units every `unit` rows of each shard, or at rows listed in ctx. */
static int64_t every_unit(void *ctx, size_t shard, int64_t row) {
  int64_t unit = *(const int64_t *)ctx + (int64_t)shard; /* differs by shard */
  return (row + unit - 1) / unit * unit;
}

static int64_t no_answer(void *ctx, size_t shard, int64_t row) {
  (void)ctx, (void)shard, (void)row;
  return -1;
}

static void test_plan_pieces_end_at_units_where_they_can(void **state) {
  (void)state;
  for (int iter = 0; iter < 2000; iter++) {
    int64_t unit = 1 + (int64_t)(next() % 60), max_rows = 1 + (int64_t)(next() % 80);
    int64_t share = 1 + (int64_t)(next() % 1000);
    int64_t most = SL_MAX(max_rows, SL_MIN(share, 8 * max_rows));
    size_t ns = 1 + next() % 6;
    sl_segment seg[8];
    int64_t dst = 0;
    for (size_t i = 0; i < ns; i++) {
      int64_t lo = (int64_t)(next() % 50), n = 1 + (int64_t)(next() % 400);
      seg[i] = (sl_segment){i, lo, lo + n, dst};
      dst += n;
    }
    size_t m = sl__split_units(seg, ns, max_rows, share, every_unit, &unit, NULL);
    sl_segment *pc = calloc(m + 1, sizeof *pc);
    assert_int_equal(sl__split_units(seg, ns, max_rows, share, every_unit, &unit, pc), m);
    size_t k = 0;
    for (size_t i = 0; i < ns; i++) {
      int64_t u = unit + (int64_t)i, at = seg[i].file_lo;
      for (; k < m && pc[k].shard == i; k++) { /* pieces tile the segment in order */
        assert_int_equal(pc[k].file_lo, at);
        assert_int_equal(pc[k].dst_row, seg[i].dst_row + (at - seg[i].file_lo));
        int64_t n = pc[k].file_hi - pc[k].file_lo, end = pc[k].file_hi;
        bool last = end == seg[i].file_hi;
        int64_t want = at + max_rows, next_unit = (want + u - 1) / u * u;
        int64_t lo = at + (max_rows + 1) / 2, hi = SL_MIN(seg[i].file_hi, want + max_rows / 2);
        bool window_has_unit = (lo + u - 1) / u * u <= hi;
        assert_true(n >= 1);
        if (!last) assert_true(n >= (max_rows + 1) / 2);
        if (window_has_unit && !last) { /* a unit start near the size asked for */
          assert_int_equal(end % u, 0);
          assert_true(end >= lo && end <= hi);
        } else if (!last && next_unit - at <= most) { /* stretched to the unit */
          assert_int_equal(end, next_unit);
        } else if (!last) { /* a unit too long to keep whole: cut in pieces of most */
          assert_int_equal(n, most);
        }
        at = end;
      }
      assert_int_equal(at, seg[i].file_hi);
    }
    assert_int_equal(k, m);
    free(pc);
  }
}

static int64_t one_big_unit(void *ctx, size_t shard, int64_t row) {
  (void)ctx, (void)shard;
  return row == 0 ? 0 : 256;
}

/* One unit for the whole read: kept whole for one thread, cut in two (not
   in four pieces of max_rows, each decoding it all) for two. */
static void test_plan_unit_longer_than_a_share_is_cut_in_shares(void **state) {
  (void)state;
  sl_segment seg = {0, 0, 256, 0}, pc[8];
  assert_int_equal(sl__split_units(&seg, 1, 64, 256, one_big_unit, NULL, pc), 1);
  assert_int_equal(sl__split_units(&seg, 1, 64, 128, one_big_unit, NULL, pc), 2);
  assert_int_equal(pc[0].file_hi, 128);
  assert_int_equal(pc[1].file_lo, 128);
  assert_int_equal(pc[1].dst_row, 128);
  assert_int_equal(sl__split_units(&seg, 1, 64, 86, one_big_unit, NULL, pc), 3);
  assert_int_equal(pc[1].file_hi, 172);
  assert_int_equal(sl__split_units(&seg, 1, 16, 1000, one_big_unit, NULL, pc), 2); /* 8 pieces at most */
  assert_int_equal(pc[0].file_hi, 128);
}

static void test_plan_units_unknown_split_evenly(void **state) {
  (void)state;
  sl_segment seg = {0, 0, 100, 0}, pc[8];
  assert_int_equal(sl__split_units(&seg, 1, 30, 100, no_answer, NULL, pc), 4);
  assert_int_equal(pc[0].file_hi, 30);
  assert_int_equal(pc[3].file_hi, 100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plan_every_row_read_once),
      cmocka_unit_test(test_plan_pieces_end_at_units_where_they_can),
      cmocka_unit_test(test_plan_units_unknown_split_evenly),
      cmocka_unit_test(test_plan_unit_longer_than_a_share_is_cut_in_shares),
      cmocka_unit_test(test_plan_balanced_sizes_differ_by_at_most_one),
      cmocka_unit_test(test_plan_more_ranks_than_rows),
      cmocka_unit_test(test_plan_tiled_is_ceil_with_short_last_tile),
      cmocka_unit_test(test_plan_min_rows_limits_parts),
      cmocka_unit_test(test_plan_shard_of_row_skips_empty_shards),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
