/* Discovery: the naming rules, layout errors with file and reason, one probe
   per shard, the broadcast form, and fault injection (every allocation and
   read failure surfaces as an error, never a crash or a leak). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "sl_test.h"

static const char *f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 2), }";

static void shard(const char *where, const char *name, int rows) {
  char d[128];
  sprintf(d, f4, rows);
  write_npy_raw(where, name, 1, d, (size_t)rows * 8);
}

static sl_status discover(const char *path, const sl_open_options *o, sl_dataset **ds,
                          sl_error *err) {
  sl_error_clear(err);
  return sl__discover(path, o, ds, err);
}

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
  shard(d, "shard_0000.npy", 3);
  shard(d, "shard_0001.npy", 3);
  shard(d, "shard_0003.npy", 3);
  expect(d, NULL, SL_ELAYOUT, "shard_0002.npy is missing");
  rm_tree(d);
}

static void test_layout_rejects_mismatches_naming_the_file(void **state) {
  (void)state;
  char *d = make_tmpdir();
  shard(d, "shard_0000.npy", 3);
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
    shard(d, name, i == 10000 ? 2 : 1);
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
  shard(d, "part-10.npy", 10);
  shard(d, "part-2.npy", 2);
  shard(d, "part-1.npy", 1);
  shard(d, "other.npy", 7);
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
  shard(d, "shard_0000.npy", 4);
  shard(d, "shard_0001.npy", 0);
  shard(d, "shard_0002.npy", 5);
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

static void test_layout_pack_round_trip(void **state) {
  (void)state;
  char *d = make_tmpdir();
  shard(d, "shard_0000.npy", 4);
  shard(d, "shard_0001.npy", 6);
  sl_dataset *ds, *back;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  char *buf;
  size_t n;
  assert_int_equal(sl__dataset_pack(ds, &buf, &n, &err), SL_OK);
  assert_int_equal(sl__dataset_unpack(buf, n, &back, &err), SL_OK);
  assert_int_equal(back->nshards, 2);
  assert_string_equal(back->shards[1].path, ds->shards[1].path);
  assert_memory_equal(back->shards[1].param, ds->shards[1].param, sizeof ds->shards[1].param);
  assert_memory_equal(back->cum_rows, ds->cum_rows, 3 * sizeof(int64_t));
  assert_int_equal(back->row_bytes, 8);
  assert_int_equal(sl_dataset_files_probed(back), 0); /* other ranks open nothing */
  for (size_t cut = 0; cut < n; cut += 7) { /* every truncation is refused, not misread */
    sl_dataset *bad = NULL;
    sl_error_clear(&err);
    assert_int_not_equal(sl__dataset_unpack(buf, cut, &bad, &err), SL_OK);
    assert_null(bad);
  }
  sl__free(buf);
  sl_dataset_free(back);
  sl_dataset_free(ds);
  rm_tree(d);
}

/* Fail the 1st, 2nd, ... allocation until the whole open + read no longer
   reaches the nth; every failure that fired must surface as SL_ENOMEM. */
static void test_layout_every_allocation_failure_is_enomem(void **state) {
  (void)state;
  char *d = make_tmpdir();
  shard(d, "shard_0000.npy", 40);
  shard(d, "shard_0001.npy", 30);
  float out[140];
  long nth;
  for (nth = 1;; nth++) {
    sl__alloc_fail_at(nth, false);
    sl_dataset *ds = NULL;
    sl_error err;
    sl_status st = discover(d, NULL, &ds, &err);
    if (st == SL_OK) st = sl_dataset_read_rows(ds, 0, 70, out, NULL, NULL, &err);
    bool fired = sl__alloc_fired();
    sl__alloc_fail_at(0, false);
    sl_dataset_free(ds);
    if (!fired) {
      assert_int_equal(st, SL_OK);
      break;
    }
    if (st != SL_ENOMEM) fail_msg("allocation %ld: %s %s", nth, sl_status_name(st), err.message);
    assert_true(nth < 1000);
  }
  assert_true(nth > 10); /* discovery and the read allocate more than a few times */
  rm_tree(d);
}

static void test_layout_read_failures_name_the_file(void **state) {
  (void)state;
  char *d = make_tmpdir();
  shard(d, "shard_0000.npy", 40);
  shard(d, "shard_0001.npy", 30);
  sl_dataset *ds;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  float out[140];
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_CPU;
  o.io = SL_IO_BUFFERED;
  sl__io_fail_at(2, false, false); /* EIO on the second shard */
  sl_error_clear(&err);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 70, out, &o, NULL, &err), SL_EIO);
  assert_non_null(strstr(err.message, "shard_0001.npy: read of"));
  sl__io_fail_at(1, true, true); /* every read comes back short: the loop absorbs it */
  sl_error_clear(&err);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 70, out, &o, NULL, &err), SL_OK);
  sl__io_fail_at(0, false, false);
  sl_dataset_free(ds);
  rm_tree(d);
}

/* A driver whose files say "ROWS WIDTH" in text; WIDTH -1: cannot tell. */
static sl_status text_probe(const char *path, const char *member, const sl_open_options *o,
                            sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)member, (void)o;
  FILE *f = fopen(path, "r");
  long long rows = 0, width = 0;
  bool ok = f != NULL && fscanf(f, "%lld %lld", &rows, &width) == 2;
  if (f != NULL) fclose(f);
  if (!ok) SL_FAIL(err, SL_EFORMAT, "%s: not a text shard", path);
  s->rows = rows;
  *info = (sl_shard_info){.dtype = SL_FLOAT32, .ndim = 2, .shape = {rows, width}};
  return SL_OK;
}

static sl_status text_read(const sl_shard *s, int64_t lo, int64_t hi, void *dst,
                           sl_error *err) {
  (void)s, (void)lo, (void)hi, (void)dst;
  SL_FAIL(err, SL_ENOTSUP, "not read in this test");
}

static const char *const text_ext[] = {".txtshard", NULL};
static const sl_driver text_driver = {.name = "txtshard", .extensions = text_ext,
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout_rejects_missing_and_empty_dirs),
      cmocka_unit_test(test_layout_rejects_hole),
      cmocka_unit_test(test_layout_rejects_mismatches_naming_the_file),
      cmocka_unit_test(test_layout_five_digits_follow_four),
      cmocka_unit_test(test_layout_pattern_sorts_naturally),
      cmocka_unit_test(test_layout_single_file_and_zero_rows),
      cmocka_unit_test(test_layout_shard_without_rows_may_leave_extents_open),
      cmocka_unit_test(test_layout_pack_round_trip),
      cmocka_unit_test(test_layout_every_allocation_failure_is_enomem),
      cmocka_unit_test(test_layout_read_failures_name_the_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
