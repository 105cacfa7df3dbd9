/* Arrow record batch bodies -> rows of the result array.
 *
 * For rows [r0, r1) of a batch, each selected column's value buffer is read
 * (only the slice needed when uncompressed; whole and decompressed when the
 * batch uses BodyCompression, where each buffer is an 8-byte little-endian
 * uncompressed length, -1 meaning "stored as is", then the codec's bytes),
 * interleaved into the row-major destination, and then checked against the
 * validity bitmaps: a null is an error naming the file, column and row, or
 * is replaced by option fill_nulls.
 *
 * Columns are interleaved row by row (sl__gather) from per-thread buffers:
 * uncompressed batches a slice of rows at a time small enough to stay in
 * cache, compressed ones a batch at a time. The buffers are pooled across
 * the files of a load, so their pages are faulted in once per thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatbuf.h"
#include "ipc.h"

/* Room a decompressed buffer may take beyond what its values need: writers
   pad buffers (to 8 or 64 bytes). */
#define ARROW_SLACK 4096

/* One thread's buffers: a column's values each, the compressed bytes of
   the buffer being decoded, and a validity bitmap. */
typedef struct arrow_work {
  size_t cap;
  sl_buf *vals;
  const uint8_t **src;
  sl_buf raw, bits;
} arrow_work;

typedef struct reader {
  const arrow_file *f;
  const sl_source *src;
  size_t esize;
  bool fill;
  uint8_t fill_value[8];
  arrow_work *w;
} reader;

static void work_free(void *item) {
  arrow_work *w = item;
  if (w == NULL) return;
  for (size_t i = 0; i < w->cap; i++) sl__buf_free(&w->vals[i]);
  sl__free(w->vals);
  sl__free(w->src);
  sl__buf_free(&w->raw);
  sl__buf_free(&w->bits);
  sl__free(w);
}

static sl_pool pool = SL_POOL_INIT(work_free);

void sl__arrow_pool_join(void) { sl__pool_join(&pool); }
void sl__arrow_pool_leave(void) { sl__pool_leave(&pool); }

/* A pooled work set with room for n columns (buffers kept). */
static arrow_work *work_get(size_t n) {
  arrow_work *w = sl__pool_get(&pool);
  if (w == NULL) w = sl__calloc(1, sizeof *w);
  if (w == NULL || w->cap >= n) return w;
  sl_buf *vals = sl__grow(w->vals, w->cap, n, sizeof *vals);
  if (vals != NULL) w->vals = vals;
  const uint8_t **src = sl__grow(w->src, w->cap, n, sizeof *src);
  if (src != NULL) w->src = src;
  if (vals == NULL || src == NULL) {
    work_free(w);
    return NULL;
  }
  w->cap = n;
  return w;
}

/* ------------------------------------------------------------ codecs */

static sl_codec table_codec(int codec) {
  return codec == ARROW_CODEC_LZ4_FRAME ? SL_CODEC_LZ4_FRAME : SL_CODEC_ZSTD;
}

sl_status sl__arrow_codec_check(const sl_source *src, int codec, sl_error *err) {
  sl_codec c = table_codec(codec);
  if (codec == ARROW_CODEC_NONE || sl__codec_available(c)) return SL_OK;
  const char *why = NULL;
  size_t got;
  (void)sl__decompress_some(c, NULL, 0, NULL, 0, &got, &why); /* names the package */
  SL_FAIL(err, SL_ENOTSUP, "%s: Arrow buffer is compressed with %s, which this build cannot "
          "decode; install %s", sl_source_path(src), sl__codec_name(c), why);
}

static sl_status decompress(const reader *R, int codec, const uint8_t *in, size_t n,
                            uint8_t *out, size_t cap, size_t *got, sl_error *err) {
  sl_codec c = table_codec(codec);
  const char *why = NULL;
  sl_status st = sl__decompress_some(c, in, n, out, cap, got, &why);
  if (st == SL_ENOTSUP) return sl__arrow_codec_check(R->src, codec, err);
  if (st != SL_OK)
    SL_FAIL(err, st, "%s: Arrow buffer does not decompress as %s: %s", sl_source_path(R->src),
            sl__codec_name(c), why);
  return SL_OK;
}

/* --------------------------------------------------------- buffer slices */

static sl_status reserve(const reader *R, sl_buf *b, size_t n, sl_error *err) {
  if (sl__buf_reserve(b, n)) return SL_OK;
  SL_FAIL(err, SL_ENOMEM, "%s: out of memory for %zu bytes of a record batch", sl_source_path(R->src),
          n);
}

/* The 8-byte prefix should be the uncompressed length, but Arrow JS (21.x)
   writes the compressed one there; so apart from -1 it is not trusted: the
   output is sized by what the values need plus padding, and checked to cover
   the bytes asked for. */
static sl_status load_compressed(const reader *R, const arrow_batch *b, const sl_extent *e,
                                 int64_t from, int64_t n, int64_t full, sl_buf *out,
                                 const uint8_t **p, sl_error *err) {
  if (e->length < 8)
    SL_FAIL(err, SL_EFORMAT, "%s: compressed Arrow buffer of %lld bytes lacks its length "
            "prefix", sl_source_path(R->src), (long long)e->length);
  sl_buf *raw = &R->w->raw;
  SL_TRY(reserve(R, raw, (size_t)e->length, err));
  SL_TRY(sl__arrow_src_read(R->src, b->body + e->offset, e->length, raw->p, err));
  if ((int64_t)sl__fb_le64(raw->p) == -1) { /* stored as is */
    if (e->length - 8 < from + n)
      SL_FAIL(err, SL_EFORMAT, "%s: Arrow buffer holds %lld bytes, expected %lld",
              sl_source_path(R->src), (long long)(e->length - 8), (long long)(from + n));
    SL_TRY(reserve(R, out, (size_t)n, err));
    memcpy(out->p, raw->p + 8 + from, (size_t)n);
    *p = out->p;
    return SL_OK;
  }
  size_t cap = (size_t)full + ARROW_SLACK, got = 0;
  SL_TRY(reserve(R, out, cap, err));
  SL_TRY(decompress(R, b->codec, raw->p + 8, (size_t)e->length - 8, out->p, cap, &got, err));
  if ((int64_t)got < from + n)
    SL_FAIL(err, SL_EFORMAT, "%s: Arrow buffer decompressed to %zu bytes, expected %lld",
            sl_source_path(R->src), got, (long long)(from + n));
  *p = out->p + from;
  return SL_OK;
}

/* Bytes [from, from + n) of buffer e of batch b into out; *p points at the
   first of them. full is what the whole buffer needs to hold. */
static sl_status load(const reader *R, const arrow_batch *b, const sl_extent *e,
                      int64_t from, int64_t n, int64_t full, sl_buf *out, const uint8_t **p,
                      sl_error *err) {
  *p = NULL;
  if (n == 0) return SL_OK;
  if (b->codec != ARROW_CODEC_NONE)
    return load_compressed(R, b, e, from, n, full, out, p, err);
  if (from + n > e->length)
    SL_FAIL(err, SL_EFORMAT, "%s: Arrow buffer of %lld bytes is too short (%lld needed)",
            sl_source_path(R->src), (long long)e->length, (long long)(from + n));
  int64_t at = b->body + e->offset + from, end;
  if (R->src->mem != NULL && sl__add(at, n, &end) && end <= sl_source_size(R->src)) {
    *p = R->src->mem + at; /* used where it lies: no copy (read under the map guard) */
    return SL_OK;
  }
  SL_TRY(reserve(R, out, (size_t)n, err));
  *p = out->p;
  return sl__arrow_src_read(R->src, at, n, out->p, err);
}

/* Bits [first, first + n) of a bitmap buffer; *shift is first's bit in
   the first byte loaded. */
static sl_status load_bits(const reader *R, const arrow_batch *b, const sl_extent *e,
                           int64_t first, int64_t n, int64_t total, sl_buf *out,
                           const uint8_t **p, int *shift, sl_error *err) {
  *shift = (int)(first % 8);
  int64_t from = first / 8, to = (first + n + 7) / 8;
  return load(R, b, e, from, to - from, (total + 7) / 8, out, p, err);
}

static bool bit(const uint8_t *p, int shift, int64_t i) {
  int64_t k = i + shift;
  return (p[k >> 3] >> (k & 7)) & 1;
}

/* ---------------------------------------------------------------- values */

/* Bytes of the tile an uncompressed batch fills from its columns at a time.
   Larger slices fall out of cache before they are interleaved, yet measured
   faster: on our VMs a pread's fixed cost outweighs the cache misses (1 GiB
   of 8 double columns, 2 threads: 128 KiB 0.15 s, 512 KiB 0.10 s, 2 MiB
   0.092 s, 8 MiB 0.088 s). */
#define ARROW_SLICE_BYTES (8 << 20)

/* Rows [r0, r1) of column k of batch b, width values a row, contiguous at
   *p (Bool: one byte 0/1 a value), held in out. */
static sl_status column_values(const reader *R, const arrow_batch *b, size_t k, int64_t r0,
                               int64_t r1, sl_buf *out, const uint8_t **p, sl_error *err) {
  const arrow_col *c = &R->f->cols[k];
  const arrow_part *part = &b->parts[k];
  int64_t w = c->width, v0 = r0 * w, nv = (r1 - r0) * w, total = b->rows * w;
  if (!c->bits) {
    int64_t es = (int64_t)sl_dtype_size(c->dtype);
    return load(R, b, &part->data, v0 * es, nv * es, total * es, out, p, err);
  }
  const uint8_t *bits;
  int shift;
  SL_TRY(load_bits(R, b, &part->data, v0, nv, total, &R->w->bits, &bits, &shift, err));
  SL_TRY(reserve(R, out, (size_t)nv, err));
  for (int64_t i = 0; i < nv; i++) out->p[i] = (uint8_t)bit(bits, shift, i);
  *p = out->p;
  return SL_OK;
}

static sl_status null_found(const reader *R, const arrow_col *c, int64_t row, int64_t elem,
                            sl_error *err) {
  if (elem < 0)
    SL_FAIL(err, SL_EFORMAT, "%s: column '%s' has a null at row %lld (give option fill_nulls "
            "a value to load nulls as a number)", sl_source_path(R->src), c->name, (long long)row);
  SL_FAIL(err, SL_EFORMAT, "%s: column '%s' has a null in element %lld of row %lld (give "
          "option fill_nulls a value to load nulls as a number)", sl_source_path(R->src), c->name,
          (long long)elem, (long long)row);
}

/* Checks a validity bitmap over n slots (w per row, starting at row row0 of
   the file); a null is an error, or gets the fill value. */
static sl_status apply_validity(const reader *R, const arrow_col *c, const uint8_t *bits,
                                int shift, int64_t n, int64_t w, int64_t row0, char *dst,
                                int64_t stride, bool child, sl_error *err) {
  for (int64_t i = 0; i < n; i++) {
    if (bit(bits, shift, i)) continue;
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
  const uint8_t *bits;
  int shift;
  if (p->nulls > 0) {
    SL_TRY(load_bits(R, b, &p->valid, r0, r1 - r0, b->rows, &R->w->bits, &bits, &shift, err));
    SL_TRY(apply_validity(R, c, bits, shift, r1 - r0, c->width, b->row0 + r0, dst, stride,
                          false, err));
  }
  if (p->child_nulls > 0) {
    int64_t w = c->width, n = (r1 - r0) * w;
    SL_TRY(load_bits(R, b, &p->child_valid, r0 * w, n, b->rows * w, &R->w->bits, &bits,
                     &shift, err));
    SL_TRY(apply_validity(R, c, bits, shift, n, w, b->row0 + r0, dst, stride, true, err));
  }
  return SL_OK;
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

/* Rows [r0, r1) of batch b into dst: every column's values, interleaved row
   by row, then their nulls checked (or filled). Compressed batches decode
   whole, so when all their columns would take more than this, the columns
   are decoded and placed one at a time instead, in one buffer. */
#define ARROW_WHOLE_MAX (16 << 20)

static sl_status batch_rows(const reader *R, const arrow_batch *b, int64_t r0, int64_t r1,
                            char *dst, int64_t stride, sl_error *err) {
  const arrow_file *f = R->f;
  size_t colbytes = (size_t)f->cols[0].width * R->esize;
  bool one_by_one = (r1 - r0) * stride > ARROW_WHOLE_MAX;
  size_t width = (size_t)f->cols[0].width;
  for (size_t k = 0; k < f->ncols; k++) {
    sl_buf *buf = &R->w->vals[one_by_one ? 0 : k];
    SL_TRY(column_values(R, b, k, r0, r1, buf, &R->w->src[k], err));
    if (one_by_one && f->cast)
      sl__gather_cast(dst + k * colbytes, (size_t)stride, &R->w->src[k], 1, &f->types[k],
                      f->dtype, width, r1 - r0);
    else if (one_by_one)
      sl__interleave(dst + k * colbytes, (size_t)stride, &R->w->src[k], 1, colbytes,
                     colbytes, r1 - r0);
  }
  if (!one_by_one && f->cast)
    sl__gather_cast(dst, (size_t)stride, R->w->src, f->ncols, f->types, f->dtype, width,
                    r1 - r0);
  else if (!one_by_one)
    sl__gather(dst, (size_t)stride, R->w->src, f->ncols, colbytes, colbytes, r1 - r0);
  for (size_t k = 0; k < f->ncols; k++)
    SL_TRY(check_nulls(R, b, k, r0, r1, dst + k * colbytes, stride, err));
  return SL_OK;
}

/* batch_rows under the map guard: its values may be read from a mapping
   of the file where they lie (load), which a SIGBUS would end. */
typedef struct batch_job {
  const reader *R;
  const arrow_batch *b;
  int64_t r0, r1, stride;
  char *dst;
  sl_status st;
  sl_error *err;
} batch_job;

static void batch_run(void *ctx) {
  batch_job *j = ctx;
  j->st = batch_rows(j->R, j->b, j->r0, j->r1, j->dst, j->stride, j->err);
}

static sl_status batch_guarded(const reader *R, const arrow_batch *b, int64_t r0, int64_t r1,
                               char *dst, int64_t stride, sl_error *err) {
  if (R->src->mem == NULL) return batch_rows(R, b, r0, r1, dst, stride, err);
  batch_job j = {R, b, r0, r1, stride, dst, SL_OK, err};
  SL_TRY(sl__map_guard(sl_source_path(R->src), batch_run, &j, err));
  return j.st;
}

static bool any_bits(const arrow_file *f) {
  for (size_t k = 0; k < f->ncols; k++)
    if (f->cols[k].bits) return true;
  return false;
}

static sl_status read_rows(const reader *R, int64_t lo, int64_t hi, char *dst,
                           sl_error *err) {
  const arrow_file *f = R->f;
  int64_t stride = f->width * (int64_t)R->esize;
  for (size_t i = batch_of(f, lo); i < f->nbatches && f->batches[i].row0 < hi; i++) {
    const arrow_batch *b = &f->batches[i];
    int64_t r0 = SL_MAX(lo, b->row0) - b->row0, r1 = SL_MIN(hi, b->row0 + b->rows) - b->row0;
    /* compressed buffers decode whole, once per batch; uncompressed ones
       from buffers go in slices that fit, from a mapping the batch at once
       (no buffers), unless a Bool column needs its 0/1 bytes made */
    bool sliced = b->codec == ARROW_CODEC_NONE && (R->src->mem == NULL || any_bits(f));
    int64_t step = sliced ? SL_MAX(1, ARROW_SLICE_BYTES / stride) : r1 - r0;
    for (int64_t a = r0; a < r1; a += step) {
      int64_t z = SL_MIN(r1, a + step);
      SL_TRY(batch_guarded(R, b, a, z, dst + (b->row0 + a - lo) * stride, stride, err));
    }
  }
  return SL_OK;
}

sl_status sl__arrow_read_rows(const arrow_file *f, const sl_source *src,
                              const arrow_options *o, int64_t lo, int64_t hi, void *dst,
                              sl_error *err) {
  reader R = {.f = f, .src = src, .esize = sl_dtype_size(f->dtype)};
  if (lo < 0 || hi > f->rows || lo > hi)
    SL_FAIL(err, SL_EINVAL, "%s: rows [%lld, %lld) outside the file's %lld", sl_source_path(src),
            (long long)lo, (long long)hi, (long long)f->rows);
  if (o != NULL && o->fill_nulls != NULL) {
    SL_TRY(sl__parse_fill(sl_source_path(src), o->fill_nulls, f->dtype, R.fill_value, err));
    R.fill = true;
  }
  if (lo == hi) return SL_OK;
  R.w = work_get(f->ncols);
  if (R.w == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for decoding buffers", sl_source_path(src));
  sl_status st = read_rows(&R, lo, hi, dst, err);
  sl__pool_put(&pool, R.w);
  return st;
}
