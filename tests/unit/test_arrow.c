/* The Arrow IPC driver: column selection and every loadable type (Bool
   bits, Int8, UInt16, Float16, FixedSizeList), columns found behind List and
   Struct columns, LZ4 frame and ZSTD bodies decoding to the same values as
   uncompressed ones, the extents fast path and when it steps aside, nulls
   (exact message, fill values), rejections with their exact text, damaged
   files and allocation failures.

   Inputs: small files written by Arrow JS 21.2.0 in the fuzz corpus
   (tests/fuzz/corpus/arrow_footer/, values are formulas of the row number),
   and the arrow_js_bad_nulls fixture. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_test.h"
#include "arrow/flatbuf.h"
#include "arrow/ipc.h"

extern const sl_driver sl__arrow_driver;

static char corpus[4096];

static char *input(const char *name) {
  return path_in(corpus, name);
}

/* ------------------------------------------------------------- helpers */

/* The driver on a whole file image: probe, and for small files every row. */
static sl_status parse_buffer(const void *buf, size_t n, const sl_open_options *o,
                              sl_shard_info *info, sl_error *err) {
  return tshard_memory_all(&sl__arrow_driver, buf, n, o, 16 << 20, info, err);
}

/* A shard of the corpus opened for reading with option columns. */
static void open_shard(const char *name, const char *columns, tshard *t) {
  tshard_init(t, &sl__arrow_driver);
  t->o.columns = columns;
  if (tshard_probe(t, input(name), NULL) != SL_OK) fail_msg("%s", t->err.message);
  if (tshard_open(t, &t->err) != SL_OK) fail_msg("%s", t->err.message);
}

static void close_shard(tshard *t) {
  tshard_release(t);
  free((char *)t->s.path);
}


typedef struct opened {
  char *path;
  sl_dataset *ds;
  sl_error err;
} opened;

static sl_status open_file(const char *name, const char *columns, const char *fill,
                           opened *o) {
  sl_open_options opts;
  sl_open_options_init(&opts);
  opts.columns = columns;
  opts.fill_nulls = fill;
  memset(o, 0, sizeof *o);
  o->path = input(name);
  return sl_dataset_open(NULL, o->path, &opts, &o->ds, &o->err);
}

static void close_file(opened *o) {
  sl_dataset_free(o->ds);
  free(o->path);
}

/* Rows [lo, hi) of a file opened with columns, as a malloc'd buffer. */
static void *read_rows(const char *name, const char *columns, int64_t lo, int64_t hi,
                       sl_dtype want, int64_t width) {
  opened o;
  assert_int_equal(open_file(name, columns, NULL, &o), SL_OK);
  assert_int_equal(sl_dataset_dtype(o.ds), want);
  int64_t shape[SL_MAX_DIMS];
  assert_int_equal(sl_dataset_shape(o.ds, shape), 2);
  assert_int_equal(shape[1], width);
  size_t n = (size_t)((hi - lo) * width) * sl_dtype_size(want);
  void *buf = malloc(n ? n : 1);
  assert_int_equal(sl_dataset_read_rows(o.ds, lo, hi, buf, NULL, NULL, &o.err), SL_OK);
  close_file(&o);
  return buf;
}

static void expect_open_code(const char *name, const char *columns, sl_status code,
                             const char *fmt) {
  opened o;
  assert_int_equal(open_file(name, columns, NULL, &o), code);
  char want[2048];
  snprintf(want, sizeof want, fmt, o.path);
  assert_string_equal(o.err.message, want);
  free(o.path);
}

static void expect_open_error(const char *name, const char *columns, const char *fmt) {
  expect_open_code(name, columns, SL_EFORMAT, fmt);
}

/* IEEE half -> float, for exact checks of Float16 values. */
static float half(uint16_t h) {
  int e = (h >> 10) & 31, m = h & 1023;
  float v = e ? ldexpf((float)(m | 1024), e - 25) : ldexpf((float)m, -24);
  return (h & 0x8000) ? -v : v;
}

/* -------------------------------------------------------------- values */

static void test_arrow_default_selects_the_numeric_column(void **state) {
  (void)state; /* single_f8: x Float64 = i / 2 and a Utf8 column, 237 rows */
  double *x = read_rows("single_f8.arrow", NULL, 0, 237, SL_FLOAT64, 1);
  for (int i = 0; i < 237; i++) assert_true(x[i] == i * 0.5);
  free(x);
}

static void test_arrow_bool_unpacks_across_batches(void **state) {
  (void)state; /* b1 = i % 3 == 0, b2 = i % 2 == 1; batches of 50 and 23 rows */
  uint8_t *b = read_rows("types.arrow", "b2,b1", 3, 71, SL_BOOL, 2);
  for (int i = 3; i < 71; i++) {
    assert_int_equal(b[(i - 3) * 2], i % 2 == 1);
    assert_int_equal(b[(i - 3) * 2 + 1], i % 3 == 0);
  }
  free(b);
}

static void test_arrow_int8_uint16_float16_values(void **state) {
  (void)state;
  int8_t *i8 = read_rows("types.arrow", "i", 0, 73, SL_INT8, 1);
  uint16_t *u16 = read_rows("types.arrow", "u", 0, 73, SL_UINT16, 1);
  uint16_t *f16 = read_rows("types.arrow", "h", 0, 73, SL_FLOAT16, 1);
  for (int i = 0; i < 73; i++) {
    assert_int_equal(i8[i], i % 200 - 100);
    assert_int_equal(u16[i], i * 7);
    assert_true(half(f16[i]) == i * 0.25f);
  }
  free(i8);
  free(u16);
  free(f16);
}

static void test_arrow_column_after_list_and_struct(void **state) {
  (void)state; /* v comes after a List<Int32> and a Struct<Int32, Utf8> */
  float *v = read_rows("types.arrow", "v", 10, 73, SL_FLOAT32, 1);
  for (int i = 10; i < 73; i++) assert_true(v[i - 10] == i + 0.5f);
  free(v);
}

static void test_arrow_lz4_and_zstd_match_uncompressed(void **state) {
  (void)state;
  static const char *const cols[] = {"b1,b2", "i", "u", "h", "v"};
  static const size_t bytes[] = {2, 1, 2, 2, 4};
  for (size_t c = 0; c < SL_ARRAY_LEN(cols); c++) {
    sl_dtype t = c == 0 ? SL_BOOL : c == 1 ? SL_INT8 : c == 2 ? SL_UINT16 : c == 3 ? SL_FLOAT16
                                                                                  : SL_FLOAT32;
    void *plain = read_rows("types.arrow", cols[c], 7, 66, t, c == 0 ? 2 : 1);
    void *lz4 = read_rows("types_lz4.arrow", cols[c], 7, 66, t, c == 0 ? 2 : 1);
    void *zstd = read_rows("types_zstd.arrow", cols[c], 7, 66, t, c == 0 ? 2 : 1);
    assert_memory_equal(plain, lz4, 59 * bytes[c]);
    assert_memory_equal(plain, zstd, 59 * bytes[c]);
    free(plain);
    free(lz4);
    free(zstd);
  }
}

static void test_arrow_fixed_size_list_zstd(void **state) {
  (void)state; /* emb: FSL<Float64>[4] = {i, -i, i/4, 1e6 + i}, batches 30 + 15 */
  double *e = read_rows("fsl_f8_zstd.arrow", NULL, 25, 45, SL_FLOAT64, 4);
  for (int i = 25; i < 45; i++) {
    const double *r = e + (i - 25) * 4;
    assert_true(r[0] == i && r[1] == -i && r[2] == i / 4.0 && r[3] == 1e6 + i);
  }
  free(e);
}

/* ------------------------------------------------------------- extents */

static void test_arrow_single_plain_column_answers_extents(void **state) {
  (void)state;
  tshard t;
  open_shard("single_f8.arrow", "x", &t);
  sl_extent ex[4];
  size_t n = 1; /* too small: the driver asks for room for all three batches */
  assert_int_equal(tshard_extents(&t, 50, 237, ex, &n, &t.err), SL_OK);
  assert_int_equal(n, 3);
  n = 4;
  assert_int_equal(tshard_extents(&t, 50, 237, ex, &n, &t.err), SL_OK);
  assert_int_equal(n, 3);
  int64_t lens[3] = {50 * 8, 100 * 8, 37 * 8};
  for (size_t k = 0, row = 50; k < 3; k++) {
    assert_int_equal(ex[k].length, lens[k]);
    double v[100];
    assert_int_equal(sl_source_read(&t.src, ex[k].offset, (size_t)ex[k].length, v, &t.err),
                     SL_OK);
    for (int64_t i = 0; i < ex[k].length / 8; i++, row++) assert_true(v[i] == row * 0.5);
  }
  close_shard(&t);
}

/* *n after asking for extents of rows [lo, hi). */
static size_t extents_count(const char *name, const char *columns, int64_t lo, int64_t hi) {
  tshard t;
  open_shard(name, columns, &t);
  sl_extent ex[8];
  size_t n = 8;
  assert_int_equal(tshard_extents(&t, lo, hi, ex, &n, &t.err), SL_OK);
  close_shard(&t);
  return n;
}

static void test_arrow_extents_step_aside_for_decoding(void **state) {
  (void)state;
  assert_int_equal(extents_count("types.arrow", "v", 0, 73), 2);      /* plain */
  assert_int_equal(extents_count("types.arrow", "b1,b2", 0, 73), 0);  /* interleave */
  assert_int_equal(extents_count("types.arrow", "b1", 0, 73), 0);     /* bits */
  assert_int_equal(extents_count("types_lz4.arrow", "v", 0, 73), 0);  /* compressed */
  assert_int_equal(extents_count("fsl_nulls.arrow", NULL, 0, 32), 0); /* nulls */
  assert_int_equal(extents_count("fsl_nulls.arrow", NULL, 20, 32), 1); /* clean batch */
}

/* --------------------------------------------------------------- nulls */

static void test_arrow_null_error_names_file_column_and_row(void **state) {
  (void)state;
  find_fixtures();
  NEED_FIXTURE("arrow_js_bad_nulls");
  char want[8192];
  sl_dataset *ds;
  sl_error err = {0};
  assert_int_equal(sl_dataset_open(NULL, fx, NULL, &ds, &err), SL_OK);
  float *buf = malloc(1100 * 2 * sizeof *buf);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1100, buf, NULL, NULL, &err), SL_EFORMAT);
  snprintf(want, sizeof want, "%s/shard_0001.arrow: column 'a' has a null at row 3 (give "
           "option fill_nulls a value to load nulls as a number)", fx);
  assert_string_equal(err.message, want);
  sl_dataset_free(ds);
  free(buf);
}

static void test_arrow_fill_nulls_replaces_row_and_element(void **state) {
  (void)state; /* vec FSL<Int32>[3] = {10i, 10i+1, 10i+2}; row 5 null, row 9 elem 1 null */
  opened o;
  assert_int_equal(open_file("fsl_nulls.arrow", NULL, "-7", &o), SL_OK);
  int32_t v[32 * 3];
  assert_int_equal(sl_dataset_read_rows(o.ds, 0, 32, v, NULL, NULL, &o.err), SL_OK);
  for (int i = 0; i < 32; i++)
    for (int j = 0; j < 3; j++) {
      int32_t want = i == 5 || (i == 9 && j == 1) ? -7 : i * 10 + j;
      assert_int_equal(v[i * 3 + j], want);
    }
  close_file(&o);
}

static void test_arrow_child_null_message(void **state) {
  (void)state;
  opened o;
  assert_int_equal(open_file("fsl_nulls.arrow", NULL, NULL, &o), SL_OK);
  int32_t v[32 * 3];
  assert_int_equal(sl_dataset_read_rows(o.ds, 6, 32, v, NULL, NULL, &o.err), SL_EFORMAT);
  char want[8192];
  snprintf(want, sizeof want, "%s: column 'vec' has a null in element 1 of row 9 (give "
           "option fill_nulls a value to load nulls as a number)", o.path);
  assert_string_equal(o.err.message, want);
  close_file(&o);
}

static void test_arrow_rejects_bad_fill_value(void **state) {
  (void)state;
  opened o;
  assert_int_equal(open_file("fsl_nulls.arrow", NULL, "1.5", &o), SL_OK);
  int32_t v[3];
  assert_int_equal(sl_dataset_read_rows(o.ds, 0, 1, v, NULL, NULL, &o.err), SL_EINVAL);
  char want[8192];
  snprintf(want, sizeof want, "%s: option fill_nulls '1.5' is not a number that <i4 can hold", o.path);
  assert_string_equal(o.err.message, want);
  close_file(&o);
}

/* ------------------------------------------------------------- inspect */

static cJSON *account_of(const char *name, const char *columns, const char *fill, tshard *t) {
  tshard_init(t, &sl__arrow_driver);
  t->o.columns = columns;
  t->o.fill_nulls = fill;
  if (tshard_probe(t, input(name), NULL) != SL_OK) fail_msg("%s", t->err.message);
  cJSON *j = tshard_account(t, &t->err);
  if (j == NULL) fail_msg("inspect: %s", t->err.message);
  return j;
}

/* The FieldNodes' null counts per column (row and element nulls of a
   FixedSizeList), and a refusal with read's message without fill_nulls. */
static void test_arrow_inspect_counts_nulls_from_field_nodes(void **state) {
  (void)state; /* vec FSL<Int32>[3]: row 5 null, row 9 element 1 null */
  tshard t;
  cJSON *j = account_of("fsl_nulls.arrow", NULL, "-7", &t);
  assert_string_equal(jstr(j, "columns.0.name"), "vec");
  assert_string_equal(jstr(j, "columns.0.stored"), "FixedSizeList<Int32>[3]");
  assert_int_equal((int)jnum(j, "columns.0.list_size"), 3);
  assert_true(cJSON_IsTrue(jget(j, "columns.0.nulls")));
  assert_true(jnum(j, "columns.0.null_count") >= 2);
  assert_string_equal(jstr(j, "read_path"), "decoded"); /* nulls filled */
  cJSON_Delete(j);
  close_shard(&t);
  tshard_init(&t, &sl__arrow_driver);
  assert_int_equal(tshard_probe(&t, input("fsl_nulls.arrow"), NULL), SL_OK);
  char *text = NULL;
  assert_int_equal(tshard_inspect(&t, &text, &t.err), SL_EFORMAT);
  assert_null(text);
  opened o; /* the read's own message */
  assert_int_equal(open_file("fsl_nulls.arrow", NULL, NULL, &o), SL_OK);
  int32_t v[32 * 3];
  assert_int_equal(sl_dataset_read_rows(o.ds, 0, 32, v, NULL, NULL, &o.err), SL_EFORMAT);
  assert_string_equal(t.err.message, o.err.message);
  close_file(&o);
  close_shard(&t);
}

static void test_arrow_inspect_fixture_nulls_refused_as_read(void **state) {
  (void)state;
  find_fixtures();
  NEED_FIXTURE("arrow_js_bad_nulls");
  sl_dataset *ds;
  sl_error err = {0}, rerr = {0};
  assert_int_equal(sl_dataset_open(NULL, fx, NULL, &ds, &err), SL_OK);
  char *json = NULL;
  assert_int_equal(sl_dataset_inspect(ds, 1, &json, &err), SL_EFORMAT);
  float *buf = malloc(1100 * 2 * sizeof *buf);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 1100, buf, NULL, NULL, &rerr), SL_EFORMAT);
  assert_string_equal(err.message, rerr.message);
  free(buf);
  sl_dataset_free(ds);
  sl_open_options o;
  sl_open_options_init(&o);
  o.fill_nulls = "0";
  assert_int_equal(sl_dataset_open(NULL, fx, &o, &ds, &err), SL_OK);
  assert_int_equal(sl_dataset_inspect(ds, 1, &json, &err), SL_OK);
  cJSON *j = cJSON_Parse(json);
  sl_free(json);
  assert_string_equal(jstr(j, "columns.0.name"), "a");
  assert_int_equal((int)jnum(j, "columns.0.null_count"), 2);
  assert_true(cJSON_IsFalse(jget(j, "columns.1.nulls")));
  cJSON_Delete(j);
  sl_dataset_free(ds);
}

/* What is left out and why, batches, codecs and the read path. */
static void test_arrow_inspect_left_out_batches_and_read_path(void **state) {
  (void)state;
  tshard t;
  cJSON *j = account_of("types.arrow", "v", NULL, &t);
  assert_string_equal(jstr(j, "read_path"), "direct"); /* one plain column */
  assert_int_equal((int)jnum(j, "batches.count"), 2);
  assert_int_equal((int)jnum(j, "batches.min_rows"), 23);
  assert_int_equal((int)jnum(j, "batches.max_rows"), 50);
  assert_int_equal(cJSON_GetArraySize(jget(j, "codecs")), 0);
  const cJSON *sk = jget(j, "skipped");
  bool lst = false, st = false, b1 = false;
  const cJSON *e;
  cJSON_ArrayForEach(e, sk) {
    const char *n = jstr(e, "name"), *why = jstr(e, "why");
    if (strcmp(n, "lst") == 0) lst = strcmp(why, "List: not a fixed-size list of numbers") == 0;
    if (strcmp(n, "st") == 0) st = strcmp(why, "Struct: nested, not numbers") == 0;
    if (strcmp(n, "b1") == 0) b1 = strcmp(why, "not named by option columns") == 0;
  }
  assert_true(lst && st && b1);
  cJSON_Delete(j);
  close_shard(&t);
  j = account_of("single_f8.arrow", NULL, NULL, &t);
  assert_string_equal(jstr(j, "skipped.0.name"), "name");
  assert_string_equal(jstr(j, "skipped.0.why"), "Utf8: strings or bytes, not numbers");
  cJSON_Delete(j);
  close_shard(&t);
  j = account_of("types_zstd.arrow", "b1,b2", NULL, &t);
  assert_string_equal(jstr(j, "codecs.0"), "ZSTD");
  assert_string_equal(jstr(j, "read_path"), "decoded");
  assert_string_equal(jstr(j, "read_note"), "compressed record batches, decompressed whole by "
                      "shardload");
  cJSON_Delete(j);
  close_shard(&t);
}

/* ---------------------------------------------------------- rejections */

static void test_arrow_rejects_unloadable_and_mixed_columns(void **state) {
  (void)state;
  expect_open_error("single_f8.arrow", "name",
                    "%s: column 'name' has type Utf8, which cannot be loaded as numbers "
                    "(loadable: Int, FloatingPoint, Bool, FixedSizeList of those; Date, Time, "
                    "Timestamp, Duration by name)");
  expect_open_error("types.arrow", "lst",
                    "%s: column 'lst' has type List, which cannot be loaded as numbers "
                    "(loadable: Int, FloatingPoint, Bool, FixedSizeList of those; Date, Time, "
                    "Timestamp, Duration by name)");
  expect_open_error("types.arrow", NULL,
                    "%s: the numeric columns differ in type (b1 Bool (|b1), b2 Bool (|b1), "
                    "i Int8 (|i1), u UInt16 (<u2), h Float16 (<f2), v Float32 (<f4)), so they "
                    "cannot be stacked into one array as they are; give option dtype (e.g. "
                    "float32) to convert them while loading, or choose columns of one type "
                    "with option columns");
  expect_open_error("types.arrow", "v,i",
                    "%s: the selected columns differ in type (v Float32 (<f4), i Int8 "
                    "(|i1)), so they cannot be stacked into one array as they are; give "
                    "option dtype (e.g. float32) to convert them while loading, or choose "
                    "columns of one type with option columns");
  expect_open_code("single_f8.arrow", "x,nope", SL_EINVAL, /* as Parquet says it */
                   "%s: expected a column named 'nope' (from option columns) but the file has "
                   "none; its columns are: x, name");
  expect_open_code("fsl_nulls.arrow", "vec,vec", SL_EINVAL,
                   "%s: option columns 'vec,vec' names the column 'vec' twice");
}

static void test_arrow_rejects_files_that_are_not_arrow(void **state) {
  (void)state;
  sl_shard_info info;
  sl_error err = {0};
  const char text[] = "a,b\n1,2\n3,4\n5,6\n7,8\n";
  assert_int_equal(parse_buffer(text, sizeof text - 1, NULL, &info, &err),
                   SL_EFORMAT);
  assert_string_equal(err.message, "<buffer>: not an Arrow IPC file or stream (expected the "
                      "magic ARROW1 at the start and the end, or a stream's first message, "
                      "its Schema; Feather v1 is not supported)");
}

/* ------------------------------------------------------ damaged inputs */

static uint8_t *slurp(const char *name, size_t *n) {
  char *p = input(name);
  FILE *f = fopen(p, "rb");
  assert_non_null(f);
  uint8_t *b = malloc(1 << 16);
  *n = fread(b, 1, 1 << 16, f);
  fclose(f);
  free(p);
  return b;
}


/* ------------------------------------------------------------- streams */

/* Rows of a memory image through the driver (rows x width of dtype). */
static void *image_rows(const uint8_t *b, size_t n, const char *dtype, sl_shard_info *info,
                        sl_error *err, sl_status *st) {
  tshard t;
  tshard_init(&t, &sl__arrow_driver);
  t.o.dtype = dtype;
  *st = tshard_probe_mem(&t, "<stream>", b, n);
  void *rows = NULL;
  if (*st == SL_OK) {
    *info = t.info;
    rows = malloc((size_t)(t.info.shape[0] * t.info.shape[1]) * sl_dtype_size(t.info.dtype) + 1);
    *st = tshard_read(&t, 0, t.s.rows, rows, &t.err);
  }
  *err = t.err;
  tshard_release(&t);
  if (*st != SL_OK) {
    free(rows);
    rows = NULL;
  }
  return rows;
}

/* The same messages with the pre-0.15 prefix (the length alone) and
   without the end marker. */
static uint8_t *legacy_stream(const uint8_t *b, size_t n, size_t *out_n) {
  uint8_t *o = malloc(n);
  size_t at = 0, k = 0;
  while (at + 8 <= n && sl__fb_le32(b + at) == 0xFFFFFFFFu) {
    uint32_t len = sl__fb_le32(b + at + 4);
    if (len == 0) break;
    fb_table msg;
    int64_t body = 0;
    assert_true(sl__fb_root(b + at + 8, len, &msg) && sl__fb_i64(&msg, 3, 0, &body));
    memcpy(o + k, b + at + 4, 4 + len + (size_t)body);
    k += 4 + len + (size_t)body;
    at += 8 + len + (size_t)body;
  }
  *out_n = k;
  return o;
}

static void test_arrow_stream_reads_in_every_form(void **state) {
  (void)state;
  size_t n, ln;
  uint8_t *b = slurp("f4_stream.arrows", &n);
  sl_shard_info info, li;
  sl_error err;
  sl_status st;
  float *rows = image_rows(b, n, NULL, &info, &err, &st);
  assert_int_equal(st, SL_OK);
  assert_int_equal(info.dtype, SL_FLOAT32);
  assert_int_equal(info.shape[0], 1000); /* batches of 800 and 200 */
  assert_int_equal(info.shape[1], 4);
  uint8_t *legacy = legacy_stream(b, n, &ln);
  assert_true(ln < n);
  float *again = image_rows(legacy, ln, NULL, &li, &err, &st);
  assert_int_equal(st, SL_OK);
  assert_memory_equal(rows, again, 1000 * 4 * sizeof(float));
  free(again);
  double *wide = image_rows(b, n, "float64", &li, &err, &st); /* and cast */
  assert_int_equal(st, SL_OK);
  assert_int_equal(li.dtype, SL_FLOAT64);
  for (int i = 0; i < 4000; i++) assert_true(wide[i] == (double)rows[i] || rows[i] != rows[i]);
  free(wide);
  free(rows);
  free(legacy);
  free(b);
}

static void test_arrow_stream_errors_name_the_message(void **state) {
  (void)state;
  size_t n;
  uint8_t *b = slurp("f4_stream.arrows", &n);
  sl_shard_info info;
  sl_error err;
  sl_status st;
  uint32_t schema_len = sl__fb_le32(b + 4);
  size_t first = 8 + schema_len; /* the first record batch, its body after */
  assert_null(image_rows(b + first, n - first, NULL, &info, &err, &st));
  assert_int_equal(st, SL_EFORMAT);
  assert_string_equal(err.message, "<stream>: malformed Arrow IPC stream: the message at byte 0 "
                      "is a RecordBatch (type 3), but a stream starts with its Schema");
  assert_null(image_rows(b, first + 100, NULL, &info, &err, &st)); /* cut in the batch */
  assert_int_equal(st, SL_EFORMAT);
  assert_non_null(strstr(err.message, "malformed Arrow IPC stream: the message at byte"));
  assert_null(strchr(err.message, '\n'));
  free(image_rows(b, first, NULL, &info, &err, &st));
  assert_int_equal(st, SL_OK); /* the schema alone: a stream of no rows */
  assert_int_equal(info.shape[0], 0);
  assert_null(image_rows(b, first + 6, NULL, &info, &err, &st)); /* a prefix cut short */
  assert_string_equal(err.message, "<stream>: malformed Arrow IPC stream: the message at byte "
                      "264 is cut off after 6 bytes");
  free(b);
}

static void test_arrow_stream_through_the_library(void **state) {
  (void)state;
  float *a = read_rows("f4_stream.arrows", NULL, 0, 1000, SL_FLOAT32, 4);
  float *c = read_rows("f4_stream.arrows", "c2", 100, 900, SL_FLOAT32, 1);
  for (int i = 0; i < 800; i++) assert_memory_equal(&c[i], &a[(100 + i) * 4 + 2], 4);
  free(a);
  free(c);
  int32_t *z = read_rows("i32_lz4_stream.arrows", NULL, 0, 1800, SL_INT32, 3);
  free(z);
}

static const char *const inputs[] = {"single_f8.arrow", "types.arrow", "types_lz4.arrow",
                                     "types_zstd.arrow", "fsl_nulls.arrow",
                                     "fsl_f8_zstd.arrow", "f4_stream.arrows",
                                     "i32_lz4_stream.arrows"};

/* Every truncation and every single-byte change of the metadata either
   parses or fails with a one-line message (ASan/UBSan watch the rest). */
static void test_arrow_damaged_files_fail_cleanly(void **state) {
  (void)state;
  sl_open_options o;
  sl_open_options_init(&o);
  o.fill_nulls = "0";
  for (size_t k = 0; k < SL_ARRAY_LEN(inputs); k++) {
    size_t n;
    uint8_t *b = slurp(inputs[k], &n);
    sl_shard_info info;
    /* the streams are larger, mostly values: their bytes are sampled */
    size_t cut_step = n > 8192 ? 53 : 7, flip_step = n > 8192 ? 41 : 3;
    for (size_t cut = 0; cut < n; cut += cut_step) {
      sl_error err = {0};
      if (parse_buffer(b, cut, &o, &info, &err) != SL_OK)
        assert_null(strchr(err.message, '\n'));
    }
    for (size_t i = 0; i < n; i += (i < 1024 ? 3 : flip_step)) {
      uint8_t keep = b[i];
      for (int flip = 1; flip < 256; flip <<= 2) {
        b[i] = (uint8_t)(keep ^ flip);
        sl_error err = {0};
        if (parse_buffer(b, n, &o, &info, &err) != SL_OK)
          assert_null(strchr(err.message, '\n'));
      }
      b[i] = keep;
    }
    free(b);
  }
}

static void test_arrow_allocation_failures(void **state) {
  (void)state;
  size_t n;
  uint8_t *b = slurp("types_zstd.arrow", &n);
  sl_open_options o;
  sl_open_options_init(&o);
  o.columns = "b1,b2";
  sl_status st = SL_ENOMEM;
  for (long nth = 1; st == SL_ENOMEM && nth < 1000; nth++) {
    sl_shard_info info;
    sl_error err = {0};
    sl__alloc_fail_at(nth, false);
    st = parse_buffer(b, n, &o, &info, &err);
    sl__alloc_fail_at(0, false);
    if (st != SL_OK) assert_int_equal(st, SL_ENOMEM);
  }
  assert_int_equal(st, SL_OK);
  free(b);
}

/* --------------------------------------------------------- concurrency */

typedef struct job {
  const tshard *t;
  int64_t lo, hi;
  float *dst;
  sl_status st;
} job;

static void *run_job(void *arg) {
  job *j = arg;
  sl_error err = {0};
  j->st = sl__arrow_driver.read(&j->t->s, j->t->handle, &j->t->src, j->lo, j->hi, j->dst, &err);
  return NULL;
}

/* Threads reading one shard at once share its handle, read-only. */
/* A source over a mapping of the file (what the leaf read hands a decoding
   driver): values are used where they lie, batches at once. */
static void map_source(tshard *t) {
  void *m = sl__map_file(t->src.fd, t->src.size);
  assert_non_null(m);
  t->src.mem = m;
}

static void unmap_source(tshard *t) {
  sl__unmap_file((void *)t->src.mem, t->src.size);
  t->src.mem = NULL;
}

/* Every row of every corpus file, through a mapping and through preads of
   buffers: the same bytes. */
static void test_arrow_mapped_and_read_agree(void **state) {
  (void)state;
  static const char *const files[] = {"types.arrow", "types_lz4.arrow", "types_zstd.arrow",
                                      "single_f8.arrow", "fsl_f8_zstd.arrow"};
  static const char *const cols[] = {"h", "v", "u", NULL, NULL};
  for (size_t i = 0; i < SL_ARRAY_LEN(files); i++) {
    tshard a, b;
    open_shard(files[i], cols[i], &a);
    open_shard(files[i], cols[i], &b);
    map_source(&b);
    size_t n = (size_t)a.s.rows * (size_t)a.info.shape[1] * sl_dtype_size(a.info.dtype);
    char *x = malloc(n + 1), *y = malloc(n + 1);
    sl_error err = {0};
    assert_int_equal(tshard_read(&a, 0, a.s.rows, x, &err), SL_OK);
    assert_int_equal(tshard_read(&b, 0, b.s.rows, y, &err), SL_OK);
    assert_memory_equal(x, y, n);
    unmap_source(&b);
    close_shard(&a);
    close_shard(&b);
    free(x);
    free(y);
  }
}

/* A file truncated while it is mapped: the read is SL_ECHANGED naming it
   (a SIGBUS caught by the guard), not a crash. */
static void test_arrow_truncated_under_a_mapping(void **state) {
  (void)state;
  NEED_FIXTURE("arrow_js_f4_batches/shard_0000.arrow"); /* 6 columns over many pages */
  char *src = strdup(fx), *copy = path_in(dir, "trunc.arrow");
  FILE *in = fopen(src, "rb");
  assert_non_null(in);
  static char bytes[1 << 20];
  size_t n = fread(bytes, 1, sizeof bytes, in);
  fclose(in);
  write_bytes(dir, "trunc.arrow", bytes, n);
  tshard t;
  tshard_init(&t, &sl__arrow_driver);
  assert_int_equal(tshard_probe(&t, copy, NULL), SL_OK);
  assert_int_equal(tshard_open(&t, &t.err), SL_OK);
  map_source(&t);
  assert_int_equal(truncate(copy, 8), 0);
  sl__map_guard_arm(); /* as each read does: cmocka put its own handler in per test */
  float *rows = malloc((size_t)t.s.rows * 6 * sizeof *rows + 1);
  sl_error err = {0};
  assert_int_equal(tshard_read(&t, 0, t.s.rows, rows, &err), SL_ECHANGED);
  assert_non_null(strstr(err.message, copy));
  unmap_source(&t);
  tshard_release(&t);
  free(rows);
  free(src);
  free(copy);
}

static void test_arrow_concurrent_reads(void **state) {
  (void)state;
  tshard sh;
  open_shard("types_lz4.arrow", "v", &sh);
  float out[73 * 2];
  job jobs[4];
  pthread_t th[4];
  for (int t = 0; t < 4; t++) {
    jobs[t] = (job){&sh, t * 73 / 4, (t + 1) * 73 / 4, out + t * 73 / 4, SL_EIO};
    assert_int_equal(pthread_create(&th[t], NULL, run_job, &jobs[t]), 0);
  }
  for (int t = 0; t < 4; t++) {
    pthread_join(th[t], NULL);
    assert_int_equal(jobs[t].st, SL_OK);
  }
  for (int i = 0; i < 73; i++) assert_true(out[i] == i + 0.5f);
  close_shard(&sh);
}

int main(void) {
  const char *c = getenv("SL_ARROW_CORPUS");
  if (c != NULL) snprintf(corpus, sizeof corpus, "%s", c);
  else { /* next to this source: ../fuzz/corpus/arrow_footer */
    snprintf(corpus, sizeof corpus, "%s", __FILE__);
    char *slash = strrchr(corpus, '/');
    if (slash) *slash = '\0';
    strncat(corpus, "/../fuzz/corpus/arrow_footer", sizeof corpus - strlen(corpus) - 1);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_arrow_default_selects_the_numeric_column),
      cmocka_unit_test(test_arrow_bool_unpacks_across_batches),
      cmocka_unit_test(test_arrow_int8_uint16_float16_values),
      cmocka_unit_test(test_arrow_column_after_list_and_struct),
      cmocka_unit_test(test_arrow_lz4_and_zstd_match_uncompressed),
      cmocka_unit_test(test_arrow_fixed_size_list_zstd),
      cmocka_unit_test(test_arrow_single_plain_column_answers_extents),
      cmocka_unit_test(test_arrow_extents_step_aside_for_decoding),
      cmocka_unit_test(test_arrow_null_error_names_file_column_and_row),
      cmocka_unit_test(test_arrow_fill_nulls_replaces_row_and_element),
      cmocka_unit_test(test_arrow_child_null_message),
      cmocka_unit_test(test_arrow_rejects_bad_fill_value),
      cmocka_unit_test(test_arrow_rejects_unloadable_and_mixed_columns),
      cmocka_unit_test(test_arrow_rejects_files_that_are_not_arrow),
      cmocka_unit_test(test_arrow_damaged_files_fail_cleanly),
      cmocka_unit_test(test_arrow_stream_reads_in_every_form),
      cmocka_unit_test(test_arrow_stream_errors_name_the_message),
      cmocka_unit_test(test_arrow_stream_through_the_library),
      cmocka_unit_test(test_arrow_allocation_failures),
      cmocka_unit_test(test_arrow_concurrent_reads),
      cmocka_unit_test(test_arrow_mapped_and_read_agree),
      cmocka_unit_test(test_arrow_truncated_under_a_mapping),
      cmocka_unit_test(test_arrow_inspect_counts_nulls_from_field_nodes),
      cmocka_unit_test(test_arrow_inspect_fixture_nulls_refused_as_read),
      cmocka_unit_test(test_arrow_inspect_left_out_batches_and_read_path),
  };
  return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
