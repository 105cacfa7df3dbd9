/* Every allocation of the library passes here, so tests can fail the nth one
   (sqlite's faultsim: a countdown, optionally repeating) and check that each
   failure surfaces as SL_ENOMEM without a leak. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sl_internal.h"

static long fail_countdown; /* 0: never fail */
static bool fail_repeat;
static bool fired; /* the countdown reached the nth allocation */

void sl__alloc_fail_at(long nth, bool repeat) {
  __atomic_store_n(&fail_countdown, nth, __ATOMIC_SEQ_CST);
  fail_repeat = repeat;
  fired = false;
}

bool sl__alloc_fired(void) { return fired; }

static bool should_fail(void) {
  if (fired) return fail_repeat;
  if (__atomic_load_n(&fail_countdown, __ATOMIC_SEQ_CST) == 0) return false;
  if (__atomic_sub_fetch(&fail_countdown, 1, __ATOMIC_SEQ_CST) != 0) return false;
  fired = true;
  return true;
}

void *sl__malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }

void *sl__calloc(size_t n, size_t size) {
  return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *sl__realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }

void sl__free(void *p) { free(p); }

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

void sl__tile_free(void *base, size_t mapped) {
  if (base != NULL) munmap(base, mapped);
}
