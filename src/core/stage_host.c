/* The host copy engine: the staging pipeline's device, in host memory, for
 * machines without a GPU (tests select it with
 * SHARDLOAD_TEST_COPY_ENGINE=host[:SEED]). It behaves as an asynchronous
 * engine at its worst: a submitted copy is only recorded, and it is carried
 * out later (when its slot is waited for, or earlier, when a seeded draw
 * completes it while another copy is submitted), in an order the pipeline
 * cannot count on. Since a pending copy reads its staging buffer when it is
 * carried out, a pipeline that refilled a buffer before waiting for its
 * copy would land the wrong bytes, and the tests comparing tiles with the
 * omp variant would see them. Big-endian data is swapped here, on the host,
 * as the CUDA engine swaps it on the device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage.h"

#define SL_HOST_DEVICES 2
#define SL_DL_CPU 1

static _Atomic int64_t pinned_now, pinned_peak, copies;

typedef struct job {
  void *dst;
  const void *src;
  size_t n, unit;
  bool pending, failed; /* failed stays set until its wait reports it */
  int64_t number; /* of the process's copies, 1-based */
} job;

typedef struct hqueue {
  int slots;
  uint64_t rng;
  job jobs[SL_STAGE_SLOTS];
} hqueue;

static uint64_t seed_of_env(void) {
  const char *v = getenv("SHARDLOAD_TEST_COPY_ENGINE");
  const char *c = v ? strchr(v, ':') : NULL;
  return c ? strtoull(c + 1, NULL, 10) : 1;
}

static int64_t fail_number(void) {
  const char *v = getenv("SHARDLOAD_TEST_COPY_FAIL");
  return v ? strtoll(v, NULL, 10) : 0;
}

static uint64_t next_rand(hqueue *q) { /* xorshift64 */
  uint64_t x = q->rng;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return q->rng = x;
}

static void swap_units(void *p, size_t n, size_t unit) {
  static const sl_dtype by_unit[9] = {[2] = SL_UINT16, [4] = SL_UINT32, [8] = SL_UINT64};
  if (unit == 2 || unit == 4 || unit == 8) sl__byteswap(p, n / unit, unit, by_unit[unit]);
}

static void carry_out(job *j) {
  if (!j->pending) return;
  j->pending = false;
  if (j->failed) return;
  memcpy(j->dst, j->src, j->n);
  swap_units(j->dst, j->n, j->unit);
}

/* ------------------------------------------------------------- devices */

static int host_devices(char *why, size_t cap) {
  (void)why, (void)cap;
  return SL_HOST_DEVICES;
}

static sl_status host_describe(int dev, char *name, size_t ncap, char *pci, size_t pcap,
                               sl_error *err) {
  (void)err;
  snprintf(name, ncap, "host copy engine (test)");
  snprintf(pci, pcap, "host:%04d", dev);
  return SL_OK;
}

static sl_status host_bind(int dev, sl_error *err) {
  if (dev < 0 || dev >= SL_HOST_DEVICES)
    SL_FAIL(err, SL_EINVAL, "device %d is not one of the %d of the host copy engine", dev,
            SL_HOST_DEVICES);
  return SL_OK;
}

static sl_status host_dev_alloc(int dev, size_t bytes, void **out, sl_error *err) {
  SL_TRY(host_bind(dev, err));
  *out = sl__malloc(bytes ? bytes : 1);
  if (*out == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory for %zu bytes of device memory", bytes);
  return SL_OK;
}

static void host_dev_free(int dev, void *p) {
  (void)dev;
  sl__free(p);
}

static sl_status host_pinned_alloc(size_t bytes, void **out, sl_error *err) {
  *out = sl__malloc(bytes);
  if (*out == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory for a %zu-byte staging buffer", bytes);
  int64_t now = atomic_fetch_add(&pinned_now, (int64_t)bytes) + (int64_t)bytes;
  for (int64_t p = atomic_load(&pinned_peak); now > p;)
    if (atomic_compare_exchange_weak(&pinned_peak, &p, now)) break;
  return SL_OK;
}

static void host_pinned_free(void *p, size_t bytes) {
  if (p == NULL) return;
  sl__free(p);
  atomic_fetch_sub(&pinned_now, (int64_t)bytes);
}

/* -------------------------------------------------------------- queues */

static sl_status host_queue_new(int dev, int slots, void **out, sl_error *err) {
  SL_TRY(host_bind(dev, err));
  if (slots > SL_STAGE_SLOTS) SL_FAIL(err, SL_EINVAL, "%d slots: at most %d", slots, SL_STAGE_SLOTS);
  hqueue *q = sl__calloc(1, sizeof *q);
  if (q == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory for a copy queue");
  q->slots = slots;
  /* each queue draws its own sequence, fixed by the seed and its address */
  q->rng = (seed_of_env() * 0x9e3779b97f4a7c15ull) ^ ((uintptr_t)q >> 4) ^ 0x2545f4914f6cdd1dull;
  if (q->rng == 0) q->rng = 1;
  *out = q;
  return SL_OK;
}

static void host_queue_free(void *p) {
  hqueue *q = p;
  if (q == NULL) return;
  for (int k = 0; k < q->slots; k++) carry_out(&q->jobs[k]);
  sl__free(q);
}

static sl_status host_submit(void *p, int slot, void *dst, const void *src, size_t n,
                             size_t unit, sl_error *err) {
  hqueue *q = p;
  job *j = &q->jobs[slot];
  if (j->pending || j->failed) /* the pipeline must wait for a slot before reusing it */
    SL_FAIL(err, SL_EINVAL, "copy submitted to slot %d while its last copy is in flight", slot);
  int64_t number = atomic_fetch_add(&copies, 1) + 1;
  *j = (job){dst, src, n, unit, true, number == fail_number(), number};
  /* reorder: sometimes another pending copy completes now, before older ones */
  int other = (int)(next_rand(q) % (uint64_t)q->slots);
  if (other != slot && next_rand(q) % 2 == 0) carry_out(&q->jobs[other]);
  return SL_OK;
}

static sl_status host_wait(void *p, int slot, sl_error *err) {
  hqueue *q = p;
  job *j = &q->jobs[slot];
  carry_out(j);
  bool failed = j->failed;
  int64_t number = j->number;
  j->failed = false;
  if (failed)
    SL_FAIL(err, SL_EIO, "injected failure of copy %lld (SHARDLOAD_TEST_COPY_FAIL)",
            (long long)number);
  return SL_OK;
}

static sl_status host_to_host(int dev, void *dst, const void *src, size_t n, sl_error *err) {
  (void)dev, (void)err;
  memcpy(dst, src, n);
  return SL_OK;
}

static sl_status host_device_of(const void *p, int *dev, sl_error *err) {
  if (p == NULL) SL_FAIL(err, SL_EINVAL, "a NULL device buffer");
  *dev = 0; /* host memory stands for device 0's */
  return SL_OK;
}

/* The GPUDirect Storage stand-in: only with SHARDLOAD_TEST_GDS=1. */
static sl_status host_gds_available(int dev, sl_error *err) {
  (void)dev;
  const char *v = getenv("SHARDLOAD_TEST_GDS");
  if (v != NULL && strcmp(v, "1") == 0) return SL_OK;
  SL_FAIL(err, SL_ENOTSUP, "the host copy engine has no GPUDirect Storage (SHARDLOAD_TEST_GDS=1 "
          "gives it a stand-in)");
}

static sl_status host_gds_read(int dev, int fd, void *dst, size_t n, int64_t off, size_t unit,
                               sl_error *err) {
  (void)dev;
  /* fd may be O_DIRECT, as cuFile prefers: aligned offset and length come
     in, and a bounce buffer gives the aligned memory (cuFile's own does) */
  void *bounce = NULL;
  if (posix_memalign(&bounce, 4096, n ? n : 1) != 0)
    SL_FAIL(err, SL_ENOMEM, "out of memory for a %zu-byte bounce buffer", n);
  sl_status st = sl__pread_full(fd, "(gds stand-in)", bounce, n, off, err);
  if (st == SL_OK) {
    memcpy(dst, bounce, n);
    swap_units(dst, n, unit);
  }
  free(bounce);
  return st;
}

static const sl_copy_engine host_engine = {
    .name = "host",
    .kind = SL_MEMORY_HOST,
    .dl_type = SL_DL_CPU,
    .devices = host_devices,
    .describe = host_describe,
    .bind = host_bind,
    .dev_alloc = host_dev_alloc,
    .dev_free = host_dev_free,
    .pinned_alloc = host_pinned_alloc,
    .pinned_free = host_pinned_free,
    .queue_new = host_queue_new,
    .queue_free = host_queue_free,
    .submit = host_submit,
    .wait = host_wait,
    .to_host = host_to_host,
    .device_of = host_device_of,
    .gds_available = host_gds_available,
    .gds_read = host_gds_read,
};

const sl_copy_engine *sl__host_engine(void) { return &host_engine; }

void sl__host_engine_pinned(int64_t *now, int64_t *peak) {
  *now = atomic_load(&pinned_now);
  *peak = atomic_load(&pinned_peak);
}

void sl__host_engine_reset(void) {
  atomic_store(&pinned_peak, atomic_load(&pinned_now));
  atomic_store(&copies, 0);
}
