/* `shardload write --format hdf5`: one file, one contiguous dataset "data",
 * little-endian, as h5py writes it. */
#include <stdio.h>

#include "h5.h"

static sl_status write_locked(const char *path, sl_dtype dt, int ndim, const hsize_t *dims,
                              const void *data, sl_error *err) {
  hid_t ft = sl__h5_file_type(dt), mt = ft >= 0 ? sl__h5_memory_type(dt, ft) : -1;
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t sp = H5Screate_simple(ndim, dims, NULL), d = -1;
  bool ok = ft >= 0 && mt >= 0 && f >= 0 && sp >= 0;
  if (ok) d = H5Dcreate2(f, "data", ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ok = ok && d >= 0 && (dims[0] == 0 || H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
  char why[160];
  if (!ok) sl__h5_reason(why);
  if (d >= 0 && H5Dclose(d) < 0) ok = false;
  if (sp >= 0) H5Sclose(sp);
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (f >= 0 && H5Fclose(f) < 0 && ok) {
    ok = false;
    sl__h5_reason(why);
  }
  if (!ok) SL_FAIL(err, SL_EIO, "%s: writing HDF5 dataset 'data' failed: %s", path, why);
  return SL_OK;
}

/* One file, one contiguous dataset "data", little-endian, as h5py writes. */
sl_status sl__h5_write(const char *path, sl_dtype dtype, int ndim, const int64_t *shape,
                          const void *data, sl_error *err) {
  if (ndim < 1 || ndim > SL_MAX_DIMS || sl_dtype_size(dtype) == 0)
    SL_FAIL(err, SL_EINVAL, "%s: expected 1 to %d dimensions and a known dtype but found %d "
            "dimensions", path, SL_MAX_DIMS, ndim);
  hsize_t dims[SL_MAX_DIMS];
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) SL_FAIL(err, SL_EINVAL, "%s: dimension %d is negative", path, i);
    dims[i] = (hsize_t)shape[i];
  }
  h5_guard g;
  sl__h5_lock(&g, path);
  sl_status st = write_locked(path, dtype, ndim, dims, data, err);
  sl__h5_unlock(&g);
  return st;
}
