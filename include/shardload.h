/*
 * shardload: load a sharded on-disk dataset into a row-partitioned array
 * spread over the ranks of a process group (MPI, or one plain process).
 *
 * The public API. Everything with a lifetime is an opaque handle with a
 * create/free pair (every *_free accepts NULL); the visible structs are plain
 * values the caller owns. Every fallible call returns an sl_status and, when
 * given a non-NULL sl_error, first clears it and then fills it with a
 * one-line message that names the file and what is wrong with it.
 *
 * ABI: the option and stats structs start with struct_size, set by their
 * _init macro to the size the caller and the library share (the caller's
 * sizeof, or the library's if that is smaller). The library reads (and, for stats,
 * writes) only the fields that struct_size covers, so a program built
 * against an older header, with fewer fields, keeps working: the fields it
 * does not know take their defaults. Fields are only ever appended. What a
 * format driver sees is in shardload_driver.h.
 *
 * Typical use:
 *
 *   sl_comm *comm; sl_dataset *ds; sl_array *a; sl_error err;
 *   sl_comm_init(SL_LAUNCH_AUTO, &argc, &argv, &comm, &err);
 *   sl_dataset_open(comm, "/shared/data", NULL, &ds, &err);   // collective
 *   sl_load(comm, ds, NULL, &a, NULL, &err);                  // collective
 *   ... sl_array_local_data(a) ...
 *   sl_array_free(a); sl_dataset_free(ds); sl_comm_free(comm);
 */
#ifndef SHARDLOAD_H
#define SHARDLOAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SL_API __attribute__((visibility("default")))
#define SL_NODISCARD __attribute__((warn_unused_result))
#define SL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SL_API
#define SL_NODISCARD
#define SL_PRINTF(f, a)
#endif

/* ------------------------------------------------------------------ version */

#define SL_VERSION_MAJOR 0
#define SL_VERSION_MINOR 2
#define SL_VERSION_PATCH 0
#define SL_VERSION_NUMBER \
  (SL_VERSION_MAJOR * 10000 + SL_VERSION_MINOR * 100 + SL_VERSION_PATCH)
#define SL_VERSION_STRING "0.2.0"

/** @return the runtime library's SL_VERSION_NUMBER (compare with the header's). */
SL_API unsigned sl_version_number(void);

/** @return a static one-line list of built-in formats, variants and features. */
SL_API const char *sl_features(void);

/* ------------------------------------------------------------------- errors */

/* Values are pinned: never renumber, only append. */
#define SL_STATUS_MAP(X)                                         \
  X(SL_OK, 0, "success")                                         \
  X(SL_EINVAL, 1, "invalid argument")                            \
  X(SL_ENOMEM, 2, "out of memory")                               \
  X(SL_EIO, 3, "I/O error")                                      \
  X(SL_EFORMAT, 4, "bad or unsupported file")                    \
  X(SL_ELAYOUT, 5, "inconsistent dataset layout")                \
  X(SL_ENOTSUP, 6, "not supported by this build")                \
  X(SL_EPEER, 7, "ranks disagree")                               \
  X(SL_ENOENT, 8, "no such file or directory")                   \
  X(SL_EVERIFY, 9, "verification failed")                        \
  X(SL_ECHANGED, 10, "file changed since the dataset was opened")

typedef enum sl_status {
#define SL__STATUS_ENUM(name, value, text) name = value,
  SL_STATUS_MAP(SL__STATUS_ENUM)
#undef SL__STATUS_ENUM
} sl_status;

/**
 * Caller-allocated error report. Fixed size so the error path never allocates
 * and it can be broadcast as bytes. Every call that takes one clears it
 * first; inside a call the first error set wins, so outer layers never
 * overwrite an inner, more specific message. message is one line.
 */
typedef struct sl_error {
  sl_status code;
  char message[1024];
} sl_error;

/** @return a static text for the code ("bad or unsupported file"). */
SL_API const char *sl_strerror(sl_status code);
/** @return the enum name ("SL_EFORMAT"). */
SL_API const char *sl_status_name(sl_status code);
/** Resets e to SL_OK with an empty message. NULL allowed. */
SL_API void sl_error_clear(sl_error *e);

/* ------------------------------------------------------------------- dtypes */

/* Element types; values pinned. numpy's little-endian spelling is given. */
#define SL_DTYPE_MAP(X)           \
  X(SL_BOOL, 0, "|b1", 1)         \
  X(SL_INT8, 1, "|i1", 1)         \
  X(SL_INT16, 2, "<i2", 2)        \
  X(SL_INT32, 3, "<i4", 4)        \
  X(SL_INT64, 4, "<i8", 8)        \
  X(SL_UINT8, 5, "|u1", 1)        \
  X(SL_UINT16, 6, "<u2", 2)       \
  X(SL_UINT32, 7, "<u4", 4)       \
  X(SL_UINT64, 8, "<u8", 8)       \
  X(SL_FLOAT16, 9, "<f2", 2)      \
  X(SL_FLOAT32, 10, "<f4", 4)     \
  X(SL_FLOAT64, 11, "<f8", 8)     \
  X(SL_COMPLEX64, 12, "<c8", 8)   \
  X(SL_COMPLEX128, 13, "<c16", 16)

typedef enum sl_dtype {
#define SL__DTYPE_ENUM(name, value, str, size) name = value,
  SL_DTYPE_MAP(SL__DTYPE_ENUM)
#undef SL__DTYPE_ENUM
  SL_DTYPE_COUNT
} sl_dtype;

/** @return bytes per element, 0 for an unknown value. */
SL_API size_t sl_dtype_size(sl_dtype t);
/** @return numpy's native-order spelling ("<f4"), "?" for an unknown value. */
SL_API const char *sl_dtype_str(sl_dtype t);
/**
 * Parses a numpy dtype string ("<f4", ">i8", "|b1", "f4") or a name
 * ("float32", "int64", "bool", "complex64").
 * @param swap set to 1 when the spelling asks for non-native byte order.
 * @return SL_EINVAL when s is not a dtype this library knows.
 */
SL_API sl_status sl_dtype_parse(const char *s, sl_dtype *out, int *swap);

#define SL_MAX_DIMS 16

/* ------------------------------------------------------------- process group */

typedef struct sl_comm sl_comm;

typedef enum sl_launch {
  SL_LAUNCH_AUTO = 0,   /* MPI when a launcher's environment is seen, unless
                           SHARDLOAD_MPI=0|1 says otherwise */
  SL_LAUNCH_SERIAL = 1, /* one process, MPI never initialised */
  SL_LAUNCH_MPI = 2     /* MPI_Init (or reuse an initialised MPI) */
} sl_launch;

/**
 * Creates the process group. With MPI it initialises MPI unless already
 * initialised, and sl_comm_free finalises only what it initialised.
 * Not thread-safe; call once from the main thread. argc/argv may be NULL.
 * @return SL_ENOTSUP for SL_LAUNCH_MPI in a build without MPI.
 */
SL_API SL_NODISCARD sl_status sl_comm_init(sl_launch how, int *argc, char ***argv,
                                           sl_comm **out, sl_error *err);
/**
 * Wraps an existing MPI communicator (mpi_comm points at an MPI_Comm) without
 * taking ownership: sl_comm_free leaves MPI alone.
 */
SL_API SL_NODISCARD sl_status sl_comm_from_mpi(const void *mpi_comm, sl_comm **out,
                                               sl_error *err);
SL_API void sl_comm_free(sl_comm *c);
SL_API int sl_comm_rank(const sl_comm *c);
SL_API int sl_comm_size(const sl_comm *c);
/** @return 1 when this group runs over MPI. */
SL_API int sl_comm_is_mpi(const sl_comm *c);
/**
 * Collective: every rank passes its own outcome; every rank returns the same
 * one. err is the one report that is read as well as written: on entry it
 * holds this rank's message for a failed local (or nothing), on return the
 * agreed one. When any rank failed, every rank receives the message of the
 * lowest failing rank. NULL comm means a single process.
 */
SL_API sl_status sl_comm_agree(sl_comm *c, sl_status local, sl_error *err);
/** Collective: gathers n bytes from every rank into recv (size n*P) on rank 0. */
SL_API sl_status sl_comm_gather(sl_comm *c, const void *send, size_t n, void *recv,
                                sl_error *err);
/** Collective: broadcasts n bytes from rank 0. */
SL_API sl_status sl_comm_bcast(sl_comm *c, void *buf, size_t n, sl_error *err);

/* ------------------------------------------------------------------ dataset */

/** Options that name and shape a dataset. Set defaults with sl_open_options_init. */
typedef struct sl_open_options {
  size_t struct_size;       /* sizeof(sl_open_options), set by _init */
  const char *format;       /* driver name; NULL (default): from the file names */
  const char *pattern;      /* glob relative to each directory ('/' between
                               components, '**' any folders); NULL:
                               shard_NNNN.<ext>, else key=value folders */
  const char *dataset;      /* HDF5 dataset name or '/group/ *' pattern; NULL */
  const char *dtype;        /* raw: element type, e.g. "<f4"; NULL: sidecar */
  const char *trailing;     /* raw: trailing shape "3,4"; NULL: sidecar */
  int64_t header_bytes;     /* raw: bytes to skip at each file's start; default 0 */
  const char *columns;      /* tables: "a,b,c"; NULL: every numeric column */
  const char *fill_nulls;   /* tables: value replacing nulls; NULL: nulls are errors */
  int hdf5_allow_external;  /* HDF5: 1 reads data that a shard keeps in other files
                               (external storage, virtual dataset sources, external
                               links), but only files inside the shard file's directory;
                               default 0: such shards are refused */
  /* Appended in 0.2 (P9). dtype above, given for a table format, is the
     type every selected column is converted to while it is read (numpy
     astype); other formats refuse a dtype that differs from the file's. */
  const char *cast;         /* tables with dtype: numpy casting rule "same_kind"
                               (NULL, the default: int -> float, float64 ->
                               float32, int64 -> int16 allowed; float -> int,
                               complex -> real refused), "unsafe" (any), or
                               "safe", "equiv", "no" */
} sl_open_options;

/* The _init functions take the caller's sizeof, so that a library newer
   than the caller's header writes no byte past the caller's struct. */
SL_API void sl_open_options_init_size(sl_open_options *o, size_t size);
#define sl_open_options_init(o) sl_open_options_init_size((o), sizeof *(o))

typedef struct sl_dataset sl_dataset;

/**
 * Discovers a dataset: PATH is a directory of shard_NNNN.<ext> files
 * (contiguous from 0, four or more digits), a single file (which its driver
 * may expand into several shards: HDF5 datasets), a store (a Zarr
 * directory), a directory searched with o->pattern, or a directory of
 * Hive-style key=value folders (dir/year=2023/part-0.parquet: every file a
 * driver claims by extension, the format given deciding if there is one).
 * o->pattern is a glob relative to the directory, matched one '/'-separated
 * component at a time; a component '**' matches zero or more folders.
 * Names starting with _ or . (_meta.json, _SUCCESS, .crc files) are never
 * shards found in a directory (a pattern's component starting with the
 * same character still matches them); a file given as PATH always is.
 * Files found in a directory come in natural order (part-2 before part-10;
 * part-01 before part-1). Only headers are read; each shard file's device,
 * inode, size and modification time are recorded, and every later open for
 * reading checks them (SL_ECHANGED names a file that changed).
 * @return SL_ENOENT naming a PATH that does not exist, SL_ELAYOUT for a
 *         directory that holds no shards (the message lists what it holds
 *         and the option pattern that would read it).
 * *out: the caller frees it with sl_dataset_free.
 * Collective over comm (NULL: this process alone): rank 0 discovers, every
 * rank receives the same dataset or the same error.
 */
SL_API SL_NODISCARD sl_status sl_dataset_open(sl_comm *comm, const char *path,
                                              const sl_open_options *o,
                                              sl_dataset **out, sl_error *err);
/**
 * As sl_dataset_open for several inputs, one dataset: the shards of
 * paths[0], then those of paths[1], ... (a shell glob's expansion, a list
 * of files, directories and stores mixed). Each input is anything
 * sl_dataset_open takes, with the same options for all (o->pattern applies
 * inside each directory input). Every file must be of one format: files of
 * two are refused naming both (give o->format to read them all as one).
 * The dataset's root, for messages and sl_dataset_check_output, is
 * paths[0]; messages about a shard name the shard's own file.
 * @return SL_EINVAL for an empty list or an empty or NULL path, SL_ENOENT
 *         naming an input that does not exist, SL_ELAYOUT for two formats.
 * paths and the strings stay the caller's; *out: free with sl_dataset_free.
 * Collective over comm (NULL: this process alone): only rank 0's paths are
 * read (rank 0 alone touches the file system); every rank receives the
 * same dataset or the same error.
 */
SL_API SL_NODISCARD sl_status sl_dataset_open_paths(sl_comm *comm, const char *const *paths,
                                                    size_t npaths, const sl_open_options *o,
                                                    sl_dataset **out, sl_error *err);
SL_API void sl_dataset_free(sl_dataset *d);
SL_API sl_dtype sl_dataset_dtype(const sl_dataset *d);
/** @return ndim; fills shape[0..ndim) (shape[0] = total rows) when non-NULL. */
SL_API int sl_dataset_shape(const sl_dataset *d, int64_t *shape);
SL_API size_t sl_dataset_num_shards(const sl_dataset *d);
/** @return shard i's path, rows and (optional) member name; NULL if out of range. */
SL_API const char *sl_dataset_shard(const sl_dataset *d, size_t i, int64_t *rows,
                                    const char **member);
/** @return the driver's name ("npy"). */
SL_API const char *sl_dataset_format(const sl_dataset *d);
/** @return bytes of the whole array (rows x row bytes). */
SL_API int64_t sl_dataset_nbytes(const sl_dataset *d);
/** @return number of files opened for metadata by this process (discovery). */
SL_API int64_t sl_dataset_files_probed(const sl_dataset *d);

/**
 * One line on what shard i loads, from its format's driver: for the table
 * formats each selected column's name, stored type and, for dates and
 * times, the unit of the integers it loads as ("t TIMESTAMP(MICROS)
 * (INT64) (<i8: int64 microseconds since 1970-01-01 00:00:00 UTC)");
 * empty for formats without columns. Opens (and checks) the shard's file.
 */
SL_API SL_NODISCARD sl_status sl_dataset_describe(const sl_dataset *d, size_t i, char *buf,
                                                  size_t cap, sl_error *err);

/**
 * What shard i is and how a read takes it, as the text of one JSON object:
 * "path", "member" (a shard inside a file holding several), "rows", then
 * the driver's account (shardload_driver.h, slot inspect): "read_path" is
 * "direct" (the stored bytes read straight into place with pread, nothing
 * decoded), "decoded" (by this library's own decoder) or "hdf5" (decoded
 * by libhdf5, one thread at a time under its lock), "read_note" why; "columns" (each with "name", "stored", "dtype",
 * "unit" for dates and times, "nulls": true, false or null for unknown),
 * "skipped" (the fields left out, each with "name" and "why"), "codecs",
 * "encodings", "chunks", "row_groups", "batches" and the format's own
 * facts (npy version and order, HDF5 layout and filters, Zarr codecs).
 * The shard is opened as a read opens it (its identity checked, its header
 * parsed again), so a shard that reading refuses for its metadata (a
 * codec or filter not in this build, a column that cannot load, nulls its
 * metadata reports without option fill_nulls) fails here with the same
 * error; only data is not read (a corrupt chunk is found by reading).
 * Not collective, no MPI; thread-safe.
 * @param json receives the text (NUL-terminated), owned by the caller, who
 *        releases it with sl_free; NULL on failure.
 */
SL_API SL_NODISCARD sl_status sl_dataset_inspect(const sl_dataset *d, size_t i, char **json,
                                                 sl_error *err);
/** Releases memory the library allocated for the caller (sl_dataset_inspect's
    text). NULL allowed. */
SL_API void sl_free(void *p);

/**
 * A format built into (or registered with) this library: its first file
 * extension (".npy"), NULL when there is no such format; *writable (may be
 * NULL) says whether sl_write_shard can write it.
 */
SL_API const char *sl_format_extension(const char *format, int *writable);
/**
 * The name of the format that format names (itself, an alias such as
 * "h5" or "arrow_ipc", an extension without its dot, in any case): "hdf5";
 * NULL when no driver of this library answers to it. Static; thread-safe.
 */
SL_API const char *sl_format_name(const char *format);

/* ------------------------------------------------------------------ reading */

typedef enum sl_variant {
  SL_VARIANT_AUTO = 0, /* omp when more than one thread is available */
  SL_VARIANT_CPU = 1,
  SL_VARIANT_OMP = 2,
  SL_VARIANT_GPU = 3
} sl_variant;

typedef enum sl_io_mode {
  SL_IO_AUTO = 0,     /* direct for large segments where supported */
  SL_IO_BUFFERED = 1,
  SL_IO_DIRECT = 2
} sl_io_mode;

/* GPUDirect Storage for the gpu variant (cuFile, loaded at run time). */
typedef enum sl_gds_mode {
  SL_GDS_AUTO = 0, /* cuFile where it loads and the file system supports it */
  SL_GDS_OFF = 1,  /* the pinned staging pipeline only */
  SL_GDS_ON = 2    /* cuFile or fail, naming why it is unavailable */
} sl_gds_mode;

typedef enum sl_memory_kind { SL_MEMORY_HOST = 1, SL_MEMORY_CUDA = 2 } sl_memory_kind;

typedef enum sl_partition_kind {
  SL_PARTITION_BALANCED = 0, /* rank r: [r*N/P, (r+1)*N/P) */
  SL_PARTITION_TILED = 1     /* tile_rows = ceil(N/P), last tile short */
} sl_partition_kind;

/** The most threads a read runs (more is SL_EINVAL), and the largest work unit. */
#define SL_MAX_THREADS 1024
#define SL_MAX_CHUNK_BYTES ((int64_t)1 << 36)

/* Observing a read (P8): progress and a timeline. */

/**
 * What a progress callback is told. The library fills the fields up to its
 * own struct_size; read none past it (a newer library may append fields).
 */
typedef struct sl_progress {
  size_t struct_size;  /* sizeof(sl_progress) of the library */
  int64_t bytes_done;  /* bytes read so far by the ranks counted */
  int64_t bytes_total; /* bytes those ranks read in all */
  double seconds;      /* since the load began (rank 0's clock) */
  int ranks;           /* ranks counted: every rank of the load, or 1 (rank 0's
                          own share) when the process group cannot report
                          across ranks (sl_comm_progress_ok) */
  int ranks_total;     /* ranks of the load */
  int final;           /* 1 on the last call: every rank counted has finished */
} sl_progress;

/** Called from a library thread, never concurrently with itself. */
typedef void (*sl_progress_fn)(const sl_progress *p, void *user);

/**
 * A recorder of spans for a Chrome trace / Perfetto timeline: the pieces a
 * read took (file, rows, bytes, path), decoding, and the phases of the
 * collective calls. Threads append to their own buffers without locks.
 */
typedef struct sl_trace sl_trace;

/** How to read: sl_dataset_read_rows and sl_load. Defaults: sl_read_options_init. */
typedef struct sl_read_options {
  size_t struct_size;          /* sizeof(sl_read_options), set by _init */
  sl_variant variant;          /* default AUTO */
  int threads;                 /* 0 (default): the executor's default; at most
                                  SL_MAX_THREADS, and never more than pieces */
  sl_io_mode io;               /* default AUTO */
  int64_t chunk_bytes;         /* work unit of the threads; default 16 MiB, 4096 to
                                  SL_MAX_CHUNK_BYTES;
                                  formats that must decode get 4x this */
  sl_partition_kind partition; /* sl_load only; default BALANCED */
  int64_t min_rows;            /* sl_load only: tiles are at least this many rows;
                                  default 1 */
  sl_memory_kind memory;       /* sl_dataset_read_rows: where dst is; default HOST;
                                  CUDA (device memory from cudaMalloc) reads
                                  through the gpu variant (AUTO picks it) */
  int device;                  /* gpu: CUDA device; -1 (default): sl_load takes the
                                  node-local rank modulo the visible devices,
                                  sl_dataset_read_rows the device of dst */
  sl_gds_mode gds;             /* gpu: GPUDirect Storage; default AUTO */
  /* Appended in 0.2 (P8): observing a read. */
  sl_progress_fn progress;     /* sl_load only: called on rank 0 about every
                                  progress_ms while the ranks read, and once more
                                  (final) when all have; rank 0's callback decides
                                  for every rank. NULL (default): no thread, no cost */
  void *progress_user;         /* handed to progress; default NULL */
  int progress_ms;             /* interval of those calls; default 200, 10 to 60000 */
  sl_trace *trace;             /* records the read's pieces (and sl_load's phases)
                                  into this recorder; NULL (default): sl_load takes
                                  its comm's (sl_comm_set_trace), other calls none */
} sl_read_options;

SL_API void sl_read_options_init_size(sl_read_options *o, size_t size);
#define sl_read_options_init(o) sl_read_options_init_size((o), sizeof *(o))

/** What one read did (this process). Set struct_size with sl_read_stats_init. */
typedef struct sl_read_stats {
  size_t struct_size;    /* sizeof(sl_read_stats), set by _init */
  int64_t rows;
  int64_t bytes;
  int64_t files;         /* distinct files touched */
  int64_t first_shard;   /* -1 when no rows */
  int64_t last_shard;
  double seconds;        /* the read phase alone */
  double alloc_seconds;  /* allocating the tile (sl_load only) */
  double fault_seconds;  /* faulting the tile's pages in ahead of a decoding
                            driver (Parquet, Arrow), summed over threads */
  int threads;
  sl_variant variant;    /* the variant that ran */
  sl_io_mode io;         /* the mode that ran */
  int64_t files_opened;  /* descriptors this read opened (both kinds with
                            O_DIRECT); a file kept open from an earlier read
                            is not opened again */
  int64_t open_files_peak; /* most descriptors the file cache held at once in
                              this process, so far */
  int64_t open_files_limit; /* what the file cache may hold (from RLIMIT_NOFILE) */
  int device;            /* gpu: the CUDA device that holds the tile; -1 otherwise */
  int gds;               /* gpu: 1 when cuFile read the files' extents, 0 when
                            the pinned staging pipeline did it all */
  char device_name[96];  /* gpu: the device's name; "" otherwise */
  char device_pci[32];   /* gpu: its PCI bus id ("0000:3b:00.0"); "" otherwise */
  int64_t staging_peak;  /* gpu: most bytes of pinned staging buffers held at once */
  char note[256];        /* why the variant (or path) that ran is not the one
                            asked for, e.g. AUTO without a CUDA device; "" */
  /* Appended in 0.2 (P8): the bytes read by each path. They add up to bytes
     for sl_load and sl_dataset_read_rows; a gather reads whole spans. */
  int64_t bytes_direct;  /* O_DIRECT into place (and cuFile) */
  int64_t bytes_cached;  /* io auto: found in the page cache (RWF_NOWAIT) */
  int64_t bytes_buffered; /* buffered pread */
  int64_t bytes_mapped;  /* copied from a mapping of the file (small gathers) */
  int64_t bytes_decoded; /* decoded by the format's driver (Parquet, HDF5
                            chunks, Arrow, compressed Zarr), which reads its
                            file through a mapping of it or preads */
} sl_read_stats;

SL_API void sl_read_stats_init_size(sl_read_stats *s, size_t size);
#define sl_read_stats_init(s) sl_read_stats_init_size((s), sizeof *(s))

/**
 * Reads global rows [lo, hi) into dst (host memory, C order, native byte
 * order, (hi-lo) x row bytes). Thread-safe, no MPI, not collective.
 * stats may be NULL. Files stay open in the dataset's bounded cache between
 * calls.
 */
SL_API SL_NODISCARD sl_status sl_dataset_read_rows(const sl_dataset *d, int64_t lo,
                                                   int64_t hi, void *dst,
                                                   const sl_read_options *o,
                                                   sl_read_stats *stats, sl_error *err);

/* ------------------------------------------------------ distributed array */

typedef struct sl_array sl_array;

/**
 * Collective: partitions the rows over the ranks of comm, allocates each
 * rank's tile in the memory of the variant's executor and reads it. Every
 * rank returns the same status; on failure *out is NULL. stats (local to
 * this rank) may be NULL.
 */
SL_API SL_NODISCARD sl_status sl_load(sl_comm *comm, const sl_dataset *d,
                                      const sl_read_options *o, sl_array **out,
                                      sl_read_stats *stats, sl_error *err);
SL_API void sl_array_free(sl_array *a);
SL_API sl_dtype sl_array_dtype(const sl_array *a);
/** @return ndim; fills the global shape when shape is non-NULL. */
SL_API int sl_array_shape(const sl_array *a, int64_t *shape);
/** @return the number of parts (= ranks of the comm it was loaded on). */
SL_API int sl_array_num_parts(const sl_array *a);
/** Global rows [*lo, *hi) owned by part (rank) p; empty parts have lo == hi. */
SL_API void sl_array_part(const sl_array *a, int p, int64_t *lo, int64_t *hi);
/** @return this rank's part index. */
SL_API int sl_array_local_part(const sl_array *a);
/** @return the local tile (rows x row bytes, C order) in the memory that
    sl_array_memory_kind says; NULL for an empty tile. */
SL_API void *sl_array_local_data(const sl_array *a);
SL_API int64_t sl_array_local_rows(const sl_array *a);
SL_API sl_memory_kind sl_array_memory_kind(const sl_array *a);

struct DLManagedTensor;
/**
 * Exports the local tile as a DLPack tensor (dlpack.h) without a copy, on
 * the device its executor put it. The tensor keeps its own reference: it
 * stays valid after sl_array_free until its deleter runs.
 */
SL_API SL_NODISCARD sl_status sl_array_to_dlpack(sl_array *a,
                                                 struct DLManagedTensor **out,
                                                 sl_error *err);

/**
 * Refuses an output path that would replace an input of d (the same file,
 * by device and inode, or its sidecar) or that exists and is not a regular
 * file (a symbolic link, FIFO, device or directory is never replaced).
 * Any rank; no I/O beyond lstat. @return SL_EINVAL with a message.
 */
SL_API SL_NODISCARD sl_status sl_dataset_check_output(const sl_dataset *d, const char *path,
                                                      sl_error *err);
/**
 * Removes the temporary files this process is writing (the outputs of
 * sl_array_write_npy and sl_write_shard in progress). Async-signal-safe: a
 * program's SIGINT/SIGTERM/SIGHUP handler calls it so that an interrupted
 * write leaves nothing behind. A temporary left by a killed process is
 * taken over by the next write of the same output.
 */
SL_API void sl_remove_temp_files(void);
/**
 * Collective: writes the whole array as one .npy file, every rank writing
 * its own rows in parallel, under a temporary name renamed at the end.
 */
SL_API SL_NODISCARD sl_status sl_array_write_npy(sl_comm *comm, const sl_array *a,
                                                 const char *path, sl_error *err);

/* -------------------------------------------------- test pattern (write/verify) */

/**
 * Fills n elements of dtype t with the counter-based pattern of (seed, global
 * element index first+i), so any rank can check any element alone.
 */
SL_API void sl_pattern_fill(sl_dtype t, uint64_t seed, int64_t first, int64_t n,
                            void *dst);
/**
 * Collective: checks each rank's tile against the pattern of seed.
 * @return SL_EVERIFY naming the first wrong global row.
 */
SL_API SL_NODISCARD sl_status sl_array_verify_pattern(sl_comm *comm, const sl_array *a,
                                                      uint64_t seed, sl_error *err);
/**
 * Collective: re-reads each rank's rows through the plain single-thread
 * buffered path and compares them with the tile (for data without a pattern).
 */
SL_API SL_NODISCARD sl_status sl_array_verify_reread(sl_comm *comm, const sl_array *a,
                                                     const sl_dataset *d, sl_error *err);

/**
 * Writes one shard file with the named format's driver, under a temporary
 * name renamed at the end (after an fsync). Not collective.
 */
SL_API SL_NODISCARD sl_status sl_write_shard(const char *format, const char *path,
                                             sl_dtype dtype, int ndim,
                                             const int64_t *shape, const void *data,
                                             sl_error *err);

/** sl_write_shard_flags: skip the fsync (the caller syncs many files at once). */
#define SL_WRITE_NO_SYNC 1u
/** sl_write_shard with flags (SL_WRITE_*). */
SL_API SL_NODISCARD sl_status sl_write_shard_flags(const char *format, const char *path,
                                                   sl_dtype dtype, int ndim,
                                                   const int64_t *shape, const void *data,
                                                   unsigned flags, sl_error *err);

/* ------------------------------------------------------ random rows (P7) */

/**
 * Gathers arbitrary global rows: row k of dst (host memory, C order, native
 * byte order, n x row bytes) receives global row rows[k]. rows may be in any
 * order and repeat. Internally they are sorted and coalesced into ranges;
 * files and the drivers' shard handles stay open across calls (bounded, least
 * recently used closed first), so a call costs little beyond its reads.
 * Variant AUTO runs a small gather (under 8 MiB) on the calling thread, a
 * large one as sl_dataset_read_rows would; the gpu variant is refused
 * (SL_ENOTSUP): dst is host memory. Thread-safe, no MPI, not collective.
 * stats may be NULL; stats->rows is n. sl_dataset_read_rows with variant AUTO
 * takes the same path for reads under 8 MiB (calling thread, kept handles).
 * @return SL_EINVAL naming the first index outside [0, rows) and its position.
 */
SL_API SL_NODISCARD sl_status sl_dataset_gather_rows(const sl_dataset *d,
                                                     const int64_t *rows, size_t n,
                                                     void *dst,
                                                     const sl_read_options *o,
                                                     sl_read_stats *stats, sl_error *err);

/* ------------------------------------------------ observability (P8) */

/** sl_comm_init_flags: let sl_load's progress count every rank (MPI is
    initialised with MPI_THREAD_MULTIPLE, a progress thread per rank sending
    its count to rank 0). */
#define SL_COMM_PROGRESS 1u

/**
 * sl_comm_init with flags (SL_COMM_*). Asking for SL_COMM_PROGRESS costs
 * nothing until a load asks for progress; when MPI does not provide
 * MPI_THREAD_MULTIPLE the group still works and progress counts rank 0
 * alone (sl_comm_progress_ok says which). Not thread-safe; main thread.
 */
SL_API SL_NODISCARD sl_status sl_comm_init_flags(sl_launch how, unsigned flags, int *argc,
                                                 char ***argv, sl_comm **out, sl_error *err);
/**
 * @return 1 when sl_load's progress counts every rank: one process, or MPI
 * with MPI_THREAD_MULTIPLE on every rank (asked for by SL_COMM_PROGRESS,
 * or given to sl_comm_from_mpi); 0 when it counts rank 0's own share.
 */
SL_API int sl_comm_progress_ok(const sl_comm *c);
/**
 * @return the rank whose error the last failed agreement on c returned
 * (the lowest failing rank, as sl_comm_agree and every collective call
 * pick it); -1 when the last agreement was a success or there was none.
 */
SL_API int sl_comm_failed_rank(const sl_comm *c);
/**
 * Collective calls on c record their phases into t from now on (t NULL:
 * no longer): sl_dataset_open "discover" (rank 0) and "broadcast",
 * sl_load "allocate", "read" (with every piece) and "agree",
 * sl_array_write_npy "output", the verifications "verify". t must outlive
 * its use by c. Not thread-safe with calls on c.
 */
SL_API void sl_comm_set_trace(sl_comm *c, sl_trace *t);

/** A recorder for this process (not collective). Recording costs a clock
    read and a few stores per span; nothing is recorded without one. */
SL_API SL_NODISCARD sl_status sl_trace_new(sl_trace **out, sl_error *err);
/** Frees t, NULL allowed; no thread may be recording into it. */
SL_API void sl_trace_free(sl_trace *t);
/** @return now on the recorder's clock (monotonic nanoseconds), for sl_trace_span. */
SL_API int64_t sl_trace_clock(void);
/**
 * Records a span named name (copied) from begin (sl_trace_clock) to now on
 * the calling thread. Thread-safe; t NULL records nothing.
 */
SL_API void sl_trace_span(sl_trace *t, const char *name, int64_t begin);
/** @return the spans recorded in t so far (threads still recording may add more). */
SL_API int64_t sl_trace_count(const sl_trace *t);
/**
 * Collective: gathers every rank's spans to rank 0, which writes them as
 * one Chrome trace JSON file ("traceEvents": "X" complete events, pid =
 * rank, tid = thread, and "M" metadata naming each process "rank N (host)"
 * and its threads; times in microseconds from the earliest span) under a
 * temporary name renamed at the end. A rank with t NULL takes part with no
 * spans. Refuses a path that exists and is not a regular file; check it
 * against a dataset's inputs first with sl_dataset_check_output. No thread
 * may be recording into t.
 */
SL_API SL_NODISCARD sl_status sl_trace_write(sl_comm *comm, const sl_trace *t,
                                             const char *path, sl_error *err);

#ifdef __cplusplus
}
#endif
#endif /* SHARDLOAD_H */
