/* Our own decoding of chunked datasets whose chunks hold whole rows and
 * whose filters are ones we undo (deflate through the codec table, shuffle
 * here): locating the chunks needs HDF5 and its lock, reading and
 * decompressing them does not, so the threads decode in parallel. */
#include <stdio.h>
#include <string.h>

#include "h5.h"

typedef struct chunk_loc {
  int64_t addr, size;
  unsigned skipped; /* filter mask: bit i set = filter i not applied */
} chunk_loc;

/* A chunk's bytes as the B-tree gives them, which a corrupt file makes
   anything: within the file (overflow-checked) before anything reads them. */
static sl_status check_chunk(const sl_shard *s, const sl_source *src, const char *name,
                             hsize_t row, haddr_t addr, hsize_t size, sl_error *err) {
  int64_t end, fsize = sl_source_size(src);
  if (addr > (haddr_t)INT64_MAX || size > (hsize_t)INT64_MAX ||
      !sl__add((int64_t)addr, (int64_t)size, &end) || end > fsize || size == 0)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: the chunk at row %llu claims %llu bytes at byte %llu "
            "but the file has %lld bytes (corrupt chunk index)", s->path, name,
            (unsigned long long)row, (unsigned long long)size, (unsigned long long)addr,
            (long long)fsize);
  return SL_OK;
}

/* Where chunks c0..c0+n-1 lie in the file (under the HDF5 lock). *missing:
   some chunk was never written, so HDF5 must supply the fill value. */
static sl_status locate_locked(const sl_shard *s, const sl_source *src, const char *name,
                               int64_t c0, size_t n, chunk_loc *loc, bool *missing,
                               sl_error *err) {
  hid_t f, d = -1;
  SL_TRY(sl__h5_open_file(src, &f, err));
  sl_status st = sl__h5_open_dataset(f, s->path, name, sl__h5_allow_external(s), &d, err);
  hsize_t coord[H5S_MAX_RANK] = {0};
  *missing = false;
  for (size_t i = 0; st == SL_OK && i < n && !*missing; i++) {
    coord[0] = (hsize_t)(c0 + (int64_t)i) * s->param[P_CHUNK_ROWS];
    haddr_t addr = HADDR_UNDEF;
    hsize_t size = 0;
    char why[160];
    if (H5Dget_chunk_info_by_coord(d, coord, &loc[i].skipped, &addr, &size) < 0)
      st = sl__fail(err, SL_EFORMAT, "%s:%s: cannot locate the chunk at row %llu: %s",
                    s->path, name, (unsigned long long)coord[0], sl__h5_reason(why));
    *missing = addr == HADDR_UNDEF;
    loc[i].addr = (int64_t)addr;
    loc[i].size = (int64_t)size;
    if (st == SL_OK && !*missing) st = check_chunk(s, src, name, coord[0], addr, size, err);
  }
  if (d >= 0) H5Oclose(d);
  sl__h5_close_file(f);
  return st;
}

/* HDF5's shuffle stores byte j of element i at j*n + i. */
static void unshuffle(const unsigned char *in, unsigned char *out, size_t bytes, size_t es) {
  size_t n = bytes / es;
  for (size_t j = 0; j < es; j++)
    for (size_t i = 0; i < n; i++) out[i * es + j] = in[j * n + i];
  memcpy(out + n * es, in + n * es, bytes - n * es);
}

/* Undoes the pipeline, last filter first; the result ends in *buf. */
static sl_status unfilter(const sl_shard *s, const char *name, const chunk_loc *loc,
                          unsigned char **buf, unsigned char **tmp, size_t *len,
                          size_t want, sl_error *err) {
  uint64_t code = s->param[P_FILTERS];
  int nf = 0;
  while (nf < SL_H5_MAX_FILTERS && ((code >> (4 * nf)) & 0xf)) nf++;
  for (int i = nf - 1; i >= 0; i--) {
    if (loc->skipped & (1u << i)) continue;
    unsigned f = (code >> (4 * i)) & 0xf;
    size_t out = *len;
    if (f == F_DEFLATE) {
      const char *why = NULL;
      sl_status st = sl__decompress(SL_CODEC_ZLIB, *buf, *len, *tmp, want, &why);
      if (st != SL_OK)
        SL_FAIL(err, st, "%s:%s: the gzip chunk at byte %lld does not inflate to %zu bytes: "
                "%s", s->path, name, (long long)loc->addr, want, why);
      out = want;
    } else {
      unshuffle(*buf, *tmp, *len, s->param[P_ELEM]);
    }
    unsigned char *x = *buf;
    *buf = *tmp;
    *tmp = x;
    *len = out;
  }
  if (*len != want)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: the chunk at byte %lld holds %zu bytes, expected %zu",
            s->path, name, (long long)loc->addr, *len, want);
  return SL_OK;
}

typedef struct chunk_io {
  const sl_source *src;
  unsigned char *buf, *tmp; /* swapped by each filter undone */
  size_t cap;
} chunk_io;

/* Reads chunk k (located at loc) and copies its rows within [lo, hi). */
static sl_status one_chunk(const sl_shard *s, const char *name, chunk_io *io,
                           const chunk_loc *loc, int64_t k, int64_t lo, int64_t hi,
                           char *dst, sl_error *err) {
  int64_t cr = (int64_t)s->param[P_CHUNK_ROWS], rb = (int64_t)s->param[P_ROW_BYTES];
  size_t want = (size_t)(cr * rb);
  int64_t end;
  if (loc->size <= 0 || (size_t)loc->size > io->cap || loc->addr < 0 ||
      !sl__add(loc->addr, loc->size, &end) || end > sl_source_size(io->src))
    SL_FAIL(err, SL_EFORMAT, "%s:%s: chunk %lld lies outside the file or exceeds %zu bytes",
            s->path, name, (long long)k, io->cap);
  SL_TRY(sl_source_read(io->src, loc->addr, (size_t)loc->size, io->buf, err));
  size_t len = (size_t)loc->size;
  SL_TRY(unfilter(s, name, loc, &io->buf, &io->tmp, &len, want, err));
  int64_t a = SL_MAX(lo, k * cr), b = SL_MIN(hi, (k + 1) * cr);
  memcpy(dst + (a - lo) * rb, io->buf + (a - k * cr) * rb, (size_t)((b - a) * rb));
  return SL_OK;
}

/* Locates chunks c0.. under the lock; where one was never written, HDF5
   supplies the fill value by reading the rows itself, there and then. */
static sl_status locate(const sl_shard *s, const sl_source *src, const char *name, int64_t c0,
                        size_t n, chunk_loc *loc, int64_t lo, int64_t hi, char *dst,
                        bool *missing, sl_error *err) {
  h5_guard g;
  sl__h5_lock(&g, s->path);
  sl_status st = locate_locked(s, src, name, c0, n, loc, missing, err);
  if (st == SL_OK && *missing) st = sl__h5_read_locked(s, src, name, lo, hi, dst, err);
  sl__h5_unlock(&g);
  return st;
}

sl_status sl__h5_read_chunks(const sl_shard *s, const sl_source *src, const char *name,
                             int64_t lo, int64_t hi, char *dst, sl_error *err) {
  int64_t cr = (int64_t)s->param[P_CHUNK_ROWS], c0 = lo / cr, c1 = (hi - 1) / cr;
  size_t n = (size_t)(c1 - c0 + 1), want = (size_t)(cr * (int64_t)s->param[P_ROW_BYTES]);
  chunk_loc *loc = sl__calloc(n, sizeof *loc);
  /* deflate can grow incompressible data a little: leave room past want */
  size_t cap = want + want / 64 + 4096;
  chunk_io io = {src, sl__malloc(cap), sl__malloc(cap), cap};
  sl_status st = SL_OK;
  if (loc == NULL || io.buf == NULL || io.tmp == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s:%s: out of memory for %zu chunks", s->path, name, n);
  bool missing = false;
  if (st == SL_OK) st = locate(s, src, name, c0, n, loc, lo, hi, dst, &missing, err);
  for (size_t i = 0; st == SL_OK && !missing && i < n; i++)
    st = one_chunk(s, name, &io, &loc[i], c0 + (int64_t)i, lo, hi, dst, err);
  if (st == SL_OK && !missing && s->swap)
    sl__byteswap(dst, (size_t)((hi - lo) * (int64_t)s->param[P_ROW_BYTES]) / s->param[P_ELEM],
                 s->param[P_ELEM], (sl_dtype)s->param[P_DTYPE]);
  sl__free(loc);
  sl__free(io.buf);
  sl__free(io.tmp);
  return st;
}
