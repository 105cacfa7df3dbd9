/* Parquet writer for `shardload write --format parquet`: the simplest file
 * every reader accepts. A 1-D array is one column c0, a 2-D array rows x k
 * is columns c0..c(k-1); all REQUIRED, PLAIN, UNCOMPRESSED, data page v1,
 * row groups of up to 1 Mi rows and pages of up to 64 Ki values, so no page
 * approaches the 2 GiB an i32 page size can say. Integer widths other than
 * 32 and 64 bits are INT32 with a LogicalType INTEGER, float16 is
 * FIXED_LEN_BYTE_ARRAY(2) with FLOAT16, as arrow-rs writes them.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "pq.h"

#define PQ_W_GROUP_ROWS ((int64_t)1 << 20)
#define PQ_W_PAGE_ROWS ((int64_t)1 << 16)

/* ------------------------------------------------- Thrift compact output */

typedef struct wbuf {
  uint8_t *p;
  size_t n, cap;
  bool oom;
} wbuf;

static void w_put(wbuf *b, const void *v, size_t n) {
  if (b->oom) return;
  if (b->n + n > b->cap) {
    size_t cap = (b->n + n) * 2 + 256;
    uint8_t *p = sl__realloc(b->p, cap);
    if (p == NULL) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, v, n);
  b->n += n;
}

static void w_u8(wbuf *b, uint8_t v) { w_put(b, &v, 1); }

static void w_uvar(wbuf *b, uint64_t v) {
  for (; v >= 0x80; v >>= 7) w_u8(b, (uint8_t)(v | 0x80));
  w_u8(b, (uint8_t)v);
}

static void w_field(wbuf *b, int *last, int id, int type) {
  assert(id > *last && id - *last <= 15);
  w_u8(b, (uint8_t)((id - *last) << 4 | type));
  *last = id;
}

static void w_int(wbuf *b, int *last, int id, int type, int64_t v) {
  w_field(b, last, id, type);
  w_uvar(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void w_str(wbuf *b, const char *s) {
  w_uvar(b, strlen(s));
  w_put(b, s, strlen(s));
}

static void w_list(wbuf *b, int *last, int id, int elem, size_t n) {
  w_field(b, last, id, PQ_T_LIST);
  if (n < 15) {
    w_u8(b, (uint8_t)(n << 4 | elem));
  } else {
    w_u8(b, (uint8_t)(0xf0 | elem));
    w_uvar(b, n);
  }
}

static void w_stop(wbuf *b) { w_u8(b, PQ_T_STOP); }

/* ------------------------------------------------------------- columns */

/* How one dtype is stored. */
typedef struct wtype {
  int type;       /* physical */
  size_t pw;      /* bytes per stored value (BOOLEAN: bits, see page_values) */
  int bits;       /* LogicalType INTEGER width; 0 for none */
  bool sign;
  bool half;      /* FLOAT16 */
} wtype;

static bool wtype_of(sl_dtype dt, wtype *t) {
  memset(t, 0, sizeof *t);
  switch (dt) {
    case SL_BOOL: t->type = PQ_BOOLEAN; t->pw = 1; return true;
    case SL_INT8: case SL_INT16: case SL_UINT8: case SL_UINT16: case SL_UINT32:
      t->type = PQ_INT32;
      t->pw = 4;
      t->bits = (int)sl_dtype_size(dt) * 8;
      t->sign = dt == SL_INT8 || dt == SL_INT16;
      return true;
    case SL_INT32: t->type = PQ_INT32; t->pw = 4; return true;
    case SL_INT64: t->type = PQ_INT64; t->pw = 8; return true;
    case SL_UINT64: t->type = PQ_INT64; t->pw = 8; t->bits = 64; return true;
    case SL_FLOAT16: t->type = PQ_FLBA; t->pw = 2; t->half = true; return true;
    case SL_FLOAT32: t->type = PQ_FLOAT; t->pw = 4; return true;
    case SL_FLOAT64: t->type = PQ_DOUBLE; t->pw = 8; return true;
    default: return false;
  }
}

/* UINT_8, UINT_16, UINT_32, UINT_64, then INT_8 ... INT_64. */
static int converted_of(const wtype *t) {
  int k = pq_bit_width((uint32_t)t->bits) - 4; /* 8 -> 0, 16 -> 1, 32 -> 2, 64 -> 3 */
  return PQ_CT_UINT_8 + (t->sign ? 4 : 0) + k;
}

static void w_schema(wbuf *b, int *last, const wtype *t, int64_t ncols) {
  w_list(b, last, 2, PQ_T_STRUCT, (size_t)ncols + 1);
  int l = 0;
  w_field(b, &l, 4, PQ_T_BINARY);
  w_str(b, "schema");
  w_int(b, &l, 5, PQ_T_I32, ncols);
  w_stop(b);
  for (int64_t c = 0; c < ncols; c++) {
    char name[32];
    snprintf(name, sizeof name, "c%lld", (long long)c);
    l = 0;
    w_int(b, &l, 1, PQ_T_I32, t->type);
    if (t->half) w_int(b, &l, 2, PQ_T_I32, 2);
    w_int(b, &l, 3, PQ_T_I32, PQ_REQUIRED);
    w_field(b, &l, 4, PQ_T_BINARY);
    w_str(b, name);
    if (t->bits) /* the ConvertedType too: some readers look only at it */
      w_int(b, &l, 6, PQ_T_I32, converted_of(t));
    if (t->bits || t->half) {
      int lu = 0, li = 0;
      w_field(b, &l, 10, PQ_T_STRUCT);
      w_field(b, &lu, t->half ? PQ_LT_FLOAT16 : PQ_LT_INTEGER, PQ_T_STRUCT);
      if (t->bits) {
        w_field(b, &li, 1, PQ_T_BYTE);
        w_u8(b, (uint8_t)t->bits);
        w_field(b, &li, 2, t->sign ? PQ_T_TRUE : PQ_T_FALSE);
      }
      w_stop(b);
      w_stop(b);
    }
    w_stop(b);
  }
}

/* ---------------------------------------------------------------- pages */

typedef struct wfile {
  const char *path;
  int fd;
  int64_t off;
  sl_dtype dtype;
  wtype t;
  int64_t rows, ncols;
  const uint8_t *data;
  wbuf page, meta;
  sl_error *err;
} wfile;

/* Values of column c, rows [r0, r1), as PLAIN bytes appended to b. */
static void page_values(const wfile *w, int64_t c, int64_t r0, int64_t r1, wbuf *b) {
  size_t es = sl_dtype_size(w->dtype), rb = es * (size_t)w->ncols;
  const uint8_t *src = w->data + (size_t)r0 * rb + (size_t)c * es;
  if (w->t.type == PQ_BOOLEAN) {
    uint8_t byte = 0;
    for (int64_t r = r0; r < r1; r++, src += rb) {
      byte |= (uint8_t)((*src != 0) << ((r - r0) & 7));
      if (((r - r0) & 7) == 7 || r + 1 == r1) {
        w_u8(b, byte);
        byte = 0;
      }
    }
    return;
  }
  for (int64_t r = r0; r < r1; r++, src += rb) {
    int64_t v = 0;
    if (w->t.type == PQ_INT32 && es < 4) { /* widen, keeping the sign */
      if (es == 1) v = w->t.sign ? (int64_t)(int8_t)*src : (int64_t)*src;
      else {
        uint16_t u;
        memcpy(&u, src, 2);
        v = w->t.sign ? (int64_t)(int16_t)u : (int64_t)u;
      }
      int32_t x = (int32_t)v;
      w_put(b, &x, 4);
    } else {
      w_put(b, src, es);
    }
  }
}

static sl_status flush(wfile *w, const wbuf *b) {
  if (b->oom) SL_FAIL(w->err, SL_ENOMEM, "%s: out of memory writing Parquet", w->path);
  SL_TRY(sl__pwrite_full(w->fd, w->path, b->p, b->n, w->off, w->err));
  w->off += (int64_t)b->n;
  return SL_OK;
}

/* One data page: its header, then the values. */
static sl_status write_page(wfile *w, int64_t c, int64_t r0, int64_t r1) {
  wbuf vals = {0};
  page_values(w, c, r0, r1, &vals);
  w->page.n = 0;
  int last = 0, l = 0;
  w_int(&w->page, &last, 1, PQ_T_I32, PQ_DATA_PAGE);
  w_int(&w->page, &last, 2, PQ_T_I32, (int64_t)vals.n);
  w_int(&w->page, &last, 3, PQ_T_I32, (int64_t)vals.n);
  w_field(&w->page, &last, 5, PQ_T_STRUCT);
  w_int(&w->page, &l, 1, PQ_T_I32, r1 - r0);
  w_int(&w->page, &l, 2, PQ_T_I32, PQ_PLAIN);
  w_int(&w->page, &l, 3, PQ_T_I32, PQ_RLE);
  w_int(&w->page, &l, 4, PQ_T_I32, PQ_RLE);
  w_stop(&w->page);
  w_stop(&w->page);
  w_put(&w->page, vals.p, vals.n);
  w->page.oom |= vals.oom;
  sl__free(vals.p);
  return flush(w, &w->page);
}

/* A column chunk of rows [r0, r1) and its ColumnChunk in the footer. */
static sl_status write_chunk(wfile *w, wbuf *m, int64_t c, int64_t r0, int64_t r1) {
  int64_t start = w->off;
  for (int64_t r = r0; r < r1; r += PQ_W_PAGE_ROWS)
    SL_TRY(write_page(w, c, r, SL_MIN(r1, r + PQ_W_PAGE_ROWS)));
  char name[32];
  snprintf(name, sizeof name, "c%lld", (long long)c);
  int last = 0, l = 0;
  w_int(m, &last, 2, PQ_T_I64, start);
  w_field(m, &last, 3, PQ_T_STRUCT);
  w_int(m, &l, 1, PQ_T_I32, w->t.type);
  w_list(m, &l, 2, PQ_T_I32, 1);
  w_uvar(m, PQ_PLAIN);
  w_list(m, &l, 3, PQ_T_BINARY, 1);
  w_str(m, name);
  w_int(m, &l, 4, PQ_T_I32, PQ_UNCOMPRESSED);
  w_int(m, &l, 5, PQ_T_I64, r1 - r0);
  w_int(m, &l, 6, PQ_T_I64, w->off - start);
  w_int(m, &l, 7, PQ_T_I64, w->off - start);
  w_int(m, &l, 9, PQ_T_I64, start);
  w_stop(m);
  w_stop(m);
  return SL_OK;
}

static sl_status write_groups(wfile *w, int *last) {
  w_int(&w->meta, last, 3, PQ_T_I64, w->rows);
  int64_t ngroups = (w->rows + PQ_W_GROUP_ROWS - 1) / PQ_W_GROUP_ROWS;
  w_list(&w->meta, last, 4, PQ_T_STRUCT, (size_t)ngroups);
  for (int64_t g = 0; g < ngroups; g++) {
    int64_t r0 = g * PQ_W_GROUP_ROWS, r1 = SL_MIN(w->rows, r0 + PQ_W_GROUP_ROWS);
    int l = 0;
    w_list(&w->meta, &l, 1, PQ_T_STRUCT, (size_t)w->ncols);
    int64_t start = w->off;
    for (int64_t c = 0; c < w->ncols; c++) SL_TRY(write_chunk(w, &w->meta, c, r0, r1));
    w_int(&w->meta, &l, 2, PQ_T_I64, w->off - start);
    w_int(&w->meta, &l, 3, PQ_T_I64, r1 - r0);
    w_stop(&w->meta);
  }
  w_field(&w->meta, last, 6, PQ_T_BINARY);
  w_str(&w->meta, "shardload version " SL_VERSION_STRING);
  w_stop(&w->meta);
  return SL_OK;
}

/* "PAR1", the chunks, FileMetaData, its length, "PAR1". */
static sl_status write_file(wfile *w) {
  SL_TRY(sl__pwrite_full(w->fd, w->path, "PAR1", 4, 0, w->err));
  w->off = 4;
  int last = 0;
  w_int(&w->meta, &last, 1, PQ_T_I32, 1);
  w_schema(&w->meta, &last, &w->t, w->ncols);
  SL_TRY(write_groups(w, &last));
  uint8_t tail[8];
  uint32_t len = (uint32_t)w->meta.n;
  if (w->meta.n > PQ_MAX_FOOTER) SL_FAIL(w->err, SL_EINVAL, "%s: Parquet footer too large", w->path);
  memcpy(tail, &len, 4);
  memcpy(tail + 4, "PAR1", 4);
  w_put(&w->meta, tail, 8);
  return flush(w, &w->meta);
}

sl_status sl__parquet_write(const char *path, sl_dtype dtype, int ndim, const int64_t *shape,
                            const void *data, sl_error *err) {
  wfile w = {.path = path, .dtype = dtype, .data = data, .err = err};
  if (!wtype_of(dtype, &w.t))
    SL_FAIL(err, SL_ENOTSUP, "%s: Parquet has no type for %s (expected bool, int8-64, "
            "uint8-64 or float16/32/64)", path, sl_dtype_str(dtype));
  if (ndim < 1 || ndim > 2 || shape[0] < 0 || (ndim == 2 && (shape[1] < 1 || shape[1] > 100000)))
    SL_FAIL(err, SL_EINVAL, "%s: a Parquet table holds rows x columns (1 to 100000 columns): "
            "expected 1 or 2 dimensions", path);
  w.rows = shape[0];
  w.ncols = ndim == 2 ? shape[1] : 1;
  SL_TRY(sl__open_write(path, &w.fd, err));
  sl_status st = write_file(&w);
  if (st == SL_OK) st = sl__truncate(w.fd, path, w.off, err);
  sl__close(w.fd);
  sl__free(w.page.p);
  sl__free(w.meta.p);
  return st;
}
