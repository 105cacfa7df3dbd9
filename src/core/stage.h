/* The gpu variant's staging pipeline (stage.c) and the copy engines it
 * drives: CUDA (exec_gpu_cuda.c, CUDA builds only) and a host-memory engine
 * (stage_host.c, every build) that delays and reorders completions, so the
 * pipeline's logic runs and is tested on machines without a GPU. The
 * pipeline knows no CUDA; an engine knows no files. Internal. */
#ifndef SL_STAGE_H
#define SL_STAGE_H

#include "core.h"

/* Slots of the ring per worker: one being filled, the others in flight. */
#define SL_STAGE_SLOTS 3
/* Bytes of one pinned staging buffer (at most; at least one row). */
#define SL_STAGE_BUF (4 << 20)

/* What the pipeline needs from a device. Every call names no file: the
   pipeline puts the file and rows in front of an engine's message. A queue
   is one worker's stream of copies: copies of one queue complete in order
   of submission on CUDA, in any order on the host engine; the pipeline
   waits for a slot before it refills the buffer behind it. */
typedef struct sl_copy_engine {
  const char *name;           /* "cuda", "host" */
  sl_memory_kind kind;        /* where its device memory is */
  int dl_type;                /* DLPack device type of its memory */
  /* Devices this process sees; 0 with why (the driver's reason) if none. */
  int (*devices)(char *why, size_t cap);
  /* name and PCI bus id of dev */
  sl_status (*describe)(int dev, char *name, size_t ncap, char *pci, size_t pcap,
                        sl_error *err);
  /* The calling thread works on dev (cudaSetDevice). */
  sl_status (*bind)(int dev, sl_error *err);
  sl_status (*dev_alloc)(int dev, size_t bytes, void **out, sl_error *err);
  void (*dev_free)(int dev, void *p);
  sl_status (*pinned_alloc)(size_t bytes, void **out, sl_error *err);
  void (*pinned_free)(void *p, size_t bytes);
  sl_status (*queue_new)(int dev, int slots, void **q, sl_error *err);
  void (*queue_free)(void *q);
  /* Copies n bytes of host src to device dst on q, then swaps elements of
     swap_es bytes there (0 or 1: none); completion is recorded in slot. */
  sl_status (*submit)(void *q, int slot, void *dst, const void *src, size_t n, size_t swap_es,
                      sl_error *err);
  /* Waits for slot's copy; its error if it failed. */
  sl_status (*wait)(void *q, int slot, sl_error *err);
  /* Synchronous device-to-host copy of n bytes. */
  sl_status (*to_host)(int dev, void *dst, const void *src, size_t n, sl_error *err);
  /* The device whose memory p is; SL_EINVAL when it is not device memory. */
  sl_status (*device_of)(const void *p, int *dev, sl_error *err);
  /* GPUDirect Storage (NULL when the engine has none): SL_OK when it can
     read files straight to dev here, else why not. */
  sl_status (*gds_available)(int dev, sl_error *err);
  /* Reads n bytes of file fd at off straight to device dst (synchronous),
     then swaps elements of swap_es bytes there. */
  sl_status (*gds_read)(int dev, int fd, void *dst, size_t n, int64_t off, size_t swap_es,
                        sl_error *err);
} sl_copy_engine;

/* The host engine (stage_host.c). SHARDLOAD_TEST_COPY_ENGINE=host[:SEED]
   selects it for the gpu variant (tests only); SHARDLOAD_TEST_COPY_FAIL=N
   fails its Nth copy (1-based, counted over the process);
   SHARDLOAD_TEST_GDS=1 gives it a GPUDirect Storage stand-in (pread to
   its device memory) so the pipeline's cuFile path runs too. */
const sl_copy_engine *sl__host_engine(void);
/* Pinned bytes the host engine holds now and at most since the last reset
   (which also restarts the count of SHARDLOAD_TEST_COPY_FAIL). */
void sl__host_engine_pinned(int64_t *now, int64_t *peak);
void sl__host_engine_reset(void);

/* Tests: the gpu variant uses e (NULL: back to the usual choice). */
void sl__gpu_engine_override(const sl_copy_engine *e);

/* The CUDA engine; NULL in a build without CUDA. */
const sl_copy_engine *sl__cuda_engine(void);

/* Reads pieces (of a window, as sl_executor.read_pieces) into device
   memory dst through a ring of SL_STAGE_SLOTS pinned buffers per worker:
   workers read chunk i+1 while chunk i is copied; loop runs the workers
   (one task each). The lowest failing chunk's error wins, later chunks are
   cancelled, every copy in flight is waited for before return. With gds,
   the aligned middles of extents go by the engine's gds_read. */
sl_status sl__stage_read(const sl_copy_engine *e, const sl_executor *loop, const sl_leaf *L,
                         const sl_segment *pieces, size_t n, char *dst, int threads, bool gds,
                         sl_error *err);

#endif
