/* Opening shards for reading (src/core/leaf.c): a shard replaced or changed
   between discovery and the read is an error naming it, for every driver,
   never different values or a crash. Two lines of defence are tested: the
   file's identity (device, inode, size, mtime) against discovery, and, when
   the identity was forged back, the driver's re-read header against the
   dataset's dtype and shape. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <cmocka.h>

#include "sl_test.h"

/* Writes shard i of a two-shard dataset in format fmt: dtype t, rows x width. */
static void write_shard(const char *d, const char *fmt, const char *ext, int i, sl_dtype t,
                        int64_t rows, int64_t width) {
  char name[64];
  snprintf(name, sizeof name, "shard_%04d%s", i, ext);
  char *p = path_in(d, name);
  int64_t shape[2] = {rows, width};
  size_t n = (size_t)(rows * width) * sl_dtype_size(t);
  void *data = malloc(n + 1);
  sl_pattern_fill(t, 3, 0, rows * width, data);
  sl_error err = {0};
  if (sl_write_shard(fmt, p, t, 2, shape, data, &err) != SL_OK) fail_msg("%s", err.message);
  free(data);
  free(p);
}

static void expect_changed(const sl_dataset *ds, const char *name) {
  sl_error err = {0};
  int64_t n = sl_dataset_nbytes(ds);
  void *out = malloc((size_t)n + 1);
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_CPU;
  int64_t shape[SL_MAX_DIMS];
  sl_dataset_shape(ds, shape);
  sl_status st = sl_dataset_read_rows(ds, 0, shape[0], out, &o, NULL, &err);
  free(out);
  if (st != SL_ECHANGED) fail_msg("expected SL_ECHANGED, got %s: %s", sl_status_name(st), err.message);
  if (strstr(err.message, name) == NULL || strstr(err.message, "changed since the dataset was "
                                                               "opened") == NULL)
    fail_msg("%s", err.message);
}

/* For each driver that writes: shard 1 replaced (a new file under its name,
   same rows, another dtype or width) after the dataset was opened. */
static void test_leaf_replaced_shard_is_named_by_every_driver(void **state) {
  (void)state;
  static const struct {
    const char *fmt, *ext;
  } formats[] = {{"npy", ".npy"}, {"raw", ".bin"}, {"hdf5", ".h5"}, {"parquet", ".parquet"}};
  for (size_t f = 0; f < SL_ARRAY_LEN(formats); f++) {
    if (sl_format_extension(formats[f].fmt, NULL) == NULL) {
      print_message("SKIPPED (this case only): the %s driver is not in this build\n",
                    formats[f].fmt);
      continue;
    }
    char *d = make_tmpdir();
    write_shard(d, formats[f].fmt, formats[f].ext, 0, SL_FLOAT32, 10, 2);
    write_shard(d, formats[f].fmt, formats[f].ext, 1, SL_FLOAT32, 7, 2);
    sl_open_options o;
    sl_open_options_init(&o);
    o.dtype = strcmp(formats[f].fmt, "raw") == 0 ? "<f4" : NULL;
    o.trailing = o.dtype ? "2" : NULL;
    sl_dataset *ds;
    sl_error err = {0};
    if (sl_dataset_open(NULL, d, &o, &ds, &err) != SL_OK) fail_msg("%s", err.message);
    write_shard(d, formats[f].fmt, formats[f].ext, 1, SL_FLOAT64, 7, 2); /* wider rows */
    char name[32];
    snprintf(name, sizeof name, "shard_0001%s", formats[f].ext);
    expect_changed(ds, name);
    sl_dataset_free(ds);
    rm_tree(d);
  }
}

/* Arrow has no writer: the corpus's files stand in, the second replaced by
   a file of other columns. */
static void test_leaf_replaced_arrow_shard_is_named(void **state) {
  (void)state;
  NEED_FORMAT("arrow");
  char corpus[4200];
  snprintf(corpus, sizeof corpus, "%s", __FILE__);
  *strrchr(corpus, '/') = '\0';
  strncat(corpus, "/../fuzz/corpus/arrow_footer", sizeof corpus - strlen(corpus) - 1);
  char *d = make_tmpdir(), cmd[9000];
  snprintf(cmd, sizeof cmd, "cp '%s/single_f8.arrow' '%s/shard_0000.arrow' && cp "
           "'%s/single_f8.arrow' '%s/shard_0001.arrow'", corpus, d, corpus, d);
  assert_int_equal(system(cmd), 0);
  sl_open_options o;
  sl_open_options_init(&o);
  o.columns = "x";
  sl_dataset *ds;
  sl_error err = {0};
  if (sl_dataset_open(NULL, d, &o, &ds, &err) != SL_OK) fail_msg("%s", err.message);
  snprintf(cmd, sizeof cmd, "cp '%s/fsl_f8_zstd.arrow' '%s/new' && mv '%s/new' "
           "'%s/shard_0001.arrow'", corpus, d, d, d);
  assert_int_equal(system(cmd), 0);
  expect_changed(ds, "shard_0001.arrow");
  sl_dataset_free(ds);
  rm_tree(d);
}

/* Rewritten in place with the same size and the old mtime put back: the
   identity matches, and the npy driver's re-read header (int32 now, not
   float32) is what catches it. */
static void test_leaf_forged_identity_is_caught_by_the_header(void **state) {
  (void)state;
  char *d = make_tmpdir();
  write_shard(d, "npy", ".npy", 0, SL_FLOAT32, 10, 2);
  sl_dataset *ds;
  sl_error err = {0};
  assert_int_equal(sl_dataset_open(NULL, d, NULL, &ds, &err), SL_OK);
  char *p = path_in(d, "shard_0000.npy");
  struct stat before;
  assert_int_equal(stat(p, &before), 0);
  FILE *f = fopen(p, "r+b");
  char head[128];
  assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
  char *descr = memmem(head, sizeof head, "<f4", 3);
  assert_non_null(descr);
  descr[1] = 'i';
  fseek(f, 0, SEEK_SET);
  fwrite(head, 1, sizeof head, f);
  fclose(f);
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
  expect_changed(ds, "shard_0000.npy");
  free(p);
  sl_dataset_free(ds);
  rm_tree(d);
}

/* Between two reads of the same dataset (files kept open in its cache) a
   shard rewritten in place is noticed by the second read. */
static void test_leaf_rewrite_between_reads_is_noticed(void **state) {
  (void)state;
  char *d = make_tmpdir();
  write_shard(d, "npy", ".npy", 0, SL_FLOAT32, 10, 2);
  write_shard(d, "npy", ".npy", 1, SL_FLOAT32, 7, 2);
  sl_dataset *ds;
  sl_error err = {0};
  assert_int_equal(sl_dataset_open(NULL, d, NULL, &ds, &err), SL_OK);
  float out[34];
  assert_int_equal(sl_dataset_read_rows(ds, 0, 17, out, NULL, NULL, &err), SL_OK);
  char *p = path_in(d, "shard_0000.npy");
  FILE *f = fopen(p, "ab"); /* the same inode, grown */
  fputs("xxxx", f);
  fclose(f);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 17, out, NULL, NULL, &err), SL_ECHANGED);
  assert_non_null(strstr(err.message, "shard_0000.npy changed since the dataset was opened "
                                      "(size"));
  free(p);
  sl_dataset_free(ds);
  rm_tree(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_leaf_replaced_shard_is_named_by_every_driver),
      cmocka_unit_test(test_leaf_replaced_arrow_shard_is_named),
      cmocka_unit_test(test_leaf_forged_identity_is_caught_by_the_header),
      cmocka_unit_test(test_leaf_rewrite_between_reads_is_noticed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
