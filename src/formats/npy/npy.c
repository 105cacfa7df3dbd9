/* NumPy .npy driver (format versions 1.0, 2.0, 3.0).
 *
 * A file is the magic "\x93NUMPY", two version bytes, a little-endian header
 * length (2 bytes in 1.0, 4 in 2.0/3.0) and a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (10, 8), }, then the raw
 * data. The parser below accepts exactly that literal grammar, bounded by
 * SL_NPY_MAX_HEADER, and trusts no number from the file unchecked.
 *
 * C-order shards answer `extents` (one byte range per read, the generic pread
 * path does the rest); Fortran-order shards go through `read`, which gathers
 * the rows column by column and transposes them. Every header is read
 * through a byte source, so the fuzz target parses memory with this code.
 * open re-reads the header for the library to check against discovery.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base.h"

/* numpy itself refuses headers over 10000 bytes by default; allow more for
   very long shapes, but never an unbounded read. */
#define SL_NPY_MAX_HEADER (1 << 20)

enum { P_DATA_OFF, P_ROW_BYTES, P_FORTRAN, P_ELEM };

typedef struct npy_header {
  sl_dtype dtype;
  int swap;
  bool fortran;
  int ndim;
  int64_t shape[SL_MAX_DIMS];
  int64_t data_off;
  int64_t nbytes;
  int version;          /* the format's major version: 1, 2 or 3 (inspect) */
  char descr[32];       /* the dtype as stored ("<f8") */
} npy_header;

/* --------------------------------------------------- dict literal parser */

typedef struct cursor {
  const char *p, *end, *begin;
  const char *path;
  sl_error *err;
} cursor;

static void skip_ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static bool eat(cursor *c, char ch) {
  skip_ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}

static sl_status bad(cursor *c, const char *what) {
  SL_FAIL(c->err, SL_EFORMAT, "%s: npy header does not parse: %s at header byte %td", c->path,
          what, c->p - c->begin);
}

/* Reads a quoted string into buf (no escapes: npy keys and dtypes have none). */
static sl_status parse_str(cursor *c, char *buf, size_t cap) {
  skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return bad(c, "expected a string");
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || n + 1 >= cap) return bad(c, "string too long or escaped");
    buf[n++] = *c->p++;
  }
  if (c->p >= c->end) return bad(c, "unterminated string");
  c->p++;
  buf[n] = '\0';
  return SL_OK;
}

static sl_status parse_int(cursor *c, int64_t *out) {
  skip_ws(c);
  int64_t v = 0;
  const char *start = c->p;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    if (!sl__mul(v, 10, &v) || !sl__add(v, *c->p - '0', &v))
      SL_FAIL(c->err, SL_EFORMAT, "%s: npy shape dimension overflows 64 bits", c->path);
    c->p++;
  }
  if (c->p == start) return bad(c, "expected a non-negative integer in shape");
  /* Python 3 has no 04 (only 0, 00, ...): numpy's literal_eval refuses it */
  if (*start == '0' && v != 0) return bad(c, "integer with a leading zero in shape");
  if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 long */
  *out = v;
  return SL_OK;
}

static sl_status parse_shape(cursor *c, npy_header *h) {
  if (!eat(c, '(')) return bad(c, "shape is not a tuple");
  h->ndim = 0;
  while (!eat(c, ')')) {
    if (h->ndim == SL_MAX_DIMS)
      SL_FAIL(c->err, SL_EFORMAT, "%s: npy shape has more than %d dimensions", c->path,
              SL_MAX_DIMS);
    SL_TRY(parse_int(c, &h->shape[h->ndim++]));
    if (!eat(c, ',')) {
      if (!eat(c, ')')) return bad(c, "expected ',' or ')' in shape");
      /* Python: (4) is the number 4, not a tuple, and numpy refuses it */
      if (h->ndim == 1) return bad(c, "shape (N) is not a tuple (expected (N,))");
      break;
    }
  }
  return SL_OK;
}

static sl_status parse_bool(cursor *c, bool *out) {
  skip_ws(c);
  size_t left = (size_t)(c->end - c->p);
  if (left >= 4 && memcmp(c->p, "True", 4) == 0) {
    c->p += 4;
    *out = true;
  } else if (left >= 5 && memcmp(c->p, "False", 5) == 0) {
    c->p += 5;
    *out = false;
  } else {
    return bad(c, "fortran_order is not True or False");
  }
  return SL_OK;
}

static sl_status parse_descr(cursor *c, npy_header *h) {
  skip_ws(c);
  if (c->p < c->end && *c->p == '[')
    SL_FAIL(c->err, SL_EFORMAT,
            "%s: npy dtype is a structured (record) dtype, which cannot be loaded as one "
            "numeric array", c->path);
  char d[32];
  SL_TRY(parse_str(c, d, sizeof d));
  if (d[1] == 'O' || d[0] == 'O')
    SL_FAIL(c->err, SL_EFORMAT,
            "%s: npy dtype %s holds Python objects (pickled data), which cannot be loaded "
            "as numbers", c->path, d);
  if (d[0] != '<' && d[0] != '>' && d[0] != '|' && d[0] != '=')
    SL_FAIL(c->err, SL_EFORMAT, "%s: npy dtype '%s' has no byte-order mark", c->path, d);
  if (sl_dtype_parse(d, &h->dtype, &h->swap) != SL_OK)
    SL_FAIL(c->err, SL_EFORMAT, "%s: npy dtype '%s' is not supported (expected bool, "
            "int8-64, uint8-64, float16/32/64 or complex64/128)", c->path, d);
  memcpy(h->descr, d, sizeof h->descr);
  return SL_OK;
}

static sl_status parse_dict(cursor *c, npy_header *h) {
  bool seen[3] = {false, false, false};
  if (!eat(c, '{')) return bad(c, "expected '{'");
  while (!eat(c, '}')) {
    char key[32];
    SL_TRY(parse_str(c, key, sizeof key));
    if (!eat(c, ':')) return bad(c, "expected ':'");
    if (strcmp(key, "descr") == 0) {
      SL_TRY(parse_descr(c, h));
      seen[0] = true;
    } else if (strcmp(key, "fortran_order") == 0) {
      SL_TRY(parse_bool(c, &h->fortran));
      seen[1] = true;
    } else if (strcmp(key, "shape") == 0) {
      SL_TRY(parse_shape(c, h));
      seen[2] = true;
    } else {
      return bad(c, "unknown key");
    }
    if (!eat(c, ',')) {
      if (!eat(c, '}')) return bad(c, "expected ',' or '}'");
      break;
    }
  }
  if (!seen[0] || !seen[1] || !seen[2])
    SL_FAIL(c->err, SL_EFORMAT, "%s: npy header lacks the key '%s'", c->path,
            !seen[0] ? "descr" : !seen[1] ? "fortran_order" : "shape");
  return SL_OK;
}

/* After the dict, what Python would also ignore: blanks and a comment. */
static sl_status parse_rest(cursor *c) {
  skip_ws(c);
  if (c->p < c->end && *c->p == '#')
    while (c->p < c->end && *c->p != '\n') c->p++;
  skip_ws(c);
  return c->p == c->end ? SL_OK : bad(c, "text after the dict");
}

/* ---------------------------------------------------------- file header */

/* Magic, version and header length from the first (up to 12) bytes. */
static sl_status parse_prefix(const unsigned char *pre, size_t got, const char *path,
                              int64_t *hlen, int64_t *hstart, sl_error *err) {
  if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
    SL_FAIL(err, SL_EFORMAT, "%s: not an npy file (no \\x93NUMPY magic at the start)", path);
  unsigned major = pre[6];
  if (pre[7] != 0)
    SL_FAIL(err, SL_EFORMAT, "%s: npy format version %u.%u is not supported (expected 1.0, "
            "2.0 or 3.0)", path, major, pre[7]);
  if (major == 1) {
    *hlen = pre[8] | (pre[9] << 8);
    *hstart = 10;
  } else if (major == 2 || major == 3) {
    if (got < 12) SL_FAIL(err, SL_EFORMAT, "%s: npy file ends inside its header length", path);
    *hlen = (int64_t)pre[8] | ((int64_t)pre[9] << 8) | ((int64_t)pre[10] << 16) |
            ((int64_t)pre[11] << 24);
    *hstart = 12;
  } else {
    SL_FAIL(err, SL_EFORMAT, "%s: npy format version %u.%u is not supported (expected 1.0, "
            "2.0 or 3.0)", path, major, pre[7]);
  }
  if (*hlen > SL_NPY_MAX_HEADER)
    SL_FAIL(err, SL_EFORMAT, "%s: npy header length %lld exceeds the limit of %d bytes", path,
            (long long)*hlen, SL_NPY_MAX_HEADER);
  return SL_OK;
}

static sl_status check_sizes(const char *path, npy_header *h, int64_t file_size,
                             sl_error *err) {
  if (h->ndim == 0)
    SL_FAIL(err, SL_EFORMAT, "%s: holds a 0-d array (shape ()), which has no axis 0 to "
            "stack along", path);
  int64_t n = (int64_t)sl_dtype_size(h->dtype);
  bool empty = false; /* (2**62, 0) holds no bytes, whatever its row count */
  for (int i = 0; i < h->ndim; i++) empty = empty || h->shape[i] == 0;
  for (int i = 0; i < h->ndim && !empty; i++)
    if (!sl__mul(n, h->shape[i], &n))
      SL_FAIL(err, SL_EFORMAT, "%s: npy shape's byte size overflows 64 bits", path);
  if (empty) n = 0;
  int64_t end;
  if (!sl__add(h->data_off, n, &end))
    SL_FAIL(err, SL_EFORMAT, "%s: npy shape's byte size overflows 64 bits", path);
  if (end > file_size)
    SL_FAIL(err, SL_EFORMAT, "%s: file is %lld bytes but its header promises %lld (%lld "
            "data bytes after a %lld-byte header); expected %lld more bytes", path,
            (long long)file_size, (long long)end, (long long)n, (long long)h->data_off,
            (long long)(end - file_size));
  h->nbytes = n;
  return SL_OK;
}

/* The dict text, then the sizes it promises against the file's. */
static sl_status parse_text(const char *path, const char *text, int64_t hlen, int64_t hstart,
                            int64_t file_size, npy_header *h, sl_error *err) {
  cursor c = {text, text + hlen, text, path, err};
  if (memchr(text, '\0', (size_t)hlen) != NULL)
    SL_FAIL(err, SL_EFORMAT, "%s: npy header holds a NUL byte", path);
  SL_TRY(parse_dict(&c, h));
  SL_TRY(parse_rest(&c));
  h->data_off = hstart + hlen;
  return check_sizes(path, h, file_size, err);
}

/* One read covers the header of almost every file (numpy pads it to 64
   bytes, 128 in all for a few dimensions); longer ones take a second. */
#define SL_NPY_FIRST_READ 4096

static sl_status read_header(const sl_source *src, npy_header *h, sl_error *err) {
  memset(h, 0, sizeof *h);
  const char *path = sl_source_path(src);
  int64_t hlen = 0, hstart = 0, fsize = sl_source_size(src);
  char first[SL_NPY_FIRST_READ];
  size_t got;
  SL_TRY(sl_source_read_some(src, 0, sizeof first, first, &got, err));
  SL_TRY(parse_prefix((const unsigned char *)first, got, path, &hlen, &hstart, err));
  h->version = (unsigned char)first[6];
  if (hstart + hlen <= (int64_t)got)
    return parse_text(path, first + hstart, hlen, hstart, fsize, h, err);
  char *text = sl__malloc((size_t)hlen + 1);
  if (text == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for the npy header", path);
  sl_status st = sl_source_read(src, hstart, (size_t)hlen, text, err);
  if (st == SL_OK) st = parse_text(path, text, hlen, hstart, fsize, h, err);
  sl__free(text);
  return st;
}

static void describe(const npy_header *h, sl_shard_info *info) {
  info->dtype = h->dtype;
  info->ndim = h->ndim;
  memcpy(info->shape, h->shape, sizeof h->shape);
}

static sl_status npy_probe(const void *state, const sl_source *src, const char *member,
                           sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)state, (void)member;
  npy_header h;
  SL_TRY(read_header(src, &h, err));
  describe(&h, info);
  s->rows = h.shape[0];
  s->swap = h.swap;
  s->param[P_DATA_OFF] = (uint64_t)h.data_off;
  s->param[P_FORTRAN] = h.fortran && h.ndim > 1;
  s->param[P_ELEM] = sl_dtype_size(h.dtype);
  int64_t rb = (int64_t)sl_dtype_size(h.dtype); /* fits: check_sizes multiplied it all */
  for (int i = 1; i < h.ndim; i++) sl__mul(rb, h.shape[i], &rb);
  s->param[P_ROW_BYTES] = (uint64_t)rb;
  return SL_OK;
}

/* The header again, for the library to hold against discovery; where the
   data starts must not have moved either. */
static sl_status npy_open(const void *state, const sl_shard *s, const sl_source *src,
                          void **handle, sl_shard_info *info, sl_error *err) {
  (void)state;
  npy_header *h = sl__malloc(sizeof *h);
  if (h == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", s->path);
  sl_status st = read_header(src, h, err);
  if (st == SL_OK) describe(h, info);
  if (st == SL_OK && ((uint64_t)h->data_off != s->param[P_DATA_OFF] || h->swap != s->swap ||
                      (uint64_t)(h->fortran && h->ndim > 1) != s->param[P_FORTRAN]))
    st = sl__fail(err, SL_ECHANGED, "%s changed since the dataset was opened (its npy "
                  "header)", s->path);
  if (st != SL_OK) {
    sl__free(h);
    return st;
  }
  *handle = h;
  return SL_OK;
}

static void npy_close(void *handle) { sl__free(handle); }

static sl_status npy_extents(const sl_shard *s, const void *handle, int64_t lo, int64_t hi,
                             sl_extent *out, size_t *n, sl_error *err) {
  (void)err, (void)handle;
  if (s->param[P_FORTRAN]) {
    *n = 0;
    return SL_OK;
  }
  int64_t rb = (int64_t)s->param[P_ROW_BYTES];
  out[0].offset = (int64_t)s->param[P_DATA_OFF] + lo * rb;
  out[0].length = (hi - lo) * rb;
  *n = 1;
  return SL_OK;
}

/* Walks the trailing positions in Fortran order (the first trailing index
   fastest) and keeps each one's position in C order, without a division
   per step: c is where Fortran column j lands in a C-order row. */
typedef struct f_walk {
  int k;
  int64_t dims[SL_MAX_DIMS], cstride[SL_MAX_DIMS], idx[SL_MAX_DIMS];
  int64_t c;
} f_walk;

static void walk_start(f_walk *w, const int64_t *d, int k, int64_t j) {
  w->k = k;
  int64_t stride = 1;
  for (int i = k - 1; i >= 0; i--) {
    w->dims[i] = d[i];
    w->cstride[i] = stride;
    stride *= d[i];
  }
  w->c = 0;
  for (int i = 0; i < k; i++) {
    w->idx[i] = j % d[i];
    j /= d[i];
    w->c += w->idx[i] * w->cstride[i];
  }
}

static void walk_next(f_walk *w) {
  for (int i = 0; i < w->k; i++) {
    w->c += w->cstride[i];
    if (++w->idx[i] < w->dims[i]) return;
    w->c -= w->dims[i] * w->cstride[i];
    w->idx[i] = 0;
  }
}

/* Copies rows elements of es bytes from src (contiguous) to dst, stride
   apart: the scatter of one Fortran column into C-order rows. */
static inline void scatter(char *dst, const char *src, int64_t rows, size_t stride,
                           size_t es) {
  switch (es) {
#define SL_SCATTER(T)                                          \
  for (int64_t r = 0; r < rows; r++) {                         \
    T v;                                                       \
    memcpy(&v, src + (size_t)r * sizeof v, sizeof v);          \
    memcpy(dst + (size_t)r * stride, &v, sizeof v);            \
  }                                                            \
  return;
    case 1: SL_SCATTER(uint8_t)
    case 2: SL_SCATTER(uint16_t)
    case 4: SL_SCATTER(uint32_t)
    case 8: SL_SCATTER(uint64_t)
#undef SL_SCATTER
    default:
      for (int64_t r = 0; r < rows; r++) memcpy(dst + (size_t)r * stride, src + (size_t)r * es, es);
  }
}

/* Fortran order: for each trailing position j, rows [lo, hi) are contiguous in
   the file at (j*R + lo) elements. Two ways to turn that into C-order rows:
   - short columns (a few rows each, as in (2, 5000, 5000)): many columns at
     a time in one span of up to 4 MiB, the rows outside [lo, hi) included,
     instead of one pread per column (25 million of them there);
   - otherwise blocks of rows small enough that all their columns stay in
     the cache (256 KiB), each column's part of the block read with one
     pread, then transposed into the rows: a column at a time over the
     whole piece would sweep the destination once per column. */
#define SL_NPY_SPAN (4 << 20)
#define SL_NPY_BLOCK (256 << 10)
#define SL_NPY_MAX_MAPPED (1 << 16)

/* Where each Fortran column lands in a C-order row (elements). */
static int64_t *column_map(const npy_header *h, int64_t T) {
  int64_t *map = sl__malloc((size_t)T * sizeof *map);
  if (map == NULL) return NULL;
  f_walk w;
  walk_start(&w, h->shape + 1, h->ndim - 1, 0);
  for (int64_t j = 0; j < T; j++, walk_next(&w)) map[j] = w.c;
  return map;
}

/* rows x T elements from blk (column-major, n rows per column) into C rows. */
static void transpose(char *dst, const char *blk, int64_t n, int64_t T, const int64_t *map,
                      size_t es) {
  switch (es) {
#define SL_TRANSPOSE(U)                                                       \
  for (int64_t r = 0; r < n; r++) {                                           \
    char *row = dst + (size_t)(r * T) * sizeof(U);                            \
    for (int64_t j = 0; j < T; j++) {                                         \
      U v;                                                                    \
      memcpy(&v, blk + (size_t)(j * n + r) * sizeof(U), sizeof(U));           \
      memcpy(row + (size_t)map[j] * sizeof(U), &v, sizeof(U));                \
    }                                                                         \
  }                                                                           \
  return;
    case 1: SL_TRANSPOSE(uint8_t)
    case 2: SL_TRANSPOSE(uint16_t)
    case 4: SL_TRANSPOSE(uint32_t)
    case 8: SL_TRANSPOSE(uint64_t)
#undef SL_TRANSPOSE
    default:
      for (int64_t r = 0; r < n; r++)
        for (int64_t j = 0; j < T; j++)
          memcpy(dst + (size_t)(r * T + map[j]) * es, blk + (size_t)(j * n + r) * es, es);
  }
}

static sl_status read_blocks(const sl_source *src, const npy_header *h, int64_t lo,
                             int64_t hi, int64_t T, char *dst, sl_error *err) {
  size_t es = sl_dtype_size(h->dtype);
  int64_t R = h->shape[0], B = SL_MIN(SL_MAX(SL_NPY_BLOCK / (T * (int64_t)es), 1), hi - lo);
  char *blk = sl__malloc((size_t)(B * T) * es);
  int64_t *map = column_map(h, T);
  sl_status st = blk && map ? SL_OK : sl__fail(err, SL_ENOMEM, "%s: out of memory",
                                               sl_source_path(src));
  for (int64_t r0 = lo; r0 < hi && st == SL_OK; r0 += B) {
    int64_t n = SL_MIN(B, hi - r0);
    for (int64_t j = 0; j < T && st == SL_OK; j++)
      st = sl_source_read(src, h->data_off + (j * R + r0) * (int64_t)es, (size_t)n * es,
                          blk + (size_t)(j * n) * es, err);
    if (st == SL_OK) transpose(dst + (size_t)((r0 - lo) * T) * es, blk, n, T, map, es);
  }
  sl__free(blk);
  sl__free(map);
  return st;
}

static sl_status read_spans(const sl_source *src, const npy_header *h, int64_t lo,
                            int64_t hi, int64_t T, char *dst, sl_error *err) {
  size_t es = sl_dtype_size(h->dtype);
  int64_t rows = hi - lo, R = h->shape[0];
  int64_t col = R * (int64_t)es, want = rows * (int64_t)es;
  int64_t per = SL_MIN(SL_MAX((SL_NPY_SPAN - want) / col + 1, 1), T); /* columns per read */
  char *buf = sl__malloc((size_t)((per - 1) * col + want));
  if (buf == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", sl_source_path(src));
  sl_status st = SL_OK;
  size_t stride = (size_t)T * es;
  f_walk w;
  walk_start(&w, h->shape + 1, h->ndim - 1, 0);
  for (int64_t j0 = 0; j0 < T && st == SL_OK; j0 += per) {
    int64_t n = SL_MIN(per, T - j0);
    int64_t off = h->data_off + (j0 * R + lo) * (int64_t)es;
    st = sl_source_read(src, off, (size_t)((n - 1) * col + want), buf, err);
    for (int64_t j = 0; j < n && st == SL_OK; j++, walk_next(&w))
      scatter(dst + (size_t)w.c * es, buf + (size_t)(j * col), rows, stride, es);
  }
  sl__free(buf);
  return st;
}

static sl_status read_fortran(const sl_source *src, const npy_header *h, int64_t lo,
                              int64_t hi, char *dst, sl_error *err) {
  int64_t T = 1, es = (int64_t)sl_dtype_size(h->dtype);
  for (int i = 1; i < h->ndim; i++)
    if (h->shape[i] == 0) return SL_OK; /* rows of no bytes: nothing to read */
  for (int i = 1; i < h->ndim; i++) /* rows that hold bytes were checked to fit at probe */
    if (!sl__mul(T, h->shape[i], &T)) return sl__fail(err, SL_EFORMAT, "%s: rows overflow",
                                                      sl_source_path(src));
  int64_t col = h->shape[0] * es, want = (hi - lo) * es;
  /* very wide rows: the column map and a pread per column would cost more */
  if ((col <= SL_MAX(4 * want, 16384) && col <= SL_NPY_SPAN) || T > SL_NPY_MAX_MAPPED)
    return read_spans(src, h, lo, hi, T, dst, err);
  return read_blocks(src, h, lo, hi, T, dst, err);
}

/* Only Fortran-order shards come here (C order answers extents): the
   header open kept says how the columns lie. */
static sl_status npy_read(const sl_shard *s, const void *handle, const sl_source *src,
                          int64_t lo, int64_t hi, void *dst, sl_error *err) {
  const npy_header *h = handle;
  assert(h != NULL && s->param[P_FORTRAN]);
  if (lo == hi) return SL_OK; /* zero rows may still have huge trailing dims */
  SL_TRY(read_fortran(src, h, lo, hi, dst, err));
  size_t es = sl_dtype_size(h->dtype);
  if (h->swap) sl__byteswap(dst, (size_t)((hi - lo) * (int64_t)s->param[P_ROW_BYTES]) / es, es,
                            h->dtype);
  return SL_OK;
}

/* For inspect: the header's facts and the read path they choose. */
static sl_status npy_inspect(const sl_shard *s, const void *handle, const sl_source *src,
                             char **json, sl_error *err) {
  (void)src;
  const npy_header *h = handle;
  bool fortran = s->param[P_FORTRAN] != 0;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "read_path", fortran ? "decoded" : "direct");
  cJSON_AddStringToObject(o, "read_note", fortran
                          ? "Fortran order: columns gathered and transposed by shardload"
                          : s->swap ? "C order: one byte range per read, straight into "
                                      "place, then byte-swapped"
                                    : "C order: one byte range per read, straight into place");
  cJSON_AddStringToObject(o, "stored", h->descr);
  cJSON_AddArrayToObject(o, "codecs");
  char v[8];
  snprintf(v, sizeof v, "%d.0", h->version);
  cJSON_AddStringToObject(o, "version", v);
  cJSON_AddStringToObject(o, "order", h->fortran ? "F" : "C");
  cJSON_AddStringToObject(o, "byte_order", sl_dtype_size(h->dtype) == 1 ? "not applicable"
                          : (h->descr[0] == '>') ? "big" : "little");
  cJSON_AddNumberToObject(o, "data_offset", (double)h->data_off);
  return sl__json_text(o, s->path, json, err);
}

static sl_status npy_write(const char *path, sl_dtype dtype, int ndim, const int64_t *shape,
                           const void *data, sl_error *err) {
  char hdr[1024];
  size_t hl;
  SL_TRY(sl__npy_header(dtype, ndim, shape, hdr, sizeof hdr, &hl, err));
  int64_t n = (int64_t)sl_dtype_size(dtype);
  for (int i = 0; i < ndim; i++)
    if (!sl__mul(n, shape[i], &n)) SL_FAIL(err, SL_EINVAL, "%s: array too large", path);
  /* path is the library's fresh temporary file: opened without following
     a link, never created here */
  int fd;
  SL_TRY(sl__open_write(path, &fd, err));
  sl_status st = sl__pwrite_full(fd, path, hdr, hl, 0, err);
  if (st == SL_OK) st = sl__pwrite_full(fd, path, data, (size_t)n, (int64_t)hl, err);
  sl__close(fd);
  return st;
}

static const char *const npy_ext[] = {".npy", NULL};

const sl_driver sl__npy_driver = {
    .name = "npy",
    .extensions = npy_ext,
    .abi = SL_DRIVER_ABI,
    .struct_size = sizeof(sl_driver),
    .probe = npy_probe,
    .open = npy_open,
    .close = npy_close,
    .extents = npy_extents,
    .read = npy_read,
    .write = npy_write,
    .inspect = npy_inspect,
};
