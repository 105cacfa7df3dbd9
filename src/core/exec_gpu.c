/* The gpu variant's entry in the executor table, in a build without its
 * CUDA executor: it says what would add it. Loops and host views fall back
 * to the host defaults so that nothing calls a NULL slot. */
#include "core.h"

static sl_status gpu_available(sl_error *err) {
  SL_FAIL(err, SL_ENOTSUP, "the gpu variant is not in this build; configure with "
          "-DSL_WITH_CUDA=ON on a machine with the CUDA toolkit");
}

static int gpu_threads(int asked) {
  (void)asked;
  return 1;
}

static sl_status gpu_tile_alloc(size_t bytes, size_t shift, sl_tile *t, sl_error *err) {
  (void)bytes, (void)shift, (void)t;
  return gpu_available(err);
}

static sl_status gpu_parallel(size_t n, sl_task_fn fn, void *ctx, int threads,
                              sl_error *err) {
  (void)n, (void)fn, (void)ctx, (void)threads;
  return gpu_available(err);
}

const sl_executor sl__exec_gpu = {
    .name = "gpu",
    .variant = SL_VARIANT_GPU,
    .available = gpu_available,
    .threads = gpu_threads,
    .tile_alloc = gpu_tile_alloc,
    .tile_free = sl__host_tile_free,
    .parallel = gpu_parallel,
    .read_pieces = sl__host_read_pieces,
    .to_host = sl__host_to_host,
    .dl_device = sl__host_dl_device,
};
