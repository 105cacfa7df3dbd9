/* The cpu variant: one thread, pieces in file order. */
#include "sl_internal.h"

sl_status sl__exec_cpu(const sl_leaf *L, const sl_segment *pieces, size_t n, int threads,
                       sl_error *err) {
  (void)threads;
  for (size_t i = 0; i < n; i++) SL_TRY(sl__leaf_piece(L, &pieces[i], err));
  return SL_OK;
}
