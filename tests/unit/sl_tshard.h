/* One shard driven through its driver's lifecycle, as the library drives
   it, for the unit tests and the fuzz targets (no cmocka here). */
#ifndef SL_TSHARD_H
#define SL_TSHARD_H

#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ------------------------------------------------- one shard, one driver */

/* A shard driven through its driver's lifecycle as the library drives it:
   dataset state, a byte source over the file, probe; then, on first read,
   the driver's handle. Fields are named as the tests knew them. */
typedef struct tshard {
  const sl_driver *drv;
  sl_open_options o;
  void *state;
  sl_shard s;
  sl_shard_info info;
  sl_error err;
  sl_source src;
  bool src_open, have_state, have_handle;
  void *handle;
} tshard;

static inline void tshard_init(tshard *p, const sl_driver *drv) {
  memset(p, 0, sizeof *p);
  p->drv = drv;
  sl_open_options_init(&p->o);
}

/* The driver's dataset state, as the discovering process (1) or another
   rank (0) makes it. */
static inline sl_status tshard_state(tshard *p, int discovering, sl_error *err) {
  if (p->have_state || p->drv->dataset_open == NULL) return SL_OK;
  sl_dataset_desc desc = {p->s.path, &p->o, &p->s, 1, discovering};
  sl_status st = p->drv->dataset_open(&desc, &p->state, err);
  p->have_state = st == SL_OK;
  return st;
}

static inline void tshard_release(tshard *p);

/* Probes path (member: its dataset, or NULL) with the options in p->o. A
   failed probe keeps only p->err: nothing is left to release. */
static inline sl_status tshard_probe(tshard *p, const char *path, const char *member) {
  p->s.path = path;
  p->s.member = member;
  p->s.opts = &p->o;
  sl_error_clear(&p->err);
  sl_status st = tshard_state(p, 1, &p->err);
  if (st == SL_OK) st = sl__source_open(&p->src, path, &p->err);
  p->src_open = st == SL_OK;
  if (st == SL_OK) st = p->drv->probe(p->state, &p->src, member, &p->s, &p->info, &p->err);
  if (st != SL_OK) tshard_release(p);
  return st;
}

/* The same over bytes in memory (named name). */
static inline sl_status tshard_probe_mem(tshard *p, const char *name, const void *buf,
                                         size_t n) {
  p->s.path = name;
  p->s.opts = &p->o;
  sl_error_clear(&p->err);
  sl__source_memory(&p->src, name, buf, n);
  sl_status st = tshard_state(p, 1, &p->err);
  if (st == SL_OK) st = p->drv->probe(p->state, &p->src, NULL, &p->s, &p->info, &p->err);
  if (st != SL_OK) tshard_release(p);
  return st;
}

/* The driver's handle, made once (what a reading rank does before reading). */
static inline sl_status tshard_open(tshard *p, sl_error *err) {
  if (p->have_handle) return SL_OK;
  sl_status st = tshard_state(p, 0, err);
  if (st != SL_OK) return st;
  p->handle = p->state;
  if (p->drv->open != NULL) {
    sl_shard_info info;
    memset(&info, 0, sizeof info);
    st = p->drv->open(p->state, &p->s, &p->src, &p->handle, &info, err);
    if (st != SL_OK) return st;
  }
  p->have_handle = true;
  return SL_OK;
}

static inline sl_status tshard_extents(tshard *p, int64_t lo, int64_t hi, sl_extent *ex,
                                       size_t *n, sl_error *err) {
  sl_status st = tshard_open(p, err);
  if (st != SL_OK) return st;
  if (p->drv->extents == NULL) {
    *n = 0;
    return SL_OK;
  }
  return p->drv->extents(&p->s, p->handle, lo, hi, ex, n, err);
}

/* Rows [lo, hi) into dst as the leaf read gets them: extents read from the
   source (and swapped), or the driver's decoder. */
static inline sl_status tshard_read(tshard *p, int64_t lo, int64_t hi, void *dst,
                                    sl_error *err) {
  sl_extent ex[64];
  size_t n = 64;
  sl_status st = tshard_extents(p, lo, hi, ex, &n, err);
  if (st != SL_OK) return st;
  if (n == 0) return p->drv->read(&p->s, p->handle, &p->src, lo, hi, dst, err);
  char *out = dst;
  int64_t total = 0;
  for (size_t i = 0; i < n && st == SL_OK; i++) {
    st = sl_source_read(&p->src, ex[i].offset, (size_t)ex[i].length, out + total, err);
    total += ex[i].length;
  }
  size_t es = sl_dtype_size(p->info.dtype);
  if (st == SL_OK && p->s.swap) sl__byteswap(dst, (size_t)total / es, es, p->info.dtype);
  return st;
}

/* The gather's rows of the shard (ascending, distinct) through the
   driver's take, as core/take.c calls it; SL_ENOTSUP without one. */
static inline sl_status tshard_take(tshard *p, const int64_t *rows, size_t n, void *dst,
                                    sl_error *err) {
  sl_status st = tshard_open(p, err);
  if (st != SL_OK) return st;
  if (p->drv->take == NULL) return SL_ENOTSUP;
  return p->drv->take(&p->s, p->handle, &p->src, rows, n, dst, err);
}

/* The driver's account of the shard (its inspect slot, after open) as
   sl_dataset_inspect gets it: *json malloc'd (free). SL_ENOTSUP without
   the slot. */
static inline sl_status tshard_inspect(tshard *p, char **json, sl_error *err) {
  *json = NULL;
  sl_status st = tshard_open(p, err);
  if (st != SL_OK) return st;
  if (p->drv->inspect == NULL) return SL_ENOTSUP;
  return p->drv->inspect(&p->s, p->handle, &p->src, json, err);
}

static inline void tshard_release(tshard *p) {
  if (p->have_handle && p->handle != p->state && p->drv->close != NULL)
    p->drv->close(p->handle);
  if (p->have_state && p->drv->dataset_close != NULL) p->drv->dataset_close(p->state);
  if (p->src_open) sl__source_close(&p->src);
  p->have_handle = p->have_state = p->src_open = false;
}

/* Probes bytes in memory and, when their rows take at most max bytes,
   opens the shard and reads them all: the whole driver on an image, as the
   fuzz targets run it. */
static inline sl_status tshard_memory_all(const sl_driver *drv, const void *buf, size_t n,
                                          const sl_open_options *o, int64_t max,
                                          sl_shard_info *info, sl_error *err) {
  tshard p;
  tshard_init(&p, drv);
  if (o != NULL) p.o = *o;
  sl_status st = tshard_probe_mem(&p, "<buffer>", buf, n);
  if (st != SL_OK) *err = p.err;
  int64_t bytes = (int64_t)sl_dtype_size(p.info.dtype);
  for (int k = 0; st == SL_OK && k < p.info.ndim; k++)
    if (!sl__mul(bytes, p.info.shape[k] < 0 ? 0 : p.info.shape[k], &bytes)) bytes = INT64_MAX;
  if (st == SL_OK) *info = p.info;
  if (st == SL_OK && p.s.rows > 0 && bytes <= max) {
    void *rows = malloc(bytes > 0 ? (size_t)bytes : 1);
    st = tshard_read(&p, 0, p.s.rows, rows, err);
    free(rows);
  }
  tshard_release(&p);
  return st;
}

/* Another rank's view of p's shard: the numbers probe made and the
   options, its own state, source and handle. */
static inline void tshard_other(const tshard *p, tshard *q) {
  tshard_init(q, p->drv);
  q->o = p->o;
  q->s = p->s;
  q->s.opts = &q->o;
  q->info = p->info;
  q->src = p->src;
  if (p->src.mem == NULL) q->src_open = sl__source_open(&q->src, p->s.path, &q->err) == SL_OK;
}

#endif
