/* The bounded file cache (src/base/cache.c): least recently used idle files
   are closed to stay within the budget, each file of a read is opened once
   however many shards the dataset has, O_DIRECT descriptors come only
   while there is room, identity is checked on open, and a dataset of
   thousands of shards loads under a small RLIMIT_NOFILE at every I/O mode
   and variant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "sl_test.h"

static char *many; /* a directory of NMANY shards of 3 float32 rows x 2 */
enum { NMANY = 3000 };

static int setup(void **state) {
  (void)state;
  find_fixtures();
  many = make_tmpdir();
  for (int i = 0; i < NMANY; i++) {
    char name[32], d[128];
    snprintf(name, sizeof name, "shard_%04d.npy", i);
    snprintf(d, sizeof d, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }");
    write_npy_raw(many, name, 1, d, 24);
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rm_tree(many);
  sl__fd_budget_set(0);
  return 0;
}

/* write_npy_raw fills every shard with the same bytes: rows repeat. */
static void check_rows(const uint8_t *got, int64_t rows) {
  uint8_t want[24];
  sl_pattern_fill(SL_UINT8, 7, 0, 24, want);
  for (int64_t r = 0; r < rows; r++)
    assert_memory_equal(got + r * 8, want + (r % 3) * 8, 8);
}

static void read_many(sl_variant v, sl_io_mode io, int threads, sl_read_stats *st) {
  sl_dataset *ds;
  sl_error err = {0};
  assert_int_equal(sl_dataset_open(NULL, many, NULL, &ds, &err), SL_OK);
  uint8_t *out = malloc(NMANY * 24);
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = v;
  o.io = io;
  o.threads = threads;
  sl_read_stats_init(st);
  if (sl_dataset_read_rows(ds, 0, NMANY * 3, out, &o, st, &err) != SL_OK)
    fail_msg("%s", err.message);
  check_rows(out, NMANY * 3);
  free(out);
  sl_dataset_free(ds);
}

/* Budget 8: every file opened exactly once, never more than 8 open at once
   (plus one per thread pinned past it at most). */
static void test_cache_each_file_opened_once_within_the_budget(void **state) {
  (void)state;
  sl__fd_budget_set(8);
  sl_read_stats st;
  read_many(SL_VARIANT_CPU, SL_IO_BUFFERED, 1, &st);
  assert_int_equal(st.files, NMANY);
  assert_int_equal(st.files_opened, NMANY);
  assert_true(st.open_files_peak <= 8);
  assert_int_equal(st.open_files_limit, 8);
  assert_int_equal(sl__fd_held(), 0); /* the dataset's cache closed them all */
  if (have_omp()) {
    sl__fd_budget_set(8);
    read_many(SL_VARIANT_OMP, SL_IO_BUFFERED, 3, &st);
    assert_int_equal(st.files_opened, NMANY);
    assert_true(st.open_files_peak <= 8 + 3);
  }
}

/* O_DIRECT wants a second descriptor per file: only while there is room,
   and the values are right either way. */
static void test_cache_direct_descriptors_only_with_room(void **state) {
  (void)state;
  sl_io_mode modes[] = {SL_IO_DIRECT, SL_IO_AUTO};
  for (size_t m = 0; m < SL_ARRAY_LEN(modes); m++) {
    sl__fd_budget_set(6);
    sl_read_stats st;
    read_many(have_omp() ? SL_VARIANT_OMP : SL_VARIANT_CPU, modes[m], 2, &st);
    assert_true(st.files_opened >= NMANY && st.files_opened <= 2 * NMANY);
    assert_true(st.open_files_peak <= 6 + 2);
  }
}

/* Under a real RLIMIT_NOFILE of 64 with the budget derived from it. */
static void test_cache_loads_under_a_small_rlimit(void **state) {
  (void)state;
  struct rlimit old, small = {64, 64};
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  small.rlim_max = old.rlim_max;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &small), 0);
  sl__fd_budget_set(20); /* what (64 - open now) / 2 gives a fresh process */
  sl_read_stats st;
  read_many(SL_VARIANT_CPU, SL_IO_DIRECT, 1, &st);
  read_many(have_omp() ? SL_VARIANT_OMP : SL_VARIANT_CPU, SL_IO_AUTO, 4, &st);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

/* Two datasets open at once share one budget: the second evicts the idle
   files the first kept. */
static void test_cache_budget_is_the_process_s(void **state) {
  (void)state;
  sl__fd_budget_set(8);
  sl_dataset *a, *b;
  sl_error err = {0};
  assert_int_equal(sl_dataset_open(NULL, many, NULL, &a, &err), SL_OK);
  assert_int_equal(sl_dataset_open(NULL, many, NULL, &b, &err), SL_OK);
  uint8_t *out = malloc(NMANY * 24);
  assert_int_equal(sl_dataset_read_rows(a, 0, 300, out, NULL, NULL, &err), SL_OK);
  assert_int_equal(sl__fd_held(), 8); /* a keeps a full budget of idle files */
  assert_int_equal(sl_dataset_read_rows(b, 0, 300, out, NULL, NULL, &err), SL_OK);
  assert_true(sl__fd_held() <= 8);
  assert_true(sl__fd_peak() <= 8 + 2);
  check_rows(out, 300);
  sl_dataset_free(a);
  sl_dataset_free(b);
  assert_int_equal(sl__fd_held(), 0);
  free(out);
}

/* The least recently used idle file is the one closed. */
static void test_cache_closes_the_least_recently_used(void **state) {
  (void)state;
  char *d = make_tmpdir();
  char *paths[3];
  sl_file_id ids[3];
  sl_error err = {0};
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "f%d", i);
    write_bytes(d, name, "abc", 3);
    paths[i] = path_in(d, name);
    sl_source s;
    assert_int_equal(sl__source_open(&s, paths[i], &err), SL_OK);
    ids[i] = s.id;
    sl__source_close(&s);
  }
  sl__fd_budget_set(2);
  sl_cache *c;
  assert_int_equal(sl__cache_new(3, paths, ids, &c, &err), SL_OK);
  _Atomic int64_t opened = 0;
  sl_file_ref f;
  int order[] = {0, 1, 0, 2, 0, 1}; /* opens: 0, 1, (0 kept), 2 closes 1, (0), 1 closes 2 */
  for (size_t k = 0; k < SL_ARRAY_LEN(order); k++) {
    assert_int_equal(sl__cache_get(c, (size_t)order[k], false, &opened, &f, &err), SL_OK);
    char b[3];
    assert_int_equal(sl_source_read(&f.src, 0, 3, b, &err), SL_OK);
    sl__cache_put(c, &f);
    assert_true(sl__fd_held() <= 2);
  }
  assert_int_equal(opened, 4);
  ids[2].size = 4; /* discovery saw another file: every open now says so */
  sl__cache_free(c);
  assert_int_equal(sl__cache_new(3, paths, ids, &c, &err), SL_OK);
  assert_int_equal(sl__cache_get(c, 2, false, NULL, &f, &err), SL_ECHANGED);
  assert_non_null(strstr(err.message, "f2 changed since the dataset was opened (size 3, was 4)"));
  sl__cache_free(c);
  for (int i = 0; i < 3; i++) free(paths[i]);
  sl__fd_budget_set(0);
  rm_tree(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cache_each_file_opened_once_within_the_budget),
      cmocka_unit_test(test_cache_direct_descriptors_only_with_room),
      cmocka_unit_test(test_cache_loads_under_a_small_rlimit),
      cmocka_unit_test(test_cache_budget_is_the_process_s),
      cmocka_unit_test(test_cache_closes_the_least_recently_used),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
