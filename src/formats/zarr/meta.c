/* Zarr metadata: .zarray (v2) and zarr.json (v3) into one zarr_array.
 * Every number from the file is range-checked before use; what this
 * driver cannot apply (a filter, a codec, an object dtype) is refused
 * naming the array and the thing. */
#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zarr.h"

static bool native_big(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 0;
}

/* A JSON list of n positive integers (extents, chunk shapes). */
static sl_status int_list(const cJSON *j, const char *dir, const char *what, bool positive,
                          int64_t *out, int *n, sl_error *err) {
  if (!cJSON_IsArray(j))
    SL_FAIL(err, SL_EFORMAT, "%s: Zarr metadata has no list '%s'", dir, what);
  int k = cJSON_GetArraySize(j);
  if (k < 1 || k > SL_MAX_DIMS)
    SL_FAIL(err, SL_EFORMAT, "%s: '%s' has %d entries (a loadable array has 1 to %d axes)",
            dir, what, k, SL_MAX_DIMS);
  for (int i = 0; i < k; i++) {
    const cJSON *e = cJSON_GetArrayItem(j, i);
    double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
    if (v != floor(v) || v < (positive ? 1 : 0) || v > 9.0e15)
      SL_FAIL(err, SL_EFORMAT, "%s: '%s' entry %d is not a %s integer", dir, what, i,
              positive ? "positive" : "non-negative");
    out[i] = (int64_t)v;
  }
  *n = k;
  return SL_OK;
}

/* ------------------------------------------------------------ fill value */

static void put_value(sl_dtype t, double re, double im, uint8_t *out) {
  memset(out, 0, 16);
  switch (t) {
#define SL__PUT(T, ctype)          \
  case T: {                        \
    ctype v = (ctype)re;           \
    memcpy(out, &v, sizeof v);     \
    break;                         \
  }
    SL__PUT(SL_INT8, int8_t)
    SL__PUT(SL_INT16, int16_t)
    SL__PUT(SL_INT32, int32_t)
    SL__PUT(SL_INT64, int64_t)
    SL__PUT(SL_UINT8, uint8_t)
    SL__PUT(SL_UINT16, uint16_t)
    SL__PUT(SL_UINT32, uint32_t)
    SL__PUT(SL_UINT64, uint64_t)
    SL__PUT(SL_FLOAT32, float)
    SL__PUT(SL_FLOAT64, double)
#undef SL__PUT
    case SL_BOOL: out[0] = re != 0; break;
    case SL_FLOAT16: {
      uint16_t h = sl__half_from_float((float)re);
      memcpy(out, &h, 2);
      break;
    }
    case SL_COMPLEX64: {
      float v[2] = {(float)re, (float)im};
      memcpy(out, v, sizeof v);
      break;
    }
    case SL_COMPLEX128: {
      double v[2] = {re, im};
      memcpy(out, v, sizeof v);
      break;
    }
    default: break;
  }
}

static bool is_int(sl_dtype t) { return t >= SL_INT8 && t <= SL_UINT64; }

/* Whether the integer v fits dtype t (an integer type): [lo, hi) as
   doubles, exact powers of two at both ends. */
static bool int_fits(sl_dtype t, double v) {
  static const struct {
    sl_dtype t;
    double lo, hi;
  } r[] = {{SL_INT8, -0x1p7, 0x1p7},   {SL_INT16, -0x1p15, 0x1p15},
           {SL_INT32, -0x1p31, 0x1p31}, {SL_INT64, -0x1p63, 0x1p63},
           {SL_UINT8, 0, 0x1p8},        {SL_UINT16, 0, 0x1p16},
           {SL_UINT32, 0, 0x1p32},      {SL_UINT64, 0, 0x1p64}};
  for (size_t i = 0; i < SL_ARRAY_LEN(r); i++)
    if (r[i].t == t) return v >= r[i].lo && v < r[i].hi;
  return false;
}

/* A finite double beyond float's range becomes an infinity, as numpy's
   float32() makes it (the C conversion is undefined there). */
static double as_float32(double v) {
  if (isfinite(v) && fabs(v) > FLT_MAX) return v > 0 ? INFINITY : -INFINITY;
  return v;
}

/* One number: JSON number, "NaN", "Infinity", "-Infinity", or (v3) a hex
   bit pattern "0x..." (then *bits is set). */
static sl_status one_number(const cJSON *j, const char *dir, double *v, bool *bits,
                            uint64_t *pattern, sl_error *err) {
  *bits = false;
  if (cJSON_IsNumber(j)) {
    *v = j->valuedouble;
    return SL_OK;
  }
  if (cJSON_IsBool(j)) {
    *v = cJSON_IsTrue(j) ? 1 : 0;
    return SL_OK;
  }
  if (cJSON_IsString(j)) {
    const char *s = j->valuestring;
    if (strcmp(s, "NaN") == 0) *v = NAN;
    else if (strcmp(s, "Infinity") == 0) *v = INFINITY;
    else if (strcmp(s, "-Infinity") == 0) *v = -INFINITY;
    else if (strncmp(s, "0x", 2) == 0 && strlen(s) > 2 && strlen(s) <= 18) {
      char *end;
      *pattern = strtoull(s + 2, &end, 16);
      if (*end != '\0') SL_FAIL(err, SL_EFORMAT, "%s: fill_value '%s' is not hex", dir, s);
      *bits = true;
    } else
      SL_FAIL(err, SL_ENOTSUP, "%s: fill_value '%s' is not a number this driver reads "
              "(base64 fill values belong to byte-string and structured dtypes)", dir, s);
    return SL_OK;
  }
  SL_FAIL(err, SL_EFORMAT, "%s: fill_value is neither a number nor a string", dir);
}

/* Base64 text into at most cap bytes; @return the count, -1 if not base64. */
static int base64(const char *s, uint8_t *out, size_t cap) {
  static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *s && *s != '='; s++) {
    const char *c = strchr(al, *s);
    if (c == NULL || *s == '\0') return -1;
    acc = acc << 6 | (uint32_t)(c - al);
    if ((bits += 6) >= 8) {
      bits -= 8;
      if (n == cap) return -1;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return (int)n;
}

static bool special_text(const char *s) {
  return strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0 ||
         strncmp(s, "0x", 2) == 0;
}

static sl_status parse_fill(const cJSON *j, zarr_array *a, sl_error *err) {
  memset(a->fill, 0, sizeof a->fill);
  if (j == NULL || cJSON_IsNull(j)) {
    a->fill_zero = true;
    return SL_OK;
  }
  /* v2 writes some fill values as the element's bytes in base64 */
  if (cJSON_IsString(j) && !special_text(j->valuestring)) {
    uint8_t raw[16];
    if (base64(j->valuestring, raw, sizeof raw) != (int)a->esize)
      SL_FAIL(err, SL_ENOTSUP, "%s: fill_value '%s' is neither a number nor base64 of one %s",
              a->dir, j->valuestring, sl_dtype_str(a->dtype));
    if (a->chunk.swap) sl__byteswap(raw, 1, a->esize, a->dtype);
    memcpy(a->fill, raw, a->esize);
    a->fill_zero = true;
    for (size_t i = 0; i < a->esize; i++) a->fill_zero &= a->fill[i] == 0;
    return SL_OK;
  }
  double re = 0, im = 0;
  bool bits = false;
  uint64_t pat = 0;
  bool cplx = a->dtype == SL_COMPLEX64 || a->dtype == SL_COMPLEX128;
  if (cplx && cJSON_IsArray(j) && cJSON_GetArraySize(j) == 2) {
    bool b2;
    uint64_t p2;
    SL_TRY(one_number(cJSON_GetArrayItem(j, 0), a->dir, &re, &b2, &p2, err));
    SL_TRY(one_number(cJSON_GetArrayItem(j, 1), a->dir, &im, &b2, &p2, err));
  } else {
    SL_TRY(one_number(j, a->dir, &re, &bits, &pat, err));
  }
  if (bits) {
    memcpy(a->fill, &pat, SL_MIN(a->esize, sizeof pat)); /* little-endian host */
  } else {
    if (is_int(a->dtype) && (re != floor(re) || isnan(re)))
      SL_FAIL(err, SL_EFORMAT, "%s: fill_value %g is not an integer for dtype %s", a->dir, re,
              sl_dtype_str(a->dtype));
    if (is_int(a->dtype) && !int_fits(a->dtype, re))
      SL_FAIL(err, SL_EFORMAT, "%s: fill_value %g is outside the range of dtype %s", a->dir,
              re, sl_dtype_str(a->dtype));
    bool single = a->dtype == SL_FLOAT32 || a->dtype == SL_COMPLEX64 || a->dtype == SL_FLOAT16;
    put_value(a->dtype, single ? as_float32(re) : re, single ? as_float32(im) : im, a->fill);
  }
  a->fill_zero = true;
  for (size_t i = 0; i < a->esize; i++) a->fill_zero &= a->fill[i] == 0;
  return SL_OK;
}

/* ------------------------------------------------------------------ v2 */

static sl_status v2_compressor(const cJSON *c, zarr_array *a, sl_error *err) {
  if (c == NULL || cJSON_IsNull(c)) return SL_OK;
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "id");
  if (!cJSON_IsString(id)) SL_FAIL(err, SL_EFORMAT, "%s: compressor has no id", a->dir);
  static const struct {
    const char *id;
    zarr_bb bb;
  } known[] = {{"blosc", ZB_BLOSC}, {"zstd", ZB_ZSTD}, {"gzip", ZB_GZIP},
               {"zlib", ZB_ZLIB},   {"lz4", ZB_LZ4},   {"bz2", ZB_BZ2}};
  for (size_t i = 0; i < SL_ARRAY_LEN(known); i++)
    if (strcmp(id->valuestring, known[i].id) == 0) {
      a->chunk.bb[a->chunk.nbb++] = known[i].bb;
      return SL_OK;
    }
  SL_FAIL(err, SL_ENOTSUP, "%s: compressor '%s' is not one this driver decodes (blosc, zstd, "
          "gzip, zlib, lz4, bz2)", a->dir, id->valuestring);
}

static sl_status v2_filters(const cJSON *f, const char *dir, sl_error *err) {
  if (f == NULL || cJSON_IsNull(f) || (cJSON_IsArray(f) && cJSON_GetArraySize(f) == 0))
    return SL_OK;
  char names[256] = "";
  size_t k = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, f) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
    k += (size_t)snprintf(names + k, k < sizeof names ? sizeof names - k : 0, "%s'%s'",
                          k ? ", " : "", cJSON_IsString(id) ? id->valuestring : "?");
    if (k >= sizeof names) break;
  }
  SL_FAIL(err, SL_ENOTSUP, "%s: filters %s cannot be applied by this driver (it applies no "
          "numcodecs filter)", dir, names);
}

static sl_status v2_dtype(const cJSON *j, zarr_array *a, sl_error *err) {
  if (!cJSON_IsString(j))
    SL_FAIL(err, SL_ENOTSUP, "%s: a structured dtype cannot be loaded as one numeric array",
            a->dir);
  const char *s = j->valuestring;
  size_t n = strlen(s);
  char kind = n >= 2 ? s[1] : '?';
  if (kind == 'O' || kind == 'U' || kind == 'S' || kind == 'V' || kind == 'M' || kind == 'm')
    SL_FAIL(err, SL_ENOTSUP, "%s: dtype %s (%s) is not numeric and cannot be loaded", a->dir, s,
            kind == 'O' ? "Python objects" : kind == 'U' || kind == 'S' ? "strings"
            : kind == 'V' ? "raw bytes" : "dates");
  int swap = 0;
  if (sl_dtype_parse(s, &a->dtype, &swap) != SL_OK)
    SL_FAIL(err, SL_ENOTSUP, "%s: dtype '%s' is not one this library loads", a->dir, s);
  a->chunk.swap = swap != 0;
  return SL_OK;
}

static sl_status parse_v2(const cJSON *r, zarr_array *a, sl_error *err) {
  const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(r, "zarr_format");
  if (!cJSON_IsNumber(fmt) || fmt->valuedouble != 2)
    SL_FAIL(err, SL_EFORMAT, "%s/.zarray: zarr_format is not 2", a->dir);
  SL_TRY(v2_dtype(cJSON_GetObjectItemCaseSensitive(r, "dtype"), a, err));
  a->esize = sl_dtype_size(a->dtype);
  int nd, nc;
  SL_TRY(int_list(cJSON_GetObjectItemCaseSensitive(r, "shape"), a->dir, "shape", false,
                  a->shape, &nd, err));
  SL_TRY(int_list(cJSON_GetObjectItemCaseSensitive(r, "chunks"), a->dir, "chunks", true,
                  a->chunk.cs, &nc, err));
  if (nc != nd)
    SL_FAIL(err, SL_EFORMAT, "%s: chunks has %d axes but shape %d", a->dir, nc, nd);
  a->nd = nd;
  const cJSON *order = cJSON_GetObjectItemCaseSensitive(r, "order");
  bool fortran = cJSON_IsString(order) && strcmp(order->valuestring, "F") == 0;
  if (cJSON_IsString(order) && !fortran && strcmp(order->valuestring, "C") != 0)
    SL_FAIL(err, SL_EFORMAT, "%s: order '%s' is neither C nor F", a->dir, order->valuestring);
  for (int k = 0; k < nd; k++) a->chunk.perm[k] = fortran ? nd - 1 - k : k;
  a->chunk.permuted = fortran && nd > 1;
  a->fortran = fortran;
  SL_TRY(v2_filters(cJSON_GetObjectItemCaseSensitive(r, "filters"), a->dir, err));
  SL_TRY(v2_compressor(cJSON_GetObjectItemCaseSensitive(r, "compressor"), a, err));
  const cJSON *sep = cJSON_GetObjectItemCaseSensitive(r, "dimension_separator");
  a->sep = '.';
  if (cJSON_IsString(sep)) {
    if (strcmp(sep->valuestring, "/") != 0 && strcmp(sep->valuestring, ".") != 0)
      SL_FAIL(err, SL_EFORMAT, "%s: dimension_separator '%s' is neither '.' nor '/'", a->dir,
              sep->valuestring);
    a->sep = sep->valuestring[0];
  }
  return parse_fill(cJSON_GetObjectItemCaseSensitive(r, "fill_value"), a, err);
}

/* ------------------------------------------------------------------ v3 */

static const char *v3_name(const cJSON *c) {
  const cJSON *n = cJSON_IsString(c) ? c : cJSON_GetObjectItemCaseSensitive(c, "name");
  return cJSON_IsString(n) ? n->valuestring : NULL;
}

static const cJSON *v3_conf(const cJSON *c, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "configuration"),
                                          key);
}

static sl_status v3_codecs(const cJSON *list, zarr_array *a, zarr_pipe *p, int depth,
                           sl_error *err);

static sl_status v3_transpose(const cJSON *c, zarr_array *a, zarr_pipe *p, sl_error *err) {
  const cJSON *o = v3_conf(c, "order");
  int q[SL_MAX_DIMS], n = 0;
  if (cJSON_IsString(o) && (strcmp(o->valuestring, "C") == 0 || strcmp(o->valuestring, "F") == 0)) {
    bool f = o->valuestring[0] == 'F';
    for (int k = 0; k < a->nd; k++) q[k] = f ? a->nd - 1 - k : k;
    n = a->nd;
  } else {
    int64_t v[SL_MAX_DIMS];
    SL_TRY(int_list(o, a->dir, "transpose order", false, v, &n, err));
    bool seen[SL_MAX_DIMS] = {false};
    for (int k = 0; k < n; k++) {
      if (n != a->nd || v[k] >= a->nd || seen[v[k]])
        SL_FAIL(err, SL_EFORMAT, "%s: transpose order is not a permutation of the %d axes",
                a->dir, a->nd);
      seen[v[k]] = true;
      q[k] = (int)v[k];
    }
  }
  int r[SL_MAX_DIMS]; /* this transpose after the ones before it */
  for (int k = 0; k < a->nd; k++) r[k] = p->perm[q[k]];
  memcpy(p->perm, r, sizeof r);
  p->permuted = false;
  for (int k = 0; k < a->nd; k++) p->permuted |= p->perm[k] != k;
  return SL_OK;
}

static sl_status v3_sharding(const cJSON *c, zarr_array *a, zarr_pipe *p, int depth,
                             sl_error *err) {
  if (depth > 0 || p != &a->chunk)
    SL_FAIL(err, SL_ENOTSUP, "%s: nested sharding_indexed is not supported", a->dir);
  a->sharded = true;
  int n;
  SL_TRY(int_list(v3_conf(c, "chunk_shape"), a->dir, "sharding chunk_shape", true,
                  a->inner.cs, &n, err));
  if (n != a->nd) SL_FAIL(err, SL_EFORMAT, "%s: inner chunk_shape has %d axes", a->dir, n);
  if (p->permuted)
    SL_FAIL(err, SL_ENOTSUP, "%s: a transpose before sharding_indexed is not supported", a->dir);
  a->ninner = 1;
  for (int k = 0; k < n; k++) {
    if (a->chunk.cs[k] % a->inner.cs[k] != 0)
      SL_FAIL(err, SL_EFORMAT, "%s: shard shape is not a multiple of the inner chunk shape on "
              "axis %d", a->dir, k);
    a->inner_grid[k] = a->chunk.cs[k] / a->inner.cs[k];
    if (!sl__mul(a->ninner, a->inner_grid[k], &a->ninner) || a->ninner > (1 << 26))
      SL_FAIL(err, SL_EFORMAT, "%s: too many inner chunks per shard", a->dir);
  }
  for (int k = 0; k < n; k++) a->inner.perm[k] = a->index.perm[k] = k;
  SL_TRY(v3_codecs(v3_conf(c, "codecs"), a, &a->inner, depth + 1, err));
  SL_TRY(v3_codecs(v3_conf(c, "index_codecs"), a, &a->index, depth + 1, err));
  for (int i = 0; i < a->index.nbb; i++)
    if (a->index.bb[i] != ZB_CRC32C)
      SL_FAIL(err, SL_ENOTSUP, "%s: index_codecs other than bytes and crc32c", a->dir);
  const cJSON *loc = v3_conf(c, "index_location");
  a->index_end = !(cJSON_IsString(loc) && strcmp(loc->valuestring, "start") == 0);
  return SL_OK;
}

static sl_status v3_codecs(const cJSON *list, zarr_array *a, zarr_pipe *p, int depth,
                           sl_error *err) {
  if (!cJSON_IsArray(list)) SL_FAIL(err, SL_EFORMAT, "%s: zarr.json has no codecs list", a->dir);
  bool bytes = false;
  const cJSON *c;
  cJSON_ArrayForEach(c, list) {
    const char *name = v3_name(c);
    if (name == NULL) SL_FAIL(err, SL_EFORMAT, "%s: a codec without a name", a->dir);
    if (strcmp(name, "transpose") == 0 && !bytes) {
      SL_TRY(v3_transpose(c, a, p, err));
    } else if ((strcmp(name, "bytes") == 0 || strcmp(name, "endian") == 0) && !bytes) {
      const cJSON *e = v3_conf(c, "endian");
      bool big = cJSON_IsString(e) && strcmp(e->valuestring, "big") == 0;
      p->swap = a->esize > 1 && big != native_big();
      bytes = true;
    } else if (strcmp(name, "sharding_indexed") == 0 && !bytes) {
      SL_TRY(v3_sharding(c, a, p, depth, err));
      bytes = true;
    } else if (bytes && p->nbb < ZARR_MAX_BB &&
               (strcmp(name, "blosc") == 0 || strcmp(name, "zstd") == 0 ||
                strcmp(name, "gzip") == 0 || strcmp(name, "crc32c") == 0)) {
      p->bb[p->nbb++] = name[0] == 'b' ? ZB_BLOSC : name[0] == 'z' ? ZB_ZSTD
                        : name[0] == 'g' ? ZB_GZIP : ZB_CRC32C;
    } else {
      SL_FAIL(err, SL_ENOTSUP, "%s: codec '%s' %s", a->dir, name,
              bytes ? "is not one this driver decodes (blosc, zstd, gzip, crc32c)"
                    : "is not supported before the bytes codec (transpose, bytes, "
                      "sharding_indexed are)");
    }
  }
  if (!bytes) SL_FAIL(err, SL_EFORMAT, "%s: codecs has no bytes codec", a->dir);
  return SL_OK;
}

static sl_status parse_v3(const cJSON *r, zarr_array *a, sl_error *err) {
  const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(r, "zarr_format");
  if (!cJSON_IsNumber(fmt) || fmt->valuedouble != 3)
    SL_FAIL(err, SL_EFORMAT, "%s/zarr.json: zarr_format is not 3", a->dir);
  const cJSON *nt = cJSON_GetObjectItemCaseSensitive(r, "node_type");
  if (!cJSON_IsString(nt) || strcmp(nt->valuestring, "array") != 0)
    SL_FAIL(err, SL_ELAYOUT, "%s: is a Zarr group, not an array; choose its arrays with option "
            "dataset (e.g. '/shards/*')", a->dir);
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(r, "data_type");
  int swap = 0;
  if (!cJSON_IsString(dt) || sl_dtype_parse(dt->valuestring, &a->dtype, &swap) != SL_OK)
    SL_FAIL(err, SL_ENOTSUP, "%s: data_type %s is not numeric and cannot be loaded", a->dir,
            cJSON_IsString(dt) ? dt->valuestring : "(not a name)");
  a->esize = sl_dtype_size(a->dtype);
  int nd, nc;
  SL_TRY(int_list(cJSON_GetObjectItemCaseSensitive(r, "shape"), a->dir, "shape", false,
                  a->shape, &nd, err));
  const cJSON *grid = cJSON_GetObjectItemCaseSensitive(r, "chunk_grid");
  const char *gname = v3_name(grid);
  if (gname == NULL || strcmp(gname, "regular") != 0)
    SL_FAIL(err, SL_ENOTSUP, "%s: chunk_grid '%s' is not regular", a->dir,
            gname ? gname : "?");
  SL_TRY(int_list(v3_conf(grid, "chunk_shape"), a->dir, "chunk_shape", true, a->chunk.cs, &nc,
                  err));
  if (nc != nd)
    SL_FAIL(err, SL_EFORMAT, "%s: chunk_shape has %d axes but shape %d", a->dir, nc, nd);
  a->nd = nd;
  for (int k = 0; k < nd; k++) a->chunk.perm[k] = k;
  const cJSON *kenc = cJSON_GetObjectItemCaseSensitive(r, "chunk_key_encoding");
  const char *kname = kenc ? v3_name(kenc) : "default";
  if (kname == NULL || (strcmp(kname, "default") != 0 && strcmp(kname, "v2") != 0))
    SL_FAIL(err, SL_ENOTSUP, "%s: chunk_key_encoding '%s'", a->dir, kname ? kname : "?");
  a->key_c = strcmp(kname, "default") == 0;
  a->sep = a->key_c ? '/' : '.';
  const cJSON *sep = v3_conf(kenc, "separator");
  if (cJSON_IsString(sep)) {
    if (strcmp(sep->valuestring, "/") != 0 && strcmp(sep->valuestring, ".") != 0)
      SL_FAIL(err, SL_EFORMAT, "%s: chunk key separator '%s'", a->dir, sep->valuestring);
    a->sep = sep->valuestring[0];
  }
  SL_TRY(v3_codecs(cJSON_GetObjectItemCaseSensitive(r, "codecs"), a, &a->chunk, 0, err));
  return parse_fill(cJSON_GetObjectItemCaseSensitive(r, "fill_value"), a, err);
}

int64_t sl__zarr_chunk_bytes(const zarr_array *a, const zarr_pipe *p) {
  int64_t n = (int64_t)a->esize;
  for (int k = 0; k < a->nd; k++)
    if (!sl__mul(n, p->cs[k], &n)) return -1;
  return n;
}

/* What inspect shows as the file says it: the codec chain with every
   parameter (levels, shuffles, inner codecs) and the fill value. */
static void keep_for_inspect(const cJSON *r, zarr_array *a) {
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(r, a->version == 2 ? "compressor" : "codecs");
  cJSON *chain = a->version == 3 ? cJSON_Duplicate(c, true) : cJSON_CreateArray();
  if (a->version == 2 && chain != NULL && c != NULL && !cJSON_IsNull(c))
    cJSON_AddItemToArray(chain, cJSON_Duplicate(c, true));
  a->codec_json = chain != NULL ? cJSON_PrintUnformatted(chain) : NULL;
  cJSON_Delete(chain);
  const cJSON *fill = cJSON_GetObjectItemCaseSensitive(r, "fill_value");
  a->fill_json = fill != NULL ? cJSON_PrintUnformatted(fill) : NULL;
}

sl_status sl__zarr_parse(const char *text, size_t n, int version, const char *dir,
                         zarr_array *out, sl_error *err) {
  memset(out, 0, sizeof *out);
  out->version = version;
  if ((out->dir = sl__strdup(dir)) == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", dir);
  cJSON *r = cJSON_ParseWithLength(text, n);
  sl_status st;
  if (r == NULL || !cJSON_IsObject(r))
    st = sl__fail(err, SL_EFORMAT, "%s/%s: not a JSON object", dir,
                  version == 2 ? ".zarray" : "zarr.json");
  else
    st = version == 2 ? parse_v2(r, out, err) : parse_v3(r, out, err);
  if (st == SL_OK) keep_for_inspect(r, out);
  cJSON_Delete(r);
  /* a codec this build lacks refuses discovery (inspect) as every read would */
  if (st == SL_OK) st = sl__zarr_codec_check(out, &out->chunk, err);
  if (st == SL_OK && out->sharded) st = sl__zarr_codec_check(out, &out->inner, err);
  /* decoded chunks must fit a buffer: limit one chunk to 4 GiB */
  int64_t cb = sl__zarr_chunk_bytes(out, &out->chunk);
  if (st == SL_OK && (cb < 0 || cb > ((int64_t)1 << 32)) && !out->sharded)
    st = sl__fail(err, SL_EFORMAT, "%s: one chunk is larger than 4 GiB", dir);
  int64_t ib = sl__zarr_chunk_bytes(out, &out->inner);
  if (st == SL_OK && out->sharded && (ib < 0 || ib > ((int64_t)1 << 32)))
    st = sl__fail(err, SL_EFORMAT, "%s: one inner chunk is larger than 4 GiB", dir);
  if (st != SL_OK) sl__zarr_free(out);
  return st;
}

void sl__zarr_free(zarr_array *a) {
  sl__free(a->dir);
  a->dir = NULL;
  cJSON_free(a->codec_json);
  cJSON_free(a->fill_json);
  a->codec_json = a->fill_json = NULL;
}
