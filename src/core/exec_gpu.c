/* The gpu variant: a tile in device memory, filled through the staging
 * pipeline (stage.c) by a copy engine (stage.h): the CUDA engine
 * (exec_gpu_cuda.c) in a CUDA build, or, for tests on any machine, the
 * host engine when SHARDLOAD_TEST_COPY_ENGINE=host[:SEED] is set. In a
 * build without CUDA and without that variable it says which option adds
 * it. Its parallel loop (opening shards, running the pipeline's workers)
 * is the omp variant's, or the cpu one's without OpenMP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage.h"

#ifndef SL_HAVE_CUDA
const sl_copy_engine *sl__cuda_engine(void) { return NULL; }
#endif

static bool test_engine_asked(void) {
  const char *v = getenv("SHARDLOAD_TEST_COPY_ENGINE");
  return v != NULL && strncmp(v, "host", 4) == 0 && (v[4] == '\0' || v[4] == ':');
}

static const sl_copy_engine *_Atomic override;

void sl__gpu_engine_override(const sl_copy_engine *e) { atomic_store(&override, e); }

static const sl_copy_engine *engine(sl_error *err) {
  const sl_copy_engine *o = atomic_load(&override);
  if (o != NULL) return o;
  if (test_engine_asked()) return sl__host_engine();
  const sl_copy_engine *e = sl__cuda_engine();
  if (e == NULL)
    sl__fail(err, SL_ENOTSUP, "the gpu variant is not in this build; configure with "
             "-DSL_WITH_CUDA=ON on a machine with the CUDA toolkit");
  return e;
}

static const sl_executor *host_loop(void) {
  sl_error ignored = {0};
  return sl__exec_omp.available(&ignored) == SL_OK ? &sl__exec_omp : &sl__exec_cpu;
}

/* SL_OK with a device visible; the driver's reason otherwise (the caller
   names the rank). */
static sl_status gpu_available(sl_error *err) {
  const sl_copy_engine *e = engine(err);
  if (e == NULL) return SL_ENOTSUP;
  char why[256] = "";
  if (e->devices(why, sizeof why) > 0) return SL_OK;
  SL_FAIL(err, SL_EIO, "%s", why[0] ? why : "the driver reports none");
}

static int gpu_threads(int asked) { return host_loop()->threads(asked); }

static sl_status gpu_parallel(size_t n, sl_task_fn fn, void *ctx, int threads, sl_error *err) {
  return host_loop()->parallel(n, fn, ctx, threads, err);
}

static sl_status gpu_tile_alloc(size_t bytes, size_t shift, sl_tile *t, sl_error *err) {
  (void)shift; /* direct reads land in staging buffers, never in the tile */
  int dev = t->device;
  const sl_copy_engine *e = engine(err);
  if (e == NULL) return SL_ENOTSUP;
  memset(t, 0, sizeof *t);
  t->kind = e->kind;
  t->device = dev;
  t->engine = e;
  t->staged = true;
  t->bytes = bytes;
  if (bytes == 0) return SL_OK;
  SL_TRY(e->dev_alloc(dev, bytes, &t->data, err));
  t->base = t->data;
  return SL_OK;
}

static void gpu_tile_free(sl_tile *t) {
  const sl_copy_engine *e = t->engine;
  if (e != NULL && t->base != NULL) e->dev_free(t->device, t->base);
  memset(t, 0, sizeof *t);
}

static bool use_gds(const sl_copy_engine *e, int dev, sl_gds_mode mode) {
  sl_error ignored = {0};
  return mode != SL_GDS_OFF && e->gds_available != NULL &&
         e->gds_available(dev, &ignored) == SL_OK;
}

static sl_status gpu_read_pieces(const sl_executor *self, const sl_leaf *L,
                                 const sl_segment *pieces, size_t n, char *dst, int threads,
                                 sl_error *err) {
  (void)self;
  const sl_copy_engine *e = engine(err);
  if (e == NULL) return SL_ENOTSUP;
  return sl__stage_read(e, host_loop(), L, pieces, n, dst, threads, use_gds(e, L->device, L->gds),
                        err);
}

/* Device tiles come back a block at a time into the caller's scratch. */
static sl_status gpu_to_host(const sl_tile *t, size_t off, size_t n, void *scratch,
                             const void **out, sl_error *err) {
  const sl_copy_engine *e = t->engine;
  if (scratch == NULL && t->kind == SL_MEMORY_HOST) {
    *out = (const char *)t->data + off;
    return SL_OK;
  }
  if (scratch == NULL || e == NULL)
    SL_FAIL(err, SL_EINVAL, "a device tile is read back through a host buffer");
  SL_TRY(e->to_host(t->device, scratch, (const char *)t->data + off, n, err));
  *out = scratch;
  return SL_OK;
}

static void gpu_dl_device(const sl_tile *t, int *type, int *id) {
  const sl_copy_engine *e = t->engine;
  *type = e != NULL ? e->dl_type : 1;
  *id = t->kind == SL_MEMORY_HOST ? 0 : t->device;
}

/* Which device, whether it exists, what it is; and whether --gds on can
   be honoured there. */
static sl_status gpu_bind(int asked, int local_rank, int rank, sl_gds_mode gds,
                          sl_read_stats *st, int *device, sl_error *err) {
  const sl_copy_engine *e = engine(err);
  if (e == NULL) return SL_ENOTSUP;
  char why[256] = "", who[32];
  if (rank >= 0) snprintf(who, sizeof who, "rank %d", rank);
  else snprintf(who, sizeof who, "this process");
  int count = e->devices(why, sizeof why);
  if (count <= 0)
    SL_FAIL(err, SL_EIO, "no CUDA device visible to %s (%s)", who, why[0] ? why : "none found");
  if (asked >= count)
    SL_FAIL(err, SL_EINVAL, "%s: device %d asked for, but %d %s device%s visible", who, asked,
            count, e->name, count == 1 ? " is" : "s are");
  int dev = asked >= 0 ? asked : SL_MAX(local_rank, 0) % count;
  sl_error derr = {0};
  if (e->describe(dev, st->device_name, sizeof st->device_name, st->device_pci,
                  sizeof st->device_pci, &derr) != SL_OK)
    SL_FAIL(err, SL_EIO, "%s: %s device %d: %s", who, e->name, dev, derr.message);
  st->device = dev;
  if (gds == SL_GDS_ON) {
    sl_error g = {0};
    sl_status gs = e->gds_available ? e->gds_available(dev, &g)
                                    : sl__fail(&g, SL_ENOTSUP, "the %s engine has none", e->name);
    if (gs != SL_OK)
      SL_FAIL(err, SL_ENOTSUP, "%s: GPUDirect Storage was asked for (gds on) but is "
              "unavailable: %s", who, g.message);
  }
  *device = dev;
  return SL_OK;
}

static sl_status gpu_device_of(const void *p, int *device, sl_error *err) {
  const sl_copy_engine *e = engine(err);
  if (e == NULL) return SL_ENOTSUP;
  return e->device_of(p, device, err);
}

const sl_executor sl__exec_gpu = {
    .name = "gpu",
    .variant = SL_VARIANT_GPU,
    .available = gpu_available,
    .threads = gpu_threads,
    .tile_alloc = gpu_tile_alloc,
    .tile_free = gpu_tile_free,
    .parallel = gpu_parallel,
    .read_pieces = gpu_read_pieces,
    .to_host = gpu_to_host,
    .dl_device = gpu_dl_device,
    .bind = gpu_bind,
    .device_of = gpu_device_of,
};
