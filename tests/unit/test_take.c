/* The gather (sl_dataset_gather_rows, core/take.c) against a reference: the
   whole array read by sl_dataset_read_rows and indexed by hand. Random
   index sets (unsorted, repeated, runs, reversed), every variant, small
   chunk sizes (spans split), npy and Parquet (direct and decoding paths),
   more shards than a window, handles kept across calls, a rewritten file
   noticed, out-of-range indices refused with their position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "sl_test.h"

static uint64_t rng = 7;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static sl_dataset *open_ds(const char *path) {
  sl_dataset *d = NULL;
  sl_error err = {0};
  if (sl_dataset_open(NULL, path, NULL, &d, &err) != SL_OK) fail_msg("%s", err.message);
  return d;
}

/* The whole array, by the range read. */
static char *whole(const sl_dataset *d, int64_t *rb) {
  *rb = sl_dataset_nbytes(d) / SL_MAX(d->shape[0], 1);
  char *all = malloc((size_t)sl_dataset_nbytes(d) + 1);
  sl_error err = {0};
  if (sl_dataset_read_rows(d, 0, d->shape[0], all, NULL, NULL, &err) != SL_OK)
    fail_msg("%s", err.message);
  return all;
}

static void check(const sl_dataset *d, const char *all, int64_t rb, const int64_t *idx,
                  size_t n, const sl_read_options *o) {
  char *got = malloc((size_t)n * (size_t)rb + 1);
  sl_error err = {0};
  sl_read_stats st;
  sl_read_stats_init(&st);
  if (sl_dataset_gather_rows(d, idx, n, got, o, &st, &err) != SL_OK) fail_msg("%s", err.message);
  for (size_t k = 0; k < n; k++)
    if (memcmp(got + k * (size_t)rb, all + (size_t)idx[k] * (size_t)rb, (size_t)rb) != 0)
      fail_msg("row %zu (global %lld) differs", k, (long long)idx[k]);
  assert_int_equal(st.rows, (int64_t)n);
  free(got);
}

/* Index sets of every shape the gather treats differently. */
static void run_sets(const sl_dataset *d, const sl_read_options *o) {
  int64_t rb, N = d->shape[0];
  char *all = whole(d, &rb);
  int64_t *idx = malloc(4096 * sizeof *idx);
  check(d, all, rb, idx, 0, o); /* empty */
  for (int t = 0; t < 30; t++) {
    size_t n = 1 + next() % 4096;
    int kind = t % 5;
    int64_t a = (int64_t)(next() % (uint64_t)N);
    for (size_t k = 0; k < n; k++) {
      switch (kind) {
        case 0: idx[k] = (int64_t)(next() % (uint64_t)N); break;                 /* random */
        case 1: idx[k] = (a + (int64_t)k) % N; break;                             /* a run */
        case 2: idx[k] = N - 1 - (int64_t)(k % (size_t)N); break;                 /* reversed */
        case 3: idx[k] = (int64_t)(next() % 5) + a / 2; break;                     /* repeats */
        default: idx[k] = k % 3 ? (a + (int64_t)k / 3) % N : (int64_t)(next() % (uint64_t)N);
      }
      if (idx[k] >= N) idx[k] = N - 1;
    }
    check(d, all, rb, idx, n, o);
  }
  free(idx);
  free(all);
}

static void run_variants(const char *path) {
  sl_dataset *d = open_ds(path);
  sl_variant vs[] = {SL_VARIANT_AUTO, SL_VARIANT_CPU, SL_VARIANT_OMP};
  for (size_t v = 0; v < SL_ARRAY_LEN(vs); v++) {
    if (vs[v] == SL_VARIANT_OMP && !have_omp()) continue;
    sl_read_options o;
    sl_read_options_init(&o);
    o.variant = vs[v];
    o.threads = vs[v] == SL_VARIANT_OMP ? 3 : 0;
    run_sets(d, &o);
    o.chunk_bytes = 4096; /* spans cut short */
    run_sets(d, &o);
  }
  sl_dataset_free(d);
}

static const int64_t npy_rows[] = {700, 0, 1234, 5, 999, 1, 3000};

static void test_take_npy_matches_reference(void **state) {
  (void)state;
  char *d = path_in(dir, "npy");
  mkdir(d, 0755);
  const int64_t trailing[] = {3};
  assert_int_equal(write_pattern_shards(d, SL_FLOAT32, 3, 1, trailing, npy_rows,
                                        SL_ARRAY_LEN(npy_rows)), 0);
  run_variants(d);
  free(d);
}

static void test_take_parquet_matches_reference(void **state) {
  (void)state;
  NEED_FORMAT("parquet");
  char *d = path_in(dir, "pq");
  mkdir(d, 0755);
  for (int i = 0; i < 3; i++) {
    int64_t shape[2] = {2000 + 777 * i, 4};
    double *v = malloc((size_t)(shape[0] * shape[1]) * sizeof *v);
    sl_pattern_fill(SL_FLOAT64, 11, i * 100000, shape[0] * shape[1], v);
    char name[32];
    sprintf(name, "shard_%04d.parquet", i);
    char *p = path_in(d, name);
    sl_error err = {0};
    if (sl_write_shard("parquet", p, SL_FLOAT64, 2, shape, v, &err) != SL_OK)
      fail_msg("%s", err.message);
    free(p);
    free(v);
  }
  run_variants(d);
  free(d);
}

/* 300 shards of 3 rows: windows of shards and handles trimmed past 256. */
static void test_take_many_shards(void **state) {
  (void)state;
  char *d = path_in(dir, "many");
  mkdir(d, 0755);
  int64_t rows[300];
  for (size_t i = 0; i < SL_ARRAY_LEN(rows); i++) rows[i] = 3;
  const int64_t trailing[] = {2};
  assert_int_equal(write_pattern_shards(d, SL_INT16, 5, 1, trailing, rows, 300), 0);
  sl_dataset *ds = open_ds(d);
  sl_read_options o;
  sl_read_options_init(&o);
  run_sets(ds, &o);
  sl_dataset_free(ds);
  free(d);
}

/* A second call opens nothing; a file rewritten between calls is named. */
static void test_take_keeps_handles_and_checks_files(void **state) {
  (void)state;
  char *d = path_in(dir, "keep");
  mkdir(d, 0755);
  const int64_t trailing[] = {3}, rows[] = {10, 10};
  assert_int_equal(write_pattern_shards(d, SL_FLOAT32, 3, 1, trailing, rows, 2), 0);
  sl_dataset *ds = open_ds(d);
  int64_t idx[] = {15, 2, 15, 19, 0};
  float got[5 * 3];
  sl_error err = {0};
  sl_read_stats st;
  sl_read_stats_init(&st);
  assert_int_equal(sl_dataset_gather_rows(ds, idx, 5, got, NULL, &st, &err), SL_OK);
  assert_int_equal(st.files_opened, 2);
  assert_int_equal(st.files, 2);
  assert_int_equal(sl_dataset_gather_rows(ds, idx, 5, got, NULL, &st, &err), SL_OK);
  assert_int_equal(st.files_opened, 0);
  char *p = path_in(d, "shard_0001.npy");
  FILE *f = fopen(p, "ab"); /* the same inode, grown */
  fputs("xxxx", f);
  fclose(f);
  free(p);
  assert_int_equal(sl_dataset_gather_rows(ds, idx, 5, got, NULL, NULL, &err), SL_ECHANGED);
  assert_non_null(strstr(err.message, "shard_0001.npy changed since the dataset was opened"));
  sl_dataset_free(ds);
  free(d);
}

static void test_take_refuses_out_of_range(void **state) {
  (void)state;
  char *d = path_in(dir, "range");
  mkdir(d, 0755);
  const int64_t trailing[] = {3}, rows[] = {10, 10};
  assert_int_equal(write_pattern_shards(d, SL_FLOAT32, 3, 1, trailing, rows, 2), 0);
  sl_dataset *ds = open_ds(d);
  float got[4 * 3];
  sl_error err = {0};
  int64_t bad[] = {1, 2, 20, 3};
  assert_int_equal(sl_dataset_gather_rows(ds, bad, 4, got, NULL, NULL, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "row index 20 (at position 2) is outside [0, 20)"));
  int64_t neg[] = {-1};
  assert_int_equal(sl_dataset_gather_rows(ds, neg, 1, got, NULL, NULL, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "row index -1 (at position 0)"));
  assert_int_equal(sl_dataset_gather_rows(ds, bad, 0, NULL, NULL, NULL, &err), SL_OK);
  assert_int_equal(sl_dataset_gather_rows(ds, NULL, 2, got, NULL, NULL, &err), SL_EINVAL);
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_GPU;
  assert_int_not_equal(sl_dataset_gather_rows(ds, bad, 2, got, &o, NULL, &err), SL_OK);
  assert_int_equal(err.code, SL_ENOTSUP);
  sl_dataset_free(ds);
  free(d);
}

/* Gathers from several threads at once share the handle and file caches
   (ThreadSanitizer watches this one); 300 shards keep handles being trimmed. */
typedef struct worker {
  const sl_dataset *d;
  const char *all;
  int64_t rb;
  uint64_t seed;
  int bad;
} worker;

static void *gather_thread(void *arg) {
  worker *w = arg;
  int64_t N = w->d->shape[0], idx[512];
  char *got = malloc(512 * (size_t)w->rb);
  for (int t = 0; t < 40; t++) {
    for (int k = 0; k < 512; k++) {
      w->seed = w->seed * 6364136223846793005ULL + 1442695040888963407ULL;
      idx[k] = (int64_t)((w->seed >> 33) % (uint64_t)N);
    }
    sl_error err = {0};
    if (sl_dataset_gather_rows(w->d, idx, 512, got, NULL, NULL, &err) != SL_OK) w->bad++;
    for (int k = 0; k < 512; k++)
      w->bad += memcmp(got + k * w->rb, w->all + idx[k] * w->rb, (size_t)w->rb) != 0;
  }
  free(got);
  return NULL;
}

static void test_take_concurrent_callers(void **state) {
  (void)state;
  char *d = path_in(dir, "threads");
  mkdir(d, 0755);
  int64_t rows[300];
  for (size_t i = 0; i < SL_ARRAY_LEN(rows); i++) rows[i] = 1 + (int64_t)(i % 7);
  const int64_t trailing[] = {3};
  assert_int_equal(write_pattern_shards(d, SL_FLOAT32, 9, 1, trailing, rows, 300), 0);
  sl_dataset *ds = open_ds(d);
  int64_t rb;
  char *all = whole(ds, &rb);
  pthread_t th[4];
  worker w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (worker){ds, all, rb, (uint64_t)i + 1, 0};
    pthread_create(&th[i], NULL, gather_thread, &w[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(w[i].bad, 0);
  }
  free(all);
  sl_dataset_free(ds);
  free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_take_npy_matches_reference),
      cmocka_unit_test(test_take_parquet_matches_reference),
      cmocka_unit_test(test_take_many_shards),
      cmocka_unit_test(test_take_keeps_handles_and_checks_files),
      cmocka_unit_test(test_take_refuses_out_of_range),
      cmocka_unit_test(test_take_concurrent_callers),
  };
  return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
