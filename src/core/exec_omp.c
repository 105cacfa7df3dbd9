/* The omp variant: tasks (pieces of a few MiB, or shards to open) handed
 * out dynamically to OpenMP threads, so a slow file or a short shard does
 * not leave a thread idle. The error of the lowest failing task wins, as in
 * the cpu variant: tasks after a failed one are skipped, those before it
 * all run, so the message does not depend on which thread got there first.
 * The only file that includes <omp.h>. */
#include "core.h"

#ifdef SL_HAVE_OPENMP
#include <omp.h>

static sl_status omp_available(sl_error *err) {
  (void)err;
  return SL_OK;
}

static int omp_threads(int asked) { return asked > 0 ? asked : omp_get_max_threads(); }

static sl_status omp_parallel(size_t n, sl_task_fn fn, void *ctx, int threads,
                              sl_error *err) {
  sl_status first = SL_OK;
  sl_error first_err = {0};
  _Atomic size_t failed_at = n; /* lowest failing task so far */
  if (threads <= 0) threads = omp_get_max_threads();
  if ((size_t)threads > n) threads = (int)(n ? n : 1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (size_t i = 0; i < n; i++) {
    if (i > atomic_load_explicit(&failed_at, memory_order_relaxed)) continue;
    sl_error local = {0};
    sl_status st = fn(ctx, i, &local);
    if (st == SL_OK) continue;
#pragma omp critical(sl_exec_omp_error)
    if (i < atomic_load_explicit(&failed_at, memory_order_relaxed)) {
      atomic_store_explicit(&failed_at, i, memory_order_relaxed);
      first = st;
      first_err = local;
    }
  }
  if (first != SL_OK && err != NULL && err->code == SL_OK) *err = first_err;
  return first;
}

#else

static sl_status omp_available(sl_error *err) {
  SL_FAIL(err, SL_ENOTSUP, "the omp variant is not in this build; configure with "
          "-DSL_WITH_OPENMP=ON");
}

static int omp_threads(int asked) {
  (void)asked;
  return 1;
}

static sl_status omp_parallel(size_t n, sl_task_fn fn, void *ctx, int threads,
                              sl_error *err) {
  (void)n, (void)fn, (void)ctx, (void)threads;
  return omp_available(err);
}
#endif

const sl_executor sl__exec_omp = {
    .name = "omp",
    .variant = SL_VARIANT_OMP,
    .available = omp_available,
    .threads = omp_threads,
    .tile_alloc = sl__host_tile_alloc,
    .tile_free = sl__host_tile_free,
    .parallel = omp_parallel,
    .read_pieces = sl__host_read_pieces,
    .to_host = sl__host_to_host,
    .dl_device = sl__host_dl_device,
};
