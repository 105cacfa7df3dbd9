/* The distributed array on one process: partition queries, the tile, DLPack
   export (zero-copy, outlives sl_array_free until its deleter runs) and the
   .npy writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlpack/dlpack.h>

#include "sl_test.h"

static sl_dataset *ds;

static int setup(void **state) {
  const int64_t rows[] = {3, 0, 4}, trailing[] = {2, 3};
  if (tmpdir_setup(state) != 0 || write_pattern_shards(dir, SL_INT16, 1, 2, trailing, rows, 3))
    return -1;
  sl_error err = {0};
  return sl_dataset_open(NULL, dir, NULL, &ds, &err) == SL_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sl_dataset_free(ds);
  return tmpdir_teardown(state);
}

static void test_array_local_load_owns_everything(void **state) {
  (void)state;
  sl_array *a;
  sl_error err = {0};
  assert_int_equal(sl_load(NULL, ds, NULL, &a, NULL, &err), SL_OK);
  int64_t shape[SL_MAX_DIMS], lo, hi;
  assert_int_equal(sl_array_shape(a, shape), 3);
  assert_int_equal(shape[0], 7);
  assert_int_equal(shape[2], 3);
  assert_int_equal(sl_array_dtype(a), SL_INT16);
  assert_int_equal(sl_array_num_parts(a), 1);
  sl_array_part(a, 0, &lo, &hi);
  assert_int_equal(lo, 0);
  assert_int_equal(hi, 7);
  sl_array_part(a, 5, &lo, &hi);
  assert_int_equal(hi - lo, 0);
  assert_int_equal(sl_array_local_rows(a), 7);
  assert_int_equal(sl_array_memory_kind(a), SL_MEMORY_HOST);
  assert_int_equal(sl_array_verify_pattern(NULL, a, 1, &err), SL_OK);
  assert_int_equal(sl_array_verify_pattern(NULL, a, 2, &err), SL_EVERIFY);
  assert_non_null(strstr(err.message, "global row 0"));
  sl_error_clear(&err);
  assert_int_equal(sl_array_verify_reread(NULL, a, ds, &err), SL_OK);
  ((int16_t *)sl_array_local_data(a))[6 * 5 + 1] ^= 1; /* corrupt row 5 */
  assert_int_equal(sl_array_verify_reread(NULL, a, ds, &err), SL_EVERIFY);
  assert_non_null(strstr(err.message, "global row 5"));
  assert_non_null(strstr(err.message, "shard_0002.npy"));
  sl_array_free(a);
}

static void test_array_dlpack_outlives_the_array(void **state) {
  (void)state;
  sl_array *a;
  sl_error err = {0};
  assert_int_equal(sl_load(NULL, ds, NULL, &a, NULL, &err), SL_OK);
  struct DLManagedTensor *t;
  assert_int_equal(sl_array_to_dlpack(a, &t, &err), SL_OK);
  assert_ptr_equal(t->dl_tensor.data, sl_array_local_data(a));
  assert_int_equal(t->dl_tensor.ndim, 3);
  assert_int_equal(t->dl_tensor.shape[0], 7);
  assert_int_equal(t->dl_tensor.shape[1], 2);
  assert_int_equal(t->dl_tensor.dtype.code, kDLInt);
  assert_int_equal(t->dl_tensor.dtype.bits, 16);
  assert_int_equal(t->dl_tensor.dtype.lanes, 1);
  assert_int_equal(t->dl_tensor.device.device_type, kDLCPU);
  assert_null(t->dl_tensor.strides);
  sl_array_free(a); /* the tensor still holds the tile */
  int16_t want[6];
  sl_pattern_fill(SL_INT16, 1, 36, 6, want);
  assert_memory_equal((int16_t *)t->dl_tensor.data + 36, want, sizeof want);
  t->deleter(t); /* ASan reports a leak if this did not free the tile */
}

static void test_array_write_npy_round_trips(void **state) {
  (void)state;
  sl_array *a;
  sl_error err = {0};
  assert_int_equal(sl_load(NULL, ds, NULL, &a, NULL, &err), SL_OK);
  char *out = path_in(dir, "whole.npy");
  assert_int_equal(sl_array_write_npy(NULL, a, out, &err), SL_OK);
  sl_dataset *back;
  assert_int_equal(sl_dataset_open(NULL, out, NULL, &back, &err), SL_OK);
  int64_t shape[SL_MAX_DIMS];
  assert_int_equal(sl_dataset_shape(back, shape), 3);
  assert_int_equal(shape[0], 7);
  int16_t got[42];
  assert_int_equal(sl_dataset_read_rows(back, 0, 7, got, NULL, NULL, &err), SL_OK);
  assert_memory_equal(got, sl_array_local_data(a), sizeof got);
  char *bad = path_in(dir, "no/such/dir/x.npy");
  sl_error_clear(&err);
  assert_int_equal(sl_array_write_npy(NULL, a, bad, &err), SL_EIO);
  assert_non_null(strstr(err.message, "no/such/dir/x.npy"));
  sl_dataset_free(back);
  sl_array_free(a);
  free(out);
  free(bad);
}

static void test_array_rejects_bad_load_options(void **state) {
  (void)state;
  sl_read_options o;
  sl_read_options_init(&o);
  o.min_rows = 0;
  sl_array *a = (sl_array *)1;
  sl_error err = {0};
  assert_int_equal(sl_load(NULL, ds, &o, &a, NULL, &err), SL_EINVAL);
  assert_null(a);
  assert_non_null(strstr(err.message, "min_rows"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_array_local_load_owns_everything),
      cmocka_unit_test(test_array_dlpack_outlives_the_array),
      cmocka_unit_test(test_array_write_npy_round_trips),
      cmocka_unit_test(test_array_rejects_bad_load_options),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
