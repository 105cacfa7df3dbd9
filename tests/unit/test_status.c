/* Status codes, error reports and dtypes (src/base/status.c): values pinned,
   the first error set wins inside a call, messages are one line, and every
   public call clears the report it is given, so a reused sl_error never
   shows an earlier call's failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlpack/dlpack.h>

#include "sl_test.h"

static void test_status_values_are_pinned(void **state) {
  (void)state;
  assert_int_equal(SL_OK, 0);
  assert_int_equal(SL_EVERIFY, 9);
  assert_int_equal(SL_ECHANGED, 10);
  assert_string_equal(sl_status_name(SL_ECHANGED), "SL_ECHANGED");
  assert_string_equal(sl_strerror(SL_ECHANGED), "file changed since the dataset was opened");
  assert_string_equal(sl_strerror((sl_status)99), "unknown status");
}

static void test_status_first_error_wins_and_is_one_line(void **state) {
  (void)state;
  sl_error err = {0};
  assert_int_equal(sl_error_setf(&err, SL_EIO, "a.npy: first\nsecond %d", 2), SL_EIO);
  assert_int_equal(sl_error_setf(&err, SL_EFORMAT, "b.npy: later"), SL_EFORMAT);
  assert_int_equal(err.code, SL_EIO);
  assert_string_equal(err.message, "a.npy: first second 2");
  assert_int_equal(sl_error_setf(NULL, SL_EINVAL, "nowhere"), SL_EINVAL);
  sl_error_clear(&err);
  assert_int_equal(err.code, SL_OK);
  assert_string_equal(err.message, "");
}

/* A report holding an earlier failure, handed to calls that succeed. */
static void stale(sl_error *err) {
  err->code = SL_EIO;
  snprintf(err->message, sizeof err->message, "an earlier failure");
}

static void expect_cleared(const sl_error *err) {
  assert_int_equal(err->code, SL_OK);
  assert_string_equal(err->message, "");
}

static void test_status_every_call_clears_the_report(void **state) {
  (void)state;
  char *d = make_tmpdir();
  int64_t rows[] = {4, 3};
  int64_t trailing[] = {2};
  assert_int_equal(write_pattern_shards(d, SL_FLOAT32, 1, 1, trailing, rows, 2), 0);
  sl_error err;
  sl_comm *comm;
  stale(&err);
  assert_int_equal(sl_comm_init(SL_LAUNCH_SERIAL, NULL, NULL, &comm, &err), SL_OK);
  expect_cleared(&err);
  sl_dataset *ds;
  stale(&err);
  assert_int_equal(sl_dataset_open(comm, d, NULL, &ds, &err), SL_OK);
  expect_cleared(&err);
  float out[14];
  stale(&err);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 7, out, NULL, NULL, &err), SL_OK);
  expect_cleared(&err);
  sl_array *a;
  stale(&err);
  assert_int_equal(sl_load(comm, ds, NULL, &a, NULL, &err), SL_OK);
  expect_cleared(&err);
  stale(&err);
  assert_int_equal(sl_array_verify_pattern(comm, a, 1, &err), SL_OK);
  expect_cleared(&err);
  stale(&err);
  assert_int_equal(sl_array_verify_reread(comm, a, ds, &err), SL_OK);
  expect_cleared(&err);
  char *out_path = path_in(d, "all.npy");
  stale(&err);
  assert_int_equal(sl_array_write_npy(comm, a, out_path, &err), SL_OK);
  expect_cleared(&err);
  struct DLManagedTensor *t;
  stale(&err);
  assert_int_equal(sl_array_to_dlpack(a, &t, &err), SL_OK);
  expect_cleared(&err);
  t->deleter(t);
  int64_t shape[] = {2, 2};
  char *shard = path_in(d, "extra.npy");
  stale(&err);
  assert_int_equal(sl_write_shard("npy", shard, SL_FLOAT32, 2, shape, out, &err), SL_OK);
  expect_cleared(&err);
  stale(&err); /* a failing call reports its own failure, not the stale one */
  assert_int_equal(sl_dataset_read_rows(ds, 0, 99, out, NULL, NULL, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "rows [0, 99) are outside"));
  free(out_path);
  free(shard);
  sl_array_free(a);
  sl_dataset_free(ds);
  sl_comm_free(comm);
  rm_tree(d);
}

static void test_status_dtype_spellings(void **state) {
  (void)state;
  sl_dtype t;
  int swap;
  assert_int_equal(sl_dtype_parse(">f8", &t, &swap), SL_OK);
  assert_int_equal(t, SL_FLOAT64);
  assert_int_equal(swap, 1);
  assert_int_equal(sl_dtype_parse("|b1", &t, &swap), SL_OK);
  assert_int_equal(t, SL_BOOL);
  assert_int_equal(swap, 0);
  assert_int_equal(sl_dtype_parse("complex64", &t, &swap), SL_OK);
  assert_int_equal(t, SL_COMPLEX64);
  assert_int_equal(sl_dtype_parse("<U4", &t, &swap), SL_EINVAL);
  assert_int_equal(sl_dtype_size(SL_COMPLEX128), 16);
  assert_string_equal(sl_dtype_str(SL_UINT16), "<u2");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_values_are_pinned),
      cmocka_unit_test(test_status_first_error_wins_and_is_one_line),
      cmocka_unit_test(test_status_every_call_clears_the_report),
      cmocka_unit_test(test_status_dtype_spellings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
