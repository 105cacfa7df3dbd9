/* The columnar formats' shared helpers: interleaving columns into rows
   (every width, column count, row count and destination alignment, against
   a plain reference), growing arrays, decoding buffers (small and huge-page
   backed) and the per-driver buffer pool (items cached while files use it,
   freed with the last one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"

/* Column c, row r, byte k of a source with src_stride bytes a row. */
static uint8_t src_byte(size_t c, size_t r, size_t k) {
  return (uint8_t)(c * 131 + r * 7 + k * 29 + 1);
}

static void check_gather(size_t ncols, size_t width, size_t src_stride, int64_t rows,
                         size_t shift, size_t pad) {
  uint8_t **cols = calloc(ncols, sizeof *cols);
  for (size_t c = 0; c < ncols; c++) {
    cols[c] = malloc((size_t)rows * src_stride + 1);
    for (int64_t r = 0; r < rows; r++)
      for (size_t k = 0; k < src_stride; k++)
        cols[c][(size_t)r * src_stride + k] = src_byte(c, (size_t)r, k);
  }
  size_t stride = ncols * width + pad, bytes = (size_t)rows * stride + shift + 64;
  uint8_t *mem = malloc(bytes);
  memset(mem, 0xEE, bytes);
  char *dst = (char *)mem + shift;
  sl__gather(dst, stride, (const uint8_t *const *)cols, ncols, src_stride, width, rows);
  for (int64_t r = 0; r < rows; r++)
    for (size_t c = 0; c < ncols; c++)
      for (size_t k = 0; k < width; k++)
        assert_int_equal((uint8_t)dst[(size_t)r * stride + c * width + k],
                         src_byte(c, (size_t)r, k));
  for (int64_t r = 0; pad && r < rows; r++) /* padding between rows is untouched */
    for (size_t k = ncols * width; k < stride; k++)
      assert_int_equal((uint8_t)dst[(size_t)r * stride + k], 0xEE);
  for (size_t i = 0; i < shift; i++) assert_int_equal(mem[i], 0xEE);
  for (size_t i = (size_t)rows * stride + shift; i < bytes; i++) assert_int_equal(mem[i], 0xEE);
  free(mem);
  for (size_t c = 0; c < ncols; c++) free(cols[c]);
  free(cols);
}

static void test_gather_matches_reference(void **state) {
  (void)state;
  static const size_t widths[] = {1, 2, 4, 8, 16, 3, 12};
  static const size_t ncols[] = {1, 2, 3, 8, 17};
  static const int64_t rows[] = {0, 1, 7, 63, 64, 65, 1000};
  static const size_t shifts[] = {0, 1, 8, 13};
  for (size_t w = 0; w < SL_ARRAY_LEN(widths); w++)
    for (size_t c = 0; c < SL_ARRAY_LEN(ncols); c++)
      for (size_t r = 0; r < SL_ARRAY_LEN(rows); r++)
        for (size_t s = 0; s < SL_ARRAY_LEN(shifts); s++)
          check_gather(ncols[c], widths[w], widths[w], rows[r], shifts[s], 0);
}

static void test_gather_takes_low_bytes_of_wider_values(void **state) {
  (void)state;
  check_gather(3, 1, 4, 300, 5, 0); /* int8 out of INT32 */
  check_gather(4, 2, 8, 300, 0, 0);
}

static void test_gather_leaves_gaps_between_rows(void **state) {
  (void)state;
  check_gather(2, 4, 4, 500, 3, 8);
  check_gather(8, 8, 8, 100, 0, 1);
}

static void test_gather_wide_rows_skip_the_buffer(void **state) {
  (void)state;
  check_gather(300, 8, 8, 20, 1, 0); /* 2400-byte rows */
}

static void test_buf_grows_and_keeps_huge_buffers_mapped(void **state) {
  (void)state;
  sl_buf b = {0};
  assert_true(sl__buf_reserve(&b, 100));
  assert_true(b.cap >= 100 && b.mapped == 0);
  memset(b.p, 1, 100);
  assert_true(sl__buf_reserve(&b, 3u << 20));
  assert_true(b.cap >= (3u << 20) && b.mapped > 0);
  assert_int_equal(b.cap % (2u << 20), 0);
  memset(b.p, 2, b.cap);
  uint8_t *p = b.p;
  assert_true(sl__buf_reserve(&b, 1u << 20)); /* smaller: kept */
  assert_ptr_equal(b.p, p);
  sl__buf_free(&b);
  assert_null(b.p);
  sl__buf_free(&b); /* twice is harmless */
}

static void test_buf_reports_allocation_failure(void **state) {
  (void)state;
  sl_buf b = {0};
  assert_true(sl__buf_reserve(&b, 64));
  uint8_t *p = b.p;
  sl__alloc_fail_at(1, false);
  assert_false(sl__buf_reserve(&b, 4u << 20));
  assert_ptr_equal(b.p, p); /* unchanged on failure */
  sl__alloc_fail_at(0, false);
  sl__buf_free(&b);
}

static void test_grow_zeroes_new_elements_and_keeps_the_old(void **state) {
  (void)state;
  int *a = sl__grow(NULL, 0, 3, sizeof *a);
  assert_non_null(a);
  for (int i = 0; i < 3; i++) assert_int_equal(a[i], 0);
  a[0] = 7, a[2] = 9;
  sl__alloc_fail_at(1, false);
  assert_null(sl__grow(a, 3, 1000, sizeof *a)); /* a is still valid */
  sl__alloc_fail_at(0, false);
  assert_null(sl__grow(a, 3, SIZE_MAX / 2, sizeof *a)); /* overflows */
  int *b = sl__grow(a, 3, 1000, sizeof *b);
  assert_non_null(b);
  assert_int_equal(b[0], 7);
  assert_int_equal(b[2], 9);
  for (int i = 3; i < 1000; i++) assert_int_equal(b[i], 0);
  sl__free(b);
}

static int freed;
static void free_item(void *item) {
  freed++;
  free(item);
}

static void test_pool_caches_while_used_and_frees_with_the_last_user(void **state) {
  (void)state;
  static sl_pool pool = SL_POOL_INIT(free_item);
  freed = 0;
  sl__pool_put(&pool, malloc(8)); /* no user: freed at once */
  assert_int_equal(freed, 1);
  sl__pool_join(&pool);
  sl__pool_join(&pool);
  void *a = malloc(8), *b = malloc(8);
  sl__pool_put(&pool, a);
  sl__pool_put(&pool, b);
  assert_ptr_equal(sl__pool_get(&pool), b);
  sl__pool_put(&pool, b);
  sl__pool_leave(&pool);
  assert_int_equal(freed, 1); /* one user left */
  for (int i = 0; i < SL_POOL_MAX; i++) sl__pool_put(&pool, malloc(8));
  assert_int_equal(freed, 3); /* full: the two over the cap are freed */
  sl__pool_leave(&pool);
  assert_int_equal(freed, 3 + SL_POOL_MAX);
  assert_null(sl__pool_get(&pool));
  sl__pool_put(&pool, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gather_matches_reference),
      cmocka_unit_test(test_gather_takes_low_bytes_of_wider_values),
      cmocka_unit_test(test_gather_leaves_gaps_between_rows),
      cmocka_unit_test(test_gather_wide_rows_skip_the_buffer),
      cmocka_unit_test(test_buf_grows_and_keeps_huge_buffers_mapped),
      cmocka_unit_test(test_buf_reports_allocation_failure),
      cmocka_unit_test(test_grow_zeroes_new_elements_and_keeps_the_old),
      cmocka_unit_test(test_pool_caches_while_used_and_frees_with_the_last_user),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
