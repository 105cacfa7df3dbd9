/* HDF5 driver: one dataset per shard, either one file per shard
 * (shard_NNNN.h5, the dataset named by option dataset or the file's only
 * one) or one file holding every shard as a dataset ('/shards/ *', natural
 * order).
 *
 * Probe reads only metadata and turns it into numbers (param[]), so the
 * other ranks never need an HDF5 call to plan. A contiguous, unfiltered
 * dataset answers `extents` with its byte range in the file (H5Dget_offset),
 * and the generic pread path reads it with no HDF5 call at all; anything
 * else (chunked, compressed, compact, unallocated) is decoded by `read`
 * with a hyperslab of exactly the rows asked for, HDF5 converting the byte
 * order into the native memory type, or by our own chunk decoder (chunks.c).
 *
 * open resolves, once per shard and process, the dataset a decoding read
 * opens (the file's only one when no name was given) and describes it
 * again, for the library to hold against discovery; contiguous shards need
 * no HDF5 call to open. Every H5Fopen is checked to be the file the library
 * opened and identified (lock.c).
 */
#include <assert.h>
#include <string.h>

#include "h5.h"

/* The dataset's description now, against what discovery put in param[]. */
static sl_status check_same(const sl_shard *s, const sl_shard *now, const char *name,
                            sl_error *err) {
  static const int keys[] = {P_MODE, P_OFFSET, P_ROW_BYTES, P_DTYPE, P_CHUNK_ROWS, P_FILTERS};
  bool same = now->swap == s->swap;
  for (size_t i = 0; same && i < SL_ARRAY_LEN(keys); i++)
    same = now->param[keys[i]] == s->param[keys[i]];
  if (!same)
    SL_FAIL(err, SL_ECHANGED, "%s:%s changed since the dataset was opened (its storage)",
            s->path, name);
  return SL_OK;
}

/* Describes dataset name (or the only one) of an open file; *owned gets
   the name when it had to be found. */
static sl_status describe_named(hid_t f, const sl_source *src, const char *member,
                                sl_shard *s, sl_shard_info *info, char **owned,
                                sl_error *err) {
  const char *path = sl_source_path(src), *name = member;
  *owned = NULL;
  if (name == NULL) {
    SL_TRY(sl__h5_only_dataset(f, path, owned, err));
    name = *owned;
  }
  hid_t d;
  SL_TRY(sl__h5_open_dataset(f, path, name, sl__h5_allow_external(s), &d, err));
  sl_status st = sl__h5_describe(d, path, name, sl_source_size(src), s, info, err);
  H5Oclose(d);
  return st;
}

/* Option dataset given with a directory of shards reaches probe as it was
   written; a pattern there is the user's mistake, unless a dataset has that
   very name (names from a file may hold '*', '?' or '[' too). */
static sl_status not_a_pattern(hid_t f, const sl_source *src, const char *member,
                               sl_error *err) {
  if (member == NULL || !sl__h5_has_glob(member) || H5Lexists(f, member, H5P_DEFAULT) > 0)
    return SL_OK;
  SL_FAIL(err, SL_EINVAL, "%s: expected one dataset name but found the pattern '%s'; a "
          "pattern selects the datasets of a single file, not of a directory of shards",
          sl_source_path(src), member);
}

static sl_status probe_locked(const sl_source *src, const char *member, sl_shard *s,
                              sl_shard_info *info, sl_error *err) {
  hid_t f;
  SL_TRY(sl__h5_open_file(src, &f, err));
  char *owned = NULL;
  sl_status st = not_a_pattern(f, src, member, err);
  if (st == SL_OK) st = describe_named(f, src, member, s, info, &owned, err);
  sl__h5_close_file(f);
  sl__free(owned);
  return st;
}

static sl_status h5_probe(const void *state, const sl_source *src, const char *member,
                          sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)state;
  SL_TRY(sl__h5_check_signature(src, err));
  h5_guard g;
  sl__h5_lock(&g, sl_source_path(src));
  sl_status st = probe_locked(src, member, s, info, err);
  sl__h5_unlock(&g);
  return st;
}

/* ------------------------------------------------------------------ open */

/* The handle of a decoding shard: the name of its dataset. */
static sl_status open_locked(const sl_shard *s, const sl_source *src, char **name,
                             sl_shard_info *info, sl_error *err) {
  hid_t f;
  SL_TRY(sl__h5_open_file(src, &f, err));
  sl_shard now = *s;
  char *owned;
  sl_status st = describe_named(f, src, s->member, &now, info, &owned, err);
  sl__h5_close_file(f);
  if (st == SL_OK) st = check_same(s, &now, owned ? owned : s->member, err);
  if (st == SL_OK && owned == NULL && (owned = sl__strdup(s->member)) == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory", s->path);
  if (st != SL_OK) {
    sl__free(owned);
    return st;
  }
  *name = owned;
  return SL_OK;
}

static sl_status h5_open(const void *state, const sl_shard *s, const sl_source *src,
                         void **handle, sl_shard_info *info, sl_error *err) {
  (void)state;
  *handle = NULL;
  if (s->param[P_MODE] == MODE_EXTENTS) return SL_OK; /* no HDF5 call to read it */
  h5_guard g;
  sl__h5_lock(&g, s->path);
  char *name = NULL;
  sl_status st = open_locked(s, src, &name, info, err);
  sl__h5_unlock(&g);
  *handle = name;
  return st;
}

static void h5_close(void *handle) { sl__free(handle); }

/* ------------------------------------------------------------------ read */

/* Selects rows [lo, hi) of the file space; *mem receives a matching
   memory space. */
static sl_status select_rows(hid_t fs, const sl_shard *s, const char *name, int64_t lo,
                             int64_t hi, hid_t *mem, sl_error *err) {
  hsize_t dims[H5S_MAX_RANK], start[H5S_MAX_RANK] = {0};
  int ndim = H5Sget_simple_extent_ndims(fs);
  if (ndim < 1 || ndim > SL_MAX_DIMS || H5Sget_simple_extent_dims(fs, dims, NULL) < 0 ||
      dims[0] != (hsize_t)s->rows)
    SL_FAIL(err, SL_ECHANGED, "%s:%s changed since the dataset was opened (expected %lld "
            "rows)", s->path, name, (long long)s->rows);
  start[0] = (hsize_t)lo;
  dims[0] = (hsize_t)(hi - lo);
  *mem = H5Screate_simple(ndim, dims, NULL);
  char why[160];
  if (*mem < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, dims, NULL) < 0)
    SL_FAIL(err, SL_EIO, "%s:%s: cannot select rows %lld to %lld: %s", s->path, name,
            (long long)lo, (long long)hi, sl__h5_reason(why));
  return SL_OK;
}

sl_status sl__h5_read_locked(const sl_shard *s, const sl_source *src, const char *name,
                             int64_t lo, int64_t hi, void *dst, sl_error *err) {
  hid_t f, d = -1, fs = -1, mem = -1, ft = -1, mt = -1;
  SL_TRY(sl__h5_open_file(src, &f, err));
  sl_status st = sl__h5_open_dataset(f, s->path, name, sl__h5_allow_external(s), &d, err);
  if (st == SL_OK) {
    fs = H5Dget_space(d);
    st = select_rows(fs, s, name, lo, hi, &mem, err);
  }
  if (st == SL_OK) {
    ft = H5Dget_type(d);
    mt = sl__h5_memory_type((sl_dtype)s->param[P_DTYPE], ft);
  }
  char why[160];
  if (st == SL_OK && (mt < 0 || H5Dread(d, mt, mem, fs, H5P_DEFAULT, dst) < 0))
    st = sl__fail(err, SL_EIO, "%s:%s: reading rows %lld to %lld failed: %s", s->path, name,
                  (long long)lo, (long long)hi, sl__h5_reason(why));
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (mem >= 0) H5Sclose(mem);
  if (fs >= 0) H5Sclose(fs);
  if (d >= 0) H5Oclose(d);
  sl__h5_close_file(f);
  return st;
}

/* The dataset of a shard read without a handle (a contiguous one, which
   open leaves alone: the library reads those through extents). */
static sl_status resolve_locked(const sl_shard *s, const sl_source *src, char **name,
                                sl_error *err) {
  if (s->member != NULL) {
    *name = sl__strdup(s->member);
    return *name ? SL_OK : sl__fail(err, SL_ENOMEM, "%s: out of memory", s->path);
  }
  hid_t f;
  SL_TRY(sl__h5_open_file(src, &f, err));
  sl_status st = sl__h5_only_dataset(f, s->path, name, err);
  sl__h5_close_file(f);
  return st;
}

/* Decodes rows [lo, hi) (chunked, filtered, compact, ...). HDF5 opens the
   file per call: keeping it open would hold a descriptor per shard outside
   the library's cache for the whole load. */
static sl_status h5_read(const sl_shard *s, const void *handle, const sl_source *src,
                         int64_t lo, int64_t hi, void *dst, sl_error *err) {
  assert(lo >= 0 && lo <= hi && hi <= s->rows);
  if (lo == hi) return SL_OK;
  const char *name = handle;
  if (name != NULL && s->param[P_MODE] == MODE_CHUNKS)
    return sl__h5_read_chunks(s, src, name, lo, hi, dst, err);
  h5_guard g;
  sl__h5_lock(&g, s->path);
  char *owned = NULL;
  sl_status st = name ? SL_OK : resolve_locked(s, src, &owned, err);
  if (st == SL_OK) st = sl__h5_read_locked(s, src, name ? name : owned, lo, hi, dst, err);
  sl__h5_unlock(&g);
  sl__free(owned);
  return st;
}

/* Contiguous data is plain bytes at a known offset: one range, no HDF5. */
static sl_status h5_extents(const sl_shard *s, const void *handle, int64_t lo, int64_t hi,
                            sl_extent *out, size_t *n, sl_error *err) {
  (void)err, (void)handle;
  if (s->param[P_MODE] != MODE_EXTENTS || *n < 1) {
    *n = s->param[P_MODE] == MODE_EXTENTS ? 1 : 0;
    return SL_OK;
  }
  int64_t rb = (int64_t)s->param[P_ROW_BYTES];
  out[0].offset = (int64_t)s->param[P_OFFSET] + lo * rb;
  out[0].length = (hi - lo) * rb;
  *n = 1;
  return SL_OK;
}

static const char *const h5_ext[] = {".h5", ".hdf5", NULL};
static const char *const h5_aliases[] = {"hdf", NULL};

const sl_driver sl__hdf5_driver = {
    .abi = SL_DRIVER_ABI,
    .struct_size = sizeof(sl_driver),
    .name = "hdf5",
    .extensions = h5_ext,
    .aliases = h5_aliases,
    .expand = sl__h5_expand,
    .probe = h5_probe,
    .open = h5_open,
    .close = h5_close,
    .extents = h5_extents,
    .read = h5_read,
    .write = sl__h5_write,
    .inspect = sl__h5_inspect,
};
