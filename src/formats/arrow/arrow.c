/* Arrow IPC file (Feather v2) driver.
 *
 * The option columns is parsed once per dataset (dataset_open). Probe
 * parses the footer, the schema and each record batch's metadata (not the
 * bodies) and reports rows x columns of the selected columns (or rows x d
 * for one FixedSizeList<primitive>[d] column). open parses the same again
 * on each rank that reads the shard; the parsed file is the shard's handle,
 * read-only from then on.
 *
 * One uncompressed fixed-width column without nulls in the rows asked for is
 * contiguous in each batch, so `extents` hands the generic pread path one
 * byte range per batch and no copy is made; anything else (several columns
 * to interleave, Bool bits, compressed bodies, nulls) goes through `read`.
 */
#include <stdio.h>
#include <string.h>

#include "ipc.h"

static void describe(const arrow_file *f, sl_shard_info *info) {
  info->dtype = f->dtype;
  info->ndim = 2;
  info->shape[0] = f->rows;
  info->shape[1] = f->width;
}

static void file_free(arrow_file *f) {
  sl__arrow_file_free(f);
  sl__free(f);
}

static sl_status parse(const sl_source *src, const arrow_options *o, arrow_file **out,
                       sl_error *err) {
  arrow_file *f = sl__calloc(1, sizeof *f);
  if (f == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", sl_source_path(src));
  sl_status st = sl__arrow_parse(src, o, f, err);
  if (st != SL_OK) {
    sl__free(f);
    return st;
  }
  *out = f;
  return SL_OK;
}

static sl_status arrow_probe(const void *state, const sl_source *src, const char *member,
                             sl_shard *shard, sl_shard_info *info, sl_error *err) {
  (void)member;
  arrow_file *f;
  SL_TRY(parse(src, state, &f, err));
  shard->rows = f->rows;
  shard->swap = 0; /* little-endian only, checked in the schema */
  describe(f, info);
  file_free(f);
  return SL_OK;
}

static sl_status arrow_open(const void *state, const sl_shard *s, const sl_source *src,
                            void **handle, sl_shard_info *info, sl_error *err) {
  (void)s;
  arrow_file *f;
  SL_TRY(parse(src, state, &f, err));
  if (f->opts != NULL && f->opts->fill_nulls != NULL) {
    /* a fill value the dtype cannot hold fails every read: refused now,
       so that inspect refuses it too (the read parses it again) */
    uint8_t fill[16]; /* the widest dtype's element */
    sl_status st = sl__parse_fill(sl_source_path(src), f->opts->fill_nulls, f->dtype, fill, err);
    if (st != SL_OK) {
      file_free(f);
      return st;
    }
  }
  describe(f, info);
  *handle = f;
  return SL_OK;
}

static void arrow_close(void *handle) { file_free(handle); }

/* The options, and a hold on the decoding buffers' pool while the dataset
   is open (they outlive each window's handles). */
static sl_status arrow_dataset_open(const sl_dataset_desc *d, void **state, sl_error *err) {
  SL_TRY(sl__table_open(d, state, err));
  sl__arrow_pool_join();
  return SL_OK;
}

static void arrow_dataset_close(void *state) {
  sl__arrow_pool_leave();
  sl__table_close(state);
}

bool sl__arrow_plain_rows(const arrow_file *f, int64_t lo, int64_t hi, size_t *count) {
  *count = 0;
  if (f->ncols != 1 || f->cols[0].bits || f->cast) return false;
  for (size_t i = 0; i < f->nbatches; i++) {
    const arrow_batch *b = &f->batches[i];
    if (b->row0 >= hi || b->row0 + b->rows <= lo || b->rows == 0) continue;
    if (b->codec != ARROW_CODEC_NONE || b->parts[0].nulls > 0 || b->parts[0].child_nulls > 0)
      return false;
    (*count)++;
  }
  return true;
}

static sl_status arrow_extents(const sl_shard *s, const void *handle, int64_t lo, int64_t hi,
                               sl_extent *out, size_t *n, sl_error *err) {
  (void)s, (void)err;
  const arrow_file *f = handle;
  size_t need;
  if (!sl__arrow_plain_rows(f, lo, hi, &need)) {
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

static sl_status arrow_read(const sl_shard *s, const void *handle, const sl_source *src,
                            int64_t lo, int64_t hi, void *dst, sl_error *err) {
  const arrow_file *f = handle;
  (void)s;
  /* the options: a handle is made only by open, which had them */
  return sl__arrow_read_rows(f, src, f->opts, lo, hi, dst, err);
}

/* A compressed record batch is decompressed whole by every piece that reads
   from it: it is a unit. Uncompressed batches read any rows cheaply, so any
   row is a place to cut. */
static int64_t arrow_unit_start(const sl_shard *s, const void *handle, int64_t row) {
  const arrow_file *f = handle;
  for (size_t i = 0; i < f->nbatches; i++) {
    const arrow_batch *b = &f->batches[i];
    if (b->row0 + b->rows <= row) continue;
    if (b->codec == ARROW_CODEC_NONE || b->row0 >= row) return SL_MAX(row, b->row0);
    return b->row0 + b->rows;
  }
  return s->rows;
}

/* For inspect: "c0 Float32 (<f4), t Timestamp[us, UTC] (int64 microseconds ...) (<i8)". */
static void arrow_describe(const void *handle, char *buf, size_t cap) {
  const arrow_file *f = handle;
  size_t k = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < f->ncols && k + 1 < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%s %s (%s)", i ? ", " : "", f->cols[i].name,
                          f->cols[i].type, sl_dtype_str(f->cols[i].dtype));
}

static const char *const arrow_extensions[] = {".arrow", ".feather", ".ipc", ".arrows", NULL};
static const char *const arrow_aliases[] = {"arrow_ipc", "arrow-ipc", NULL};

const sl_driver sl__arrow_driver = {
    .abi = SL_DRIVER_ABI,
    .struct_size = sizeof(sl_driver),
    .name = "arrow",
    .extensions = arrow_extensions,
    .aliases = arrow_aliases,
    .dataset_open = arrow_dataset_open,
    .dataset_close = arrow_dataset_close,
    .probe = arrow_probe,
    .open = arrow_open,
    .close = arrow_close,
    .extents = arrow_extents,
    .read = arrow_read,
    .unit_start = arrow_unit_start,
    .describe = arrow_describe,
    .inspect = sl__arrow_inspect,
};
