/* The Parquet driver: the DuckDB- and arrow-rs-written fixtures (every
   codec, page version and encoding they hold; reads of any row range agree
   with the whole; the bad cases with their exact messages), then small files
   made here with a Thrift compact writer for what the fixtures lack: integer
   logical types, nulls and option fill_nulls, v2 pages with RLE booleans and
   levels, lists of the wrong length, unsupported codecs and encodings,
   corrupt metadata, concurrent reads and allocation failures. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <dirent.h>
#include <sys/stat.h>

#include "sl_test.h"
#include "pq.h"

/* ------------------------------------------------------------- helpers */

extern const sl_driver sl__parquet_driver;

typedef tshard probed;

/* Probes path with option columns / fill_nulls (NULL: not given). */
static sl_status probe(const char *path, const char *columns, const char *fill, probed *p) {
  tshard_init(p, &sl__parquet_driver);
  p->o.columns = columns;
  p->o.fill_nulls = fill;
  return tshard_probe(p, path, NULL);
}

static void release(probed *p) { tshard_release(p); }

static size_t row_bytes(const probed *p) {
  return sl_dtype_size(p->info.dtype) * (size_t)p->info.shape[1];
}

static void *read_rows(probed *p, int64_t lo, int64_t hi) {
  void *buf = malloc((size_t)(hi - lo) * row_bytes(p) + 1);
  sl_error err = {0};
  sl_status st = tshard_read(p, lo, hi, buf, &err);
  if (st != SL_OK) fail_msg("read failed: %s", err.message);
  return buf;
}

static void expect_message(const sl_error *e, sl_status code, const char *fmt,
                           const char *path) {
  assert_int_equal(e->code, code);
  char want[8192];
  snprintf(want, sizeof want, fmt, path);
  assert_string_equal(e->message, want);
}

/* Reads of several cuts (across row groups and pages) equal the whole. */
static void check_cuts(probed *p) {
  probed other;
  tshard_other(p, &other);
  int64_t n = p->s.rows;
  char *all = read_rows(p, 0, n);
  const int64_t cuts[][2] = {{0, 1}, {n / 3, n / 2}, {1, n}, {n - 1, n}, {n / 2, n / 2 + 1}};
  for (size_t i = 0; i < SL_ARRAY_LEN(cuts); i++) {
    char *part = read_rows(i % 2 ? &other : p, cuts[i][0], cuts[i][1]);
    assert_memory_equal(part, all + (size_t)cuts[i][0] * row_bytes(p),
                        (size_t)(cuts[i][1] - cuts[i][0]) * row_bytes(p));
    free(part);
  }
  free(all);
  tshard_release(&other);
}

/* ------------------------------------------------------------ fixtures */

typedef struct fixture_case {
  const char *file, *columns;
  sl_dtype dtype;
  int64_t rows, width;
} fixture_case;

static void test_parquet_fixtures_probe_and_read_any_rows(void **state) {
  (void)state;
  static const fixture_case cases[] = {
      {"parquet_duckdb_f4_uncompressed/shard_0000.parquet", NULL, SL_FLOAT32, 3000, 5},
      {"parquet_duckdb_f8_snappy_rowgroups/shard_0000.parquet", "a,b,c,d", SL_FLOAT64, -1, 4},
      {"parquet_duckdb_i32_zstd_select/shard_0000.parquet", "v2,id", SL_INT32, -1, 2},
      {"parquet_duckdb_i64_zstd/shard_0001.parquet", NULL, SL_INT64, -1, 3},
      {"parquet_duckdb_bool_snappy/shard_0000.parquet", NULL, SL_BOOL, -1, 3},
      {"parquet_duckdb_v2_f8_encodings/shard_0001.parquet", "lo,hi", SL_FLOAT64, -1, 2},
      {"parquet_duckdb_array_f4x4/shard_0002.parquet", "emb", SL_FLOAT32, -1, 4},
      {"parquet_arrowrs_bss_f4_lz4raw/shard_0001.parquet", NULL, SL_FLOAT32, -1, 3},
      {"parquet_arrowrs_delta_i32_gzip/shard_0000.parquet", NULL, SL_INT32, -1, 2},
      {"parquet_arrowrs_dict_f8/shard_0000.parquet", NULL, SL_FLOAT64, -1, 3},
      {"parquet_arrowrs_f2_snappy/shard_0000.parquet", NULL, SL_FLOAT16, -1, 2},
      {"parquet_arrowrs_fsl_f4x8/shard_0000.parquet", NULL, SL_FLOAT32, -1, 8},
      {"parquet_arrowrs_v2pages_f4_zstd/shard_0000.parquet", NULL, SL_FLOAT32, -1, 4},
  };
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    NEED_FIXTURE(cases[i].file);
    probed p;
    if (probe(fx, cases[i].columns, NULL, &p) != SL_OK) fail_msg("%s", p.err.message);
    assert_int_equal(p.info.dtype, cases[i].dtype);
    assert_int_equal(p.info.ndim, 2);
    assert_int_equal(p.info.shape[1], cases[i].width);
    assert_int_equal(p.info.shape[0], p.s.rows);
    if (cases[i].rows >= 0) assert_int_equal(p.s.rows, cases[i].rows);
    assert_null(sl__parquet_driver.extents);
    check_cuts(&p);
    release(&p);
  }
}

static void test_parquet_fixture_values_are_right(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_arrowrs_delta_i32_gzip/shard_0000.parquet");
  probed p;
  assert_int_equal(probe(fx, NULL, NULL, &p), SL_OK);
  int32_t *v = read_rows(&p, 0, 2);
  /* the first two rows are INT32_MIN and INT32_MAX: deltas wrap */
  assert_int_equal(v[0], INT32_MIN);
  assert_int_equal(v[2], INT32_MAX);
  free(v);
  release(&p);
}

static void test_parquet_fixture_column_order_follows_columns(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_i32_zstd_select/shard_0000.parquet");
  probed a, b;
  assert_int_equal(probe(fx, "v2,id", NULL, &a), SL_OK);
  assert_int_equal(probe(fx, " id , v2", NULL, &b), SL_OK);
  int32_t *x = read_rows(&a, 0, a.s.rows), *y = read_rows(&b, 0, b.s.rows);
  for (int64_t r = 0; r < a.s.rows; r++) {
    assert_int_equal(x[2 * r], y[2 * r + 1]);
    assert_int_equal(x[2 * r + 1], y[2 * r]);
  }
  free(x);
  free(y);
  release(&a);
  release(&b);
}

static void test_parquet_fixture_mixed_types_named_by_column(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_bad_mixed_types/shard_0000.parquet");
  probed p;
  assert_int_equal(probe(fx, "a,b,c", NULL, &p), SL_EFORMAT);
  expect_message(&p.err, SL_EFORMAT, "%s: the selected columns differ in type (a INT32 (<i4), "
                 "b INT64 (<i8), c INT32 (<i4)), so they cannot be stacked into one array as "
                 "they are; give option dtype (e.g. int64) to convert them while loading, or "
                 "choose columns of one type with option columns", fx);
  assert_int_equal(probe(fx, NULL, NULL, &p), SL_EFORMAT);
  expect_message(&p.err, SL_EFORMAT, "%s: the numeric columns differ in type (a INT32 (<i4), "
                 "b INT64 (<i8), c INT32 (<i4)), so they cannot be stacked into one array as "
                 "they are; give option dtype (e.g. int64) to convert them while loading, or "
                 "choose columns of one type with option columns", fx);
  assert_int_equal(probe(fx, "c,a", NULL, &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_INT32);
  release(&p);
}

static void test_parquet_fixture_null_names_file_column_and_row(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_bad_nulls/shard_0001.parquet");
  probed p;
  assert_int_equal(probe(fx, NULL, NULL, &p), SL_OK); /* nulls show only when read */
  double buf[900 * 3];
  sl_error err = {0};
  assert_int_equal(tshard_read(&p, 0, 900, buf, &err), SL_EFORMAT);
  expect_message(&err, SL_EFORMAT, "%s: column b has a null value at row 17; nulls cannot be "
                 "loaded as numbers unless option fill_nulls gives a value for them", fx);
  sl_error_clear(&err);
  assert_int_equal(tshard_read(&p, 19, 700, buf, &err), SL_EFORMAT);
  expect_message(&err, SL_EFORMAT, "%s: column b has a null value at row 640; nulls cannot be "
                 "loaded as numbers unless option fill_nulls gives a value for them", fx);
  assert_int_equal(tshard_read(&p, 19, 640, buf, &err), SL_OK);
  release(&p);
}

static void test_parquet_fixture_fill_nulls_replaces_them(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_bad_nulls/shard_0001.parquet");
  probed p, q;
  assert_int_equal(probe(fx, NULL, "-1.5", &p), SL_OK);
  assert_int_equal(probe(fx, "a,c", NULL, &q), SL_OK);
  double *v = read_rows(&p, 0, 900), *ac = read_rows(&q, 0, 900);
  for (int r = 0; r < 900; r++) {
    bool null_row = r == 17 || r == 18 || r == 640;
    if (null_row) assert_true(v[3 * r + 1] == -1.5);
    else assert_true(v[3 * r + 1] != -1.5);
    assert_memory_equal(&v[3 * r], &ac[2 * r], 8);
    assert_memory_equal(&v[3 * r + 2], &ac[2 * r + 1], 8);
  }
  free(v);
  free(ac);
  release(&p);
  release(&q);
}

static void test_parquet_fixture_string_column_is_refused(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_i32_zstd_select/shard_0000.parquet");
  probed p;
  assert_int_equal(probe(fx, "id,name", NULL, &p), SL_EFORMAT);
  expect_message(&p.err, SL_EFORMAT, "%s: column name is a string (BYTE_ARRAY), which cannot "
                 "be loaded as numbers", fx);
  assert_int_equal(probe(fx, NULL, NULL, &p), SL_OK); /* default: the numeric ones */
  assert_int_equal(p.info.shape[1], 3);
  release(&p);
}

static void test_parquet_fixture_unknown_column_lists_the_columns(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_i32_zstd_select/shard_0000.parquet");
  probed p;
  assert_int_equal(probe(fx, "id,v3", NULL, &p), SL_EINVAL);
  expect_message(&p.err, SL_EINVAL, "%s: expected a column named 'v3' (from option columns) but "
                 "the file has none; its columns are: id, v1, v2, name", fx);
  assert_int_equal(probe(fx, "id,", NULL, &p), SL_EINVAL);
  expect_message(&p.err, SL_EINVAL, "%s: option columns 'id,' has an empty column name", fx);
  assert_int_equal(probe(fx, "id,v1,id", NULL, &p), SL_EINVAL);
  expect_message(&p.err, SL_EINVAL, "%s: option columns 'id,v1,id' names the column 'id' "
                 "twice", fx);
}

static void test_parquet_fixture_list_must_be_alone(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_array_f4x4/shard_0000.parquet");
  probed p;
  assert_int_equal(probe(fx, "id,emb", NULL, &p), SL_EINVAL);
  expect_message(&p.err, SL_EINVAL, "%s: column emb is a list, which loads only alone (as rows "
                 "x list length); select it by itself with option columns", fx);
  assert_int_equal(probe(fx, NULL, NULL, &p), SL_OK); /* default: the flat id column */
  assert_int_equal(p.info.dtype, SL_INT64);
  assert_int_equal(p.info.shape[1], 1);
  release(&p);
}

static void test_parquet_fixture_whole_dataset_reads_through_library(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_f8_snappy_rowgroups");
  sl_dataset *ds;
  sl_error err = {0};
  assert_int_equal(sl_dataset_open(NULL, fx, NULL, &ds, &err), SL_OK);
  int64_t shape[SL_MAX_DIMS];
  assert_int_equal(sl_dataset_shape(ds, shape), 2);
  assert_int_equal(shape[0], 10800);
  assert_int_equal(shape[1], 4);
  assert_string_equal(sl_dataset_format(ds), "parquet");
  double *all = malloc(10800 * 32), *mid = malloc(5000 * 32);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 10800, all, NULL, NULL, &err), SL_OK);
  assert_int_equal(sl_dataset_read_rows(ds, 3000, 8000, mid, NULL, NULL, &err), SL_OK);
  assert_memory_equal(mid, all + 3000 * 4, 5000 * 32);
  free(all);
  free(mid);
  sl_dataset_free(ds);
}

/* ----------------------------------------------- a small Parquet writer */

typedef struct tbuf {
  uint8_t *p;
  size_t n, cap;
} tbuf;

static void put(tbuf *b, const void *v, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, v, n);
  b->n += n;
}

static void put_u8(tbuf *b, uint8_t v) { put(b, &v, 1); }

static void uvar(tbuf *b, uint64_t v) {
  while (v >= 0x80) {
    put_u8(b, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  put_u8(b, (uint8_t)v);
}

static void zz(tbuf *b, int64_t v) { uvar(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

static void fhdr(tbuf *b, int *last, int id, int type) {
  if (id > *last && id - *last <= 15) {
    put_u8(b, (uint8_t)((id - *last) << 4 | type));
  } else {
    put_u8(b, (uint8_t)type);
    zz(b, id);
  }
  *last = id;
}

static void fint(tbuf *b, int *last, int id, int64_t v) {
  fhdr(b, last, id, 5);
  zz(b, v);
}

static void fi64(tbuf *b, int *last, int id, int64_t v) {
  fhdr(b, last, id, 6);
  zz(b, v);
}

static void fstr(tbuf *b, int *last, int id, const char *s) {
  fhdr(b, last, id, 8);
  uvar(b, strlen(s));
  put(b, s, strlen(s));
}

static void flist(tbuf *b, int *last, int id, int elem, size_t n) {
  fhdr(b, last, id, 9);
  if (n < 15) {
    put_u8(b, (uint8_t)(n << 4 | elem));
  } else {
    put_u8(b, (uint8_t)(0xf0 | elem));
    uvar(b, n);
  }
}

static void stop(tbuf *b) { put_u8(b, 0); }

/* A schema element: type < 0 for a group; logical 0 for none. */
typedef struct tschema {
  const char *name;
  int type, type_length, rep, children, converted;
  int logical, bits, is_signed;
} tschema;

static void write_schema_el(tbuf *b, const tschema *e) {
  int last = 0;
  if (e->type >= 0) fint(b, &last, 1, e->type);
  if (e->type_length) fint(b, &last, 2, e->type_length);
  if (e->rep >= 0) fint(b, &last, 3, e->rep);
  fstr(b, &last, 4, e->name);
  if (e->children) fint(b, &last, 5, e->children);
  if (e->converted >= 0) fint(b, &last, 6, e->converted);
  if (e->logical) {
    fhdr(b, &last, 10, 12);
    int l2 = 0;
    fhdr(b, &l2, e->logical, 12);
    int l3 = 0;
    if (e->logical == 10) {
      fhdr(b, &l3, 1, 3);
      put_u8(b, (uint8_t)e->bits);
      fhdr(b, &l3, 2, e->is_signed ? 1 : 2);
    }
    stop(b);
    stop(b);
  }
  stop(b);
}

/* A data page: v1 (levels and values in body) or v2. */
typedef struct tpage {
  int type;          /* 0 = v1, 3 = v2, 2 = dictionary */
  int encoding, num_values, num_rows, num_nulls, def_len, rep_len;
  const uint8_t *body;
  size_t len;
} tpage;

/* usize: the page's uncompressed size (0: its body's, stored uncompressed). */
static void write_page(tbuf *b, const tpage *pg, size_t usize) {
  int last = 0;
  fint(b, &last, 1, pg->type);
  fint(b, &last, 2, (int64_t)(usize ? usize : pg->len));
  fint(b, &last, 3, (int64_t)pg->len);
  int l2 = 0;
  if (pg->type == 0) {
    fhdr(b, &last, 5, 12);
    fint(b, &l2, 1, pg->num_values);
    fint(b, &l2, 2, pg->encoding);
    fint(b, &l2, 3, 3);
    fint(b, &l2, 4, 3);
  } else if (pg->type == 2) {
    fhdr(b, &last, 7, 12);
    fint(b, &l2, 1, pg->num_values);
    fint(b, &l2, 2, pg->encoding);
  } else {
    fhdr(b, &last, 8, 12);
    fint(b, &l2, 1, pg->num_values);
    fint(b, &l2, 2, pg->num_nulls);
    fint(b, &l2, 3, pg->num_rows);
    fint(b, &l2, 4, pg->encoding);
    fint(b, &l2, 5, pg->def_len);
    fint(b, &l2, 6, pg->rep_len);
  }
  stop(b);
  stop(b);
  put(b, pg->body, pg->len);
}

/* A column chunk: its pages, its physical type and codec. */
typedef struct tchunk {
  int type, codec;
  const tpage *pages;
  size_t npages;
  int64_t num_values;
} tchunk;

typedef struct tchunk_at {
  int64_t off, len;
  int64_t index_off, index_len;  /* its OffsetIndex; len 0: none */
} tchunk_at;

/* Statistics.null_count written into every chunk's metadata when >= 0
   (the inspect tests set it). */
static int64_t stats_null_count = -1;

static void write_chunk_meta(tbuf *b, const tchunk *c, const tchunk_at *at) {
  int last = 0;
  fi64(b, &last, 2, at->off);
  fhdr(b, &last, 3, 12);
  int l2 = 0;
  fint(b, &l2, 1, c->type);
  flist(b, &l2, 2, 5, 1);
  zz(b, 0);
  flist(b, &l2, 3, 8, 1);
  uvar(b, 1);
  put_u8(b, 'x');
  fint(b, &l2, 4, c->codec);
  fi64(b, &l2, 5, c->num_values);
  fi64(b, &l2, 6, at->len);
  fi64(b, &l2, 7, at->len);
  fi64(b, &l2, 9, at->off);
  if (stats_null_count >= 0) {
    fhdr(b, &l2, 12, 12);
    int l3 = 0;
    fi64(b, &l3, 3, stats_null_count);
    stop(b);
  }
  stop(b);
  if (at->index_len > 0) {
    fi64(b, &last, 4, at->index_off);
    fint(b, &last, 5, at->index_len);
  }
  stop(b);
}

/* Ends file f, whose chunks lie at at[], with FileMetaData of one row group
   of rows rows (schema[0] is the root), writes it to dir/name and frees f.
   @return the file's path. */
static char *finish_parquet(const char *name, tbuf *f, const tschema *schema, size_t nschema,
                            const tchunk *chunks, const tchunk_at *at, size_t nchunks,
                            int64_t rows) {
  tbuf meta = {0};
  int last = 0;
  fint(&meta, &last, 1, 1);
  flist(&meta, &last, 2, 12, nschema);
  for (size_t i = 0; i < nschema; i++) write_schema_el(&meta, &schema[i]);
  fi64(&meta, &last, 3, rows);
  flist(&meta, &last, 4, 12, 1);
  int lg = 0;
  flist(&meta, &lg, 1, 12, nchunks);
  for (size_t i = 0; i < nchunks; i++) write_chunk_meta(&meta, &chunks[i], &at[i]);
  fi64(&meta, &lg, 2, 0);
  fi64(&meta, &lg, 3, rows);
  stop(&meta);
  stop(&meta);
  put(f, meta.p, meta.n);
  uint32_t len = (uint32_t)meta.n;
  put(f, &len, 4);
  put(f, "PAR1", 4);
  write_bytes(dir, name, f->p, f->n);
  free(f->p);
  free(meta.p);
  return path_in(dir, name);
}

/* A file of one row group of rows rows: schema[0] is the root. */
static char *write_parquet(const char *name, const tschema *schema, size_t nschema,
                           const tchunk *chunks, size_t nchunks, int64_t rows) {
  tbuf f = {0};
  put(&f, "PAR1", 4);
  tchunk_at at[16] = {{0}};
  for (size_t i = 0; i < nchunks; i++) {
    at[i].off = (int64_t)f.n;
    for (size_t k = 0; k < chunks[i].npages; k++) write_page(&f, &chunks[i].pages[k], 0);
    at[i].len = (int64_t)f.n - at[i].off;
  }
  return finish_parquet(name, &f, schema, nschema, chunks, at, nchunks, rows);
}

#define ROOT(n) {"schema", -1, 0, -1, (n), -1, 0, 0, 0}
#define COL(name, type, rep) {(name), (type), 0, (rep), 0, -1, 0, 0, 0}

/* v1 levels: a 4-byte length and one RLE run per (count, value). */
static void rle_levels(tbuf *b, const int (*runs)[2], size_t n, bool prefixed) {
  tbuf r = {0};
  for (size_t i = 0; i < n; i++) {
    uvar(&r, (uint64_t)runs[i][0] << 1);
    put_u8(&r, (uint8_t)runs[i][1]);
  }
  if (prefixed) {
    uint32_t len = (uint32_t)r.n;
    put(b, &len, 4);
  }
  put(b, r.p, r.n);
  free(r.p);
}

/* ------------------------------------------------------ written files */

static void test_parquet_integer_logical_types(void **state) {
  (void)state;
  static const struct { int bits, is_signed, type; sl_dtype want; } cases[] = {
      {8, 1, 1, SL_INT8}, {8, 0, 1, SL_UINT8}, {16, 1, 1, SL_INT16}, {16, 0, 1, SL_UINT16},
      {32, 0, 1, SL_UINT32}, {64, 0, 2, SL_UINT64}, {64, 1, 2, SL_INT64}};
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    int64_t v64[4] = {-1, 2, -3, 200};
    int32_t v32[4] = {-1, 2, -3, 200};
    bool wide = cases[i].type == 2;
    tpage pg = {0, 0, 4, 0, 0, 0, 0, wide ? (const uint8_t *)v64 : (const uint8_t *)v32,
                wide ? 32 : 16};
    tschema s[] = {ROOT(1), {"x", cases[i].type, 0, 0, 0, -1, 10, cases[i].bits,
                             cases[i].is_signed}};
    tchunk c = {cases[i].type, 0, &pg, 1, 4};
    char *path = write_parquet("int.parquet", s, 2, &c, 1, 4);
    probed p;
    if (probe(path, NULL, NULL, &p) != SL_OK) fail_msg("%s", p.err.message);
    assert_int_equal(p.info.dtype, cases[i].want);
    uint8_t *got = read_rows(&p, 0, 4);
    size_t es = sl_dtype_size(cases[i].want);
    for (int r = 0; r < 4; r++) /* little-endian: the low bytes of each value */
      assert_memory_equal(got + r * es, wide ? (void *)&v64[r] : (void *)&v32[r], es);
    free(got);
    release(&p);
    free(path);
  }
}

/* DATE loads as its int32 days (a LogicalType DATE here); INT96 has no
   integer of its width and is refused. */
static void test_parquet_date_loads_as_days_int96_refused(void **state) {
  (void)state;
  int32_t v[2] = {-1, 2};
  tpage pg = {0, 0, 2, 0, 0, 0, 0, (const uint8_t *)v, 8};
  tschema s[] = {ROOT(2), {"day", 1, 0, 0, 0, -1, 6, 0, 0}, {"old", 3, 0, 0, 0, -1, 0, 0, 0}};
  tchunk c[] = {{1, 0, &pg, 1, 2}, {3, 0, NULL, 0, 0}};
  char *path = write_parquet("date.parquet", s, 3, c, 2, 2);
  probed p;
  assert_int_equal(probe(path, "day", NULL, &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_INT32);
  int32_t *got = read_rows(&p, 0, 2);
  assert_memory_equal(got, v, sizeof v);
  free(got);
  release(&p);
  assert_int_equal(probe(path, "old", NULL, &p), SL_EFORMAT);
  expect_message(&p.err, SL_EFORMAT, "%s: column old is an INT96 timestamp (INT96), which "
                 "cannot be loaded as numbers", path);
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK); /* the numeric columns: day */
  assert_int_equal(p.info.shape[1], 1);
  release(&p);
  free(path);
}

/* Optional float column, v1 page: rows 1 and 3 null. */
static char *write_nullable(const char *name) {
  tbuf body = {0};
  const int runs[][2] = {{1, 1}, {1, 0}, {1, 1}, {1, 0}, {1, 1}};
  rle_levels(&body, runs, 5, true);
  float v[3] = {1.5f, 2.5f, 3.5f};
  put(&body, v, sizeof v);
  tpage pg = {0, 0, 5, 0, 0, 0, 0, body.p, body.n};
  tschema s[] = {ROOT(1), COL("f", 4, 1)};
  tchunk c = {4, 0, &pg, 1, 5};
  char *path = write_parquet(name, s, 2, &c, 1, 5);
  free(body.p);
  return path;
}

static void test_parquet_nulls_error_or_fill(void **state) {
  (void)state;
  char *path = write_nullable("nulls.parquet");
  probed p;
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  float got[5];
  sl_error err = {0};
  assert_int_equal(tshard_read(&p, 2, 5, got, &err), SL_EFORMAT);
  expect_message(&err, SL_EFORMAT, "%s: column f has a null value at row 3; nulls cannot be "
                 "loaded as numbers unless option fill_nulls gives a value for them", path);
  assert_int_equal(tshard_read(&p, 2, 3, got, &err), SL_OK);
  assert_true(got[0] == 2.5f);
  release(&p);
  assert_int_equal(probe(path, NULL, "nan", &p), SL_OK);
  probed other;
  tshard_other(&p, &other); /* its own state: the fill value from the options again */
  float *all = read_rows(&other, 0, 5);
  assert_true(all[0] == 1.5f && all[2] == 2.5f && all[4] == 3.5f);
  assert_true(all[1] != all[1] && all[3] != all[3]);
  free(all);
  tshard_release(&other);
  release(&p);
  free(path);
}

static void test_parquet_fill_value_must_fit_the_dtype(void **state) {
  (void)state;
  int32_t v[2] = {1, 2};
  tpage pg = {0, 0, 2, 0, 0, 0, 0, (const uint8_t *)v, 8};
  tschema s[] = {ROOT(1), {"u", 1, 0, 0, 0, -1, 10, 8, 0}};
  tchunk c = {1, 0, &pg, 1, 2};
  char *path = write_parquet("u8.parquet", s, 2, &c, 1, 2);
  probed p;
  assert_int_equal(probe(path, NULL, "300", &p), SL_EINVAL);
  expect_message(&p.err, SL_EINVAL, "%s: option fill_nulls '300' is not a number that |u1 can hold",
                 path);
  assert_int_equal(probe(path, NULL, "2.5", &p), SL_EINVAL);
  assert_int_equal(probe(path, NULL, "x", &p), SL_EINVAL);
  assert_int_equal(probe(path, NULL, "255", &p), SL_OK);
  release(&p);
  assert_int_equal(probe(path, NULL, "1e2", &p), SL_OK);
  release(&p);
  free(path);
}

/* v2 page: booleans RLE-encoded, definition levels without a length. */
static void test_parquet_v2_rle_booleans_and_levels(void **state) {
  (void)state;
  tbuf body = {0};
  const int def_runs[][2] = {{6, 1}};
  rle_levels(&body, def_runs, 1, false);
  size_t def_len = body.n;
  /* values: 4-byte length + one bit-packed group of 8: 1,0,1,1,0,0,(pad) */
  const uint8_t vals[] = {2, 0, 0, 0, 0x03, 0x0d};
  put(&body, vals, sizeof vals);
  tpage pg = {3, 3, 6, 6, 0, (int)def_len, 0, body.p, body.n};
  tschema s[] = {ROOT(1), COL("m", 0, 1)};
  tchunk c = {0, 0, &pg, 1, 6};
  char *path = write_parquet("bool.parquet", s, 2, &c, 1, 6);
  probed p;
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_BOOL);
  uint8_t *got = read_rows(&p, 0, 6);
  const uint8_t want[] = {1, 0, 1, 1, 0, 0};
  assert_memory_equal(got, want, 6);
  free(got);
  release(&p);
  free(path);
  /* a flat column holds a value (or null) a row: 6 values cannot be 5 rows */
  pg.num_rows = 5;
  path = write_parquet("bool5.parquet", s, 2, &c, 1, 6);
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  uint8_t six[6];
  sl_error err = {0};
  assert_int_equal(tshard_read(&p, 0, 6, six, &err), SL_EFORMAT);
  expect_message(&err, SL_EFORMAT, "%s: column m: a v2 page of a flat column holds a number "
                 "of values other than its rows (row group starting at row 0)", path);
  release(&p);
  free(path);
  free(body.p);
}

/* A 3-level list whose second row has 2 values instead of 3. */
static void test_parquet_list_of_wrong_length_is_refused(void **state) {
  (void)state;
  tbuf body = {0};
  const int rep[][2] = {{1, 0}, {2, 1}, {1, 0}, {1, 1}, {1, 0}, {2, 1}};
  const int def[][2] = {{8, 2}};
  rle_levels(&body, rep, 6, true);
  rle_levels(&body, def, 1, true);
  int32_t v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  put(&body, v, sizeof v);
  tpage pg = {0, 0, 8, 0, 0, 0, 0, body.p, body.n};
  tschema s[] = {ROOT(1), {"vec", -1, 0, 1, 1, 3, 3, 0, 0}, {"list", -1, 0, 2, 1, -1, 0, 0, 0},
                 COL("element", 1, 0)};
  tchunk c = {1, 0, &pg, 1, 9}; /* num_values 9: 3 per row, as the writer claims */
  char *path = write_parquet("list.parquet", s, 4, &c, 1, 3);
  probed p;
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  assert_int_equal(p.info.shape[1], 3);
  int32_t got[9];
  sl_error err = {0};
  assert_int_equal(tshard_read(&p, 0, 3, got, &err), SL_EFORMAT);
  expect_message(&err, SL_EFORMAT, "%s: column vec: row 1 holds a list of 2 values but "
                 "expected 3 (every row of a fixed-size list column must hold the same number; "
                 "a null or empty list holds none)", path);
  assert_int_equal(tshard_read(&p, 0, 1, got, &err), SL_OK);
  assert_int_equal(got[0], 1);
  assert_int_equal(got[2], 3);
  release(&p);
  free(path);
  free(body.p);
}

/* ------------------------------------------------------ offset index */

/* A PageLocation as the file's OffsetIndex lists it. */
typedef struct tloc {
  int64_t offset, size, first_row;
} tloc;

enum { IX_PAGES = 4, IX_ROWS = 100 }; /* pages of a column, rows of a page */

/* One REQUIRED INT32 column x = row number in IX_PAGES v1 PLAIN pages of
   rows rows, and (when edit is given) an OffsetIndex that edit may tamper
   with first. Page 0's header is garbage when bad_first: only a reader that
   skips the page by the index gets past it. */
static char *write_pages(const char *name, int rows, bool bad_first, void (*edit)(tloc *)) {
  tbuf f = {0}, ix = {0};
  put(&f, "PAR1", 4);
  tloc loc[IX_PAGES];
  tchunk_at at = {.off = (int64_t)f.n};
  int32_t *v = malloc((size_t)rows * sizeof *v);
  for (int k = 0; k < IX_PAGES; k++) {
    for (int i = 0; i < rows; i++) v[i] = k * rows + i;
    tpage pg = {0, 0, rows, 0, 0, 0, 0, (const uint8_t *)v, (size_t)rows * sizeof *v};
    size_t start = f.n;
    write_page(&f, &pg, 0);
    if (k == 0 && bad_first) memset(f.p + start, 0xee, 8); /* type nibble 14: no Thrift type */
    loc[k] = (tloc){(int64_t)start, (int64_t)(f.n - start), (int64_t)k * rows};
  }
  free(v);
  at.len = (int64_t)f.n - at.off;
  if (edit != NULL) {
    edit(loc);
    int last = 0;
    flist(&ix, &last, 1, 12, IX_PAGES);
    for (int k = 0; k < IX_PAGES; k++) {
      int l = 0;
      fi64(&ix, &l, 1, loc[k].offset);
      fint(&ix, &l, 2, loc[k].size);
      fi64(&ix, &l, 3, loc[k].first_row);
      stop(&ix);
    }
    stop(&ix);
    at.index_off = (int64_t)f.n;
    at.index_len = (int64_t)ix.n;
    put(&f, ix.p, ix.n);
  }
  free(ix.p);
  tschema sc[] = {ROOT(1), COL("x", 1, 0)};
  tchunk c = {1, 0, NULL, 0, IX_PAGES * rows};
  return finish_parquet(name, &f, sc, 2, &c, &at, 1, IX_PAGES * rows);
}

static char *write_indexed(const char *name, bool bad_first, void (*edit)(tloc *)) {
  return write_pages(name, IX_ROWS, bad_first, edit);
}

static void keep(tloc *l) { (void)l; }

/* Reads rows [lo, hi) of path's x; @return the status, err filled, and
   (bytes not NULL) the bytes the read took from the file. */
static sl_status read_x_bytes(const char *path, int64_t lo, int64_t hi, int32_t *got,
                              int64_t *bytes, sl_error *err) {
  probed p;
  if (probe(path, NULL, NULL, &p) != SL_OK) fail_msg("%s", p.err.message);
  *err = (sl_error){0};
  int64_t before = sl__bytes_read();
  sl_status st = tshard_read(&p, lo, hi, got, err);
  if (bytes != NULL) *bytes = sl__bytes_read() - before;
  release(&p);
  return st;
}

static sl_status read_x(const char *path, int64_t lo, int64_t hi, int32_t *got,
                        sl_error *err) {
  return read_x_bytes(path, lo, hi, got, NULL, err);
}

/* Only the pages holding the wanted rows are read: a garbage page before
   them stops a reader without the index (and any read that needs it). */
static void test_parquet_offset_index_reads_only_the_pages_needed(void **state) {
  (void)state;
  char *with = write_indexed("ix.parquet", true, keep);
  char *without = write_indexed("noix.parquet", true, NULL);
  int32_t got[IX_PAGES * IX_ROWS];
  sl_error err = {0};
  const int64_t cuts[][2] = {{250, 320}, {100, 101}, {399, 400}, {199, 201}};
  for (size_t i = 0; i < SL_ARRAY_LEN(cuts); i++) {
    assert_int_equal(read_x(with, cuts[i][0], cuts[i][1], got, &err), SL_OK);
    for (int64_t r = cuts[i][0]; r < cuts[i][1]; r++) assert_int_equal(got[r - cuts[i][0]], r);
    assert_int_equal(read_x(without, cuts[i][0], cuts[i][1], got, &err), SL_EFORMAT);
    if (strstr(err.message, without) == NULL) fail_msg("%s", err.message);
  }
  assert_int_equal(read_x(with, 50, 150, got, &err), SL_EFORMAT);
  if (strstr(err.message, with) == NULL) fail_msg("%s", err.message);
  char *good = write_indexed("ixgood.parquet", false, keep);
  assert_int_equal(read_x(good, 0, 400, got, &err), SL_OK);
  assert_int_equal(read_x(good, 57, 333, got, &err), SL_OK);
  for (int64_t r = 57; r < 333; r++) assert_int_equal(got[r - 57], r);
  free(with);
  free(without);
  free(good);
}

/* Rows within a row group cost only their pages: with the OffsetIndex, and
   without one (page headers walked, 4 KiB each for pages this large). */
static void test_parquet_partial_reads_take_only_their_pages(void **state) {
  (void)state;
  enum { ROWS = 20000 }; /* 80 KB pages */
  char *paths[] = {write_pages("big_ix.parquet", ROWS, false, keep),
                   write_pages("big_noix.parquet", ROWS, false, NULL)};
  int32_t *got = malloc(IX_PAGES * ROWS * sizeof *got);
  const int64_t chunk = IX_PAGES * ROWS * 4, page = ROWS * 4;
  for (size_t i = 0; i < 2; i++) {
    sl_error err = {0};
    int64_t bytes;
    assert_int_equal(read_x_bytes(paths[i], 0, IX_PAGES * ROWS, got, &bytes, &err), SL_OK);
    assert_true(bytes >= chunk && bytes < chunk + page);
    const int64_t cuts[][2] = {{2 * ROWS + 5, 2 * ROWS + 900}, {ROWS - 1, ROWS + 1},
                               {3 * ROWS, 4 * ROWS}, {0, 10}};
    for (size_t c = 0; c < SL_ARRAY_LEN(cuts); c++) {
      int64_t lo = cuts[c][0], hi = cuts[c][1], pages = (hi - 1) / ROWS - lo / ROWS + 1;
      assert_int_equal(read_x_bytes(paths[i], lo, hi, got, &bytes, &err), SL_OK);
      for (int64_t r = lo; r < hi; r++) assert_int_equal(got[r - lo], r);
      if (bytes > pages * page + 4 * 4096 + 512)
        fail_msg("%s rows [%lld, %lld): read %lld bytes for %lld pages of %lld", paths[i],
                 (long long)lo, (long long)hi, (long long)bytes, (long long)pages,
                 (long long)page);
    }
    free(paths[i]);
  }
  free(got);
}

static void shift_row(tloc *l) { l[2].first_row += 10; }
static void grow_size(tloc *l) {
  l[2].size += 1;
  l[3].offset += 1;
  l[3].size -= 1;
}
static void leave_gap(tloc *l) { l[2].size -= 1; }
static void swap_pages(tloc *l) {
  tloc t = l[1];
  l[1] = l[2];
  l[2] = t;
}
static void not_from_zero(tloc *l) { l[0].first_row = 5; }
static void past_chunk(tloc *l) { l[3].size += 4096; }

/* An index that disagrees with the pages it lists is an error naming the
   file and column, for a read of some rows and of all of them alike, never
   rows loaded from the wrong place. One that disagrees with itself, or
   leaves bytes between pages (where a dictionary written late would be), is
   not used: the pages are found as if there were no index. */
static void test_parquet_offset_index_that_lies_is_refused(void **state) {
  (void)state;
  static const struct {
    void (*edit)(tloc *);
    const char *says; /* NULL: ignored */
  } lies[] = {
      {shift_row, "a data page holds rows 100 but its offset index says "},
      {grow_size, "a data page takes bytes 420 but its offset index says 421"},
      {swap_pages, NULL},
      {not_from_zero, NULL},
      {past_chunk, NULL},
      {leave_gap, NULL},
  };
  int32_t got[IX_PAGES * IX_ROWS];
  const int64_t cuts[][2] = {{250, 390}, {0, 400}};
  for (size_t i = 0; i < SL_ARRAY_LEN(lies); i++) {
    char name[32];
    snprintf(name, sizeof name, "lie%zu.parquet", i);
    char *path = write_indexed(name, false, lies[i].edit);
    for (size_t c = 0; c < SL_ARRAY_LEN(cuts); c++) {
      sl_error err = {0};
      sl_status st = read_x(path, cuts[c][0], cuts[c][1], got, &err);
      if (lies[i].says == NULL) {
        if (st != SL_OK) fail_msg("case %zu: %s", i, err.message);
        for (int64_t r = cuts[c][0]; r < cuts[c][1]; r++) assert_int_equal(got[r - cuts[c][0]], r);
      } else if (st != SL_EFORMAT || strstr(err.message, lies[i].says) == NULL ||
                 strstr(err.message, path) == NULL || strstr(err.message, "column x") == NULL) {
        fail_msg("case %zu rows [%lld, %lld): %s", i, (long long)cuts[c][0],
                 (long long)cuts[c][1], err.message);
      }
    }
    free(path);
  }
}

/* A v2 page of a list column: rows x 3 values (row r holds 10r, 10r+1,
   10r+2), its header claiming claimed rows. */
static void v2_list_page(tbuf *body, int first, int rows, int claimed, tpage *pg) {
  const int rep[][2] = {{1, 0}, {2, 1}};
  for (int r = 0; r < rows; r++) rle_levels(body, rep, 2, false);
  size_t rep_len = body->n;
  const int def[][2] = {{rows * 3, 2}};
  rle_levels(body, def, 1, false);
  int def_len = (int)(body->n - rep_len);
  for (int r = first; r < first + rows; r++)
    for (int k = 0; k < 3; k++) {
      int32_t v = r * 10 + k;
      put(body, &v, 4);
    }
  *pg = (tpage){3, 0, rows * 3, claimed, 0, def_len, (int)rep_len, body->p, body->n};
}

/* A v2 list page's rows are what its repetition levels say, not its
   header's num_rows (Arrow C++ before 12.0 wrote num_values there): whole
   reads and reads of later rows, which locate their page by the pages
   before it, agree. A page claiming more values than its row group can
   hold is refused before its levels are decoded. */
static void test_parquet_v2_list_rows_come_from_levels(void **state) {
  (void)state;
  tbuf a = {0}, b = {0};
  tpage pages[2];
  v2_list_page(&a, 0, 2, 1, &pages[0]); /* says 1 row, holds 2 */
  v2_list_page(&b, 2, 2, 6, &pages[1]); /* says 6 (its values), holds 2 */
  tschema s[] = {ROOT(1), {"vec", -1, 0, 1, 1, 3, 3, 0, 0}, {"list", -1, 0, 2, 1, -1, 0, 0, 0},
                 COL("element", 1, 0)};
  tchunk c = {1, 0, pages, 2, 12};
  char *path = write_parquet("v2list.parquet", s, 4, &c, 1, 4);
  probed p;
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  assert_int_equal(p.info.shape[1], 3);
  const int64_t cuts[][2] = {{0, 4}, {2, 3}, {1, 3}, {3, 4}};
  for (size_t i = 0; i < SL_ARRAY_LEN(cuts); i++) {
    int32_t *rows = read_rows(&p, cuts[i][0], cuts[i][1]);
    for (int64_t r = cuts[i][0]; r < cuts[i][1]; r++)
      for (int k = 0; k < 3; k++) assert_int_equal(rows[(r - cuts[i][0]) * 3 + k], r * 10 + k);
    free(rows);
  }
  release(&p);
  free(path);
  pages[0].num_values = 1 << 30;
  path = write_parquet("v2huge.parquet", s, 4, &c, 1, 4);
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  for (size_t i = 0; i < SL_ARRAY_LEN(cuts); i++) {
    int32_t got[12];
    sl_error err = {0};
    assert_int_equal(tshard_read(&p, cuts[i][0], cuts[i][1], got, &err),
                     SL_EFORMAT);
    if (strstr(err.message, "a page holds more values than its row group can") == NULL)
      fail_msg("rows [%lld, %lld): %s", (long long)cuts[i][0], (long long)cuts[i][1],
               err.message);
  }
  release(&p);
  free(path);
  free(a.p);
  free(b.p);
}

static void test_parquet_unsupported_codec_and_encoding_are_named(void **state) {
  (void)state;
  double v[2] = {1, 2};
  tpage pg = {0, 7, 2, 0, 0, 0, 0, (const uint8_t *)v, 16}; /* DELTA_BYTE_ARRAY */
  tschema s[] = {ROOT(2), COL("d", 5, 0), COL("e", 5, 0)};
  tpage plain = {0, 0, 2, 0, 0, 0, 0, (const uint8_t *)v, 16};
  tchunk c[] = {{5, 0, &pg, 1, 2}, {5, 3, &plain, 1, 2}}; /* e: LZO */
  char *path = write_parquet("enc.parquet", s, 3, c, 2, 2);
  probed p;
  assert_int_equal(probe(path, "d", NULL, &p), SL_OK);
  double got[2];
  sl_error err = {0};
  assert_int_equal(tshard_read(&p, 0, 2, got, &err), SL_ENOTSUP);
  expect_message(&err, SL_ENOTSUP, "%s: column d uses encoding DELTA_BYTE_ARRAY for DOUBLE "
                 "values, which this reader does not support (supported: PLAIN, "
                 "PLAIN_DICTIONARY, RLE_DICTIONARY, RLE for booleans, BYTE_STREAM_SPLIT, "
                 "DELTA_BINARY_PACKED)", path);
  release(&p);
  /* a codec is refused at discovery already (inspect fails as read would) */
  assert_int_equal(probe(path, "e", NULL, &p), SL_ENOTSUP);
  expect_message(&p.err, SL_ENOTSUP, "%s: column e uses compression LZO, which this build "
                 "cannot decode (supported: UNCOMPRESSED, SNAPPY, GZIP, BROTLI, ZSTD, LZ4_RAW)",
                 path);
  free(path);
}

/* A dictionary page written after a PLAIN data page (writers that fall back
   the other way round do not, but the format lets a reader find it): rows
   of the later page read alone still find the dictionary. */
static void test_parquet_late_dictionary_found_by_partial_reads(void **state) {
  (void)state;
  double plain[4] = {1, 2, 3, 4}, dict[2] = {10, 20};
  tpage p0 = {0, 0, 4, 0, 0, 0, 0, (const uint8_t *)plain, sizeof plain};
  tpage dp = {2, 0, 2, 0, 0, 0, 0, (const uint8_t *)dict, sizeof dict};
  const uint8_t idx[] = {1, 4 << 1, 1}; /* width 1, a run of 4 of index 1 */
  tpage p1 = {0, 8, 4, 0, 0, 0, 0, idx, sizeof idx};
  tpage pages[] = {p0, dp, p1};
  tschema s[] = {ROOT(1), COL("d", 5, 0)};
  tchunk c = {5, 0, pages, 3, 8};
  char *path = write_parquet("latedict.parquet", s, 2, &c, 1, 8);
  probed p;
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  const int64_t cuts[][2] = {{0, 8}, {4, 8}, {6, 7}, {2, 6}};
  for (size_t i = 0; i < SL_ARRAY_LEN(cuts); i++) {
    double *got = read_rows(&p, cuts[i][0], cuts[i][1]);
    for (int64_t r = cuts[i][0]; r < cuts[i][1]; r++)
      assert_true(got[r - cuts[i][0]] == (r < 4 ? plain[r] : 20.0));
    free(got);
  }
  release(&p);
  free(path);
}

/* ------------------------------------------------------ random rows */

/* rows (ascending, distinct) through take equal the same rows of a whole
   read; the status of the take. */
static sl_status take_matches(probed *p, const int64_t *rows, size_t n, sl_error *err) {
  size_t rb = row_bytes(p);
  char *all = read_rows(p, 0, p->s.rows), *got = malloc(n * rb + 1);
  sl_status st = tshard_take(p, rows, n, got, err);
  for (size_t k = 0; st == SL_OK && k < n; k++)
    if (memcmp(got + k * rb, all + (size_t)rows[k] * rb, rb) != 0)
      fail_msg("%s: row %lld differs from the whole read", p->s.path, (long long)rows[k]);
  free(all);
  free(got);
  return st;
}

/* An OPTIONAL float column of three 100-row pages: v1 without nulls (read
   value by value), v1 with nulls (decoded, nulls filled), v2 without nulls
   (value by value); values 1000 * page + row. */
static char *write_mixed_pages(const char *name) {
  tbuf b[3] = {{0}};
  float v[100];
  const int dense[][2] = {{100, 1}}, holes[][2] = {{10, 1}, {5, 0}, {85, 1}};
  for (int k = 0; k < 3; k++) {
    int n = 0;
    for (int i = 0; i < 100; i++)
      if (k != 1 || i < 10 || i >= 15) v[n++] = (float)(1000 * k + i);
    rle_levels(&b[k], k == 1 ? holes : dense, k == 1 ? 3 : 1, k != 2);
    put(&b[k], v, (size_t)n * sizeof *v);
  }
  tpage pages[] = {{0, 0, 100, 0, 0, 0, 0, b[0].p, b[0].n},
                   {0, 0, 100, 0, 0, 0, 0, b[1].p, b[1].n},
                   {3, 0, 100, 100, 0, (int)(b[2].n - sizeof v), 0, b[2].p, b[2].n}};
  tschema s[] = {ROOT(1), COL("f", 4, 1)};
  tchunk c = {4, 0, pages, 3, 300};
  char *path = write_parquet(name, s, 2, &c, 1, 300);
  for (int k = 0; k < 3; k++) free(b[k].p);
  return path;
}

/* The gather's driver path (take) agrees with whole reads wherever it
   reads single values and wherever it decodes pages, and reads little
   once its page map is made. */
static void test_parquet_take_values_and_pages_agree_with_reads(void **state) {
  (void)state;
  char *path = write_mixed_pages("mixed.parquet");
  probed p;
  assert_int_equal(probe(path, NULL, "-1", &p), SL_OK);
  const int64_t sets[][6] = {{0, 1, 2, 150, 250, 299}, {3, 9, 10, 14, 15, 16},
                             {99, 100, 101, 199, 200, 201}, {5, 6, 7, 8, 260, 261}};
  sl_error err = {0};
  for (size_t i = 0; i < SL_ARRAY_LEN(sets); i++)
    if (take_matches(&p, sets[i], 6, &err) != SL_OK) fail_msg("%s", err.message);
  float got[2];
  int64_t before = sl__bytes_read();
  const int64_t direct[] = {7, 277};
  assert_int_equal(tshard_take(&p, direct, 2, got, &err), SL_OK);
  assert_true(got[0] == 7.0f && got[1] == 2077.0f);
  assert_int_equal(sl__bytes_read() - before, 8); /* two values, nothing else */
  const int64_t holes[] = {112, 120};
  assert_int_equal(tshard_take(&p, holes, 2, got, &err), SL_OK);
  assert_true(got[0] == -1.0f && got[1] == 1020.0f);
  release(&p);
  /* the same from memory, as the gather reads it from a mapping */
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  static uint8_t image[8192];
  size_t len = fread(image, 1, sizeof image, fp);
  fclose(fp);
  tshard_init(&p, &sl__parquet_driver);
  p.o.fill_nulls = "-1";
  assert_int_equal(tshard_probe_mem(&p, path, image, len), SL_OK);
  for (size_t i = 0; i < SL_ARRAY_LEN(sets); i++)
    if (take_matches(&p, sets[i], 6, &err) != SL_OK) fail_msg("%s", err.message);
  release(&p);
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK); /* no fill: the null is an error */
  assert_int_equal(tshard_take(&p, holes, 2, got, &err), SL_EFORMAT);
  expect_message(&err, SL_EFORMAT, "%s: column f has a null value at row 112; nulls cannot be "
                 "loaded as numbers unless option fill_nulls gives a value for them", path);
  release(&p);
  free(path);
}

/* An offset index that lies is refused by take as by reads, naming the
   file and the column; one that is ignored by reads is ignored by take. */
static void test_parquet_take_checks_the_offset_index(void **state) {
  (void)state;
  char *lie = write_indexed("take_lie.parquet", false, shift_row);
  char *gap = write_indexed("take_gap.parquet", false, leave_gap);
  char *none = write_indexed("take_none.parquet", false, NULL);
  const int64_t rows[] = {1, 150, 250, 399};
  probed p;
  sl_error err = {0};
  assert_int_equal(probe(lie, NULL, NULL, &p), SL_OK);
  int32_t got[4];
  assert_int_equal(tshard_take(&p, rows, 4, got, &err), SL_EFORMAT);
  if (strstr(err.message, lie) == NULL || strstr(err.message, "column x") == NULL ||
      strstr(err.message, "its offset index says") == NULL)
    fail_msg("%s", err.message);
  release(&p);
  char *ok[] = {gap, none};
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(probe(ok[i], NULL, NULL, &p), SL_OK);
    assert_int_equal(tshard_take(&p, rows, 4, got, &err), SL_OK);
    for (int k = 0; k < 4; k++) assert_int_equal(got[k], rows[k]);
    release(&p);
  }
  free(lie);
  free(gap);
  free(none);
}

/* A dictionary written after the data pages, a list column: take agrees
   with reads (the whole chunk, or windows of rows). */
static void test_parquet_take_late_dictionary_and_lists(void **state) {
  (void)state;
  double plain[4] = {1, 2, 3, 4}, dict[2] = {10, 20};
  tpage p0 = {0, 0, 4, 0, 0, 0, 0, (const uint8_t *)plain, sizeof plain};
  tpage dp = {2, 0, 2, 0, 0, 0, 0, (const uint8_t *)dict, sizeof dict};
  const uint8_t idx[] = {1, 4 << 1, 1};
  tpage p1 = {0, 8, 4, 0, 0, 0, 0, idx, sizeof idx};
  tpage pages[] = {p0, dp, p1};
  tschema s[] = {ROOT(1), COL("d", 5, 0)};
  tchunk c = {5, 0, pages, 3, 8};
  char *path = write_parquet("take_latedict.parquet", s, 2, &c, 1, 8);
  probed p;
  sl_error err = {0};
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  const int64_t rows[] = {0, 3, 4, 7};
  if (take_matches(&p, rows, 4, &err) != SL_OK) fail_msg("%s", err.message);
  release(&p);
  free(path);
  char fsl[sizeof fixtures + 64];
  snprintf(fsl, sizeof fsl, "%s/parquet_arrowrs_fsl_f4x8", fixtures);
  DIR *dd = opendir(fsl);
  if (dd == NULL) {
    print_message("SKIPPED (lists): fixture %s not found\n", fsl);
    return;
  }
  struct dirent *e;
  while ((e = readdir(dd)) != NULL) {
    if (strstr(e->d_name, ".parquet") == NULL) continue;
    char *f = path_in(fsl, e->d_name);
    assert_int_equal(probe(f, NULL, NULL, &p), SL_OK);
    int64_t some[3] = {0, p.s.rows / 2, p.s.rows - 1};
    if (take_matches(&p, some, p.s.rows > 2 ? 3 : 1, &err) != SL_OK) fail_msg("%s", err.message);
    release(&p);
    free(f);
  }
  closedir(dd);
}

/* ------------------------------------------------------ snappy pages */

/* A snappy stream written tag by tag (in), and the bytes it stands for
   (out), made as a decoder makes them: the tests' own encoder. */
typedef struct tsnap {
  tbuf in, out;
} tsnap;

static void sn_literal(tsnap *s, const uint8_t *p, size_t n) {
  size_t l = n - 1;
  if (l < 60) {
    put_u8(&s->in, (uint8_t)(l << 2));
  } else { /* 1 to 4 length bytes after the tag (60 to 63) */
    int k = l < 256 ? 1 : l < 65536 ? 2 : l < (1 << 24) ? 3 : 4;
    put_u8(&s->in, (uint8_t)((59 + k) << 2));
    put(&s->in, &l, (size_t)k); /* little-endian host (as pq.h insists) */
  }
  put(&s->in, p, n);
  put(&s->out, p, n);
}

/* The tag of a copy of len bytes from off back: form 1 (len 4-11, off <
   2048), 2 or 4 (len 1-64). */
static void sn_copy_tag(tsnap *s, uint32_t off, size_t len, int form) {
  if (form == 1) {
    put_u8(&s->in, (uint8_t)((off >> 8) << 5 | (len - 4) << 2 | 1));
    put_u8(&s->in, (uint8_t)off);
  } else {
    put_u8(&s->in, (uint8_t)((len - 1) << 2 | (form == 2 ? 2 : 3)));
    put(&s->in, &off, form == 2 ? 2 : 4);
  }
}

/* A copy, made byte by byte as a decoder makes it (it may overlap). */
static void sn_copy(tsnap *s, uint32_t off, size_t len, int form) {
  assert_true(form == 1 ? len >= 4 && len <= 11 && off < 2048 : len >= 1 && len <= 64);
  sn_copy_tag(s, off, len, form);
  for (size_t i = 0; i < len; i++) {
    assert_true(off >= 1 && off <= s->out.n); /* the tests' good copies are */
    put_u8(&s->out, s->out.p[s->out.n - off]);
  }
}

/* A page's stream: a maker writes the tags of u (n bytes: v1 levels and
   values, v2 values) into s. A good one's s->out ends up equal to u. */
typedef void (*sn_maker)(tsnap *s, const uint8_t *u, size_t n);

/* Literals only, cut inside values, one long enough for 2 length bytes. */
static void sn_literals(tsnap *s, const uint8_t *u, size_t n) {
  sn_literal(s, u, 20);
  sn_literal(s, u + 20, 100);
  sn_literal(s, u + 120, n - 120);
}

/* Copies of every form, as a writer of data that repeats makes them: u is
   rewritten to what they make. One copy is 8 values back, some overlap (a
   period of 3 bytes, of 8), one copies copies, and values are cut between
   literals and copies. */
static void sn_copies(tsnap *s, const uint8_t *u, size_t n) {
  sn_literal(s, u, 71);
  sn_copy(s, 64, 64, 2);
  sn_copy(s, 3, 11, 1);
  sn_literal(s, u + 146, 5);
  sn_copy(s, 100, 40, 4);
  sn_copy(s, 8, 60, 2);
  sn_literal(s, u + s->out.n, n - s->out.n);
}

/* A literal, an overlapping copy of a 20-byte period, a literal. */
static void sn_period(tsnap *s, const uint8_t *u, size_t n) {
  sn_literal(s, u, 20);
  sn_copy(s, 20, 40, 2);
  sn_literal(s, u + 60, n - 60);
}

/* A literal every 26 bytes: more tags than a small page's index takes. */
static void sn_many_tags(tsnap *s, const uint8_t *u, size_t n) {
  for (size_t at = 0; at < n; at += 26) sn_literal(s, u + at, SL_MIN(26, n - at));
}

/* The levels and a value a literal, then each of the next 70 values a copy
   of the one before (value k lies k copies deep), then a literal. */
static void sn_deep(tsnap *s, const uint8_t *u, size_t n) {
  sn_literal(s, u, n % 8 + 8);
  for (int k = 1; k <= 70; k++) sn_copy(s, 8, 8, 2);
  sn_literal(s, u + s->out.n, n - s->out.n);
}

/* Corrupt streams, each as its length stands for n bytes: a copy from
   before the start; tags that make 8 bytes too few; a literal that runs 8
   bytes past the stream; a tag making bytes past the length. */
static void sn_before_start(tsnap *s, const uint8_t *u, size_t n) {
  sn_literal(s, u, 7);
  sn_copy_tag(s, 100, 8, 2);
  put(&s->out, u + 7, 8);
  sn_literal(s, u + 15, n - 15);
}

static void sn_too_few(tsnap *s, const uint8_t *u, size_t n) {
  sn_literal(s, u, n - 8);
  put(&s->out, u + n - 8, 8);
}

static void sn_past_end(tsnap *s, const uint8_t *u, size_t n) {
  sn_literal(s, u, n - 8);
  put_u8(&s->in, 15 << 2); /* 16 bytes, 8 there */
  put(&s->in, u + n - 8, 8);
  put(&s->out, u + n - 8, 8);
}

static void sn_too_many(tsnap *s, const uint8_t *u, size_t n) {
  sn_literal(s, u, n);
  sn_copy_tag(s, 8, 4, 1);
}

/* A page of a SNAPPY OPTIONAL DOUBLE column without nulls: rows rows of
   doubles base + i / 8, v1 (levels in the stream) or v2; the header's
   uncompressed size lie bytes off. */
typedef struct sn_spec {
  sn_maker make;
  int rows, base;
  bool v2;
  int lie;
} sn_spec;

/* One page of spec at the end of f; want gets the values a decoder must
   give (those of the maker's s->out). */
static void sn_page(tbuf *f, const sn_spec *sp, double *want) {
  tbuf u = {0}, lev = {0}, body = {0};
  const int run[][2] = {{sp->rows, 1}};
  rle_levels(sp->v2 ? &lev : &u, run, 1, !sp->v2);
  size_t at = u.n;
  for (int i = 0; i < sp->rows; i++) {
    double d = sp->base + i / 8.0;
    put(&u, &d, sizeof d);
  }
  tsnap s = {{0}, {0}};
  sp->make(&s, u.p, u.n);
  memcpy(want, s.out.p + at, (size_t)sp->rows * 8);
  if (sp->v2) put(&body, lev.p, lev.n);
  uvar(&body, u.n);
  put(&body, s.in.p, s.in.n);
  tpage pg = {sp->v2 ? 3 : 0, 0, sp->rows, sp->rows, 0, (int)lev.n, 0, body.p, body.n};
  write_page(f, &pg, lev.n + u.n + (size_t)sp->lie);
  free(u.p);
  free(lev.p);
  free(body.p);
  free(s.in.p);
  free(s.out.p);
}

/* A file of one such column d in one row group, a page a spec; want gets
   every row's value. */
static char *write_snappy(const char *name, const sn_spec *sp, size_t n, double *want) {
  tbuf f = {0};
  put(&f, "PAR1", 4);
  tchunk_at ca = {.off = (int64_t)f.n};
  int64_t rows = 0;
  for (size_t k = 0; k < n; k++) {
    sn_page(&f, &sp[k], want + rows);
    rows += sp[k].rows;
  }
  ca.len = (int64_t)f.n - ca.off;
  tschema sc[] = {ROOT(1), COL("d", 5, 1)};
  tchunk c = {5, 1, NULL, 0, rows};
  return finish_parquet(name, &f, sc, 2, &c, &ca, 1, rows);
}

#define NEED_SNAPPY()                                                          \
  do {                                                                         \
    if (!sl__codec_available(SL_CODEC_SNAPPY)) {                               \
      print_message("SKIPPED: snappy is not in this build (libsnappy-dev)\n"); \
      skip();                                                                  \
    }                                                                          \
  } while (0)

/* Rows 0-63 literals, 64-127 copies, 128-191 v2, 192-255 too many tags,
   256-2655 values 1-70 copies deep. */
static const sn_spec sn_good[] = {{sn_literals, 64, 0, false, 0},
                                  {sn_copies, 64, 100, false, 0},
                                  {sn_period, 64, 200, true, 0},
                                  {sn_many_tags, 64, 300, false, 0},
                                  {sn_deep, 2400, 400, false, 0}};
enum { SN_ROWS = 4 * 64 + 2400 };

/* Rows of every page: single ones, runs, values cut between tags, values
   that lie copies deep (65 and more: beyond what is followed). */
static const int64_t sn_sets[][8] = {{0, 2, 3, 63, 64, 65, 127, 128},
                                     {66, 67, 68, 69, 70, 71, 72, 73},
                                     {80, 81, 90, 100, 110, 120, 121, 126},
                                     {129, 130, 131, 150, 151, 190, 191, 200},
                                     {256, 257, 300, 320, 321, 326, 327, 2655},
                                     {100, 200, 320, 321, 326, 327, 1000, 2000}};

/* take over the file and over its image in memory (as from a mapping)
   agrees with whole reads and with the values written, and reads no more
   than the values of indexed pages. */
static void test_parquet_take_reads_values_from_snappy_streams(void **state) {
  (void)state;
  NEED_SNAPPY();
  static double want[SN_ROWS];
  char *path = write_snappy("snappy.parquet", sn_good, SL_ARRAY_LEN(sn_good), want);
  probed p;
  sl_error err = {0};
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  double *all = read_rows(&p, 0, SN_ROWS);
  assert_memory_equal(all, want, sizeof want); /* the decoder makes what the tests made */
  free(all);
  for (size_t i = 0; i < SL_ARRAY_LEN(sn_sets); i++)
    if (take_matches(&p, sn_sets[i], 8, &err) != SL_OK) fail_msg("%s", err.message);
  /* the map made: indexed pages give their values alone, 8 bytes each */
  const int64_t cheap[] = {5, 70, 100, 130, 150, 256 + 64, 1000}, dear[] = {200},
                deep[] = {256 + 65};
  double got[8];
  int64_t before = sl__bytes_read();
  assert_int_equal(tshard_take(&p, cheap, SL_ARRAY_LEN(cheap), got, &err), SL_OK);
  assert_int_equal(sl__bytes_read() - before, 8 * (int64_t)SL_ARRAY_LEN(cheap));
  for (size_t k = 0; k < SL_ARRAY_LEN(cheap); k++) assert_true(got[k] == want[cheap[k]]);
  const int64_t *whole[] = {dear, deep}; /* decoded: the page's bytes read */
  for (size_t k = 0; k < 2; k++) {
    before = sl__bytes_read();
    assert_int_equal(tshard_take(&p, whole[k], 1, got, &err), SL_OK);
    assert_true(sl__bytes_read() - before > 64 * 8);
    assert_true(got[0] == want[whole[k][0]]);
  }
  release(&p);
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  static uint8_t image[65536];
  size_t len = fread(image, 1, sizeof image, fp);
  assert_true(feof(fp));
  fclose(fp);
  tshard_init(&p, &sl__parquet_driver);
  assert_int_equal(tshard_probe_mem(&p, path, image, len), SL_OK);
  for (size_t i = 0; i < SL_ARRAY_LEN(sn_sets); i++)
    if (take_matches(&p, sn_sets[i], 8, &err) != SL_OK) fail_msg("%s", err.message);
  release(&p);
  free(path);
}

/* A corrupt stream (or a header that disagrees with it) fails take as it
   fails a read of its page: the same status and message; the good page
   before it is still taken. */
static void test_parquet_take_refuses_corrupt_snappy_like_reads(void **state) {
  (void)state;
  NEED_SNAPPY();
  const sn_spec sp[] = {{sn_literals, 64, 0, false, 0},     {sn_before_start, 64, 1, false, 0},
                        {sn_too_few, 64, 2, false, 0},      {sn_past_end, 64, 3, false, 0},
                        {sn_too_many, 64, 4, false, 0},     {sn_literals, 64, 5, false, 8},
                        {sn_before_start, 64, 6, true, 0}};
  double want[7 * 64], got[64];
  char *path = write_snappy("snappy_bad.parquet", sp, SL_ARRAY_LEN(sp), want);
  probed p;
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  const int64_t good[] = {0, 5, 63};
  sl_error err = {0}, rerr;
  assert_int_equal(tshard_take(&p, good, 3, got, &err), SL_OK);
  for (int k = 0; k < 3; k++) assert_true(got[k] == want[good[k]]);
  for (int64_t k = 1; k < (int64_t)SL_ARRAY_LEN(sp); k++) {
    const int64_t rows[] = {64 * k + 3, 64 * k + 40};
    rerr = (sl_error){0};
    err = (sl_error){0};
    sl_status rs = tshard_read(&p, 64 * k, 64 * k + 64, got, &rerr);
    assert_int_not_equal(rs, SL_OK);
    assert_int_equal(tshard_take(&p, rows, 2, got, &err), rs);
    assert_string_equal(err.message, rerr.message);
    if (strstr(err.message, path) == NULL || strstr(err.message, "column d") == NULL)
      fail_msg("%s", err.message);
  }
  release(&p);
  free(path);
  /* the index refuses them by itself too, whatever bytes it is told they make */
  const sn_maker bad[] = {sn_before_start, sn_too_few, sn_past_end, sn_too_many};
  uint8_t u[600];
  for (size_t i = 0; i < sizeof u; i++) u[i] = (uint8_t)(i * 7);
  for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
    tsnap s = {{0}, {0}};
    tbuf in = {0};
    bad[i](&s, u, sizeof u);
    uvar(&in, s.out.n);
    put(&in, s.in.p, s.in.n);
    pq_snap_tag *tags;
    size_t nt;
    assert_non_null(pq_snap_index(in.p, in.n, s.out.p, s.out.n, 1000, &tags, &nt));
    assert_null(tags);
    free(in.p);
    free(s.in.p);
    free(s.out.p);
  }
}

/* Random streams of literals and copies (some overlapping, some copies of
   copies), and the same with a byte changed: wherever the decoder takes a
   stream and the index takes it too, every byte found through the index is
   the decoder's, and ranges of bytes come out whole. */
static void test_parquet_snappy_index_finds_what_the_decoder_makes(void **state) {
  (void)state;
  NEED_SNAPPY();
  srand(7);
  int indexed = 0;
  for (int trial = 0; trial < 300; trial++) {
    tsnap s = {{0}, {0}};
    uint8_t lit[300];
    for (int t = rand() % 40 + 1; t > 0; t--) {
      int form = s.out.n == 0 ? 0 : rand() % 4;
      size_t len = form == 1 ? 4 + (size_t)(rand() % 8) : 1 + (size_t)(rand() % 64);
      uint32_t most = (uint32_t)SL_MIN(s.out.n, form == 1 ? 2047u : 65535u);
      if (form == 0) {
        for (size_t i = 0; i < sizeof lit; i++) lit[i] = (uint8_t)rand();
        sn_literal(&s, lit, 1 + (size_t)(rand() % 300));
      } else {
        uint32_t near = rand() % 2 ? SL_MIN(most, 12u) : most; /* overlapping, often */
        sn_copy(&s, 1 + (uint32_t)rand() % near, len, form);
      }
    }
    tbuf in = {0};
    uvar(&in, s.out.n);
    put(&in, s.in.p, s.in.n);
    if (trial % 2) in.p[rand() % in.n] ^= (uint8_t)(1 + rand() % 255); /* corrupt */
    uint8_t *dec = malloc(s.out.n + 1);
    const char *why;
    pq_snap_tag *tags;
    size_t nt;
    if (sl__decompress(SL_CODEC_SNAPPY, in.p, in.n, dec, s.out.n, &why) == SL_OK &&
        pq_snap_index(in.p, in.n, dec, s.out.n, 1000, &tags, &nt) == NULL) {
      indexed++;
      for (size_t x = 0; x < s.out.n; x++) {
        size_t left = (size_t)rand() % (s.out.n - x) + 1, y = x;
        while (left > 0) {
          size_t k = left;
          uint32_t at;
          if (!pq_snap_find(tags, nt, y, &k, &at)) break; /* too deep: decoded instead */
          assert_true(k >= 1 && k <= left && at + k <= in.n);
          assert_memory_equal(in.p + at, dec + y, k);
          y += k;
          left -= k;
        }
      }
      sl__free(tags);
    }
    free(dec);
    free(in.p);
    free(s.in.p);
    free(s.out.p);
  }
  assert_true(indexed >= 150); /* every good stream, and corrupt ones that still decode */
}

/* Fail the nth allocation of a take over SNAPPY pages (handle, page maps,
   their indexes, decoding) for every n until it succeeds. */
static void test_parquet_take_allocation_failures_are_reported(void **state) {
  (void)state;
  NEED_SNAPPY();
  static double want[SN_ROWS];
  char *path = write_snappy("snappy_oom.parquet", sn_good, SL_ARRAY_LEN(sn_good), want);
  bool done = false;
  for (long n = 1; !done && n < 10000; n++) {
    probed p;
    assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
    double got[8];
    sl_error err = {0};
    sl__alloc_fail_at(n, false);
    sl_status st = tshard_take(&p, sn_sets[5], 8, got, &err);
    sl__alloc_fail_at(0, false);
    if (st != SL_OK) assert_int_equal(err.code, SL_ENOMEM);
    for (int k = 0; st == SL_OK && k < 8; k++) assert_true(got[k] == want[sn_sets[5][k]]);
    done = st == SL_OK;
    release(&p);
  }
  assert_true(done);
  free(path);
}

/* The DuckDB and arrow-rs SNAPPY fixtures: take agrees with reads, and once
   the maps are made reads only the values of PLAIN columns (DuckDB's d is
   dictionary-encoded in some chunks: decoded, and read all the same). */
static void test_parquet_take_snappy_fixtures(void **state) {
  (void)state;
  NEED_SNAPPY();
  static const struct { const char *file, *plain; } cases[] = {
      {"parquet_duckdb_f8_snappy_rowgroups/shard_0000.parquet", "a,b,c"},
      {"parquet_duckdb_f8_snappy_rowgroups/shard_0002.parquet", "a,b,c"},
      {"parquet_arrowrs_f2_snappy/shard_0001.parquet", NULL}};
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    NEED_FIXTURE(cases[i].file);
    probed p;
    sl_error err = {0};
    assert_int_equal(probe(fx, NULL, NULL, &p), SL_OK);
    int64_t n = p.s.rows, rows[6] = {0, 1, n / 3, n / 2, n / 2 + 1, n - 1};
    if (take_matches(&p, rows, 6, &err) != SL_OK) fail_msg("%s", err.message);
    release(&p);
    assert_int_equal(probe(fx, cases[i].plain, NULL, &p), SL_OK);
    if (take_matches(&p, rows, 6, &err) != SL_OK) fail_msg("%s", err.message);
    char got[6 * 64];
    assert_true(row_bytes(&p) <= 64);
    int64_t before = sl__bytes_read();
    assert_int_equal(tshard_take(&p, rows, 6, got, &err), SL_OK);
    assert_int_equal(sl__bytes_read() - before, 6 * (int64_t)row_bytes(&p));
    release(&p);
  }
}

static void test_parquet_dictionary_index_out_of_range(void **state) {
  (void)state;
  double dict[2] = {10, 20};
  tpage dp = {2, 0, 2, 0, 0, 0, 0, (const uint8_t *)dict, 16};
  const uint8_t idx[] = {2, 4 << 1, 3}; /* width 2, a run of 4 of index 3 */
  tpage pg = {0, 8, 4, 0, 0, 0, 0, idx, sizeof idx};
  tpage pages[] = {dp, pg};
  tschema s[] = {ROOT(1), COL("d", 5, 0)};
  tchunk c = {5, 0, pages, 2, 4};
  char *path = write_parquet("dict.parquet", s, 2, &c, 1, 4);
  probed p;
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  double got[4];
  sl_error err = {0};
  assert_int_equal(tshard_read(&p, 0, 4, got, &err), SL_EFORMAT);
  expect_message(&err, SL_EFORMAT, "%s: column d: dictionary index is past the dictionary's "
                 "end (row group starting at row 0)", path);
  release(&p);
  free(path);
}

static void test_parquet_rejects_files_that_are_not_parquet(void **state) {
  (void)state;
  write_bytes(dir, "csv.parquet", "a,b\n1,2\n3,4\n", 12);
  char *path = path_in(dir, "csv.parquet");
  probed p;
  assert_int_equal(probe(path, NULL, NULL, &p), SL_EFORMAT);
  expect_message(&p.err, SL_EFORMAT, "%s: not a Parquet file (expected the magic PAR1 at the "
                 "start and the end)", path);
  free(path);
  write_bytes(dir, "short.parquet", "PAR1PAR1", 8);
  path = path_in(dir, "short.parquet");
  assert_int_equal(probe(path, NULL, NULL, &p), SL_EFORMAT);
  expect_message(&p.err, SL_EFORMAT, "%s: not a Parquet file (8 bytes; expected at least 12 "
                 "with the PAR1 magic at both ends)", path);
  free(path);
  const uint8_t big[] = {'P', 'A', 'R', '1', 0, 0, 0xff, 0xff, 0, 0, 'P', 'A', 'R', '1'};
  write_bytes(dir, "len.parquet", big, sizeof big);
  path = path_in(dir, "len.parquet");
  assert_int_equal(probe(path, NULL, NULL, &p), SL_EFORMAT);
  expect_message(&p.err, SL_EFORMAT, "%s: Parquet footer length 65535 does not fit in the "
                 "file's 14 bytes (limit 268435456)", path);
  free(path);
}

static void test_parquet_rejects_corrupt_footer(void **state) {
  (void)state;
  /* FileMetaData: field 2 (schema) is a list claiming 200 structs in 3 bytes */
  const uint8_t meta[] = {0x15, 0x02, 0x19, 0xfc, 0xc8, 0x01, 0x00};
  tbuf f = {0};
  put(&f, "PAR1", 4);
  put(&f, meta, sizeof meta);
  uint32_t len = sizeof meta;
  put(&f, &len, 4);
  put(&f, "PAR1", 4);
  write_bytes(dir, "bad.parquet", f.p, f.n);
  free(f.p);
  char *path = path_in(dir, "bad.parquet");
  probed p;
  assert_int_equal(probe(path, NULL, NULL, &p), SL_EFORMAT);
  expect_message(&p.err, SL_EFORMAT, "%s: Parquet footer (FileMetaData) does not parse: Thrift "
                 "list claims more elements than bytes left", path);
  free(path);
}

/* ------------------------------------------------------------- writer */

static void roundtrip(sl_dtype dt, int ndim, int64_t rows, int64_t cols) {
  int64_t shape[2] = {rows, cols};
  size_t n = (size_t)(rows * cols) * sl_dtype_size(dt);
  uint8_t *data = malloc(n + 1);
  sl_pattern_fill(dt, 42, 0, rows * cols, data);
  char *path = path_in(dir, "w.parquet");
  sl_error err = {0};
  if (sl_write_shard("parquet", path, dt, ndim, shape, data, &err) != SL_OK)
    fail_msg("%s", err.message);
  probed p;
  if (probe(path, NULL, NULL, &p) != SL_OK) fail_msg("%s", p.err.message);
  assert_int_equal(p.info.dtype, dt);
  assert_int_equal(p.info.shape[0], rows);
  assert_int_equal(p.info.shape[1], cols);
  uint8_t *got = read_rows(&p, 0, rows);
  assert_memory_equal(got, data, n);
  free(got);
  release(&p);
  free(path);
  free(data);
}

static void test_parquet_write_roundtrip_every_dtype(void **state) {
  (void)state;
  static const sl_dtype types[] = {SL_BOOL,   SL_INT8,   SL_INT16,   SL_INT32,
                                   SL_INT64,  SL_UINT8,  SL_UINT16,  SL_UINT32,
                                   SL_UINT64, SL_FLOAT16, SL_FLOAT32, SL_FLOAT64};
  for (size_t i = 0; i < SL_ARRAY_LEN(types); i++) roundtrip(types[i], 2, 1000, 3);
  roundtrip(SL_FLOAT32, 1, 77, 1);
  roundtrip(SL_FLOAT32, 2, 0, 2);
}

static void test_parquet_write_several_row_groups_and_pages(void **state) {
  (void)state;
  roundtrip(SL_UINT8, 2, (1 << 20) + 5, 2); /* two row groups of 16 and 1 pages */
}

static void test_parquet_write_rejects_what_parquet_cannot_hold(void **state) {
  (void)state;
  int64_t shape[3] = {2, 2, 2};
  float data[8] = {0};
  char *path = path_in(dir, "bad.parquet");
  sl_error err = {0};
  assert_int_equal(sl_write_shard("parquet", path, SL_COMPLEX64, 2, shape, data, &err),
                   SL_ENOTSUP);
  assert_non_null(strstr(err.message, "Parquet has no type for <c8 (expected bool, int8-64, "
                         "uint8-64 or float16/32/64)"));
  sl_error_clear(&err);
  assert_int_equal(sl_write_shard("parquet", path, SL_FLOAT32, 3, shape, data, &err),
                   SL_EINVAL);
  assert_non_null(strstr(err.message, "a Parquet table holds rows x columns (1 to 100000 "
                         "columns): expected 1 or 2 dimensions"));
  free(path);
}

/* ------------------------------------------------------ concurrency, OOM */

typedef struct job {
  const probed *p;
  int64_t lo, hi;
  const char *all;
  bool ok;
} job;

static void *read_job(void *arg) {
  job *j = arg;
  size_t rb = row_bytes(j->p);
  char *buf = malloc((size_t)(j->hi - j->lo) * rb);
  sl_error err = {0};
  j->ok = sl__parquet_driver.read(&j->p->s, j->p->handle, &j->p->src, j->lo, j->hi, buf,
                                  &err) == SL_OK &&
          memcmp(buf, j->all + (size_t)j->lo * rb, (size_t)(j->hi - j->lo) * rb) == 0;
  free(buf);
  return NULL;
}

static void test_parquet_concurrent_reads_agree(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_arrowrs_dict_f8/shard_0000.parquet");
  probed p;
  assert_int_equal(probe(fx, NULL, NULL, &p), SL_OK);
  char *all = read_rows(&p, 0, p.s.rows);
  probed other;
  tshard_other(&p, &other);
  sl_error err = {0};
  assert_int_equal(tshard_open(&other, &err), SL_OK); /* one handle, read by every thread */
  job jobs[6];
  pthread_t th[6];
  int64_t step = p.s.rows / 6;
  for (int i = 0; i < 6; i++) {
    jobs[i] = (job){&other, i * step, SL_MIN(p.s.rows, i * step + 2 * step), all, false};
    assert_int_equal(pthread_create(&th[i], NULL, read_job, &jobs[i]), 0);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(th[i], NULL);
    assert_true(jobs[i].ok);
  }
  free(all);
  tshard_release(&other);
  release(&p);
}

/* Fail the nth allocation for every n until probe and read succeed. */
static void test_parquet_allocation_failures_are_reported(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_v2_f8_encodings/shard_0000.parquet");
  bool done = false;
  for (long n = 1; !done && n < 10000; n++) {
    probed p;
    sl__alloc_fail_at(n, false);
    sl_status st = probe(fx, NULL, NULL, &p);
    if (st == SL_OK) {
      probed other;
      tshard_other(&p, &other);
      double *buf = malloc((size_t)p.s.rows * row_bytes(&p));
      sl_error err = {0};
      st = tshard_read(&other, 0, p.s.rows, buf, &err);
      if (st != SL_OK) assert_int_equal(err.code, SL_ENOMEM);
      done = st == SL_OK;
      free(buf);
      tshard_release(&other);
    } else {
      assert_int_equal(st, SL_ENOMEM);
    }
    release(&p);
    sl__alloc_fail_at(0, false);
  }
  assert_true(done);
}

/* ------------------------------------------------------------- inspect */

/* The driver's account of a probed shard; fails the test when it fails. */
static cJSON *account(probed *p) {
  sl_error err = {0};
  cJSON *j = tshard_account(p, &err);
  if (j == NULL) fail_msg("inspect: %s", err.message);
  return j;
}

static bool has_string(const cJSON *arr, const char *s) {
  const cJSON *e;
  cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0) return true;
  return false;
}

static void test_parquet_inspect_fixture_columns_codecs_and_left_out(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_i32_zstd_select/shard_0000.parquet");
  probed p;
  assert_int_equal(probe(fx, NULL, NULL, &p), SL_OK);
  cJSON *j = account(&p);
  assert_string_equal(jstr(j, "read_path"), "decoded");
  assert_int_equal(cJSON_GetArraySize(jget(j, "columns")), 3);
  assert_string_equal(jstr(j, "columns.0.name"), "id");
  assert_string_equal(jstr(j, "columns.2.name"), "v2");
  assert_string_equal(jstr(j, "columns.0.stored"), "INT_32 (INT32)"); /* DuckDB annotates */
  assert_string_equal(jstr(j, "columns.0.dtype"), "<i4");
  assert_true(cJSON_IsFalse(jget(j, "columns.0.nulls"))); /* statistics: 0 nulls */
  assert_true(has_string(jget(j, "codecs"), "ZSTD"));
  assert_true(has_string(jget(j, "columns.1.codecs"), "ZSTD"));
  assert_true(has_string(jget(j, "encodings"), "PLAIN"));
  assert_int_equal(cJSON_GetArraySize(jget(j, "skipped")), 1);
  assert_string_equal(jstr(j, "skipped.0.name"), "name");
  assert_string_equal(jstr(j, "skipped.0.why"), "a string (BYTE_ARRAY)");
  assert_true(jnum(j, "row_groups.count") >= 1);
  assert_true(strstr(jstr(j, "created_by"), "DuckDB") != NULL);
  cJSON_Delete(j);
  release(&p);
  assert_int_equal(probe(fx, "v2,id", NULL, &p), SL_OK); /* named: v1 is left out by name */
  j = account(&p);
  assert_string_equal(jstr(j, "columns.0.name"), "v2");
  assert_string_equal(jstr(j, "skipped.0.name"), "v1");
  assert_string_equal(jstr(j, "skipped.0.why"), "not named by option columns");
  cJSON_Delete(j);
  release(&p);
}

static void test_parquet_inspect_brotli_and_lists(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_arrowrs_brotli_f8/shard_0000.parquet");
  probed p;
  assert_int_equal(probe(fx, NULL, NULL, &p), SL_OK);
  cJSON *j = account(&p);
  assert_int_equal(cJSON_GetArraySize(jget(j, "codecs")), 1);
  assert_string_equal(jstr(j, "codecs.0"), "BROTLI");
  cJSON_Delete(j);
  release(&p);
  snprintf(fx, sizeof fx, "%s/parquet_duckdb_array_f4x4/shard_0000.parquet", fixtures);
  assert_int_equal(probe(fx, NULL, NULL, &p), SL_OK); /* id loads; emb is a list */
  j = account(&p);
  assert_string_equal(jstr(j, "skipped.0.name"), "emb");
  assert_string_equal(jstr(j, "skipped.0.why"),
                      "a list column, which loads only alone: name it in option columns");
  cJSON_Delete(j);
  release(&p);
  assert_int_equal(probe(fx, "emb", NULL, &p), SL_OK);
  j = account(&p);
  assert_int_equal((int)jnum(j, "columns.0.list_size"), 4);
  assert_string_equal(jstr(j, "columns.0.stored"), "LIST of FLOAT, 4 a row");
  cJSON_Delete(j);
  release(&p);
}

/* A nullable column's nulls come from Statistics.null_count: counted when
   the chunk says, unknown when it does not; a REQUIRED one has none. Nulls
   without fill_nulls refuse the shard with the read's message. */
static void test_parquet_inspect_nulls_from_statistics(void **state) {
  (void)state;
  stats_null_count = 2;
  char *path = write_nullable("stats.parquet");
  probed p;
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  char *text = NULL;
  sl_error err = {0};
  assert_int_equal(tshard_inspect(&p, &text, &err), SL_EFORMAT);
  assert_null(text);
  expect_message(&err, SL_EFORMAT, "%s: column f has a null value at row 1; nulls cannot be "
                 "loaded as numbers unless option fill_nulls gives a value for them", path);
  release(&p);
  assert_int_equal(probe(path, NULL, "0", &p), SL_OK);
  cJSON *j = account(&p);
  assert_true(cJSON_IsTrue(jget(j, "columns.0.nulls")));
  assert_int_equal((int)jnum(j, "columns.0.null_count"), 2);
  assert_string_equal(jstr(j, "columns.0.repetition"), "OPTIONAL");
  cJSON_Delete(j);
  release(&p);
  free(path);
  /* the same column saying 0 nulls, and saying nothing */
  float v[2] = {1, 2};
  tbuf body = {0};
  const int runs[][2] = {{2, 1}};
  rle_levels(&body, runs, 1, true);
  put(&body, v, sizeof v);
  tpage pg = {0, 0, 2, 0, 0, 0, 0, body.p, body.n};
  tschema s[] = {ROOT(1), COL("f", 4, 1)};
  tchunk c = {4, 0, &pg, 1, 2};
  for (int stats = 0; stats >= -1; stats--) {
    stats_null_count = stats;
    path = write_parquet("nonull.parquet", s, 2, &c, 1, 2);
    assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
    j = account(&p);
    if (stats == 0) assert_true(cJSON_IsFalse(jget(j, "columns.0.nulls")));
    else assert_true(cJSON_IsNull(jget(j, "columns.0.nulls"))); /* unknown: no refusal */
    cJSON_Delete(j);
    release(&p);
    free(path);
  }
  free(body.p);
  /* REQUIRED: none, whatever the statistics */
  tpage req = {0, 0, 2, 0, 0, 0, 0, (const uint8_t *)v, sizeof v};
  tschema rs[] = {ROOT(1), COL("r", 4, 0)};
  tchunk rc = {4, 0, &req, 1, 2};
  path = write_parquet("req.parquet", rs, 2, &rc, 1, 2);
  assert_int_equal(probe(path, NULL, NULL, &p), SL_OK);
  j = account(&p);
  assert_true(cJSON_IsFalse(jget(j, "columns.0.nulls")));
  assert_int_equal((int)jnum(j, "columns.0.null_count"), 0);
  assert_string_equal(jstr(j, "columns.0.repetition"), "REQUIRED");
  cJSON_Delete(j);
  release(&p);
  free(path);
}

/* The fixture whose shard 1 holds nulls: inspect through the library
   refuses it with read's message and code. */
static void test_parquet_inspect_refuses_as_read_does(void **state) {
  (void)state;
  NEED_FIXTURE("parquet_duckdb_bad_nulls");
  sl_dataset *ds;
  sl_error err = {0}, rerr = {0};
  assert_int_equal(sl_dataset_open(NULL, fx, NULL, &ds, &err), SL_OK);
  char *json = NULL;
  assert_int_equal(sl_dataset_inspect(ds, 0, &json, &err), SL_OK);
  sl_free(json);
  assert_int_equal(sl_dataset_inspect(ds, 1, &json, &err), SL_EFORMAT);
  assert_null(json);
  int64_t shape[SL_MAX_DIMS];
  sl_dataset_shape(ds, shape);
  double *all = malloc((size_t)(shape[0] * shape[1]) * sizeof *all);
  assert_int_equal(sl_dataset_read_rows(ds, 0, shape[0], all, NULL, NULL, &rerr), SL_EFORMAT);
  assert_string_equal(err.message, rerr.message);
  free(all);
  sl_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parquet_fixtures_probe_and_read_any_rows),
      cmocka_unit_test(test_parquet_fixture_values_are_right),
      cmocka_unit_test(test_parquet_fixture_column_order_follows_columns),
      cmocka_unit_test(test_parquet_fixture_mixed_types_named_by_column),
      cmocka_unit_test(test_parquet_fixture_null_names_file_column_and_row),
      cmocka_unit_test(test_parquet_fixture_fill_nulls_replaces_them),
      cmocka_unit_test(test_parquet_fixture_string_column_is_refused),
      cmocka_unit_test(test_parquet_fixture_unknown_column_lists_the_columns),
      cmocka_unit_test(test_parquet_fixture_list_must_be_alone),
      cmocka_unit_test(test_parquet_fixture_whole_dataset_reads_through_library),
      cmocka_unit_test(test_parquet_integer_logical_types),
      cmocka_unit_test(test_parquet_date_loads_as_days_int96_refused),
      cmocka_unit_test(test_parquet_nulls_error_or_fill),
      cmocka_unit_test(test_parquet_fill_value_must_fit_the_dtype),
      cmocka_unit_test(test_parquet_v2_rle_booleans_and_levels),
      cmocka_unit_test(test_parquet_list_of_wrong_length_is_refused),
      cmocka_unit_test(test_parquet_offset_index_reads_only_the_pages_needed),
      cmocka_unit_test(test_parquet_offset_index_that_lies_is_refused),
      cmocka_unit_test(test_parquet_partial_reads_take_only_their_pages),
      cmocka_unit_test(test_parquet_v2_list_rows_come_from_levels),
      cmocka_unit_test(test_parquet_unsupported_codec_and_encoding_are_named),
      cmocka_unit_test(test_parquet_late_dictionary_found_by_partial_reads),
      cmocka_unit_test(test_parquet_dictionary_index_out_of_range),
      cmocka_unit_test(test_parquet_take_values_and_pages_agree_with_reads),
      cmocka_unit_test(test_parquet_take_checks_the_offset_index),
      cmocka_unit_test(test_parquet_take_late_dictionary_and_lists),
      cmocka_unit_test(test_parquet_take_reads_values_from_snappy_streams),
      cmocka_unit_test(test_parquet_take_refuses_corrupt_snappy_like_reads),
      cmocka_unit_test(test_parquet_snappy_index_finds_what_the_decoder_makes),
      cmocka_unit_test(test_parquet_take_allocation_failures_are_reported),
      cmocka_unit_test(test_parquet_take_snappy_fixtures),
      cmocka_unit_test(test_parquet_rejects_files_that_are_not_parquet),
      cmocka_unit_test(test_parquet_rejects_corrupt_footer),
      cmocka_unit_test(test_parquet_write_roundtrip_every_dtype),
      cmocka_unit_test(test_parquet_write_several_row_groups_and_pages),
      cmocka_unit_test(test_parquet_write_rejects_what_parquet_cannot_hold),
      cmocka_unit_test(test_parquet_concurrent_reads_agree),
      cmocka_unit_test(test_parquet_allocation_failures_are_reported),
      cmocka_unit_test(test_parquet_inspect_fixture_columns_codecs_and_left_out),
      cmocka_unit_test(test_parquet_inspect_brotli_and_lists),
      cmocka_unit_test(test_parquet_inspect_nulls_from_statistics),
      cmocka_unit_test(test_parquet_inspect_refuses_as_read_does),
  };
  return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
