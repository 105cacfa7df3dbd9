/* The HDF5 driver: the h5py-written fixtures (contiguous, big-endian,
   chunked+gzip+shuffle, one file of many datasets, and the two bad cases
   with their exact messages), then files made here with the HDF5 C API for
   every dtype, chunked big-endian data, user blocks, unwritten datasets,
   unsupported types and missing filters, and concurrent decoding.

   Two independent paths must agree everywhere: the bytes extents points at
   (pread + swap, no HDF5) and the rows read decodes (HDF5 hyperslab). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_test.h"

/* The tests that make their own files need the HDF5 C API; CMake must put
   HDF5_C_INCLUDE_DIRS on this test's include path for them to run. */
#include <hdf5.h> /* CMake gives this test HDF5_C_INCLUDE_DIRS */

#include "hdf5/h5.h" /* the library lock, for the fault handler's test */

/* ------------------------------------------------------------- helpers */

extern const sl_driver sl__hdf5_driver;

typedef tshard probed;

static sl_status probe(const char *path, const char *member, probed *p) {
  tshard_init(p, &sl__hdf5_driver);
  return tshard_probe(p, path, member);
}

static void release(probed *p) { tshard_release(p); }

static int64_t row_bytes(const probed *p) {
  int64_t rb = (int64_t)sl_dtype_size(p->info.dtype);
  for (int i = 1; i < p->info.ndim; i++) rb *= p->info.shape[i];
  return rb;
}

/* Rows [lo, hi) the way the generic path reads them: extents, pread, swap. */
static void read_by_extents(probed *p, int64_t lo, int64_t hi, void *dst) {
  sl_extent ex[4];
  size_t n = 4;
  sl_error err = {0};
  assert_int_equal(tshard_extents(p, lo, hi, ex, &n, &err), SL_OK);
  assert_int_equal(n, 1);
  assert_int_equal(ex[0].length, (hi - lo) * row_bytes(p));
  assert_true(ex[0].offset + ex[0].length <= sl_source_size(&p->src));
  int fd;
  assert_int_equal(sl__open_read(p->s.path, false, &fd, NULL, &err), SL_OK);
  assert_int_equal(sl__pread_full(fd, p->s.path, dst, (size_t)ex[0].length, ex[0].offset, &err),
                   SL_OK);
  sl__close(fd);
  size_t es = sl_dtype_size(p->info.dtype);
  if (p->s.swap) sl__byteswap(dst, (size_t)ex[0].length / es, es, p->info.dtype);
}

static void *read_by_driver(probed *p, int64_t lo, int64_t hi) {
  void *buf = malloc((size_t)((hi - lo) * row_bytes(p)) + 1);
  sl_error err = {0};
  sl_status st = tshard_open(p, &err);
  if (st == SL_OK) st = sl__hdf5_driver.read(&p->s, p->handle, &p->src, lo, hi, buf, &err);
  if (st != SL_OK) fail_msg("read failed: %s", err.message);
  return buf;
}

/* extents and read agree on rows [lo, hi). */
static void check_paths_agree(probed *p, int64_t lo, int64_t hi) {
  size_t n = (size_t)((hi - lo) * row_bytes(p));
  char *a = malloc(n + 1);
  read_by_extents(p, lo, hi, a);
  char *b = read_by_driver(p, lo, hi);
  assert_memory_equal(a, b, n);
  free(a);
  free(b);
}

static size_t extents_count(probed *p, int64_t lo, int64_t hi) {
  sl_extent ex[4];
  size_t n = 4;
  sl_error err = {0};
  assert_int_equal(tshard_extents(p, lo, hi, ex, &n, &err), SL_OK);
  return n;
}

static void free_members(char **m, size_t n) {
  for (size_t i = 0; i < n; i++) free(m[i]);
  free(m);
}

/* ------------------------------------------------------------ fixtures */

static void test_hdf5_fixture_contiguous_answers_extents(void **state) {
  (void)state;
  NEED_FIXTURE("h5_f4_contiguous_t16/shard_0000.h5");
  probed p;
  assert_int_equal(probe(fx, "data", &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_FLOAT32);
  assert_int_equal(p.info.ndim, 2);
  assert_int_equal(p.info.shape[0], 700);
  assert_int_equal(p.info.shape[1], 16);
  assert_int_equal(p.s.rows, 700);
  assert_int_equal(p.s.swap, 0);
  assert_int_equal(extents_count(&p, 0, 700), 1);
  check_paths_agree(&p, 0, 700);
  check_paths_agree(&p, 333, 334);
  release(&p);
}

static void test_hdf5_fixture_big_endian_sets_swap(void **state) {
  (void)state;
  NEED_FIXTURE("h5_be_f8_contiguous_t4/shard_0001.h5");
  probed p;
  assert_int_equal(probe(fx, "data", &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_FLOAT64);
  assert_int_equal(p.s.rows, 250);
  assert_int_equal(p.info.shape[1], 4);
  assert_int_equal(p.s.swap, 1);
  check_paths_agree(&p, 0, 250); /* HDF5's conversion == our byte swap */
  check_paths_agree(&p, 17, 99);
  release(&p);
}

static void test_hdf5_fixture_chunked_gzip_decodes_any_rows(void **state) {
  (void)state;
  NEED_FIXTURE("h5_i4_chunked_gzip_shuffle/shard_0000.h5");
  probed p;
  assert_int_equal(probe(fx, "data", &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_INT32);
  assert_int_equal(p.s.rows, 1000);
  assert_int_equal(extents_count(&p, 0, 1000), 0); /* must decode */
  int32_t *all = read_by_driver(&p, 0, 1000);
  /* ranges across chunk boundaries (chunks of 64 rows) give the same rows */
  const int64_t cuts[][2] = {{0, 1}, {63, 65}, {100, 700}, {960, 1000}, {999, 1000}};
  for (size_t i = 0; i < SL_ARRAY_LEN(cuts); i++) {
    int32_t *part = read_by_driver(&p, cuts[i][0], cuts[i][1]);
    assert_memory_equal(part, all + cuts[i][0] * 3, (size_t)(cuts[i][1] - cuts[i][0]) * 12);
    free(part);
  }
  free(all);
  release(&p);
}

static void test_hdf5_fixture_whole_dataset_reads_through_library(void **state) {
  (void)state;
  NEED_FIXTURE("h5_i4_chunked_gzip_shuffle");
  sl_open_options o;
  sl_open_options_init(&o);
  o.dataset = "data";
  sl_dataset *ds;
  sl_error err = {0};
  assert_int_equal(sl_dataset_open(NULL, fx, &o, &ds, &err), SL_OK);
  int64_t shape[SL_MAX_DIMS];
  assert_int_equal(sl_dataset_shape(ds, shape), 2);
  assert_int_equal(shape[0], 2098);
  assert_int_equal(shape[1], 3);
  int32_t *all = malloc(2098 * 12), *mid = malloc(400 * 12);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 2098, all, NULL, NULL, &err), SL_OK);
  /* rows 990..1390 span shards 0, 1 and 2 */
  assert_int_equal(sl_dataset_read_rows(ds, 990, 1390, mid, NULL, NULL, &err), SL_OK);
  assert_memory_equal(mid, all + 990 * 3, 400 * 12);
  free(all);
  free(mid);
  sl_dataset_free(ds);
}

static void test_hdf5_fixture_missing_dataset_names_what_is_there(void **state) {
  (void)state;
  NEED_FIXTURE("h5_bad_missing_dataset/shard_0001.h5");
  probed p;
  assert_int_equal(probe(fx, "data", &p), SL_EFORMAT);
  char want[8192];
  snprintf(want, sizeof want, "%s: expected a dataset 'data' but found none; the file holds "
           "2 datasets: /labels, /values", fx);
  assert_string_equal(p.err.message, want);
}

static void test_hdf5_fixture_scalar_has_no_rows(void **state) {
  (void)state;
  NEED_FIXTURE("h5_bad_scalar_dataset/shard_0000.h5");
  probed p;
  assert_int_equal(probe(fx, "data", &p), SL_EFORMAT);
  char want[8192];
  snprintf(want, sizeof want, "%s:data: dataset is a scalar (rank 0), which has no rows to "
           "stack", fx);
  assert_string_equal(p.err.message, want);
}

static void test_hdf5_fixture_expand_natural_order(void **state) {
  (void)state;
  NEED_FIXTURE("h5_single_file_shards/shards.h5");
  const char *patterns[] = {"/shards/*", "shards/*", "/shards/000[0-4]"};
  for (size_t k = 0; k < SL_ARRAY_LEN(patterns); k++) {
    sl_open_options o;
    sl_open_options_init(&o);
    o.dataset = patterns[k];
    char **m;
    size_t n;
    sl_error err = {0};
    assert_int_equal(sl__hdf5_driver.expand(NULL, fx, &o, &m, &n, &err), SL_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
      char want[32];
      snprintf(want, sizeof want, "/shards/%04zu", i);
      assert_string_equal(m[i], want);
    }
    free_members(m, n);
  }
}

static void test_hdf5_fixture_expand_needs_a_choice(void **state) {
  (void)state;
  NEED_FIXTURE("h5_single_file_shards/shards.h5");
  char **m;
  size_t n;
  sl_error err = {0};
  assert_int_equal(sl__hdf5_driver.expand(NULL, fx, NULL, &m, &n, &err), SL_EFORMAT);
  char want[8192];
  snprintf(want, sizeof want, "%s: expected exactly one dataset (or a name given with "
           "option dataset) but found 5 datasets: /shards/0000, /shards/0001, /shards/0002, "
           "/shards/0003, /shards/0004", fx);
  assert_string_equal(err.message, want);
  sl_open_options o;
  sl_open_options_init(&o);
  o.dataset = "/other/*";
  sl_error_clear(&err);
  assert_int_equal(sl__hdf5_driver.expand(NULL, fx, &o, &m, &n, &err), SL_ELAYOUT);
  snprintf(want, sizeof want, "%s: expected datasets matching '/other/*' but found none; the "
           "file holds 5 datasets: /shards/0000, /shards/0001, /shards/0002, /shards/0003, "
           "/shards/0004", fx);
  assert_string_equal(err.message, want);
}

static void test_hdf5_fixture_pattern_needs_a_single_file(void **state) {
  (void)state;
  NEED_FIXTURE("h5_f4_contiguous_t16/shard_0000.h5");
  probed p;
  assert_int_equal(probe(fx, "/shards/*", &p), SL_EINVAL);
  char want[8192];
  snprintf(want, sizeof want, "%s: expected one dataset name but found the pattern "
           "'/shards/*'; a pattern selects the datasets of a single file, not of a directory "
           "of shards", fx);
  assert_string_equal(p.err.message, want);
}

static void test_hdf5_fixture_single_file_reads_through_library(void **state) {
  (void)state;
  NEED_FIXTURE("h5_single_file_shards/shards.h5");
  sl_open_options o;
  sl_open_options_init(&o);
  o.dataset = "/shards/*";
  sl_dataset *ds;
  sl_error err = {0};
  assert_int_equal(sl_dataset_open(NULL, fx, &o, &ds, &err), SL_OK);
  const int64_t rows[] = {300, 45, 512, 1, 260};
  assert_int_equal(sl_dataset_num_shards(ds), 5);
  for (size_t i = 0; i < 5; i++) {
    int64_t r;
    const char *member;
    assert_non_null(sl_dataset_shard(ds, i, &r, &member));
    assert_int_equal(r, rows[i]);
  }
  double *all = malloc(1118 * 48);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1118, all, NULL, NULL, &err), SL_OK);
  probed p; /* shard 3 holds global row 857 alone */
  assert_int_equal(probe(fx, "/shards/0003", &p), SL_OK);
  double *one = read_by_driver(&p, 0, 1);
  assert_memory_equal(one, all + 857 * 6, 48);
  free(one);
  release(&p);
  free(all);
  sl_dataset_free(ds);
}

/* -------------------------------------------------- files made here */

static void test_hdf5_rejects_a_file_that_is_not_hdf5(void **state) {
  (void)state;
  write_bytes(dir, "shard_0000.h5", "a,b\n1,2\n", 8);
  char *p = path_in(dir, "shard_0000.h5");
  probed pr;
  assert_int_equal(probe(p, "data", &pr), SL_EFORMAT);
  char want[8192];
  snprintf(want, sizeof want, "%s: not an HDF5 file (expected the signature \\x89HDF\\r\\n"
           "\\x1a\\n at byte 0, 512, 1024, ... but found none in 8 bytes)", p);
  assert_string_equal(pr.err.message, want);
  free(p);
}

static void test_hdf5_missing_file_is_enoent(void **state) {
  (void)state;
  char *p = path_in(dir, "nope.h5");
  probed pr;
  assert_int_equal(probe(p, "data", &pr), SL_ENOENT);
  assert_non_null(strstr(pr.err.message, p));
  free(p);
}

/* Every dtype through write, probe, extents and read: the values written
   come back, from both paths. */
static void test_hdf5_write_roundtrip_every_dtype(void **state) {
  (void)state;
  for (int t = 0; t < SL_DTYPE_COUNT; t++) {
    char name[32];
    snprintf(name, sizeof name, "dt%d.h5", t);
    char *path = path_in(dir, name);
    int64_t shape[] = {37, 2, 3};
    size_t es = sl_dtype_size((sl_dtype)t), n = 37 * 6;
    char *data = malloc(n * es);
    sl_pattern_fill((sl_dtype)t, 11, 0, (int64_t)n, data);
    sl_error err = {0};
    if (sl_write_shard("hdf5", path, (sl_dtype)t, 3, shape, data, &err) != SL_OK)
      fail_msg("%s", err.message);
    probed p;
    if (probe(path, NULL, &p) != SL_OK) fail_msg("%s", p.err.message);
    assert_int_equal(p.info.dtype, t);
    assert_int_equal(p.info.ndim, 3);
    assert_int_equal(p.info.shape[2], 3);
    assert_int_equal(p.s.rows, 37);
    assert_int_equal(p.s.swap, 0);
    char *got = read_by_driver(&p, 0, 37); /* member NULL: the only dataset */
    assert_memory_equal(got, data, n * es);
    read_by_extents(&p, 5, 9, got);
    assert_memory_equal(got, data + 5 * 6 * es, 4 * 6 * es);
    free(got);
    release(&p);
    free(data);
    free(path);
  }
}

static void test_hdf5_write_zero_rows(void **state) {
  (void)state;
  char *path = path_in(dir, "empty.h5");
  int64_t shape[] = {0, 4};
  sl_error err = {0};
  assert_int_equal(sl_write_shard("hdf5", path, SL_FLOAT32, 2, shape, "", &err), SL_OK);
  probed p;
  assert_int_equal(probe(path, "data", &p), SL_OK);
  assert_int_equal(p.s.rows, 0);
  assert_int_equal(p.info.shape[1], 4);
  release(&p);
  free(path);
}

/* A file with one dataset made by the caller's creation property list. */
static char *h5_make(const char *name, const char *dset, hid_t ftype, int ndim,
                     const hsize_t *dims, hid_t dcpl, hid_t mtype, const void *data) {
  char *path = path_in(dir, name);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t sp = H5Screate_simple(ndim, dims, NULL);
  hid_t d = H5Dcreate2(f, dset, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  assert_true(f >= 0 && sp >= 0 && d >= 0);
  if (data != NULL) assert_true(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
  H5Dclose(d);
  H5Sclose(sp);
  H5Fclose(f);
  return path;
}

static hid_t chunked_gzip(int ndim, const hsize_t *chunk) {
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, ndim, chunk);
  H5Pset_shuffle(dcpl);
  H5Pset_deflate(dcpl, 4);
  return dcpl;
}

static void test_hdf5_chunked_big_endian_converts_to_native(void **state) {
  (void)state;
  int16_t v[250 * 2];
  for (int i = 0; i < 500; i++) v[i] = (int16_t)(i * 131 - 30000);
  hsize_t dims[] = {250, 2}, chunk[] = {16, 2};
  hid_t dcpl = chunked_gzip(2, chunk);
  char *path = h5_make("be16.h5", "values", H5T_STD_I16BE, 2, dims, dcpl, H5T_NATIVE_INT16, v);
  H5Pclose(dcpl);
  probed p;
  assert_int_equal(probe(path, "values", &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_INT16);
  assert_int_equal(p.s.swap, 1); /* stored order, though read converts itself */
  assert_int_equal(extents_count(&p, 0, 250), 0);
  int16_t *got = read_by_driver(&p, 7, 201);
  assert_memory_equal(got, v + 14, 194 * 4);
  free(got);
  release(&p);
  free(path);
}

static void test_hdf5_chunked_complex_and_half_and_bool(void **state) {
  (void)state;
  const sl_dtype types[] = {SL_COMPLEX128, SL_FLOAT16, SL_BOOL, SL_COMPLEX64};
  for (size_t k = 0; k < SL_ARRAY_LEN(types); k++) {
    /* write a contiguous file with the driver, copy its type into a
       chunked big-endian-where-possible dataset */
    char name[32];
    snprintf(name, sizeof name, "src%zu.h5", k);
    char *src = path_in(dir, name);
    int64_t shape[] = {90, 3};
    size_t es = sl_dtype_size(types[k]);
    char *data = malloc(270 * es);
    sl_pattern_fill(types[k], 3, 0, 270, data);
    sl_error err = {0};
    assert_int_equal(sl_write_shard("hdf5", src, types[k], 2, shape, data, &err), SL_OK);
    hid_t f = H5Fopen(src, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, "data", H5P_DEFAULT);
    hid_t mt = H5Dget_type(d), ft = H5Tcopy(mt);
    if (types[k] == SL_FLOAT16) H5Tset_order(ft, H5T_ORDER_BE);
    hsize_t dims[] = {90, 3}, chunk[] = {7, 3};
    hid_t dcpl = chunked_gzip(2, chunk);
    snprintf(name, sizeof name, "chunked%zu.h5", k);
    char *path = h5_make(name, "x", ft, 2, dims, dcpl, mt, data);
    H5Pclose(dcpl);
    H5Tclose(ft);
    H5Tclose(mt);
    H5Dclose(d);
    H5Fclose(f);
    probed p;
    if (probe(path, "x", &p) != SL_OK) fail_msg("%s", p.err.message);
    assert_int_equal(p.info.dtype, types[k]);
    assert_int_equal(p.s.swap, types[k] == SL_FLOAT16);
    char *got = read_by_driver(&p, 3, 88);
    assert_memory_equal(got, data + 9 * es, 85 * 3 * es);
    free(got);
    release(&p);
    free(data);
    free(src);
    free(path);
  }
}

static void test_hdf5_user_block_offset_is_absolute(void **state) {
  (void)state;
  char *path = path_in(dir, "ub.h5");
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  H5Pset_userblock(fcpl, 1024);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
  hsize_t dims[] = {40};
  hid_t sp = H5Screate_simple(1, dims, NULL);
  hid_t d = H5Dcreate2(f, "v", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  double v[40];
  for (int i = 0; i < 40; i++) v[i] = i * 0.5;
  assert_true(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
  H5Dclose(d);
  H5Sclose(sp);
  H5Fclose(f);
  H5Pclose(fcpl);
  probed p;
  assert_int_equal(probe(path, NULL, &p), SL_OK);
  double got[40];
  read_by_extents(&p, 0, 40, got);
  assert_memory_equal(got, v, sizeof v);
  release(&p);
  free(path);
}

static void test_hdf5_unwritten_dataset_reads_fill_value(void **state) {
  (void)state;
  hsize_t dims[] = {10, 2};
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  int32_t fill = 7;
  H5Pset_fill_value(dcpl, H5T_NATIVE_INT32, &fill);
  char *path = h5_make("unwritten.h5", "d", H5T_STD_I32LE, 2, dims, dcpl, -1, NULL);
  H5Pclose(dcpl);
  probed p;
  assert_int_equal(probe(path, "d", &p), SL_OK);
  assert_int_equal(extents_count(&p, 0, 10), 0); /* no storage: HDF5 decodes */
  int32_t *got = read_by_driver(&p, 0, 10);
  for (int i = 0; i < 20; i++) assert_int_equal(got[i], 7);
  free(got);
  release(&p);
  free(path);
}

/* Chunks of whole rows with deflate alone, partly written (unallocated
   chunks hold the fill value), and chunks that split rows: the driver's own
   chunk decoding and HDF5's must agree on every range. */
static void test_hdf5_own_chunk_decoding_matches_hdf5(void **state) {
  (void)state;
  float v[100 * 3];
  for (int i = 0; i < 300; i++) v[i] = (float)i * 0.25f - 17.0f;
  const hsize_t dims[] = {100, 3}, whole[] = {16, 3}, split[] = {16, 1};
  const hsize_t *chunks[] = {whole, split};
  for (int c = 0; c < 2; c++) {
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    float fill = -1.5f;
    H5Pset_chunk(dcpl, 2, chunks[c]);
    H5Pset_deflate(dcpl, 1);
    H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &fill);
    char *path = h5_make(c ? "split.h5" : "whole.h5", "d", H5T_IEEE_F32BE, 2, dims, dcpl,
                         H5T_NATIVE_FLOAT, v);
    H5Pclose(dcpl);
    probed p;
    assert_int_equal(probe(path, "d", &p), SL_OK);
    assert_int_equal(p.s.param[0], c ? 1 : 2); /* MODE_DECODE for split rows, else MODE_CHUNKS */
    for (int lo = 0; lo < 100; lo += 13) {
      int hi = lo + (101 - lo) / 2;
      float *got = read_by_driver(&p, lo, hi);
      assert_memory_equal(got, v + lo * 3, (size_t)(hi - lo) * 3 * sizeof(float));
      free(got);
    }
    release(&p);
    /* now unallocate: a fresh file written only in rows [0, 20) */
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunks[c]);
    H5Pset_deflate(dcpl, 1);
    H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &fill);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "d", H5P_DEFAULT);
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, "d", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    hsize_t start[] = {0, 0}, count[] = {20, 3};
    hid_t mem = H5Screate_simple(2, count, NULL);
    H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL);
    assert_true(H5Dwrite(d, H5T_NATIVE_FLOAT, mem, sp, H5P_DEFAULT, v) >= 0);
    H5Sclose(mem);
    H5Sclose(sp);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Fclose(f);
    assert_int_equal(probe(path, "d", &p), SL_OK);
    float *got = read_by_driver(&p, 5, 60);
    assert_memory_equal(got, v + 15, 15 * 3 * sizeof(float));
    for (int i = 15 * 3; i < 55 * 3; i++) assert_true(got[i] == fill);
    free(got);
    release(&p);
    free(path);
  }
}

static void test_hdf5_rejects_string_type(void **state) {
  (void)state;
  hid_t st = H5Tcopy(H5T_C_S1);
  H5Tset_size(st, 8);
  hsize_t dims[] = {3};
  char *path = h5_make("str.h5", "data", st, 1, dims, H5P_DEFAULT, st, "aaaaaaabbbbbbbbccccccccc");
  H5Tclose(st);
  probed p;
  assert_int_equal(probe(path, "data", &p), SL_EFORMAT);
  char want[8192];
  snprintf(want, sizeof want, "%s:data: element type is a string, which cannot be loaded as "
           "numbers (expected bool, int8-64, uint8-64, float16/32/64 or complex64/128)", path);
  assert_string_equal(p.err.message, want);
  free(path);
}

static void test_hdf5_rejects_compound_that_is_not_complex(void **state) {
  (void)state;
  hid_t ct = H5Tcreate(H5T_COMPOUND, 8);
  H5Tinsert(ct, "a", 0, H5T_NATIVE_INT32);
  H5Tinsert(ct, "b", 4, H5T_NATIVE_FLOAT);
  hsize_t dims[] = {2};
  char *path = h5_make("cmp.h5", "data", ct, 1, dims, H5P_DEFAULT, ct, "0123456789abcdef");
  H5Tclose(ct);
  probed p;
  assert_int_equal(probe(path, "data", &p), SL_EFORMAT);
  assert_non_null(strstr(p.err.message, ":data: element type is a compound that is not h5py's "
                         "complex {r, i} of two float32 or two float64"));
  free(path);
}

static void test_hdf5_rejects_group_named_like_the_dataset(void **state) {
  (void)state;
  char *path = path_in(dir, "group.h5");
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Fclose(f);
  probed p;
  assert_int_equal(probe(path, "data", &p), SL_EFORMAT);
  char want[8192];
  snprintf(want, sizeof want, "%s: expected a dataset 'data' but found a group or other "
           "object of that name; the file holds no datasets", path);
  assert_string_equal(p.err.message, want);
  free(path);
}

/* A pass-through filter, registered only while writing, so the reader
   meets a filter its HDF5 library does not have. */
static size_t passthrough(unsigned flags, size_t nelmts, const unsigned cd[], size_t nbytes,
                          size_t *buf_size, void **buf) {
  (void)flags, (void)nelmts, (void)cd, (void)buf_size, (void)buf;
  return nbytes;
}

static void test_hdf5_rejects_unavailable_filter(void **state) {
  (void)state;
  const H5Z_class2_t cls = {H5Z_CLASS_T_VERS, (H5Z_filter_t)32999, 1, 1, "sltest", NULL, NULL,
                            passthrough};
  assert_true(H5Zregister(&cls) >= 0);
  hsize_t dims[] = {20}, chunk[] = {5};
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, chunk);
  H5Pset_filter(dcpl, 32999, H5Z_FLAG_MANDATORY, 0, NULL);
  int32_t v[20] = {0};
  char *path = h5_make("filter.h5", "data", H5T_STD_I32LE, 1, dims, dcpl, H5T_NATIVE_INT32, v);
  H5Pclose(dcpl);
  assert_true(H5Zunregister(32999) >= 0);
  setenv("HDF5_PLUGIN_PATH", dir, 1); /* no plugin will be found there */
  probed p;
  assert_int_equal(probe(path, "data", &p), SL_ENOTSUP);
  char want[8192];
  snprintf(want, sizeof want, "%s:data: expected HDF5 filter 32999 (sltest) to be available "
           "for decoding but this HDF5 library does not have it; install the filter plugin "
           "and set HDF5_PLUGIN_PATH", path);
  assert_string_equal(p.err.message, want);
  free(path);
}

static void test_hdf5_rejects_truncated_contiguous_file(void **state) {
  (void)state;
  char *path = path_in(dir, "trunc.h5");
  int64_t shape[] = {1000, 4};
  float *v = calloc(4000, 4);
  sl_error err = {0};
  assert_int_equal(sl_write_shard("hdf5", path, SL_FLOAT32, 2, shape, v, &err), SL_OK);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(truncate(path, st.st_size - 100), 0);
  probed p;
  assert_int_equal(probe(path, "data", &p), SL_EFORMAT);
  assert_non_null(strstr(p.err.message, path));
  assert_null(strchr(p.err.message, '\n'));
  free(v);
  free(path);
}

static void test_hdf5_expand_sorts_numbers_naturally(void **state) {
  (void)state;
  char *path = path_in(dir, "many.h5");
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t g = H5Gcreate2(f, "s", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims[] = {1};
  hid_t sp = H5Screate_simple(1, dims, NULL);
  const char *names[] = {"10", "2", "1", "x/3"};
  H5Gclose(H5Gcreate2(g, "x", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  for (size_t i = 0; i < SL_ARRAY_LEN(names); i++)
    H5Dclose(H5Dcreate2(g, names[i], H5T_STD_I8LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5Sclose(sp);
  H5Gclose(g);
  H5Fclose(f);
  sl_open_options o;
  sl_open_options_init(&o);
  o.dataset = "/s/*"; /* '*' stops at '/', so /s/x/3 is not a match */
  char **m;
  size_t n;
  sl_error err = {0};
  assert_int_equal(sl__hdf5_driver.expand(NULL, path, &o, &m, &n, &err), SL_OK);
  assert_int_equal(n, 3);
  assert_string_equal(m[0], "/s/1");
  assert_string_equal(m[1], "/s/2");
  assert_string_equal(m[2], "/s/10");
  free_members(m, n);
  o.dataset = "/s/x/3"; /* a plain name is one member, not checked yet */
  assert_int_equal(sl__hdf5_driver.expand(NULL, path, &o, &m, &n, &err), SL_OK);
  assert_int_equal(n, 1);
  assert_string_equal(m[0], "/s/x/3");
  free_members(m, n);
  free(path);
}

/* Several threads decoding the same chunked shard at once (the serial
   HDF5 library is not thread-safe: the driver's lock makes it so). */
typedef struct job {
  const probed *p;
  int64_t lo, hi;
  const int32_t *want;
  int ok;
} job;

static void *decode_job(void *arg) {
  job *j = arg;
  j->ok = 1;
  for (int rep = 0; rep < 20 && j->ok; rep++) {
    int32_t *buf = malloc((size_t)(j->hi - j->lo) * 8);
    sl_error err = {0};
    j->ok = sl__hdf5_driver.read(&j->p->s, j->p->handle, &j->p->src, j->lo, j->hi, buf,
                                 &err) == SL_OK &&
            memcmp(buf, j->want + j->lo * 2, (size_t)(j->hi - j->lo) * 8) == 0;
    free(buf);
  }
  return NULL;
}

static void test_hdf5_concurrent_reads_agree(void **state) {
  (void)state;
  static int32_t v[3000 * 2];
  for (int i = 0; i < 6000; i++) v[i] = i * 7 - 12345;
  hsize_t dims[] = {3000, 2}, chunk[] = {100, 2};
  hid_t dcpl = chunked_gzip(2, chunk);
  char *path = h5_make("mt.h5", "only", H5T_STD_I32LE, 2, dims, dcpl, H5T_NATIVE_INT32, v);
  H5Pclose(dcpl);
  probed p;
  assert_int_equal(probe(path, NULL, &p), SL_OK);
  sl_error err = {0};
  assert_int_equal(tshard_open(&p, &err), SL_OK); /* once; the threads share the handle */
  job jobs[6];
  pthread_t th[6];
  for (int i = 0; i < 6; i++) {
    jobs[i] = (job){&p, i * 370, i * 370 + 777, v, 0}; /* overlapping ranges */
    assert_int_equal(pthread_create(&th[i], NULL, decode_job, &jobs[i]), 0);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(th[i], NULL);
    assert_true(jobs[i].ok);
  }
  release(&p);
  free(path);
}

/* ------------------------------------------------- hostile and corrupt */

/* Runs fn in a child with stderr into a pipe: its wait status and stderr. */
static int in_child(void (*fn)(void), char *out, size_t cap) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    fn();
    _exit(0);
  }
  close(fds[1]);
  size_t k = 0;
  ssize_t r;
  while (k + 1 < cap && (r = read(fds[0], out + k, cap - 1 - k)) > 0) k += (size_t)r;
  out[k] = '\0';
  close(fds[0]);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return status;
}

static void fault_inside(void) {
  h5_guard g;
  sl__h5_lock(&g, "/data/corrupt.h5");
  raise(SIGSEGV); /* what libhdf5 does on some corrupt files */
  sl__h5_unlock(&g);
}

static void fault_abort_inside(void) {
  h5_guard g;
  sl__h5_lock(&g, "/data/corrupt.h5");
  abort(); /* glibc, on the bad free of a corrupt dense-link table */
}

static void fault_outside(void) {
  h5_guard g;
  sl__h5_lock(&g, "/data/fine.h5");
  sl__h5_unlock(&g);
  signal(SIGSEGV, SIG_DFL); /* cmocka's own handler would catch it */
  sl__h5_lock(&g, "/data/fine.h5");
  sl__h5_unlock(&g);
  raise(SIGSEGV); /* a bug of ours, after the lock: must still crash */
}

/* A fault inside libhdf5 is one line naming the file and exit status 1;
   one elsewhere is not caught (it reaches the handler before ours, or
   kills the process by the signal). */
static void test_hdf5_fault_in_libhdf5_exits_1_naming_the_file(void **state) {
  (void)state;
  char err[4096];
  int st = in_child(fault_inside, err, sizeof err);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 1);
  assert_string_equal(err, "shardload: /data/corrupt.h5: libhdf5 crashed (SIGSEGV) reading "
                           "the file's metadata or data: the file is corrupt\n");
  st = in_child(fault_abort_inside, err, sizeof err);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 1);
  assert_non_null(strstr(err, "/data/corrupt.h5: libhdf5 crashed (SIGABRT)"));
  st = in_child(fault_outside, err, sizeof err);
  assert_null(strstr(err, "libhdf5 crashed"));
  assert_true((WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) || strstr(err, "Sanitizer") != NULL);
}

/* The 8 bytes of v, little-endian, replaced in file path (once, exactly). */
static void patch_u64(const char *path, uint64_t from, uint64_t to) {
  FILE *f = fopen(path, "r+b");
  assert_non_null(f);
  unsigned char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  int hits = 0;
  long at = -1;
  for (size_t i = 0; i + 8 <= n; i++)
    if (memcmp(buf + i, &from, 8) == 0) hits++, at = (long)i;
  assert_int_equal(hits, 1);
  fseek(f, at, SEEK_SET);
  fwrite(&to, 8, 1, f);
  fclose(f);
}

/* A chunk index pointing past the end of the file (and at an address
   whose sum with the size overflows): refused before any read. */
static void test_hdf5_chunk_outside_the_file_is_refused(void **state) {
  (void)state;
  const uint64_t bad[] = {1u << 30, INT64_MAX - 8, UINT64_MAX - 8};
  for (size_t b = 0; b < SL_ARRAY_LEN(bad); b++) {
    float v[64 * 2];
    for (int i = 0; i < 128; i++) v[i] = (float)i;
    hsize_t dims[] = {64, 2}, chunk[] = {16, 2};
    hid_t dcpl = chunked_gzip(2, chunk);
    char *path = h5_make("badchunk.h5", "d", H5T_IEEE_F32LE, 2, dims, dcpl, H5T_NATIVE_FLOAT, v);
    H5Pclose(dcpl);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, "d", H5P_DEFAULT);
    hsize_t at[] = {16, 0}, size = 0;
    haddr_t addr = 0;
    unsigned mask = 0;
    assert_true(H5Dget_chunk_info_by_coord(d, at, &mask, &addr, &size) >= 0);
    H5Dclose(d);
    H5Fclose(f);
    patch_u64(path, addr, bad[b]);
    probed p;
    assert_int_equal(probe(path, "d", &p), SL_OK);
    assert_int_equal(p.s.param[0], 2); /* MODE_CHUNKS: our own decoding */
    sl_error err = {0};
    void *buf = malloc(64 * 2 * sizeof(float));
    assert_int_equal(tshard_open(&p, &err), SL_OK);
    sl_status st = sl__hdf5_driver.read(&p.s, p.handle, &p.src, 0, 64, buf, &err);
    assert_int_equal(st, SL_EFORMAT);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "chunk at row 16"));
    free(buf);
    release(&p);
    assert_int_equal(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE), 0);
    free(path);
  }
}

/* External storage (raw bytes of any file) is refused without the option,
   read with it when the file lies beside the shard, refused outside. */
static void test_hdf5_external_storage_needs_the_option(void **state) {
  (void)state;
  float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  char *raw = path_in(dir, "ext.bin");
  FILE *fp = fopen(raw, "wb");
  fwrite(v, sizeof v, 1, fp);
  fclose(fp);
  const char *names[] = {"ext.bin", "/etc/passwd"};
  for (int k = 0; k < 2; k++) {
    hsize_t dims[] = {4, 2};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_external(dcpl, names[k], 0, sizeof v);
    char *path = h5_make("ext.h5", "d", H5T_IEEE_F32LE, 2, dims, dcpl, -1, NULL);
    H5Pclose(dcpl);
    probed p;
    assert_int_equal(probe(path, "d", &p), SL_EFORMAT);
    assert_non_null(strstr(p.err.message, path));
    assert_non_null(strstr(p.err.message, names[k]));
    assert_non_null(strstr(p.err.message, "option hdf5_allow_external"));
    tshard_init(&p, &sl__hdf5_driver);
    p.o.hdf5_allow_external = 1;
    sl_status st = tshard_probe(&p, path, "d");
    if (k == 1) {
      assert_int_equal(st, SL_EFORMAT);
      assert_non_null(strstr(p.err.message, "outside the dataset's directory"));
    } else {
      assert_int_equal(st, SL_OK);
      float *got = read_by_driver(&p, 0, 4);
      assert_memory_equal(got, v, sizeof v);
      free(got);
      release(&p);
    }
    free(path);
  }
  free(raw);
}


/* ------------------------------------------------------------- inspect */

static cJSON *account(probed *p) {
  sl_error err = {0};
  cJSON *j = tshard_account(p, &err);
  if (j == NULL) fail_msg("inspect: %s", err.message);
  return j;
}

static void test_hdf5_inspect_chunked_gzip_fixture(void **state) {
  (void)state;
  NEED_FIXTURE("h5_i4_chunked_gzip_shuffle/shard_0000.h5");
  probed p;
  assert_int_equal(probe(fx, NULL, &p), SL_OK);
  cJSON *j = account(&p);
  assert_string_equal(jstr(j, "read_path"), "decoded"); /* our own chunk decoder */
  assert_string_equal(jstr(j, "dataset"), "/data");
  assert_string_equal(jstr(j, "layout"), "chunked");
  assert_int_equal((int)jnum(j, "chunks.0"), 64);
  assert_int_equal((int)jnum(j, "chunks.1"), 3);
  assert_string_equal(jstr(j, "filters.0.name"), "shuffle");
  assert_string_equal(jstr(j, "filters.1.name"), "deflate");
  assert_int_equal((int)jnum(j, "filters.1.level"), 4);
  assert_string_equal(jstr(j, "codecs.0"), "shuffle");
  assert_string_equal(jstr(j, "codecs.1"), "deflate");
  assert_string_equal(jstr(j, "stored"), "<i4");
  assert_true(jnum(j, "storage_bytes") > 0);
  cJSON_Delete(j);
  release(&p);
}

static void test_hdf5_inspect_contiguous_big_endian_fixture(void **state) {
  (void)state;
  NEED_FIXTURE("h5_be_f8_contiguous_t4/shard_0000.h5");
  probed p;
  assert_int_equal(probe(fx, NULL, &p), SL_OK);
  sl_extent ex[1];
  size_t n = 1;
  sl_error err = {0};
  assert_int_equal(tshard_extents(&p, 0, 1, ex, &n, &err), SL_OK);
  cJSON *j = account(&p);
  assert_string_equal(jstr(j, "read_path"), "direct");
  assert_string_equal(jstr(j, "layout"), "contiguous");
  assert_string_equal(jstr(j, "stored"), ">f8");
  assert_int_equal((int64_t)jnum(j, "data_offset"), ex[0].offset);
  assert_int_equal(cJSON_GetArraySize(jget(j, "filters")), 0);
  assert_non_null(strstr(jstr(j, "read_note"), "byte-swapped"));
  cJSON_Delete(j);
  release(&p);
}

/* What only libhdf5 reads (compact here) says so, and why. */
static void test_hdf5_inspect_compact_reads_through_libhdf5(void **state) {
  (void)state;
  int32_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  hsize_t dims[] = {4, 2};
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_layout(dcpl, H5D_COMPACT);
  char *path = h5_make("compact.h5", "c", H5T_STD_I32LE, 2, dims, dcpl, H5T_NATIVE_INT32, v);
  H5Pclose(dcpl);
  probed p;
  assert_int_equal(probe(path, "c", &p), SL_OK);
  cJSON *j = account(&p);
  assert_string_equal(jstr(j, "read_path"), "hdf5");
  assert_string_equal(jstr(j, "layout"), "compact");
  assert_non_null(strstr(jstr(j, "read_note"), "compact"));
  cJSON_Delete(j);
  release(&p);
  free(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hdf5_fixture_contiguous_answers_extents),
      cmocka_unit_test(test_hdf5_fixture_big_endian_sets_swap),
      cmocka_unit_test(test_hdf5_fixture_chunked_gzip_decodes_any_rows),
      cmocka_unit_test(test_hdf5_fixture_whole_dataset_reads_through_library),
      cmocka_unit_test(test_hdf5_fixture_missing_dataset_names_what_is_there),
      cmocka_unit_test(test_hdf5_fixture_scalar_has_no_rows),
      cmocka_unit_test(test_hdf5_fixture_expand_natural_order),
      cmocka_unit_test(test_hdf5_fixture_expand_needs_a_choice),
      cmocka_unit_test(test_hdf5_fixture_pattern_needs_a_single_file),
      cmocka_unit_test(test_hdf5_fixture_single_file_reads_through_library),
      cmocka_unit_test(test_hdf5_rejects_a_file_that_is_not_hdf5),
      cmocka_unit_test(test_hdf5_missing_file_is_enoent),
      cmocka_unit_test(test_hdf5_write_roundtrip_every_dtype),
      cmocka_unit_test(test_hdf5_write_zero_rows),
      cmocka_unit_test(test_hdf5_chunked_big_endian_converts_to_native),
      cmocka_unit_test(test_hdf5_chunked_complex_and_half_and_bool),
      cmocka_unit_test(test_hdf5_user_block_offset_is_absolute),
      cmocka_unit_test(test_hdf5_unwritten_dataset_reads_fill_value),
      cmocka_unit_test(test_hdf5_own_chunk_decoding_matches_hdf5),
      cmocka_unit_test(test_hdf5_rejects_string_type),
      cmocka_unit_test(test_hdf5_rejects_compound_that_is_not_complex),
      cmocka_unit_test(test_hdf5_rejects_group_named_like_the_dataset),
      cmocka_unit_test(test_hdf5_rejects_unavailable_filter),
      cmocka_unit_test(test_hdf5_rejects_truncated_contiguous_file),
      cmocka_unit_test(test_hdf5_expand_sorts_numbers_naturally),
      cmocka_unit_test(test_hdf5_concurrent_reads_agree),
      cmocka_unit_test(test_hdf5_fault_in_libhdf5_exits_1_naming_the_file),
      cmocka_unit_test(test_hdf5_chunk_outside_the_file_is_refused),
      cmocka_unit_test(test_hdf5_external_storage_needs_the_option),
      cmocka_unit_test(test_hdf5_inspect_chunked_gzip_fixture),
      cmocka_unit_test(test_hdf5_inspect_contiguous_big_endian_fixture),
      cmocka_unit_test(test_hdf5_inspect_compact_reads_through_libhdf5),
  };
  return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
