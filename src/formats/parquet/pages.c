/* Where a column chunk's pages are: from its OffsetIndex when it has one
 * (for whole reads too, so that every read checks the pages against it
 * alike), or, when only some rows of the chunk are wanted, from a walk
 * over the page headers, read a window at a time. A read of part of a row
 * group then reads only the dictionary and the pages holding its rows. */
#include <string.h>

#include "pq.h"

static bool in_data(const pq_file *f, int64_t off, int64_t len, int64_t *data_end) {
  int64_t end;
  *data_end = f->file_size - 8 - (int64_t)f->footer_len;
  return off >= 4 && sl__add(off, len, &end) && end <= *data_end;
}

/* The bytes of a chunk: from its dictionary page (if any) to its end. */
sl_status pq_chunk_range(const char *path, const pq_file *f, const pq_chunk *c,
                         const pq_col *col, int64_t *off, int64_t *len, sl_error *err) {
  *off = c->dict_off > 0 && c->dict_off < c->data_off ? c->dict_off : c->data_off;
  *len = c->compressed;
  int64_t data_end;
  if (!in_data(f, *off, *len, &data_end))
    SL_FAIL(err, SL_EFORMAT, "%s: column %.*s: the chunk (%lld bytes at %lld) lies outside the "
            "data section (bytes 4..%lld)", path, col->name_len, col->name, (long long)*len,
            (long long)*off, (long long)data_end);
  return SL_OK;
}

/* The OffsetIndex of chunk c (its bytes at off, n long), parsed into k;
   *usable false (and k->nlocs 0) when it lies outside the data section or
   does not parse as pages in order inside the chunk: an index only speeds
   reads up, and one that cannot be used is ignored, for every read alike. */
static sl_status read_index(const sl_source *src, const pq_file *f, const pq_group *g,
                            const pq_chunk *c, int64_t off, int64_t n, pq_column *k,
                            bool *usable, sl_error *err) {
  const char *path = sl_source_path(src);
  int64_t data_end;
  *usable = false;
  k->nlocs = 0;
  if (!in_data(f, c->index_off, c->index_len, &data_end)) return SL_OK;
  if (!sl__buf_reserve(&k->sc.page, (size_t)c->index_len))
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory for an offset index", path);
  SL_TRY(sl_source_read(src, c->index_off, (size_t)c->index_len, k->sc.page.p, err));
  sl__free(k->locs);
  k->locs_cap = 0;
  bool oom;
  const char *why = pq_parse_offset_index(k->sc.page.p, (size_t)c->index_len, off, off + n,
                                          g->num_rows, &k->locs, &k->nlocs, &oom);
  if (oom) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for an offset index", path);
  k->locs_cap = k->nlocs;
  *usable = why == NULL;
  return SL_OK;
}

/* Page headers are read a window at a time while walking a chunk: 4 KiB
   for each header of large pages, doubling (to 1 MiB) while a window holds
   whole pages, so small pages come many to a read. */
#define PQ_WALK_MIN (4 << 10)
#define PQ_WALK_MAX (1 << 20)
#define PQ_MAX_HEADER (16 << 20)

/* A walk over a chunk's page headers: file bytes [at, at + len) are in buf. */
typedef struct pq_walk {
  const sl_source *src;
  const pq_col *col;
  int64_t first_row, end; /* the group's first row (messages); the chunk's end */
  sl_buf *buf;
  int64_t at, len, win;
  sl_error *err;
} pq_walk;

static sl_status walk_fail(const pq_walk *w, const char *why) {
  SL_FAIL(w->err, SL_EFORMAT, "%s: column %.*s: %s (row group starting at row %lld)",
          sl_source_path(w->src), w->col->name_len, w->col->name, why,
          (long long)w->first_row);
}

/* Reads the window afresh: len bytes from pos (fewer at the chunk's end). */
static sl_status refill(pq_walk *w, int64_t pos, int64_t len) {
  len = SL_MIN(len, w->end - pos);
  if (!sl__buf_reserve(w->buf, (size_t)len))
    SL_FAIL(w->err, SL_ENOMEM, "%s: out of memory for page headers", sl_source_path(w->src));
  SL_TRY(sl_source_read(w->src, pos, (size_t)len, w->buf->p, w->err));
  w->at = pos;
  w->len = len;
  return SL_OK;
}

/* The page header at file offset pos. A header cut off by the window is
   read again in a larger one. */
static sl_status header_at(pq_walk *w, int64_t pos, pq_page *h) {
  int64_t want = w->win;
  for (;;) {
    if (pos >= w->at && pos < w->at + w->len) {
      const char *why = pq_parse_page(w->buf->p + (pos - w->at),
                                      (size_t)(w->at + w->len - pos), h);
      if (why == NULL && pos > w->at) w->win = SL_MIN(w->win * 2, PQ_WALK_MAX);
      if (why == NULL) return SL_OK;
      if (w->at + w->len == w->end || (w->at == pos && w->len >= PQ_MAX_HEADER))
        return walk_fail(w, why);
      if (w->at == pos) want = w->len * 16;
    }
    SL_TRY(refill(w, pos, want));
  }
}

/* File bytes [pos, pos + len) of the chunk (inside it), through the window. */
static sl_status bytes_at(pq_walk *w, int64_t pos, int64_t len, const uint8_t **p) {
  if (pos < w->at || pos + len > w->at + w->len) SL_TRY(refill(w, pos, SL_MAX(w->win, len)));
  *p = w->buf->p + (pos - w->at);
  return SL_OK;
}

/* The rows of data page h at pos as pq_page_rows counts them (-1: they
   cannot be told, or the page starts inside a row and so cannot be read
   alone); its repetition levels are read through the window where needed. */
static sl_status walk_rows(pq_walk *w, const pq_page *h, int64_t pos, int64_t cap, sl_buf *rep,
                           int64_t *rows) {
  const uint8_t *body = NULL;
  if (w->col->is_list && h->type == PQ_DATA_PAGE_V2)
    SL_TRY(bytes_at(w, pos + (int64_t)h->header_len, SL_MIN(h->rep_len, h->compressed), &body));
  bool starts_row;
  const char *why = pq_page_rows(w->col, h, body, cap, rep, rows, &starts_row);
  if (why == pq_oom)
    SL_FAIL(w->err, SL_ENOMEM, "%s: out of memory for levels", sl_source_path(w->src));
  if (why != NULL) return walk_fail(w, why);
  if (!starts_row) *rows = -1;
  return SL_OK;
}

static bool add_loc(pq_column *k, pq_loc l) {
  if (k->nlocs == k->locs_cap) {
    size_t cap = k->locs_cap ? k->locs_cap * 2 : 64;
    pq_loc *p = sl__grow(k->locs, k->locs_cap, cap, sizeof *p);
    if (p == NULL) return false;
    k->locs = p;
    k->locs_cap = cap;
  }
  k->locs[k->nlocs++] = l;
  return true;
}

/* For a chunk without an OffsetIndex (bytes [off, off + n)): its data pages
   from the first to the one holding row upto - 1, found from their headers,
   into k->locs; *end_row is the row after them. *ok is false where a page's
   rows cannot be told (v1 pages of a list column, a v2 page starting inside
   a row) or it holds none. */
static sl_status walk_pages(const sl_source *src, const pq_group *g, int64_t off, int64_t n,
                            int64_t upto, pq_column *k, int64_t *end_row, bool *ok,
                            sl_error *err) {
  pq_walk w = {src, k->t.col, g->first_row, off + n, &k->sc.page, 0, 0, PQ_WALK_MIN, err};
  int64_t pos = off, row = 0, cap;
  if (!sl__mul(g->num_rows, SL_MAX(k->t.width, 1), &cap)) cap = INT64_MAX;
  k->nlocs = 0;
  *ok = false;
  while (pos < w.end && row < upto) {
    pq_page h;
    SL_TRY(header_at(&w, pos, &h));
    if ((int64_t)h.header_len + h.compressed > w.end - pos)
      return walk_fail(&w, "a page runs past the end of its column chunk");
    int64_t size = (int64_t)h.header_len + h.compressed;
    if (h.type == PQ_DATA_PAGE || h.type == PQ_DATA_PAGE_V2) {
      int64_t rows;
      SL_TRY(walk_rows(&w, &h, pos, cap, &k->sc.rep, &rows));
      if (rows <= 0) return SL_OK;
      if (rows > g->num_rows - row)
        return walk_fail(&w, "pages hold more rows than their row group");
      if (!add_loc(k, (pq_loc){pos, size, row}))
        SL_FAIL(err, SL_ENOMEM, "%s: out of memory for page locations", sl_source_path(src));
      row += rows;
    }
    pos += size;
  }
  *ok = k->nlocs > 0;
  *end_row = row;
  return SL_OK;
}

/* Where chunk c's pages are, for rows [a, b) of the group: from its
   OffsetIndex (for whole reads too, so that every read checks the pages
   against it alike), or else, when only some rows are wanted, from the page
   headers (*by says which). *ok false: unknown, read the chunk whole. */
sl_status pq_locate_pages(const sl_source *src, const pq_file *f, const pq_group *g,
                          const pq_chunk *c, int64_t off, int64_t n, pq_column *k,
                          int64_t *end_row, const char **by, bool *ok, sl_error *err) {
  *ok = false;
  *end_row = g->num_rows;
  *by = "its offset index";
  if (c->index_off >= 0) SL_TRY(read_index(src, f, g, c, off, n, k, ok, err));
  if (*ok || (k->t.a == 0 && k->t.b == g->num_rows)) return SL_OK;
  *by = "its page headers";
  return walk_pages(src, g, off, n, k->t.b, k, end_row, ok, err);
}

sl_status pq_locate_all(const sl_source *src, const pq_file *f, const pq_group *g,
                        const pq_chunk *c, int64_t off, int64_t n, pq_column *k,
                        int64_t *end_row, const char **by, bool *ok, sl_error *err) {
  *ok = false;
  *end_row = g->num_rows;
  *by = "its offset index";
  if (c->index_off >= 0) SL_TRY(read_index(src, f, g, c, off, n, k, ok, err));
  if (*ok) return SL_OK;
  *by = "its page headers";
  SL_TRY(walk_pages(src, g, off, n, g->num_rows, k, end_row, ok, err));
  *ok = *ok && *end_row == g->num_rows;
  return SL_OK;
}
