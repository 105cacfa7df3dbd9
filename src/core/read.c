/* The read of a row range, as sl_dataset_read_rows and sl_load do it: plain,
 * thread-safe, no MPI.
 *
 * The shards of [lo, hi) are taken a window at a time. For each window the
 * executor first opens the shards (driver handles made in parallel, their
 * files left open in the cache), then the window's segments are cut into
 * pieces of about chunk_bytes, ending at the drivers' units where that
 * helps, and the executor reads the pieces. A window holds at most half of
 * what the file cache may keep open, so the files its pieces read are still
 * open from its first phase: each file of a read is opened once (once for
 * each kind, with O_DIRECT) however many shards the dataset has, and the
 * handles of 100000 shards are never all in memory at once.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define SL_DECODE_FACTOR 4
#define SL_WINDOW_MAX 256

/* ------------------------------------------------------------- options */

sl_status sl__read_options(const sl_read_options *in, sl_read_options *o, sl_error *err) {
  sl_read_options_init(o);
  if (in != NULL)
    SL_TRY(sl__struct_in(in, o, sizeof *o, offsetof(sl_read_options, variant),
                         "sl_read_options", "sl_read_options_init", err));
  if ((unsigned)o->variant > SL_VARIANT_GPU)
    SL_FAIL(err, SL_EINVAL, "option variant: %d is not a variant", (int)o->variant);
  if (o->threads < 0 || o->threads > SL_MAX_THREADS)
    SL_FAIL(err, SL_EINVAL, "option threads: expected 0 to %d but found %d", SL_MAX_THREADS,
            o->threads);
  if ((unsigned)o->io > SL_IO_DIRECT)
    SL_FAIL(err, SL_EINVAL, "option io: %d is not an I/O mode", (int)o->io);
  if (o->chunk_bytes < 4096 || o->chunk_bytes > SL_MAX_CHUNK_BYTES)
    SL_FAIL(err, SL_EINVAL, "option chunk_bytes: expected 4096 to %lld but found %lld",
            (long long)SL_MAX_CHUNK_BYTES, (long long)o->chunk_bytes);
  if ((unsigned)o->partition > SL_PARTITION_TILED)
    SL_FAIL(err, SL_EINVAL, "option partition: %d is not a partition", (int)o->partition);
  if (o->min_rows < 1)
    SL_FAIL(err, SL_EINVAL, "option min_rows: expected >= 1 but found %lld",
            (long long)o->min_rows);
  if (o->memory != SL_MEMORY_HOST && o->memory != SL_MEMORY_CUDA)
    SL_FAIL(err, SL_EINVAL, "option memory: %d is not a memory kind", (int)o->memory);
  if (o->device < -1)
    SL_FAIL(err, SL_EINVAL, "option device: expected >= -1 but found %d", o->device);
  if ((unsigned)o->gds > SL_GDS_ON)
    SL_FAIL(err, SL_EINVAL, "option gds: %d is not a GPUDirect Storage mode", (int)o->gds);
  if (o->progress_ms < 10 || o->progress_ms > 60000)
    SL_FAIL(err, SL_EINVAL, "option progress_ms: expected 10 to 60000 but found %d",
            o->progress_ms);
  return SL_OK;
}

sl_status sl__stats_check(const sl_read_stats *user, sl_error *err) {
  if (user == NULL) return SL_OK;
  return sl__struct_check(user, offsetof(sl_read_stats, rows), "sl_read_stats",
                          "sl_read_stats_init", err);
}

sl_status sl__stats_out(const sl_read_stats *full, sl_read_stats *user, sl_error *err) {
  if (user == NULL) return SL_OK;
  SL_TRY(sl__stats_check(user, err));
  size_t n = user->struct_size;
  memcpy(user, full, SL_MIN(n, sizeof *full));
  user->struct_size = n;
  return SL_OK;
}

/* ------------------------------------------------------------- planning */

typedef struct window {
  const sl_dataset *d;
  size_t first, last;
  void **handles;
  _Atomic int64_t *opened;
} window;

static int64_t unit_start(void *ctx, size_t shard, int64_t row) {
  const window *w = ctx;
  const sl_shard *s = &w->d->shards[shard];
  return w->d->driver->unit_start(s, w->handles[shard - w->first], row);
}

static sl_status plan_pieces(const window *w, int64_t lo, int64_t hi, int64_t chunk,
                             int threads, sl_segment **out, size_t *n, sl_error *err) {
  const sl_dataset *d = w->d;
  size_t ns = sl__segments(d->cum_rows, d->nshards, lo, hi, NULL);
  sl_segment *seg = sl__malloc((ns ? ns : 1) * sizeof *seg);
  if (seg == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory planning the read", d->root);
  sl__segments(d->cum_rows, d->nshards, lo, hi, seg);
  /* A decoding driver pays per piece to set up (buffers, the chunks it
     reads whole) even when pieces end at its units: give it fewer, larger
     pieces (1 GiB of Parquet on one thread, tile already faulted in: 0.22 s
     with 64 MiB pieces, 0.24-0.31 s with 16 MiB). */
  if (d->driver->extents == NULL)
    chunk = SL_MIN(chunk, INT64_MAX / SL_DECODE_FACTOR) * SL_DECODE_FACTOR;
  int64_t max_rows = SL_MAX(chunk / SL_MAX(d->row_bytes, 1), 1);
  sl_unit_fn unit = d->driver->unit_start ? unit_start : NULL;
  int64_t share = (hi - lo + threads - 1) / SL_MAX(threads, 1);
  size_t np = sl__split_units(seg, ns, max_rows, share, unit, (void *)w, NULL);
  sl_segment *pieces = sl__malloc((np ? np : 1) * sizeof *pieces);
  if (pieces == NULL) {
    sl__free(seg);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory planning the read", d->root);
  }
  sl__split_units(seg, ns, max_rows, share, unit, (void *)w, pieces);
  sl__free(seg);
  *out = pieces;
  *n = np;
  return SL_OK;
}

/* ------------------------------------------------------------- windows */

static sl_status open_task(void *ctx, size_t i, sl_error *err) {
  window *w = ctx;
  size_t s = w->first + i;
  if (w->d->shards[s].rows == 0) return SL_OK; /* never read */
  return sl__leaf_open_shard(w->d, s, w->opened, &w->handles[i], err);
}

static void close_window(window *w) {
  for (size_t i = 0; i + w->first <= w->last; i++) {
    sl__leaf_close_shard(w->d, w->handles[i]);
    w->handles[i] = NULL;
  }
}

/* Shards a window may hold: half the cache's budget, so that no file of
   the window is closed between opening and reading it. */
static size_t window_size(void) {
  int64_t half = sl__fd_budget() / 2;
  return (size_t)SL_MAX(SL_MIN(half, SL_WINDOW_MAX), 1);
}

typedef struct reader {
  const sl_dataset *d;
  const sl_executor *ex;
  const sl_read_options *o;
  int threads;
  char *dst;             /* row lo of the read */
  int64_t lo;
  sl_counts *counts;
  _Atomic int64_t fault_ns, opened, staging_peak, gds_bytes;
} reader;

/* Rows [a, b) (those of shards [w->first, w->last]) of the read. */
static sl_status read_window(reader *R, window *w, int64_t a, int64_t b, sl_error *err) {
  const sl_dataset *d = R->d;
  int64_t t0 = R->o->trace != NULL ? sl__now_ns() : 0;
  sl_status st = R->ex->parallel(w->last - w->first + 1, open_task, w, R->threads, err);
  sl__trace_phase(R->o->trace, "open shards", t0);
  sl_segment *pieces = NULL;
  size_t n = 0;
  if (st == SL_OK) st = plan_pieces(w, a, b, R->o->chunk_bytes, R->threads, &pieces, &n, err);
  if (st == SL_OK && n > 0) {
    sl_leaf L = {.ds = d, .io = R->o->io, .first = w->first, .last = w->last,
                 .handles = (const void *const *)w->handles, .fault_ns = &R->fault_ns,
                 .opened = &R->opened, .device = R->o->device, .gds = R->o->gds,
                 .staging_peak = &R->staging_peak, .gds_bytes = &R->gds_bytes,
                 .counts = R->counts, .trace = R->o->trace};
    char *dst = R->dst + (a - R->lo) * d->row_bytes;
    st = R->ex->read_pieces(R->ex, &L, pieces, n, dst, R->threads, err);
  }
  sl__free(pieces);
  close_window(w);
  return st;
}

static sl_status read_windows(reader *R, int64_t lo, int64_t hi, sl_error *err) {
  const sl_dataset *d = R->d;
  size_t first = sl__shard_of_row(d->cum_rows, d->nshards, lo);
  size_t last = sl__shard_of_row(d->cum_rows, d->nshards, hi - 1), size = window_size();
  void **handles = sl__calloc(SL_MIN(size, last - first + 1), sizeof *handles);
  if (handles == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", d->root);
  sl_status st = SL_OK;
  for (size_t w0 = first; st == SL_OK && w0 <= last; w0 += size) {
    window w = {d, w0, SL_MIN(w0 + size - 1, last), handles, &R->opened};
    int64_t a = SL_MAX(lo, d->cum_rows[w.first]), b = SL_MIN(hi, d->cum_rows[w.last + 1]);
    st = read_window(R, &w, a, b, err);
  }
  sl__free(handles);
  return st;
}

/* ---------------------------------------------------------------- stats */

static void fill_stats(sl_read_stats *st, const sl_dataset *d, int64_t lo, int64_t hi) {
  st->rows = hi - lo;
  st->bytes = (hi - lo) * d->row_bytes;
  st->first_shard = st->last_shard = -1;
  st->files = 0;
  for (size_t s = hi > lo ? sl__shard_of_row(d->cum_rows, d->nshards, lo) : d->nshards;
       s < d->nshards && d->cum_rows[s] < hi; s++) {
    if (d->shards[s].rows == 0) continue;
    if (st->first_shard < 0) st->first_shard = (int64_t)s;
    st->files += st->last_shard < 0 || d->file_of[s] != d->file_of[st->last_shard];
    st->last_shard = (int64_t)s;
  }
}

/* The stats' bytes by path, from what the pieces counted. */
static void path_stats(sl_read_stats *st, const sl_counts *c) {
  st->bytes_direct = atomic_load(&c->path[SL_PATH_DIRECT]);
  st->bytes_cached = atomic_load(&c->path[SL_PATH_CACHED]);
  st->bytes_buffered = atomic_load(&c->path[SL_PATH_BUFFERED]);
  st->bytes_mapped = atomic_load(&c->path[SL_PATH_MAPPED]);
  st->bytes_decoded = atomic_load(&c->path[SL_PATH_DECODED]);
}

sl_status sl__read(const sl_dataset *d, int64_t lo, int64_t hi, const sl_executor *ex,
                   int threads, char *dst, const sl_read_options *o, sl_read_stats *stats,
                   sl_counts *counts, sl_error *err) {
  sl_counts own = {0};
  reader R = {d, ex, o, threads, dst, lo, counts != NULL ? counts : &own, 0, 0, 0, 0};
  double t0 = sl__now();
  sl__cache_begin(d->cache);
  /* rows of no bytes hold nothing to read, however many there are */
  sl_status st = hi > lo && d->row_bytes > 0 ? read_windows(&R, lo, hi, err) : SL_OK;
  if (stats != NULL) {
    sl_read_stats_init(stats);
    fill_stats(stats, d, lo, hi);
    stats->seconds = sl__now() - t0;
    stats->fault_seconds = (double)atomic_load(&R.fault_ns) / 1e9;
    stats->threads = threads;
    stats->variant = ex->variant;
    stats->io = o->io;
    stats->files_opened = atomic_load(&R.opened);
    stats->open_files_peak = sl__fd_peak();
    stats->open_files_limit = sl__fd_budget();
    stats->staging_peak = atomic_load(&R.staging_peak);
    stats->gds = atomic_load(&R.gds_bytes) > 0;
    path_stats(stats, R.counts);
  }
  return st;
}

void sl__stats_device(sl_read_stats *to, const sl_read_stats *from) {
  to->device = from->device;
  memcpy(to->device_name, from->device_name, sizeof to->device_name);
  memcpy(to->device_pci, from->device_pci, sizeof to->device_pci);
  memcpy(to->note, from->note, sizeof to->note);
}

/* The gpu variant's device for a caller's buffer: the one asked for, else
   the buffer's own; it must be that device's memory. */
static sl_status bind_buffer(const sl_executor *ex, const void *dst, sl_read_options *o,
                             sl_read_stats *dev, sl_error *err) {
  int of = -1;
  if (dst != NULL) SL_TRY(ex->device_of(dst, &of, err));
  if (o->device >= 0 && of >= 0 && o->device != of)
    SL_FAIL(err, SL_EINVAL, "option device: %d, but the destination is memory of device %d",
            o->device, of);
  return ex->bind(o->device >= 0 ? o->device : of, 0, -1, o->gds, dev, &o->device, err);
}

sl_status sl_dataset_read_rows(const sl_dataset *d, int64_t lo, int64_t hi, void *dst,
                               const sl_read_options *opts, sl_read_stats *stats,
                               sl_error *err) {
  sl_error_clear(err);
  sl_read_options o;
  SL_TRY(sl__read_options(opts, &o, err));
  SL_TRY(sl__stats_check(stats, err));
  if (lo < 0 || hi < lo || hi > d->shape[0])
    SL_FAIL(err, SL_EINVAL, "%s: rows [%lld, %lld) are outside [0, %lld)", d->root,
            (long long)lo, (long long)hi, (long long)d->shape[0]);
  sl_read_stats full;
  sl_status st;
  if (o.variant == SL_VARIANT_AUTO && o.memory == SL_MEMORY_HOST && hi > lo &&
      (hi - lo) * d->row_bytes < SL_SMALL_READ) {
    sl_read_stats_init(&full);
    st = sl__take_range(d, lo, hi, dst, &o, &full, err); /* few rows: no window per call */
  } else {
    const sl_executor *ex;
    int threads;
    SL_TRY(sl__choose_executor_for(o.variant, o.threads, o.memory, false, -1, &ex, &threads,
                                   NULL, 0, err));
    sl_read_stats dev;
    sl_read_stats_init(&dev);
    if (ex->bind != NULL) SL_TRY(bind_buffer(ex, dst, &o, &dev, err));
    st = sl__read(d, lo, hi, ex, threads, dst, &o, &full, NULL, err);
    sl__stats_device(&full, &dev);
  }
  sl_status so = sl__stats_out(&full, stats, err);
  return st != SL_OK ? st : so;
}
