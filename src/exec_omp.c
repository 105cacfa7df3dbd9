/* The omp variant: pieces of a few MiB handed out dynamically to OpenMP
 * threads, so a slow file or a short shard does not leave a thread idle.
 * The error of the lowest failing piece wins, as in the cpu variant: pieces
 * after a failed one are skipped, those before it all run, so the message
 * does not depend on which thread got there first. */
#include "sl_internal.h"

#ifdef SL_HAVE_OPENMP
#include <omp.h>

bool sl__have_omp(void) { return true; }

int sl__omp_max_threads(void) { return omp_get_max_threads(); }

sl_status sl__exec_omp(const sl_leaf *L, const sl_segment *pieces, size_t n, int threads,
                       sl_error *err) {
  sl_status first = SL_OK;
  sl_error first_err = {0};
  size_t failed_at = n; /* lowest failing piece so far */
  if (threads <= 0) threads = omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (size_t i = 0; i < n; i++) {
    if (i > __atomic_load_n(&failed_at, __ATOMIC_RELAXED)) continue;
    sl_error local = {0};
    sl_status st = sl__leaf_piece(L, &pieces[i], &local);
    if (st == SL_OK) continue;
#pragma omp critical(sl_exec_omp_error)
    if (i < failed_at) {
      __atomic_store_n(&failed_at, i, __ATOMIC_RELAXED);
      first = st;
      first_err = local;
    }
  }
  if (first != SL_OK && err != NULL && err->code == SL_OK) *err = first_err;
  return first;
}

#else

bool sl__have_omp(void) { return false; }

int sl__omp_max_threads(void) { return 0; }

sl_status sl__exec_omp(const sl_leaf *L, const sl_segment *pieces, size_t n, int threads,
                       sl_error *err) {
  (void)L, (void)pieces, (void)n, (void)threads;
  SL_FAIL(err, SL_ENOTSUP, "the omp variant is not in this build; configure with "
          "-DSL_WITH_OPENMP=ON");
}
#endif
