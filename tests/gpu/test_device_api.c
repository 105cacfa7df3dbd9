/* The gpu variant on a real device, through the public API (CUDA builds;
   needs a GPU, else it says "no CUDA device" and exits 77):
   - sl_dataset_read_rows into a caller's cudaMalloc buffer (memory-kind
     option) equals the cpu variant's read, big-endian data included;
   - sl_load's tile is device memory from cudaMalloc (not managed), its
     DLPack export says kDLCUDA with the tile's device id, and verification
     reads it back through the executor;
   - a host pointer given as device memory is refused with a message.
   Usage: test_device_api FIXTURES_DIR */
#include <cuda_runtime.h>
#include <dlpack/dlpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shardload.h"

static int failures;

#define CHECK(cond, ...)                  \
  do {                                    \
    if (!(cond)) {                        \
      fprintf(stderr, "FAIL: " __VA_ARGS__); \
      fputc('\n', stderr);                \
      failures++;                         \
    }                                     \
  } while (0)

static void read_rows_into_device(const char *path) {
  sl_dataset *d;
  sl_error err;
  if (sl_dataset_open(NULL, path, NULL, &d, &err) != SL_OK) {
    CHECK(0, "%s", err.message);
    return;
  }
  int64_t shape[SL_MAX_DIMS];
  sl_dataset_shape(d, shape);
  size_t bytes = (size_t)sl_dataset_nbytes(d);
  char *want = malloc(bytes + 1), *got = malloc(bytes + 1);
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_CPU;
  CHECK(sl_dataset_read_rows(d, 0, shape[0], want, &o, NULL, &err) == SL_OK, "%s", err.message);
  void *dev = NULL;
  CHECK(cudaMalloc(&dev, bytes + 1) == cudaSuccess, "cudaMalloc");
  sl_read_options_init(&o);
  o.memory = SL_MEMORY_CUDA; /* AUTO takes the gpu variant */
  o.chunk_bytes = 4096;
  sl_read_stats st;
  sl_read_stats_init(&st);
  CHECK(sl_dataset_read_rows(d, 0, shape[0], dev, &o, &st, &err) == SL_OK, "%s: %s", path,
        err.message);
  CHECK(st.variant == SL_VARIANT_GPU && st.device >= 0, "%s: variant %d device %d", path,
        (int)st.variant, st.device);
  CHECK(cudaMemcpy(got, dev, bytes, cudaMemcpyDeviceToHost) == cudaSuccess, "cudaMemcpy");
  CHECK(memcmp(want, got, bytes) == 0, "%s: device read differs from the cpu read", path);
  /* host memory passed as device memory */
  CHECK(sl_dataset_read_rows(d, 0, 1, got, &o, NULL, &err) == SL_EINVAL &&
            strstr(err.message, "device memory") != NULL,
        "a host buffer as device memory: %s", err.message);
  cudaFree(dev);
  free(want);
  free(got);
  sl_dataset_free(d);
  printf("ok read_rows into device memory: %s (device %d, %s)\n", path, st.device, st.device_name);
}

static void load_tile(const char *path) {
  sl_dataset *d;
  sl_error err;
  if (sl_dataset_open(NULL, path, NULL, &d, &err) != SL_OK) {
    CHECK(0, "%s", err.message);
    return;
  }
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_GPU;
  sl_array *a;
  sl_read_stats st;
  sl_read_stats_init(&st);
  if (sl_load(NULL, d, &o, &a, &st, &err) != SL_OK) {
    CHECK(0, "%s: %s", path, err.message);
    sl_dataset_free(d);
    return;
  }
  CHECK(sl_array_memory_kind(a) == SL_MEMORY_CUDA, "tile memory kind");
  struct cudaPointerAttributes at;
  memset(&at, 0, sizeof at);
  CHECK(cudaPointerGetAttributes(&at, sl_array_local_data(a)) == cudaSuccess &&
            at.type == cudaMemoryTypeDevice,
        "the tile is device memory (type %d), not managed", (int)at.type);
  DLManagedTensor *t;
  CHECK(sl_array_to_dlpack(a, &t, &err) == SL_OK, "%s", err.message);
  CHECK(t->dl_tensor.device.device_type == kDLCUDA && t->dl_tensor.device.device_id == st.device,
        "DLPack device %d:%d, expected kDLCUDA:%d", (int)t->dl_tensor.device.device_type,
        t->dl_tensor.device.device_id, st.device);
  CHECK(sl_array_verify_reread(NULL, a, d, &err) == SL_OK, "%s", err.message);
  t->deleter(t);
  sl_array_free(a);
  sl_dataset_free(d);
  printf("ok load: %s on device %d (%s, %s), path %s\n", path, st.device, st.device_name,
         st.device_pci, st.gds ? "cufile" : "staging");
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    printf("SKIPPED: no CUDA device (%s)\n", cudaGetErrorString(cudaGetLastError()));
    return 77;
  }
  const char *cases[] = {"npy_many_shards_37", "npy_be_f8_t3x4", "npy_f4_ragged_t8",
                         "npy_c8_t2"};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", argv[1], cases[i]);
    read_rows_into_device(p);
    load_tile(p);
  }
  printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
