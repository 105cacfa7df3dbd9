/* Step 4, the leaf read shared by every variant: open a shard for reading
 * (its file through the cache, identity checked; the driver's handle, its
 * re-read header checked against discovery), then read one piece (a row
 * range of one shard) into host memory. Pieces are independent, so
 * executors differ only in how they hand pieces out and where the host
 * memory is (the tile itself, or a staging buffer).
 *
 * Formats that answer `extents` are read with pread straight into place;
 * with O_DIRECT the aligned middle of each range goes straight in too, and
 * the unaligned head and tail through the buffered descriptor.
 */
#include <assert.h>
#include <string.h>

#include "core.h"

/* Below this, O_DIRECT's fixed costs outweigh skipping the page cache
   (--io auto); --io direct asks for it from two blocks on, the least that
   leaves an aligned middle whatever the offset. */
#define SL_DIRECT_MIN (1 << 20)
#define SL_DIRECT_FLOOR (2 * 4096)

/* ------------------------------------------------------------ opening */

/* What open re-read agrees with what discovery found for shard i. */
static sl_status check_reread(const sl_dataset *d, size_t i, const sl_shard_info *in,
                              sl_error *err) {
  if (in->ndim == 0) return SL_OK; /* the driver does not re-read */
  const sl_shard *s = &d->shards[i];
  char label[512], now[256], was[256];
  bool same = in->dtype == d->dtype && in->ndim == d->ndim && in->shape[0] == s->rows;
  for (int k = 1; same && k < in->ndim; k++)
    same = in->shape[k] == d->shape[k] || (in->shape[k] < 0 && s->rows == 0);
  if (same) return SL_OK;
  int64_t shape[SL_MAX_DIMS];
  memcpy(shape, d->shape, sizeof shape);
  shape[0] = s->rows;
  sl__shape_text(in->shape, in->ndim, now, sizeof now);
  sl__shape_text(shape, d->ndim, was, sizeof was);
  SL_FAIL(err, SL_ECHANGED, "%s changed since the dataset was opened (dtype %s shape %s, was "
          "%s %s)", sl__shard_label(s, label, sizeof label), sl_dtype_str(in->dtype), now,
          sl_dtype_str(d->dtype), was);
}

sl_status sl__leaf_open_shard(const sl_dataset *d, size_t i, _Atomic int64_t *opened,
                              void **handle, sl_error *err) {
  *handle = d->state;
  if (d->driver->open == NULL) return SL_OK; /* identity is checked at each read */
  sl_file_ref f;
  SL_TRY(sl__cache_get(d->cache, d->file_of[i], false, opened, &f, err));
  sl_shard_info info;
  memset(&info, 0, sizeof info);
  void *h = NULL;
  sl_status st = d->driver->open(d->state, &d->shards[i], &f.src, &h, &info, err);
  sl__cache_put(d->cache, &f);
  if (st != SL_OK) return st; /* a failed open leaves nothing to close */
  st = check_reread(d, i, &info, err);
  if (st != SL_OK) {
    sl__leaf_close_shard(d, h);
    return st;
  }
  *handle = h;
  return SL_OK;
}

void sl__leaf_close_shard(const sl_dataset *d, void *handle) {
  if (handle != NULL && handle != d->state && d->driver->close != NULL) d->driver->close(handle);
}

/* ------------------------------------------------------------ reading */

/* O_DIRECT needs file offset, length and memory address all aligned to A.
 * When dst - off is not a multiple of A, the aligned file block at F0 cannot
 * land in place; it is read to the aligned address delta bytes earlier and
 * moved up by delta. F0 is chosen so that earlier address is still inside
 * this range, so a piece never touches bytes of another piece. */
static sl_status read_direct(const sl_file_ref *f, char *dst, int64_t off, int64_t len,
                             bool *used, int64_t *by, sl_error *err) {
  size_t A = f->align;
  const char *path = f->src.path;
  size_t delta = (size_t)(((uintptr_t)dst - (uint64_t)off) & (A - 1));
  int64_t F0 = (off + (int64_t)delta + (int64_t)A - 1) / (int64_t)A * (int64_t)A;
  int64_t F1 = (off + len) / (int64_t)A * (int64_t)A;
  *used = false;
  if (F1 - F0 < (int64_t)A) return SL_OK;
  char *M0 = dst + (F0 - off) - delta;
  assert(((uintptr_t)M0 & (A - 1)) == 0 && M0 >= dst);
  bool refused;
  SL_TRY(sl__pread_direct(f->dfd, path, M0, (size_t)(F1 - F0), F0, &refused, err));
  if (refused) return SL_OK;
  if (delta) memmove(M0 + delta, M0, (size_t)(F1 - F0));
  SL_TRY(sl__pread_full(f->src.fd, path, dst, (size_t)(F0 - off), off, err));
  SL_TRY(sl__pread_full(f->src.fd, path, dst + (F1 - off), (size_t)(off + len - F1), F1, err));
  by[SL_PATH_DIRECT] += F1 - F0;
  by[SL_PATH_BUFFERED] += len - (F1 - F0);
  *used = true;
  return SL_OK;
}

static sl_status read_buffered(int fd, const char *path, char *dst, int64_t off, int64_t len,
                               int64_t *by, sl_error *err) {
  SL_TRY(sl__pread_full(fd, path, dst, (size_t)len, off, err));
  by[SL_PATH_BUFFERED] += len;
  return SL_OK;
}

/* One byte range into dst, by the configured I/O mode; by[path] += the
   bytes each path read. */
static sl_status read_range(const sl_leaf *L, const sl_file_ref *f, char *dst, int64_t off,
                            int64_t len, int64_t *by, sl_error *err) {
  int fd = f->src.fd;
  const char *path = f->src.path;
  if (f->dfd < 0 || L->io == SL_IO_BUFFERED || (L->io == SL_IO_AUTO && len < SL_DIRECT_MIN))
    return read_buffered(fd, path, dst, off, len, by, err);
  if (L->io == SL_IO_AUTO) { /* what the page cache has comes from memory */
    size_t got;
    SL_TRY(sl__pread_cached(fd, path, dst, (size_t)len, off, &got, err));
    by[SL_PATH_CACHED] += (int64_t)got;
    dst += got;
    off += (int64_t)got;
    len -= (int64_t)got;
    if (len == 0) return SL_OK;
  }
  bool used;
  SL_TRY(read_direct(f, dst, off, len, &used, by, err));
  return used ? SL_OK : read_buffered(fd, path, dst, off, len, by, err);
}

static sl_status read_extents(const sl_leaf *L, const sl_file_ref *f, const char *map,
                              const sl_extent *ex, size_t n, char *dst, int64_t want,
                              int64_t *by, sl_error *err) {
  int64_t total = 0;
  const char *path = f->src.path, *drv = L->ds->driver->name;
  for (size_t i = 0; i < n; i++) {
    int64_t end;
    if (ex[i].length < 0 || ex[i].offset < 0 || !sl__add(total, ex[i].length, &total) ||
        total > want || !sl__add(ex[i].offset, ex[i].length, &end) || end > f->src.size)
      SL_FAIL(err, SL_EFORMAT, "%s: driver %s gave byte ranges that do not match the rows "
              "or lie past the file's %lld bytes", path, drv, (long long)f->src.size);
    if (map != NULL) { /* checked just above to lie inside the file as discovered */
      sl_source m = f->src;
      m.mem = (const uint8_t *)map;
      SL_TRY(sl_source_read(&m, ex[i].offset, (size_t)ex[i].length,
                            dst + (total - ex[i].length), err));
      by[SL_PATH_MAPPED] += ex[i].length;
    } else {
      SL_TRY(read_range(L, f, dst + (total - ex[i].length), ex[i].offset, ex[i].length, by,
                        err));
    }
  }
  if (total != want)
    SL_FAIL(err, SL_EFORMAT, "%s: driver %s gave %lld bytes of ranges for %lld bytes of rows",
            path, drv, (long long)total, (long long)want);
  return SL_OK;
}

/* Asks the driver for extents (growing the array if it needs more);
   *n = 0 afterwards means the driver wants to decode through read. */
static sl_status get_extents(const sl_dataset *d, const sl_shard *s, const void *h,
                             const sl_segment *seg, sl_extent *stack, sl_extent **ex,
                             size_t *n, sl_error *err) {
  *ex = stack;
  *n = SL_EXTENTS_STACK;
  SL_TRY(d->driver->extents(s, h, seg->file_lo, seg->file_hi, stack, n, err));
  if (*n <= SL_EXTENTS_STACK) return SL_OK;
  size_t cap = *n;
  sl_extent *big = sl__malloc(cap * sizeof *big);
  if (big == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for %zu ranges", s->path, cap);
  *n = cap;
  sl_status st = d->driver->extents(s, h, seg->file_lo, seg->file_hi, big, n, err);
  if (st == SL_OK && *n > cap)
    st = sl__fail(err, SL_EFORMAT, "%s: driver %s keeps asking for more ranges", s->path,
                  d->driver->name);
  if (st != SL_OK) { /* the caller frees nothing on failure */
    sl__free(big);
    *n = 0;
    return st;
  }
  *ex = big;
  return SL_OK;
}

/* A decoding driver reads the file through a mapping where one is kept
   (its reads become copies from the page cache, with no system call, and
   a driver that can use the bytes where they lie does: Arrow's columns are
   interleaved straight from it); a read that finds the file shrunk is an
   error (sl__map_guard), not a SIGBUS. With a trace, "prefault" and
   "decode" spans, and the driver's own finer ones (sl__trace_sub), inside
   the piece's. */
static sl_status decode(const sl_leaf *L, const sl_shard *s, const void *h,
                        const sl_file_ref *f, const char *map, const sl_segment *seg,
                        char *dst, int64_t want, int64_t *by, sl_error *err) {
  const sl_driver *drv = L->ds->driver;
  if (drv->read == NULL)
    SL_FAIL(err, SL_EFORMAT, "%s: driver %s cannot read these rows", s->path, drv->name);
  sl__trace_set_current(L->trace);
  double t0 = sl__now();
  int64_t s0 = sl__trace_t0();
  sl__prefault(dst, (size_t)want);
  sl__trace_sub("prefault", s0);
  if (L->fault_ns != NULL)
    atomic_fetch_add_explicit(L->fault_ns, (int64_t)((sl__now() - t0) * 1e9),
                              memory_order_relaxed);
  sl_source src = f->src;
  if (map != NULL) src.mem = (const uint8_t *)map;
  s0 = sl__trace_t0();
  sl_status st = drv->read(s, h, &src, seg->file_lo, seg->file_hi, dst, err);
  sl__trace_sub("decode", s0);
  sl__trace_set_current(NULL);
  by[SL_PATH_DECODED] += want;
  return st;
}

/* Extents where the driver gives them (the file read straight into dst,
   swapped after), the driver's decoder otherwise. */
static sl_status read_piece(const sl_leaf *L, const sl_shard *s, const void *h,
                            const sl_file_ref *f, const char *map, const sl_segment *seg,
                            char *dst, size_t *swap_es, int64_t *by, sl_error *err) {
  const sl_dataset *d = L->ds;
  int64_t want = (seg->file_hi - seg->file_lo) * d->row_bytes;
  size_t n = 0;
  sl_extent stack[SL_EXTENTS_STACK], *ex = stack;
  sl_status st = SL_OK;
  if (d->driver->extents != NULL) st = get_extents(d, s, h, seg, stack, &ex, &n, err);
  if (st == SL_OK && n > 0) {
    st = read_extents(L, f, map, ex, n, dst, want, by, err);
    size_t es = sl_dtype_size(d->dtype);
    if (st == SL_OK && s->swap && swap_es != NULL) *swap_es = sl__swap_unit(d->dtype);
    else if (st == SL_OK && s->swap) sl__byteswap(dst, (size_t)want / es, es, d->dtype);
  } else if (st == SL_OK) {
    if (map == NULL && L->io != SL_IO_DIRECT) map = sl__cache_map(L->ds->cache, f);
    st = decode(L, s, h, f, map, seg, dst, want, by, err);
  }
  if (ex != stack) sl__free(ex);
  return st;
}

static sl_status leaf_piece(const sl_leaf *L, const sl_segment *seg, char *dst,
                            size_t *swap_es, sl_error *err) {
  const sl_dataset *d = L->ds;
  const sl_shard *s = &d->shards[seg->shard];
  assert(seg->shard >= L->first && seg->shard <= L->last);
  assert(seg->file_lo < seg->file_hi && seg->file_hi <= s->rows);
  /* a second, O_DIRECT descriptor only where a range could use it */
  int64_t bytes = (seg->file_hi - seg->file_lo) * d->row_bytes;
  bool direct = L->io == SL_IO_DIRECT ? bytes >= SL_DIRECT_FLOOR
                                      : L->io == SL_IO_AUTO && bytes >= SL_DIRECT_MIN;
  sl_file_ref f;
  SL_TRY(sl__cache_get(d->cache, d->file_of[seg->shard], direct, L->opened, &f, err));
  const char *map = NULL;
  if (L->small_maps && bytes <= SL_MAP_MAX && L->io != SL_IO_DIRECT && d->driver->extents)
    map = sl__cache_map(d->cache, &f);
  int64_t t0 = L->trace != NULL ? sl__now_ns() : 0, by[SL_PATH_COUNT] = {0};
  sl_status st = read_piece(L, s, L->handles[seg->shard - L->first], &f, map, seg, dst,
                            swap_es, by, err);
  sl__cache_put(d->cache, &f);
  if (st != SL_OK) return st;
  sl__counts_add(L->counts, by);
  int64_t row0 = d->cum_rows[seg->shard];
  sl__leaf_trace(L, t0, seg->shard, row0 + seg->file_lo, row0 + seg->file_hi, 0, by);
  return SL_OK;
}

void sl__counts_add(sl_counts *c, const int64_t *by_path) {
  if (c == NULL) return;
  int64_t sum = 0;
  for (int k = 0; k < SL_PATH_COUNT; k++) {
    if (by_path[k] == 0) continue;
    atomic_fetch_add_explicit(&c->path[k], by_path[k], memory_order_relaxed);
    sum += by_path[k];
  }
  atomic_fetch_add_explicit(&c->done, sum, memory_order_relaxed);
}

sl_status sl__leaf_piece(const sl_leaf *L, const sl_segment *seg, char *dst, sl_error *err) {
  return leaf_piece(L, seg, dst, NULL, err);
}

sl_status sl__leaf_piece_raw(const sl_leaf *L, const sl_segment *seg, char *dst,
                             size_t *swap_es, sl_error *err) {
  *swap_es = 0;
  return leaf_piece(L, seg, dst, swap_es, err);
}

void sl__leaf_trace(const sl_leaf *L, int64_t t0, size_t shard, int64_t lo, int64_t hi,
                    int64_t rows, const int64_t *by) {
  if (L->trace == NULL) return;
  sl_trace_piece p = {L->ds->shards[shard].path, (int64_t)shard, lo, hi, by, rows};
  sl__trace_piece_span(L->trace, t0, &p);
}

sl_status sl__leaf_take(const sl_leaf *L, size_t shard, const int64_t *rows, size_t n,
                        char *dst, sl_error *err) {
  const sl_dataset *d = L->ds;
  assert(shard >= L->first && shard <= L->last && d->driver->take != NULL);
  sl_file_ref f;
  SL_TRY(sl__cache_get(d->cache, d->file_of[shard], false, L->opened, &f, err));
  sl_source src = f.src;
  const char *map = L->small_maps && L->io != SL_IO_DIRECT ? sl__cache_map(d->cache, &f) : NULL;
  if (map != NULL) src.mem = (const uint8_t *)map; /* the driver's small reads are copies */
  int64_t t0 = L->trace != NULL ? sl__now_ns() : 0;
  sl__trace_set_current(L->trace);
  sl_status st = d->driver->take(&d->shards[shard], L->handles[shard - L->first], &src, rows,
                                 n, dst, err);
  sl__trace_set_current(NULL);
  sl__cache_put(d->cache, &f);
  if (st != SL_OK || n == 0) return st;
  int64_t by[SL_PATH_COUNT] = {0};
  by[SL_PATH_DECODED] = (int64_t)n * d->row_bytes;
  sl__counts_add(L->counts, by);
  int64_t row0 = d->cum_rows[shard];
  sl__leaf_trace(L, t0, shard, row0 + rows[0], row0 + rows[n - 1] + 1, (int64_t)n, by);
  return SL_OK;
}

sl_status sl__leaf_extents(const sl_leaf *L, const sl_segment *seg, sl_extent *stack,
                           sl_extent **ex, size_t *n, sl_error *err) {
  const sl_dataset *d = L->ds;
  *ex = stack;
  *n = 0;
  if (d->driver->extents == NULL) return SL_OK;
  const sl_shard *s = &d->shards[seg->shard];
  return get_extents(d, s, L->handles[seg->shard - L->first], seg, stack, ex, n, err);
}

void sl__leaf_extents_free(sl_extent *stack, sl_extent *ex) {
  if (ex != stack) sl__free(ex);
}

sl_status sl_dataset_describe(const sl_dataset *d, size_t i, char *buf, size_t cap,
                              sl_error *err) {
  sl_error_clear(err);
  if (buf == NULL || cap == 0) SL_FAIL(err, SL_EINVAL, "sl_dataset_describe: no buffer");
  buf[0] = '\0';
  if (d == NULL || i >= d->nshards)
    SL_FAIL(err, SL_EINVAL, "sl_dataset_describe: shard %zu out of range", i);
  if (d->driver->describe == NULL) return SL_OK;
  void *h;
  SL_TRY(sl__leaf_open_shard(d, i, NULL, &h, err));
  d->driver->describe(h, buf, cap);
  sl__leaf_close_shard(d, h);
  return SL_OK;
}
