/* src/core: the five steps on one process, with no MPI: the driver table,
 * discovery (layout), the dataset as bytes (pack), planning (plan), the
 * leaf read (leaf, read), the executors that run it (exec_*), the array
 * and its tile (array), verification (verify). Only the exec_* files know
 * OpenMP or CUDA. Internal (sl__ prefix). */
#ifndef SL_CORE_H
#define SL_CORE_H

#include "base.h"

/* ----------------------------------------------------------------- drivers */

const sl_driver *sl__driver_for_path(const char *path);
const sl_driver *sl__driver_by_name(const char *name);
const char *sl__driver_ext(const sl_driver *d, const char *name);
/* i-th driver in lookup order (registered last first), NULL past the end. */
const sl_driver *sl__driver_at(size_t i);
/* Space-separated names of every built-in driver. */
const char *sl__driver_names(void);

/* -------------------------------------------------------------- datasets */

struct sl_dataset {
  const sl_driver *driver;
  void *state;              /* the driver's dataset state (dataset_open) */
  sl_open_options opts;     /* strings point into opt_strings */
  char *opt_strings;
  sl_dtype dtype;
  int ndim;
  int64_t shape[SL_MAX_DIMS]; /* shape[0] = total rows */
  int64_t row_bytes;
  size_t nshards;
  sl_shard *shards;         /* paths point into files[] */
  size_t *file_of;          /* shard -> file */
  int64_t *cum_rows;        /* nshards + 1 */
  size_t nfiles;
  char **files;
  sl_file_id *ids;          /* as discovery saw each file */
  sl_cache *cache;          /* this process's descriptors of files[] */
  struct sl_handles *handles; /* drivers' shard handles kept across gathers */
  int64_t files_probed;
  char *root;               /* the PATH given (for messages) */
};

/* The caller's options as far as its struct_size reaches, the rest default. */
sl_status sl__open_options(const sl_open_options *in, sl_open_options *out, sl_error *err);
/* Discovery on this process alone (rank 0's job): the shards of paths[0..n)
   in order, one format for all. */
sl_status sl__discover_paths(const char *const *paths, size_t n, const sl_open_options *o,
                             sl_dataset **out, sl_error *err);
/* The same for one path. */
sl_status sl__discover(const char *path, const sl_open_options *o, sl_dataset **out,
                       sl_error *err);

/* A file that an input holds (find.c). */
typedef struct sl_found {
  char *path;               /* what the library identifies: the file, or the
                               metadata file that stands for a store */
  char *store;              /* a store: its directory, for messages; else NULL */
  const sl_driver *driver;  /* the format given, else the one its name says */
  bool whole;               /* an input itself (a file or a store): its driver
                               may expand it into several shards */
} sl_found;

typedef struct sl_found_list {
  sl_found *v;
  size_t n, cap;
} sl_found_list;

/* Appends the files that input path holds, in order: a file itself, a
   store, a directory's shard_NNNN files, its matches of option pattern
   (natural order of relative path), or the files of its key=value folders.
   o: resolved options whose format, if any, names a driver. */
sl_status sl__find_files(const char *path, const sl_open_options *o, sl_found_list *out,
                         sl_error *err);
void sl__found_list_free(sl_found_list *l);
/* An empty dataset of nfiles files and nshards shards (option strings copied). */
sl_status sl__dataset_new(const char *root, const sl_driver *drv, const sl_open_options *o,
                          size_t nfiles, size_t nshards, sl_dataset **out, sl_error *err);
/* Sets shard i's file (path shared with files[file]) and member (copied). */
sl_status sl__dataset_set_shard(sl_dataset *d, size_t i, size_t file, const char *member,
                                sl_error *err);
/* The driver's dataset state and the file cache: before probing (discovering)
   or once the shard table is complete (every other rank). */
sl_status sl__dataset_start(sl_dataset *d, bool discovering, sl_error *err);
/* Serialises a dataset to bytes and back (for the broadcast). */
sl_status sl__dataset_pack(const sl_dataset *d, char **buf, size_t *n, sl_error *err);
sl_status sl__dataset_unpack(const char *buf, size_t n, sl_dataset **out, sl_error *err);
/* "path" or "path:member", for messages. */
const char *sl__shard_label(const sl_shard *s, char *buf, size_t cap);
void sl__shape_text(const int64_t *s, int n, char *buf, size_t cap);

/* ------------------------------------------------------------------- plan */

/* One contiguous piece of a read: rows [file_lo, file_hi) of shard, landing
   at row dst_row of the read's destination. */
typedef struct sl_segment {
  size_t shard;
  int64_t file_lo, file_hi;
  int64_t dst_row;
} sl_segment;

/* Part boundaries: bounds[0..nparts] (bounds[p]..bounds[p+1] = part p). */
void sl__partition(int64_t nrows, int nparts, sl_partition_kind kind, int64_t min_rows,
                   int64_t *bounds);
/* Index of the shard holding global row r (cum_rows[i] <= r < cum_rows[i+1]);
   zero-row shards are skipped. */
size_t sl__shard_of_row(const int64_t *cum_rows, size_t nshards, int64_t r);
/* Segments of rows [lo, hi); out may be NULL to count. @return count. */
size_t sl__segments(const int64_t *cum_rows, size_t nshards, int64_t lo, int64_t hi,
                    sl_segment *out);
/* The first row at or after row of shard where a unit of decoding starts
   (a Parquet row group, an Arrow record batch); anything else (past the
   end, unknown) is ignored. */
typedef int64_t (*sl_unit_fn)(void *ctx, size_t shard, int64_t row);
/* Splits segments into pieces of max_rows rows (the last of a segment
   shorter); out may be NULL to count. With unit, a piece ends at a unit
   start when one lies within half a piece of max_rows, or stretches to the
   unit's end when that keeps it within both eight pieces and share rows (a
   thread's share of the read), so that no unit is decoded by two pieces
   while others keep the threads busy; a longer unit is cut into pieces of
   that many rows. */
size_t sl__split_units(const sl_segment *seg, size_t n, int64_t max_rows, int64_t share,
                       sl_unit_fn unit, void *ctx, sl_segment *out);

/* ------------------------------------------------------------- executors */

/* A tile: the memory an executor owns for one rank's rows. */
typedef struct sl_tile {
  void *data;           /* rows start here; NULL for an empty tile */
  size_t bytes;
  void *base;           /* the allocation behind data */
  size_t mapped;
  sl_memory_kind kind;
  int device;           /* gpu: set by the caller before tile_alloc */
  const void *engine;   /* gpu: the copy engine that allocated it */
  bool staged;          /* read back through the executor's to_host with
                           scratch even when kind is host (the gpu variant on
                           its host copy engine, for tests) */
} sl_tile;

/* One task of a parallel loop; tasks are independent. */
typedef sl_status (*sl_task_fn)(void *ctx, size_t i, sl_error *err);

typedef struct sl_leaf sl_leaf;

/* A variant of the per-tile read: cpu, omp, gpu. A NULL slot means the
   host default (exec_host.c). */
typedef struct sl_executor {
  const char *name;
  sl_variant variant;
  /* SL_OK when it can run here; else why not (SL_ENOTSUP: which build
     option would add it). */
  sl_status (*available)(sl_error *err);
  /* Threads it runs when asked for asked (0: its default); the cpu
     variant runs one whatever it is asked, and says so in the stats. */
  int (*threads)(int asked);
  sl_status (*tile_alloc)(size_t bytes, size_t shift, sl_tile *t, sl_error *err);
  void (*tile_free)(sl_tile *t);
  /* fn(ctx, i) for every i in [0, n) on up to threads threads. The error of
     the lowest failing i wins, whichever thread fails first: tasks after a
     failed one may be skipped, those before it all run. */
  sl_status (*parallel)(size_t n, sl_task_fn fn, void *ctx, int threads, sl_error *err);
  /* Reads the pieces of a read into dst (its memory: this executor's). */
  sl_status (*read_pieces)(const struct sl_executor *self, const sl_leaf *L,
                           const sl_segment *pieces, size_t n, char *dst, int threads,
                           sl_error *err);
  /* Bytes [off, off + n) of the tile as host memory: *out points into the
     tile, or at scratch (n bytes) holding a copy. */
  sl_status (*to_host)(const sl_tile *t, size_t off, size_t n, void *scratch,
                       const void **out, sl_error *err);
  /* Its DLPack device: type (DLDeviceType) and id. */
  void (*dl_device)(const sl_tile *t, int *type, int *id);
  /* gpu only (NULL elsewhere): the device of this rank's reads, asked
     (>= 0) or local_rank modulo the visible devices, checked with GPUDirect
     Storage mode gds and described in st (device, name, PCI bus id);
     *device is the one chosen. rank is for messages. */
  sl_status (*bind)(int asked, int local_rank, int rank, sl_gds_mode gds, sl_read_stats *st,
                    int *device, sl_error *err);
  /* gpu only: the device whose memory p is (a caller's buffer). */
  sl_status (*device_of)(const void *p, int *device, sl_error *err);
} sl_executor;

extern const sl_executor sl__exec_cpu, sl__exec_omp, sl__exec_gpu;
/* The host defaults of the optional slots. */
sl_status sl__host_tile_alloc(size_t bytes, size_t shift, sl_tile *t, sl_error *err);
void sl__host_tile_free(sl_tile *t);
sl_status sl__host_read_pieces(const sl_executor *self, const sl_leaf *L,
                               const sl_segment *pieces, size_t n, char *dst, int threads,
                               sl_error *err);
sl_status sl__host_to_host(const sl_tile *t, size_t off, size_t n, void *scratch,
                           const void **out, sl_error *err);
void sl__host_dl_device(const sl_tile *t, int *type, int *id);
/* The executor for a variant (AUTO resolved with threads) and the threads it
   will use; SL_ENOTSUP when it is not in this build or cannot run here. */
sl_status sl__choose_executor(sl_variant v, int threads, const sl_executor **out,
                              int *threads_out, sl_error *err);
/* As sl__choose_executor for a destination in memory of kind mem: AUTO
   takes the gpu variant for device memory, and also for host-or-device
   tiles (sl_load, any_memory) when it can run on rank; when it cannot, it
   falls back to the host variants and says why in note (cap bytes). */
sl_status sl__choose_executor_for(sl_variant v, int threads, sl_memory_kind mem,
                                  bool any_memory, int rank, const sl_executor **out,
                                  int *threads_out, char *note, size_t cap, sl_error *err);

/* ------------------------------------------------------------- leaf read */

/* What a read counts as it goes: bytes of finished pieces (a progress
   thread reads done while the read runs) and bytes by the path that read
   them (the stats). Each piece adds once, when it is done. */
typedef struct sl_counts {
  _Atomic int64_t done;
  _Atomic int64_t path[SL_PATH_COUNT];
} sl_counts;

/* Adds a piece's bytes by path (and their sum to done); c NULL: nothing. */
void sl__counts_add(sl_counts *c, const int64_t *by_path);

/* What the threads of one window of a read share: the shards [first, last]
   opened for reading, and their drivers' handles. */
struct sl_leaf {
  const sl_dataset *ds;
  sl_io_mode io;
  size_t first, last;
  const void *const *handles;  /* per shard in [first, last] */
  _Atomic int64_t *fault_ns;   /* += ns spent in sl__prefault, all threads */
  _Atomic int64_t *opened;     /* += descriptors opened */
  /* gpu */
  int device;                  /* the device the tile is on */
  sl_gds_mode gds;
  _Atomic int64_t *staging_peak; /* max= pinned staging bytes held at once */
  _Atomic int64_t *gds_bytes;    /* += bytes cuFile read straight to the device */
  bool small_maps;             /* pieces up to SL_MAP_MAX copied from a mapping of
                                  the file (the gather); default pread */
  sl_counts *counts;           /* += each piece's bytes by path; may be NULL */
  sl_trace *trace;             /* a span per piece; NULL: none */
};

/* Pieces up to this size may be copied from a mapping (small_maps above). */
#define SL_MAP_MAX (64 << 10)

/* Opens shard i for reading: its file through the cache (identity checked)
   and the driver's handle, whose re-read header must match discovery. */
sl_status sl__leaf_open_shard(const sl_dataset *d, size_t i, _Atomic int64_t *opened,
                              void **handle, sl_error *err);
void sl__leaf_close_shard(const sl_dataset *d, void *handle);
/* Reads one piece into dst (host memory for its rows); thread-safe. */
sl_status sl__leaf_piece(const sl_leaf *L, const sl_segment *s, char *dst, sl_error *err);
/* As sl__leaf_piece, but bytes read by extents stay in the file's byte
   order: *swap_es is the element size still to swap (0: nothing), for an
   executor that swaps elsewhere (on the device). */
sl_status sl__leaf_piece_raw(const sl_leaf *L, const sl_segment *s, char *dst,
                             size_t *swap_es, sl_error *err);
/* A piece span into L's trace (none without one): global rows [lo, hi) of
   shard, rows of them read (0: all), bytes by path, begun at t0. */
void sl__leaf_trace(const sl_leaf *L, int64_t t0, size_t shard, int64_t lo, int64_t hi,
                    int64_t rows, const int64_t *by);
/* The driver's take (it has one): rows (of the shard, ascending, distinct)
   into dst, whole rows; small reads come from a mapping of the file when
   L->small_maps allows it. */
sl_status sl__leaf_take(const sl_leaf *L, size_t shard, const int64_t *rows, size_t n,
                        char *dst, sl_error *err);
/* The byte ranges of a piece when its driver has extents (*n = 0 when it
   decodes instead); *ex is stack or a new array the caller frees with
   sl__leaf_extents_free. */
#define SL_EXTENTS_STACK 16
sl_status sl__leaf_extents(const sl_leaf *L, const sl_segment *s, sl_extent *stack,
                           sl_extent **ex, size_t *n, sl_error *err);
void sl__leaf_extents_free(sl_extent *stack, sl_extent *ex);

/* Shard handles kept across reads (handles.c): get pins shard's handle,
   opening it (sl__leaf_open_shard) on first use; put unpins it. */
typedef struct sl_handles sl_handles;
sl_status sl__handles_new(size_t nshards, sl_handles **out, sl_error *err);
void sl__handles_free(sl_handles *c, const sl_dataset *d);
sl_status sl__handle_get(const sl_dataset *d, size_t shard, _Atomic int64_t *opened,
                         const void **out, sl_error *err);
void sl__handle_put(const sl_dataset *d, size_t shard);

/* Below this many bytes, a gather (and a range read with variant auto) runs
   on the calling thread, through the kept shard handles (take.c). */
#define SL_SMALL_READ (8 << 20)
sl_status sl__take_range(const sl_dataset *d, int64_t lo, int64_t hi, char *dst,
                         const sl_read_options *o, sl_read_stats *full, sl_error *err);

/* The read of rows [lo, hi) into dst (memory of ex) with options o
   (checked; o->trace records its pieces); stats may be NULL; counts (may
   be NULL) receives what it read as it goes. */
sl_status sl__read(const sl_dataset *d, int64_t lo, int64_t hi, const sl_executor *ex,
                   int threads, char *dst, const sl_read_options *o, sl_read_stats *stats,
                   sl_counts *counts, sl_error *err);
/* The caller's options with what its struct_size does not cover defaulted;
   SL_EINVAL naming a field out of range. */
sl_status sl__read_options(const sl_read_options *in, sl_read_options *out, sl_error *err);
/* SL_EINVAL when the caller's stats were never initialised (NULL is fine). */
sl_status sl__stats_check(const sl_read_stats *user, sl_error *err);
/* The device fields (device, name, PCI bus id, note) of from into to. */
void sl__stats_device(sl_read_stats *to, const sl_read_stats *from);
/* Copies full into the caller's stats, as far as its struct_size reaches. */
sl_status sl__stats_out(const sl_read_stats *full, sl_read_stats *user, sl_error *err);

/* -------------------------------------------------------------- arrays */

struct sl_array {
  sl_dtype dtype;
  int ndim;
  int64_t shape[SL_MAX_DIMS];
  int64_t row_bytes;
  int nparts;
  int part;
  int64_t *bounds;       /* nparts + 1 */
  sl_tile tile;          /* the local rows, in ex's memory */
  const sl_executor *ex;
  int refs;              /* the array + live DLPack exports */
};

/* device: the gpu tile's device (ignored by host executors). */
sl_status sl__array_new(const sl_dataset *d, int nparts, int part, const int64_t *bounds,
                        const sl_executor *ex, size_t shift, int device, sl_array **out,
                        sl_error *err);
void sl__array_unref(sl_array *a);
/* Writes the local rows into fd at data_off, through host memory. */
sl_status sl__array_pwrite_local(const sl_array *a, int fd, const char *path,
                                 int64_t data_off, sl_error *err);
/* Checks the local tile against the pattern; @return SL_EVERIFY with message. */
sl_status sl__verify_local(const sl_array *a, uint64_t seed, sl_error *err);
sl_status sl__reread_local(const sl_array *a, const sl_dataset *d, sl_error *err);

/* The shift (bytes, < 4096) that lines the tile up for direct reads of its
   largest segment; 0 when none is possible. */
size_t sl__tile_shift(const sl_dataset *d, int64_t lo, int64_t hi);


#endif
