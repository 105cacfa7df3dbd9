/* Zarr chunks: from a chunk file (or an inner chunk of a shard) to rows of
 * the tile. Each requested row range is assembled from every chunk it
 * crosses, along every axis; the parts of edge chunks beyond the array are
 * never copied; a chunk (or inner chunk) that was never written reads as
 * the fill value. Chunks that cover whole rows and lie inside the range are
 * decoded straight into the tile, and uncompressed ones read into it with
 * one pread; the others are decoded into a thread's buffer and copied. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "zarr.h"

void sl__zarr_work_free(zarr_work *w) {
  sl__buf_free(&w->raw);
  sl__buf_free(&w->t1);
  sl__buf_free(&w->t2);
  sl__buf_free(&w->dec);
  sl__buf_free(&w->out);
  sl__buf_free(&w->idx);
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

/* ------------------------------------------------------------- decoding */

static sl_status codec_fail(sl_status st, const char *what, const char *name, const char *why,
                            sl_error *err) {
  if (st == SL_ENOTSUP)
    SL_FAIL(err, st, "%s: codec %s is not in this build (install %s)", what, name,
            why ? why : "its library");
  SL_FAIL(err, st, "%s: %s chunk data: %s", what, name, why ? why : "corrupt");
}

/* The size one bytes codec's output has when it is not the last decoded:
   what its own header says. */
/* An inner stage of a chain holds an encoding of the chunk's m bytes:
   no codec's output exceeds twice its input plus a little (these bound
   every codec's worst case with room to spare), so a header claiming more
   is not believed (and never allocated). */
static size_t inner_bound(size_t m) { return 2 * m + (1 << 20); }

static sl_status inner_size(zarr_bb bb, const uint8_t *in, size_t n, size_t *m, size_t chunk,
                            const char *what, sl_error *err) {
  if (bb == ZB_LZ4 && n >= 4) *m = le32(in);
  else if (bb == ZB_BLOSC && n >= 16) *m = le32(in + 4);
  else if (bb == ZB_ZSTD && n >= 18) {
    /* frame header: the content size field, when present */
    uint8_t fhd = in[4];
    int fcs = fhd >> 6, single = (fhd >> 5) & 1, did = fhd & 3;
    size_t pos = 5 + (single ? 0 : 1) + (did == 3 ? 4 : (size_t)did);
    size_t fl = fcs == 0 ? (single ? 1 : 0) : (size_t)1 << fcs;
    if (fl == 0 || pos + fl > n) SL_FAIL(err, SL_ENOTSUP, "%s: a zstd frame without its size "
                                          "inside a codec chain", what);
    uint64_t v = 0;
    for (size_t i = 0; i < fl; i++) v |= (uint64_t)in[pos + i] << (8 * i);
    if (fl == 2) v += 256;
    *m = (size_t)v;
  } else
    SL_FAIL(err, SL_ENOTSUP, "%s: codec chain whose inner sizes are unknown", what);
  if (*m > inner_bound(chunk))
    SL_FAIL(err, SL_EFORMAT, "%s: codec header says %zu bytes, more than any encoding of the "
            "chunk's %zu bytes takes", what, *m, chunk);
  return SL_OK;
}

/* Each Zarr codec's decoder in the shared table, and its name for messages
   (in zarr_bb's order; CRC32C is checked, not decoded). */
static const struct {
  sl_codec codec;
  const char *name;
} bb_codecs[] = {[ZB_BLOSC] = {SL_CODEC_BLOSC, "Blosc"}, [ZB_ZSTD] = {SL_CODEC_ZSTD, "Zstd"},
                 [ZB_GZIP] = {SL_CODEC_GZIP, "GZip"},    [ZB_ZLIB] = {SL_CODEC_ZLIB, "Zlib"},
                 [ZB_LZ4] = {SL_CODEC_LZ4_RAW, "LZ4"},   [ZB_BZ2] = {SL_CODEC_BZ2, "BZ2"}};

const char *sl__zarr_codec_name(zarr_bb bb) {
  static const char *const names[] = {[ZB_BLOSC] = "blosc", [ZB_ZSTD] = "zstd",
                                      [ZB_GZIP] = "gzip",   [ZB_ZLIB] = "zlib",
                                      [ZB_LZ4] = "lz4",     [ZB_BZ2] = "bz2",
                                      [ZB_CRC32C] = "crc32c"};
  return (size_t)bb < SL_ARRAY_LEN(names) ? names[bb] : "unknown";
}

sl_status sl__zarr_codec_check(const zarr_array *a, const zarr_pipe *p, sl_error *err) {
  for (int i = 0; i < p->nbb; i++) {
    zarr_bb bb = p->bb[i];
    if (bb == ZB_CRC32C || (size_t)bb >= SL_ARRAY_LEN(bb_codecs) ||
        sl__codec_available(bb_codecs[bb].codec))
      continue;
    const char *why = NULL;
    size_t got;
    (void)sl__decompress_some(bb_codecs[bb].codec, NULL, 0, NULL, 0, &got, &why);
    return codec_fail(SL_ENOTSUP, a->dir, bb_codecs[bb].name, why, err);
  }
  return SL_OK;
}

static sl_status one_bb(zarr_bb bb, const uint8_t *in, size_t n, uint8_t *out, size_t m,
                        const char *what, sl_error *err) {
  if (bb == ZB_CRC32C || (size_t)bb >= SL_ARRAY_LEN(bb_codecs))
    SL_FAIL(err, SL_EFORMAT, "%s: unknown codec", what);
  if (bb == ZB_BLOSC && n >= 16 && (size_t)le32(in + 12) > n)
    SL_FAIL(err, SL_EFORMAT, "%s: Blosc header says %u compressed bytes but the chunk "
            "holds %zu (truncated)", what, le32(in + 12), n);
  if (bb == ZB_BLOSC && n >= 16 && (size_t)le32(in + 4) != m)
    SL_FAIL(err, SL_EFORMAT, "%s: Blosc header says %u bytes uncompressed but the chunk "
            "has %zu", what, le32(in + 4), m);
  if (bb == ZB_LZ4) { /* numcodecs' 4-byte size prefix, then one block */
    if (n < 4 || le32(in) != m)
      SL_FAIL(err, SL_EFORMAT, "%s: LZ4 chunk does not start with its size %zu", what, m);
    in += 4, n -= 4;
  }
  const char *why = NULL;
  sl_status st = sl__decompress(bb_codecs[bb].codec, in, n, out, m, &why);
  return st == SL_OK ? SL_OK : codec_fail(st, what, bb_codecs[bb].name, why, err);
}

static sl_status check_crc(const uint8_t *in, size_t *n, const char *what, sl_error *err) {
  if (*n < 4) SL_FAIL(err, SL_EFORMAT, "%s: shorter than its crc32c checksum", what);
  uint32_t want = le32(in + *n - 4), got = sl__crc32c(in, *n - 4);
  if (want != got)
    SL_FAIL(err, SL_EFORMAT, "%s: crc32c checksum 0x%08x does not match the data (0x%08x)",
            what, want, got);
  *n -= 4;
  return SL_OK;
}

/* The stored (permuted) chunk of p in src becomes C order in dst. */
static void untranspose(const zarr_array *a, const zarr_pipe *p, const uint8_t *src,
                        uint8_t *dst) {
  int nd = a->nd;
  int64_t cstride[SL_MAX_DIMS], sp[SL_MAX_DIMS], step[SL_MAX_DIMS], idx[SL_MAX_DIMS] = {0};
  int64_t total = 1;
  cstride[nd - 1] = 1;
  for (int k = nd - 2; k >= 0; k--) cstride[k] = cstride[k + 1] * p->cs[k + 1];
  for (int k = 0; k < nd; k++) {
    sp[k] = p->cs[p->perm[k]];
    step[k] = cstride[p->perm[k]];
    total *= sp[k];
  }
  size_t es = a->esize;
  int64_t off = 0;
  for (int64_t i = 0; i < total; i++) {
    memcpy(dst + (size_t)off * es, src + (size_t)i * es, es);
    for (int k = nd - 1; k >= 0; k--) { /* odometer over the stored order */
      off += step[k];
      if (++idx[k] < sp[k]) break;
      off -= step[k] * sp[k];
      idx[k] = 0;
    }
  }
}

sl_status sl__zarr_decode(const zarr_array *a, const zarr_pipe *p, const uint8_t *in, size_t n,
                          uint8_t *out, size_t m, zarr_work *w, const char *what,
                          sl_error *err) {
  /* the bytes codecs, last applied first */
  sl_buf *bufs[2] = {&w->t1, &w->t2};
  int flip = 0;
  uint8_t *target = p->permuted ? NULL : out;
  if (p->permuted) {
    if (!sl__buf_reserve(&w->dec, m)) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", what);
    target = w->dec.p;
  }
  for (int i = p->nbb - 1; i >= 0; i--) {
    if (p->bb[i] == ZB_CRC32C) {
      SL_TRY(check_crc(in, &n, what, err));
      continue;
    }
    bool last = true;
    for (int j = i - 1; j >= 0; j--) last &= p->bb[j] == ZB_CRC32C;
    size_t om = m;
    uint8_t *o = target;
    if (!last) {
      SL_TRY(inner_size(p->bb[i], in, n, &om, m, what, err));
      if (!sl__buf_reserve(bufs[flip], om)) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", what);
      o = bufs[flip]->p;
      flip ^= 1;
    }
    SL_TRY(one_bb(p->bb[i], in, n, o, om, what, err));
    in = o;
    n = om;
  }
  if (n != m)
    SL_FAIL(err, SL_EFORMAT, "%s: chunk holds %zu bytes but %zu were expected", what, n, m);
  if (in != target) memcpy(target, in, m);
  if (p->swap) sl__byteswap(target, m / a->esize, a->esize, a->dtype);
  if (p->permuted) untranspose(a, p, target, out);
  return SL_OK;
}

/* ------------------------------------------------------------- placing */

/* Copies the part of a chunk (C order over cs, at origin org; src NULL:
   the fill value) inside rows [lo, hi) and the array into dst, which holds
   rows [lo, hi) of the array. */
static void place(const zarr_array *a, const uint8_t *src, const int64_t *org, const int64_t *cs,
                  int64_t lo, int64_t hi, uint8_t *dst) {
  int nd = a->nd;
  int64_t b[SL_MAX_DIMS] = {0}, e[SL_MAX_DIMS] = {0}, ss[SL_MAX_DIMS], ds[SL_MAX_DIMS];
  for (int k = 0; k < nd; k++) {
    b[k] = SL_MAX(org[k], k == 0 ? lo : 0);
    e[k] = SL_MIN(org[k] + cs[k], k == 0 ? hi : a->shape[k]);
    if (b[k] >= e[k]) return;
  }
  ss[nd - 1] = ds[nd - 1] = 1;
  for (int k = nd - 2; k >= 0; k--) {
    ss[k] = ss[k + 1] * cs[k + 1];
    ds[k] = ds[k + 1] * a->shape[k + 1];
  }
  /* the contiguous run: trailing axes covered whole in both */
  int j = nd - 1;
  int64_t run = e[j] - b[j];
  while (j > 0 && e[j] - b[j] == cs[j] && cs[j] == a->shape[j]) {
    j--;
    run *= e[j] - b[j];
  }
  size_t es = a->esize, rb = (size_t)run * es;
  int64_t idx[SL_MAX_DIMS];
  for (int k = 0; k < j; k++) idx[k] = b[k];
  for (;;) {
    int64_t so = 0, dof = 0;
    for (int k = 0; k < j; k++) {
      so += (idx[k] - org[k]) * ss[k];
      dof += (idx[k] - (k == 0 ? lo : 0)) * ds[k];
    }
    so += (b[j] - org[j]) * ss[j];
    dof += (b[j] - (j == 0 ? lo : 0)) * ds[j];
    uint8_t *d = dst + (size_t)dof * es;
    if (src != NULL) memcpy(d, src + (size_t)so * es, rb);
    else if (a->fill_zero) memset(d, 0, rb);
    else
      for (int64_t i = 0; i < run; i++) memcpy(d + (size_t)i * es, a->fill, es);
    int k = j - 1;
    for (; k >= 0; k--) {
      if (++idx[k] < e[k]) break;
      idx[k] = b[k];
    }
    if (k < 0) break;
  }
}

/* ------------------------------------------------------------ chunk files */

static void chunk_path(const zarr_array *a, const int64_t *ci, char *buf, size_t cap) {
  size_t k = (size_t)snprintf(buf, cap, "%s/%s", a->dir, a->key_c ? "c" : "");
  for (int i = 0; i < a->nd && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%lld", (i || a->key_c) ? (char[]){a->sep, 0} : "",
                          (long long)ci[i]);
}

/* Opens a chunk file: *fd -1 when it was never written. */
static sl_status open_chunk(const char *path, int *fd, int64_t *size, sl_error *err) {
  sl_error e = {0};
  sl_file_id id;
  if (sl__open_read(path, false, fd, &id, &e) != SL_OK) {
    if (errno == ENOENT) {
      *fd = -1;
      return SL_OK;
    }
    SL_FAIL(err, e.code ? e.code : SL_EIO, "%s", e.message);
  }
  *size = id.size;
  return SL_OK;
}

static sl_status read_all(int fd, const char *path, int64_t size, sl_buf *b, sl_error *err) {
  if (size > ((int64_t)1 << 33)) SL_FAIL(err, SL_EFORMAT, "%s: chunk file too large", path);
  if (!sl__buf_reserve(b, (size_t)size + 1)) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  return sl__pread_full(fd, path, b->p, (size_t)size, 0, err);
}

/* Whole rows of the array in each chunk, in C order as stored. */
static bool whole_rows(const zarr_array *a, const zarr_pipe *p) {
  for (int k = 1; k < a->nd; k++)
    if (p->cs[k] != a->shape[k]) return false;
  return true;
}

/* One decoded chunk of pipe p at origin org from bytes in[0..n). */
static sl_status put_chunk(const zarr_array *a, const zarr_pipe *p, const int64_t *org,
                           const uint8_t *in, size_t n, int64_t lo, int64_t hi, uint8_t *dst,
                           zarr_work *w, const char *what, sl_error *err) {
  size_t m = (size_t)sl__zarr_chunk_bytes(a, p);
  int64_t rb = (int64_t)m / p->cs[0];
  bool inside = org[0] >= lo && org[0] + p->cs[0] <= hi;
  if (whole_rows(a, p) && inside && !p->permuted)
    return sl__zarr_decode(a, p, in, n, dst + (org[0] - lo) * rb, m, w, what, err);
  if (!sl__buf_reserve(&w->out, m)) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", what);
  SL_TRY(sl__zarr_decode(a, p, in, n, w->out.p, m, w, what, err));
  place(a, w->out.p, org, p->cs, lo, hi, dst);
  return SL_OK;
}

/* Rows [lo, hi) of an uncompressed whole-row chunk straight into the tile. */
static sl_status pread_rows(const zarr_array *a, int fd, const char *path, int64_t size,
                            const int64_t *org, int64_t lo, int64_t hi, uint8_t *dst,
                            sl_error *err) {
  int64_t m = sl__zarr_chunk_bytes(a, &a->chunk), rb = m / a->chunk.cs[0];
  if (size != m)
    SL_FAIL(err, SL_EFORMAT, "%s: uncompressed chunk holds %lld bytes but %lld were expected",
            path, (long long)size, (long long)m);
  int64_t b = SL_MAX(lo, org[0]), e = SL_MIN(SL_MIN(hi, org[0] + a->chunk.cs[0]), a->shape[0]);
  if (b >= e) return SL_OK;
  uint8_t *d = dst + (b - lo) * rb;
  SL_TRY(sl__pread_full(fd, path, d, (size_t)((e - b) * rb), (b - org[0]) * rb, err));
  if (a->chunk.swap) sl__byteswap(d, (size_t)((e - b) * rb) / a->esize, a->esize, a->dtype);
  return SL_OK;
}

/* The chunk in fd decoded into its place through w's buffer. Not from a
   mapping of the file: the codecs allocate while they decode, and a file
   that shrank under the mapping would jump out of them (sl__map_guard),
   leaking their state; the copy costs about what the mapping's page
   faults do. */
static sl_status decode_file(const zarr_array *a, int fd, const char *path, int64_t size,
                             const int64_t *org, int64_t lo, int64_t hi, uint8_t *dst,
                             zarr_work *w, sl_error *err) {
  SL_TRY(read_all(fd, path, size, &w->raw, err));
  return put_chunk(a, &a->chunk, org, w->raw.p, (size_t)size, lo, hi, dst, w, path, err);
}

static sl_status plain_chunk(const zarr_array *a, const int64_t *ci, const int64_t *org,
                             int64_t lo, int64_t hi, uint8_t *dst, zarr_work *w, sl_error *err) {
  char path[4096];
  chunk_path(a, ci, path, sizeof path);
  int fd;
  int64_t size = 0;
  SL_TRY(open_chunk(path, &fd, &size, err));
  if (fd < 0) {
    place(a, NULL, org, a->chunk.cs, lo, hi, dst);
    return SL_OK;
  }
  sl_status st;
  if (a->chunk.nbb == 0 && !a->chunk.permuted && whole_rows(a, &a->chunk)) {
    st = pread_rows(a, fd, path, size, org, lo, hi, dst, err);
  } else {
    st = decode_file(a, fd, path, size, org, lo, hi, dst, w, err);
  }
  sl__close(fd);
  return st;
}

/* ------------------------------------------------------------- sharding */

/* The index of the shard in fd (size bytes) into w->idx, its checksums
   checked. */
static sl_status shard_index(const zarr_array *a, int fd, const char *path, int64_t size,
                             zarr_work *w, sl_error *err) {
  int64_t ib = a->ninner * 16 + 4 * a->index.nbb;
  if (size < ib)
    SL_FAIL(err, SL_EFORMAT, "%s: shard of %lld bytes is shorter than its index (%lld)", path,
            (long long)size, (long long)ib);
  if (!sl__buf_reserve(&w->idx, (size_t)ib)) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  SL_TRY(sl__pread_full(fd, path, w->idx.p, (size_t)ib, a->index_end ? size - ib : 0, err));
  size_t n = (size_t)ib;
  char what[4200];
  snprintf(what, sizeof what, "%s (shard index)", path);
  for (int i = 0; i < a->index.nbb; i++) SL_TRY(check_crc(w->idx.p, &n, what, err));
  return SL_OK;
}

/* Entry lin of the index in w->idx: *off and *len, both all ones for a
   chunk never written; an error naming it when it lies past the shard. */
static sl_status index_entry(const zarr_array *a, const zarr_work *w, int64_t lin, int64_t size,
                             const char *what, uint64_t *off, uint64_t *len, sl_error *err) {
  const uint8_t *ent = w->idx.p + 16 * lin;
  *off = a->index.swap ? __builtin_bswap64(le64(ent)) : le64(ent);
  *len = a->index.swap ? __builtin_bswap64(le64(ent + 8)) : le64(ent + 8);
  if (*off == UINT64_MAX && *len == UINT64_MAX) return SL_OK;
  if (*off > (uint64_t)size || *len > (uint64_t)size - *off)
    SL_FAIL(err, SL_EFORMAT, "%s: index entry %llu+%llu lies beyond the shard's %lld bytes",
            what, (unsigned long long)*off, (unsigned long long)*len, (long long)size);
  return SL_OK;
}

/* The inner chunks of shard ci that rows [lo, hi) need, read by the index. */
static sl_status shard_chunk(const zarr_array *a, const int64_t *ci, const int64_t *org,
                             int64_t lo, int64_t hi, uint8_t *dst, zarr_work *w, sl_error *err) {
  char path[4096], what[4200];
  chunk_path(a, ci, path, sizeof path);
  int fd;
  int64_t size = 0;
  SL_TRY(open_chunk(path, &fd, &size, err));
  if (fd < 0) {
    place(a, NULL, org, a->chunk.cs, lo, hi, dst);
    return SL_OK;
  }
  sl_status st = shard_index(a, fd, path, size, w, err);
  /* inner chunk rows the range crosses, every inner chunk along the rest */
  int nd = a->nd;
  int64_t i0 = (SL_MAX(lo, org[0]) - org[0]) / a->inner.cs[0];
  int64_t i1 = (SL_MIN(SL_MIN(hi, org[0] + a->chunk.cs[0]), a->shape[0]) - org[0] +
                a->inner.cs[0] - 1) / a->inner.cs[0];
  int64_t ii[SL_MAX_DIMS] = {0};
  ii[0] = i0;
  while (st == SL_OK && ii[0] < i1) {
    int64_t lin = 0, io[SL_MAX_DIMS];
    bool outside = false;
    for (int k = 0; k < nd; k++) {
      lin = lin * a->inner_grid[k] + ii[k];
      io[k] = org[k] + ii[k] * a->inner.cs[k];
      outside |= io[k] >= a->shape[k];
    }
    uint64_t off = 0, len = 0;
    snprintf(what, sizeof what, "%s (inner chunk %lld)", path, (long long)lin);
    if (outside) {
      /* beyond the array: nothing of it is read */
    } else if ((st = index_entry(a, w, lin, size, what, &off, &len, err)) != SL_OK) {
      /* named */
    } else if (off == UINT64_MAX && len == UINT64_MAX) {
      place(a, NULL, io, a->inner.cs, lo, hi, dst);
    } else if (!sl__buf_reserve(&w->raw, (size_t)len + 1)) {
      st = sl__fail(err, SL_ENOMEM, "%s: out of memory", path);
    } else {
      st = sl__pread_full(fd, path, w->raw.p, (size_t)len, (int64_t)off, err);
      if (st == SL_OK)
        st = put_chunk(a, &a->inner, io, w->raw.p, (size_t)len, lo, hi, dst, w, what, err);
    }
    int k = nd - 1;
    for (; k > 0; k--) {
      if (++ii[k] < a->inner_grid[k]) break;
      ii[k] = 0;
    }
    if (k == 0) ii[0]++;
  }
  sl__close(fd);
  return st;
}

/* ------------------------------------------------------------------ rows */

sl_status sl__zarr_read_rows(const zarr_array *a, int64_t lo, int64_t hi, uint8_t *dst,
                             zarr_work *w, sl_error *err) {
  int nd = a->nd;
  const int64_t *cs = a->chunk.cs;
  int64_t grid[SL_MAX_DIMS], ci[SL_MAX_DIMS] = {0}, org[SL_MAX_DIMS];
  for (int k = 0; k < nd; k++) grid[k] = (a->shape[k] + cs[k] - 1) / cs[k];
  for (int64_t c0 = lo / cs[0]; c0 * cs[0] < hi; c0++) {
    for (int k = 1; k < nd; k++) ci[k] = 0;
    ci[0] = c0;
    for (bool more = true; more;) {
      bool empty = false;
      for (int k = 0; k < nd; k++) {
        org[k] = ci[k] * cs[k];
        empty |= grid[k] == 0;
      }
      if (empty) return SL_OK;
      SL_TRY(a->sharded ? shard_chunk(a, ci, org, lo, hi, dst, w, err)
                        : plain_chunk(a, ci, org, lo, hi, dst, w, err));
      int k = nd - 1;
      for (; k > 0; k--) {
        if (++ci[k] < grid[k]) break;
        ci[k] = 0;
      }
      more = k > 0;
    }
  }
  return SL_OK;
}

/* ------------------------------------------------------------- inspect */

/* What a read finds wrong with one chunk file from its size and, when
   Blosc is decoded first, its 16-byte header: the same messages. */
static sl_status check_chunk(const zarr_array *a, int fd, const char *path, int64_t size,
                             sl_error *err) {
  const zarr_pipe *p = &a->chunk;
  int64_t m = sl__zarr_chunk_bytes(a, p);
  if (p->nbb == 0) {
    if (size == m) return SL_OK;
    if (!p->permuted && whole_rows(a, p))
      SL_FAIL(err, SL_EFORMAT, "%s: uncompressed chunk holds %lld bytes but %lld were "
              "expected", path, (long long)size, (long long)m);
    SL_FAIL(err, SL_EFORMAT, "%s: chunk holds %lld bytes but %lld were expected", path,
            (long long)size, (long long)m);
  }
  if (p->bb[p->nbb - 1] != ZB_BLOSC || size < 16) return SL_OK;
  uint8_t h[16];
  SL_TRY(sl__pread_full(fd, path, h, sizeof h, 0, err));
  if ((int64_t)le32(h + 12) > size)
    SL_FAIL(err, SL_EFORMAT, "%s: Blosc header says %u compressed bytes but the chunk "
            "holds %lld (truncated)", path, le32(h + 12), (long long)size);
  if (p->nbb == 1 && (int64_t)le32(h + 4) != m)
    SL_FAIL(err, SL_EFORMAT, "%s: Blosc header says %u bytes uncompressed but the chunk "
            "has %lld", path, le32(h + 4), (long long)m);
  return SL_OK;
}

/* Steps ci to the next chunk of the grid in C order: false after the last. */
static bool next_chunk(const zarr_array *a, int64_t *ci) {
  for (int k = a->nd - 1; k >= 0; k--) {
    if (++ci[k] < (a->shape[k] + a->chunk.cs[k] - 1) / a->chunk.cs[k]) return true;
    ci[k] = 0;
  }
  return false;
}

/* A shard's index as a read takes it: its checksums, and the entries of
   inner chunks inside the array lying inside the file. */
static sl_status check_shard(const zarr_array *a, const int64_t *ci, int fd, const char *path,
                             int64_t size, zarr_work *w, sl_error *err) {
  SL_TRY(shard_index(a, fd, path, size, w, err));
  int64_t ii[SL_MAX_DIMS] = {0};
  for (int64_t lin = 0; lin < a->ninner; lin++) {
    bool outside = false;
    int64_t r = lin;
    for (int k = a->nd - 1; k >= 0; k--) {
      ii[k] = r % a->inner_grid[k];
      r /= a->inner_grid[k];
      outside |= ci[k] * a->chunk.cs[k] + ii[k] * a->inner.cs[k] >= a->shape[k];
    }
    if (outside) continue;
    char what[4200];
    snprintf(what, sizeof what, "%s (inner chunk %lld)", path, (long long)lin);
    uint64_t off, len;
    SL_TRY(index_entry(a, w, lin, size, what, &off, &len, err));
  }
  return SL_OK;
}

sl_status sl__zarr_check_chunks(const zarr_array *a, int64_t max, int64_t *checked,
                                sl_error *err) {
  *checked = 0;
  for (int k = 0; k < a->nd; k++)
    if (a->shape[k] == 0) return SL_OK;
  int64_t ci[SL_MAX_DIMS] = {0};
  zarr_work w = {0};
  sl_status st = SL_OK;
  do {
    if (*checked >= max) break;
    char path[4096];
    chunk_path(a, ci, path, sizeof path);
    int fd;
    int64_t size = 0;
    st = open_chunk(path, &fd, &size, err);
    if (st != SL_OK) break;
    if (fd < 0) continue;
    st = a->sharded ? check_shard(a, ci, fd, path, size, &w, err)
                    : check_chunk(a, fd, path, size, err);
    sl__close(fd);
    ++*checked;
  } while (st == SL_OK && next_chunk(a, ci));
  sl__zarr_work_free(&w);
  return st;
}
