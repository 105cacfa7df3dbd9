/* Arrow record batch bodies -> rows of the result array.
 *
 * For rows [r0, r1) of a batch, each selected column's value buffer is read
 * (only the slice needed when uncompressed; whole and decompressed when the
 * batch uses BodyCompression, where each buffer is an 8-byte little-endian
 * uncompressed length, -1 meaning "stored as is", then the codec's bytes),
 * scattered into its place in the row-major destination, and then checked
 * against the validity bitmaps: a null is an error naming the file, column
 * and row, or is replaced by --fill-nulls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>
#include <zstd.h>

#include "flatbuf.h"
#include "ipc.h"

/* Room a decompressed buffer may take beyond what its values need: writers
   pad buffers (to 8 or 64 bytes). */
#define ARROW_SLACK 4096
/* parse_buffer decodes the rows only up to this size. */
#define ARROW_FUZZ_DECODE_MAX (16 << 20)

/* Bytes of one buffer, decompressed when needed. p points at the first byte
   asked for; mem is what to free. */
typedef struct slice {
  uint8_t *mem;
  const uint8_t *p;
} slice;

typedef struct reader {
  const arrow_file *f;
  const arrow_src *src;
  size_t esize;
  bool fill;
  uint8_t fill_value[8];
} reader;

/* ------------------------------------------------------------ codecs */

static sl_status lz4_frame(const reader *R, const uint8_t *in, size_t n, uint8_t *out,
                           size_t cap, size_t *got, sl_error *err) {
  LZ4F_dctx *ctx;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory for an LZ4 decoder", R->src->path);
  size_t in_pos = 0, r = 0;
  *got = 0;
  while (in_pos < n) { /* several frames may follow each other */
    size_t in_n = n - in_pos, out_n = cap - *got;
    r = LZ4F_decompress(ctx, out + *got, &out_n, in + in_pos, &in_n, NULL);
    if (LZ4F_isError(r) || (in_n == 0 && out_n == 0)) break;
    in_pos += in_n;
    *got += out_n;
  }
  LZ4F_freeDecompressionContext(ctx);
  if (LZ4F_isError(r) || in_pos < n || r != 0)
    SL_FAIL(err, SL_EFORMAT, "%s: Arrow buffer does not decompress as LZ4 frame: %s",
            R->src->path, LZ4F_isError(r) ? LZ4F_getErrorName(r) : "truncated or too long");
  return SL_OK;
}

static sl_status decompress(const reader *R, int codec, const uint8_t *in, size_t n,
                            uint8_t *out, size_t cap, size_t *got, sl_error *err) {
  if (codec == ARROW_CODEC_LZ4_FRAME) return lz4_frame(R, in, n, out, cap, got, err);
  *got = ZSTD_decompress(out, cap, in, n);
  if (ZSTD_isError(*got))
    SL_FAIL(err, SL_EFORMAT, "%s: Arrow buffer does not decompress as ZSTD: %s",
            R->src->path, ZSTD_getErrorName(*got));
  return SL_OK;
}

/* --------------------------------------------------------- buffer slices */

/* The 8-byte prefix should be the uncompressed length, but Arrow JS (21.x)
   writes the compressed one there; so apart from -1 it is not trusted: the
   output is sized by what the values need plus padding, and checked to cover
   the bytes asked for. */
static sl_status load_compressed(const reader *R, const arrow_batch *b, const sl_extent *e,
                                 int64_t from, int64_t n, int64_t full, slice *out,
                                 sl_error *err) {
  if (e->length < 8)
    SL_FAIL(err, SL_EFORMAT, "%s: compressed Arrow buffer of %lld bytes lacks its length "
            "prefix", R->src->path, (long long)e->length);
  uint8_t *raw = sl__malloc((size_t)e->length);
  if (raw == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", R->src->path);
  sl_status st = sl__arrow_src_read(R->src, b->body + e->offset, e->length, raw, err);
  int64_t ulen = st == SL_OK ? (int64_t)sl__fb_le64(raw) : 0;
  if (st != SL_OK || ulen == -1) { /* stored as is: use it in place */
    out->mem = raw;
    out->p = raw + 8 + from;
    if (st == SL_OK && e->length - 8 < from + n)
      st = sl__fail(err, SL_EFORMAT, "%s: Arrow buffer holds %lld bytes, expected %lld",
                    R->src->path, (long long)(e->length - 8), (long long)(from + n));
    if (st != SL_OK) sl__free(raw);
    return st;
  }
  size_t cap = (size_t)full + ARROW_SLACK, got = 0;
  out->mem = sl__malloc(cap > 0 ? cap : 1);
  if (out->mem == NULL) st = sl__fail(err, SL_ENOMEM, "%s: out of memory", R->src->path);
  else st = decompress(R, b->codec, raw + 8, (size_t)e->length - 8, out->mem, cap, &got,
                       err);
  sl__free(raw);
  if (st == SL_OK && (int64_t)got < from + n)
    st = sl__fail(err, SL_EFORMAT, "%s: Arrow buffer decompressed to %zu bytes, expected "
                  "%lld", R->src->path, got, (long long)(from + n));
  if (st != SL_OK) sl__free(out->mem);
  out->p = out->mem + from;
  return st;
}

/* Bytes [from, from + n) of buffer e of batch b; full is what the whole
   buffer needs to hold. */
static sl_status load(const reader *R, const arrow_batch *b, const sl_extent *e,
                      int64_t from, int64_t n, int64_t full, slice *out, sl_error *err) {
  out->mem = NULL;
  if (n == 0) {
    out->p = NULL;
    return SL_OK;
  }
  if (b->codec != ARROW_CODEC_NONE)
    return load_compressed(R, b, e, from, n, full, out, err);
  if (from + n > e->length)
    SL_FAIL(err, SL_EFORMAT, "%s: Arrow buffer of %lld bytes is too short (%lld needed)",
            R->src->path, (long long)e->length, (long long)(from + n));
  out->mem = sl__malloc((size_t)n);
  if (out->mem == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", R->src->path);
  out->p = out->mem;
  sl_status st = sl__arrow_src_read(R->src, b->body + e->offset + from, n, out->mem, err);
  if (st != SL_OK) sl__free(out->mem);
  return st;
}

/* Bits [first, first + n) of a bitmap buffer; *shift is first's bit in
   the first byte loaded. */
static sl_status load_bits(const reader *R, const arrow_batch *b, const sl_extent *e,
                           int64_t first, int64_t n, int64_t total, slice *out, int *shift,
                           sl_error *err) {
  *shift = (int)(first % 8);
  int64_t from = first / 8, to = (first + n + 7) / 8;
  return load(R, b, e, from, to - from, (total + 7) / 8, out, err);
}

static bool bit(const uint8_t *p, int shift, int64_t i) {
  int64_t k = i + shift;
  return (p[k >> 3] >> (k & 7)) & 1;
}

/* ---------------------------------------------------------------- values */

/* Rows of the tile filled at a time from uncompressed columns. */
#define ARROW_BLOCK_BYTES (512 << 10)

/* n rows of w values each from packed src into dst rows stride bytes apart. */
static void scatter(const uint8_t *src, int64_t n, int64_t w, size_t esize, char *dst,
                    int64_t stride) {
  size_t row = (size_t)w * esize;
  if ((int64_t)row == stride) {
    memcpy(dst, src, (size_t)n * row);
    return;
  }
  /* fixed-size copies inline; the multi-column case lands here */
#define SCATTER_CASE(k)                                                  \
  case k:                                                                \
    for (int64_t r = 0; r < n; r++) memcpy(dst + r * stride, src + r * k, k); \
    return;
  if (w == 1) switch (esize) {
      SCATTER_CASE(1)
      SCATTER_CASE(2)
      SCATTER_CASE(4)
      SCATTER_CASE(8)
    }
#undef SCATTER_CASE
  for (int64_t r = 0; r < n; r++) memcpy(dst + r * stride, src + (size_t)r * row, row);
}

/* Bool: bit-packed values -> one byte 0/1 each. */
static void unpack_bits(const uint8_t *src, int shift, int64_t n, int64_t w, char *dst,
                        int64_t stride) {
  for (int64_t r = 0; r < n; r++)
    for (int64_t j = 0; j < w; j++) dst[r * stride + j] = (char)bit(src, shift, r * w + j);
}

static sl_status null_found(const reader *R, const arrow_col *c, int64_t row, int64_t elem,
                            sl_error *err) {
  if (elem < 0)
    SL_FAIL(err, SL_EFORMAT, "%s: column '%s' has a null at row %lld (pass --fill-nulls "
            "VALUE to load nulls as a number)", R->src->path, c->name, (long long)row);
  SL_FAIL(err, SL_EFORMAT, "%s: column '%s' has a null in element %lld of row %lld (pass "
          "--fill-nulls VALUE to load nulls as a number)", R->src->path, c->name,
          (long long)elem, (long long)row);
}

/* Checks a validity bitmap over n slots (w per row, starting at row row0 of
   the file); a null is an error, or gets the fill value. */
static sl_status apply_validity(const reader *R, const arrow_col *c, const slice *bits,
                                int shift, int64_t n, int64_t w, int64_t row0, char *dst,
                                int64_t stride, bool child, sl_error *err) {
  for (int64_t i = 0; i < n; i++) {
    if (bit(bits->p, shift, i)) continue;
    int64_t r = child ? i / c->width : i, j = child ? i % c->width : -1;
    if (!R->fill) return null_found(R, c, row0 + r, j, err);
    char *at = dst + r * stride;
    for (int64_t k = child ? j : 0; k < (child ? j + 1 : w); k++)
      memcpy(at + (size_t)k * R->esize, R->fill_value, R->esize);
  }
  return SL_OK;
}

/* The nulls of rows [r0, r1) of one column, parent bitmap then child's. */
static sl_status check_nulls(const reader *R, const arrow_batch *b, size_t k, int64_t r0,
                             int64_t r1, char *dst, int64_t stride, sl_error *err) {
  const arrow_col *c = &R->f->cols[k];
  const arrow_part *p = &b->parts[k];
  slice bits;
  int shift;
  sl_status st = SL_OK;
  if (p->nulls > 0) {
    SL_TRY(load_bits(R, b, &p->valid, r0, r1 - r0, b->rows, &bits, &shift, err));
    st = apply_validity(R, c, &bits, shift, r1 - r0, c->width, b->row0 + r0, dst, stride,
                        false, err);
    sl__free(bits.mem);
  }
  if (st == SL_OK && p->child_nulls > 0) {
    int64_t w = c->width, n = (r1 - r0) * w;
    SL_TRY(load_bits(R, b, &p->child_valid, r0 * w, n, b->rows * w, &bits, &shift, err));
    st = apply_validity(R, c, &bits, shift, n, w, b->row0 + r0, dst, stride, true, err);
    sl__free(bits.mem);
  }
  return st;
}

/* Rows [r0, r1) of column k of batch b into dst (row r0's first value of
   this column), rows stride bytes apart. */
static sl_status read_part(const reader *R, const arrow_batch *b, size_t k, int64_t r0,
                           int64_t r1, char *dst, int64_t stride, sl_error *err) {
  const arrow_col *c = &R->f->cols[k];
  const arrow_part *p = &b->parts[k];
  int64_t w = c->width, v0 = r0 * w, nv = (r1 - r0) * w, total = b->rows * w;
  slice vals;
  if (c->bits) {
    int shift;
    SL_TRY(load_bits(R, b, &p->data, v0, nv, total, &vals, &shift, err));
    unpack_bits(vals.p, shift, r1 - r0, w, dst, stride);
  } else {
    int64_t es = (int64_t)R->esize;
    SL_TRY(load(R, b, &p->data, v0 * es, nv * es, total * es, &vals, err));
    scatter(vals.p, r1 - r0, w, R->esize, dst, stride);
  }
  sl__free(vals.mem);
  return check_nulls(R, b, k, r0, r1, dst, stride, err);
}

/* ------------------------------------------------------------------ rows */

/* First batch holding row lo (batches are in row order). */
static size_t batch_of(const arrow_file *f, int64_t lo) {
  size_t a = 0, b = f->nbatches;
  while (a < b) {
    size_t m = a + (b - a) / 2;
    if (f->batches[m].row0 + f->batches[m].rows <= lo) a = m + 1;
    else b = m;
  }
  return a;
}

sl_status sl__arrow_read_rows(const arrow_file *f, const arrow_src *src,
                              const sl_open_options *o, int64_t lo, int64_t hi, void *dst,
                              sl_error *err) {
  reader R = {f, src, sl_dtype_size(f->dtype), false, {0}};
  if (lo < 0 || hi > f->rows || lo > hi)
    SL_FAIL(err, SL_EINVAL, "%s: rows [%lld, %lld) outside the file's %lld", src->path,
            (long long)lo, (long long)hi, (long long)f->rows);
  if (o != NULL && o->fill_nulls != NULL) {
    SL_TRY(sl__parse_fill(src->path, o->fill_nulls, f->dtype, R.fill_value, err));
    R.fill = true;
  }
  int64_t stride = f->width * (int64_t)R.esize;
  for (size_t i = batch_of(f, lo); i < f->nbatches && f->batches[i].row0 < hi; i++) {
    const arrow_batch *b = &f->batches[i];
    int64_t r0 = SL_MAX(lo, b->row0) - b->row0, r1 = SL_MIN(hi, b->row0 + b->rows) - b->row0;
    if (r0 >= r1) continue;
    /* Uncompressed: all columns of one block of rows before the next block,
       so the block of the tile stays in cache while the columns interleave
       into it, and each column slice is small enough for malloc to reuse. */
    int64_t step = b->codec == ARROW_CODEC_NONE ? SL_MAX(1, ARROW_BLOCK_BYTES / stride) : r1 - r0;
    for (int64_t a = r0; a < r1; a += step) {
      int64_t z = SL_MIN(r1, a + step);
      char *at = (char *)dst + (b->row0 + a - lo) * stride;
      for (size_t k = 0; k < f->ncols; k++)
        SL_TRY(read_part(&R, b, k, a, z,
                         at + (int64_t)k * f->cols[k].width * (int64_t)R.esize, stride, err));
    }
  }
  return SL_OK;
}

sl_status sl__arrow_parse_buffer(const void *buf, size_t n, const sl_open_options *o,
                                 sl_shard_info *info, sl_error *err) {
  arrow_src src = {"<buffer>", -1, buf, (int64_t)n};
  arrow_file f;
  SL_TRY(sl__arrow_parse(&src, o, &f, err));
  memset(info, 0, sizeof *info);
  info->dtype = f.dtype;
  info->ndim = 2;
  info->shape[0] = f.rows;
  info->shape[1] = f.width;
  int64_t bytes;
  sl_status st = SL_OK;
  if (sl__mul(f.rows, f.width * (int64_t)sl_dtype_size(f.dtype), &bytes) &&
      bytes <= ARROW_FUZZ_DECODE_MAX) {
    void *rows = sl__malloc(bytes > 0 ? (size_t)bytes : 1);
    if (rows == NULL) st = sl__fail(err, SL_ENOMEM, "<buffer>: out of memory");
    else st = sl__arrow_read_rows(&f, &src, o, 0, f.rows, rows, err);
    sl__free(rows);
  }
  sl__arrow_file_free(&f);
  return st;
}
