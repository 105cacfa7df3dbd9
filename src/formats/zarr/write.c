/* Writing one array as a Zarr v2 store (for `shardload write --format
 * zarr`): uncompressed chunks of whole rows, about 8 MiB each, C order,
 * native (little-endian) dtype, keys "i.0.0"; the edge chunk is padded with
 * the fill value (0) to the full chunk shape, as Zarr stores it. The
 * library's temporary file becomes a directory of the same name, renamed
 * into place after. */
#include <stdio.h>
#include <string.h>

#include "zarr.h"

#define ZARR_WRITE_CHUNK (8 << 20)

static size_t json_list(char *buf, size_t cap, const int64_t *v, int n) {
  size_t k = (size_t)snprintf(buf, cap, "[");
  for (int i = 0; i < n && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)v[i]);
  if (k < cap) k += (size_t)snprintf(buf + k, cap - k, "]");
  return k;
}

static sl_status write_file(const char *path, const void *p, size_t n, sl_error *err) {
  int fd;
  SL_TRY(sl__create_write(path, &fd, err));
  sl_status st = sl__pwrite_full(fd, path, p, n, 0, err);
  sl__close(fd);
  return st;
}

static sl_status write_store(const char *dir, sl_dtype dtype, int nd, const int64_t *shape,
                             const uint8_t *data, int64_t *written, sl_error *err) {
  size_t es = sl_dtype_size(dtype);
  int64_t row = (int64_t)es;
  for (int k = 1; k < nd; k++)
    if (!sl__mul(row, shape[k], &row)) SL_FAIL(err, SL_EINVAL, "%s: row too large", dir);
  int64_t cr = row > 0 ? SL_MAX((int64_t)1, ZARR_WRITE_CHUNK / row) : 1;
  if (shape[0] > 0) cr = SL_MIN(cr, shape[0]);
  int64_t chunks[SL_MAX_DIMS];
  chunks[0] = cr;
  for (int k = 1; k < nd; k++) chunks[k] = SL_MAX(shape[k], (int64_t)1);
  char meta[2048], sh[600], ch[600], path[4096];
  json_list(sh, sizeof sh, shape, nd);
  json_list(ch, sizeof ch, chunks, nd);
  const char *ds = sl_dtype_str(dtype);
  char dts[8];
  snprintf(dts, sizeof dts, "%s", ds);
  if (es == 1) dts[0] = '|';
  snprintf(meta, sizeof meta,
           "{\n  \"chunks\": %s,\n  \"compressor\": null,\n  \"dtype\": \"%s\",\n"
           "  \"fill_value\": %s,\n  \"filters\": null,\n  \"order\": \"C\",\n"
           "  \"shape\": %s,\n  \"zarr_format\": 2\n}\n",
           ch, dts, dtype == SL_BOOL ? "false" : "0", sh);
  snprintf(path, sizeof path, "%s/.zarray", dir);
  SL_TRY(write_file(path, meta, strlen(meta), err));
  (*written)++;
  uint8_t *pad = NULL;
  sl_status st = SL_OK;
  int64_t nchunks = shape[0] > 0 ? (shape[0] + cr - 1) / cr : 0;
  bool empty_trailing = row == 0;
  for (int64_t c = 0; st == SL_OK && c < nchunks && !empty_trailing; c++) {
    size_t k = (size_t)snprintf(path, sizeof path, "%s/%lld", dir, (long long)c);
    for (int d = 1; d < nd && k < sizeof path; d++)
      k += (size_t)snprintf(path + k, sizeof path - k, ".0");
    int64_t rows = SL_MIN(cr, shape[0] - c * cr);
    const uint8_t *src = data + c * cr * row;
    if (rows < cr) { /* the edge chunk, padded */
      pad = sl__calloc((size_t)(cr * row), 1);
      if (pad == NULL) {
        st = sl__fail(err, SL_ENOMEM, "%s: out of memory", dir);
        break;
      }
      memcpy(pad, src, (size_t)(rows * row));
      src = pad;
    }
    st = write_file(path, src, (size_t)(cr * row), err);
    if (st == SL_OK) (*written)++;
  }
  sl__free(pad);
  return st;
}

static void remove_store(const char *dir) {
  char **names;
  size_t n;
  sl_error e = {0};
  if (sl__list_dir(dir, &names, &n, &e) == SL_OK) {
    for (size_t i = 0; i < n; i++) {
      char p[4096];
      snprintf(p, sizeof p, "%s/%s", dir, names[i]);
      sl__remove(p);
    }
    sl__free_names(names, n);
  }
  sl__remove(dir);
}

sl_status sl__zarr_write(const char *path, sl_dtype dtype, int ndim, const int64_t *shape,
                         const void *data, sl_error *err) {
  sl__remove(path); /* the library's temporary file: a directory takes its name */
  SL_TRY(sl__make_dir(path, err));
  int64_t written = 0;
  sl_status st = write_store(path, dtype, ndim, shape, data, &written, err);
  if (st != SL_OK) remove_store(path);
  return st;
}
