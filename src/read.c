/* sl_dataset_read_rows: the per-tile read as a plain, thread-safe library
 * call with no MPI in it. Plans the segments of [lo, hi), splits them into
 * pieces of about chunk_bytes, opens the files once, and runs the variant. */
#include <string.h>

#include "sl_internal.h"

#define SL_DEFAULT_CHUNK (16 << 20)
#define SL_DECODE_FACTOR 4

void sl_read_options_init(sl_read_options *o) {
  memset(o, 0, sizeof *o);
  o->variant = SL_VARIANT_AUTO;
  o->io = SL_IO_AUTO;
  o->chunk_bytes = SL_DEFAULT_CHUNK;
}

void sl_load_options_init(sl_load_options *o) {
  memset(o, 0, sizeof *o);
  sl_read_options_init(&o->read);
  o->partition = SL_PARTITION_BALANCED;
  o->min_rows = 1;
}

sl_status sl__check_read_options(const sl_read_options *o, sl_error *err) {
  if ((unsigned)o->variant > SL_VARIANT_GPU)
    SL_FAIL(err, SL_EINVAL, "sl_read_options.variant: %d is not a variant", (int)o->variant);
  if (o->threads < 0)
    SL_FAIL(err, SL_EINVAL, "sl_read_options.threads: expected >= 0 but found %d", o->threads);
  if ((unsigned)o->io > SL_IO_DIRECT)
    SL_FAIL(err, SL_EINVAL, "sl_read_options.io: %d is not an I/O mode", (int)o->io);
  if (o->chunk_bytes < 4096)
    SL_FAIL(err, SL_EINVAL, "sl_read_options.chunk_bytes: expected >= 4096 but found %lld",
            (long long)o->chunk_bytes);
  return SL_OK;
}

/* AUTO: omp when more than one thread would run. */
static sl_status choose_variant(const sl_read_options *o, sl_variant *v, int *threads,
                                sl_error *err) {
  *v = o->variant;
  *threads = o->threads;
  if (*v == SL_VARIANT_AUTO) {
    int t = *threads ? *threads : sl__omp_max_threads();
    *v = sl__have_omp() && t > 1 ? SL_VARIANT_OMP : SL_VARIANT_CPU;
  }
  if (*v == SL_VARIANT_GPU)
    SL_FAIL(err, SL_ENOTSUP, "the gpu variant is not in this build; configure with "
            "-DSL_WITH_CUDA=ON on a machine with the CUDA toolkit");
  if (*v == SL_VARIANT_OMP && !sl__have_omp())
    SL_FAIL(err, SL_ENOTSUP, "the omp variant is not in this build; configure with "
            "-DSL_WITH_OPENMP=ON");
  if (*v == SL_VARIANT_CPU) *threads = 1;
  else if (*threads == 0) *threads = sl__omp_max_threads();
  return SL_OK;
}

static int64_t unit_start(void *ctx, size_t shard, int64_t row) {
  const sl_dataset *d = ctx;
  return d->driver->unit_start(&d->shards[shard], row);
}

static sl_status plan_pieces(const sl_dataset *d, int64_t lo, int64_t hi, int64_t chunk,
                             int threads, sl_segment **out, size_t *n, sl_error *err) {
  size_t ns = sl__segments(d->cum_rows, d->nshards, lo, hi, NULL);
  sl_segment *seg = sl__malloc((ns ? ns : 1) * sizeof *seg);
  if (seg == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory planning the read", d->root);
  sl__segments(d->cum_rows, d->nshards, lo, hi, seg);
  /* A decoding driver pays per piece to set up (footer, buffers, the file)
     even when pieces end at its units: give it fewer, larger pieces (1 GiB
     of Parquet on one thread, tile already faulted in: 0.22 s with 64 MiB
     pieces, 0.24-0.31 s with 16 MiB). */
  if (d->driver->extents == NULL) chunk = SL_MIN(chunk, INT64_MAX / SL_DECODE_FACTOR) *
                                          SL_DECODE_FACTOR;
  int64_t max_rows = SL_MAX(chunk / SL_MAX(d->row_bytes, 1), 1);
  sl_unit_fn unit = d->driver->unit_start ? unit_start : NULL;
  int64_t share = (hi - lo + threads - 1) / SL_MAX(threads, 1);
  size_t np = sl__split_units(seg, ns, max_rows, share, unit, (void *)d, NULL);
  sl_segment *pieces = sl__malloc((np ? np : 1) * sizeof *pieces);
  if (pieces == NULL) {
    sl__free(seg);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory planning the read", d->root);
  }
  sl__split_units(seg, ns, max_rows, share, unit, (void *)d, pieces);
  sl__free(seg);
  *out = pieces;
  *n = np;
  return SL_OK;
}

static void fill_stats(sl_read_stats *st, const sl_dataset *d, const sl_segment *p, size_t n,
                       int64_t lo, int64_t hi) {
  st->rows = hi - lo;
  st->bytes = (hi - lo) * d->row_bytes;
  st->first_shard = n ? (int64_t)p[0].shard : -1;
  st->last_shard = n ? (int64_t)p[n - 1].shard : -1;
  st->files = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || p[i].shard != p[i - 1].shard) st->files++;
}

sl_status sl_dataset_read_rows(const sl_dataset *d, int64_t lo, int64_t hi, void *dst,
                               const sl_read_options *o, sl_read_stats *stats,
                               sl_error *err) {
  sl_read_options defaults;
  if (o == NULL) {
    sl_read_options_init(&defaults);
    o = &defaults;
  }
  SL_TRY(sl__check_read_options(o, err));
  if (lo < 0 || hi < lo || hi > d->shape[0])
    SL_FAIL(err, SL_EINVAL, "%s: rows [%lld, %lld) are outside [0, %lld)", d->root,
            (long long)lo, (long long)hi, (long long)d->shape[0]);
  sl_variant v;
  int threads;
  SL_TRY(choose_variant(o, &v, &threads, err));
  double t0 = sl__now();
  sl_segment *pieces = NULL;
  size_t n = 0;
  SL_TRY(plan_pieces(d, lo, hi, o->chunk_bytes, threads, &pieces, &n, err));
  sl_status st = SL_OK;
  sl_leaf L = {0};
  _Atomic int64_t fault_ns = 0;
  if (n > 0) st = sl__leaf_open(&L, d, pieces[0].shard, pieces[n - 1].shard, o->io, err);
  if (st == SL_OK && n > 0) {
    L.dst = dst;
    L.fault_ns = &fault_ns;
    sl_exec_fn run = v == SL_VARIANT_OMP ? sl__exec_omp : sl__exec_cpu;
    st = run(&L, pieces, n, threads, err);
    sl__leaf_close(&L);
  }
  if (stats != NULL) {
    memset(stats, 0, sizeof *stats);
    fill_stats(stats, d, pieces, n, lo, hi);
    stats->seconds = sl__now() - t0;
    stats->fault_seconds = (double)atomic_load(&fault_ns) / 1e9;
    stats->threads = threads;
    stats->variant = v;
    stats->io = o->io;
  }
  sl__free(pieces);
  return st;
}
