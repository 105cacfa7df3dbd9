/* src/base: what every other part of the library, format drivers included,
 * may use: status and errors, checked arithmetic, allocation, system calls
 * (io.c), byte sources and the bounded file cache, decoding-buffer pools,
 * the codec table, the table-options grammar, fill values and row gathering.
 * Nothing here knows a format, MPI, OpenMP or CUDA. Internal (sl__ prefix). */
#ifndef SL_BASE_H
#define SL_BASE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shardload.h"
#include "shardload_driver.h"
#include "sl_config.h"

#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SL_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Forwards a non-OK status. */
#define SL_TRY(expr)                      \
  do {                                    \
    sl_status sl__st_ = (expr);           \
    if (sl__st_ != SL_OK) return sl__st_; \
  } while (0)

/* Sets err (first error wins) and returns code from the enclosing function. */
#define SL_FAIL(err, code, ...) return sl__fail((err), (code), __VA_ARGS__)

/* ------------------------------------------------------------------ errors */

/* Replaces every occurrence of from in err's message with to. */
void sl__error_rename(sl_error *err, const char *from, const char *to);
/* Records the message unless err already holds one; @return code. */
sl_status sl__fail(sl_error *err, sl_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sl_status sl__vfail(sl_error *err, sl_status code, const char *fmt, va_list ap);

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

/* Large host buffers: page-aligned, huge-page advice, no zero fill.
   shift moves the returned pointer so that direct reads line up. */
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
  int users; /* open handles that may use it */
  size_t n;
  void *items[SL_POOL_MAX];
} sl_pool;
#define SL_POOL_INIT(free_fn) {PTHREAD_MUTEX_INITIALIZER, (free_fn), 0, 0, {0}}
/* A handle that may take items is made / closed; the last one out frees the
   cached items. */
void sl__pool_join(sl_pool *p);
void sl__pool_leave(sl_pool *p);
/* A cached item or NULL; put caches it again (or frees it when full or when
   no handle uses the pool). */
void *sl__pool_get(sl_pool *p);
void sl__pool_put(sl_pool *p, void *item);

/* ------------------------------------------------------ versioned structs */

/* A caller's public struct (sl_open_options, ...), whose first field is
   struct_size, checked: at least first bytes (the struct's first release)
   and sane. name and init name it in the message. */
sl_status sl__struct_check(const void *in, size_t first, const char *name, const char *init,
                           sl_error *err);
/* Checks in, then copies it over the defaults already in out (size bytes)
   as far as its struct_size reaches; out's struct_size becomes size. */
sl_status sl__struct_in(const void *in, void *out, size_t size, size_t first, const char *name,
                        const char *init, sl_error *err);

/* ------------------------------------------------------------ system calls */

/* What identifies a file's contents between discovery and reading. */
typedef struct sl_file_id {
  uint64_t dev, ino;
  int64_t size;
  int64_t mtime_sec, mtime_nsec;
} sl_file_id;

/* A device number from another machine means nothing here: identities
   received in the broadcast carry this instead, and the first open on this
   process supplies its own. */
#define SL_DEV_UNKNOWN UINT64_MAX

/* Opens a regular file read-only (O_CLOEXEC, O_NONBLOCK so that a FIFO
   cannot block the open) and records its identity; anything but a regular
   file is SL_EFORMAT naming it. direct: O_DIRECT (SL_ENOTSUP if refused).
   id (may be NULL) receives its identity. A failed open leaves its errno. */
sl_status sl__open_read(const char *path, bool direct, int *fd, sl_file_id *id,
                        sl_error *err);
sl_status sl__fstat_id(int fd, const char *path, sl_file_id *id, sl_error *err);
/* SL_ECHANGED naming path and what differs between now and was (the
   device only where was knows it). */
sl_status sl__check_id(const char *path, const sl_file_id *now, const sl_file_id *was,
                       sl_error *err);
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
/* A read-only mapping of a whole file (NULL: refused), and its release. */
void *sl__map_file(int fd, int64_t size);
void sl__unmap_file(void *p, int64_t size);
/* The alignment O_DIRECT needs for memory and offsets on this file. */
size_t sl__direct_align(int fd);
/* path's identity (lstat without follow); @return 0 or the errno. */
int sl__stat_id(const char *path, bool follow, sl_file_id *id);
/* SL_EINVAL when path exists and is not a regular file, or is empty. */
sl_status sl__check_output_path(const char *path, sl_error *err);
/* Creates or takes over path's temporary file (PATH.shardload-tmp, locked)
   for writing; *tmp receives the name (malloc). */
sl_status sl__create_temp(const char *path, int *fd, char **tmp, sl_error *err);
/* Names a temporary file for sl_remove_temp_files (without room, the next
   run to the same output takes it over). create/commit/abort do it. */
void sl__temp_register(const char *name);
void sl__temp_forget(const char *name);
/* fsyncs (when sync), closes, renames tmp over path; removes tmp on failure. */
sl_status sl__commit_temp(int fd, char *tmp, const char *path, bool sync, sl_error *err);
void sl__abort_temp(int fd, char *tmp);
/* Opens an existing file for writing (never creates: a rank must not make
   a file its writer has removed); sl__create_write creates or truncates. */
sl_status sl__open_write(const char *path, int *fd, sl_error *err);
sl_status sl__create_write(const char *path, int *fd, sl_error *err);
sl_status sl__truncate(int fd, const char *path, int64_t size, sl_error *err);
sl_status sl__list_dir(const char *path, char ***names, size_t *n, sl_error *err);
/* A new directory (0755); removing a file or an empty directory. */
sl_status sl__make_dir(const char *path, sl_error *err);
void sl__remove(const char *path);
void sl__free_names(char **v, size_t n);
sl_status sl__path_kind(const char *path, bool *is_dir, sl_error *err);
/* Fault injection: fail the nth pread from now with EIO (or a short read);
   open_nth: fail the nth open with EMFILE. */
void sl__io_fail_at(long nth, bool repeat, bool short_read);
void sl__open_fail_at(long nth);
double sl__now(void);
/* Nanoseconds: CLOCK_MONOTONIC (spans), CLOCK_REALTIME (lining up the
   ranks of a trace: processes of one host share it). */
int64_t sl__now_ns(void);
int64_t sl__wall_ns(void);
/* This machine's host name ("?" when it cannot be had), truncated to cap. */
void sl__host_name(char *buf, size_t cap);

/* Runs fn(ctx), which reads a mapping of the file path: a SIGBUS it takes
   (the file shrank after it was mapped) ends it early and returns
   SL_ECHANGED naming path. fn must hold nothing it would leave behind when
   cut short (no allocation, no lock) while it touches the mapping. */
sl_status sl__map_guard(const char *path, void (*fn)(void *ctx), void *ctx, sl_error *err);
/* Puts the guard's SIGBUS handler (back) in place: each read calls it once
   before its threads read, in case another handler replaced it. */
void sl__map_guard_arm(void);

/* ------------------------------------------------------------ byte sources */

struct sl_source {
  const char *path;   /* for messages */
  int fd;             /* -1: memory */
  const uint8_t *mem;
  int64_t size;
  sl_file_id id;      /* of the file as opened; zero for memory */
};

/* A source over n bytes of memory, named name in messages. */
void sl__source_memory(sl_source *s, const char *name, const void *p, size_t n);
/* A source over a file opened here (not cached: discovery's probes). */
sl_status sl__source_open(sl_source *s, const char *path, sl_error *err);
void sl__source_close(sl_source *s);

/* ------------------------------------------------------- the file cache */

/* The descriptors of a dataset's files, shared by every thread of every
   read: a file is opened on first use, its identity checked against what
   discovery recorded, and kept open until the budget (derived once from
   RLIMIT_NOFILE, for the whole process) makes room for another by closing
   the least recently used idle one. Thread-safe. */
typedef struct sl_cache sl_cache;

/* A pinned file: its source (buffered reads) and, when asked for and there
   was room, an O_DIRECT descriptor (dfd, else -1) with its alignment. */
typedef struct sl_file_ref {
  sl_source src;
  int dfd;
  size_t align;
  size_t file;
} sl_file_ref;

/* paths and ids (nfiles each) must outlive the cache; an unknown device in
   ids is filled in by the first open of the file. */
sl_status sl__cache_new(size_t nfiles, char *const *paths, sl_file_id *ids, sl_cache **out,
                        sl_error *err);
void sl__cache_free(sl_cache *c);
/* Starts a read: descriptors kept from earlier reads are checked again on
   first use. */
void sl__cache_begin(sl_cache *c);
/* Pins file `file` open. opened (may be NULL) counts descriptors opened. */
sl_status sl__cache_get(sl_cache *c, size_t file, bool direct, _Atomic int64_t *opened,
                        sl_file_ref *out, sl_error *err);
void sl__cache_put(sl_cache *c, const sl_file_ref *f);
/* The pinned file f as a read-only mapping, made on first request and kept
   until the file is closed; NULL when mapping is refused. For many small
   reads (the gather): a copy from a mapping costs a page fault the first
   time and nothing after, where each pread pays a system call. */
const char *sl__cache_map(sl_cache *c, const sl_file_ref *f);
/* Process-wide: how many descriptors caches may hold, and the most held. */
int64_t sl__fd_budget(void);
int64_t sl__fd_peak(void);
/* Tests: sets the budget (0: the one derived from RLIMIT_NOFILE) and
   starts the peak afresh from what is held now. */
void sl__fd_budget_set(int64_t n);
int64_t sl__fd_held(void);

/* ---------------------------------------------------------------- codecs */

/* One table of decompressors for every format (codec.c). */
typedef enum sl_codec {
  SL_CODEC_NONE = 0,
  SL_CODEC_SNAPPY,
  SL_CODEC_GZIP,      /* gzip or zlib framing, several members allowed */
  SL_CODEC_ZLIB,      /* one zlib stream (HDF5's deflate filter) */
  SL_CODEC_BROTLI,
  SL_CODEC_ZSTD,
  SL_CODEC_LZ4_RAW,   /* one LZ4 block */
  SL_CODEC_LZ4_FRAME, /* LZ4 frames, several allowed */
  SL_CODEC_BZ2,       /* one bzip2 stream (Zarr's numcodecs BZ2) */
  SL_CODEC_BLOSC,     /* one Blosc 1 buffer; its header's sizes are checked against
                         the input before decoding (Zarr) */
  SL_CODEC_COUNT
} sl_codec;

/* Decompresses n bytes of src into exactly m bytes of dst: any other size
   is corruption. @return SL_OK, SL_EFORMAT (corrupt; *why says how),
   SL_ENOTSUP (not in this build; *why names the package), SL_ENOMEM. */
sl_status sl__decompress(sl_codec c, const uint8_t *src, size_t n, uint8_t *dst, size_t m,
                         const char **why);
/* The same, into at most cap bytes, *got saying how many came out. */
sl_status sl__decompress_some(sl_codec c, const uint8_t *src, size_t n, uint8_t *dst,
                              size_t cap, size_t *got, const char **why);
const char *sl__codec_name(sl_codec c);
bool sl__codec_available(sl_codec c);
/* "UNCOMPRESSED, SNAPPY, ...": the codecs this build decodes. */
const char *sl__codec_list(void);
/* CRC-32C (Castagnoli), as Zarr v3's crc32c codec stores it. */
uint32_t sl__crc32c(const void *p, size_t n);

/* ------------------------------------------------------- table options */

/* numpy's casting rules, in numpy's order (cast.c). */
typedef enum sl_casting {
  SL_CAST_NO, SL_CAST_EQUIV, SL_CAST_SAFE, SL_CAST_SAME_KIND, SL_CAST_UNSAFE
} sl_casting;

/* The columns option of table formats, parsed once per dataset. */
typedef struct sl_columns {
  size_t n;
  char **names;
} sl_columns;

/* text NULL: n = 0 (every column). Refuses empty names, an empty list and
   a name given twice (SL_EINVAL naming where, the dataset, and the option). */
sl_status sl__columns_parse(const char *where, const char *text, sl_columns *out,
                            sl_error *err);
void sl__columns_free(sl_columns *c);
/* The options every table format takes, parsed once per dataset: a table
   driver's dataset state (sl__table_open/close are its dataset_open and
   dataset_close slots). */
typedef struct sl_table_options {
  sl_columns columns;     /* n == 0: the format's default selection */
  const char *fill_nulls; /* NULL: nulls are errors */
  bool has_dtype;         /* option dtype: every column converts to dtype */
  sl_dtype dtype;
  sl_casting casting;     /* option cast (default same_kind) */
} sl_table_options;

sl_status sl__table_open(const sl_dataset_desc *d, void **state, sl_error *err);
void sl__table_close(void *state);

/* A column name as a format stores it (not NUL-terminated). */
typedef struct sl_name {
  const char *p;
  size_t len;
} sl_name;

/* Finds each wanted column among a file's columns: idx[i] is want's i-th
   name's index in have. A missing one is SL_EINVAL naming path, the column
   and the file's columns. */
sl_status sl__columns_resolve(const char *path, const sl_columns *want, const sl_name *have,
                              size_t nhave, size_t *idx, sl_error *err);
/* One selected column as a message names it: its name, dtype and the
   format's word for its type ("INT32", "Float32"). */
typedef struct sl_col_type {
  sl_name name;
  sl_dtype dtype;
  const char *desc;
} sl_col_type;

/* The dtype n selected columns load as: option dtype, when every column
   casts to it under option cast (else SL_EFORMAT naming the column, its
   type and the rule), or else their one type (several: SL_EFORMAT naming
   every column and type and suggesting option dtype). what: "selected" or
   "numeric", for the message. */
sl_status sl__columns_dtype(const char *path, const sl_table_options *o,
                            const sl_col_type *cols, size_t n, const char *what,
                            sl_dtype *out, sl_error *err);

/* "a, b, c" (shortened after 16 names) into buf. */
void sl__names_text(const sl_name *names, size_t n, char *buf, size_t cap);

/* ------------------------------------------------------------ rows, values */

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

/* Swaps the byte order of n elements of elem_size in place (complex: each
   half separately). */
void sl__byteswap(void *buf, size_t n, size_t elem_size, sl_dtype t);
size_t sl__swap_unit(sl_dtype t);

/* The fill_nulls text as one element of dtype t (out holds 8 bytes);
   SL_EINVAL naming path when t cannot hold it. Integers parse exactly. */
sl_status sl__parse_fill(const char *path, const char *text, sl_dtype t, uint8_t *out,
                         sl_error *err);
uint16_t sl__half_from_float(float v);

/* Casting (cast.c): numpy's rules and astype's conversions. */
/* numpy.can_cast(from, to, rule) for native-order numeric dtypes. */
bool sl__can_cast(sl_dtype from, sl_dtype to, sl_casting rule);
const char *sl__casting_name(sl_casting rule);
bool sl__casting_parse(const char *s, sl_casting *out);
/* n values of from, contiguous at src, to values of to ds bytes apart at
   dst (src and dst may be unaligned; they must not overlap). */
void sl__convert(uint8_t *dst, size_t ds, sl_dtype to, const uint8_t *src, sl_dtype from,
                 int64_t n);
/* Options dtype and cast of a table format: *has false without a dtype;
   SL_EINVAL naming where for an unknown dtype or rule. */
sl_status sl__cast_options(const char *where, const sl_open_options *o, bool *has,
                           sl_dtype *to, sl_casting *rule, sl_error *err);
/* Like sl__gather, converting: column c holds values of from[c], width a
   row (ncols == 1 or width == 1), contiguous; dst gets rows of ncols x
   width values of to, stride bytes apart. */
void sl__gather_cast(char *dst, size_t stride, const uint8_t *const *src, size_t ncols,
                     const sl_dtype *from, sl_dtype to, size_t width, int64_t rows);

/* ------------------------------------------------------ JSON (inspect) */

/* The inspect slot's JSON object, built with cJSON (json.c). */
struct cJSON;
/* o as text, malloc'd into *json as the slot hands it back; o is deleted
   either way. SL_ENOMEM naming path when it cannot be printed. */
sl_status sl__json_text(struct cJSON *o, const char *path, char **json, sl_error *err);
/* Bytes of the valid UTF-8 sequence at p (0: not one). */
size_t sl__utf8_len(const unsigned char *p);
/* s (malloc'd, NUL-terminated) with every byte that is not part of valid
   UTF-8 replaced by U+FFFD: s itself when it is valid, else a new malloc'd
   text and s freed; NULL (s freed) when out of memory or s is NULL. */
char *sl__utf8_valid(char *s);
/* A string of n bytes (not NUL-terminated: names as files store them). */
struct cJSON *sl__json_strn(const char *s, size_t n);
void sl__json_add_strn(struct cJSON *o, const char *key, const char *s, size_t n);
/* Appends s to an array (unique: unless it holds s already). */
void sl__json_push(struct cJSON *array, const char *s);
void sl__json_push_unique(struct cJSON *array, const char *s);
/* key: [v0, v1, ...] (a shape, a chunk shape). */
void sl__json_dims(struct cJSON *o, const char *key, const int64_t *v, int n);
/* A column's "nulls" (true/false, or null when count < 0: the file does not
   say) and "null_count". */
void sl__json_nulls(struct cJSON *col, int64_t count);
/* key: {"count", "min_rows", "max_rows"} (row groups, record batches). */
void sl__json_units(struct cJSON *o, const char *key, int64_t count, int64_t min_rows,
                    int64_t max_rows);

/* Decodes rows [lo, hi) of shard s through drv's read, a window at a time
   into scratch, for the error it gives: where a file's metadata says a
   read will fail on the data (nulls without option fill_nulls), inspect
   refuses the shard with the very message the read gives. */
sl_status sl__read_refusal(const sl_driver *drv, const sl_shard *s, const void *h,
                           const sl_source *src, int64_t lo, int64_t hi, int64_t row_bytes,
                           sl_error *err);

/* Natural order: digit runs compare as numbers, so shard_2 < shard_10;
   total: names equal but for leading zeros (part-01, part-1) in strcmp
   order, so 0 only for equal strings. */
int sl__natural_cmp(const char *a, const char *b);

/* ------------------------------------------------------------- tracing */

/* The paths by which bytes of a read reach their place (stats, traces). */
typedef enum sl_path {
  SL_PATH_DIRECT,   /* O_DIRECT (or cuFile) */
  SL_PATH_CACHED,   /* from the page cache without waiting (RWF_NOWAIT) */
  SL_PATH_BUFFERED, /* buffered pread */
  SL_PATH_MAPPED,   /* copied from a mapping of the file */
  SL_PATH_DECODED,  /* decoded by the driver */
  SL_PATH_COUNT
} sl_path;

/* "direct", "cached", ... */
const char *sl__path_name(sl_path p);

/* What one piece of a read was, for its span. by_path: bytes by sl_path. */
typedef struct sl_trace_piece {
  const char *file;   /* copied */
  int64_t shard, row_lo, row_hi; /* global rows [row_lo, row_hi) */
  const int64_t *by_path;
  int64_t rows;       /* rows read among them (a gather's); 0: all of them */
} sl_trace_piece;

/* Spans into t (trace.c): name static, begin from sl__now_ns(). t NULL:
   nothing. Each thread appends to its own buffer (registered once per
   thread and trace under the trace's lock, then found again through a
   thread-local slot), so recording takes no lock. */
void sl__trace_phase(sl_trace *t, const char *name, int64_t begin);
void sl__trace_piece_span(sl_trace *t, int64_t begin, const sl_trace_piece *p);
/* A driver's finer spans ("decompress") inside a piece: the leaf read sets
   the calling thread's current trace around the driver's read; a driver
   takes t0 = sl__trace_t0() (0, and no clock read, when no trace is set)
   and records with sl__trace_sub(name, t0). */
void sl__trace_set_current(sl_trace *t);
int64_t sl__trace_t0(void);
void sl__trace_sub(const char *name, int64_t t0);
/* This process's spans as JSON: the "traceEvents" entries, comma-separated
   (no brackets), pid = rank, named "rank R (host)"; times in microseconds
   from origin_ns (sl__wall_ns clock). Recording must be over. *out is
   sl__malloc'd. t NULL: no spans, only the process's name. */
sl_status sl__trace_render(const sl_trace *t, int rank, int64_t origin_ns, char **out,
                           size_t *n, sl_error *err);
/* The wall-clock time of t's earliest span (INT64_MAX: none). */
int64_t sl__trace_first(const sl_trace *t);

/* npy header text for a whole array (C order, native), padded to 64. */
sl_status sl__npy_header(sl_dtype t, int ndim, const int64_t *shape, char *buf,
                         size_t cap, size_t *len, sl_error *err);

#endif
