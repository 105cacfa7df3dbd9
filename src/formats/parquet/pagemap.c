/* Page maps: where every data page of a flat column chunk lies, and which
 * pages hold their values as the tile holds them, one after another, so
 * that a random-row gather reads single values instead of decoding pages.
 *
 * A page qualifies when it is PLAIN, stored uncompressed (a v1 page of an
 * UNCOMPRESSED chunk, or a v2 page whose values are not compressed), of a
 * fixed-width type whose bytes the tile takes as they are, and holds no
 * null: its value for row r then lies at a fixed offset. Nulls are told
 * from the page's own definition levels, not from its header's count, so a
 * page whose header lies is decoded (and judged) like any other. Every
 * header is parsed and checked against the location the map gives it, as
 * the cursor checks the pages it decodes: no value is read from where a
 * lying offset index points.
 *
 * A SNAPPY page with the same properties is decompressed once, here (its
 * v1 levels are inside the stream), and its stream indexed (snappy_index.c)
 * when the index is small: at most one tag per PQ_SNAP_BYTES bytes, and a
 * bounded number per map. Its values are then read from the stream's
 * literals. A stream that does not decode, or whose tags the index refuses,
 * leaves its page to the decoder, which reports it as a range read would.
 *
 * A map is made by the first gather that needs it and kept in the shard's
 * handle, published with a compare-and-swap (threads racing to make the
 * same map each make one; all but the first free theirs), so the handle is
 * read-only in every other respect.
 */
#include <stdio.h>
#include <string.h>

#include "pq.h"

/* Bytes of a page header read first; a longer one (large statistics) is
   read again in a larger window, up to PQ_PMAP_HEAD_MAX. */
#define PQ_PMAP_HEAD 512
#define PQ_PMAP_HEAD_MAX (16 << 20)

/* Snappy indexes: a tag per this many uncompressed bytes at most (but
   PQ_SNAP_MIN_TAGS for any page), PQ_SNAP_MAP_TAGS in a map (8 bytes each):
   a stream of short tags (data that compresses) is cheaper decoded whole
   than indexed. */
#define PQ_SNAP_BYTES 256
#define PQ_SNAP_MIN_TAGS 16
#define PQ_SNAP_MAP_TAGS ((size_t)1 << 20)

typedef struct pmap_ctx {
  const sl_source *src;
  const pq_group *g;
  const pq_col *col;
  int codec;
  sl_buf *buf; /* header bytes and levels */
  sl_buf *lev; /* decoded levels */
  sl_buf *raw; /* a compressed stream */
  sl_buf *out; /* what it decompresses to */
  sl_error *err;
} pmap_ctx;

static sl_status pm_fail(const pmap_ctx *x, const char *why) {
  SL_FAIL(x->err, SL_EFORMAT, "%s: column %.*s: %s (row group starting at row %lld)",
          sl_source_path(x->src), x->col->name_len, x->col->name, why,
          (long long)x->g->first_row);
}

static sl_status pm_oom(const pmap_ctx *x) {
  SL_FAIL(x->err, SL_ENOMEM, "%s: out of memory for a page map", sl_source_path(x->src));
}

/* n file bytes at off into x->buf. */
static sl_status bytes(const pmap_ctx *x, int64_t off, size_t n) {
  if (!sl__buf_reserve(x->buf, n ? n : 1)) return pm_oom(x);
  return sl_source_read(x->src, off, n, x->buf->p, x->err);
}

/* The header of the page located at l. */
static sl_status page_header(const pmap_ctx *x, const pq_loc *l, pq_page *h) {
  int64_t want = SL_MIN(l->size, PQ_PMAP_HEAD);
  for (;;) {
    SL_TRY(bytes(x, l->offset, (size_t)want));
    const char *why = pq_parse_page(x->buf->p, (size_t)want, h);
    if (why == NULL) return SL_OK;
    if (want == l->size || want >= PQ_PMAP_HEAD_MAX) return pm_fail(x, why);
    want = SL_MIN(l->size, want * 16);
  }
}

/* Whether the n definition levels in len bytes at p (RLE, the hybrid
   without a length) are all at the maximum: the page has no null. Levels
   that do not decode leave the page to the decoder, which reports them. */
static sl_status no_nulls(const pmap_ctx *x, const uint8_t *p, size_t len, size_t n,
                          bool *yes) {
  if (!sl__buf_reserve(x->lev, n ? n : 1)) return pm_oom(x);
  size_t matches = 0;
  int max = x->col->max_def;
  const char *why = pq_levels(p, len, pq_bit_width((uint32_t)max), x->lev->p, n, max, &matches);
  *yes = why == NULL && matches == n;
  return SL_OK;
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A v1 page: levels (4-byte length, then the hybrid) and values
   compressed together; *lev is the bytes before the values, -1 when the
   page is compressed or has nulls. */
static sl_status v1_levels(const pmap_ctx *x, const pq_page *h, int64_t body, int64_t *lev) {
  *lev = -1;
  if (x->codec != PQ_UNCOMPRESSED || h->compressed != h->uncompressed) return SL_OK;
  if (x->col->max_def == 0) {
    *lev = 0;
    return SL_OK;
  }
  if (h->def_enc != PQ_RLE || h->compressed < 4) return SL_OK;
  SL_TRY(bytes(x, body, 4));
  uint32_t len = le32(x->buf->p);
  if ((int64_t)len > h->compressed - 4) return SL_OK;
  SL_TRY(bytes(x, body + 4, len));
  bool yes;
  SL_TRY(no_nulls(x, x->buf->p, len, (size_t)h->num_values, &yes));
  if (yes) *lev = 4 + (int64_t)len;
  return SL_OK;
}

/* A v2 page: levels stored uncompressed before the values, which may be
   compressed; *lev is their bytes when the page holds a value per row and
   no null, else -1. */
static sl_status v2_levels(const pmap_ctx *x, const pq_page *h, int64_t body, int64_t *lev) {
  *lev = -1;
  if (h->rep_len != 0 || h->num_rows != h->num_values || h->def_len > h->compressed ||
      h->def_len > h->uncompressed)
    return SL_OK;
  if (x->col->max_def == 0) {
    if (h->def_len == 0) *lev = 0;
    return SL_OK;
  }
  SL_TRY(bytes(x, body, (size_t)h->def_len));
  bool yes;
  SL_TRY(no_nulls(x, x->buf->p, (size_t)h->def_len, (size_t)h->num_values, &yes));
  if (yes) *lev = h->def_len;
  return SL_OK;
}

/* ------------------------------------------------------------ snappy */

/* n file bytes at off, copied (from a mapping too: the decoder and the
   indexer that read them allocate as they go, so they must not be cut
   short by a file that shrinks under the mapping; the copy is guarded). */
static sl_status stream_bytes(const pmap_ctx *x, int64_t off, size_t n, const uint8_t **p) {
  const sl_source *src = x->src;
  if (!sl__buf_reserve(x->raw, n ? n : 1)) return pm_oom(x);
  *p = x->raw->p;
  return sl_source_read(src, off, n, x->raw->p, x->err);
}

/* The n stream bytes in decompressed into m bytes of x->out; *ok false
   when they do not decode (the decoder says why when it meets the page). */
static sl_status inflate(const pmap_ctx *x, const uint8_t *in, size_t n, size_t m, bool *ok) {
  if (!sl__buf_reserve(x->out, m ? m : 1)) return pm_oom(x);
  const char *why;
  sl_status st = sl__decompress(SL_CODEC_SNAPPY, in, n, x->out->p, m, &why);
  if (st == SL_ENOMEM) return pm_oom(x);
  *ok = st == SL_OK;
  return SL_OK;
}

/* A v1 page's uncompressed bytes p[0, m): *lev is the bytes of its levels
   when it has no null, else -1 (as v1_levels). */
static sl_status v1_levels_in(const pmap_ctx *x, const pq_page *h, const uint8_t *p, size_t m,
                              int64_t *lev) {
  *lev = -1;
  if (x->col->max_def == 0) {
    *lev = 0;
    return SL_OK;
  }
  if (h->def_enc != PQ_RLE || m < 4 || le32(p) > m - 4) return SL_OK;
  bool yes;
  SL_TRY(no_nulls(x, p + 4, le32(p), (size_t)h->num_values, &yes));
  if (yes) *lev = 4 + (int64_t)le32(p);
  return SL_OK;
}

/* Page i's stream indexed when its tags are few enough: the stream is
   file bytes [at, at + n), m uncompressed (in x->out), values from vals. */
static sl_status index_stream(const pmap_ctx *x, pq_pmap *mp, size_t i, const uint8_t *in,
                              int64_t at, size_t n, size_t m, int64_t vals) {
  size_t max = SL_MAX(m / PQ_SNAP_BYTES, PQ_SNAP_MIN_TAGS);
  max = SL_MIN(max, PQ_SNAP_MAP_TAGS - mp->ntags);
  pq_snap *s = &mp->snap[i];
  const char *why = pq_snap_index(in, n, x->out->p, m, max, &s->tags, &s->n);
  if (why == pq_oom) return pm_oom(x);
  if (why != NULL) return SL_OK; /* decoded whole */
  mp->ntags += s->n;
  s->stream = at;
  s->len = (int64_t)n;
  s->vals = (uint32_t)vals;
  return SL_OK;
}

/* Page i of a SNAPPY chunk whose values are compressed (need bytes of
   them): v1, levels first in the stream, or v2, levels before it. */
static sl_status snappy_values(const pmap_ctx *x, pq_pmap *mp, size_t i, const pq_page *h,
                               int64_t body, int64_t need) {
  int64_t lv = 0, vals = 0;
  if (h->type == PQ_DATA_PAGE_V2) SL_TRY(v2_levels(x, h, body, &lv));
  if (lv < 0) return SL_OK;
  size_t n = (size_t)(h->compressed - lv), m = (size_t)(h->uncompressed - lv);
  const uint8_t *in = NULL;
  bool ok = false;
  SL_TRY(stream_bytes(x, body + lv, n, &in));
  SL_TRY(inflate(x, in, n, m, &ok));
  if (!ok) return SL_OK;
  if (h->type == PQ_DATA_PAGE) SL_TRY(v1_levels_in(x, h, x->out->p, m, &vals));
  if (vals < 0 || need > (int64_t)m - vals) return SL_OK;
  return index_stream(x, mp, i, in, body + lv, n, m, vals);
}

/* ------------------------------------------------------------ pages */

/* Where page i's values are read one by one, if they are: mp->vals[i], the
   file offset of the first (PLAIN values stored uncompressed), or
   mp->snap[i], its stream's index (PLAIN values in a SNAPPY stream). */
static sl_status page_values(const pmap_ctx *x, pq_pmap *mp, size_t i, const pq_page *h) {
  const pq_col *c = x->col;
  int64_t body = mp->locs[i].offset + (int64_t)h->header_len, need, lev;
  mp->vals[i] = -1;
  bool fixed = c->type == PQ_INT32 || c->type == PQ_INT64 || c->type == PQ_FLOAT ||
               c->type == PQ_DOUBLE || c->type == PQ_FLBA;
  if (!fixed || h->encoding != PQ_PLAIN || c->pw == 0 || c->pw != sl_dtype_size(c->dtype) ||
      !sl__mul(h->num_values, (int64_t)c->pw, &need))
    return SL_OK;
  bool packed = x->codec != PQ_UNCOMPRESSED && (h->type == PQ_DATA_PAGE || h->is_compressed);
  if (packed && x->codec == PQ_SNAPPY && mp->snap != NULL)
    return snappy_values(x, mp, i, h, body, need);
  if (packed || h->compressed != h->uncompressed) return SL_OK;
  if (h->type == PQ_DATA_PAGE) SL_TRY(v1_levels(x, h, body, &lev));
  else SL_TRY(v2_levels(x, h, body, &lev));
  if (lev >= 0 && need <= h->compressed - lev) mp->vals[i] = body + lev;
  return SL_OK;
}

/* Page i's header agrees with its location: a data page of that size,
   holding the rows up to the next location. */
static sl_status check_page(const pmap_ctx *x, const pq_pmap *m, size_t i, const pq_page *h) {
  const pq_loc *l = &m->locs[i];
  char why[200];
  int64_t next = i + 1 < m->n ? m->locs[i + 1].first_row : m->end_row;
  int64_t rows = h->type == PQ_DATA_PAGE_V2 ? h->num_rows : h->num_values;
  if (h->type != PQ_DATA_PAGE && h->type != PQ_DATA_PAGE_V2)
    snprintf(why, sizeof why, "%s lists a page at file offset %lld that is not a data page",
             m->by, (long long)l->offset);
  else if ((int64_t)h->header_len + h->compressed != l->size)
    snprintf(why, sizeof why, "a data page takes bytes %lld but %s says %lld",
             (long long)h->header_len + h->compressed, m->by, (long long)l->size);
  else if (rows != next - l->first_row || h->num_values != rows)
    snprintf(why, sizeof why, "a data page holds rows %lld but %s says %lld", (long long)rows,
             m->by, (long long)(next - l->first_row));
  else
    return SL_OK;
  return pm_fail(x, why);
}

/* The located pages back to back: a run of them is one read. */
static bool back_to_back(const pq_loc *l, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (l[i - 1].offset + l[i - 1].size != l[i].offset) return false;
  return true;
}

static void pmap_free(pq_pmap *m) {
  if (m == NULL) return;
  for (size_t i = 0; m->snap != NULL && i < m->n; i++) sl__free(m->snap[i].tags);
  sl__free(m->snap);
  sl__free(m->locs);
  sl__free(m->vals);
  sl__free(m);
}

/* The map's pages from k->locs (located by pq_locate_all), each header
   checked and its values' offset found. */
static sl_status fill_pages(const pmap_ctx *x, pq_column *k, pq_pmap *m) {
  m->locs = sl__malloc(k->nlocs * sizeof *m->locs);
  m->vals = sl__malloc(k->nlocs * sizeof *m->vals);
  if (x->codec == PQ_SNAPPY) m->snap = sl__calloc(k->nlocs, sizeof *m->snap);
  if (m->locs == NULL || m->vals == NULL || (x->codec == PQ_SNAPPY && m->snap == NULL))
    return pm_oom(x);
  memcpy(m->locs, k->locs, k->nlocs * sizeof *m->locs);
  m->n = k->nlocs;
  for (size_t i = 0; i < m->n; i++) {
    pq_page h;
    SL_TRY(page_header(x, &m->locs[i], &h));
    SL_TRY(check_page(x, m, i, &h));
    SL_TRY(page_values(x, m, i, &h));
  }
  return SL_OK;
}

static sl_status pmap_make(const sl_source *src, const pq_file *f, size_t gi, size_t ci,
                           pq_column *k, pq_pmap **out, sl_error *err) {
  const char *path = sl_source_path(src);
  const pq_group *g = &f->meta.groups[gi];
  const pq_col *col = &f->cols[ci];
  const pq_chunk *c = &g->cols[col->leaf];
  pq_pmap *m = sl__calloc(1, sizeof *m);
  if (m == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for a page map", path);
  pmap_ctx x = {src, g, col, c->codec, &k->sc.page, &k->sc.def, &k->sc.chunk, &k->sc.vals, err};
  int64_t n;
  k->t = (pq_target){.col = col, .a = 0, .b = g->num_rows, .width = 1,
                     .first_row = g->first_row};
  bool ok = false;
  sl_status st = pq_chunk_range(path, f, c, col, &m->off, &n, err);
  if (st == SL_OK && !col->is_list && col->max_rep == 0)
    st = pq_locate_all(src, f, g, c, m->off, n, k, &m->end_row, &m->by, &ok, err);
  m->ok = st == SL_OK && ok && k->nlocs > 0 && back_to_back(k->locs, k->nlocs);
  if (m->ok) {
    m->lead = k->locs[0].offset - m->off;
    st = fill_pages(&x, k, m);
  }
  if (st != SL_OK) {
    pmap_free(m);
    return st;
  }
  *out = m;
  return SL_OK;
}

sl_status pq_pmap_get(const sl_source *src, const pq_file *f, size_t gi, size_t ci,
                      pq_column *k, const pq_pmap **out, sl_error *err) {
  _Atomic(pq_pmap *) *slot = &f->pmaps[gi * f->ncols + ci];
  pq_pmap *m = atomic_load_explicit(slot, memory_order_acquire);
  if (m == NULL) {
    SL_TRY(pmap_make(src, f, gi, ci, k, &m, err));
    pq_pmap *first = NULL;
    if (!atomic_compare_exchange_strong_explicit(slot, &first, m, memory_order_acq_rel,
                                                 memory_order_acquire)) {
      pmap_free(m); /* another thread published its map first */
      m = first;
    }
  }
  *out = m;
  return SL_OK;
}

void pq_pmaps_free(pq_file *f) {
  if (f->pmaps == NULL) return;
  for (size_t i = 0; i < f->meta.ngroups * f->ncols; i++)
    pmap_free(atomic_load_explicit(&f->pmaps[i], memory_order_relaxed));
  sl__free((void *)f->pmaps);
  f->pmaps = NULL;
}
