/* The HDF5 driver's own declarations, shared by its files:
 *   lock.c     the library lock, error text, opening files (identity checked)
 *   names.c    the datasets of a file, by name or pattern (expand)
 *   types.c    HDF5 types <-> dtypes, in memory and in files
 *   storage.c  shape, layout and filters of a dataset: how it will be read
 *   foreign.c  external storage and virtual datasets: other files, refused
 *   chunks.c   our own decoding of deflate/shuffle chunks, outside the lock
 *   hdf5.c     the driver table: probe, open, extents, read
 *   inspect.c  layout, chunks, filters and read mode, for inspect
 *   write.c    `shardload write --format hdf5`
 */
#ifndef SL_H5_H
#define SL_H5_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <hdf5.h>

#include "base.h"

/* param[] layout: everything read() and extents() need, as numbers. */
enum { P_MODE, P_OFFSET, P_ROW_BYTES, P_DTYPE, P_CHUNK_ROWS, P_FILTERS, P_ELEM };
/* EXTENTS: contiguous bytes, read by the generic pread path. CHUNKS: chunks
   of whole rows whose filters we undo ourselves (deflate, shuffle), so only
   locating them needs the HDF5 lock and decompression runs in parallel.
   DECODE: everything else, through H5Dread under the lock. */
enum { MODE_EXTENTS = 0, MODE_DECODE = 1, MODE_CHUNKS = 2 };
/* P_FILTERS holds the pipeline in order, 4 bits a filter, lowest first. */
enum { F_DEFLATE = 1, F_SHUFFLE = 2, SL_H5_MAX_FILTERS = 8 };

/* ------------------------------------------------------------- lock.c */

/* The caller's error-printing hook, saved while we hold the lock. */
typedef struct h5_guard {
  H5E_auto2_t fn;
  void *data;
} h5_guard;

/* file: what a crash inside libhdf5 names (lock.c) until the unlock. */
void sl__h5_lock(h5_guard *g, const char *file);
void sl__h5_unlock(const h5_guard *g);
/* How inputs are opened: files, and datasets (external storage named
   relative to the file; external links refused unless allowed, then only
   inside the linking file's directory). */
hid_t sl__h5_fapl(void);
/* H5Fclose of an input, H5Fopen of a file by name (read-only, no identity
   check: virtual sources); each remembers a failure (lock.c: a quiet exit). */
void sl__h5_close_file(hid_t f);
hid_t sl__h5_open_path(const char *path);
hid_t sl__h5_dapl(bool allow_external);
/* HDF5's innermost error description, for messages. */
const char *sl__h5_reason(char buf[static 160]);
/* An HDF5 call failed where the driver goes on without its reason (an
   object that does not open while listing): the process must not H5close
   at exit either. */
void sl__h5_failed(void);
/* The signature at byte 0, 512, 1024, ...: "not an HDF5 file" otherwise. */
sl_status sl__h5_check_signature(const sl_source *src, sl_error *err);
/* H5Fopen of src's file, read-only, checked to be the very file src is
   (HDF5 opens its own descriptor). Under the lock. */
sl_status sl__h5_open_file(const sl_source *src, hid_t *f, sl_error *err);

/* ------------------------------------------------------------ names.c */

/* The file's one and only dataset (absolute name, malloc'd). */
sl_status sl__h5_only_dataset(hid_t f, const char *path, char **out, sl_error *err);
/* Opens dataset name; a missing one is reported with what the file holds. */
sl_status sl__h5_open_dataset(hid_t f, const char *path, const char *name, bool allow_external,
                              hid_t *d, sl_error *err);
bool sl__h5_has_glob(const char *s);
sl_status sl__h5_expand(const void *state, const char *path, const sl_open_options *o,
                        char ***members, size_t *n, sl_error *err);

/* ------------------------------------------------------------ types.c */

/* The file type as one of our dtypes, and whether its bytes need a swap. */
sl_status sl__h5_classify(hid_t t, const char *path, const char *name, sl_dtype *dt,
                          int *swap, sl_error *err);
/* The native memory type for dt (the file type's member names for complex). */
hid_t sl__h5_memory_type(sl_dtype dt, hid_t ftype);
/* The little-endian file type h5py would write for dt. */
hid_t sl__h5_file_type(sl_dtype dt);

/* ---------------------------------------------------------- storage.c */

/* Shape, type and storage of dataset d of a file of fsize bytes: info, and
   rows, swap and param[] of s. */
sl_status sl__h5_describe(hid_t d, const char *path, const char *name, int64_t fsize,
                          sl_shard *s, sl_shard_info *info, sl_error *err);

/* ---------------------------------------------------------- foreign.c */

/* Refuses dataset d (of the file at path) when HDF5 would read its data
   from other files, unless allow; then only from files inside path's
   directory (symbolic links resolved). */
sl_status sl__h5_check_foreign(hid_t d, hid_t dcpl, const char *path, const char *name,
                               bool allow, sl_error *err);
/* Whether name, as named inside the file at path (absolute or relative to
   its directory), resolves to an existing file inside that directory. */
bool sl__h5_inside_dir(const char *path, const char *name);
/* Whether dataset d lies in a file other than the one at path (reached
   through an external link): its bytes are not the shard file's. */
bool sl__h5_elsewhere(hid_t d, const char *path);
/* Option hdf5_allow_external of a shard (false without options). */
bool sl__h5_allow_external(const sl_shard *s);

/* ----------------------------------------------------------- chunks.c */

/* Rows [lo, hi) of a CHUNKS-mode dataset into dst. */
sl_status sl__h5_read_chunks(const sl_shard *s, const sl_source *src, const char *name,
                             int64_t lo, int64_t hi, char *dst, sl_error *err);

/* ------------------------------------------------------------ hdf5.c */

/* Rows [lo, hi) through H5Dread, under the lock (held by the caller). */
sl_status sl__h5_read_locked(const sl_shard *s, const sl_source *src, const char *name,
                             int64_t lo, int64_t hi, void *dst, sl_error *err);

/* ---------------------------------------------------------- inspect.c */

/* The driver's inspect slot: the dataset's layout, chunk shape, filters
   (names, parameters) and read mode, as JSON. */
sl_status sl__h5_inspect(const sl_shard *s, const void *handle, const sl_source *src,
                         char **json, sl_error *err);

/* ------------------------------------------------------------ write.c */

sl_status sl__h5_write(const char *path, sl_dtype dtype, int ndim, const int64_t *shape,
                       const void *data, sl_error *err);

#endif
