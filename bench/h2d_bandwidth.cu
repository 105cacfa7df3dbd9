// Pinned host-to-device bandwidth: cudaMemcpy of SIZE_MIB (default 1024)
// from cudaHostAlloc memory to cudaMalloc memory, timed with events, median
// of REPS (default 5) after one untimed copy. Prints one JSON line.
// Built and run by bench/gpu_check.sh: nvcc -O2 -o h2d h2d_bandwidth.cu
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>

#define TRY(x)                                                                   \
  do {                                                                           \
    cudaError_t e_ = (x);                                                        \
    if (e_ != cudaSuccess) {                                                     \
      fprintf(stderr, "%s: %s\n", #x, cudaGetErrorString(e_));                   \
      return 1;                                                                  \
    }                                                                            \
  } while (0)

static int cmp(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 1024;
  int reps = argc > 2 ? atoi(argv[2]) : 5, dev = argc > 3 ? atoi(argv[3]) : 0;
  if (reps < 1 || reps > 64) reps = 5;
  size_t bytes = mib << 20;
  TRY(cudaSetDevice(dev));
  void *h = NULL, *d = NULL;
  TRY(cudaHostAlloc(&h, bytes, cudaHostAllocDefault));
  TRY(cudaMalloc(&d, bytes));
  for (size_t i = 0; i < bytes; i += 4096) ((char *)h)[i] = (char)i;
  cudaEvent_t a, b;
  TRY(cudaEventCreate(&a));
  TRY(cudaEventCreate(&b));
  TRY(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice));
  float ms[64];
  for (int r = 0; r < reps; r++) {
    TRY(cudaEventRecord(a, 0));
    TRY(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice));
    TRY(cudaEventRecord(b, 0));
    TRY(cudaEventSynchronize(b));
    TRY(cudaEventElapsedTime(&ms[r], a, b));
  }
  qsort(ms, (size_t)reps, sizeof *ms, cmp);
  float med = ms[reps / 2];
  struct cudaDeviceProp p;
  TRY(cudaGetDeviceProperties(&p, dev));
  printf("{\"device\": \"%s\", \"bytes\": %zu, \"reps\": %d, \"median_ms\": %.3f, \"gbps\": %.3f}\n",
         p.name, bytes, reps, med, (double)bytes / (med / 1e3) / 1e9);
  cudaFree(d);
  cudaFreeHost(h);
  return 0;
}
