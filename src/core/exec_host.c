/* What the host executors (cpu, omp) share: tiles in host memory from
 * mmap, pieces read in place into the tile, the tile as its own host view,
 * the DLPack CPU device; and the choice of executor for a variant. They
 * differ only in how they run a parallel loop (exec_cpu.c, exec_omp.c). */
#include <stdio.h>
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

/* The gpu variant's absence is a fact of the build (SL_ENOTSUP) or of the
   machine (no device visible): only the second is worth a note when AUTO
   falls back. */
sl_status sl__choose_executor_for(sl_variant v, int threads, sl_memory_kind mem,
                                  bool any_memory, int rank, const sl_executor **out,
                                  int *threads_out, char *note, size_t cap, sl_error *err) {
  if (note != NULL && cap > 0) note[0] = '\0';
  char who[32];
  if (rank >= 0) snprintf(who, sizeof who, "rank %d", rank);
  else snprintf(who, sizeof who, "this process");
  if (mem == SL_MEMORY_CUDA && v != SL_VARIANT_AUTO && v != SL_VARIANT_GPU)
    SL_FAIL(err, SL_EINVAL, "option memory: device memory is filled by the gpu variant, not by "
            "%s", by_variant[v]->name);
  if (mem == SL_MEMORY_CUDA) v = SL_VARIANT_GPU;
  sl_error why = {0};
  sl_status gs = v == SL_VARIANT_GPU || (v == SL_VARIANT_AUTO && any_memory)
                     ? sl__exec_gpu.available(&why)
                     : SL_ENOTSUP;
  if (v == SL_VARIANT_GPU && gs != SL_ENOTSUP && mem != SL_MEMORY_CUDA && !any_memory)
    SL_FAIL(err, SL_EINVAL, "option variant: the gpu variant reads into device memory; set "
            "option memory to SL_MEMORY_CUDA for a device buffer");
  if (v == SL_VARIANT_AUTO && any_memory && gs == SL_OK) v = SL_VARIANT_GPU;
  if (v == SL_VARIANT_AUTO && any_memory && gs != SL_ENOTSUP && note != NULL)
    snprintf(note, cap, "auto: no CUDA device visible to %s (%s), so a host variant reads",
             who, why.message);
  if (v == SL_VARIANT_GPU && gs == SL_ENOTSUP) return sl__fail(err, gs, "%s", why.message);
  if (v == SL_VARIANT_GPU && gs != SL_OK)
    SL_FAIL(err, gs, "no CUDA device visible to %s (%s)", who, why.message);
  return sl__choose_executor(v, threads, out, threads_out, err);
}
