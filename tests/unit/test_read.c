/* The leaf read: every variant and I/O mode, at odd row sizes and chunk
   sizes, returns exactly the written pattern for any row range. O_DIRECT's
   unaligned heads, tails and shifted middles are all exercised because the
   row size (12 or 6 bytes) never lines up with the 512-byte blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_test.h"

static sl_dataset *ds;
static const int64_t rows[] = {70000, 0, 123457, 5, 99999, 1};

static uint64_t rng = 99;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int setup(void **state) {
  const int64_t trailing[] = {3};
  if (tmpdir_setup(state) != 0 ||
      write_pattern_shards(dir, SL_FLOAT32, 5, 1, trailing, rows, SL_ARRAY_LEN(rows)) != 0)
    return -1;
  sl_error err = {0};
  return sl__discover(dir, NULL, &ds, &err) == SL_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  sl_dataset_free(ds);
  return tmpdir_teardown(state);
}

static void check_range(int64_t lo, int64_t hi, const sl_read_options *o) {
  size_t n = (size_t)((hi - lo) * 3);
  /* an odd offset into the buffer, so memory alignment varies too */
  size_t skew = (size_t)(next() % 8) * 4;
  char *raw = malloc(n * 4 + skew + 1);
  float *got = (float *)(raw + skew), *want = malloc(n * 4 + 1);
  sl_error err = {0};
  sl_read_stats st;
  sl_read_stats_init(&st);
  sl_status s = sl_dataset_read_rows(ds, lo, hi, got, o, &st, &err);
  if (s != SL_OK) fail_msg("%s", err.message);
  sl_pattern_fill(SL_FLOAT32, 5, lo * 3, hi * 3 - lo * 3, want);
  assert_memory_equal(got, want, n * 4);
  assert_int_equal(st.rows, hi - lo);
  assert_true(st.fault_seconds == 0.0); /* npy reads straight into the tile */
  free(raw);
  free(want);
}

static void run_modes(sl_variant v) {
  if (v == SL_VARIANT_OMP) NEED_OMP();
  int64_t N = ds->shape[0];
  sl_io_mode modes[] = {SL_IO_BUFFERED, SL_IO_DIRECT, SL_IO_AUTO};
  for (size_t m = 0; m < SL_ARRAY_LEN(modes); m++) {
    sl_read_options o;
    sl_read_options_init(&o);
    o.variant = v;
    o.io = modes[m];
    o.threads = v == SL_VARIANT_OMP ? 3 : 0;
    check_range(0, N, &o);
    for (int i = 0; i < 40; i++) {
      o.chunk_bytes = 4096 << (next() % 10);
      int64_t a = (int64_t)(next() % (uint64_t)N), b = (int64_t)(next() % (uint64_t)N);
      check_range(SL_MIN(a, b), SL_MAX(a, b), &o);
    }
  }
}

static void test_read_cpu_all_io_modes(void **state) {
  (void)state;
  run_modes(SL_VARIANT_CPU);
}

static void test_read_omp_all_io_modes(void **state) {
  (void)state;
  run_modes(SL_VARIANT_OMP);
}

static void test_read_rejects_bad_ranges_and_options(void **state) {
  (void)state;
  float x[3];
  sl_error err = {0};
  assert_int_equal(sl_dataset_read_rows(ds, 5, 4, x, NULL, NULL, &err), SL_EINVAL);
  sl_error_clear(&err);
  assert_int_equal(sl_dataset_read_rows(ds, 0, ds->shape[0] + 1, x, NULL, NULL, &err), SL_EINVAL);
  sl_read_options o;
  sl_read_options_init(&o);
  o.chunk_bytes = 10;
  sl_error_clear(&err);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, x, &o, NULL, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "chunk_bytes"));
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_GPU;
  sl_error_clear(&err);
#ifdef SL_HAVE_CUDA /* the gpu variant reads into device memory only */
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, x, &o, NULL, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "SL_MEMORY_CUDA"));
#else
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, x, &o, NULL, &err), SL_ENOTSUP);
  assert_non_null(strstr(err.message, "SL_WITH_CUDA"));
#endif
}

static void test_read_empty_range_touches_nothing(void **state) {
  (void)state;
  sl_read_stats st;
  sl_read_stats_init(&st);
  sl_error err = {0};
  assert_int_equal(sl_dataset_read_rows(ds, 70000, 70000, NULL, NULL, &st, &err), SL_OK);
  assert_int_equal(st.files, 0);
  assert_int_equal(st.first_shard, -1);
}

/* A driver whose every read fails, naming its first row; the read of row 0
   is slow, so with threads the other pieces fail first. */
static sl_status failing_probe(const void *state, const sl_source *src, const char *member,
                               sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)state, (void)src, (void)member, (void)err;
  s->rows = 1000;
  *info = (sl_shard_info){.dtype = SL_UINT8, .ndim = 1, .shape = {1000}};
  return SL_OK;
}

static sl_status failing_read(const sl_shard *s, const void *h, const sl_source *src,
                              int64_t lo, int64_t hi, void *dst, sl_error *err) {
  (void)h, (void)src, (void)hi, (void)dst;
  if (lo == 0 && strstr(s->path, "shard_0000") != NULL) usleep(100 * 1000);
  SL_FAIL(err, SL_EFORMAT, "%s: failed at row %lld", s->path, (long long)lo);
}

static const char *const failing_ext[] = {".failing", NULL};
static const sl_driver failing_driver = {.abi = SL_DRIVER_ABI,
                                         .struct_size = sizeof(sl_driver),
                                         .name = "failing", .extensions = failing_ext,
                                         .probe = failing_probe, .read = failing_read};

/* A decoding driver: row r of a 1000-row shard holds r % 251. */
static sl_status counting_read(const sl_shard *s, const void *h, const sl_source *src,
                               int64_t lo, int64_t hi, void *dst, sl_error *err) {
  (void)s, (void)h, (void)src, (void)err;
  for (int64_t r = lo; r < hi; r++) ((uint8_t *)dst)[r - lo] = (uint8_t)(r % 251);
  return SL_OK;
}

static const char *const counting_ext[] = {".counting", NULL};
static const sl_driver counting_driver = {.abi = SL_DRIVER_ABI,
                                          .struct_size = sizeof(sl_driver),
                                          .name = "counting", .extensions = counting_ext,
                                          .probe = failing_probe, .read = counting_read};

/* The tile's pages are faulted in ahead of a decoding driver, and the time
   that takes is reported, within the read's. */
static void test_read_reports_fault_time_of_decoding_drivers(void **state) {
  (void)state;
  sl_error err = {0};
  assert_int_equal(sl_register_driver(&counting_driver, &err), SL_OK);
  char *d = make_tmpdir();
  write_bytes(d, "shard_0000.counting", "x", 1);
  write_bytes(d, "shard_0001.counting", "x", 1);
  sl_dataset *cds;
  assert_int_equal(sl__discover(d, NULL, &cds, &err), SL_OK);
  uint8_t *buf = malloc(2000);
  sl_read_stats st;
  sl_read_stats_init(&st);
  assert_int_equal(sl_dataset_read_rows(cds, 500, 2000, buf, NULL, &st, &err), SL_OK);
  for (int64_t r = 500; r < 2000; r++) assert_int_equal(buf[r - 500], (r % 1000) % 251);
  assert_true(st.fault_seconds >= 0.0 && st.fault_seconds <= st.seconds * st.threads);
#ifdef SL_HAVE_MADV_POPULATE_WRITE
  assert_true(st.fault_seconds > 0.0);
#endif
  free(buf);
  sl_dataset_free(cds);
  rm_tree(d);
}

/* Whichever thread fails first, the error is the first piece's, as with the
   cpu variant. */
static void test_read_omp_reports_the_first_failing_piece(void **state) {
  (void)state;
  NEED_OMP();
  sl_error err = {0};
  assert_int_equal(sl_register_driver(&failing_driver, &err), SL_OK);
  char *d = make_tmpdir();
  for (int i = 0; i < 3; i++) {
    char name[32];
    snprintf(name, sizeof name, "shard_%04d.failing", i);
    write_bytes(d, name, "x", 1);
  }
  sl_dataset *fds;
  assert_int_equal(sl__discover(d, NULL, &fds, &err), SL_OK);
  uint8_t buf[3000];
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_OMP;
  o.threads = 3;
  o.chunk_bytes = 4096;
  assert_int_equal(sl_dataset_read_rows(fds, 0, 3000, buf, &o, NULL, &err), SL_EFORMAT);
  if (strstr(err.message, "shard_0000.failing: failed at row 0") == NULL)
    fail_msg("%s", err.message);
  sl_dataset_free(fds);
  rm_tree(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_cpu_all_io_modes),
      cmocka_unit_test(test_read_omp_all_io_modes),
      cmocka_unit_test(test_read_rejects_bad_ranges_and_options),
      cmocka_unit_test(test_read_empty_range_touches_nothing),
      cmocka_unit_test(test_read_omp_reports_the_first_failing_piece),
      cmocka_unit_test(test_read_reports_fault_time_of_decoding_drivers),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
