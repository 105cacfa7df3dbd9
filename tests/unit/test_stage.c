/* The gpu variant's staging pipeline (src/core/stage.c) on the host copy
   engine, which carries copies out late and out of order: reads equal the
   cpu variant's at every thread count, seed and chunk size, big-endian
   data and the cuFile stand-in included; pinned buffers are reused (peak
   bounded by workers x slots x buffer, none left); the lowest failing chunk
   wins whichever worker fails first; copy and read errors mid-pipeline
   name the file; the memory-kind option is checked; a gpu tile is read back
   through scratch for verification and --output. No GPU needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include <dlpack/dlpack.h>

#include "sl_test.h"
#include "stage.h"

#define ROWS_A 20000

static char *dir_le, *dir_be;

static void host_engine(unsigned seed) {
  char v[32];
  snprintf(v, sizeof v, "host:%u", seed);
  setenv("SHARDLOAD_TEST_COPY_ENGINE", v, 1);
}

static int setup(void **state) {
  tmpdir_setup(state);
  dir_le = path_in(dir, "le");
  dir_be = path_in(dir, "be");
  mkdir(dir_le, 0700);
  mkdir(dir_be, 0700);
  /* odd sizes, an empty shard, a one-row shard */
  const int64_t rows[] = {4999, 1, 0, 7777, ROWS_A - 4999 - 1 - 7777};
  const int64_t trail[] = {3};
  if (write_pattern_shards(dir_le, SL_FLOAT32, 11, 1, trail, rows, 5) != 0) return -1;
  /* big-endian float64 (3 columns): the bytes are whatever; cpu swaps them
     on the host, the pipeline in the engine */
  for (int i = 0; i < 3; i++) {
    char name[32], d[128];
    snprintf(name, sizeof name, "shard_%04d.npy", i);
    snprintf(d, sizeof d, "{'descr': '>f8', 'fortran_order': False, 'shape': (%d, 3), }",
             1000 + 333 * i);
    write_npy_raw(dir_be, name, 1, d, (size_t)(1000 + 333 * i) * 24);
  }
  host_engine(1);
  return 0;
}

static int teardown(void **state) {
  unsetenv("SHARDLOAD_TEST_COPY_ENGINE");
  free(dir_le);
  free(dir_be);
  return tmpdir_teardown(state);
}

static sl_dataset *open_ds(const char *path) {
  sl_dataset *ds;
  sl_error err = {0};
  assert_int_equal(sl_dataset_open(NULL, path, NULL, &ds, &err), SL_OK);
  return ds;
}

static char *read_cpu(sl_dataset *ds, int64_t lo, int64_t hi) {
  int64_t shape[SL_MAX_DIMS];
  sl_dataset_shape(ds, shape);
  char *b = malloc((size_t)((hi - lo) * (sl_dataset_nbytes(ds) / shape[0])) + 1);
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_CPU;
  sl_error err = {0};
  assert_int_equal(sl_dataset_read_rows(ds, lo, hi, b, &o, NULL, &err), SL_OK);
  return b;
}

static sl_status read_gpu(sl_dataset *ds, int64_t lo, int64_t hi, char *dst, int threads,
                          int64_t chunk, sl_gds_mode gds, sl_read_stats *st, sl_error *err) {
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_GPU;
  o.memory = SL_MEMORY_CUDA; /* the host engine's device memory is host memory */
  o.threads = threads;
  o.chunk_bytes = chunk;
  o.gds = gds;
  sl_error_clear(err);
  return sl_dataset_read_rows(ds, lo, hi, dst, &o, st, err);
}

static int64_t row_bytes(sl_dataset *ds) {
  int64_t shape[SL_MAX_DIMS];
  sl_dataset_shape(ds, shape);
  return sl_dataset_nbytes(ds) / shape[0];
}

static void equals_cpu(const char *path) {
  sl_dataset *ds = open_ds(path);
  int64_t shape[SL_MAX_DIMS];
  sl_dataset_shape(ds, shape);
  int64_t ranges[][2] = {{0, shape[0]}, {1, shape[0] - 3}, {4998, 5001}};
  int64_t rb = row_bytes(ds);
  for (size_t r = 0; r < 3; r++) {
    int64_t lo = SL_MIN(ranges[r][0], shape[0] - 1), hi = SL_MIN(ranges[r][1], shape[0]);
    char *want = read_cpu(ds, lo, hi);
    char *got = malloc((size_t)((hi - lo) * rb) + 1);
    for (unsigned seed = 1; seed <= 3; seed++)
      for (int threads = 1; threads <= 4; threads++)
        for (int c = 0; c < 3; c++) {
          const int64_t chunks[] = {4096, 40000, 16 << 20};
          host_engine(seed * 7 + (unsigned)threads);
          setenv("SHARDLOAD_TEST_GDS", c == 1 ? "1" : "0", 1);
          memset(got, 0xa5, (size_t)((hi - lo) * rb));
          sl_error err;
          sl_read_stats st;
          sl_read_stats_init(&st);
          assert_int_equal(read_gpu(ds, lo, hi, got, threads, chunks[c], SL_GDS_AUTO, &st, &err),
                           SL_OK);
          if (memcmp(want, got, (size_t)((hi - lo) * rb)) != 0)
            fail_msg("%s rows [%lld, %lld): gpu (host engine, seed %u, %d threads, chunk %lld) "
                     "differs from cpu", path, (long long)lo, (long long)hi, seed, threads,
                     (long long)chunks[c]);
          assert_int_equal(st.variant, SL_VARIANT_GPU);
          assert_int_equal(st.device, 0);
          /* the cuFile stand-in ran where it could (4 KiB-aligned middles) */
          if (c == 1 && r == 0) assert_int_equal(st.gds, 1);
          if (c != 1) assert_int_equal(st.gds, 0);
        }
    free(want);
    free(got);
  }
  unsetenv("SHARDLOAD_TEST_GDS");
  host_engine(1);
  sl_dataset_free(ds);
}

static void test_stage_equals_cpu(void **state) {
  (void)state;
  equals_cpu(dir_le);
}

static void test_stage_big_endian_swapped_by_the_engine(void **state) {
  (void)state;
  equals_cpu(dir_be);
}

static void test_stage_pinned_buffers_reused(void **state) {
  (void)state;
  sl_dataset *ds = open_ds(dir_le);
  int64_t rb = row_bytes(ds), n = ROWS_A;
  char *got = malloc((size_t)(n * rb));
  sl__host_engine_reset();
  int64_t now, peak;
  sl__host_engine_pinned(&now, &peak);
  assert_int_equal(now, 0);
  const int64_t chunk = 8192;
  sl_read_stats st;
  sl_read_stats_init(&st);
  sl_error err;
  assert_int_equal(read_gpu(ds, 0, n, got, 2, chunk, SL_GDS_OFF, &st, &err), SL_OK);
  sl__host_engine_pinned(&now, &peak);
  assert_int_equal(now, 0); /* every buffer given back */
  /* 240 KB through buffers of at most one 8 KiB piece each: 2 workers x 3 slots */
  int64_t bound = 2 * SL_STAGE_SLOTS * chunk;
  assert_true(peak > 0 && peak <= bound);
  assert_true(st.staging_peak > 0 && st.staging_peak <= bound);
  print_message("pinned peak %lld bytes for %lld bytes read (bound %lld)\n", (long long)peak,
                (long long)(n * rb), (long long)bound);
  free(got);
  sl_dataset_free(ds);
}

/* ------------------------------------------------ errors in the pipeline */

static char *fail_base;
static size_t fail_chunk_bytes;
static const size_t fail_a = 3, fail_b = 12; /* of 15 chunks */

static size_t chunk_of(const void *dst) {
  return (size_t)((const char *)dst - fail_base) / fail_chunk_bytes;
}

typedef struct wqueue {
  void *inner;
  size_t chunk[SL_STAGE_SLOTS];
} wqueue;

static sl_status w_queue_new(int dev, int slots, void **q, sl_error *err) {
  wqueue *w = calloc(1, sizeof *w);
  sl_status st = sl__host_engine()->queue_new(dev, slots, &w->inner, err);
  if (st != SL_OK) free(w);
  else *q = w;
  return st;
}

static void w_queue_free(void *q) {
  wqueue *w = q;
  sl__host_engine()->queue_free(w->inner);
  free(w);
}

static sl_status w_submit(void *q, int slot, void *dst, const void *src, size_t n, size_t unit,
                          sl_error *err) {
  wqueue *w = q;
  w->chunk[slot] = chunk_of(dst);
  return sl__host_engine()->submit(w->inner, slot, dst, src, n, unit, err);
}

/* chunks fail_a and fail_b fail; fail_a only after a while, so that
   fail_b's failure is seen first */
static sl_status w_wait(void *q, int slot, sl_error *err) {
  wqueue *w = q;
  sl_status st = sl__host_engine()->wait(w->inner, slot, err);
  size_t c = w->chunk[slot];
  if (c == fail_a) usleep(30 * 1000);
  if (st == SL_OK && (c == fail_a || c == fail_b))
    SL_FAIL(err, SL_EIO, "copy of chunk %zu failed", c);
  return st;
}

static void test_stage_lowest_failing_chunk_wins(void **state) {
  (void)state;
  sl_copy_engine e = *sl__host_engine();
  e.queue_new = w_queue_new;
  e.queue_free = w_queue_free;
  e.submit = w_submit;
  e.wait = w_wait;
  sl__gpu_engine_override(&e);
  sl_dataset *ds = open_ds(dir_le);
  int64_t rb = row_bytes(ds);
  fail_chunk_bytes = (size_t)(4096 / rb * rb); /* rows per 4 KiB piece */
  fail_base = malloc((size_t)(ROWS_A * rb));
  for (int round = 0; round < 6; round++) {
    sl_error err;
    int threads = 1 + round % 4;
    /* rows of the first shard only: chunks are its 4 KiB pieces in order */
    assert_int_equal(read_gpu(ds, 0, 4999, fail_base, threads, 4096, SL_GDS_OFF, NULL, &err),
                     SL_EIO);
    if (strstr(err.message, "copy of chunk 3 failed") == NULL)
      fail_msg("%d threads: expected chunk 3 error, got: %s", threads, err.message);
    assert_non_null(strstr(err.message, "shard_0000.npy"));
    char rows[64];
    int64_t per = (int64_t)(fail_chunk_bytes / (size_t)rb);
    snprintf(rows, sizeof rows, "rows [%lld, %lld)", (long long)(3 * per), (long long)(4 * per));
    assert_non_null(strstr(err.message, rows));
  }
  sl__gpu_engine_override(NULL);
  free(fail_base);
  sl_dataset_free(ds);
  int64_t now, peak;
  sl__host_engine_pinned(&now, &peak);
  assert_int_equal(now, 0); /* buffers freed after the error too */
}

static void test_stage_copy_error_names_the_file(void **state) {
  (void)state;
  sl_dataset *ds = open_ds(dir_le);
  int64_t rb = row_bytes(ds);
  char *got = malloc((size_t)(ROWS_A * rb));
  for (int threads = 1; threads <= 4; threads++) {
    char n[16];
    snprintf(n, sizeof n, "%d", 3 + 5 * threads); /* of about 60 copies */
    setenv("SHARDLOAD_TEST_COPY_FAIL", n, 1);
    sl__host_engine_reset(); /* copies are counted from here */
    host_engine((unsigned)threads);
    sl_error err;
    sl_status st = read_gpu(ds, 0, ROWS_A, got, threads, 4096, SL_GDS_OFF, NULL, &err);
    unsetenv("SHARDLOAD_TEST_COPY_FAIL");
    assert_int_equal(st, SL_EIO);
    assert_non_null(strstr(err.message, "/shard_000"));
    assert_non_null(strstr(err.message, ".npy: copying rows ["));
    assert_non_null(strstr(err.message, "injected failure of copy"));
  }
  int64_t now, peak;
  sl__host_engine_pinned(&now, &peak);
  assert_int_equal(now, 0);
  sl_error err;
  assert_int_equal(read_gpu(ds, 0, 10, got, 1, 4096, SL_GDS_OFF, NULL, &err), SL_OK);
  free(got);
  sl_dataset_free(ds);
}

static void test_stage_read_error_mid_pipeline(void **state) {
  (void)state;
  sl_dataset *ds = open_ds(dir_le);
  int64_t rb = row_bytes(ds);
  char *got = malloc((size_t)(ROWS_A * rb));
  for (int threads = 1; threads <= 4; threads++) {
    sl_error err;
    /* past the open phase's header re-reads (5 shards): a chunk's pread */
    sl__io_fail_at(20, false, false);
    assert_int_equal(read_gpu(ds, 0, ROWS_A, got, threads, 4096, SL_GDS_OFF, NULL, &err),
                     SL_EIO);
    sl__io_fail_at(0, false, false);
    assert_non_null(strstr(err.message, "/shard_000"));
    assert_non_null(strstr(err.message, ".npy"));
  }
  int64_t now, peak;
  sl__host_engine_pinned(&now, &peak);
  assert_int_equal(now, 0);
  free(got);
  sl_dataset_free(ds);
}

/* --------------------------------------------------------- options, tiles */

static void test_stage_memory_option(void **state) {
  (void)state;
  sl_dataset *ds = open_ds(dir_le);
  char buf[64];
  sl_read_options o;
  sl_read_options_init(&o);
  assert_int_equal(o.memory, SL_MEMORY_HOST);
  assert_int_equal(o.device, -1);
  assert_int_equal(o.gds, SL_GDS_AUTO);
  sl_error err = {0};
  o.variant = SL_VARIANT_CPU;
  o.memory = SL_MEMORY_CUDA;
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, buf, &o, NULL, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "option memory"));
  o.variant = SL_VARIANT_GPU;
  o.memory = SL_MEMORY_HOST;
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, buf, &o, NULL, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "SL_MEMORY_CUDA"));
  o.memory = (sl_memory_kind)7;
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, buf, &o, NULL, &err), SL_EINVAL);
  o.memory = SL_MEMORY_CUDA;
  o.device = 1; /* the host engine's buffers are device 0's */
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, buf, &o, NULL, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "option device"));
  o.device = 0;
  o.gds = SL_GDS_ON;
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, buf, &o, NULL, &err), SL_ENOTSUP);
  assert_non_null(strstr(err.message, "GPUDirect Storage"));
  /* AUTO with device memory takes the gpu variant */
  o.variant = SL_VARIANT_AUTO;
  o.gds = SL_GDS_OFF;
  sl_read_stats st;
  sl_read_stats_init(&st);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1, buf, &o, &st, &err), SL_OK);
  assert_int_equal(st.variant, SL_VARIANT_GPU);
  sl_dataset_free(ds);
}

static void test_stage_gpu_tile_read_back_in_blocks(void **state) {
  (void)state;
  sl_dataset *ds = open_ds(dir_le);
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_GPU;
  o.chunk_bytes = 4096;
  sl_array *a;
  sl_read_stats st;
  sl_read_stats_init(&st);
  sl_error err = {0};
  assert_int_equal(sl_load(NULL, ds, &o, &a, &st, &err), SL_OK);
  assert_int_equal(st.device, 0);
  assert_string_equal(st.device_name, "host copy engine (test)");
  assert_true(a->tile.staged);
  assert_int_equal(sl_array_memory_kind(a), SL_MEMORY_HOST);
  assert_int_equal(sl_array_verify_pattern(NULL, a, 11, &err), SL_OK);
  assert_int_equal(sl_array_verify_reread(NULL, a, ds, &err), SL_OK);
  char *out = path_in(dir, "out.npy");
  assert_int_equal(sl_array_write_npy(NULL, a, out, &err), SL_OK);
  struct DLManagedTensor *t;
  assert_int_equal(sl_array_to_dlpack(a, &t, &err), SL_OK);
  sl_array_free(a);
  char *want = read_cpu(ds, 0, ROWS_A);
  FILE *f = fopen(out, "rb");
  assert_non_null(f);
  fseek(f, -(long)(ROWS_A * row_bytes(ds)), SEEK_END);
  char *got = malloc((size_t)(ROWS_A * row_bytes(ds)));
  assert_int_equal(fread(got, 1, (size_t)(ROWS_A * row_bytes(ds)), f), (size_t)(ROWS_A * row_bytes(ds)));
  fclose(f);
  assert_memory_equal(got, want, (size_t)(ROWS_A * row_bytes(ds)));
  /* the export outlives the array; the host engine's memory is the CPU's */
  assert_int_equal(t->dl_tensor.device.device_type, kDLCPU);
  assert_int_equal(t->dl_tensor.device.device_id, 0);
  assert_memory_equal(t->dl_tensor.data, want, 64);
  t->deleter(t);
  free(got);
  free(want);
  free(out);
  sl_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stage_equals_cpu),
      cmocka_unit_test(test_stage_big_endian_swapped_by_the_engine),
      cmocka_unit_test(test_stage_pinned_buffers_reused),
      cmocka_unit_test(test_stage_lowest_failing_chunk_wins),
      cmocka_unit_test(test_stage_copy_error_names_the_file),
      cmocka_unit_test(test_stage_read_error_mid_pipeline),
      cmocka_unit_test(test_stage_memory_option),
      cmocka_unit_test(test_stage_gpu_tile_read_back_in_blocks),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
