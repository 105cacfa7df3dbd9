/* For `shardload inspect`: how one dataset is stored (layout, chunk shape,
 * filter pipeline with each filter's parameters, bytes stored) and which
 * of the driver's three read modes it takes, with why. Metadata only, under
 * the HDF5 lock; the mode itself is the one discovery chose (param[]). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "h5.h"

static const char *layout_name(H5D_layout_t l) {
  switch (l) {
    case H5D_COMPACT: return "compact";
    case H5D_CONTIGUOUS: return "contiguous";
    case H5D_CHUNKED: return "chunked";
    case H5D_VIRTUAL: return "virtual";
    default: return "unknown";
  }
}

/* The filter's own name for the well-known ones (HDF5 calls deflate
   "deflate", the rest as registered). */
static const char *filter_name(H5Z_filter_t id, const char *given) {
  switch (id) {
    case H5Z_FILTER_DEFLATE: return "deflate";
    case H5Z_FILTER_SHUFFLE: return "shuffle";
    case H5Z_FILTER_FLETCHER32: return "fletcher32";
    case H5Z_FILTER_SZIP: return "szip";
    case H5Z_FILTER_NBIT: return "nbit";
    case H5Z_FILTER_SCALEOFFSET: return "scaleoffset";
    default: return given[0] ? given : "unnamed";
  }
}

/* Each filter: {"name", "id", "level" (deflate), "optional", "cd_values"};
   their names also go to codecs. */
static void filters(hid_t dcpl, cJSON *o) {
  cJSON *list = cJSON_AddArrayToObject(o, "filters"), *codecs = cJSON_AddArrayToObject(o, "codecs");
  int n = H5Pget_nfilters(dcpl);
  for (int i = 0; i < n; i++) {
    unsigned flags = 0, cd[8] = {0}, config = 0;
    size_t ncd = 8;
    char given[64] = "";
    H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof given, given,
                                     &config);
    if (id < 0) continue;
    const char *name = filter_name(id, given);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "name", name);
    cJSON_AddNumberToObject(f, "id", (double)id);
    if (id == H5Z_FILTER_DEFLATE && ncd >= 1) cJSON_AddNumberToObject(f, "level", cd[0]);
    if (flags & H5Z_FLAG_OPTIONAL) cJSON_AddTrueToObject(f, "optional");
    cJSON *v = cJSON_AddArrayToObject(f, "cd_values");
    for (size_t k = 0; k < ncd && k < 8; k++) cJSON_AddItemToArray(v, cJSON_CreateNumber(cd[k]));
    cJSON_AddItemToArray(list, f);
    sl__json_push_unique(codecs, name);
  }
}

static void chunk_shape(hid_t dcpl, int ndim, cJSON *o) {
  hsize_t c[H5S_MAX_RANK];
  if (ndim < 1 || ndim > SL_MAX_DIMS || H5Pget_chunk(dcpl, ndim, c) != ndim) return;
  int64_t v[SL_MAX_DIMS];
  for (int i = 0; i < ndim; i++) v[i] = (int64_t)c[i];
  sl__json_dims(o, "chunks", v, ndim);
}

/* Why a dataset goes through H5Dread rather than extents or our chunks. */
static const char *why_hdf5(hid_t d, hid_t dcpl, H5D_layout_t layout, const char *path) {
  if (sl__h5_elsewhere(d, path)) return "its data lies in another file (an external link)";
  if (H5Pget_external_count(dcpl) > 0) return "external storage (raw data in other files)";
  switch (layout) {
    case H5D_COMPACT: return "compact: the data lives in the object header";
    case H5D_VIRTUAL: return "a virtual dataset (its data mapped from other datasets)";
    case H5D_CONTIGUOUS: return "never written: libhdf5 supplies the fill value";
    default: break;
  }
  int n = H5Pget_nfilters(dcpl);
  for (int i = 0; i < n; i++) {
    unsigned flags = 0;
    size_t ncd = 0;
    H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, NULL, 0, NULL, NULL);
    if (id != H5Z_FILTER_DEFLATE && id != H5Z_FILTER_SHUFFLE)
      return "a filter only libhdf5 applies";
  }
  return "chunks that do not hold whole rows, or an element type libhdf5 converts";
}

static void read_path(const sl_shard *s, hid_t d, hid_t dcpl, H5D_layout_t layout,
                      cJSON *o) {
  char note[256];
  switch (s->param[P_MODE]) {
    case MODE_EXTENTS:
      cJSON_AddStringToObject(o, "read_path", "direct");
      snprintf(note, sizeof note, "contiguous: one byte range per read, no HDF5 call%s",
               s->swap ? ", then byte-swapped" : "");
      cJSON_AddNumberToObject(o, "data_offset", (double)s->param[P_OFFSET]);
      break;
    case MODE_CHUNKS:
      cJSON_AddStringToObject(o, "read_path", "decoded");
      snprintf(note, sizeof note, "chunks of %llu whole rows located by libhdf5 (under its "
               "lock), inflated and unshuffled by shardload in parallel",
               (unsigned long long)s->param[P_CHUNK_ROWS]);
      break;
    default:
      cJSON_AddStringToObject(o, "read_path", "hdf5");
      snprintf(note, sizeof note, "H5Dread under the HDF5 lock, one thread at a time: %s",
               why_hdf5(d, dcpl, layout, s->path));
      break;
  }
  cJSON_AddStringToObject(o, "read_note", note);
}

static void stored_type(const sl_shard *s, cJSON *o) {
  char t[8];
  snprintf(t, sizeof t, "%s", sl_dtype_str((sl_dtype)s->param[P_DTYPE]));
  if (s->swap && (t[0] == '<')) t[0] = '>';
  cJSON_AddStringToObject(o, "stored", t);
}

static sl_status describe_dataset(const sl_shard *s, hid_t d, const char *name, cJSON *o,
                                  sl_error *err) {
  hid_t dcpl = H5Dget_create_plist(d), sp = H5Dget_space(d);
  char why[160];
  if (dcpl < 0 || sp < 0) {
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read the storage properties: %s", s->path, name,
            sl__h5_reason(why));
  }
  H5D_layout_t layout = H5Pget_layout(dcpl);
  read_path(s, d, dcpl, layout, o);
  stored_type(s, o);
  cJSON_AddStringToObject(o, "dataset", name);
  cJSON_AddStringToObject(o, "layout", layout_name(layout));
  if (layout == H5D_CHUNKED) chunk_shape(dcpl, H5Sget_simple_extent_ndims(sp), o);
  filters(dcpl, o);
  cJSON_AddNumberToObject(o, "storage_bytes", (double)H5Dget_storage_size(d));
  H5Sclose(sp);
  H5Pclose(dcpl);
  return SL_OK;
}

static sl_status inspect_locked(const sl_shard *s, const char *name, const sl_source *src,
                                cJSON *o, sl_error *err) {
  hid_t f, d = -1;
  SL_TRY(sl__h5_open_file(src, &f, err));
  char *owned = NULL;
  sl_status st = name ? SL_OK : sl__h5_only_dataset(f, s->path, &owned, err);
  if (st == SL_OK) name = name ? name : owned;
  if (st == SL_OK) st = sl__h5_open_dataset(f, s->path, name, sl__h5_allow_external(s), &d, err);
  if (st == SL_OK) st = describe_dataset(s, d, name, o, err);
  if (d >= 0) H5Oclose(d);
  sl__h5_close_file(f);
  sl__free(owned);
  return st;
}

sl_status sl__h5_inspect(const sl_shard *s, const void *handle, const sl_source *src,
                         char **json, sl_error *err) {
  const char *name = handle ? handle : s->member; /* open resolved it, or the shard names it */
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", s->path);
  h5_guard g;
  sl__h5_lock(&g, s->path);
  sl_status st = inspect_locked(s, name, src, o, err);
  sl__h5_unlock(&g);
  if (st != SL_OK) {
    cJSON_Delete(o);
    return st;
  }
  return sl__json_text(o, s->path, json, err);
}
