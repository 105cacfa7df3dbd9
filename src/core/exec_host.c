/* What the host executors (cpu, omp) share: tiles in host memory from
 * mmap, pieces read in place into the tile, the tile as its own host view,
 * the DLPack CPU device; and the choice of executor for a variant. They
 * differ only in how they run a parallel loop (exec_cpu.c, exec_omp.c). */
#include <string.h>

#include "core.h"

#define SL_DL_CPU 1 /* kDLCPU */

sl_status sl__host_tile_alloc(size_t bytes, size_t shift, sl_tile *t, sl_error *err) {
  memset(t, 0, sizeof *t);
  t->kind = SL_MEMORY_HOST;
  t->bytes = bytes;
  if (bytes == 0) return SL_OK;
  t->data = sl__tile_alloc(bytes, shift, &t->base, &t->mapped);
  if (t->data == NULL)
    SL_FAIL(err, SL_ENOMEM, "cannot allocate a host tile of %zu bytes", bytes);
  return SL_OK;
}

void sl__host_tile_free(sl_tile *t) {
  sl__tile_free(t->base, t->mapped);
  memset(t, 0, sizeof *t);
}

typedef struct host_read {
  const sl_leaf *L;
  const sl_segment *pieces;
  char *dst;
} host_read;

static sl_status host_piece(void *ctx, size_t i, sl_error *err) {
  const host_read *h = ctx;
  const sl_segment *s = &h->pieces[i];
  return sl__leaf_piece(h->L, s, h->dst + s->dst_row * h->L->ds->row_bytes, err);
}

/* Host memory is where the leaf reads anyway: each piece lands in place,
   handed out by the executor's own loop. */
sl_status sl__host_read_pieces(const sl_executor *self, const sl_leaf *L,
                               const sl_segment *pieces, size_t n, char *dst, int threads,
                               sl_error *err) {
  host_read h = {L, pieces, dst};
  return self->parallel(n, host_piece, &h, threads, err);
}

sl_status sl__host_to_host(const sl_tile *t, size_t off, size_t n, void *scratch,
                           const void **out, sl_error *err) {
  (void)n, (void)scratch, (void)err;
  *out = (const char *)t->data + off;
  return SL_OK;
}

void sl__host_dl_device(const sl_tile *t, int *type, int *id) {
  (void)t;
  *type = SL_DL_CPU;
  *id = 0;
}

/* ------------------------------------------------------------- choosing */

static const sl_executor *const by_variant[] = {
    [SL_VARIANT_CPU] = &sl__exec_cpu,
    [SL_VARIANT_OMP] = &sl__exec_omp,
    [SL_VARIANT_GPU] = &sl__exec_gpu,
};

/* AUTO: omp when more than one thread would run. */
sl_status sl__choose_executor(sl_variant v, int threads, const sl_executor **out,
                              int *threads_out, sl_error *err) {
  if (v == SL_VARIANT_AUTO) {
    sl_error ignored = {0};
    bool omp = sl__exec_omp.available(&ignored) == SL_OK;
    int t = omp ? sl__exec_omp.threads(threads) : 1;
    v = omp && t > 1 ? SL_VARIANT_OMP : SL_VARIANT_CPU;
  }
  const sl_executor *ex = by_variant[v];
  SL_TRY(ex->available(err));
  *out = ex;
  *threads_out = ex->threads(threads);
  return SL_OK;
}
