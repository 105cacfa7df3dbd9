/*
 * shardload_driver.h: what a format driver sees.
 *
 * A driver is a table of functions (sl_driver) that the library calls to
 * discover and read shards of one format. Built-in drivers (npy, raw, hdf5,
 * parquet, arrow) use exactly this interface; a program adds its own with
 * sl_register_driver, on every rank, before opening datasets.
 *
 * Lifecycle, per process:
 *   expand         on the discovering process (rank 0), before the rest
 *                  (state NULL): the shards one file holds.
 *   dataset_open   once per dataset (optional): state shared by every shard,
 *                  e.g. a sidecar parsed once or a column list parsed once.
 *   probe          on the discovering process only: headers only.
 *   open           once per shard before it is read (optional): the state
 *                  reading needs (a parsed footer), returned as a handle that
 *                  every other call uses read-only, from many threads.
 *   extents/read   many times, from many threads at once.
 *   close          the handle; dataset_close the dataset state.
 *
 * Files reach a driver as byte sources (sl_source) that the library opens,
 * read-only, through a bounded cache of descriptors, after checking the
 * file is the one discovery saw. A driver never opens a shard itself, except
 * through a library that insists on its own descriptor (HDF5), and then it
 * checks that descriptor with sl_source_check_fd.
 *
 * ABI: sl_driver starts with the ABI version and its own size; the library
 * treats every slot past struct_size as NULL. Slots and fields are only
 * appended. sl_shard and sl_shard_info are allocated by the library.
 */
#ifndef SHARDLOAD_DRIVER_H
#define SHARDLOAD_DRIVER_H

#include "shardload.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The driver ABI this header describes; bumped only if a slot changes meaning. */
#define SL_DRIVER_ABI 1

/** A byte range of a file. */
typedef struct sl_extent {
  int64_t offset;
  int64_t length;
} sl_extent;

/* ------------------------------------------------------------ byte sources */

/** The bytes of one file (or of a memory image), read-only. Thread-safe. */
typedef struct sl_source sl_source;

/**
 * Reads exactly n bytes at off into buf, looping over short reads.
 * @return SL_EFORMAT "PATH: file ends at byte ..." when fewer exist,
 *         SL_EIO naming the file when the read fails.
 */
SL_API SL_NODISCARD sl_status sl_source_read(const sl_source *s, int64_t off, size_t n,
                                             void *buf, sl_error *err);
/** Reads up to n bytes; *got is short only at the end of the file. */
SL_API SL_NODISCARD sl_status sl_source_read_some(const sl_source *s, int64_t off, size_t n,
                                                  void *buf, size_t *got, sl_error *err);
/** @return the size of the file as opened. */
SL_API int64_t sl_source_size(const sl_source *s);
/** @return the path as the user gave it (for messages). */
SL_API const char *sl_source_path(const sl_source *s);
/**
 * For drivers over a library that opens files itself: checks that fd is the
 * file behind s, unchanged (device, inode, size, modification time).
 * @return SL_ECHANGED naming the file and what differs.
 */
SL_API SL_NODISCARD sl_status sl_source_check_fd(const sl_source *s, int fd, sl_error *err);

/* ------------------------------------------------------------------ errors */

/**
 * Sets err (NULL allowed) to code and the printf-formatted message unless it
 * already holds an error: the first error set wins. The message is made one
 * line. @return code, so `return sl_error_setf(err, SL_EFORMAT, ...)` works.
 */
SL_API sl_status sl_error_setf(sl_error *err, sl_status code, const char *fmt, ...)
    SL_PRINTF(3, 4);

/* ------------------------------------------------------------------ shards */

/**
 * One shard. The library fills path, member and opts; probe fills rows,
 * swap and param, which are broadcast to every rank as numbers (no pointers).
 */
typedef struct sl_shard {
  const char *path;   /* the file; shards of one file share it */
  const char *member; /* e.g. the HDF5 dataset name; NULL when unused */
  int64_t rows;
  int swap;           /* stored byte order differs from native; the library
                         swaps what it reads through extents */
  uint64_t param[8];  /* driver-defined numbers (data offset, flags, ...) */
  const sl_open_options *opts; /* the dataset's options, on every rank */
} sl_shard;

/** What probe (and open) learn about the array stored in one shard. */
typedef struct sl_shard_info {
  sl_dtype dtype;
  int ndim;                     /* >= 1; 0 from open: "not re-read" */
  int64_t shape[SL_MAX_DIMS];   /* shape[0] = rows; a trailing extent may be
                                   -1 when the shard holds no rows and its
                                   format cannot tell it (a list column with
                                   no values): it then matches any extent */
} sl_shard_info;

/** The dataset as dataset_open sees it. */
typedef struct sl_dataset_desc {
  const char *root;             /* the PATH given */
  const sl_open_options *opts;
  const sl_shard *shards;       /* paths and members; probed fields too
                                   unless discovering */
  size_t nshards;
  int discovering;              /* 1 on the process that probes */
} sl_dataset_desc;

/* ------------------------------------------------------------------ driver */

/**
 * A format driver. NULL optional slots mean the generic path. Every
 * function may be called from several threads at once, for different or
 * equal shards; handles and dataset state are used read-only after they
 * are made. `state` below is what dataset_open made (NULL without it);
 * `handle` is what open made, or the dataset state when there is no open.
 */
typedef struct sl_driver {
  uint32_t abi;                       /* SL_DRIVER_ABI */
  uint32_t struct_size;               /* sizeof(sl_driver) as compiled */
  const char *name;                   /* "npy" */
  const char *const *extensions;      /* {".npy", NULL} */
  /* Reads metadata only, from src. */
  sl_status (*probe)(const void *state, const sl_source *src, const char *member,
                     sl_shard *shard, sl_shard_info *info, sl_error *err);
  /* Optional: rows [lo, hi) as byte ranges that concatenate to the rows in C
     order; *n in: capacity, out: count (more than the capacity: call again
     with that many). Return with *n = 0 to ask for read. */
  sl_status (*extents)(const sl_shard *s, const void *handle, int64_t lo, int64_t hi,
                       sl_extent *out, size_t *n, sl_error *err);
  /* Optional when extents always answers: decodes rows [lo, hi) into dst,
     a host buffer, C order, native byte order. */
  sl_status (*read)(const sl_shard *s, const void *handle, const sl_source *src, int64_t lo,
                    int64_t hi, void *dst, sl_error *err);
  /* Optional: per dataset and process, before every call but expand. */
  sl_status (*dataset_open)(const sl_dataset_desc *d, void **state, sl_error *err);
  void (*dataset_close)(void *state);
  /* Optional: lists the shards inside one file (e.g. HDF5 datasets); NULL
     means one file is one shard. *members and each name: malloc. */
  sl_status (*expand)(const void *state, const char *path, const sl_open_options *o,
                      char ***members, size_t *n, sl_error *err);
  /* Optional: the read state of a shard, made from src. Where the format
     lets it re-read the header cheaply, it fills info, and the library
     checks dtype and shape against discovery (ndim 0: not re-read). On
     failure it frees what it made: *handle is not closed. */
  sl_status (*open)(const void *state, const sl_shard *s, const sl_source *src,
                    void **handle, sl_shard_info *info, sl_error *err);
  void (*close)(void *handle);
  /* Optional, for drivers that decode: the first row at or after row where a
     unit of decoding starts (a row group, a record batch); s->rows when none
     does, -1 when it cannot tell. Read pieces end there where they can, so
     that no unit is decoded twice. */
  int64_t (*unit_start)(const sl_shard *s, const void *handle, int64_t row);
  /* Optional: writes one shard file (for `shardload write`); path exists
     (the library's temporary file) and is renamed into place after. */
  sl_status (*write)(const char *path, sl_dtype dtype, int ndim, const int64_t *shape,
                     const void *data, sl_error *err);
  /* Optional, for formats stored as a directory (a Zarr store): when dir is
     one, the regular file inside it that stands for it (its metadata, which
     the library identifies and hands to expand, probe and open), malloc'd
     into *file; *file NULL when dir is not one. A directory that a driver
     claims is one dataset (or one shard of a directory of them). */
  sl_status (*store_file)(const char *dir, char **file, sl_error *err);
  /* Optional (appended in 0.2): one line on what the shard's handle
     loads, for inspect: each column's name, stored type and, for dates
     and times, the unit of its integers. */
  void (*describe)(const void *handle, char *buf, size_t cap);
  /* Optional (appended in 0.3), for drivers that decode: the gather's rows
     of one shard, rows[0..n) ascending and distinct, into dst (row k of dst
     from rows[k]; C order, native byte order), reading only what those rows
     need rather than decoding the ranges around them. src may read from a
     mapping of the file. Without it a gather decodes ranges through read. */
  sl_status (*take)(const sl_shard *s, const void *handle, const sl_source *src,
                    const int64_t *rows, size_t n, void *dst, sl_error *err);
  /* Optional (appended in 0.3): other names option format accepts for it,
     besides its name and its extensions without the dot ("arrow_ipc");
     NULL-terminated. */
  const char *const *aliases;
  /* Optional (appended in 0.3), for inspect: what shard s is and how a
     read takes it, as the text of one JSON object malloc'd into *json (the
     library frees it with free()). handle is what open made (or the
     dataset state), src the shard's file. Keys the library and the command
     line know, each optional: "read_path" ("direct": the stored bytes read
     straight into place, through extents or the driver's own pread;
     "decoded": the driver's decoder; "hdf5": a library decoding under a
     lock),
     "read_note" (why, in a few words), "codecs" and "encodings" (arrays of
     names), "chunks" (an array of extents), "row_groups" and "batches"
     (objects with "count", "min_rows", "max_rows"), "columns" (each
     {"name", "stored", "dtype", "unit", "nulls": true|false|null,
     "null_count"}), "skipped" (each {"name", "why"}); other keys are shown
     as they are. Without it the library reports the read path alone. */
  sl_status (*inspect)(const sl_shard *s, const void *handle, const sl_source *src,
                       char **json, sl_error *err);
} sl_driver;

/**
 * Registers a driver before datasets are opened; later registrations take
 * precedence by name. The library keeps its own copy of the table (the
 * strings it points to must outlive their use). Not thread-safe.
 * @return SL_EINVAL for an unknown ABI, a table too short for its
 *         mandatory slots, or neither extents nor read.
 */
SL_API SL_NODISCARD sl_status sl_register_driver(const sl_driver *d, sl_error *err);
/** @return the driver named name (built in or registered), NULL if none. */
SL_API const sl_driver *sl_find_driver(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* SHARDLOAD_DRIVER_H */
