/* Discovery: the naming rules, layout errors with file and reason, one probe
   per shard, one open per file, and what a driver may leave open. */
#include <errno.h>
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

/* ------------------------------------------------- several inputs, finding */

/* Discovery of several inputs; the report cleared first. */
static sl_status discover_n(const char *const *paths, size_t n, const sl_open_options *o,
                            sl_dataset **ds, sl_error *err) {
  sl_error_clear(err);
  return sl__discover_paths(paths, n, o, ds, err);
}

static void expect_n(const char *const *paths, size_t n, const sl_open_options *o,
                     sl_status code, const char *phrase) {
  sl_dataset *ds = NULL;
  sl_error err;
  sl_status st = discover_n(paths, n, o, &ds, &err);
  if (st != code)
    fail_msg("expected %s, got %s: %s", sl_status_name(code), sl_status_name(st), err.message);
  if (strstr(err.message, phrase) == NULL) fail_msg("'%s' lacks '%s'", err.message, phrase);
  assert_null(ds);
}

/* The message of a discovery that fails with code, exactly. */
static void expect_exact(const char *path, const sl_open_options *o, sl_status code,
                         const char *want) {
  sl_dataset *ds = NULL;
  sl_error err;
  sl_status st = discover(path, o, &ds, &err);
  if (st != code)
    fail_msg("expected %s, got %s: %s", sl_status_name(code), sl_status_name(st), err.message);
  assert_string_equal(err.message, want);
  assert_null(ds);
}

static void mkdirs(const char *top, const char *rel) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", top, rel);
  for (char *s = p + strlen(top) + 1; (s = strchr(s, '/')) != NULL; s++) {
    *s = '\0';
    mkdir(p, 0755);
    *s = '/';
  }
  mkdir(p, 0755);
}

/* top/rel (folders made): an npy shard of rows rows. */
static void npy_at(const char *top, const char *rel, int rows) {
  char folder[4096];
  const char *slash = strrchr(rel, '/');
  if (slash == NULL) {
    npy_shard(top, rel, rows);
    return;
  }
  snprintf(folder, sizeof folder, "%.*s", (int)(slash - rel), rel);
  mkdirs(top, folder);
  char *p = path_in(top, folder);
  npy_shard(p, slash + 1, rows);
  free(p);
}

static void test_layout_several_inputs_in_order(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_at(d, "a/shard_0000.npy", 1);
  npy_at(d, "a/shard_0001.npy", 2);
  npy_at(d, "x.npy", 3);
  npy_at(d, "b/part-2.npy", 5);
  npy_at(d, "b/part-10.npy", 6);
  char *a = path_in(d, "a"), *x = path_in(d, "x.npy"), *b = path_in(d, "b");
  const char *in[] = {x, a, x, b};
  sl_open_options o;
  sl_open_options_init(&o);
  o.pattern = "part-*.npy"; /* inside each directory; a with its shard_NNNN too */
  expect_n(in, 4, &o, SL_ELAYOUT, "/a: no file matches the pattern 'part-*.npy'");
  o.pattern = "*.npy";
  sl_dataset *ds = NULL;
  sl_error err;
  assert_int_equal(discover_n(in, 4, &o, &ds, &err), SL_OK);
  expect_rows(ds, (const int64_t[]){3, 1, 2, 3, 5, 6}, 6);
  assert_string_equal(ds->root, x);
  assert_int_equal(ds->shape[0], 20);
  assert_string_equal(ds->shards[4].path + strlen(d), "/b/part-2.npy");

  /* every file's path travels in the broadcast */
  char *buf = NULL;
  size_t len = 0;
  sl_dataset *back = NULL;
  assert_int_equal(sl__dataset_pack(ds, &buf, &len, &err), SL_OK);
  assert_int_equal(sl__dataset_unpack(buf, len, &back, &err), SL_OK);
  assert_string_equal(back->root, ds->root);
  assert_int_equal(back->nfiles, 6);
  for (size_t i = 0; i < ds->nshards; i++) {
    assert_string_equal(back->shards[i].path, ds->shards[i].path);
    assert_int_equal(back->cum_rows[i + 1], ds->cum_rows[i + 1]);
  }
  sl__free(buf);
  sl_dataset_free(back);
  sl_dataset_free(ds);

  /* the public call, and one path as a list of one */
  const char *one[] = {a};
  assert_int_equal(sl_dataset_open_paths(NULL, one, 1, NULL, &ds, &err), SL_OK);
  expect_rows(ds, (const int64_t[]){1, 2}, 2);
  sl_dataset_free(ds);
  free(a), free(x), free(b);
  rm_tree(d);
}

static void test_layout_pattern_crosses_folders(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_at(d, "glob1/part-1.npy", 1);
  npy_at(d, "glob1/part-10.npy", 10);
  npy_at(d, "glob1/sub/part-3.npy", 3);
  npy_at(d, "glob2/part-2.npy", 2);
  npy_at(d, "other/part-0.npy", 7);
  npy_at(d, "other/other/part-4.npy", 4);
  npy_at(d, "_tmp/part-9.npy", 9);
  npy_at(d, ".hidden/part-8.npy", 8);
  sl_open_options o;
  sl_open_options_init(&o);
  struct {
    const char *pattern;
    size_t n;
    int64_t rows[8];
  } cases[] = {
      {"glob*/part-*.npy", 3, {1, 10, 2}},
      {"**/*.npy", 6, {1, 10, 3, 2, 4, 7}},    /* never into _tmp or .hidden */
      {"**/part-3.npy", 1, {3}},               /* ** over two folders */
      {"glob1/**/*.npy", 3, {1, 10, 3}},       /* and over none */
      {"**/**/glob1/**/part-3.npy", 1, {3}},   /* ** twice is ** once */
      {"**/other/**/*.npy", 2, {4, 7}},        /* other/other/part-4 found once */
      {"glob1/**", 3, {1, 10, 3}},             /* a last ** : every file below */
      {"/glob2//part-2.npy", 1, {2}},          /* empty components dropped */
      {"_tmp/*.npy", 1, {9}},                  /* named explicitly */
      {".hidden/*.npy", 1, {8}},
  };
  for (size_t k = 0; k < SL_ARRAY_LEN(cases); k++) {
    o.pattern = cases[k].pattern;
    sl_dataset *ds = NULL;
    sl_error err;
    if (discover(d, &o, &ds, &err) != SL_OK) fail_msg("%s: %s", o.pattern, err.message);
    print_message("pattern %s\n", o.pattern);
    expect_rows(ds, cases[k].rows, cases[k].n);
    sl_dataset_free(ds);
  }
  o.pattern = "*/nothing*.npy";
  expect(d, &o, SL_ELAYOUT, "no file matches the pattern '*/nothing*.npy'");
  o.pattern = "*"; /* folders are no shards */
  expect(d, &o, SL_ELAYOUT, "no file matches the pattern '*'");
  rm_tree(d);
}

static void test_layout_hive_folders(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_at(d, "h/year=2023/month=1/part-0.npy", 1);
  npy_at(d, "h/year=2023/month=2/part-0.npy", 2);
  npy_at(d, "h/year=2023/month=10/part-0.npy", 10);
  npy_at(d, "h/year=2023/month=10/part-1.npy", 11);
  npy_at(d, "h/year=2024/month=1/part-0.npy", 4);
  npy_at(d, "h/year=2023/_temporary/part-0.npy", 99); /* a writer's leftovers */
  npy_at(d, "h/year=2023/notakey/part-0.npy", 98);    /* not a partition folder */
  char *h = path_in(d, "h"), *m1 = path_in(h, "year=2023/month=1");
  write_bytes(h, "_SUCCESS", "", 0);
  write_bytes(m1, ".part-0.npy.crc", "crc", 3);
  write_bytes(m1, "README.txt", "no driver claims this", 21);
  sl_dataset *ds = NULL;
  sl_error err;
  assert_int_equal(discover(h, NULL, &ds, &err), SL_OK);
  expect_rows(ds, (const int64_t[]){1, 2, 10, 11, 4}, 5);
  assert_string_equal(ds->shards[2].path + strlen(h), "/year=2023/month=10/part-0.npy");
  sl_dataset_free(ds);

  /* Parquet, as pyarrow and Spark write it */
  const sl_driver *pq = sl__driver_by_name("parquet");
  char *p = path_in(d, "p");
  mkdirs(d, "p/k=a");
  mkdirs(d, "p/k=b");
  write_bytes(p, "_common_metadata", "PAR1", 4);
  float v[6] = {1, 2, 3, 4, 5, 6};
  const char *names[] = {"p/k=b/part-0.parquet", "p/k=a/part-0.parquet"};
  for (int i = 0; pq != NULL && i < 2; i++) {
    char *f = path_in(d, names[i]);
    assert_int_equal(sl_write_shard("parquet", f, SL_FLOAT32, 1, (int64_t[]){i + 2}, v, &err),
                     SL_OK);
    free(f);
  }
  if (pq != NULL) {
    assert_int_equal(discover(p, NULL, &ds, &err), SL_OK);
    assert_string_equal(sl_dataset_format(ds), "parquet");
    expect_rows(ds, (const int64_t[]){3, 2}, 2);
    sl_dataset_free(ds);
    /* two formats in the folders: refused; option format chooses */
    char *kb = path_in(p, "k=b");
    npy_shard(kb, "part-1.npy", 5);
    expect(p, NULL, SL_ELAYOUT, "/k=b/part-1.npy: a npy file, but ");
    sl_open_options o;
    sl_open_options_init(&o);
    o.format = "npy";
    assert_int_equal(discover(p, &o, &ds, &err), SL_OK);
    expect_rows(ds, (const int64_t[]){5}, 1);
    sl_dataset_free(ds);
    free(kb);
  } else {
    print_message("parquet driver not built: its Hive case skipped\n");
  }
  free(p), free(h), free(m1);
  rm_tree(d);
}

/* top/rel, a symbolic link to target. */
static void link_at(const char *top, const char *rel, const char *target) {
  char *p = path_in(top, rel);
  if (symlink(target, p) != 0) fail_msg("symlink %s: %s", p, strerror(errno));
  free(p);
}

/* Discovery of d with pattern (NULL: none) finds rows, the last shard at
   the path last (relative to d). */
static void expect_found(const char *d, const char *pattern, const char *format,
                         const int64_t *rows, size_t n, const char *last) {
  sl_open_options o;
  sl_open_options_init(&o);
  o.pattern = pattern;
  o.format = format;
  sl_dataset *ds = NULL;
  sl_error err;
  if (discover(d, &o, &ds, &err) != SL_OK)
    fail_msg("%s: %s", pattern ? pattern : "(no pattern)", err.message);
  print_message("pattern %s\n", pattern ? pattern : "(none)");
  expect_rows(ds, rows, n);
  assert_string_equal(ds->shards[n - 1].path + strlen(d), last);
  sl_dataset_free(ds);
}

/* Links to an ancestor (two make the walk exponential), a key=value link to
   a sibling and a file link: ** and the Hive walk follow no folder link, and
   each file is taken once; an input that is a link and a link named by a
   component are followed. */
static void test_layout_walks_follow_no_folder_links(void **state) {
  (void)state;
  char *d = make_tmpdir(), *h = path_in(d, "h"), *hl = path_in(d, "hl");
  npy_at(d, "h/k=1/part-0.npy", 1);
  npy_at(d, "h/k=1/part-1.npy", 2);
  link_at(h, "a", ".");
  link_at(h, "b", ".");
  link_at(h, "k=9", ".");
  link_at(h, "k=2", "k=1");
  link_at(h, "k=1/zz.npy", "part-0.npy");
  link_at(d, "hl", "h");
  const int64_t rows[] = {1, 2};
  expect_found(h, NULL, NULL, rows, 2, "/k=1/part-1.npy");
  expect_found(h, "**/*.npy", NULL, rows, 2, "/k=1/part-1.npy");
  expect_found(h, "**", NULL, rows, 2, "/k=1/part-1.npy");
  expect_found(h, "*/*.npy", NULL, rows, 2, "/k=1/part-1.npy"); /* k=2 is k=1 again */
  expect_found(h, "k=2/*.npy", NULL, rows, 2, "/k=2/part-1.npy");
  expect_found(h, "k=2/**/*.npy", NULL, rows, 2, "/k=2/part-1.npy");
  expect_found(hl, "**/*.npy", NULL, rows, 2, "/k=1/part-1.npy");
  expect_found(hl, NULL, NULL, rows, 2, "/k=1/part-1.npy");
  free(h), free(hl);
  rm_tree(d);
}

/* ** takes a store whole, never its chunk files, with or without option
   format; ordinary folders are passed over, a folder named as a store that
   is none is refused, two links to one store are one shard. */
static void test_layout_any_depth_takes_stores_whole(void **state) {
  (void)state;
  if (sl__driver_by_name("zarr") == NULL) {
    print_message("zarr driver not built: skipped\n");
    return;
  }
  char *d = make_tmpdir();
  mkdirs(d, "a/notes");
  float v[12] = {0};
  const char *stores[] = {"a/s1.zarr", "a/s2.zarr", "a/plain"};
  sl_error err;
  for (int i = 0; i < 3; i++) {
    char *p = path_in(d, stores[i]);
    assert_int_equal(sl_write_shard("zarr", p, SL_FLOAT32, 2, (int64_t[]){i + 2, 2}, v, &err),
                     SL_OK);
    free(p);
  }
  link_at(d, "a/s3.zarr", "s1.zarr");
  const int64_t rows[] = {4, 2, 3};
  expect_found(d, "**/*.zarr", NULL, rows + 1, 2, "/a/s2.zarr/.zarray");
  expect_found(d, "**", NULL, rows, 3, "/a/s2.zarr/.zarray"); /* a/plain by its metadata */
  expect_found(d, "**", "zarr", rows, 3, "/a/s2.zarr/.zarray");
  npy_at(d, "other/x.npy", 7);
  expect_found(d, "**/*.npy", NULL, (const int64_t[]){7}, 1, "/other/x.npy");
  expect_found(d, "**", "npy", (const int64_t[]){7}, 1, "/other/x.npy");
  sl_open_options o;
  sl_open_options_init(&o);
  o.pattern = "**"; /* the stores, and other/x.npy: two formats */
  expect(d, &o, SL_ELAYOUT, "other/x.npy: a npy file, but ");
  mkdirs(d, "a/broken.zarr");
  o.pattern = "**/*.zarr";
  expect(d, &o, SL_ELAYOUT, "/a/broken.zarr: a directory that is not a zarr store");
  o.format = "zarr";
  expect(d, &o, SL_ELAYOUT, "/a/broken.zarr: a directory that is not a zarr store");
  rm_tree(d);
}

static void test_layout_sidecars_are_never_shards(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "a.npy", 1);
  npy_shard(d, "b.npy", 2);
  npy_shard(d, "_c.npy", 4);
  npy_shard(d, ".d.npy", 8);
  write_bytes(d, "_meta.json", "{\"format\": \"npy\"}", 17);
  write_bytes(d, "_SUCCESS", "", 0);
  sl_open_options o;
  sl_open_options_init(&o);
  o.pattern = "*";
  sl_dataset *ds = NULL;
  sl_error err;
  assert_int_equal(discover(d, &o, &ds, &err), SL_OK);
  expect_rows(ds, (const int64_t[]){1, 2}, 2);
  sl_dataset_free(ds);
  o.pattern = "_*.npy"; /* named explicitly */
  assert_int_equal(discover(d, &o, &ds, &err), SL_OK);
  expect_rows(ds, (const int64_t[]){4}, 1);
  sl_dataset_free(ds);
  char *given = path_in(d, "_c.npy"); /* a file given is always taken */
  assert_int_equal(discover(given, NULL, &ds, &err), SL_OK);
  expect_rows(ds, (const int64_t[]){4}, 1);
  sl_dataset_free(ds);
  free(given);
  rm_tree(d);
}

static void test_layout_empty_directory_suggests_a_pattern(void **state) {
  (void)state;
  char *d = make_tmpdir(), want[2048];
  char *dask = path_in(d, "dask");
  for (int i = 0; i < 4; i++) {
    char name[32];
    snprintf(name, sizeof name, "dask/%d.npy", i);
    npy_at(d, name, 1);
  }
  snprintf(want, sizeof want, "%s: no shard files found (looked for shard_NNNN.<ext>, four or "
           "more digits, for formats %s); it holds 0.npy, 1.npy, 2.npy and 1 more: to read "
           "them, give option pattern '*.npy'", dask, sl__driver_names());
  expect_exact(dask, NULL, SL_ELAYOUT, want);

  char *few = path_in(d, "few"); /* fewer than four digits */
  npy_at(d, "few/shard_0.npy", 1);
  npy_at(d, "few/shard_000.npy", 1);
  write_bytes(few, "_meta.json", "{}", 2);
  expect(few, NULL, SL_ELAYOUT, "it holds shard_0.npy, shard_000.npy: to read them, give "
         "option pattern '*.npy'");

  char *mixed = path_in(d, "mixed"); /* the most common extension a driver knows */
  mkdirs(d, "mixed");
  write_bytes(mixed, "a.parquet", "x", 1);
  write_bytes(mixed, "b.npy", "x", 1);
  write_bytes(mixed, "c.npy", "x", 1);
  write_bytes(mixed, "notes.txt", "x", 1);
  expect(mixed, NULL, SL_ELAYOUT, "it holds a.parquet, b.npy, c.npy and 1 more: to read "
         "them, give option pattern '*.npy'");
  sl_open_options o;
  sl_open_options_init(&o);
  o.format = "parquet";
  expect(mixed, &o, SL_ELAYOUT, "four or more digits, for format parquet); it holds "
         "a.parquet, b.npy, c.npy and 1 more: to read them, give option pattern '*.parquet'");

  char *nested = path_in(d, "nested");
  npy_at(d, "nested/glob1/part-0.npy", 1);
  npy_at(d, "nested/glob2/part-0.npy", 1);
  expect(nested, NULL, SL_ELAYOUT, "it holds glob1/, glob2/: to read the files in its "
         "folders, give option pattern '*/*.npy'");

  char *empty = path_in(d, "empty"), *side = path_in(d, "side"), *txt = path_in(d, "txt");
  mkdirs(d, "empty");
  mkdirs(d, "side");
  write_bytes(side, "_meta.json", "{}", 2);
  mkdirs(d, "txt");
  write_bytes(txt, "a.txt", "x", 1);
  expect(empty, NULL, SL_ELAYOUT, "digits, for formats npy");
  expect(empty, NULL, SL_ELAYOUT, "); it is empty");
  expect(side, NULL, SL_ELAYOUT, "); it holds only _meta.json, and names starting with _ or "
         ". are never shards");
  expect(txt, NULL, SL_ELAYOUT, "); it holds a.txt, none with an extension a format driver "
         "knows (choose the format with option format, the files with option pattern)");
  expect(txt, &o, SL_ELAYOUT, "); it holds a.txt, none with an extension of format parquet "
         "(choose the files with option pattern)");
  free(dask), free(few), free(mixed), free(nested), free(empty), free(side), free(txt);
  rm_tree(d);
}

static void test_layout_two_formats_refused(void **state) {
  (void)state;
  char *d = make_tmpdir(), want[2048];
  npy_shard(d, "a.npy", 2);
  char *a = path_in(d, "a.npy"), *b = path_in(d, "b.parquet");
  float v[2] = {1, 2};
  sl_error err;
  assert_int_equal(sl_write_shard("parquet", b, SL_FLOAT32, 1, (int64_t[]){2}, v, &err), SL_OK);
  snprintf(want, sizeof want, "%s: a parquet file, but %s is npy: one dataset has one format "
           "(choose with option format)", b, a);
  sl_dataset *ds = NULL;
  assert_int_equal(discover_n((const char *[]){a, b}, 2, NULL, &ds, &err), SL_ELAYOUT);
  assert_string_equal(err.message, want);
  assert_null(ds);
  sl_open_options o; /* a pattern matching both */
  sl_open_options_init(&o);
  o.pattern = "*";
  expect_exact(d, &o, SL_ELAYOUT, want);
  o.format = "npy"; /* a format given applies to every input */
  expect_n((const char *[]){a, b}, 2, &o, SL_EFORMAT, "b.parquet");
  free(a), free(b);
  rm_tree(d);
}

/* An output is refused onto any input's sidecar or file, not only the first
   input's: several inputs in several folders. */
static void test_layout_outputs_never_replace_any_input(void **state) {
  (void)state;
  char *d = make_tmpdir();
  char *a = path_in(d, "out_a"), *b = path_in(d, "out_b");
  mkdir(a, 0755);
  mkdir(b, 0755);
  const int64_t rows[] = {3, 4}, trailing[] = {2};
  assert_int_equal(write_pattern_shards(a, SL_FLOAT32, 1, 1, trailing, rows, 2), 0);
  assert_int_equal(write_pattern_shards(b, SL_FLOAT32, 2, 1, trailing, rows, 2), 0);
  sl_dataset *ds = NULL;
  sl_error err;
  assert_int_equal(discover_n((const char *[]){a, b}, 2, NULL, &ds, &err), SL_OK);
  char *meta_b = path_in(b, "_meta.json"), *meta_a = path_in(a, "_meta.json");
  char *shard = path_in(b, "shard_0001.npy"), *fine = path_in(d, "out.npy");
  const char *refused[] = {meta_a, meta_b, shard};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(sl_dataset_check_output(ds, refused[i], &err), SL_EINVAL);
    assert_non_null(strstr(err.message, refused[i]));
  }
  assert_int_equal(sl_dataset_check_output(ds, fine, &err), SL_OK);
  sl_dataset_free(ds);
  free(meta_a);
  free(meta_b);
  free(shard);
  free(fine);
  free(a);
  free(b);
  rm_tree(d);
}

static void test_layout_missing_input_named(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "shard_0000.npy", 1);
  char *missing = path_in(d, "nope.npy");
  const char *in[] = {d, missing, d};
  expect_n(in, 3, NULL, SL_ENOENT, "nope.npy: no such file or directory");
  expect_n(in, 0, NULL, SL_EINVAL, "no dataset path given (the list of paths is empty)");
  expect_n((const char *[]){d, ""}, 2, NULL, SL_EINVAL, "no dataset path given as input 2 of 2");
  expect_n((const char *[]){d, NULL}, 2, NULL, SL_EINVAL, "input 2 of 2 (it is NULL)");
  expect(NULL, NULL, SL_EINVAL, "no dataset path given");
  sl_open_options o;
  sl_open_options_init(&o);
  o.format = "nosuch";
  expect_n(in, 1, &o, SL_EINVAL, "option format 'nosuch' is not a format of this build");
  free(missing);
  rm_tree(d);
}

/* Fails every allocation of discovering in[0..n) in turn: SL_ENOMEM each
   time, then the shards of rows want[0..nw) once nothing fails. */
static void fail_each_allocation(const char *const *in, size_t n, const sl_open_options *o,
                                 const int64_t *want, size_t nw) {
  for (long nth = 1;; nth++) {
    sl_dataset *ds = NULL;
    sl_error err;
    sl__alloc_fail_at(nth, false);
    sl_status st = discover_n(in, n, o, &ds, &err);
    sl__alloc_fail_at(0, false);
    if (st == SL_OK) {
      expect_rows(ds, want, nw);
      sl_dataset_free(ds);
      return;
    }
    if (st != SL_ENOMEM || strstr(err.message, "out of memory") == NULL)
      fail_msg("allocation %ld: %s", nth, err.message);
    assert_true(nth < 1000);
  }
}

/* Every allocation of finding and building fails in turn: SL_ENOMEM (the
   advice for a directory without shards may be shorter, never wrong), no
   leak under ASan. */
static void test_layout_finding_survives_allocation_failures(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_at(d, "h/k=1/part-0.npy", 1);
  npy_at(d, "h/k=1/part-1.npy", 2); /* one folder: a failed join is not "none" */
  npy_at(d, "g/glob1/sub/part-0.npy", 3);
  npy_at(d, "x.npy", 4);
  npy_at(d, "s/shard_0000.npy", 5);
  npy_at(d, "dask/0.npy", 6);
  char *h = path_in(d, "h"), *g = path_in(d, "g"), *x = path_in(d, "x.npy");
  char *s = path_in(d, "s"), *dask = path_in(d, "dask");
  sl_open_options o;
  sl_open_options_init(&o);
  o.pattern = "**/*.npy"; /* inside each directory: h, s and g */
  fail_each_allocation((const char *[]){h, x, s, g}, 4, &o, (const int64_t[]){1, 2, 4, 5, 3},
                       5);
  fail_each_allocation((const char *[]){h, x, s}, 3, NULL, (const int64_t[]){1, 2, 4, 5}, 4);
  for (long nth = 1;; nth++) {
    sl_dataset *ds = NULL;
    sl_error err;
    sl__alloc_fail_at(nth, false);
    sl_status st = discover(dask, NULL, &ds, &err);
    bool fired = sl__alloc_fired();
    sl__alloc_fail_at(0, false);
    assert_null(ds);
    if (st != SL_ENOMEM && st != SL_ELAYOUT) fail_msg("allocation %ld: %s", nth, err.message);
    if (!fired) {
      assert_non_null(strstr(err.message, "give option pattern '*.npy'"));
      break;
    }
    assert_true(nth < 1000);
  }
  free(h), free(g), free(x), free(s), free(dask);
  rm_tree(d);
}

/* File names are bytes; JSON text about them must be UTF-8. */
static void test_text_utf8_valid(void **state) {
  (void)state;
  char *ok = strdup("{\"path\":\"caf\xc3\xa9/\xe2\x82\xac\"}");
  assert_ptr_equal(sl__utf8_valid(ok), ok);
  free(ok);
  char *t = sl__utf8_valid(strdup("a\xff" "b\xe2\x82" "c\xed\xa0\x80" "d\xc3"));
  assert_non_null(t);
  assert_string_equal(t, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd"
                         "\xef\xbf\xbd" "d\xef\xbf\xbd");
  free(t);
  assert_null(sl__utf8_valid(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout_rejects_missing_and_empty_dirs),
      cmocka_unit_test(test_text_utf8_valid),
      cmocka_unit_test(test_layout_rejects_hole),
      cmocka_unit_test(test_layout_rejects_mismatches_naming_the_file),
      cmocka_unit_test(test_layout_five_digits_follow_four),
      cmocka_unit_test(test_layout_pattern_sorts_naturally),
      cmocka_unit_test(test_layout_single_file_and_zero_rows),
      cmocka_unit_test(test_layout_shard_without_rows_may_leave_extents_open),
      cmocka_unit_test(test_layout_natural_order_is_total),
      cmocka_unit_test(test_layout_several_inputs_in_order),
      cmocka_unit_test(test_layout_pattern_crosses_folders),
      cmocka_unit_test(test_layout_hive_folders),
      cmocka_unit_test(test_layout_walks_follow_no_folder_links),
      cmocka_unit_test(test_layout_any_depth_takes_stores_whole),
      cmocka_unit_test(test_layout_sidecars_are_never_shards),
      cmocka_unit_test(test_layout_empty_directory_suggests_a_pattern),
      cmocka_unit_test(test_layout_two_formats_refused),
      cmocka_unit_test(test_layout_missing_input_named),
      cmocka_unit_test(test_layout_outputs_never_replace_any_input),
      cmocka_unit_test(test_layout_finding_survives_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
