/* The option and stats structs across versions (src/base/options.c and the
   readers in core): _init writes only the caller's size, the library reads
   and writes only what struct_size covers, and a struct never initialised
   is refused by name. (tests/abi/ does the same with a whole program built
   against an older header.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_test.h"

static sl_dataset *ds;
static char *d;

static int setup(void **state) {
  (void)state;
  d = make_tmpdir();
  int64_t rows[] = {5, 6}, trailing[] = {3};
  if (write_pattern_shards(d, SL_FLOAT32, 2, 1, trailing, rows, 2) != 0) return -1;
  sl_error err;
  return sl_dataset_open(NULL, d, NULL, &ds, &err) == SL_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sl_dataset_free(ds);
  rm_tree(d);
  return 0;
}

/* An older caller's read options end before chunk_bytes: what follows in
   its memory (0xff here) is not read; chunk_bytes, partition and min_rows
   take their defaults. */
static void test_options_older_read_options(void **state) {
  (void)state;
  union {
    sl_read_options o;
    unsigned char b[sizeof(sl_read_options) + 32];
  } u;
  memset(&u, 0xff, sizeof u);
  size_t old = offsetof(sl_read_options, chunk_bytes);
  sl_read_options_init_size(&u.o, old);
  for (size_t i = old; i < sizeof u.b; i++) assert_int_equal(u.b[i], 0xff); /* untouched */
  assert_int_equal(u.o.struct_size, old);
  u.o.variant = SL_VARIANT_CPU;
  float out[33];
  sl_error err;
  if (sl_dataset_read_rows(ds, 0, 11, out, &u.o, NULL, &err) != SL_OK)
    fail_msg("%s", err.message);
  sl_array *a;
  assert_int_equal(sl_load(NULL, ds, &u.o, &a, NULL, &err), SL_OK);
  sl_array_free(a);
}

/* An older caller's stats end before files_opened: nothing past it is
   written. */
static void test_options_older_stats(void **state) {
  (void)state;
  union {
    sl_read_stats s;
    unsigned char b[sizeof(sl_read_stats) + 32];
  } u;
  memset(&u, 0xAB, sizeof u);
  size_t old = offsetof(sl_read_stats, files_opened);
  sl_read_stats_init_size(&u.s, old);
  float out[33];
  sl_error err;
  assert_int_equal(sl_dataset_read_rows(ds, 2, 11, out, NULL, &u.s, &err), SL_OK);
  assert_int_equal(u.s.rows, 9);
  assert_int_equal(u.s.struct_size, old);
  for (size_t i = old; i < sizeof u.b; i++) assert_int_equal(u.b[i], 0xAB);
  sl_read_stats full;
  sl_read_stats_init(&full);
  assert_int_equal(sl_dataset_read_rows(ds, 2, 11, out, NULL, &full, &err), SL_OK);
  assert_int_equal(full.files, 2);
  assert_true(full.open_files_limit >= 4);
}

/* A struct whose struct_size was never set is refused, naming the _init
   call to make. */
static void test_options_uninitialised_structs_are_refused(void **state) {
  (void)state;
  sl_read_options o;
  memset(&o, 0, sizeof o);
  float out[33];
  sl_error err;
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, out, &o, NULL, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "sl_read_options_init"));
  sl_read_stats st;
  memset(&st, 0, sizeof st);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, out, NULL, &st, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "sl_read_stats_init"));
  sl_open_options oo;
  memset(&oo, 0, sizeof oo);
  sl_dataset *other = NULL;
  assert_int_equal(sl_dataset_open(NULL, d, &oo, &other, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "sl_open_options_init"));
  assert_null(other);
}

/* An older caller's open options end before fill_nulls: the garbage after
   them is not taken for a fill value. */
static void test_options_older_open_options(void **state) {
  (void)state;
  union {
    sl_open_options o;
    unsigned char b[sizeof(sl_open_options) + 16];
  } u;
  memset(&u, 0xff, sizeof u);
  sl_open_options_init_size(&u.o, offsetof(sl_open_options, fill_nulls));
  sl_dataset *other;
  sl_error err;
  assert_int_equal(sl_dataset_open(NULL, d, &u.o, &other, &err), SL_OK);
  assert_null(other->opts.fill_nulls);
  sl_dataset_free(other);
}

/* Out-of-range fields are named as the library's options. */
static void test_options_out_of_range_named(void **state) {
  (void)state;
  sl_read_options o;
  sl_read_options_init(&o);
  o.chunk_bytes = 10;
  float out[3];
  sl_error err;
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, out, &o, NULL, &err), SL_EINVAL);
  assert_string_equal(err.message,
                      "option chunk_bytes: expected 4096 to 68719476736 but found 10");
  sl_read_options_init(&o);
  o.threads = SL_MAX_THREADS + 1;
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, out, &o, NULL, &err), SL_EINVAL);
  assert_string_equal(err.message, "option threads: expected 0 to 1024 but found 1025");
  sl_read_options_init(&o);
  o.min_rows = 0;
  sl_array *a = (sl_array *)1;
  assert_int_equal(sl_load(NULL, ds, &o, &a, NULL, &err), SL_EINVAL);
  assert_null(a);
  assert_string_equal(err.message, "option min_rows: expected >= 1 but found 0");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_options_older_read_options),
      cmocka_unit_test(test_options_older_stats),
      cmocka_unit_test(test_options_uninitialised_structs_are_refused),
      cmocka_unit_test(test_options_older_open_options),
      cmocka_unit_test(test_options_out_of_range_named),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
