/* Discovery: the naming rules, layout errors with file and reason, one probe
   per shard, one open per file, and what a driver may leave open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "sl_test.h"

static void expect(const char *path, const sl_open_options *o, sl_status code,
                   const char *phrase) {
  sl_dataset *ds = NULL;
  sl_error err;
  sl_status st = discover(path, o, &ds, &err);
  if (st != code) fail_msg("expected %s, got %s: %s", sl_status_name(code), sl_status_name(st), err.message);
  if (strstr(err.message, phrase) == NULL) fail_msg("'%s' lacks '%s'", err.message, phrase);
  assert_null(ds);
}

static void test_layout_rejects_missing_and_empty_dirs(void **state) {
  (void)state;
  char *d = make_tmpdir();
  expect(d, NULL, SL_ELAYOUT, "no shard files found");
  char *missing = path_in(d, "nope");
  expect(missing, NULL, SL_ENOENT, "no such file or directory");
  free(missing);
  rm_tree(d);
}

static void test_layout_rejects_hole(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "shard_0000.npy", 3);
  npy_shard(d, "shard_0001.npy", 3);
  npy_shard(d, "shard_0003.npy", 3);
  expect(d, NULL, SL_ELAYOUT, "shard_0002.npy is missing");
  rm_tree(d);
}

static void test_layout_rejects_mismatches_naming_the_file(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "shard_0000.npy", 3);
  write_npy_raw(d, "shard_0001.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 7), }", 84);
  expect(d, NULL, SL_ELAYOUT, "shard_0001.npy: trailing shape (7,) differs from (2,)");
  write_npy_raw(d, "shard_0001.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 48);
  expect(d, NULL, SL_ELAYOUT, "shard_0001.npy: dtype <f8 differs from <f4");
  rm_tree(d);
}

static void test_layout_five_digits_follow_four(void **state) {
  (void)state;
  char *d = make_tmpdir();
  for (int i = 0; i <= 10001; i++) {
    char name[32];
    sprintf(name, "shard_%04d.npy", i);
    npy_shard(d, name, i == 10000 ? 2 : 1);
  }
  sl_dataset *ds;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  assert_int_equal(ds->nshards, 10002);
  assert_non_null(strstr(ds->shards[10000].path, "shard_10000.npy"));
  assert_int_equal(ds->shards[10000].rows, 2);
  assert_non_null(strstr(ds->shards[9999].path, "shard_9999.npy"));
  assert_int_equal(sl_dataset_files_probed(ds), 10002);
  sl_dataset_free(ds);
  rm_tree(d);
}

static void test_layout_pattern_sorts_naturally(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "part-10.npy", 10);
  npy_shard(d, "part-2.npy", 2);
  npy_shard(d, "part-1.npy", 1);
  npy_shard(d, "other.npy", 7);
  sl_open_options o;
  sl_open_options_init(&o);
  o.pattern = "part-*.npy";
  sl_dataset *ds;
  sl_error err;
  assert_int_equal(discover(d, &o, &ds, &err), SL_OK);
  assert_int_equal(ds->nshards, 3);
  assert_int_equal(ds->shards[0].rows, 1);
  assert_int_equal(ds->shards[1].rows, 2);
  assert_int_equal(ds->shards[2].rows, 10);
  assert_int_equal(ds->shape[0], 13);
  sl_dataset_free(ds);
  o.pattern = "nothing*";
  expect(d, &o, SL_ELAYOUT, "no file matches");
  rm_tree(d);
}

static void test_layout_single_file_and_zero_rows(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "shard_0000.npy", 4);
  npy_shard(d, "shard_0001.npy", 0);
  npy_shard(d, "shard_0002.npy", 5);
  sl_dataset *ds;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  assert_int_equal(ds->shape[0], 9);
  assert_int_equal(ds->cum_rows[2], 4);
  sl_dataset_free(ds);
  char *one = path_in(d, "shard_0002.npy");
  assert_int_equal(discover(one, NULL, &ds, &err), SL_OK);
  assert_int_equal(ds->nshards, 1);
  assert_int_equal(ds->shape[0], 5);
  sl_dataset_free(ds);
  free(one);
  rm_tree(d);
}

/* A driver whose files say "ROWS WIDTH" in text; WIDTH -1: cannot tell. */
static sl_status text_probe(const void *state, const sl_source *src, const char *member,
                            sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)member, (void)state;
  char text[64] = {0};
  size_t got;
  long long rows = 0, width = 0;
  SL_TRY(sl_source_read_some(src, 0, sizeof text - 1, text, &got, err));
  if (sscanf(text, "%lld %lld", &rows, &width) != 2)
    SL_FAIL(err, SL_EFORMAT, "%s: not a text shard", sl_source_path(src));
  s->rows = rows;
  *info = (sl_shard_info){.dtype = SL_FLOAT32, .ndim = 2, .shape = {rows, width}};
  return SL_OK;
}

static sl_status text_read(const sl_shard *s, const void *h, const sl_source *src, int64_t lo,
                           int64_t hi, void *dst, sl_error *err) {
  (void)s, (void)h, (void)src, (void)lo, (void)hi, (void)dst;
  SL_FAIL(err, SL_ENOTSUP, "not read in this test");
}

static const char *const text_ext[] = {".txtshard", NULL};
static const sl_driver text_driver = {.abi = SL_DRIVER_ABI, .struct_size = sizeof(sl_driver),
                                      .name = "txtshard", .extensions = text_ext,
                                      .probe = text_probe, .read = text_read};

static void text_shards(const char *d, const char *const *contents, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char name[64];
    snprintf(name, sizeof name, "shard_%04zu.txtshard", i);
    write_bytes(d, name, contents[i], strlen(contents[i]));
  }
}

static void test_layout_shard_without_rows_may_leave_extents_open(void **state) {
  (void)state;
  sl_error err;
  assert_int_equal(sl_register_driver(&text_driver, &err), SL_OK);
  char *d = make_tmpdir();
  text_shards(d, (const char *const[]){"0 -1", "5 3", "0 -1", "2 3"}, 4);
  sl_dataset *ds = NULL;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  int64_t shape[SL_MAX_DIMS];
  assert_int_equal(sl_dataset_shape(ds, shape), 2);
  assert_int_equal(shape[0], 7);
  assert_int_equal(shape[1], 3);
  sl_dataset_free(ds);
  rm_tree(d);

  d = make_tmpdir(); /* no shard tells: an empty array of width 0 */
  text_shards(d, (const char *const[]){"0 -1", "0 -1"}, 2);
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  assert_int_equal(sl_dataset_shape(ds, shape), 2);
  assert_int_equal(shape[0], 0);
  assert_int_equal(shape[1], 0);
  sl_dataset_free(ds);
  rm_tree(d);

  d = make_tmpdir(); /* a later shard still has to agree with the first known */
  text_shards(d, (const char *const[]){"0 -1", "5 3", "2 4"}, 3);
  expect(d, NULL, SL_ELAYOUT, "shard_0002.txtshard: trailing shape (4,) differs from (3,) of");
  rm_tree(d);

  d = make_tmpdir(); /* only a shard without rows may leave an extent open */
  text_shards(d, (const char *const[]){"5 3", "2 -1"}, 2);
  expect(d, NULL, SL_EFORMAT, "shard_0001.txtshard: driver txtshard returned a bad dtype or shape");
  rm_tree(d);
}

/* The rows of each shard, in order, are want[0..n). */
static void expect_rows(const sl_dataset *ds, const int64_t *want, size_t n) {
  if (ds->nshards != n) fail_msg("expected %zu shards, got %zu", n, ds->nshards);
  for (size_t i = 0; i < n; i++)
    if (ds->shards[i].rows != want[i])
      fail_msg("shard %zu (%s): expected %lld rows, got %lld", i, ds->shards[i].path,
               (long long)want[i], (long long)ds->shards[i].rows);
}

static void test_layout_natural_order_is_total(void **state) {
  (void)state;
  assert_true(sl__natural_cmp("part-2", "part-10") < 0);
  assert_true(sl__natural_cmp("part-01", "part-1") < 0);
  assert_true(sl__natural_cmp("part-1", "part-01") > 0);
  assert_true(sl__natural_cmp("part-001", "part-01") < 0);
  assert_int_equal(sl__natural_cmp("part-01", "part-01"), 0);
  assert_true(sl__natural_cmp("a01b2", "a1b02") < 0);
  char *d = make_tmpdir();
  npy_shard(d, "part-1.npy", 1);
  npy_shard(d, "part-01.npy", 2);
  npy_shard(d, "part-001.npy", 3);
  npy_shard(d, "part-2.npy", 4);
  sl_open_options o;
  sl_open_options_init(&o);
  o.pattern = "part-*.npy";
  sl_dataset *ds = NULL;
  sl_error err;
  assert_int_equal(discover(d, &o, &ds, &err), SL_OK);
  expect_rows(ds, (const int64_t[]){3, 2, 1, 4}, 4);
  sl_dataset_free(ds);
  rm_tree(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout_rejects_missing_and_empty_dirs),
      cmocka_unit_test(test_layout_rejects_hole),
      cmocka_unit_test(test_layout_rejects_mismatches_naming_the_file),
      cmocka_unit_test(test_layout_five_digits_follow_four),
      cmocka_unit_test(test_layout_pattern_sorts_naturally),
      cmocka_unit_test(test_layout_single_file_and_zero_rows),
      cmocka_unit_test(test_layout_shard_without_rows_may_leave_extents_open),
      cmocka_unit_test(test_layout_natural_order_is_total),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
