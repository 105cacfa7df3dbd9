/* Arrow IPC file (Feather v2) driver.
 *
 * Probe parses the footer, the schema and each record batch's metadata (not
 * the bodies) and reports rows x columns of the selected columns (or rows x
 * d for one FixedSizeList<primitive>[d] column). Other ranks receive only
 * the path and row count, so each process parses a shard again on its first
 * read, once, under a lock, and keeps the result in shard->priv.
 *
 * One uncompressed fixed-width column without nulls in the rows asked for is
 * contiguous in each batch, so `extents` hands the generic pread path one
 * byte range per batch and no copy is made; anything else (several columns
 * to interleave, Bool bits, compressed bodies, nulls) goes through `read`.
 */
#include <pthread.h>
#include <string.h>

#include "ipc.h"

static pthread_mutex_t priv_mutex = PTHREAD_MUTEX_INITIALIZER;

static sl_status open_src(const char *path, arrow_src *src, sl_error *err) {
  memset(src, 0, sizeof *src);
  src->path = path;
  SL_TRY(sl__open_read(path, false, &src->fd, err));
  sl_status st = sl__file_size(src->fd, path, &src->size, err);
  if (st != SL_OK) sl__close(src->fd);
  return st;
}

static sl_status parse_path(const char *path, const sl_open_options *o, arrow_file *f,
                            sl_error *err) {
  arrow_src src;
  SL_TRY(open_src(path, &src, err));
  sl_status st = sl__arrow_parse(&src, o, f, err);
  sl__close(src.fd);
  return st;
}

static sl_status arrow_probe(const char *path, const char *member, const sl_open_options *o,
                             sl_shard *shard, sl_shard_info *info, sl_error *err) {
  (void)member;
  arrow_file *f = sl__calloc(1, sizeof *f);
  if (f == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  sl_status st = parse_path(path, o, f, err);
  if (st != SL_OK) {
    sl__free(f);
    return st;
  }
  shard->rows = f->rows;
  shard->swap = 0; /* little-endian only, checked in the schema */
  info->dtype = f->dtype;
  info->ndim = 2;
  info->shape[0] = f->rows;
  info->shape[1] = f->width;
  /* This process reads with it too: keep it rather than parse again. */
  pthread_mutex_lock(&priv_mutex);
  if (shard->priv == NULL) {
    shard->priv = f;
    f = NULL;
  }
  pthread_mutex_unlock(&priv_mutex);
  sl__arrow_file_free(f);
  sl__free(f);
  return SL_OK;
}

/* The parsed file, built on first use by whichever thread gets here first. */
static sl_status get_file(const sl_shard *s, const arrow_file **out, sl_error *err) {
  sl_shard *w = (sl_shard *)s; /* priv is the driver's lazily built state */
  sl_status st = SL_OK;
  pthread_mutex_lock(&priv_mutex);
  if (w->priv == NULL) {
    arrow_file *f = sl__calloc(1, sizeof *f);
    if (f == NULL) st = sl__fail(err, SL_ENOMEM, "%s: out of memory", s->path);
    else st = parse_path(s->path, s->opts, f, err);
    if (st == SL_OK && f->rows != s->rows)
      st = sl__fail(err, SL_EFORMAT, "%s: file changed since the dataset was opened (%lld "
                    "rows, expected %lld)", s->path, (long long)f->rows, (long long)s->rows);
    if (st == SL_OK) w->priv = f;
    else if (f != NULL) {
      sl__arrow_file_free(f);
      sl__free(f);
    }
  }
  *out = w->priv;
  pthread_mutex_unlock(&priv_mutex);
  return st;
}

/* True when rows [lo, hi) of the one selected column are plain bytes. */
static bool plain_rows(const arrow_file *f, int64_t lo, int64_t hi, size_t *count) {
  *count = 0;
  if (f->ncols != 1 || f->cols[0].bits) return false;
  for (size_t i = 0; i < f->nbatches; i++) {
    const arrow_batch *b = &f->batches[i];
    if (b->row0 >= hi || b->row0 + b->rows <= lo || b->rows == 0) continue;
    if (b->codec != ARROW_CODEC_NONE || b->parts[0].nulls > 0 || b->parts[0].child_nulls > 0)
      return false;
    (*count)++;
  }
  return true;
}

static sl_status arrow_extents(const sl_shard *s, int64_t lo, int64_t hi, sl_extent *out,
                               size_t *n, sl_error *err) {
  const arrow_file *f;
  SL_TRY(get_file(s, &f, err));
  size_t need;
  if (!plain_rows(f, lo, hi, &need)) {
    *n = 0;
    return SL_OK;
  }
  if (need > *n) {
    *n = need; /* the caller retries with room for all */
    return SL_OK;
  }
  int64_t row_bytes = f->width * (int64_t)sl_dtype_size(f->dtype);
  size_t k = 0;
  for (size_t i = 0; i < f->nbatches; i++) {
    const arrow_batch *b = &f->batches[i];
    if (b->row0 >= hi || b->row0 + b->rows <= lo || b->rows == 0) continue;
    int64_t r0 = SL_MAX(lo, b->row0) - b->row0, r1 = SL_MIN(hi, b->row0 + b->rows) - b->row0;
    out[k].offset = b->body + b->parts[0].data.offset + r0 * row_bytes;
    out[k].length = (r1 - r0) * row_bytes;
    k++;
  }
  *n = k;
  return SL_OK;
}

static sl_status arrow_read(const sl_shard *s, int64_t lo, int64_t hi, void *dst,
                            sl_error *err) {
  const arrow_file *f;
  arrow_src src;
  SL_TRY(get_file(s, &f, err));
  SL_TRY(open_src(s->path, &src, err));
  sl_status st = sl__arrow_read_rows(f, &src, s->opts, lo, hi, dst, err);
  sl__close(src.fd);
  return st;
}

/* A compressed record batch is decompressed whole by every piece that reads
   from it: it is a unit. Uncompressed batches read any rows cheaply, so any
   row is a place to cut. */
static int64_t arrow_unit_start(const sl_shard *s, int64_t row) {
  const arrow_file *f;
  sl_error ignored = {0};
  if (get_file(s, &f, &ignored) != SL_OK) return -1; /* the read will say why */
  for (size_t i = 0; i < f->nbatches; i++) {
    const arrow_batch *b = &f->batches[i];
    if (b->row0 + b->rows <= row) continue;
    if (b->codec == ARROW_CODEC_NONE || b->row0 >= row) return SL_MAX(row, b->row0);
    return b->row0 + b->rows;
  }
  return s->rows;
}

static void arrow_release(sl_shard *s) {
  sl__arrow_file_free(s->priv);
  sl__free(s->priv);
  s->priv = NULL;
}

static const char *const arrow_extensions[] = {".arrow", ".feather", ".ipc", NULL};

const sl_driver sl__arrow_driver = {
    .name = "arrow",
    .extensions = arrow_extensions,
    .probe = arrow_probe,
    .extents = arrow_extents,
    .read = arrow_read,
    .release = arrow_release,
    .unit_start = arrow_unit_start,
};
