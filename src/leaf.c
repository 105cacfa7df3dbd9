/* Step 4, the leaf read shared by every CPU variant: open the files of the
 * shards a read touches, then read one piece (a row range of one shard) into
 * its place in the tile. Pieces are independent, so variants differ only in
 * how they hand pieces out (exec_cpu.c, exec_omp.c).
 *
 * Formats that answer `extents` are read with pread straight into the tile;
 * with O_DIRECT the aligned middle of each range goes straight in too, and
 * the unaligned head and tail through the buffered descriptor.
 */
#include <assert.h>
#include <string.h>

#include "sl_internal.h"

/* Below this, O_DIRECT's fixed costs outweigh skipping the page cache. */
#define SL_DIRECT_MIN (1 << 20)
#define SL_EXTENTS_STACK 16

sl_status sl__leaf_open(sl_leaf *L, const sl_dataset *d, size_t first, size_t last,
                        sl_io_mode io, sl_error *err) {
  memset(L, 0, sizeof *L);
  L->ds = d;
  L->io = io;
  L->first = first;
  L->last = last;
  size_t n = last - first + 1;
  L->fds = sl__malloc(n * sizeof *L->fds);
  L->dfds = sl__malloc(n * sizeof *L->dfds);
  L->align = sl__calloc(n, sizeof *L->align);
  if (L->fds == NULL || L->dfds == NULL || L->align == NULL) {
    sl__leaf_close(L);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory", d->root);
  }
  for (size_t i = 0; i < n; i++) L->fds[i] = L->dfds[i] = -1;
  if (d->driver->extents == NULL) return SL_OK; /* the driver opens its own files */
  for (size_t i = 0; i < n; i++) {
    const sl_shard *s = &d->shards[first + i];
    if (s->rows == 0) continue;
    sl_status st = sl__open_read(s->path, false, &L->fds[i], err);
    if (st == SL_OK && io != SL_IO_BUFFERED) {
      sl_error ignored = {0};
      if (sl__open_read(s->path, true, &L->dfds[i], &ignored) == SL_OK)
        L->align[i] = sl__direct_align(L->dfds[i]);
      else
        L->dfds[i] = -1; /* filesystem without O_DIRECT: buffered it is */
    }
    if (st != SL_OK) {
      sl__leaf_close(L);
      return st;
    }
  }
  return SL_OK;
}

void sl__leaf_close(sl_leaf *L) {
  size_t n = L->fds ? L->last - L->first + 1 : 0;
  for (size_t i = 0; i < n; i++) {
    sl__close(L->fds[i]);
    if (L->dfds) sl__close(L->dfds[i]);
  }
  sl__free(L->fds);
  sl__free(L->dfds);
  sl__free(L->align);
  L->fds = L->dfds = NULL;
  L->align = NULL;
}

/* O_DIRECT needs file offset, length and memory address all aligned to A.
 * When dst - off is not a multiple of A, the aligned file block at F0 cannot
 * land in place; it is read to the aligned address delta bytes earlier and
 * moved up by delta. F0 is chosen so that earlier address is still inside
 * this range, so a piece never touches bytes of another piece. */
static sl_status read_direct(int dfd, int fd, const char *path, size_t A, char *dst,
                             int64_t off, int64_t len, bool *used, sl_error *err) {
  size_t delta = (size_t)(((uintptr_t)dst - (uint64_t)off) & (A - 1));
  int64_t F0 = (off + (int64_t)delta + (int64_t)A - 1) / (int64_t)A * (int64_t)A;
  int64_t F1 = (off + len) / (int64_t)A * (int64_t)A;
  *used = false;
  if (F1 - F0 < (int64_t)A) return SL_OK;
  char *M0 = dst + (F0 - off) - delta;
  assert(((uintptr_t)M0 & (A - 1)) == 0 && M0 >= dst);
  bool refused;
  SL_TRY(sl__pread_direct(dfd, path, M0, (size_t)(F1 - F0), F0, &refused, err));
  if (refused) return SL_OK;
  if (delta) memmove(M0 + delta, M0, (size_t)(F1 - F0));
  SL_TRY(sl__pread_full(fd, path, dst, (size_t)(F0 - off), off, err));
  SL_TRY(sl__pread_full(fd, path, dst + (F1 - off), (size_t)(off + len - F1), F1, err));
  *used = true;
  return SL_OK;
}

/* One byte range into dst, by the configured I/O mode. */
static sl_status read_range(const sl_leaf *L, size_t k, const char *path, char *dst,
                            int64_t off, int64_t len, sl_error *err) {
  int fd = L->fds[k], dfd = L->dfds[k];
  if (dfd < 0 || L->io == SL_IO_BUFFERED || (L->io == SL_IO_AUTO && len < SL_DIRECT_MIN))
    return sl__pread_full(fd, path, dst, (size_t)len, off, err);
  if (L->io == SL_IO_AUTO) { /* what the page cache has comes from memory */
    size_t got;
    SL_TRY(sl__pread_cached(fd, path, dst, (size_t)len, off, &got, err));
    dst += got;
    off += (int64_t)got;
    len -= (int64_t)got;
    if (len == 0) return SL_OK;
  }
  bool used;
  SL_TRY(read_direct(dfd, fd, path, L->align[k], dst, off, len, &used, err));
  return used ? SL_OK : sl__pread_full(fd, path, dst, (size_t)len, off, err);
}

static sl_status read_extents(const sl_leaf *L, const sl_shard *s, size_t k,
                              const sl_extent *ex, size_t n, char *dst, int64_t want,
                              sl_error *err) {
  int64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (ex[i].length < 0 || ex[i].offset < 0 || !sl__add(total, ex[i].length, &total) ||
        total > want)
      SL_FAIL(err, SL_EFORMAT, "%s: driver %s gave byte ranges that do not match the rows",
              s->path, L->ds->driver->name);
    SL_TRY(read_range(L, k, s->path, dst + (total - ex[i].length), ex[i].offset,
                      ex[i].length, err));
  }
  if (total != want)
    SL_FAIL(err, SL_EFORMAT, "%s: driver %s gave %lld bytes of ranges for %lld bytes of rows",
            s->path, L->ds->driver->name, (long long)total, (long long)want);
  return SL_OK;
}

/* Asks the driver for extents (growing the array if it needs more);
   *n = 0 afterwards means the driver wants to decode through read. */
static sl_status get_extents(const sl_dataset *d, const sl_shard *s, const sl_segment *seg,
                             sl_extent *stack, sl_extent **ex, size_t *n, sl_error *err) {
  *ex = stack;
  *n = SL_EXTENTS_STACK;
  SL_TRY(d->driver->extents(s, seg->file_lo, seg->file_hi, stack, n, err));
  if (*n <= SL_EXTENTS_STACK) return SL_OK;
  size_t cap = *n;
  *ex = sl__malloc(cap * sizeof **ex);
  if (*ex == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for %zu ranges", s->path, cap);
  *n = cap;
  sl_status st = d->driver->extents(s, seg->file_lo, seg->file_hi, *ex, n, err);
  if (st == SL_OK && *n > cap)
    st = sl__fail(err, SL_EFORMAT, "%s: driver %s keeps asking for more ranges", s->path,
                  d->driver->name);
  return st;
}

sl_status sl__leaf_piece(const sl_leaf *L, const sl_segment *seg, sl_error *err) {
  const sl_dataset *d = L->ds;
  const sl_shard *s = &d->shards[seg->shard];
  assert(seg->shard >= L->first && seg->shard <= L->last);
  assert(seg->file_lo < seg->file_hi && seg->file_hi <= s->rows);
  char *dst = L->dst + seg->dst_row * d->row_bytes;
  int64_t want = (seg->file_hi - seg->file_lo) * d->row_bytes;
  size_t n = 0;
  sl_extent stack[SL_EXTENTS_STACK], *ex = stack;
  sl_status st = SL_OK;
  if (d->driver->extents != NULL) st = get_extents(d, s, seg, stack, &ex, &n, err);
  if (st == SL_OK && n > 0) {
    st = read_extents(L, s, seg->shard - L->first, ex, n, dst, want, err);
    if (st == SL_OK && s->swap)
      sl__byteswap(dst, (size_t)(want / (int64_t)sl_dtype_size(d->dtype)),
                   sl_dtype_size(d->dtype), d->dtype);
  } else if (st == SL_OK) {
    if (d->driver->read == NULL)
      st = sl__fail(err, SL_EFORMAT, "%s: driver %s cannot read these rows", s->path,
                    d->driver->name);
    else {
      double t0 = sl__now();
      sl__prefault(dst, (size_t)want);
      if (L->fault_ns != NULL)
        atomic_fetch_add_explicit(L->fault_ns, (int64_t)((sl__now() - t0) * 1e9),
                                  memory_order_relaxed);
      st = d->driver->read(s, seg->file_lo, seg->file_hi, dst, err);
    }
  }
  if (ex != stack) sl__free(ex);
  return st;
}
