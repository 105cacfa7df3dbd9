/* The Zarr driver: v2 and v3 metadata (dtypes, orders, separators, fill
   values, codecs, what is refused and how it is named), CRC-32C, and rows
   assembled from hand-made chunk files (tiles along every axis, F order,
   missing chunks, edge padding, truncation), discovery of a store. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "sl_test.h"
#include "zarr/zarr.h"

static sl_status parse(const char *text, int version, zarr_array *a, sl_error *err) {
  sl_error_clear(err);
  return sl__zarr_parse(text, strlen(text), version, "t.zarr", a, err);
}

static void expect_refused(const char *text, int version, sl_status code, const char *phrase) {
  zarr_array a;
  sl_error err;
  assert_int_equal(parse(text, version, &a, &err), code);
  assert_non_null(strstr(err.message, "t.zarr"));
  if (strstr(err.message, phrase) == NULL) fail_msg("'%s' lacks '%s'", err.message, phrase);
  assert_null(strchr(err.message, '\n'));
}

#define V2(dtype, comp, fill, order, filters, extra)                                     \
  "{\"chunks\": [4, 2], \"compressor\": " comp ", \"dtype\": \"" dtype "\", "            \
  "\"fill_value\": " fill ", \"filters\": " filters ", \"order\": \"" order "\", "       \
  "\"shape\": [10, 3], \"zarr_format\": 2" extra "}"

static void test_zarr_v2_metadata(void **state) {
  (void)state;
  zarr_array a;
  sl_error err;
  assert_int_equal(parse(V2(">f8", "{\"id\": \"zstd\", \"level\": 1}", "\"NaN\"", "F", "null",
                            ", \"dimension_separator\": \"/\""), 2, &a, &err), SL_OK);
  assert_int_equal(a.dtype, SL_FLOAT64);
  assert_true(a.chunk.swap);
  assert_int_equal(a.nd, 2);
  assert_int_equal(a.chunk.cs[0], 4);
  assert_true(a.chunk.permuted);
  assert_int_equal(a.chunk.perm[0], 1);
  assert_int_equal(a.sep, '/');
  assert_int_equal(a.chunk.nbb, 1);
  assert_int_equal(a.chunk.bb[0], ZB_ZSTD);
  double f;
  memcpy(&f, a.fill, 8);
  assert_true(isnan(f));
  assert_false(a.fill_zero);
  sl__zarr_free(&a);
  assert_int_equal(parse(V2("<i2", "null", "-7", "C", "[]", ""), 2, &a, &err), SL_OK);
  int16_t v;
  memcpy(&v, a.fill, 2);
  assert_int_equal(v, -7);
  assert_int_equal(a.sep, '.');
  assert_false(a.chunk.permuted);
  assert_int_equal(a.chunk.nbb, 0);
  sl__zarr_free(&a);
  assert_int_equal(parse(V2("<f4", "{\"id\": \"blosc\"}", "\"-Infinity\"", "C", "null", ""), 2,
                         &a, &err), SL_OK);
  float g;
  memcpy(&g, a.fill, 4);
  assert_true(isinf(g) && g < 0);
  sl__zarr_free(&a);
  /* base64 of the element's stored bytes: >i4 0x01020304 */
  assert_int_equal(parse(V2(">i4", "null", "\"AQIDBA==\"", "C", "null", ""), 2, &a, &err), SL_OK);
  int32_t b;
  memcpy(&b, a.fill, 4);
  assert_int_equal(b, 0x01020304);
  sl__zarr_free(&a);
}

static void test_zarr_v2_refusals_name_the_array(void **state) {
  (void)state;
  expect_refused(V2("|O", "null", "null", "C", "[{\"id\": \"vlen-utf8\"}]", ""), 2, SL_ENOTSUP,
                 "Python objects");
  expect_refused(V2("<U4", "null", "null", "C", "null", ""), 2, SL_ENOTSUP, "strings");
  expect_refused(V2("<i4", "null", "0", "C", "[{\"id\": \"delta\"}, {\"id\": \"fixedscaleoffset\"}]",
                    ""), 2, SL_ENOTSUP, "'delta', 'fixedscaleoffset'");
  expect_refused(V2("<i4", "{\"id\": \"lzma\"}", "0", "C", "null", ""), 2, SL_ENOTSUP, "'lzma'");
  expect_refused(V2("<i4", "null", "1.5", "C", "null", ""), 2, SL_EFORMAT, "not an integer");
  expect_refused(V2("|u2", "null", "7777777777777777777777", "C", "null", ""), 2, SL_EFORMAT,
                 "outside the range of dtype <u2");
  expect_refused(V2("|u1", "null", "-1", "C", "null", ""), 2, SL_EFORMAT, "outside the range");
  expect_refused(V2("<i8", "null", "9223372036854775808", "C", "null", ""), 2, SL_EFORMAT,
                 "outside the range");
  expect_refused(V2("<i4", "null", "\"AAAA\"", "C", "null", ""), 2, SL_ENOTSUP, "base64");
  expect_refused(V2("<i4", "null", "\"bad!\"", "C", "null", ""), 2, SL_ENOTSUP, "base64");
  expect_refused("{\"zarr_format\": 2, \"dtype\": [[\"a\", \"<i4\"]], \"shape\": [1], "
                 "\"chunks\": [1]}", 2, SL_ENOTSUP, "structured");
  expect_refused("{\"zarr_format\": 2, \"dtype\": \"<i4\", \"shape\": [10, 3], "
                 "\"chunks\": [0, 3]}", 2, SL_EFORMAT, "positive");
  expect_refused("[1, 2]", 2, SL_EFORMAT, "not a JSON object");
}

#define V3(codecs)                                                                         \
  "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [8, 6], \"data_type\": "      \
  "\"int32\", \"chunk_grid\": {\"name\": \"regular\", \"configuration\": {\"chunk_shape\": " \
  "[4, 6]}}, \"chunk_key_encoding\": {\"name\": \"default\"}, \"codecs\": " codecs ", "    \
  "\"fill_value\": \"0x0000002a\"}"

static void test_zarr_v3_metadata(void **state) {
  (void)state;
  zarr_array a;
  sl_error err;
  assert_int_equal(parse(V3("[{\"name\": \"transpose\", \"configuration\": {\"order\": [1, 0]}},"
                            " {\"name\": \"bytes\", \"configuration\": {\"endian\": \"big\"}},"
                            " {\"name\": \"zstd\"}, {\"name\": \"crc32c\"}]"), 3, &a, &err),
                   SL_OK);
  assert_int_equal(a.dtype, SL_INT32);
  assert_true(a.chunk.swap && a.chunk.permuted && a.key_c);
  assert_int_equal(a.sep, '/');
  assert_int_equal(a.chunk.nbb, 2);
  assert_int_equal(a.chunk.bb[1], ZB_CRC32C);
  int32_t f;
  memcpy(&f, a.fill, 4);
  assert_int_equal(f, 42);
  sl__zarr_free(&a);
  assert_int_equal(parse(V3("[{\"name\": \"sharding_indexed\", \"configuration\": "
                            "{\"chunk_shape\": [2, 3], \"codecs\": [{\"name\": \"bytes\"}], "
                            "\"index_codecs\": [{\"name\": \"bytes\"}, {\"name\": \"crc32c\"}], "
                            "\"index_location\": \"start\"}}]"), 3, &a, &err), SL_OK);
  assert_true(a.sharded);
  assert_false(a.index_end);
  assert_int_equal(a.ninner, 4);
  assert_int_equal(a.inner_grid[1], 2);
  sl__zarr_free(&a);
  expect_refused(V3("[{\"name\": \"bytes\"}, {\"name\": \"lzma\"}]"), 3, SL_ENOTSUP, "'lzma'");
  expect_refused(V3("[{\"name\": \"zstd\"}]"), 3, SL_ENOTSUP, "before the bytes codec");
  expect_refused(V3("[{\"name\": \"sharding_indexed\", \"configuration\": {\"chunk_shape\": "
                    "[3, 6], \"codecs\": [{\"name\": \"bytes\"}], \"index_codecs\": []}}]"),
                 3, SL_EFORMAT, "multiple");
  expect_refused("{\"zarr_format\": 3, \"node_type\": \"group\"}", 3, SL_ELAYOUT, "group");
  expect_refused("{\"zarr_format\": 3, \"node_type\": \"array\", \"data_type\": \"string\"}", 3,
                 SL_ENOTSUP, "string");
}

/* A float32 fill beyond float's range is an infinity (as numpy makes it);
   the integers at the ends of a type's range are kept exactly. */
static void test_zarr_fill_values_at_the_edges(void **state) {
  (void)state;
  zarr_array a;
  sl_error err;
  assert_int_equal(parse(V2("<f4", "null", "1e300", "C", "null", ""), 2, &a, &err), SL_OK);
  float g;
  memcpy(&g, a.fill, 4);
  assert_true(isinf(g) && g > 0);
  sl__zarr_free(&a);
  assert_int_equal(parse(V2("<i8", "null", "-9223372036854775808", "C", "null", ""), 2, &a,
                         &err), SL_OK);
  int64_t v;
  memcpy(&v, a.fill, 8);
  assert_true(v == INT64_MIN);
  sl__zarr_free(&a);
  assert_int_equal(parse(V2("|u1", "null", "255", "C", "null", ""), 2, &a, &err), SL_OK);
  assert_int_equal(a.fill[0], 255);
  sl__zarr_free(&a);
}

/* A codec chain whose outer header claims an inner stage far larger than
   any encoding of the chunk is refused before anything is allocated. */
static void test_zarr_inner_size_claims_are_bounded(void **state) {
  (void)state;
  zarr_array a;
  sl_error err;
  assert_int_equal(parse(V3("[{\"name\": \"bytes\"}, {\"name\": \"zstd\"}, "
                            "{\"name\": \"blosc\"}]"), 3, &a, &err), SL_OK);
  uint8_t chunk[32] = {2, 1, 0x11, 4, 0xf0, 0xff, 0xff, 0xff, 0, 0, 1, 0, 32, 0, 0, 0};
  int32_t out[24];
  zarr_work w = {0};
  assert_int_equal(sl__zarr_decode(&a, &a.chunk, chunk, sizeof chunk, (uint8_t *)out,
                                   sizeof out, &w, "t.zarr/c/0/0", &err), SL_EFORMAT);
  if (strstr(err.message, "t.zarr/c/0/0: codec header says 4294967280 bytes") == NULL)
    fail_msg("%s", err.message);
  sl__zarr_work_free(&w);
  sl__zarr_free(&a);
}

static void test_zarr_crc32c(void **state) {
  (void)state;
  assert_int_equal(sl__crc32c("123456789", 9), 0xE3069283u); /* the check value */
  assert_int_equal(sl__crc32c("", 0), 0);
}

/* A store in dir/name: .zarray text and chunk files of int16 values. */
static char *make_store(const char *name, const char *zarray) {
  char *d = path_in(dir, name);
  mkdir(d, 0755);
  write_bytes(d, ".zarray", zarray, strlen(zarray));
  return d;
}

/* A (5, 3) <i2 array, value 10*r + c, in chunks (2, 2), F order, chunk
   1.1 missing (fill -1), edge chunks padded with 99. */
static void write_tiles(const char *d) {
  for (int ci = 0; ci < 3; ci++)
    for (int cj = 0; cj < 2; cj++) {
      if (ci == 1 && cj == 1) continue;
      int16_t v[4];
      for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) {
          int gr = ci * 2 + r, gc = cj * 2 + c;
          v[c * 2 + r] = (int16_t)(gr < 5 && gc < 3 ? 10 * gr + gc : 99); /* F order */
        }
      char key[16];
      snprintf(key, sizeof key, "%d.%d", ci, cj);
      write_bytes(d, key, v, sizeof v);
    }
}

static void test_zarr_assembles_tiles_f_order_and_fill(void **state) {
  (void)state;
  char *d = make_store("tiles.zarr", "{\"chunks\": [2, 2], \"compressor\": null, \"dtype\": "
                       "\"<i2\", \"fill_value\": -1, \"filters\": null, \"order\": \"F\", "
                       "\"shape\": [5, 3], \"zarr_format\": 2}");
  write_tiles(d);
  sl_dataset *ds;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK); /* a store directory is found */
  assert_int_equal(sl_dataset_dtype(ds), SL_INT16);
  int64_t shape[SL_MAX_DIMS];
  assert_int_equal(sl_dataset_shape(ds, shape), 2);
  assert_int_equal(shape[0], 5);
  sl_dataset_free(ds);
  zarr_array a;
  char meta[4300];
  snprintf(meta, sizeof meta, "%s/.zarray", d);
  FILE *f = fopen(meta, "rb");
  char text[512];
  size_t n = fread(text, 1, sizeof text, f);
  fclose(f);
  assert_int_equal(sl__zarr_parse(text, n, 2, d, &a, &err), SL_OK);
  for (int lo = 0; lo < 5; lo++)
    for (int hi = lo + 1; hi <= 5; hi++) {
      int16_t out[15];
      zarr_work w = {0};
      assert_int_equal(sl__zarr_read_rows(&a, lo, hi, (uint8_t *)out, &w, &err), SL_OK);
      sl__zarr_work_free(&w);
      for (int r = lo; r < hi; r++)
        for (int c = 0; c < 3; c++) {
          int want = (r == 2 || r == 3) && c == 2 ? -1 : 10 * r + c;
          assert_int_equal(out[(r - lo) * 3 + c], want);
        }
    }
  sl__zarr_free(&a);
  free(d);
}

static void test_zarr_truncated_chunks_are_named(void **state) {
  (void)state;
  char *d = make_store("short.zarr", "{\"chunks\": [4], \"compressor\": null, \"dtype\": "
                       "\"<f4\", \"fill_value\": 0, \"filters\": null, \"order\": \"C\", "
                       "\"shape\": [8], \"zarr_format\": 2}");
  float v[4] = {1, 2, 3, 4};
  write_bytes(d, "0", v, sizeof v);
  write_bytes(d, "1", v, 10);
  zarr_array a;
  sl_error err;
  const char *t = "{\"chunks\": [4], \"compressor\": null, \"dtype\": \"<f4\", \"fill_value\": 0,"
                  " \"filters\": null, \"order\": \"C\", \"shape\": [8], \"zarr_format\": 2}";
  assert_int_equal(sl__zarr_parse(t, strlen(t), 2, d, &a, &err), SL_OK);
  float out[8];
  zarr_work w = {0};
  assert_int_equal(sl__zarr_read_rows(&a, 0, 4, (uint8_t *)out, &w, &err), SL_OK);
  assert_true(out[3] == 4);
  sl_error_clear(&err);
  assert_int_equal(sl__zarr_read_rows(&a, 2, 8, (uint8_t *)out, &w, &err), SL_EFORMAT);
  assert_non_null(strstr(err.message, "short.zarr/1"));
  sl__zarr_work_free(&w);
  sl__zarr_free(&a);
  free(d);
}

/* Large chunks that tiles along axis 1 keep off the whole-row pread: values
   in place, a short one named. */
static void test_zarr_large_chunks_short_file(void **state) {
  (void)state;
  enum { R = 300, C = 1024, CC = 512 }; /* 300 KiB chunks */
  const char *t = "{\"chunks\": [300, 512], \"compressor\": null, \"dtype\": \"<i2\", "
                  "\"fill_value\": 0, \"filters\": null, \"order\": \"C\", \"shape\": "
                  "[300, 1024], \"zarr_format\": 2}";
  char *d = make_store("big.zarr", t);
  int16_t *v = malloc((size_t)R * CC * sizeof *v);
  for (int cj = 0; cj < 2; cj++) {
    for (int r = 0; r < R; r++)
      for (int c = 0; c < CC; c++) v[r * CC + c] = (int16_t)((r * 7 + cj * CC + c) % 30000);
    char key[8];
    snprintf(key, sizeof key, "0.%d", cj);
    write_bytes(d, key, v, (size_t)R * CC * sizeof *v - (cj == 1 ? 2 : 0)); /* 0.1 short */
  }
  zarr_array a;
  sl_error err = {0};
  assert_int_equal(sl__zarr_parse(t, strlen(t), 2, d, &a, &err), SL_OK);
  int16_t *out = malloc((size_t)R * C * sizeof *out);
  zarr_work w = {0};
  assert_int_equal(sl__zarr_read_rows(&a, 5, 290, (uint8_t *)out, &w, &err), SL_EFORMAT);
  if (strstr(err.message, "big.zarr/0.1") == NULL) fail_msg("%s", err.message);
  write_bytes(d, "0.1", v, (size_t)R * CC * sizeof *v);
  sl_error_clear(&err);
  assert_int_equal(sl__zarr_read_rows(&a, 5, 290, (uint8_t *)out, &w, &err), SL_OK);
  for (int r = 5; r < 290; r++)
    for (int c = 0; c < C; c++)
      if (out[(r - 5) * C + c] != (int16_t)((r * 7 + c) % 30000))
        fail_msg("row %d column %d: %d", r, c, out[(r - 5) * C + c]);
  sl__zarr_work_free(&w);
  sl__zarr_free(&a);
  free(v);
  free(out);
  free(d);
}

static void test_zarr_truncated_blosc_fixture(void **state) {
  (void)state;
  NEED_FIXTURE("zarr2_bad_truncated_chunk/data.zarr");
  sl_dataset *ds;
  sl_error err;
  assert_int_equal(discover(fx, NULL, &ds, &err), SL_OK); /* metadata is fine */
  sl_dataset_free(ds);
  char meta[4300];
  snprintf(meta, sizeof meta, "%s/.zarray", fx);
  FILE *f = fopen(meta, "rb");
  char text[2048];
  size_t n = fread(text, 1, sizeof text, f);
  fclose(f);
  zarr_array a;
  assert_int_equal(sl__zarr_parse(text, n, 2, fx, &a, &err), SL_OK);
  float *out = calloc(600 * 6, sizeof *out);
  zarr_work w = {0};
  assert_int_equal(sl__zarr_read_rows(&a, 0, 300, (uint8_t *)out, &w, &err), SL_OK);
  assert_int_equal(sl__zarr_read_rows(&a, 250, 600, (uint8_t *)out, &w, &err), SL_EFORMAT);
  assert_non_null(strstr(err.message, "data.zarr/3.0"));
  assert_non_null(strstr(err.message, "truncated"));
  sl__zarr_work_free(&w);
  sl__zarr_free(&a);
  free(out);
}

/* A sharded v3 array (6, 4) <i4, shards (4, 4) of inner chunks (2, 2),
   index at the start with crc32c; inner chunk (0, 1) of shard 0 not
   stored (fill 42), inner row 1 of shard 1 beyond the array. */
static void write_shard(const char *d, int shard, bool corrupt) {
  uint8_t buf[4 * 16 + 4 + 4 * 16];
  uint64_t off = 68;
  for (int i = 0; i < 4; i++) {
    int ir = i / 2, ic = i % 2;
    bool stored = !(shard == 0 && i == 1) && !(shard == 1 && ir == 1);
    uint64_t o = stored ? off : UINT64_MAX, n = stored ? 16 : UINT64_MAX;
    memcpy(buf + 16 * i, &o, 8);
    memcpy(buf + 16 * i + 8, &n, 8);
    if (!stored) continue;
    int32_t v[4];
    for (int r = 0; r < 2; r++)
      for (int c = 0; c < 2; c++) v[r * 2 + c] = 10 * (shard * 4 + ir * 2 + r) + ic * 2 + c;
    memcpy(buf + off, v, 16);
    off += 16;
  }
  uint32_t crc = sl__crc32c(buf, 64);
  memcpy(buf + 64, &crc, 4);
  if (corrupt) buf[3] ^= 1;
  char name[32];
  snprintf(name, sizeof name, "c/%d/0", shard);
  write_bytes(d, name, buf, (size_t)off);
}

static void test_zarr_sharded_index_at_start(void **state) {
  (void)state;
  const char *t = "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [6, 4], "
                  "\"data_type\": \"int32\", \"chunk_grid\": {\"name\": \"regular\", "
                  "\"configuration\": {\"chunk_shape\": [4, 4]}}, \"chunk_key_encoding\": "
                  "{\"name\": \"default\"}, \"fill_value\": 42, \"codecs\": [{\"name\": "
                  "\"sharding_indexed\", \"configuration\": {\"chunk_shape\": [2, 2], "
                  "\"codecs\": [{\"name\": \"bytes\", \"configuration\": {\"endian\": "
                  "\"little\"}}], \"index_codecs\": [{\"name\": \"bytes\"}, {\"name\": "
                  "\"crc32c\"}], \"index_location\": \"start\"}}]}";
  char *d = path_in(dir, "sharded.zarr");
  mkdir(d, 0755);
  char sub[4300];
  snprintf(sub, sizeof sub, "%s/c", d);
  mkdir(sub, 0755);
  snprintf(sub, sizeof sub, "%s/c/0", d);
  mkdir(sub, 0755);
  snprintf(sub, sizeof sub, "%s/c/1", d);
  mkdir(sub, 0755);
  write_bytes(d, "zarr.json", t, strlen(t));
  write_shard(d, 0, false);
  write_shard(d, 1, false);
  sl_dataset *ds;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  sl_dataset_free(ds);
  zarr_array a;
  assert_int_equal(sl__zarr_parse(t, strlen(t), 3, d, &a, &err), SL_OK);
  zarr_work w = {0};
  for (int lo = 0; lo < 6; lo++) {
    int32_t out[24];
    assert_int_equal(sl__zarr_read_rows(&a, lo, 6, (uint8_t *)out, &w, &err), SL_OK);
    for (int r = lo; r < 6; r++)
      for (int c = 0; c < 4; c++)
        assert_int_equal(out[(r - lo) * 4 + c], r < 2 && c >= 2 ? 42 : 10 * r + c);
  }
  write_shard(d, 1, true);
  int32_t out[24];
  sl_error_clear(&err);
  assert_int_equal(sl__zarr_read_rows(&a, 0, 6, (uint8_t *)out, &w, &err), SL_EFORMAT);
  assert_non_null(strstr(err.message, "sharded.zarr/c/1/0"));
  assert_non_null(strstr(err.message, "crc32c"));
  sl__zarr_work_free(&w);
  sl__zarr_free(&a);
  free(d);
}

static void test_zarr_v3_v2_key_encoding(void **state) {
  (void)state;
  zarr_array a;
  sl_error err;
  const char *t = "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [4], "
                  "\"data_type\": \"uint16\", \"chunk_grid\": {\"name\": \"regular\", "
                  "\"configuration\": {\"chunk_shape\": [2]}}, \"chunk_key_encoding\": "
                  "{\"name\": \"v2\"}, \"fill_value\": 0, \"codecs\": [{\"name\": \"bytes\", "
                  "\"configuration\": {\"endian\": \"big\"}}]}";
  char *d = path_in(dir, "v2keys.zarr");
  mkdir(d, 0755);
  uint8_t c1[4] = {0, 7, 1, 0}; /* chunk "1": 7, 256 big-endian; chunk "0" missing */
  write_bytes(d, "1", c1, 4);
  assert_int_equal(sl__zarr_parse(t, strlen(t), 3, d, &a, &err), SL_OK);
  assert_false(a.key_c);
  assert_int_equal(a.sep, '.');
  uint16_t out[4];
  zarr_work w = {0};
  assert_int_equal(sl__zarr_read_rows(&a, 0, 4, (uint8_t *)out, &w, &err), SL_OK);
  assert_int_equal(out[0], 0);
  assert_int_equal(out[2], 7);
  assert_int_equal(out[3], 256);
  sl__zarr_work_free(&w);
  sl__zarr_free(&a);
  free(d);
}

/* ------------------------------------------------------------- inspect */

/* Shard i's account through the library (sl_dataset_inspect), parsed. */
static cJSON *inspect_path(const char *path, const char *dataset, size_t i) {
  sl_open_options o;
  sl_open_options_init(&o);
  o.dataset = dataset;
  sl_dataset *ds;
  sl_error err = {0};
  if (sl_dataset_open(NULL, path, &o, &ds, &err) != SL_OK) fail_msg("%s", err.message);
  char *json = NULL;
  if (sl_dataset_inspect(ds, i, &json, &err) != SL_OK) fail_msg("%s", err.message);
  cJSON *j = cJSON_Parse(json);
  sl_free(json);
  sl_dataset_free(ds);
  assert_non_null(j);
  return j;
}

static void test_zarr_inspect_blosc_chain_chunks_and_read_path(void **state) {
  (void)state;
  NEED_FIXTURE("zarr2_f4_blosc_lz4_tiles/data.zarr");
  cJSON *j = inspect_path(fx, NULL, 0);
  assert_string_equal(jstr(j, "read_path"), "decoded");
  assert_int_equal((int)jnum(j, "zarr_format"), 2);
  assert_string_equal(jstr(j, "codecs.0"), "blosc");
  assert_string_equal(jstr(j, "codec_chain.0.id"), "blosc");
  assert_string_equal(jstr(j, "codec_chain.0.cname"), "lz4");
  assert_int_equal((int)jnum(j, "codec_chain.0.clevel"), 5);
  assert_int_equal((int)jnum(j, "chunks.0"), 128);
  assert_int_equal((int)jnum(j, "chunks.1"), 5);
  assert_string_equal(jstr(j, "order"), "C");
  assert_int_equal((int)jnum(j, "rows"), 1037);
  cJSON_Delete(j);
}

static void test_zarr_inspect_sharded_v3(void **state) {
  (void)state;
  NEED_FIXTURE("zarr3_sharded_i4_crc32c/data.zarr");
  cJSON *j = inspect_path(fx, NULL, 0);
  assert_int_equal((int)jnum(j, "zarr_format"), 3);
  assert_int_equal((int)jnum(j, "shard_chunks.0"), 256);
  assert_int_equal((int)jnum(j, "chunks.0"), 64);
  assert_string_equal(jstr(j, "codec_chain.0.name"), "sharding_indexed");
  assert_string_equal(jstr(j, "shard_index"), "at the end");
  assert_string_equal(jstr(j, "read_path"), "decoded");
  cJSON_Delete(j);
}

/* An uncompressed C-order store of whole-row chunks goes straight in. */
static void test_zarr_inspect_uncompressed_is_direct(void **state) {
  (void)state;
  char *d = path_in(dir, "plain.zarr");
  int64_t shape[] = {10, 3};
  float v[30] = {0};
  sl_error err = {0};
  assert_int_equal(sl_write_shard("zarr", d, SL_FLOAT32, 2, shape, v, &err), SL_OK);
  cJSON *j = inspect_path(d, NULL, 0);
  assert_string_equal(jstr(j, "read_path"), "direct");
  assert_int_equal(cJSON_GetArraySize(jget(j, "codecs")), 0);
  cJSON_Delete(j);
  free(d);
}

/* inspect refuses a store whose chunk file a read would refuse, with the
   same message (checked from sizes alone: nothing is decoded). */
static void test_zarr_inspect_refuses_what_read_refuses(void **state) {
  (void)state;
  char *d = path_in(dir, "short.zarr");
  int64_t shape[] = {10, 3};
  float v[30] = {0};
  sl_error err = {0};
  assert_int_equal(sl_write_shard("zarr", d, SL_FLOAT32, 2, shape, v, &err), SL_OK);
  char *chunk = path_in(d, "0.0");
  assert_int_equal(truncate(chunk, 20), 0);
  sl_dataset *ds;
  assert_int_equal(sl_dataset_open(NULL, d, NULL, &ds, &err), SL_OK);
  char *json = NULL;
  sl_error ie = {0}, re = {0};
  assert_int_equal(sl_dataset_inspect(ds, 0, &json, &ie), SL_EFORMAT);
  assert_null(json);
  float out[30];
  assert_int_equal(sl_dataset_read_rows(ds, 0, 10, out, NULL, NULL, &re), SL_EFORMAT);
  assert_string_equal(ie.message, re.message);
  assert_non_null(strstr(ie.message, "0.0: uncompressed chunk holds 20 bytes"));
  sl_dataset_free(ds);
  free(chunk);
  free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_zarr_v2_metadata),
      cmocka_unit_test(test_zarr_v2_refusals_name_the_array),
      cmocka_unit_test(test_zarr_v3_metadata),
      cmocka_unit_test(test_zarr_crc32c),
      cmocka_unit_test(test_zarr_fill_values_at_the_edges),
      cmocka_unit_test(test_zarr_large_chunks_short_file),
      cmocka_unit_test(test_zarr_inner_size_claims_are_bounded),
      cmocka_unit_test(test_zarr_assembles_tiles_f_order_and_fill),
      cmocka_unit_test(test_zarr_truncated_chunks_are_named),
      cmocka_unit_test(test_zarr_truncated_blosc_fixture),
      cmocka_unit_test(test_zarr_sharded_index_at_start),
      cmocka_unit_test(test_zarr_v3_v2_key_encoding),
      cmocka_unit_test(test_zarr_inspect_blosc_chain_chunks_and_read_path),
      cmocka_unit_test(test_zarr_inspect_sharded_v3),
      cmocka_unit_test(test_zarr_inspect_uncompressed_is_direct),
      cmocka_unit_test(test_zarr_inspect_refuses_what_read_refuses),
  };
  return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
