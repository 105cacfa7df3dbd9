/* HDF5 driver: one dataset per shard, either one file per shard
 * (shard_NNNN.h5, the dataset named by --dataset or the file's only one) or
 * one file holding every shard as a dataset ('/shards/ *', natural order).
 *
 * Probe reads only metadata and turns it into numbers (param[]), so the
 * other ranks never need an HDF5 call to plan. A contiguous, unfiltered
 * dataset answers `extents` with its byte range in the file (H5Dget_offset),
 * and the generic pread path reads it with no HDF5 call at all; anything
 * else (chunked, compressed, compact, external, unallocated) is decoded by
 * `read` with a hyperslab of exactly the rows asked for, HDF5 converting the
 * byte order into the native memory type.
 *
 * The serial HDF5 library is not thread-safe, so every HDF5 call runs under
 * one mutex unless H5is_library_threadsafe says the library locks itself.
 * While we hold it, HDF5's automatic error printing is switched off; failed
 * calls become sl_error messages instead (with HDF5's innermost reason).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <assert.h>
#include <ctype.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hdf5.h>
#include <zlib.h>

#include "sl_internal.h"

/* param[] layout: everything read() and extents() need, as numbers. */
enum { P_MODE, P_OFFSET, P_ROW_BYTES, P_DTYPE, P_CHUNK_ROWS, P_FILTERS, P_ELEM };
/* EXTENTS: contiguous bytes, read by the generic pread path. CHUNKS: chunks
   of whole rows whose filters we undo ourselves (deflate, shuffle), so only
   locating them needs the HDF5 lock and decompression runs in parallel.
   DECODE: everything else, through H5Dread under the lock. */
enum { MODE_EXTENTS = 0, MODE_DECODE = 1, MODE_CHUNKS = 2 };
/* P_FILTERS holds the pipeline in order, 4 bits a filter, lowest first. */
enum { F_DEFLATE = 1, F_SHUFFLE = 2, SL_H5_MAX_FILTERS = 8 };

/* Names shown in an error listing before "... (N in all)". */
#define SL_H5_LIST_MAX 8

/* ------------------------------------------------------------- locking */

static pthread_mutex_t h5_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t h5_once = PTHREAD_ONCE_INIT;
static bool h5_threadsafe;
static hid_t h5_fapl = H5P_DEFAULT; /* file access: how every input is opened */

/* H5Pset_file_locking appeared in 1.10.7 and 1.12.1. */
#define SL_H5_HAS_FILE_LOCKING                                             \
  (H5_VERS_MAJOR > 1 || H5_VERS_MINOR > 12 ||                              \
   (H5_VERS_MINOR == 12 && H5_VERS_RELEASE >= 1) ||                        \
   (H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7))

static void h5_init(void) {
  hbool_t ts = 0;
  if (H5open() >= 0 && H5is_library_threadsafe(&ts) >= 0) h5_threadsafe = ts;
#if SL_H5_HAS_FILE_LOCKING
  /* Inputs are only ever read, and many ranks open the same files at once:
     HDF5's flock-based locking adds nothing but failures on filesystems
     without flock (some Lustre and NFS mounts). */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0 && H5Pset_file_locking(fapl, 0, 1) >= 0) h5_fapl = fapl;
  else if (fapl >= 0) H5Pclose(fapl);
#endif
}

/* The caller's error-printing hook, restored on unlock: switching it off
   globally would silence the application's own HDF5 diagnostics. */
typedef struct h5_guard {
  H5E_auto2_t fn;
  void *data;
} h5_guard;

static void h5_lock(h5_guard *g) {
  pthread_once(&h5_once, h5_init);
  if (!h5_threadsafe) pthread_mutex_lock(&h5_mutex);
  H5Eget_auto2(H5E_DEFAULT, &g->fn, &g->data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void h5_unlock(const h5_guard *g) {
  H5Eset_auto2(H5E_DEFAULT, g->fn, g->data);
  if (!h5_threadsafe) pthread_mutex_unlock(&h5_mutex);
}

/* --------------------------------------------------------------- errors */

static herr_t first_error(unsigned n, const H5E_error2_t *e, void *data) {
  char *buf = data;
  if (n == 0 && e->desc != NULL) snprintf(buf, 160, "%s", e->desc);
  return 0;
}

/* HDF5's innermost error description (the most specific one), for messages;
   a fixed 160-byte buffer keeps the one-line message readable. */
static const char *h5_reason(char buf[static 160]) {
  snprintf(buf, 160, "unknown HDF5 error");
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, buf);
  return buf;
}

/* ----------------------------------------------------- names in a file */

typedef struct name_list {
  char **v;
  size_t n, cap;
  bool oom;
} name_list;

static void names_free(name_list *l) {
  for (size_t i = 0; i < l->n; i++) sl__free(l->v[i]);
  sl__free(l->v);
  memset(l, 0, sizeof *l);
}

static void names_push(name_list *l, const char *name) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **v = sl__realloc(l->v, cap * sizeof *v);
    if (v == NULL) {
      l->oom = true;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  size_t len = strlen(name) + 2;
  char *s = sl__malloc(len);
  if (s == NULL) {
    l->oom = true;
    return;
  }
  snprintf(s, len, "/%s", name);
  l->v[l->n++] = s;
}

/* Only hard links: a soft link to a dataset would list it twice, and an
   external link would open another file. */
static herr_t visit_link(hid_t g, const char *name, const H5L_info_t *info, void *data) {
  name_list *l = data;
  if (info->type != H5L_TYPE_HARD) return 0;
  hid_t o = H5Oopen(g, name, H5P_DEFAULT);
  if (o < 0) return 0;
  bool is_dataset = H5Iget_type(o) == H5I_DATASET;
  H5Oclose(o);
  if (is_dataset) names_push(l, name);
  return l->oom ? 1 : 0;
}

static int cmp_names(const void *a, const void *b) {
  return sl__natural_cmp(*(char *const *)a, *(char *const *)b);
}

/* Every dataset of the file, as absolute names, in natural order. */
static sl_status list_datasets(hid_t f, const char *path, name_list *l, sl_error *err) {
  memset(l, 0, sizeof *l);
  char why[160];
  herr_t r = H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, visit_link, l);
  if (l->oom) {
    names_free(l);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory listing the datasets", path);
  }
  if (r < 0) {
    names_free(l);
    SL_FAIL(err, SL_EFORMAT, "%s: cannot list the datasets of the file: %s", path,
            h5_reason(why));
  }
  if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, cmp_names);
  return SL_OK;
}

/* "2 datasets: /a, /b" (or "no datasets"), shortened after a few names. */
static const char *describe_names(const name_list *l, char *buf, size_t cap) {
  if (l->n == 0) {
    snprintf(buf, cap, "no datasets");
    return buf;
  }
  size_t k = (size_t)snprintf(buf, cap, "%zu dataset%s: ", l->n, l->n == 1 ? "" : "s");
  for (size_t i = 0; i < l->n && i < SL_H5_LIST_MAX && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", l->v[i]);
  if (l->n > SL_H5_LIST_MAX && k < cap) snprintf(buf + k, cap - k, ", ...");
  return buf;
}

/* The file's one and only dataset, for the default of no --dataset. */
static sl_status only_dataset(hid_t f, const char *path, char **out, sl_error *err) {
  name_list l;
  SL_TRY(list_datasets(f, path, &l, err));
  if (l.n != 1) {
    char held[512];
    describe_names(&l, held, sizeof held);
    names_free(&l);
    SL_FAIL(err, SL_EFORMAT, "%s: expected exactly one dataset (or a name given with "
            "--dataset) but found %s", path, held);
  }
  *out = l.v[0];
  sl__free(l.v);
  return SL_OK;
}

/* ------------------------------------------------------- opening files */

static const unsigned char h5_signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* HDF5 puts its signature at byte 0 or, after a user block, at 512, 1024,
   2048, ...; checking it ourselves gives a clear "not an HDF5 file" and goes
   through io.c (read-only open, files-opened count, fault injection). */
static sl_status check_signature(const char *path, int64_t *fsize, sl_error *err) {
  int fd;
  SL_TRY(sl__open_read(path, false, &fd, err));
  sl_status st = sl__file_size(fd, path, fsize, err);
  bool found = false;
  for (int64_t off = 0; st == SL_OK && !found && off + 8 <= *fsize;
       off = off ? off * 2 : 512) {
    unsigned char sig[8];
    st = sl__pread_full(fd, path, sig, sizeof sig, off, err);
    found = st == SL_OK && memcmp(sig, h5_signature, sizeof sig) == 0;
  }
  sl__close(fd);
  SL_TRY(st);
  if (!found)
    SL_FAIL(err, SL_EFORMAT, "%s: not an HDF5 file (expected the signature \\x89HDF\\r\\n"
            "\\x1a\\n at byte 0, 512, 1024, ... but found none in %lld bytes)", path,
            (long long)*fsize);
  return SL_OK;
}

static sl_status open_file(const char *path, hid_t *f, sl_error *err) {
  char why[160];
  *f = H5Fopen(path, H5F_ACC_RDONLY, h5_fapl);
  if (*f < 0) SL_FAIL(err, SL_EFORMAT, "%s: HDF5 cannot open the file: %s", path, h5_reason(why));
  return SL_OK;
}

/* Opens dataset name; a missing one is reported with what the file holds. */
static sl_status open_dataset(hid_t f, const char *path, const char *name, hid_t *d,
                              sl_error *err) {
  *d = H5Oopen(f, name, H5P_DEFAULT);
  if (*d >= 0 && H5Iget_type(*d) == H5I_DATASET) return SL_OK;
  bool exists = *d >= 0;
  if (exists) H5Oclose(*d);
  *d = -1;
  name_list l;
  SL_TRY(list_datasets(f, path, &l, err));
  char held[512];
  describe_names(&l, held, sizeof held);
  names_free(&l);
  SL_FAIL(err, SL_EFORMAT, "%s: expected a dataset '%s' but found %s; the file holds %s",
          path, name, exists ? "a group or other object of that name" : "none", held);
}

/* ------------------------------------------------------------- types */

static sl_status bad_type(const char *path, const char *name, const char *what,
                          sl_error *err) {
  SL_FAIL(err, SL_EFORMAT, "%s:%s: element type is %s, which cannot be loaded as numbers "
          "(expected bool, int8-64, uint8-64, float16/32/64 or complex64/128)", path, name,
          what);
}

static sl_status byte_order(hid_t t, size_t size, const char *path, const char *name,
                            int *swap, sl_error *err) {
  H5T_order_t o = H5Tget_order(t);
  if (size > 1 && o != H5T_ORDER_LE && o != H5T_ORDER_BE)
    return bad_type(path, name, "of a mixed (VAX) byte order", err);
  *swap = size > 1 && o == H5T_ORDER_BE;
  return SL_OK;
}

static sl_status int_type(hid_t t, const char *path, const char *name, sl_dtype *dt,
                          int *swap, sl_error *err) {
  static const sl_dtype by_size[2][9] = {
      {[1] = SL_UINT8, [2] = SL_UINT16, [4] = SL_UINT32, [8] = SL_UINT64},
      {[1] = SL_INT8, [2] = SL_INT16, [4] = SL_INT32, [8] = SL_INT64}};
  size_t size = H5Tget_size(t);
  bool sign = H5Tget_sign(t) == H5T_SGN_2;
  char what[96];
  if ((size != 1 && size != 2 && size != 4 && size != 8) || H5Tget_offset(t) != 0 ||
      H5Tget_precision(t) != 8 * size) {
    snprintf(what, sizeof what, "a %d-bit integer stored in %zu bytes", (int)H5Tget_precision(t),
             size);
    return bad_type(path, name, what, err);
  }
  *dt = by_size[sign][size];
  return byte_order(t, size, path, name, swap, err);
}

/* IEEE 754 binary16/32/64 only: sign, exponent and mantissa where numpy
   expects them. Other layouts would need a bit-level conversion. */
static sl_status float_type(hid_t t, const char *path, const char *name, sl_dtype *dt,
                            int *swap, sl_error *err) {
  size_t size = H5Tget_size(t), spos, epos, esize, mpos, msize;
  H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize);
  size_t eb = H5Tget_ebias(t);
  bool ieee = H5Tget_offset(t) == 0 && H5Tget_precision(t) == 8 * size &&
              H5Tget_norm(t) == H5T_NORM_IMPLIED && spos == 8 * size - 1 && mpos == 0 &&
              epos == msize && esize + msize + 1 == 8 * size &&
              ((size == 2 && esize == 5 && eb == 15) || (size == 4 && esize == 8 && eb == 127) ||
               (size == 8 && esize == 11 && eb == 1023));
  if (!ieee) {
    char what[128];
    snprintf(what, sizeof what, "a %zu-byte float that is not IEEE 754 (%zu exponent bits, "
             "%zu mantissa bits, bias %zu)", size, esize, msize, eb);
    return bad_type(path, name, what, err);
  }
  *dt = size == 2 ? SL_FLOAT16 : size == 4 ? SL_FLOAT32 : SL_FLOAT64;
  return byte_order(t, size, path, name, swap, err);
}

/* True when enum member i is called want and has value v. */
static bool enum_member_is(hid_t t, unsigned i, const char *want, int v) {
  char *n = H5Tget_member_name(t, i);
  signed char value = -1;
  bool ok = n != NULL && strcmp(n, want) == 0 && H5Tget_member_value(t, i, &value) >= 0 &&
            value == v;
  if (n != NULL) H5free_memory(n);
  return ok;
}

/* h5py stores bool as an enum of int8 {FALSE = 0, TRUE = 1}; its bytes are
   numpy's bool bytes. Other enums have no numpy meaning we could keep. */
static sl_status bool_type(hid_t t, const char *path, const char *name, sl_dtype *dt,
                           int *swap, sl_error *err) {
  hid_t base = H5Tget_super(t);
  bool ok = base >= 0 && H5Tget_class(base) == H5T_INTEGER && H5Tget_size(base) == 1 &&
            H5Tget_nmembers(t) == 2 &&
            ((enum_member_is(t, 0, "FALSE", 0) && enum_member_is(t, 1, "TRUE", 1)) ||
             (enum_member_is(t, 0, "TRUE", 1) && enum_member_is(t, 1, "FALSE", 0)));
  if (base >= 0) H5Tclose(base);
  if (!ok) return bad_type(path, name, "an enum that is not h5py's bool {FALSE=0, TRUE=1}", err);
  *dt = SL_BOOL;
  *swap = 0;
  return SL_OK;
}

/* Member i of a compound: a float of size fs at offset off, named like want. */
static bool complex_part(hid_t t, unsigned i, size_t fs, const char *want) {
  if (H5Tget_member_class(t, i) != H5T_FLOAT || H5Tget_member_offset(t, i) != i * fs)
    return false;
  char *n = H5Tget_member_name(t, i);
  hid_t m = H5Tget_member_type(t, i);
  bool ok = n != NULL && m >= 0 && H5Tget_size(m) == fs && tolower((unsigned char)n[0]) == *want;
  if (m >= 0) H5Tclose(m);
  if (n != NULL) H5free_memory(n);
  return ok;
}

/* h5py stores complex as a compound {r, i} of two equal IEEE floats. */
static sl_status complex_type(hid_t t, const char *path, const char *name, sl_dtype *dt,
                              int *swap, sl_error *err) {
  size_t size = H5Tget_size(t), fs = size / 2;
  if (H5Tget_nmembers(t) != 2 || (fs != 4 && fs != 8) || size != 2 * fs ||
      !complex_part(t, 0, fs, "r") || !complex_part(t, 1, fs, "i"))
    return bad_type(path, name, "a compound that is not h5py's complex {r, i} of two float32 "
                    "or two float64", err);
  hid_t re = H5Tget_member_type(t, 0), im = H5Tget_member_type(t, 1);
  sl_dtype part;
  int swap_re = 0, swap_im = 0;
  sl_status st = float_type(re, path, name, &part, &swap_re, err);
  if (st == SL_OK) st = float_type(im, path, name, &part, &swap_im, err);
  H5Tclose(re);
  H5Tclose(im);
  SL_TRY(st);
  if (swap_re != swap_im)
    return bad_type(path, name, "a complex whose two parts differ in byte order", err);
  *dt = fs == 4 ? SL_COMPLEX64 : SL_COMPLEX128;
  *swap = swap_re;
  return SL_OK;
}

static const char *class_name(H5T_class_t c) {
  switch (c) {
    case H5T_STRING: return "a string";
    case H5T_VLEN: return "a variable-length sequence";
    case H5T_ARRAY: return "an array type";
    case H5T_OPAQUE: return "opaque bytes";
    case H5T_REFERENCE: return "an object reference";
    case H5T_BITFIELD: return "a bitfield";
    case H5T_TIME: return "a time";
    default: return "of an unknown type class";
  }
}

/* The file type as one of our dtypes, and whether its bytes need a swap. */
static sl_status classify(hid_t t, const char *path, const char *name, sl_dtype *dt,
                          int *swap, sl_error *err) {
  H5T_class_t c = H5Tget_class(t);
  switch (c) {
    case H5T_INTEGER: return int_type(t, path, name, dt, swap, err);
    case H5T_FLOAT: return float_type(t, path, name, dt, swap, err);
    case H5T_ENUM: return bool_type(t, path, name, dt, swap, err);
    case H5T_COMPOUND: return complex_type(t, path, name, dt, swap, err);
    default: return bad_type(path, name, class_name(c), err);
  }
}

/* The fixed native type of an integer or float dtype, -1 for the others.
   (H5T_NATIVE_* are function calls in disguise, so no table of them.) */
static hid_t native_fixed(sl_dtype dt) {
  switch (dt) {
    case SL_INT8: return H5T_NATIVE_INT8;
    case SL_INT16: return H5T_NATIVE_INT16;
    case SL_INT32: return H5T_NATIVE_INT32;
    case SL_INT64: return H5T_NATIVE_INT64;
    case SL_UINT8: return H5T_NATIVE_UINT8;
    case SL_UINT16: return H5T_NATIVE_UINT16;
    case SL_UINT32: return H5T_NATIVE_UINT32;
    case SL_UINT64: return H5T_NATIVE_UINT64;
    case SL_FLOAT32: return H5T_NATIVE_FLOAT;
    case SL_FLOAT64: return H5T_NATIVE_DOUBLE;
    default: return -1;
  }
}

/* A compound {re, im} of two part types, size 2*fs; NULL names mean r, i. */
static hid_t complex_compound(size_t fs, hid_t part, const char *re, const char *im) {
  hid_t t = H5Tcreate(H5T_COMPOUND, 2 * fs);
  if (t >= 0 && (H5Tinsert(t, re ? re : "r", 0, part) < 0 ||
                 H5Tinsert(t, im ? im : "i", fs, part) < 0)) {
    H5Tclose(t);
    t = -1;
  }
  return t;
}

/* The native memory type for dt, with the file type's member names where
   HDF5 matches members by name (complex). @return < 0 on failure. */
static hid_t memory_type(sl_dtype dt, hid_t ftype) {
  if (dt == SL_BOOL) return H5Tcopy(ftype); /* one byte: nothing to convert */
  if (dt == SL_FLOAT16) {                   /* HDF5 has no native half */
    hid_t t = H5Tcopy(ftype);
    if (t >= 0 && H5Tset_order(t, H5Tget_order(H5T_NATIVE_INT)) < 0) {
      H5Tclose(t);
      t = -1;
    }
    return t;
  }
  if (dt == SL_COMPLEX64 || dt == SL_COMPLEX128) {
    char *re = H5Tget_member_name(ftype, 0), *im = H5Tget_member_name(ftype, 1);
    hid_t t = re == NULL || im == NULL ? -1
              : dt == SL_COMPLEX64     ? complex_compound(4, H5T_NATIVE_FLOAT, re, im)
                                       : complex_compound(8, H5T_NATIVE_DOUBLE, re, im);
    if (re != NULL) H5free_memory(re);
    if (im != NULL) H5free_memory(im);
    return t;
  }
  hid_t fixed = native_fixed(dt);
  return fixed >= 0 ? H5Tcopy(fixed) : -1;
}

/* ----------------------------------------------------------- dataspace */

static sl_status read_shape(hid_t d, const char *path, const char *name, sl_shard_info *info,
                            sl_error *err) {
  hid_t sp = H5Dget_space(d);
  char why[160];
  if (sp < 0) SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read the dataspace: %s", path, name,
                      h5_reason(why));
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
            h5_reason(why));
  H5D_layout_t layout = H5Pget_layout(dcpl);
  bool plain = layout == H5D_CONTIGUOUS && H5Pget_external_count(dcpl) == 0;
  sl_status st = check_filters(dcpl, path, name, err);
  bool chunks = st == SL_OK && layout == H5D_CHUNKED && own_chunks(d, dcpl, info, s);
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

/* --------------------------------------------------------------- probe */

static bool has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

static sl_status describe(hid_t d, const char *path, const char *name, sl_shard *s,
                          sl_shard_info *info, sl_error *err) {
  SL_TRY(read_shape(d, path, name, info, err));
  hid_t t = H5Dget_type(d);
  char why[160];
  if (t < 0)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: cannot read the element type: %s", path, name,
            h5_reason(why));
  sl_status st = classify(t, path, name, &info->dtype, &s->swap, err);
  H5Tclose(t);
  SL_TRY(st);
  int64_t row_bytes = 0, total = 0;
  SL_TRY(sizes(info, path, name, &row_bytes, &total, err));
  SL_TRY(storage(d, path, name, info, total, s->file_size, s, err));
  s->rows = info->shape[0];
  s->param[P_ROW_BYTES] = (uint64_t)row_bytes;
  s->param[P_DTYPE] = (uint64_t)info->dtype;
  return SL_OK;
}

static sl_status probe_locked(const char *path, const char *member, sl_shard *s,
                              sl_shard_info *info, sl_error *err) {
  hid_t f;
  SL_TRY(open_file(path, &f, err));
  char *owned = NULL;
  const char *name = member;
  sl_status st = SL_OK;
  if (name == NULL) {
    st = only_dataset(f, path, &owned, err);
    name = owned;
  }
  hid_t d = -1;
  if (st == SL_OK) st = open_dataset(f, path, name, &d, err);
  if (st == SL_OK) st = describe(d, path, name, s, info, err);
  if (d >= 0) H5Oclose(d);
  H5Fclose(f);
  sl__free(owned);
  return st;
}

static sl_status h5_probe(const char *path, const char *member, const sl_open_options *o,
                          sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)o; /* member already carries --dataset */
  if (member != NULL && has_glob(member))
    SL_FAIL(err, SL_EINVAL, "%s: expected one dataset name but found the pattern '%s'; a "
            "pattern selects the datasets of a single file, not of a directory of shards",
            path, member);
  SL_TRY(check_signature(path, &s->file_size, err));
  h5_guard g;
  h5_lock(&g);
  sl_status st = probe_locked(path, member, s, info, err);
  h5_unlock(&g);
  return st;
}

/* ------------------------------------------------------------- expand */

/* Absolute dataset names match a pattern written with or without the
   leading '/'; '*' never crosses a '/'. */
static bool name_matches(const char *pattern, const char *name) {
  if (pattern[0] != '/') name++;
  return fnmatch(pattern, name, FNM_PATHNAME) == 0;
}

/* Moves the names matching pattern (all when NULL) into a malloc'd array. */
static sl_status take_matches(name_list *l, const char *pattern, const char *path,
                              char ***out, size_t *n, sl_error *err) {
  size_t k = 0;
  char **v = sl__malloc((l->n ? l->n : 1) * sizeof *v);
  if (v == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  for (size_t i = 0; i < l->n; i++)
    if (name_matches(pattern, l->v[i])) {
      v[k++] = l->v[i];
      l->v[i] = NULL;
    }
  if (k == 0) {
    sl__free(v);
    char held[512];
    describe_names(l, held, sizeof held);
    SL_FAIL(err, SL_ELAYOUT, "%s: expected datasets matching '%s' but found none; the file "
            "holds %s", path, pattern, held);
  }
  *out = v;
  *n = k;
  return SL_OK;
}

static sl_status expand_locked(const char *path, const char *pattern, char ***out, size_t *n,
                               sl_error *err) {
  hid_t f;
  SL_TRY(open_file(path, &f, err));
  sl_status st;
  if (pattern == NULL) {
    char *only = NULL;
    st = only_dataset(f, path, &only, err);
    if (st == SL_OK && (*out = sl__malloc(sizeof **out)) == NULL)
      st = sl__fail(err, SL_ENOMEM, "%s: out of memory", path);
    if (st == SL_OK) {
      (*out)[0] = only;
      *n = 1;
    } else {
      sl__free(only);
    }
  } else {
    name_list l;
    st = list_datasets(f, path, &l, err);
    if (st == SL_OK) st = take_matches(&l, pattern, path, out, n, err);
    names_free(&l); /* the matches have moved out; NULL slots are left */
  }
  H5Fclose(f);
  return st;
}

/* One file, several shards: the datasets matching a glob in --dataset, in
   natural order (/shards/2 before /shards/10). A plain name is one shard;
   no name means the file's only dataset. */
static sl_status h5_expand(const char *path, const sl_open_options *o, char ***members,
                           size_t *n, sl_error *err) {
  const char *want = o != NULL ? o->dataset : NULL;
  *members = NULL;
  *n = 0;
  if (want != NULL && !has_glob(want)) {
    char **v = sl__malloc(sizeof *v);
    char *s = sl__strdup(want);
    if (v == NULL || s == NULL) {
      sl__free(v);
      sl__free(s);
      SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
    }
    v[0] = s;
    *members = v;
    *n = 1;
    return SL_OK;
  }
  int64_t fsize;
  SL_TRY(check_signature(path, &fsize, err));
  h5_guard g;
  h5_lock(&g);
  sl_status st = expand_locked(path, want, members, n, err);
  h5_unlock(&g);
  return st;
}

/* --------------------------------------------------------------- read */

static pthread_mutex_t priv_mutex = PTHREAD_MUTEX_INITIALIZER;

/* The dataset to read: the member, or (directory without --dataset) the
   file's only dataset, resolved once per process and kept in priv, since
   probe may not change member and param[] holds only numbers. */
static sl_status dataset_name(const sl_shard *s, const char **name, sl_error *err) {
  if (s->member != NULL) {
    *name = s->member;
    return SL_OK;
  }
  sl_shard *w = (sl_shard *)s; /* priv is the driver's lazily built state */
  sl_status st = SL_OK;
  pthread_mutex_lock(&priv_mutex);
  if (w->priv == NULL) {
    h5_guard g;
    h5_lock(&g);
    hid_t f;
    st = open_file(s->path, &f, err);
    if (st == SL_OK) {
      char *only = NULL;
      st = only_dataset(f, s->path, &only, err);
      w->priv = only;
      H5Fclose(f);
    }
    h5_unlock(&g);
  }
  *name = w->priv;
  pthread_mutex_unlock(&priv_mutex);
  return st;
}

/* Selects rows [lo, hi) of the file space; *mem receives a matching
   memory space. */
static sl_status select_rows(hid_t fs, const sl_shard *s, const char *name, int64_t lo,
                             int64_t hi, hid_t *mem, sl_error *err) {
  hsize_t dims[H5S_MAX_RANK], start[H5S_MAX_RANK] = {0};
  int ndim = H5Sget_simple_extent_ndims(fs);
  if (ndim < 1 || ndim > SL_MAX_DIMS || H5Sget_simple_extent_dims(fs, dims, NULL) < 0 ||
      dims[0] != (hsize_t)s->rows)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: expected %lld rows as at discovery but the dataset "
            "changed during the load", s->path, name, (long long)s->rows);
  start[0] = (hsize_t)lo;
  dims[0] = (hsize_t)(hi - lo);
  *mem = H5Screate_simple(ndim, dims, NULL);
  char why[160];
  if (*mem < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, dims, NULL) < 0)
    SL_FAIL(err, SL_EIO, "%s:%s: cannot select rows %lld to %lld: %s", s->path, name,
            (long long)lo, (long long)hi, h5_reason(why));
  return SL_OK;
}

static sl_status read_locked(const sl_shard *s, const char *name, int64_t lo, int64_t hi,
                             void *dst, sl_error *err) {
  hid_t f, d = -1, fs = -1, mem = -1, ft = -1, mt = -1;
  SL_TRY(open_file(s->path, &f, err));
  sl_status st = open_dataset(f, s->path, name, &d, err);
  if (st == SL_OK) {
    fs = H5Dget_space(d);
    st = select_rows(fs, s, name, lo, hi, &mem, err);
  }
  if (st == SL_OK) {
    ft = H5Dget_type(d);
    mt = memory_type((sl_dtype)s->param[P_DTYPE], ft);
  }
  char why[160];
  if (st == SL_OK && (mt < 0 || H5Dread(d, mt, mem, fs, H5P_DEFAULT, dst) < 0))
    st = sl__fail(err, SL_EIO, "%s:%s: reading rows %lld to %lld failed: %s", s->path, name,
                  (long long)lo, (long long)hi, h5_reason(why));
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (mem >= 0) H5Sclose(mem);
  if (fs >= 0) H5Sclose(fs);
  if (d >= 0) H5Oclose(d);
  H5Fclose(f);
  return st;
}

/* ------------------------------------------------------ own chunk decoding */

typedef struct chunk_loc {
  int64_t addr, size;
  unsigned skipped; /* filter mask: bit i set = filter i not applied */
} chunk_loc;

/* Where chunks c0..c0+n-1 lie in the file (under the HDF5 lock). *missing:
   some chunk was never written, so HDF5 must supply the fill value. */
static sl_status locate_locked(const sl_shard *s, const char *name, int64_t c0, size_t n,
                               chunk_loc *loc, bool *missing, sl_error *err) {
  hid_t f, d = -1;
  SL_TRY(open_file(s->path, &f, err));
  sl_status st = open_dataset(f, s->path, name, &d, err);
  hsize_t coord[H5S_MAX_RANK] = {0};
  *missing = false;
  for (size_t i = 0; st == SL_OK && i < n && !*missing; i++) {
    coord[0] = (hsize_t)(c0 + (int64_t)i) * s->param[P_CHUNK_ROWS];
    haddr_t addr = HADDR_UNDEF;
    hsize_t size = 0;
    char why[160];
    if (H5Dget_chunk_info_by_coord(d, coord, &loc[i].skipped, &addr, &size) < 0)
      st = sl__fail(err, SL_EFORMAT, "%s:%s: cannot locate the chunk at row %llu: %s",
                    s->path, name, (unsigned long long)coord[0], h5_reason(why));
    *missing = addr == HADDR_UNDEF;
    loc[i].addr = (int64_t)addr;
    loc[i].size = (int64_t)size;
  }
  if (d >= 0) H5Oclose(d);
  H5Fclose(f);
  return st;
}

/* HDF5's shuffle stores byte j of element i at j*n + i. */
static void unshuffle(const unsigned char *in, unsigned char *out, size_t bytes, size_t es) {
  size_t n = bytes / es;
  for (size_t j = 0; j < es; j++)
    for (size_t i = 0; i < n; i++) out[i * es + j] = in[j * n + i];
  memcpy(out + n * es, in + n * es, bytes - n * es);
}

/* Undoes the pipeline, last filter first; the result ends in *buf. */
static sl_status unfilter(const sl_shard *s, const char *name, const chunk_loc *loc,
                          unsigned char **buf, unsigned char **tmp, size_t *len,
                          size_t want, sl_error *err) {
  uint64_t code = s->param[P_FILTERS];
  int nf = 0;
  while (nf < SL_H5_MAX_FILTERS && ((code >> (4 * nf)) & 0xf)) nf++;
  for (int i = nf - 1; i >= 0; i--) {
    if (loc->skipped & (1u << i)) continue;
    unsigned f = (code >> (4 * i)) & 0xf;
    uLongf out = want;
    if (f == F_DEFLATE && (uncompress(*tmp, &out, *buf, *len) != Z_OK || out != want))
      SL_FAIL(err, SL_EFORMAT, "%s:%s: the gzip chunk at byte %lld does not inflate to %zu "
              "bytes (corrupt file?)", s->path, name, (long long)loc->addr, want);
    if (f == F_SHUFFLE) unshuffle(*buf, *tmp, *len, s->param[P_ELEM]);
    if (f == F_SHUFFLE) out = *len;
    unsigned char *x = *buf;
    *buf = *tmp;
    *tmp = x;
    *len = out;
  }
  if (*len != want)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: the chunk at byte %lld holds %zu bytes, expected %zu",
            s->path, name, (long long)loc->addr, *len, want);
  return SL_OK;
}

typedef struct chunk_io {
  int fd;
  unsigned char *buf, *tmp; /* swapped by each filter undone */
  size_t cap;
} chunk_io;

/* Reads chunk k (located at loc) and copies its rows within [lo, hi). */
static sl_status one_chunk(const sl_shard *s, const char *name, chunk_io *io,
                           const chunk_loc *loc, int64_t k, int64_t lo, int64_t hi,
                           char *dst, sl_error *err) {
  int64_t cr = (int64_t)s->param[P_CHUNK_ROWS], rb = (int64_t)s->param[P_ROW_BYTES];
  size_t want = (size_t)(cr * rb);
  if (loc->size < 0 || (size_t)loc->size > io->cap || loc->addr < 0 ||
      loc->addr + loc->size > s->file_size)
    SL_FAIL(err, SL_EFORMAT, "%s:%s: chunk %lld lies outside the file or exceeds %zu bytes",
            s->path, name, (long long)k, io->cap);
  SL_TRY(sl__pread_full(io->fd, s->path, io->buf, (size_t)loc->size, loc->addr, err));
  size_t len = (size_t)loc->size;
  SL_TRY(unfilter(s, name, loc, &io->buf, &io->tmp, &len, want, err));
  int64_t a = SL_MAX(lo, k * cr), b = SL_MIN(hi, (k + 1) * cr);
  memcpy(dst + (a - lo) * rb, io->buf + (a - k * cr) * rb, (size_t)((b - a) * rb));
  return SL_OK;
}

/* Rows [lo, hi) of a CHUNKS-mode dataset: locate under the lock, then read
   and decompress without it, so threads decode in parallel. */
static sl_status read_chunks(const sl_shard *s, const char *name, int64_t lo, int64_t hi,
                             char *dst, sl_error *err) {
  int64_t cr = (int64_t)s->param[P_CHUNK_ROWS], c0 = lo / cr, c1 = (hi - 1) / cr;
  size_t n = (size_t)(c1 - c0 + 1), want = (size_t)(cr * (int64_t)s->param[P_ROW_BYTES]);
  chunk_loc *loc = sl__calloc(n, sizeof *loc);
  /* deflate can grow incompressible data a little: leave room past want */
  size_t cap = want + want / 64 + 4096;
  chunk_io io = {-1, sl__malloc(cap), sl__malloc(cap), cap};
  sl_status st = SL_OK;
  if (loc == NULL || io.buf == NULL || io.tmp == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s:%s: out of memory for %zu chunks", s->path, name, n);
  bool missing = false;
  h5_guard g;
  h5_lock(&g);
  if (st == SL_OK) st = locate_locked(s, name, c0, n, loc, &missing, err);
  if (st == SL_OK && missing) st = read_locked(s, name, lo, hi, dst, err);
  h5_unlock(&g);
  if (st == SL_OK && !missing) st = sl__open_read(s->path, false, &io.fd, err);
  for (size_t i = 0; st == SL_OK && !missing && i < n; i++)
    st = one_chunk(s, name, &io, &loc[i], c0 + (int64_t)i, lo, hi, dst, err);
  if (st == SL_OK && !missing && s->swap)
    sl__byteswap(dst, (size_t)((hi - lo) * (int64_t)s->param[P_ROW_BYTES]) / s->param[P_ELEM],
                 s->param[P_ELEM], (sl_dtype)s->param[P_DTYPE]);
  sl__close(io.fd);
  sl__free(loc);
  sl__free(io.buf);
  sl__free(io.tmp);
  return st;
}

/* Decodes rows [lo, hi) through HDF5 (chunked, filtered, compact, ...). The
   file is opened per call: keeping it open would hold one descriptor per
   shard for the whole load. */
static sl_status h5_read(const sl_shard *s, int64_t lo, int64_t hi, void *dst,
                         sl_error *err) {
  assert(lo >= 0 && lo <= hi && hi <= s->rows);
  if (lo == hi) return SL_OK;
  const char *name;
  SL_TRY(dataset_name(s, &name, err));
  if (s->param[P_MODE] == MODE_CHUNKS) return read_chunks(s, name, lo, hi, dst, err);
  h5_guard g;
  h5_lock(&g);
  sl_status st = read_locked(s, name, lo, hi, dst, err);
  h5_unlock(&g);
  return st;
}

/* Contiguous data is plain bytes at a known offset: one range, no HDF5. */
static sl_status h5_extents(const sl_shard *s, int64_t lo, int64_t hi, sl_extent *out,
                            size_t *n, sl_error *err) {
  (void)err;
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

static void h5_release(sl_shard *s) {
  sl__free(s->priv);
  s->priv = NULL;
}

/* --------------------------------------------------------------- write */

/* The fixed little-endian file type of an integer or float dtype, or -1. */
static hid_t file_fixed(sl_dtype dt) {
  switch (dt) {
    case SL_INT8: return H5T_STD_I8LE;
    case SL_INT16: return H5T_STD_I16LE;
    case SL_INT32: return H5T_STD_I32LE;
    case SL_INT64: return H5T_STD_I64LE;
    case SL_UINT8: return H5T_STD_U8LE;
    case SL_UINT16: return H5T_STD_U16LE;
    case SL_UINT32: return H5T_STD_U32LE;
    case SL_UINT64: return H5T_STD_U64LE;
    case SL_FLOAT32: return H5T_IEEE_F32LE;
    case SL_FLOAT64: return H5T_IEEE_F64LE;
    default: return -1;
  }
}

/* The file type h5py would write for dt, little-endian. */
static hid_t file_type(sl_dtype dt) {
  hid_t t = -1;
  if (dt == SL_BOOL) {
    signed char no = 0, yes = 1;
    t = H5Tenum_create(H5T_NATIVE_INT8);
    if (t >= 0 && (H5Tenum_insert(t, "FALSE", &no) < 0 || H5Tenum_insert(t, "TRUE", &yes) < 0)) {
      H5Tclose(t);
      t = -1;
    }
  } else if (dt == SL_FLOAT16) { /* h5py's recipe for IEEE binary16 */
    t = H5Tcopy(H5T_IEEE_F32LE);
    if (t >= 0 && (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 ||
                   H5Tset_ebias(t, 15) < 0)) {
      H5Tclose(t);
      t = -1;
    }
  } else if (dt == SL_COMPLEX64) {
    t = complex_compound(4, H5T_IEEE_F32LE, NULL, NULL);
  } else if (dt == SL_COMPLEX128) {
    t = complex_compound(8, H5T_IEEE_F64LE, NULL, NULL);
  } else if (file_fixed(dt) >= 0) {
    t = H5Tcopy(file_fixed(dt));
  }
  return t;
}

static sl_status write_locked(const char *path, sl_dtype dt, int ndim, const hsize_t *dims,
                              const void *data, sl_error *err) {
  hid_t ft = file_type(dt), mt = ft >= 0 ? memory_type(dt, ft) : -1;
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t sp = H5Screate_simple(ndim, dims, NULL), d = -1;
  bool ok = ft >= 0 && mt >= 0 && f >= 0 && sp >= 0;
  if (ok) d = H5Dcreate2(f, "data", ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ok = ok && d >= 0 && (dims[0] == 0 || H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
  char why[160];
  if (!ok) h5_reason(why);
  if (d >= 0 && H5Dclose(d) < 0) ok = false;
  if (sp >= 0) H5Sclose(sp);
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (f >= 0 && H5Fclose(f) < 0 && ok) {
    ok = false;
    h5_reason(why);
  }
  if (!ok) SL_FAIL(err, SL_EIO, "%s: writing HDF5 dataset 'data' failed: %s", path, why);
  return SL_OK;
}

/* One file, one contiguous dataset "data", little-endian, as h5py writes. */
static sl_status h5_write(const char *path, sl_dtype dtype, int ndim, const int64_t *shape,
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
  h5_lock(&g);
  sl_status st = write_locked(path, dtype, ndim, dims, data, err);
  h5_unlock(&g);
  return st;
}

static const char *const h5_ext[] = {".h5", ".hdf5", NULL};

const sl_driver sl__hdf5_driver = {
    .name = "hdf5",
    .extensions = h5_ext,
    .expand = h5_expand,
    .probe = h5_probe,
    .extents = h5_extents,
    .read = h5_read,
    .release = h5_release,
    .write = h5_write,
};
