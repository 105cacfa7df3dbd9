/* Parquet driver: numeric columns of one type stacked as rows x columns, or
 * one fixed-size list column (a Parquet LIST whose rows all hold d values)
 * as rows x d.
 *
 * A file is "PAR1", column chunks, the Thrift-encoded FileMetaData, its
 * 4-byte little-endian length and "PAR1". The option columns is parsed once
 * per dataset (dataset_open). Probe reads only the footer, resolves the
 * columns against the schema's top-level fields (schema.c), and puts into
 * param[] the numbers the other ranks check against (footer length, dtype,
 * values per row). open reads the footer again, on every rank that reads
 * the shard, and the parsed footer with its selection is the shard's
 * handle, read-only from then on.
 *
 * Parquet must be decoded, so there are no extents: read() decodes rows
 * [lo, hi) of each overlapping row group, one column chunk at a time (its
 * pages located by pages.c), into the column's strided place in dst. It is
 * thread-safe: every buffer is per call, from a pool of per-thread sets.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq.h"

/* One thread's decoding state, kept in the pool between reads so that its
   buffers are allocated, and their pages faulted in, once per thread. */
typedef struct pq_work {
  size_t cap;
  pq_column *col;
  const uint8_t **src;  /* each column's value of the next row */
} pq_work;

static void work_free(void *item) {
  pq_work *w = item;
  if (w == NULL) return;
  for (size_t i = 0; i < w->cap; i++) {
    pq_scratch_free(&w->col[i].sc);
    sl__free(w->col[i].locs);
    sl__buf_free(&w->col[i].picked);
  }
  sl__free(w->col);
  sl__free(w->src);
  sl__free(w);
}

static sl_pool pool = SL_POOL_INIT(work_free);

static pq_file *file_new(void) {
  pq_file *f = sl__calloc(1, sizeof *f);
  if (f != NULL) sl__pool_join(&pool);
  return f;
}

static void file_free(pq_file *f) {
  if (f == NULL) return;
  sl__pool_leave(&pool);
  pq_pmaps_free(f);
  pq_meta_free(&f->meta);
  sl__free(f->fields);
  sl__free(f->cols);
  sl__free(f->types);
  sl__free(f->footer);
  sl__free(f);
}

/* --------------------------------------------------------------- footer */

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static sl_status read_footer(const sl_source *src, pq_file *f, sl_error *err) {
  const char *path = sl_source_path(src);
  f->file_size = sl_source_size(src);
  if (f->file_size < 12)
    SL_FAIL(err, SL_EFORMAT, "%s: not a Parquet file (%lld bytes; expected at least 12 with "
            "the PAR1 magic at both ends)", path, (long long)f->file_size);
  uint8_t head[4], tail[8];
  SL_TRY(sl_source_read(src, 0, 4, head, err));
  SL_TRY(sl_source_read(src, f->file_size - 8, 8, tail, err));
  if (memcmp(tail + 4, "PARE", 4) == 0)
    SL_FAIL(err, SL_ENOTSUP, "%s: Parquet file has an encrypted footer, which this reader does "
            "not support", path);
  if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0)
    SL_FAIL(err, SL_EFORMAT, "%s: not a Parquet file (expected the magic PAR1 at the start "
            "and the end)", path);
  uint32_t len = le32(tail);
  if ((int64_t)len > f->file_size - 12 || len > PQ_MAX_FOOTER)
    SL_FAIL(err, SL_EFORMAT, "%s: Parquet footer length %u does not fit in the file's %lld "
            "bytes (limit %d)", path, len, (long long)f->file_size, PQ_MAX_FOOTER);
  f->footer_len = len;
  f->footer = sl__malloc(len ? len : 1);
  if (f->footer == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for the footer", path);
  return sl_source_read(src, f->file_size - 8 - len, len, f->footer, err);
}

static sl_status parse_footer(const char *path, pq_file *f, sl_error *err) {
  bool oom;
  const char *why = pq_parse_meta(f->footer, f->footer_len, &f->meta, &oom);
  if (why != NULL)
    SL_FAIL(err, oom ? SL_ENOMEM : SL_EFORMAT, "%s: Parquet footer (FileMetaData) does not "
            "parse: %s", path, why);
  return SL_OK;
}

/* ---------------------------------------------------------------- file */

static sl_status open_file(const sl_source *src, const pq_options *o, pq_file **out,
                           sl_error *err) {
  const char *path = sl_source_path(src);
  pq_file *f = file_new();
  if (f == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  sl_status st = read_footer(src, f, err);
  if (st == SL_OK) st = parse_footer(path, f, err);
  if (st == SL_OK) st = pq_read_schema(path, f, err);
  if (st == SL_OK) st = pq_select_columns(path, o, f, err);
  f->has_fill = o != NULL && o->fill_nulls != NULL;
  for (size_t i = 0; st == SL_OK && f->has_fill && i < f->ncols; i++) /* in its own type */
    st = sl__parse_fill(path, o->fill_nulls, f->cols[i].dtype, f->cols[i].fill, err);
  if (st != SL_OK) {
    file_free(f);
    return st;
  }
  *out = f;
  return SL_OK;
}

static void describe(const pq_file *f, sl_shard_info *info) {
  info->dtype = f->dtype;
  info->ndim = 2;
  info->shape[0] = f->meta.num_rows;
  info->shape[1] = f->width;
}

static sl_status pq_probe(const void *state, const sl_source *src, const char *member,
                          sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)member;
  pq_file *f;
  SL_TRY(open_file(src, state, &f, err));
  describe(f, info);
  s->rows = f->meta.num_rows;
  s->swap = 0;
  s->param[P_FOOTER_LEN] = f->footer_len;
  s->param[P_DTYPE] = (uint64_t)f->dtype;
  s->param[P_WIDTH] = (uint64_t)f->width;
  file_free(f);
  return SL_OK;
}

/* The footer again, parsed into the shard's handle; the library checks its
   dtype and shape against discovery, its length is checked here. */
static sl_status pq_open(const void *state, const sl_shard *s, const sl_source *src,
                         void **handle, sl_shard_info *info, sl_error *err) {
  pq_file *f;
  SL_TRY(open_file(src, state, &f, err));
  describe(f, info);
  if (f->footer_len != s->param[P_FOOTER_LEN]) {
    file_free(f);
    SL_FAIL(err, SL_ECHANGED, "%s changed since the dataset was opened (its footer)", s->path);
  }
  size_t maps = f->meta.ngroups * f->ncols; /* both bounded by the footer's size */
  f->pmaps = sl__calloc(maps ? maps : 1, sizeof *f->pmaps);
  if (f->pmaps == NULL) {
    file_free(f);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory for page maps", s->path);
  }
  *handle = f;
  return SL_OK;
}

static void pq_close(void *handle) { file_free(handle); }

/* The options, and a hold on the decoding buffers' pool for as long as the
   dataset is open: a read goes a window of shards at a time, and the
   threads' buffers must outlive each window's handles. */
static sl_status pq_dataset_open(const sl_dataset_desc *d, void **state, sl_error *err) {
  SL_TRY(sl__table_open(d, state, err));
  sl__pool_join(&pool);
  return SL_OK;
}

static void pq_dataset_close(void *state) {
  sl__pool_leave(&pool);
  sl__table_close(state);
}

/* ---------------------------------------------------------------- read */

/* Reads file bytes [off, off + n) to the end of the chunk buffer, *len so far. */
static sl_status append(const sl_source *src, pq_scratch *sc, int64_t off, int64_t n,
                        size_t *len, sl_error *err) {
  if (n == 0) return SL_OK;
  SL_TRY(sl_source_read(src, off, (size_t)n, sc->chunk.p + *len, err));
  *len += (size_t)n;
  return SL_OK;
}

/* Column i's chunk in row group g into its buffer, and its cursor set up on
   it for rows [t.a, t.b). Where only some rows are wanted and the pages can
   be located, only the bytes before the first data page (the dictionary)
   and the pages holding those rows are read. */
static sl_status read_chunk(const sl_source *src, const pq_file *f, const pq_group *g,
                            size_t i, pq_column *k, sl_error *err) {
  const char *path = sl_source_path(src);
  const pq_col *col = &f->cols[i];
  const pq_chunk *c = &g->cols[col->leaf];
  int64_t off, n, a = k->t.a, b = k->t.b, end_row = 0;
  SL_TRY(pq_chunk_range(path, f, c, col, &off, &n, err));
  bool paged;
  const char *by;
  SL_TRY(pq_locate_pages(src, f, g, c, off, n, k, &end_row, &by, &paged, err));
  size_t p0 = 0, p1 = 0, len = 0;
  int64_t lead = n, from = 0, to = 0;
  paged = paged && pq_pages_for(k->locs, k->nlocs, a, b, &p0, &p1);
  if (paged) {
    lead = k->locs[0].offset - off;
    from = k->locs[p0].offset;
    to = k->locs[p1].offset + k->locs[p1].size;
  }
  if (!sl__buf_reserve(&k->sc.chunk, (size_t)(lead + (to - from))))
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory for a column chunk", path);
  SL_TRY(append(src, &k->sc, off, lead, &len, err));
  SL_TRY(append(src, &k->sc, from, to - from, &len, err));
  pq_cursor_init(&k->cur, path, c, k->sc.chunk.p, len, g->num_rows, &k->t, &k->sc, err);
  if (paged) pq_cursor_pages(&k->cur, k->locs, k->nlocs, end_row, p0, (size_t)lead, by);
  return SL_OK;
}

/* Flat columns: rows as long as every column's page runs, interleaved row
   by row. */
static sl_status gather_rows(const pq_file *f, int64_t a, int64_t b, uint8_t *dst,
                             pq_work *w) {
  size_t ow = sl_dtype_size(f->dtype), stride = (size_t)f->width * ow;
  for (int64_t r = a; r < b;) {
    int64_t k = b - r, avail;
    for (size_t i = 0; i < f->ncols; i++) {
      SL_TRY(pq_cursor_at(&w->col[i].cur, r, &w->src[i], &avail));
      k = SL_MIN(k, avail);
    }
    char *out = (char *)dst + (size_t)(r - a) * stride;
    if (f->cast) sl__gather_cast(out, stride, w->src, f->ncols, f->types, f->dtype, 1, k);
    else sl__gather(out, stride, w->src, f->ncols, ow, ow, k);
    r += k;
  }
  return SL_OK;
}

/* Rows [a, b) of row group g, every selected column: a list column decodes
   straight into its rows, flat columns through their cursors. */
static sl_status read_group(const sl_source *src, const pq_file *f, const pq_group *g,
                            int64_t a, int64_t b, uint8_t *dst, pq_work *w, sl_error *err) {
  size_t dw = sl_dtype_size(f->dtype), stride = (size_t)f->width * dw;
  for (size_t i = 0; i < f->ncols; i++) {
    pq_column *k = &w->col[i];
    const pq_col *c = &f->cols[i];
    k->t = (pq_target){.col = c, .a = a, .b = b, .ow = sl_dtype_size(c->dtype),
                       .dst = dst + i * dw, .stride = stride,
                       .width = c->is_list ? f->width : 1,
                       .fill = f->has_fill ? c->fill : NULL, .first_row = g->first_row,
                       .from = c->dtype, .to = f->dtype, .dw = dw};
    SL_TRY(read_chunk(src, f, g, i, k, err));
    if (c->is_list) return pq_cursor_read(&k->cur);
  }
  if (f->ncols == 1 && !f->cast) return pq_cursor_copy(&w->col[0].cur, a, b - a, dst);
  return gather_rows(f, a, b, dst, w);
}

/* A pooled work set with room for n columns (their buffers kept). */
static pq_work *work_get(size_t n) {
  pq_work *w = sl__pool_get(&pool);
  if (w == NULL) w = sl__calloc(1, sizeof *w);
  if (w == NULL || w->cap >= n) return w;
  pq_column *col = sl__grow(w->col, w->cap, n, sizeof *col);
  if (col != NULL) w->col = col;
  const uint8_t **src = sl__grow(w->src, w->cap, n, sizeof *src);
  if (src != NULL) w->src = src;
  if (col == NULL || src == NULL) {
    work_free(w);
    return NULL;
  }
  w->cap = n;
  return w;
}

static sl_status pq_read(const sl_shard *s, const void *handle, const sl_source *src,
                         int64_t lo, int64_t hi, void *dst, sl_error *err) {
  assert(lo >= 0 && lo <= hi && hi <= s->rows);
  if (lo == hi) return SL_OK;
  const pq_file *f = handle;
  pq_work *w = work_get(f->ncols);
  if (w == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for decoding buffers", s->path);
  sl_status st = SL_OK;
  size_t row_bytes = (size_t)f->width * sl_dtype_size(f->dtype);
  for (size_t i = 0; i < f->meta.ngroups && st == SL_OK; i++) {
    const pq_group *g = &f->meta.groups[i];
    int64_t a = SL_MAX(lo, g->first_row), b = SL_MIN(hi, g->first_row + g->num_rows);
    if (a >= b) continue;
    uint8_t *out = (uint8_t *)dst + (size_t)(a - lo) * row_bytes;
    st = read_group(src, f, g, a - g->first_row, b - g->first_row, out, w, err);
  }
  sl__pool_put(&pool, w);
  return st;
}

/* ---------------------------------------------------------- random rows */

/* The row after page p's last. */
static int64_t page_end(const pq_pmap *m, size_t p) {
  return p + 1 < m->n ? m->locs[p + 1].first_row : m->end_row;
}

/* Rows [i, j) of the sorted rows, whose values lie one after another in a
   page read value by value (column c's page p of map m): one copy per run
   of consecutive rows. */
/* Values of rows [i, j) from a mapping: random values are cache misses,
   made to overlap by prefetching the next ones rather than waiting for
   each in turn. */
typedef struct values {
  const uint8_t *base; /* where row 0's value would be */
  const int64_t *rows;
  size_t i, j, pw;
  uint8_t *out;
} values;

static void copy_values(void *ctx) {
  const values *v = ctx;
  for (size_t k = v->i; k < v->j; k++) {
    if (k + 8 < v->j) __builtin_prefetch(v->base + v->rows[k + 8] * (int64_t)v->pw);
    memcpy(v->out + k * v->pw, v->base + v->rows[k] * (int64_t)v->pw, v->pw);
  }
}

static sl_status take_values(const sl_source *src, const pq_pmap *m, size_t p, size_t pw,
                             const int64_t *rows, size_t i, size_t j, uint8_t *out,
                             sl_error *err) {
  int64_t base = m->vals[p] - m->locs[p].first_row * (int64_t)pw;
  if (src->mem != NULL && m->vals[p] + (page_end(m, p) - m->locs[p].first_row) *
                          (int64_t)pw <= src->size) {
    values v = {src->mem + base, rows, i, j, pw, out};
    return sl__map_guard(sl_source_path(src), copy_values, &v, err);
  }
  while (i < j) {
    size_t e = i + 1;
    while (e < j && rows[e] == rows[e - 1] + 1) e++;
    int64_t at = m->vals[p] + (rows[i] - m->locs[p].first_row) * (int64_t)pw;
    SL_TRY(sl_source_read(src, at, (e - i) * pw, out + i * pw, err));
    i = e;
  }
  return SL_OK;
}

/* len bytes of page s's values from uncompressed position x into dst,
   piece by piece where they lie among its stream's literals: from the
   mapping (mapped) or the file. *deep: some byte lies more copies deep than
   pq_snap_find follows (dst is then incomplete). */
static sl_status snap_bytes(const sl_source *src, const pq_snap *s, bool mapped,
                            uint64_t x, size_t len, uint8_t *dst, bool *deep, sl_error *err) {
  while (len > 0) {
    size_t k = len;
    uint32_t at;
    if (!pq_snap_find(s->tags, s->n, x, &k, &at)) {
      *deep = true;
      return SL_OK;
    }
    if (mapped) memcpy(dst, src->mem + s->stream + at, k);
    else SL_TRY(sl_source_read(src, s->stream + at, k, dst, err));
    dst += k;
    x += k;
    len -= k;
  }
  return SL_OK;
}

/* Where in the mapping the value of pw bytes at uncompressed position x of
   page s's stream lies, when it lies in one piece (else NULL), prefetched. */
static const uint8_t *snap_at(const sl_source *src, const pq_snap *s, uint64_t x, size_t pw) {
  size_t len = pw;
  uint32_t at;
  if (!pq_snap_find(s->tags, s->n, x, &len, &at) || len < pw) return NULL;
  __builtin_prefetch(src->mem + s->stream + at);
  return src->mem + s->stream + at;
}

/* The mapped part of take_snappy, under the map guard: it reads the file's
   mapping (a file that shrank would raise SIGBUS) and allocates nothing. */
typedef struct snap_job {
  const sl_source *src;
  const pq_snap *s;
  int64_t first;
  size_t pw;
  const int64_t *rows;
  size_t i, j;
  uint8_t *out;
  bool *deep;
} snap_job;

static void snap_mapped(void *ctx) {
  const snap_job *b = ctx;
  enum { AHEAD = 8 };
  const uint8_t *ring[AHEAD]; /* values k to k + 7, found (and prefetched) ahead */
  const size_t pw = b->pw;
  for (size_t k = b->i; k < b->j && k < b->i + AHEAD; k++)
    ring[k % AHEAD] = snap_at(b->src, b->s, b->s->vals + (uint64_t)(b->rows[k] - b->first) * pw,
                              pw);
  for (size_t k = b->i; k < b->j && !*b->deep; k++) {
    const uint8_t *v = ring[k % AHEAD];
    if (k + AHEAD < b->j)
      ring[k % AHEAD] = snap_at(b->src, b->s,
                                b->s->vals + (uint64_t)(b->rows[k + AHEAD] - b->first) * pw, pw);
    uint64_t x = b->s->vals + (uint64_t)(b->rows[k] - b->first) * pw;
    if (v != NULL) memcpy(b->out + k * pw, v, pw);
    else (void)snap_bytes(b->src, b->s, true, x, pw, b->out + k * pw, b->deep, NULL); /* pieces */
  }
}

/* Rows [i, j) of the sorted rows from page p of map m, a SNAPPY page whose
   stream the map indexed: each value from the stream's bytes, through the
   mapping with the next ones prefetched (as take_values), else read from
   the file a run of consecutive rows at a time. *deep: a value lies too
   many copies deep; the caller decodes the page instead. */
static sl_status take_snappy(const sl_source *src, const pq_pmap *m, size_t p, size_t pw,
                             const int64_t *rows, size_t i, size_t j, uint8_t *out,
                             bool *deep, sl_error *err) {
  const pq_snap *s = &m->snap[p];
  const int64_t first = m->locs[p].first_row;
  *deep = false;
  if (src->mem != NULL && s->stream <= src->size && s->len <= src->size - s->stream) {
    snap_job job = {src, s, first, pw, rows, i, j, out, deep};
    return sl__map_guard(sl_source_path(src), snap_mapped, &job, err);
  }
  while (i < j && !*deep) {
    size_t e = i + 1;
    while (e < j && rows[e] == rows[e - 1] + 1) e++;
    uint64_t x = s->vals + (uint64_t)(rows[i] - first) * pw;
    SL_TRY(snap_bytes(src, s, false, x, (e - i) * pw, out + i * pw, deep, err));
    i = e;
  }
  return SL_OK;
}

/* Rows [i, j) of the sorted rows through k's cursor, set up on pages that
   hold them; each value into out, ow bytes apart. */
static sl_status take_cursor(pq_column *k, const int64_t *rows, size_t i, size_t j,
                             uint8_t *out) {
  for (; i < j; i++) {
    const uint8_t *v;
    int64_t avail;
    SL_TRY(pq_cursor_at(&k->cur, rows[i], &v, &avail));
    memcpy(out + i * k->t.ow, v, k->t.ow);
  }
  return SL_OK;
}

/* The target of k for rows [a, b) of group g, column c (values ow apart). */
static void take_target(const pq_file *f, const pq_group *g, const pq_col *c, int64_t a,
                        int64_t b, pq_column *k) {
  k->t = (pq_target){.col = c, .a = a, .b = b, .ow = sl_dtype_size(c->dtype), .width = 1,
                     .fill = f->has_fill ? c->fill : NULL, .first_row = g->first_row,
                     .from = c->dtype, .to = c->dtype, .dw = sl_dtype_size(c->dtype)};
}

/* Pages [p, q] of map m decoded once (after the bytes before the chunk's
   first data page: its dictionary), for rows [i, j). */
static sl_status take_pages(const sl_source *src, const pq_file *f, const pq_group *g,
                            const pq_col *c, const pq_pmap *m, size_t p, size_t q,
                            const int64_t *rows, size_t i, size_t j, uint8_t *out,
                            pq_column *k, sl_error *err) {
  const char *path = sl_source_path(src);
  int64_t from = m->locs[p].offset, to = m->locs[q].offset + m->locs[q].size;
  size_t len = 0;
  take_target(f, g, c, rows[i], rows[j - 1] + 1, k);
  if (!sl__buf_reserve(&k->sc.chunk, (size_t)(m->lead + (to - from))))
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory for a column chunk", path);
  SL_TRY(append(src, &k->sc, m->off, m->lead, &len, err));
  SL_TRY(append(src, &k->sc, from, to - from, &len, err));
  pq_cursor_init(&k->cur, path, &g->cols[c->leaf], k->sc.chunk.p, len, g->num_rows, &k->t,
                 &k->sc, err);
  pq_cursor_pages(&k->cur, m->locs, m->n, m->end_row, p, (size_t)m->lead, m->by);
  return take_cursor(k, rows, i, j, out);
}

/* Whether page p's values are read one by one: stored plainly, or in a
   SNAPPY stream that the map indexed. */
static bool by_value(const pq_pmap *m, size_t p) {
  return m->vals[p] >= 0 || (m->snap != NULL && m->snap[p].tags != NULL);
}

/* Flat column ci of group gi, the sorted rows (of the group) into out:
   values of pages laid out plainly, or in indexed SNAPPY streams, are read
   one by one; every other page holding wanted rows is decoded once, a run
   of such pages together. */
static sl_status take_column(const sl_source *src, const pq_file *f, size_t gi, size_t ci,
                             const int64_t *rows, size_t n, uint8_t *out, pq_column *k,
                             sl_error *err) {
  const pq_group *g = &f->meta.groups[gi];
  const pq_col *c = &f->cols[ci];
  const pq_pmap *m;
  SL_TRY(pq_pmap_get(src, f, gi, ci, k, &m, err));
  if (!m->ok) { /* pages not located: the chunk as a range read takes it */
    take_target(f, g, c, rows[0], rows[n - 1] + 1, k);
    SL_TRY(read_chunk(src, f, g, ci, k, err));
    return take_cursor(k, rows, 0, n, out);
  }
  size_t p = 0;
  for (size_t i = 0; i < n;) {
    while (p + 1 < m->n && m->locs[p + 1].first_row <= rows[i]) p++;
    size_t q = p, j = i;
    while (j < n && rows[j] < page_end(m, q)) j++;
    bool deep = false;
    if (m->vals[p] >= 0) {
      SL_TRY(take_values(src, m, p, c->pw, rows, i, j, out, err));
    } else if (by_value(m, p)) {
      SL_TRY(take_snappy(src, m, p, c->pw, rows, i, j, out, &deep, err));
    } else { /* the next pages too, while they decode and hold wanted rows */
      while (j < n && q + 1 < m->n && !by_value(m, q + 1) &&
             rows[j] < page_end(m, q + 1)) {
        q++;
        while (j < n && rows[j] < page_end(m, q)) j++;
      }
      SL_TRY(take_pages(src, f, g, c, m, p, q, rows, i, j, out, k, err));
    }
    if (deep) SL_TRY(take_pages(src, f, g, c, m, p, p, rows, i, j, out, k, err));
    i = j;
    p = q;
  }
  return SL_OK;
}

/* The sorted rows of group gi (rows of the group) into dst, whole rows:
   each column's values gathered, then interleaved. */
static sl_status take_group(const sl_source *src, const pq_file *f, size_t gi,
                            const int64_t *rows, size_t n, uint8_t *dst, pq_work *w,
                            sl_error *err) {
  size_t stride = (size_t)f->width * sl_dtype_size(f->dtype);
  for (size_t i = 0; i < f->ncols; i++) {
    pq_column *k = &w->col[i];
    if (!sl__buf_reserve(&k->picked, n * sl_dtype_size(f->cols[i].dtype)))
      SL_FAIL(err, SL_ENOMEM, "%s: out of memory for %zu rows", sl_source_path(src), n);
    SL_TRY(take_column(src, f, gi, i, rows, n, k->picked.p, k, err));
    w->src[i] = k->picked.p;
  }
  size_t ow = sl_dtype_size(f->dtype);
  if (f->cast) sl__gather_cast((char *)dst, stride, w->src, f->ncols, f->types, f->dtype, 1,
                               (int64_t)n);
  else sl__interleave((char *)dst, stride, w->src, f->ncols, ow, ow, (int64_t)n);
  return SL_OK;
}

/* A list column: windows of nearby rows decoded as range reads, the
   wanted rows copied out. */
#define PQ_TAKE_WINDOW (4 << 20)

static sl_status take_windows(const sl_shard *s, const pq_file *f, const sl_source *src,
                              const int64_t *rows, size_t n, uint8_t *dst, sl_error *err) {
  size_t rb = (size_t)f->width * sl_dtype_size(f->dtype);
  int64_t span = SL_MAX(1, PQ_TAKE_WINDOW / (int64_t)SL_MAX(rb, 1));
  uint8_t *buf = sl__malloc((size_t)span * rb + 1);
  if (buf == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for rows", s->path);
  sl_status st = SL_OK;
  for (size_t i = 0; i < n && st == SL_OK;) {
    size_t j = i + 1;
    while (j < n && rows[j] - rows[i] < span) j++;
    st = pq_read(s, f, src, rows[i], rows[j - 1] + 1, buf, err);
    for (size_t t = i; st == SL_OK && t < j; t++)
      memcpy(dst + t * rb, buf + (size_t)(rows[t] - rows[i]) * rb, rb);
    i = j;
  }
  sl__free(buf);
  return st;
}

/* The gather's rows of one shard (ascending, distinct): per row group,
   only the values they need (pagemap.c says which pages allow that). */
static sl_status pq_take(const sl_shard *s, const void *handle, const sl_source *src,
                         const int64_t *rows, size_t n, void *dst, sl_error *err) {
  const pq_file *f = handle;
  if (n == 0) return SL_OK;
  if (f->ncols == 0 || f->cols[0].is_list || f->pmaps == NULL)
    return take_windows(s, f, src, rows, n, dst, err);
  pq_work *w = work_get(f->ncols);
  int64_t *rel = sl__malloc(n * sizeof *rel);
  sl_status st = w != NULL && rel != NULL ? SL_OK : sl__fail(err, SL_ENOMEM, "%s: out of "
                                                             "memory for %zu rows", s->path, n);
  size_t rb = (size_t)f->width * sl_dtype_size(f->dtype), i = 0;
  for (size_t gi = 0; gi < f->meta.ngroups && i < n && st == SL_OK; gi++) {
    const pq_group *g = &f->meta.groups[gi];
    size_t j = i;
    while (j < n && rows[j] < g->first_row + g->num_rows) j++;
    for (size_t t = i; t < j; t++) rel[t - i] = rows[t] - g->first_row;
    if (j > i) st = take_group(src, f, gi, rel, j - i, (uint8_t *)dst + i * rb, w, err);
    i = j;
  }
  if (w != NULL) sl__pool_put(&pool, w);
  sl__free(rel);
  return st;
}

/* Row groups are the units: a piece that ends inside one decodes its
   column chunks again. */
static int64_t pq_unit_start(const sl_shard *s, const void *handle, int64_t row) {
  const pq_file *f = handle;
  for (size_t i = 0; i < f->meta.ngroups; i++)
    if (f->meta.groups[i].first_row >= row) return f->meta.groups[i].first_row;
  return s->rows;
}

/* For inspect: "x DOUBLE (<f8), d DATE (INT32) (<i4: int32 days since 1970-01-01)". */
static void pq_describe(const void *handle, char *buf, size_t cap) {
  const pq_file *f = handle;
  size_t k = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < f->ncols && k + 1 < cap; i++) {
    const pq_col *c = &f->cols[i];
    char unit[128];
    pq_unit_text(c->e, unit, sizeof unit);
    k += (size_t)snprintf(buf + k, cap - k, "%s%.*s %s (%s%s%s)", i ? ", " : "", c->name_len,
                          c->name, c->desc, sl_dtype_str(c->dtype), unit[0] ? ": " : "", unit);
  }
}

static const char *const pq_ext[] = {".parquet", ".pq", NULL};

const sl_driver sl__parquet_driver = {
    .abi = SL_DRIVER_ABI,
    .struct_size = sizeof(sl_driver),
    .name = "parquet",
    .extensions = pq_ext,
    .dataset_open = pq_dataset_open,
    .dataset_close = pq_dataset_close,
    .probe = pq_probe,
    .open = pq_open,
    .close = pq_close,
    .read = pq_read,
    .write = sl__parquet_write,
    .unit_start = pq_unit_start,
    .describe = pq_describe,
    .take = pq_take,
    .inspect = pq_inspect,
};
