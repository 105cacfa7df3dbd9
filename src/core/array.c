/* Step 2, the distributed array: global shape, partition, and this rank's
 * tile, which lives in the memory of the executor that read it. Everything
 * here is local to one process; the collective parts (load, write, verify)
 * are in src/dist/. */
#include <assert.h>
#include <dlpack/dlpack.h>
#include <string.h>

#include "core.h"

sl_status sl__array_new(const sl_dataset *d, int nparts, int part, const int64_t *bounds,
                        const sl_executor *ex, size_t shift, int device, sl_array **out,
                        sl_error *err) {
  sl_array *a = sl__calloc(1, sizeof *a);
  int64_t *b = sl__malloc(((size_t)nparts + 1) * sizeof *b);
  if (a == NULL || b == NULL) {
    sl__free(a);
    sl__free(b);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory", d->root);
  }
  memcpy(b, bounds, ((size_t)nparts + 1) * sizeof *b);
  a->dtype = d->dtype;
  a->ndim = d->ndim;
  memcpy(a->shape, d->shape, sizeof a->shape);
  a->row_bytes = d->row_bytes;
  a->nparts = nparts;
  a->part = part;
  a->bounds = b;
  a->ex = ex;
  a->refs = 1;
  a->tile.kind = SL_MEMORY_HOST;
  a->tile.device = device;
  int64_t rows = b[part + 1] - b[part];
  sl_error why = {0};
  sl_status st = ex->tile_alloc((size_t)(rows * d->row_bytes), shift, &a->tile, &why);
  if (st != SL_OK) {
    a->tile = (sl_tile){0};
    sl__array_unref(a);
    SL_FAIL(err, st, "%s: cannot allocate a tile of %lld rows: %s", d->root, (long long)rows,
            why.message);
  }
  *out = a;
  return SL_OK;
}

void sl__array_unref(sl_array *a) {
  if (a == NULL || __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
  if (a->tile.base != NULL) a->ex->tile_free(&a->tile);
  sl__free(a->bounds);
  sl__free(a);
}

void sl_array_free(sl_array *a) { sl__array_unref(a); }

sl_dtype sl_array_dtype(const sl_array *a) { return a->dtype; }

int sl_array_shape(const sl_array *a, int64_t *shape) {
  if (shape) memcpy(shape, a->shape, sizeof(int64_t) * (size_t)a->ndim);
  return a->ndim;
}

int sl_array_num_parts(const sl_array *a) { return a->nparts; }

void sl_array_part(const sl_array *a, int p, int64_t *lo, int64_t *hi) {
  if (p < 0 || p >= a->nparts) {
    *lo = *hi = 0;
    return;
  }
  *lo = a->bounds[p];
  *hi = a->bounds[p + 1];
}

int sl_array_local_part(const sl_array *a) { return a->part; }

void *sl_array_local_data(const sl_array *a) { return a->tile.data; }

int64_t sl_array_local_rows(const sl_array *a) {
  return a->bounds[a->part + 1] - a->bounds[a->part];
}

sl_memory_kind sl_array_memory_kind(const sl_array *a) { return a->tile.kind; }

/* ------------------------------------------------------------------ DLPack */

typedef struct dl_export {
  DLManagedTensor t;
  int64_t shape[SL_MAX_DIMS];
} dl_export;

/* kDLBool is 6 from DLPack 0.8 on; Debian 12's 0.6 header lacks the name. */
#define SL_DL_BOOL 6

static DLDataType dl_dtype(sl_dtype t) {
  DLDataType d = {kDLFloat, (uint8_t)(8 * sl_dtype_size(t)), 1};
  switch (t) {
    case SL_BOOL: d.code = SL_DL_BOOL; break;
    case SL_INT8: case SL_INT16: case SL_INT32: case SL_INT64: d.code = kDLInt; break;
    case SL_UINT8: case SL_UINT16: case SL_UINT32: case SL_UINT64: d.code = kDLUInt; break;
    case SL_COMPLEX64: case SL_COMPLEX128: d.code = kDLComplex; break;
    default: break;
  }
  return d;
}

static void dl_delete(DLManagedTensor *t) {
  dl_export *e = (dl_export *)t;
  sl__array_unref(t->manager_ctx);
  sl__free(e);
}

sl_status sl_array_to_dlpack(sl_array *a, DLManagedTensor **out, sl_error *err) {
  sl_error_clear(err);
  *out = NULL;
  dl_export *e = sl__calloc(1, sizeof *e);
  if (e == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory exporting the tile");
  memcpy(e->shape, a->shape, sizeof e->shape);
  e->shape[0] = sl_array_local_rows(a);
  int type, id;
  a->ex->dl_device(&a->tile, &type, &id);
  e->t.dl_tensor.data = a->tile.data;
  e->t.dl_tensor.device = (DLDevice){(DLDeviceType)type, id};
  e->t.dl_tensor.ndim = a->ndim;
  e->t.dl_tensor.dtype = dl_dtype(a->dtype);
  e->t.dl_tensor.shape = e->shape;
  e->t.dl_tensor.strides = NULL; /* compact C order */
  e->t.dl_tensor.byte_offset = 0;
  e->t.manager_ctx = a;
  e->t.deleter = dl_delete;
  __atomic_add_fetch(&a->refs, 1, __ATOMIC_ACQ_REL);
  *out = &e->t;
  return SL_OK;
}

/* -------------------------------------------------------------- npy output */

/* In pieces through host memory: a device tile is copied back one piece at
   a time, never whole; a host tile is written from where it is. */
sl_status sl__array_pwrite_local(const sl_array *a, int fd, const char *path,
                                 int64_t data_off, sl_error *err) {
  int64_t rows = sl_array_local_rows(a);
  if (rows == 0) return SL_OK;
  const size_t step = 64 << 20;
  size_t bytes = (size_t)(rows * a->row_bytes);
  int64_t off = data_off + a->bounds[a->part] * a->row_bytes;
  bool host = a->tile.kind == SL_MEMORY_HOST && !a->tile.staged;
  void *scratch = host ? NULL : sl__malloc(SL_MIN(step, bytes));
  if (!host && scratch == NULL)
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory for a staging buffer", path);
  sl_status st = SL_OK;
  for (size_t done = 0; st == SL_OK && done < bytes; done += step) {
    size_t n = SL_MIN(step, bytes - done);
    const void *p;
    st = a->ex->to_host(&a->tile, done, n, scratch, &p, err);
    if (st == SL_OK) st = sl__pwrite_full(fd, path, p, n, off + (int64_t)done, err);
  }
  sl__free(scratch);
  return st;
}

/* The largest segment of [lo, hi) fixes the shift that lets its aligned
   middle go straight from disk to tile with O_DIRECT (see leaf.c). Its
   shard is opened for this alone: a driver's extents may need its handle. */
size_t sl__tile_shift(const sl_dataset *d, int64_t lo, int64_t hi) {
  if (d->driver->extents == NULL || hi <= lo) return 0;
  size_t best = 0;
  int64_t best_rows = 0;
  for (size_t s = sl__shard_of_row(d->cum_rows, d->nshards, lo);
       s < d->nshards && d->cum_rows[s] < hi; s++) {
    int64_t r = SL_MIN(hi, d->cum_rows[s + 1]) - SL_MAX(lo, d->cum_rows[s]);
    if (r > best_rows) {
      best_rows = r;
      best = s;
    }
  }
  if (best_rows == 0) return 0;
  int64_t row = SL_MAX(lo, d->cum_rows[best]) - d->cum_rows[best];
  sl_extent ex;
  size_t nex = 1;
  sl_error ignored = {0};
  void *h;
  if (sl__leaf_open_shard(d, best, NULL, &h, &ignored) != SL_OK) return 0;
  sl_status st = d->driver->extents(&d->shards[best], h, row, row + 1, &ex, &nex, &ignored);
  sl__leaf_close_shard(d, h);
  if (st != SL_OK || nex != 1) return 0;
  int64_t dst_off = (d->cum_rows[best] + row - lo) * d->row_bytes;
  size_t shift = (size_t)(((ex.offset - dst_off) % 4096 + 4096) % 4096);
  return shift % sl_dtype_size(d->dtype) == 0 ? shift : 0;
}
