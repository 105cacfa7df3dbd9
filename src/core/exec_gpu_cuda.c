/* The CUDA copy engine of the gpu variant (CUDA builds only; stage.h says
 * what an engine does): device tiles from cudaMalloc (never managed
 * memory), pinned staging buffers from cudaHostAlloc, one non-blocking
 * stream per worker with one event per slot of its ring, big-endian data
 * swapped on the device by the kernel of exec_gpu_swap.cu on the copy's
 * stream. GPUDirect Storage: libcufile is loaded with dlopen the first time
 * it is asked for, never linked; its few entry points are declared here
 * with the layout of cufile.h, which the build does not need. */
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "stage.h"

#define SL_DL_CUDA 2 /* kDLCUDA */

cudaError_t sl__cuda_byteswap(void *p, size_t bytes, size_t unit, cudaStream_t s);

static sl_status cuda_fail(sl_error *err, cudaError_t e, const char *what) {
  cudaGetLastError(); /* a sticky-free error must not leak into the next call */
  return sl__fail(err, SL_EIO, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

#define CUDA_TRY(call, what)                          \
  do {                                                \
    cudaError_t e_ = (call);                          \
    if (e_ != cudaSuccess) return cuda_fail(err, e_, what); \
  } while (0)

/* ------------------------------------------------------------- devices */

static pthread_once_t count_once = PTHREAD_ONCE_INIT;
static int device_count;
static char count_why[256];

static void count_devices(void) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    snprintf(count_why, sizeof count_why, "cudaGetDeviceCount: %s", cudaGetErrorString(e));
    cudaGetLastError();
    n = 0;
  } else if (n == 0) {
    snprintf(count_why, sizeof count_why, "cudaGetDeviceCount found none");
  }
  device_count = n;
}

static int cuda_devices(char *why, size_t cap) {
  pthread_once(&count_once, count_devices);
  if (device_count == 0) snprintf(why, cap, "%s", count_why);
  return device_count;
}

static sl_status cuda_describe(int dev, char *name, size_t ncap, char *pci, size_t pcap,
                               sl_error *err) {
  struct cudaDeviceProp p;
  CUDA_TRY(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
  snprintf(name, ncap, "%s", p.name);
  char bus[64] = "";
  CUDA_TRY(cudaDeviceGetPCIBusId(bus, (int)sizeof bus, dev), "cudaDeviceGetPCIBusId");
  snprintf(pci, pcap, "%s", bus);
  return SL_OK;
}

static sl_status cuda_bind(int dev, sl_error *err) {
  CUDA_TRY(cudaSetDevice(dev), "cudaSetDevice");
  return SL_OK;
}

static sl_status cuda_dev_alloc(int dev, size_t bytes, void **out, sl_error *err) {
  SL_TRY(cuda_bind(dev, err));
  *out = NULL;
  cudaError_t e = cudaMalloc(out, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();
    SL_FAIL(err, SL_ENOMEM, "cudaMalloc of %zu bytes on device %d: %s", bytes, dev,
            cudaGetErrorString(e));
  }
  return SL_OK;
}

static void cuda_dev_free(int dev, void *p) {
  (void)dev; /* unified addressing: the pointer knows its device */
  cudaFree(p);
}

static sl_status cuda_pinned_alloc(size_t bytes, void **out, sl_error *err) {
  *out = NULL;
  /* portable: pinned for every device's context, whichever thread frees it */
  cudaError_t e = cudaHostAlloc(out, bytes, cudaHostAllocPortable);
  if (e != cudaSuccess) {
    cudaGetLastError();
    SL_FAIL(err, SL_ENOMEM, "cudaHostAlloc of a %zu-byte staging buffer: %s", bytes,
            cudaGetErrorString(e));
  }
  return SL_OK;
}

static void cuda_pinned_free(void *p, size_t bytes) {
  (void)bytes;
  if (p != NULL) cudaFreeHost(p);
}

/* -------------------------------------------------------------- queues */

typedef struct cqueue {
  int dev, slots;
  cudaStream_t s;
  cudaEvent_t ev[SL_STAGE_SLOTS];
} cqueue;

static void cuda_queue_free(void *p) {
  cqueue *q = p;
  if (q == NULL) return;
  for (int k = 0; k < q->slots; k++)
    if (q->ev[k] != NULL) cudaEventDestroy(q->ev[k]);
  if (q->s != NULL) cudaStreamDestroy(q->s);
  sl__free(q);
}

static sl_status cuda_queue_new(int dev, int slots, void **out, sl_error *err) {
  if (slots > SL_STAGE_SLOTS) SL_FAIL(err, SL_EINVAL, "%d slots: at most %d", slots, SL_STAGE_SLOTS);
  SL_TRY(cuda_bind(dev, err));
  cqueue *q = sl__calloc(1, sizeof *q);
  if (q == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory for a copy queue");
  q->dev = dev;
  q->slots = slots;
  cudaError_t e = cudaStreamCreateWithFlags(&q->s, cudaStreamNonBlocking);
  for (int k = 0; e == cudaSuccess && k < slots; k++)
    e = cudaEventCreateWithFlags(&q->ev[k], cudaEventDisableTiming);
  if (e != cudaSuccess) {
    cuda_queue_free(q);
    return cuda_fail(err, e, "creating a stream and its events");
  }
  *out = q;
  return SL_OK;
}

static sl_status cuda_submit(void *p, int slot, void *dst, const void *src, size_t n,
                             size_t unit, sl_error *err) {
  cqueue *q = p;
  CUDA_TRY(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, q->s), "cudaMemcpyAsync");
  if (unit > 1) CUDA_TRY(sl__cuda_byteswap(dst, n, unit, q->s), "the byte-swap kernel");
  CUDA_TRY(cudaEventRecord(q->ev[slot], q->s), "cudaEventRecord");
  return SL_OK;
}

static sl_status cuda_wait(void *p, int slot, sl_error *err) {
  cqueue *q = p;
  CUDA_TRY(cudaEventSynchronize(q->ev[slot]), "cudaEventSynchronize");
  return SL_OK;
}

static sl_status cuda_to_host(int dev, void *dst, const void *src, size_t n, sl_error *err) {
  SL_TRY(cuda_bind(dev, err));
  CUDA_TRY(cudaMemcpy(dst, src, n, cudaMemcpyDeviceToHost), "cudaMemcpy to the host");
  return SL_OK;
}

static sl_status cuda_device_of(const void *p, int *dev, sl_error *err) {
  struct cudaPointerAttributes a;
  memset(&a, 0, sizeof a);
  cudaError_t e = cudaPointerGetAttributes(&a, p);
  if (e != cudaSuccess) {
    cudaGetLastError();
    SL_FAIL(err, SL_EINVAL, "the destination is not CUDA memory: %s", cudaGetErrorString(e));
  }
  if (a.type == cudaMemoryTypeManaged)
    SL_FAIL(err, SL_EINVAL, "the destination is managed memory: give device memory "
            "(cudaMalloc)");
  if (a.type != cudaMemoryTypeDevice)
    SL_FAIL(err, SL_EINVAL, "the destination is not device memory (give cudaMalloc memory "
            "with option memory SL_MEMORY_CUDA)");
  *dev = a.device;
  return SL_OK;
}

/* ------------------------------------------------------ GPUDirect Storage */

/* The part of cufile.h used here (its ABI: an error is {op error, CUresult}). */
typedef struct gds_error {
  int err;    /* CUfileOpError, 0: CU_FILE_SUCCESS */
  int cu_err; /* CUresult */
} gds_error;
typedef struct gds_descr {
  int type;   /* CUfileFileHandleType: 1, CU_FILE_HANDLE_TYPE_OPAQUE_FD */
  union {
    int fd;
    void *handle;
  } handle;
  const void *fs_ops;
} gds_descr;
#define SL_GDS_HANDLE_FD 1

static struct {
  gds_error (*driver_open)(void);
  gds_error (*handle_register)(void **fh, gds_descr *d);
  void (*handle_deregister)(void *fh);
  ssize_t (*read)(void *fh, void *dev_base, size_t size, off_t file_off, off_t dev_off);
  bool ok;
  char why[256];
} gds;
static pthread_once_t gds_once = PTHREAD_ONCE_INIT;

/* Without the nvidia-fs kernel module cuFile runs in its compatibility mode
   (POSIX reads through its own bounce buffers), which the staging ring
   beats: it counts as unavailable. */
#define SL_NVFS "/proc/driver/nvidia-fs/version"

static void gds_load(void) {
  if (access(SL_NVFS, R_OK) != 0) {
    snprintf(gds.why, sizeof gds.why, "the nvidia-fs kernel module is not loaded (no %s), so "
             "cuFile could only run in compatibility mode", SL_NVFS);
    return;
  }
  void *lib = dlopen("libcufile.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) lib = dlopen("libcufile.so", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    const char *e = dlerror();
    snprintf(gds.why, sizeof gds.why, "libcufile cannot be loaded (%s)", e ? e : "not found");
    return;
  }
  *(void **)&gds.driver_open = dlsym(lib, "cuFileDriverOpen");
  *(void **)&gds.handle_register = dlsym(lib, "cuFileHandleRegister");
  *(void **)&gds.handle_deregister = dlsym(lib, "cuFileHandleDeregister");
  *(void **)&gds.read = dlsym(lib, "cuFileRead");
  if (!gds.driver_open || !gds.handle_register || !gds.handle_deregister || !gds.read) {
    snprintf(gds.why, sizeof gds.why, "libcufile lacks the cuFile entry points it should have");
    return; /* the library stays loaded: dlclose of a half-used driver is not worth it */
  }
  gds_error e = gds.driver_open();
  if (e.err != 0) {
    snprintf(gds.why, sizeof gds.why, "cuFileDriverOpen failed (cuFile error %d, CUDA %d): "
             "the nvidia-fs driver or a supported file system is missing", e.err, e.cu_err);
    return;
  }
  gds.ok = true;
}

static sl_status cuda_gds_available(int dev, sl_error *err) {
  (void)dev;
  pthread_once(&gds_once, gds_load);
  if (!gds.ok) SL_FAIL(err, SL_ENOTSUP, "%s", gds.why);
  return SL_OK;
}

static sl_status cuda_gds_read(int dev, int fd, void *dst, size_t n, int64_t off, size_t unit,
                               sl_error *err) {
  SL_TRY(cuda_gds_available(dev, err));
  SL_TRY(cuda_bind(dev, err));
  gds_descr d;
  memset(&d, 0, sizeof d);
  d.type = SL_GDS_HANDLE_FD;
  d.handle.fd = fd;
  void *fh = NULL;
  gds_error e = gds.handle_register(&fh, &d);
  if (e.err != 0)
    SL_FAIL(err, SL_EIO, "cuFileHandleRegister failed (cuFile error %d, CUDA %d)", e.err,
            e.cu_err);
  sl_status st = SL_OK;
  for (size_t done = 0; st == SL_OK && done < n;) {
    ssize_t r = gds.read(fh, dst, n - done, (off_t)(off + (int64_t)done), (off_t)done);
    if (r < 0) st = sl__fail(err, SL_EIO, "cuFileRead returned %zd", r);
    else if (r == 0) st = sl__fail(err, SL_EIO, "cuFileRead: end of file after %zu of %zu bytes", done, n);
    else done += (size_t)r;
  }
  gds.handle_deregister(fh);
  if (st == SL_OK && unit > 1) {
    CUDA_TRY(sl__cuda_byteswap(dst, n, unit, cudaStreamPerThread), "the byte-swap kernel");
    CUDA_TRY(cudaStreamSynchronize(cudaStreamPerThread), "cudaStreamSynchronize");
  }
  return st;
}

static const sl_copy_engine cuda_engine = {
    .name = "cuda",
    .kind = SL_MEMORY_CUDA,
    .dl_type = SL_DL_CUDA,
    .devices = cuda_devices,
    .describe = cuda_describe,
    .bind = cuda_bind,
    .dev_alloc = cuda_dev_alloc,
    .dev_free = cuda_dev_free,
    .pinned_alloc = cuda_pinned_alloc,
    .pinned_free = cuda_pinned_free,
    .queue_new = cuda_queue_new,
    .queue_free = cuda_queue_free,
    .submit = cuda_submit,
    .wait = cuda_wait,
    .to_host = cuda_to_host,
    .device_of = cuda_device_of,
    .gds_available = cuda_gds_available,
    .gds_read = cuda_gds_read,
};

const sl_copy_engine *sl__cuda_engine(void) { return &cuda_engine; }
