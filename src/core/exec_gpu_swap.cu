// The gpu executor's one kernel: big-endian elements swapped in device
// memory after their copy, on the copy's own stream, so the host never
// touches the bytes twice. unit is the swap unit (2, 4 or 8 bytes; a
// complex number swaps each part).
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

template <typename T>
__device__ T swap_bytes(T v);

template <>
__device__ uint16_t swap_bytes(uint16_t v) {
  return (uint16_t)((v >> 8) | (v << 8));
}

template <>
__device__ uint32_t swap_bytes(uint32_t v) {
  return __byte_perm(v, 0, 0x0123);
}

template <>
__device__ uint64_t swap_bytes(uint64_t v) {
  uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
  return ((uint64_t)__byte_perm(lo, 0, 0x0123) << 32) | __byte_perm(hi, 0, 0x0123);
}

template <typename T>
__global__ void swap_kernel(T *p, size_t n) {
  size_t stride = (size_t)gridDim.x * blockDim.x;
  for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    p[i] = swap_bytes(p[i]);
}

template <typename T>
static cudaError_t launch(void *p, size_t n, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  const unsigned threads = 256;
  size_t blocks = (n + threads - 1) / threads;
  if (blocks > 4096) blocks = 4096; // grid-stride loop covers the rest
  swap_kernel<T><<<(unsigned)blocks, threads, 0, s>>>((T *)p, n);
  return cudaGetLastError();
}

// Called from exec_gpu_cuda.c (C): bytes is a multiple of unit, p aligned to it.
extern "C" cudaError_t sl__cuda_byteswap(void *p, size_t bytes, size_t unit, cudaStream_t s) {
  switch (unit) {
    case 2: return launch<uint16_t>(p, bytes / 2, s);
    case 4: return launch<uint32_t>(p, bytes / 4, s);
    case 8: return launch<uint64_t>(p, bytes / 8, s);
    default: return cudaSuccess;
  }
}
