/* base/cast.c against numpy: can_cast for every pair of numeric dtypes
   under every casting rule, and astype's results for sample values of every
   dtype into every dtype (cast_table.h, made by gen_cast_table.py with the
   system numpy); the casting gather against a column-by-column reference;
   the options dtype and cast; the table formats' dtype decision and its
   messages (columns.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"
#include "cast_table.h"

static void test_can_cast_matches_numpy(void **state) {
  (void)state;
  int bad = 0;
  for (int r = 0; r <= SL_CAST_UNSAFE; r++)
    for (int a = 0; a < SL_DTYPE_COUNT; a++)
      for (int b = 0; b < SL_DTYPE_COUNT; b++) {
        bool got = sl__can_cast((sl_dtype)a, (sl_dtype)b, (sl_casting)r);
        if (got != (np_can_cast[r][a][b] != 0)) {
          fprintf(stderr, "can_cast(%s, %s, %s): got %d, numpy %d\n", sl_dtype_str((sl_dtype)a),
                  sl_dtype_str((sl_dtype)b), sl__casting_name((sl_casting)r), got,
                  np_can_cast[r][a][b]);
          bad++;
        }
      }
  assert_int_equal(bad, 0);
  assert_false(sl__can_cast(SL_DTYPE_COUNT, SL_FLOAT32, SL_CAST_UNSAFE));
}

/* NaN payloads and signs aside, equal as numpy's result. */
static bool same_value(sl_dtype t, const uint8_t *a, const uint8_t *b) {
  size_t n = sl_dtype_size(t);
  if (memcmp(a, b, n) == 0) return true;
  if (t == SL_FLOAT32 || t == SL_COMPLEX64) {
    for (size_t k = 0; k < n; k += 4) {
      float x, y;
      memcpy(&x, a + k, 4), memcpy(&y, b + k, 4);
      if (!(x == y || (x != x && y != y))) return false;
    }
    return true;
  }
  if (t == SL_FLOAT64 || t == SL_COMPLEX128) {
    for (size_t k = 0; k < n; k += 8) {
      double x, y;
      memcpy(&x, a + k, 8), memcpy(&y, b + k, 8);
      if (!(x == y || (x != x && y != y))) return false;
    }
    return true;
  }
  if (t == SL_FLOAT16) { /* any NaN */
    uint16_t x, y;
    memcpy(&x, a, 2), memcpy(&y, b, 2);
    return (x & 0x7c00) == 0x7c00 && (x & 0x3ff) && (y & 0x7c00) == 0x7c00 && (y & 0x3ff);
  }
  return false;
}

static void test_convert_matches_numpy_astype(void **state) {
  (void)state;
  int bad = 0;
  for (size_t i = 0; i < SL_ARRAY_LEN(np_cases); i++) {
    const np_case *c = &np_cases[i];
    uint8_t out[20];
    memset(out, 0xAB, sizeof out);
    size_t os = sl_dtype_size((sl_dtype)c->to);
    sl__convert(out + 1, os, (sl_dtype)c->to, c->src, (sl_dtype)c->from, 1); /* unaligned */
    if (!same_value((sl_dtype)c->to, out + 1, c->dst)) {
      fprintf(stderr, "case %zu: %s -> %s differs from numpy:", i,
              sl_dtype_str((sl_dtype)c->from), sl_dtype_str((sl_dtype)c->to));
      for (size_t k = 0; k < sl_dtype_size((sl_dtype)c->from); k++) fprintf(stderr, " %02x", c->src[k]);
      fprintf(stderr, " ->");
      for (size_t k = 0; k < os; k++) fprintf(stderr, " %02x/%02x", out[1 + k], c->dst[k]);
      fprintf(stderr, "\n");
      bad++;
    }
    assert_int_equal(out[0], 0xAB);
    assert_int_equal(out[1 + os], 0xAB); /* nothing written past the value */
  }
  assert_int_equal(bad, 0);
}

/* Specific roundings numpy's table may not reach. */
static void test_convert_rounds_once_to_nearest_even(void **state) {
  (void)state;
  int64_t big = (1LL << 53) + 1; /* int64 -> float32 directly, not via float64 */
  int64_t v = (1LL << 24) + 1;  /* a tie in float32: to even, 2^24 */
  float f;
  sl__convert((uint8_t *)&f, 4, SL_FLOAT32, (const uint8_t *)&v, SL_INT64, 1);
  assert_true(f == 16777216.0f);
  v = (1LL << 24) + 3; /* tie: to even, 2^24 + 4 */
  sl__convert((uint8_t *)&f, 4, SL_FLOAT32, (const uint8_t *)&v, SL_INT64, 1);
  assert_true(f == 16777220.0f);
  sl__convert((uint8_t *)&f, 4, SL_FLOAT32, (const uint8_t *)&big, SL_INT64, 1);
  assert_true(f == 9007199254740992.0f);
  double d = 2049.0; /* float16 tie between 2048 and 2050: to even 2048 */
  uint16_t h;
  sl__convert((uint8_t *)&h, 2, SL_FLOAT16, (const uint8_t *)&d, SL_FLOAT64, 1);
  assert_int_equal(h, 0x6800);
  d = 65519.99; /* just below the overflow threshold: 65504 */
  sl__convert((uint8_t *)&h, 2, SL_FLOAT16, (const uint8_t *)&d, SL_FLOAT64, 1);
  assert_int_equal(h, 0x7bff);
  d = 65520.0;
  sl__convert((uint8_t *)&h, 2, SL_FLOAT16, (const uint8_t *)&d, SL_FLOAT64, 1);
  assert_int_equal(h, 0x7c00);
  d = -3e9; /* unsafe float -> int beyond int32: defined here (truncate, narrow) */
  int32_t i32;
  sl__convert((uint8_t *)&i32, 4, SL_INT32, (const uint8_t *)&d, SL_FLOAT64, 1);
  assert_int_equal(i32, (int32_t)(uint32_t)(uint64_t)(int64_t)-3000000000LL);
}

static void test_gather_cast_matches_convert(void **state) {
  (void)state;
  enum { ROWS = 1000, NC = 4 };
  sl_dtype from[NC] = {SL_FLOAT64, SL_INT64, SL_INT16, SL_UINT8};
  uint8_t *cols[NC];
  for (int c = 0; c < NC; c++) {
    size_t es = sl_dtype_size(from[c]);
    cols[c] = malloc(ROWS * es);
    for (size_t k = 0; k < ROWS * es; k++) cols[c][k] = (uint8_t)(k * 37 + (size_t)c * 11);
    for (int r = 0; from[c] == SL_FLOAT64 && r < ROWS; r++) {
      double v = r * 0.37 - 100.0;
      memcpy(cols[c] + r * 8, &v, 8);
    }
  }
  for (int64_t rows = 0; rows <= ROWS; rows += 333) {
    for (size_t shift = 0; shift < 3; shift++) {
      size_t stride = NC * 4;
      uint8_t *got = calloc(1, ROWS * stride + 8), *want = calloc(1, ROWS * stride + 8);
      sl__gather_cast((char *)got + shift, stride, (const uint8_t *const *)cols, NC, from,
                      SL_FLOAT32, 1, rows);
      for (int c = 0; c < NC; c++)
        sl__convert(want + shift + (size_t)c * 4, stride, SL_FLOAT32, cols[c], from[c], rows);
      assert_memory_equal(got, want, ROWS * stride + 8);
      free(got);
      free(want);
    }
  }
  /* one column of width 3 (a fixed-size list): rows of 3 values */
  float out[3 * 10], ref[3 * 10];
  sl__gather_cast((char *)out, 12, (const uint8_t *const *)&cols[1], 1, &from[1], SL_FLOAT32,
                  3, 10);
  sl__convert((uint8_t *)ref, 4, SL_FLOAT32, cols[1], SL_INT64, 30);
  assert_memory_equal(out, ref, sizeof out);
  for (int c = 0; c < NC; c++) free(cols[c]);
}

static sl_status options(const char *dtype, const char *cast, sl_table_options *t,
                         sl_error *err) {
  sl_open_options o;
  sl_open_options_init(&o);
  o.dtype = dtype;
  o.cast = cast;
  memset(t, 0, sizeof *t);
  sl_error_clear(err);
  return sl__cast_options("/d", &o, &t->has_dtype, &t->dtype, &t->casting, err);
}

static void test_cast_options(void **state) {
  (void)state;
  sl_table_options t;
  sl_error err;
  assert_int_equal(options(NULL, NULL, &t, &err), SL_OK);
  assert_false(t.has_dtype);
  assert_int_equal(t.casting, SL_CAST_SAME_KIND);
  assert_int_equal(options("float32", "unsafe", &t, &err), SL_OK);
  assert_true(t.has_dtype);
  assert_int_equal(t.dtype, SL_FLOAT32);
  assert_int_equal(t.casting, SL_CAST_UNSAFE);
  assert_int_equal(options("<i8", "safe", &t, &err), SL_OK);
  assert_int_equal(t.dtype, SL_INT64);
  assert_int_equal(options("float32", "sloppy", &t, &err), SL_EINVAL);
  assert_string_equal(err.message, "/d: option cast 'sloppy' is not a casting rule (expected "
                      "same_kind or unsafe, or numpy's no, equiv, safe)");
  assert_int_equal(options("str", NULL, &t, &err), SL_EINVAL);
  assert_string_equal(err.message, "/d: option dtype 'str' is not a numeric dtype this "
                      "library knows");
  assert_int_equal(options(">f4", NULL, &t, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "columns load in native order"));
}

static void test_columns_dtype_decides_and_explains(void **state) {
  (void)state;
  sl_col_type c[3] = {{{"x", 1}, SL_FLOAT64, "DOUBLE"},
                      {{"label", 5}, SL_INT64, "INT64"},
                      {{"s", 1}, SL_INT16, "INT32"}};
  sl_table_options t = {0};
  sl_error err = {0};
  sl_dtype out;
  assert_int_equal(sl__columns_dtype("/f", &t, c, 1, "selected", &out, &err), SL_OK);
  assert_int_equal(out, SL_FLOAT64);
  assert_int_equal(sl__columns_dtype("/f", &t, c, 3, "numeric", &out, &err), SL_EFORMAT);
  assert_string_equal(err.message,
                      "/f: the numeric columns differ in type (x DOUBLE (<f8), label INT64 "
                      "(<i8), s INT32 (<i2)), so they cannot be stacked into one array as they "
                      "are; give option dtype (e.g. float64) to convert them while loading, or "
                      "choose columns of one type with option columns");
  t.has_dtype = true;
  t.dtype = SL_FLOAT32;
  t.casting = SL_CAST_SAME_KIND;
  sl_error_clear(&err);
  assert_int_equal(sl__columns_dtype("/f", &t, c, 3, "numeric", &out, &err), SL_OK);
  assert_int_equal(out, SL_FLOAT32);
  t.dtype = SL_INT64;
  assert_int_equal(sl__columns_dtype("/f", &t, c, 3, "numeric", &out, &err), SL_EFORMAT);
  assert_string_equal(err.message,
                      "/f: column x is DOUBLE (<f8), which option dtype int64 does not take "
                      "under same_kind casting (a float does not convert to an integer or bool "
                      "without loss; numpy.can_cast is False); give option cast unsafe to "
                      "convert it anyway, or leave it out with option columns");
  t.casting = SL_CAST_UNSAFE;
  sl_error_clear(&err);
  assert_int_equal(sl__columns_dtype("/f", &t, c, 3, "numeric", &out, &err), SL_OK);
  assert_int_equal(out, SL_INT64);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_can_cast_matches_numpy),
      cmocka_unit_test(test_convert_matches_numpy_astype),
      cmocka_unit_test(test_convert_rounds_once_to_nearest_even),
      cmocka_unit_test(test_gather_cast_matches_convert),
      cmocka_unit_test(test_cast_options),
      cmocka_unit_test(test_columns_dtype_decides_and_explains),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
