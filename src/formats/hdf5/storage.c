/* What a dataset is and how it is stored, from its metadata alone: shape,
 * element type, layout (contiguous, chunked, compact, external) and filter
 * pipeline; from these, which of the three read modes it takes (h5.h) and
 * the numbers that mode needs, in param[]. */
#include <stdio.h>
#include <string.h>

#include "h5.h"

/* ----------------------------------------------------------- dataspace */

static sl_status read_shape(hid_t d, const char *path, const char *name, sl_shard_info *info,
                            sl_error *err) {
  hid_t sp = H5Dget_space(d);
  char why[160];
  if (sp < 0) SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read the dataspace: %s", path, name,
                      sl__h5_reason(why));
  H5S_class_t kind = H5Sget_simple_extent_type(sp);
  int ndim = H5Sget_simple_extent_ndims(sp);
  hsize_t dims[H5S_MAX_RANK];
  if (kind == H5S_SIMPLE && ndim > 0 && ndim <= SL_MAX_DIMS)
    H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  if (kind == H5S_SCALAR)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: dataset is a scalar (rank 0), which has no rows to "
            "stack", path, name);
  if (kind != H5S_SIMPLE || ndim < 1)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: dataset has a null dataspace (no elements), which has no "
            "rows to stack", path, name);
  if (ndim > SL_MAX_DIMS)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: expected at most %d dimensions but found %d", path, name,
            SL_MAX_DIMS, ndim);
  info->ndim = ndim;
  for (int i = 0; i < ndim; i++) {
    if (dims[i] > (hsize_t)INT64_MAX)
      SL_FAIL(err, SL_EFORMAT, "%s:%s: dimension %d overflows 64 bits", path, name, i);
    info->shape[i] = (int64_t)dims[i];
  }
  return SL_OK;
}

/* Bytes of one row and of the whole dataset, checked for overflow. */
static sl_status sizes(const sl_shard_info *info, const char *path, const char *name,
                       int64_t *row_bytes, int64_t *total, sl_error *err) {
  *row_bytes = (int64_t)sl_dtype_size(info->dtype);
  for (int i = 1; i < info->ndim; i++)
    if (!sl__mul(*row_bytes, info->shape[i], row_bytes))
      SL_FAIL(err, SL_EFORMAT, "%s:%s: row size overflows 64 bits", path, name);
  if (!sl__mul(*row_bytes, info->shape[0], total))
    SL_FAIL(err, SL_EFORMAT, "%s:%s: dataset size overflows 64 bits", path, name);
  return SL_OK;
}

/* ------------------------------------------------------------- storage */

bool sl__h5_allow_external(const sl_shard *s) {
  return s != NULL && s->opts != NULL && s->opts->hdf5_allow_external != 0;
}

/* Every filter of a chunked dataset must be there to decode it; say which
   one is missing now rather than fail in the middle of the parallel read. */
static sl_status check_filters(hid_t dcpl, const char *path, const char *name,
                               sl_error *err) {
  int n = H5Pget_nfilters(dcpl);
  for (int i = 0; i < n; i++) {
    unsigned flags = 0, config = 0;
    size_t nvals = 0;
    char fname[64] = "";
    H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nvals, NULL, sizeof fname,
                                     fname, &config);
    if (id < 0)
      SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read filter %d of the dataset", path, name, i);
    unsigned info = 0;
    if (H5Zfilter_avail(id) <= 0 || H5Zget_filter_info(id, &info) < 0 ||
        !(info & H5Z_FILTER_CONFIG_DECODE_ENABLED))
      SL_FAIL(err, SL_ENOTSUP, "%s:%s: expected HDF5 filter %d (%s) to be available for "
              "decoding but this HDF5 library does not have it; install the filter plugin "
              "and set HDF5_PLUGIN_PATH", path, name, (int)id, fname[0] ? fname : "unnamed");
  }
  return SL_OK;
}

/* A contiguous dataset's bytes: where they are, checked against the file. */
static sl_status contiguous_at(hid_t d, const char *path, const char *name, int64_t nbytes,
                               int64_t fsize, int64_t *offset, sl_error *err) {
  haddr_t addr = H5Dget_offset(d);
  *offset = -1;
  if (addr == HADDR_UNDEF) return SL_OK; /* never written: HDF5 supplies the fill value */
  hsize_t stored = H5Dget_storage_size(d);
  if (stored != (hsize_t)nbytes)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: expected %lld bytes of contiguous storage (rows x row "
            "bytes) but found %llu", path, name, (long long)nbytes,
            (unsigned long long)stored);
  int64_t end;
  if (addr > (haddr_t)INT64_MAX || !sl__add((int64_t)addr, nbytes, &end) || end > fsize)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: expected the data within the file's %lld bytes but it "
            "spans bytes %llu to %llu (truncated file?)", path, name, (long long)fsize,
            (unsigned long long)addr, (unsigned long long)addr + (unsigned long long)nbytes);
  *offset = (int64_t)addr;
  return SL_OK;
}

/* The filter pipeline as P_FILTERS digits when every filter is one we undo
   ourselves (deflate, shuffle); 0 otherwise (or for no filter at all). */
static uint64_t own_filters(hid_t dcpl) {
  int n = H5Pget_nfilters(dcpl);
  if (n < 0 || n > SL_H5_MAX_FILTERS) return 0;
  uint64_t code = 0;
  for (int i = 0; i < n; i++) {
    unsigned flags = 0;
    size_t nvals = 0;
    H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nvals, NULL, 0, NULL, NULL);
    uint64_t f = id == H5Z_FILTER_DEFLATE ? F_DEFLATE : id == H5Z_FILTER_SHUFFLE ? F_SHUFFLE : 0;
    if (f == 0) return 0;
    code |= f << (4 * i);
  }
  return code;
}

/* Chunks of whole rows (every trailing dimension complete) of a plain
   integer or float type, with only filters we know: the CHUNKS mode. */
static bool own_chunks(hid_t d, hid_t dcpl, const sl_shard_info *info, sl_shard *s) {
  hsize_t chunk[H5S_MAX_RANK];
  hid_t t = H5Dget_type(d);
  H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  size_t tsize = t >= 0 ? H5Tget_size(t) : 0;
  if (t >= 0) H5Tclose(t);
  if ((c != H5T_INTEGER && c != H5T_FLOAT) || tsize != sl_dtype_size(info->dtype) ||
      info->dtype == SL_BOOL || H5Pget_chunk(dcpl, info->ndim, chunk) != info->ndim)
    return false;
  for (int i = 1; i < info->ndim; i++)
    if (chunk[i] != (hsize_t)info->shape[i]) return false;
  uint64_t filters = own_filters(dcpl);
  if (filters == 0 && H5Pget_nfilters(dcpl) != 0) return false;
  s->param[P_CHUNK_ROWS] = chunk[0];
  s->param[P_FILTERS] = filters;
  s->param[P_ELEM] = tsize;
  return chunk[0] > 0;
}

/* Chooses extents (plain bytes in the file), own chunk decoding or HDF5
   decoding, and checks filters. */
static sl_status storage(hid_t d, const char *path, const char *name,
                         const sl_shard_info *info, int64_t nbytes, int64_t fsize,
                         sl_shard *s, sl_error *err) {
  hid_t dcpl = H5Dget_create_plist(d);
  char why[160];
  if (dcpl < 0)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read the storage properties: %s", path, name,
            sl__h5_reason(why));
  H5D_layout_t layout = H5Pget_layout(dcpl);
  /* through an external link, only HDF5 knows where the bytes are */
  bool ours = !sl__h5_elsewhere(d, path);
  bool plain = ours && layout == H5D_CONTIGUOUS && H5Pget_external_count(dcpl) == 0;
  sl_status st = sl__h5_check_foreign(d, dcpl, path, name, sl__h5_allow_external(s), err);
  if (st == SL_OK) st = check_filters(dcpl, path, name, err);
  bool chunks = st == SL_OK && ours && layout == H5D_CHUNKED && own_chunks(d, dcpl, info, s);
  H5Pclose(dcpl);
  SL_TRY(st);
  int64_t offset = -1;
  if (plain && nbytes > 0) SL_TRY(contiguous_at(d, path, name, nbytes, fsize, &offset, err));
  s->param[P_MODE] = offset >= 0 || nbytes == 0 ? MODE_EXTENTS
                     : chunks                   ? MODE_CHUNKS
                                                : MODE_DECODE;
  s->param[P_OFFSET] = offset >= 0 ? (uint64_t)offset : 0;
  return SL_OK;
}

sl_status sl__h5_describe(hid_t d, const char *path, const char *name, int64_t fsize,
                          sl_shard *s, sl_shard_info *info, sl_error *err) {
  SL_TRY(read_shape(d, path, name, info, err));
  hid_t t = H5Dget_type(d);
  char why[160];
  if (t < 0)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read the element type: %s", path, name,
            sl__h5_reason(why));
  sl_status st = sl__h5_classify(t, path, name, &info->dtype, &s->swap, err);
  H5Tclose(t);
  SL_TRY(st);
  int64_t row_bytes = 0, total = 0;
  SL_TRY(sizes(info, path, name, &row_bytes, &total, err));
  SL_TRY(storage(d, path, name, info, total, fsize, s, err));
  s->rows = info->shape[0];
  s->param[P_ROW_BYTES] = (uint64_t)row_bytes;
  s->param[P_DTYPE] = (uint64_t)info->dtype;
  return SL_OK;
}