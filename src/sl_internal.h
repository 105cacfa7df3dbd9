/* Internal declarations shared across the library's files (sl__ prefix). */
#ifndef SL_INTERNAL_H
#define SL_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shardload.h"
#include "sl_config.h"

#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SL_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Forwards a non-OK status. */
#define SL_TRY(expr)               \
  do {                             \
    sl_status sl__st_ = (expr);    \
    if (sl__st_ != SL_OK) return sl__st_; \
  } while (0)

/* Sets err (first error wins) and returns code from the enclosing function. */
#define SL_FAIL(err, code, ...) return sl__fail((err), (code), __VA_ARGS__)

/* ------------------------------------------------------------------ errors */

/* Records the message unless err already holds one; @return code. */
sl_status sl__fail(sl_error *err, sl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sl_status sl__vfail(sl_error *err, sl_status code, const char *fmt, va_list ap);
/* The file name as messages show it: the path as given by the user. */
bool sl__error_set(const sl_error *err);

/* ------------------------------------------------------- checked arithmetic */

static inline bool sl__mul(int64_t a, int64_t b, int64_t *out) {
  return !__builtin_mul_overflow(a, b, out);
}
static inline bool sl__add(int64_t a, int64_t b, int64_t *out) {
  return !__builtin_add_overflow(a, b, out);
}

/* ----------------------------------------------------------------- memory */

/* All library allocation goes through these so tests can make them fail. */
void *sl__malloc(size_t n);
void *sl__calloc(size_t n, size_t size);
void *sl__realloc(void *p, size_t n);
void sl__free(void *p);
char *sl__strdup(const char *s);
/* An array of have elements of size bytes grown to want, the new ones
   zeroed; NULL when out of memory (p is then still valid). */
void *sl__grow(void *p, size_t have, size_t want, size_t size);
/* Fault injection: fail the nth allocation from now (1-based), 0 = never.
   repeat: keep failing after the first failure. */
void sl__alloc_fail_at(long nth, bool repeat);
/* Whether the failure armed by sl__alloc_fail_at has happened. */
bool sl__alloc_fired(void);

/* Large buffers for tiles: page-aligned, huge-page advice, no zero fill.
   align_shift shifts the returned pointer so that direct reads line up. */
void *sl__tile_alloc(size_t bytes, size_t shift, void **base, size_t *mapped);
void sl__tile_free(void *base, size_t mapped);
/* Faults in the pages of [p, p + n) for writing ahead of a decoder's stores. */
void sl__prefault(void *p, size_t n);

/* A decoding buffer that grows and is reused; contents are not kept when it
   grows. Large ones are huge pages faulted in at once (mapped != 0). */
typedef struct sl_buf {
  uint8_t *p;
  size_t cap;
  void *base;
  size_t mapped;
} sl_buf;

/* @return false when out of memory (b unchanged). */
bool sl__buf_reserve(sl_buf *b, size_t n);
void sl__buf_free(sl_buf *b);

/* Per-thread decoding buffers of a driver, cached across its files (pool.c).
   Static: `static sl_pool p = SL_POOL_INIT(free_fn);`. Thread-safe. */
#define SL_POOL_MAX 32
typedef struct sl_pool {
  pthread_mutex_t mu;
  void (*free_item)(void *item);
  int users;      /* files open that may use it */
  size_t n;
  void *items[SL_POOL_MAX];
} sl_pool;
#define SL_POOL_INIT(free_fn) {PTHREAD_MUTEX_INITIALIZER, (free_fn), 0, 0, {0}}
/* A file that may take items opens / is released; the last release frees
   the cached items. */
void sl__pool_join(sl_pool *p);
void sl__pool_leave(sl_pool *p);
/* A cached item or NULL; put caches it again (or frees it when full or when
   no file uses the pool). */
void *sl__pool_get(sl_pool *p);
void sl__pool_put(sl_pool *p, void *item);

/* --------------------------------------------------------------------- I/O */

/* Opens read-only (O_CLOEXEC). direct: O_DIRECT (SL_ENOTSUP if refused). */
sl_status sl__open_read(const char *path, bool direct, int *fd, sl_error *err);
/* Reads exactly n bytes at off, looping on short reads and EINTR.
   A premature end of file is SL_EFORMAT ("file ends at ..."). */
sl_status sl__pread_full(int fd, const char *path, void *buf, size_t n, int64_t off,
                         sl_error *err);
/* Reads up to n bytes; *got receives how many (short only at end of file). */
sl_status sl__pread_some(int fd, const char *path, void *buf, size_t n, int64_t off,
                         size_t *got, sl_error *err);
/* Bytes read through sl__pread_some/full so far, all threads (tests). */
int64_t sl__bytes_read(void);
sl_status sl__pread_cached(int fd, const char *path, void *buf, size_t n, int64_t off,
                           size_t *got, sl_error *err);
sl_status sl__pread_direct(int fd, const char *path, void *buf, size_t n, int64_t off,
                           bool *refused, sl_error *err);
sl_status sl__pwrite_full(int fd, const char *path, const void *buf, size_t n,
                          int64_t off, sl_error *err);
sl_status sl__file_size(int fd, const char *path, int64_t *size, sl_error *err);
void sl__close(int fd);
/* The alignment O_DIRECT needs for memory and offsets on this file. */
size_t sl__direct_align(int fd);
/* Creates path.tmp.<unique> for writing; *tmp receives the name (malloc). */
sl_status sl__create_temp(const char *path, int *fd, char **tmp, sl_error *err);
/* fsyncs, closes, renames tmp over path; removes tmp on failure. */
sl_status sl__commit_temp(int fd, char *tmp, const char *path, sl_error *err);
void sl__abort_temp(int fd, char *tmp);
sl_status sl__open_write(const char *path, int *fd, sl_error *err);
sl_status sl__truncate(int fd, const char *path, int64_t size, sl_error *err);
sl_status sl__check_read_options(const sl_read_options *o, sl_error *err);
sl_status sl__list_dir(const char *path, char ***names, size_t *n, sl_error *err);
void sl__free_names(char **v, size_t n);
sl_status sl__path_kind(const char *path, bool *is_dir, sl_error *err);
/* Fault injection: fail the nth pread from now with EIO (or a short read). */
void sl__io_fail_at(long nth, bool repeat, bool short_read);

/* Interleaves ncols columns into rows stride bytes apart: row r gets, for
   each column c in turn, width bytes from src[c] + r * src_stride (the low
   bytes of a wider value when width < src_stride). sl__gather is for the
   tile: it streams whole rows out with non-temporal stores, which do not
   leave them in cache. sl__interleave writes through the cache, for
   buffers read again at once. */
void sl__gather(char *dst, size_t stride, const uint8_t *const *src, size_t ncols,
                size_t src_stride, size_t width, int64_t rows);
void sl__interleave(char *dst, size_t stride, const uint8_t *const *src, size_t ncols,
                    size_t src_stride, size_t width, int64_t rows);

/* ------------------------------------------------------------------ dtypes */

/* Swaps the byte order of n elements of elem_size in place (complex: each
   half separately). */
void sl__byteswap(void *buf, size_t n, size_t elem_size, sl_dtype t);
size_t sl__swap_unit(sl_dtype t);

/* The --fill-nulls text as one element of dtype t (out holds 8 bytes);
   SL_EINVAL naming path when t cannot hold it. Integers parse exactly. */
sl_status sl__parse_fill(const char *path, const char *text, sl_dtype t, uint8_t *out,
                         sl_error *err);
uint16_t sl__half_from_float(float v);

/* ----------------------------------------------------------------- drivers */

const sl_driver *sl__driver_for_path(const char *path);
const sl_driver *sl__driver_by_name(const char *name);
const char *sl__driver_ext(const sl_driver *d, const char *name);
/* i-th driver in lookup order (registered last first), NULL past the end. */
const sl_driver *sl__driver_at(size_t i);
/* Space-separated names of every built-in driver. */
const char *sl__driver_names(void);
extern const sl_driver sl__npy_driver;
#ifdef SL_HAVE_HDF5
extern const sl_driver sl__hdf5_driver;
#endif
extern const sl_driver sl__raw_driver;
#ifdef SL_HAVE_PARQUET
extern const sl_driver sl__parquet_driver;
#endif
#ifdef SL_HAVE_ARROW
extern const sl_driver sl__arrow_driver;
#endif

/* -------------------------------------------------------------- datasets */

struct sl_dataset {
  const sl_driver *driver;
  sl_open_options opts;   /* strings point into strings[] below */
  char *opt_strings;      /* owns the option strings */
  sl_dtype dtype;
  int ndim;
  int64_t shape[SL_MAX_DIMS]; /* shape[0] = total rows */
  int64_t row_bytes;
  size_t nshards;
  sl_shard *shards;
  int64_t *cum_rows;      /* nshards + 1 */
  int64_t files_probed;
  char *root;             /* the PATH given (for messages) */
};

/* Discovery on this process alone (rank 0's job). */
sl_status sl__discover(const char *path, const sl_open_options *o, sl_dataset **out,
                       sl_error *err);
/* An empty dataset of n shards (option strings copied). */
sl_status sl__dataset_new(const char *root, const sl_driver *drv, const sl_open_options *o,
                          size_t n, sl_dataset **out, sl_error *err);
int sl__natural_cmp(const char *a, const char *b);
/* Serialises a dataset to bytes and back (for the broadcast). */
sl_status sl__dataset_pack(const sl_dataset *d, char **buf, size_t *n, sl_error *err);
sl_status sl__dataset_unpack(const char *buf, size_t n, sl_dataset **out, sl_error *err);

/* ------------------------------------------------------------------- plan */

/* One contiguous piece of a tile: rows [file_lo, file_hi) of shard, landing at
   tile row dst_row. */
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

/* ------------------------------------------------------------- leaf read */

/* Per-read state shared by the threads of one read. */
typedef struct sl_leaf {
  const sl_dataset *ds;
  char *dst;              /* tile row 0 of the read */
  sl_io_mode io;
  int *fds;               /* per shard in [first, last]: buffered fd or -1 */
  int *dfds;              /* per shard: O_DIRECT fd or -1 */
  size_t *align;          /* per shard: O_DIRECT alignment */
  size_t first, last;
  _Atomic int64_t *fault_ns; /* if set: += ns spent in sl__prefault, all threads */
} sl_leaf;

/* Opens the files of shards [first, last]. */
sl_status sl__leaf_open(sl_leaf *L, const sl_dataset *d, size_t first, size_t last,
                        sl_io_mode io, sl_error *err);
void sl__leaf_close(sl_leaf *L);
/* Reads one piece; thread-safe. */
sl_status sl__leaf_piece(const sl_leaf *L, const sl_segment *s, sl_error *err);

/* A variant: runs every piece; same signature in each exec_*.c file. */
typedef sl_status (*sl_exec_fn)(const sl_leaf *L, const sl_segment *pieces, size_t n,
                                 int threads, sl_error *err);
sl_status sl__exec_cpu(const sl_leaf *L, const sl_segment *pieces, size_t n, int threads,
                       sl_error *err);
sl_status sl__exec_omp(const sl_leaf *L, const sl_segment *pieces, size_t n, int threads,
                       sl_error *err);
/* Threads the omp variant would use (0 in a build without OpenMP). */
int sl__omp_max_threads(void);
bool sl__have_omp(void);
bool sl__have_cuda(void);
bool sl__have_mpi(void);

double sl__now(void);

/* -------------------------------------------------------------- arrays */

struct sl_array {
  sl_dtype dtype;
  int ndim;
  int64_t shape[SL_MAX_DIMS];
  int64_t row_bytes;
  int nparts;
  int part;
  int64_t *bounds;       /* nparts + 1 */
  void *data;            /* local tile */
  void *map_base;        /* mapping behind data */
  size_t map_len;
  int refs;              /* the array + live DLPack exports */
};

sl_status sl__array_new(const sl_dataset *d, int nparts, int part,
                        const int64_t *bounds, size_t shift, sl_array **out,
                        sl_error *err);
void sl__array_unref(sl_array *a);
/* npy header text for a whole array (C order, native), padded to 64. */
sl_status sl__npy_header(sl_dtype t, int ndim, const int64_t *shape, char *buf,
                         size_t cap, size_t *len, sl_error *err);
/* Parses a whole npy file image held in memory (fuzz target, tests). */
sl_status sl__npy_parse_buffer(const void *buf, size_t n, sl_shard_info *info, sl_error *err);
/* Writes rows [lo, hi) of the local tile into fd at data_off. */
sl_status sl__array_pwrite_local(const sl_array *a, int fd, const char *path,
                                 int64_t data_off, sl_error *err);
/* Checks the local tile against the pattern; @return SL_EVERIFY with message. */
sl_status sl__verify_local(const sl_array *a, uint64_t seed, sl_error *err);
sl_status sl__reread_local(const sl_array *a, const sl_dataset *d, sl_error *err);

/* The shift (bytes, < 4096) that lines the tile up for direct reads of its
   largest segment; 0 when none is possible. */
size_t sl__tile_shift(const sl_dataset *d, int64_t lo, int64_t hi);

#endif
