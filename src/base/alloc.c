/* Every allocation of the library passes here, so tests can fail the nth one
   (sqlite's faultsim: a countdown, optionally repeating) and check that each
   failure surfaces as SL_ENOMEM without a leak. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base.h"

/* Atomics: the threads of a read allocate too, and tests arm these while
   a previous read's threads may still be winding down. */
static _Atomic long fail_countdown; /* 0: never fail */
static _Atomic bool fail_repeat;
static _Atomic bool fired; /* the countdown reached the nth allocation */

void sl__alloc_fail_at(long nth, bool repeat) {
  atomic_store(&fired, false);
  atomic_store(&fail_repeat, repeat);
  atomic_store(&fail_countdown, nth);
}

bool sl__alloc_fired(void) { return atomic_load(&fired); }

static bool should_fail(void) {
  if (atomic_load_explicit(&fired, memory_order_relaxed)) return atomic_load(&fail_repeat);
  if (atomic_load_explicit(&fail_countdown, memory_order_relaxed) == 0) return false;
  if (atomic_fetch_sub(&fail_countdown, 1) != 1) return false;
  atomic_store(&fired, true);
  return true;
}

void *sl__malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }

void *sl__calloc(size_t n, size_t size) {
  return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *sl__realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }

void sl__free(void *p) { free(p); }

void *sl__grow(void *p, size_t have, size_t want, size_t size) {
  assert(want >= have && size > 0);
  if (want > SIZE_MAX / size) return NULL;
  char *q = sl__realloc(p, want * size);
  if (q != NULL) memset(q + have * size, 0, (want - have) * size);
  return q;
}

char *sl__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = sl__malloc(n);
  if (d != NULL) memcpy(d, s, n);
  return d;
}

/* Tiles come straight from mmap: the kernel hands out untouched pages (no
   zero-fill pass of ours) and, with MADV_HUGEPAGE, faults them in 2 MiB at a
   time, which is what makes filling fresh memory cheap (DESIGN.md: 4.5 s vs
   0.15 s for 2 GiB). The mapping is aligned to 2 MiB so every huge page fits. */
#define SL_HUGE (2u << 20)

void *sl__tile_alloc(size_t bytes, size_t shift, void **base, size_t *mapped) {
  *base = NULL;
  *mapped = 0;
  if (should_fail()) return NULL;
  size_t len = bytes + shift + SL_HUGE;
  char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  uintptr_t start = ((uintptr_t)m + SL_HUGE - 1) & ~(uintptr_t)(SL_HUGE - 1);
#ifdef MADV_HUGEPAGE
  if (bytes >= SL_HUGE) madvise((void *)start, len - (start - (uintptr_t)m), MADV_HUGEPAGE);
#endif
  *base = m;
  *mapped = len;
  return (char *)start + shift;
}

/* Faulting a tile's huge pages in from the kernel, one call for the range,
   measured 0.055 s per GiB; the same faults taken one by one by the stores
   of a decoder cost 0.1-0.2 s per GiB on the VMs we measure on, and at
   times ten times that. Pages already present are left as they are, so
   threads may prepare overlapping ranges. Failure is harmless: the writes
   that follow fault the pages in themselves. */
void sl__prefault(void *p, size_t n) {
#ifdef SL_HAVE_MADV_POPULATE_WRITE
  uintptr_t page = 4096, a = (uintptr_t)p & ~(page - 1);
  uintptr_t b = ((uintptr_t)p + n + page - 1) & ~(page - 1);
  if (n > 0) (void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
  (void)p, (void)n;
#endif
}

void sl__tile_free(void *base, size_t mapped) {
  if (base != NULL) munmap(base, mapped);
}

/* Decoding buffers from SL_BIG_BUF bytes up are whole huge pages faulted in
   at once: from malloc they cost thousands of 4 KiB page faults per thread
   (1 GiB of Parquet, 2 threads, whole process: 0.26 s from malloc, 0.18 s
   as huge pages). */
#define SL_BIG_BUF (512u << 10)

void sl__buf_free(sl_buf *b) {
  if (b->mapped) sl__tile_free(b->base, b->mapped);
  else sl__free(b->p);
  *b = (sl_buf){0};
}

bool sl__buf_reserve(sl_buf *b, size_t n) {
  if (n <= b->cap && b->p != NULL) return true;
  size_t cap = SL_MAX(n, b->cap + b->cap / 2); /* old contents are not needed: no realloc */
  sl_buf nb = {0};
  if (cap >= SL_BIG_BUF) {
    cap = (cap + SL_HUGE - 1) / SL_HUGE * SL_HUGE;
    nb.p = sl__tile_alloc(cap, 0, &nb.base, &nb.mapped);
    if (nb.p != NULL) sl__prefault(nb.p, cap);
  } else {
    nb.p = sl__malloc(SL_MAX(cap, 1));
  }
  if (nb.p == NULL) return false;
  nb.cap = cap;
  sl__buf_free(b);
  *b = nb;
  return true;
}
