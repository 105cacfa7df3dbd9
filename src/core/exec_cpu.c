/* The cpu variant: one thread, tasks in order; the first failure stops. */
#include "core.h"

static sl_status cpu_available(sl_error *err) {
  (void)err;
  return SL_OK;
}

static int cpu_threads(int asked) {
  (void)asked;
  return 1;
}

static sl_status cpu_parallel(size_t n, sl_task_fn fn, void *ctx, int threads,
                              sl_error *err) {
  (void)threads;
  for (size_t i = 0; i < n; i++) SL_TRY(fn(ctx, i, err));
  return SL_OK;
}

const sl_executor sl__exec_cpu = {
    .name = "cpu",
    .variant = SL_VARIANT_CPU,
    .available = cpu_available,
    .threads = cpu_threads,
    .tile_alloc = sl__host_tile_alloc,
    .tile_free = sl__host_tile_free,
    .parallel = cpu_parallel,
    .read_pieces = sl__host_read_pieces,
    .to_host = sl__host_to_host,
    .dl_device = sl__host_dl_device,
};
