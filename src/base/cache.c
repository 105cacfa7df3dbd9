/* The bounded file cache: the descriptors of one dataset's files, shared by
 * every thread of every read on this process.
 *
 * A file is opened on first use and its identity (device, inode, size,
 * modification time) checked against what discovery recorded; it stays
 * open, pinned while a thread reads it and idle afterwards. Idle files form
 * a least-recently-used list. Descriptors held by all caches of the process
 * together stay within one budget, half of what RLIMIT_NOFILE leaves free
 * when the first cache is made (the other half is the caller's): opening a
 * file beyond it first closes the least recently used idle file. Only files
 * pinned by threads can push past it, by at most one per thread.
 *
 * With O_DIRECT a file takes a second descriptor, opened only while the
 * budget has room, never by evicting another file: a read without it goes
 * buffered. Toggling O_DIRECT on the one descriptor with fcntl would race
 * with the buffered head and tail reads of another thread on the same file.
 *
 * A descriptor kept from an earlier read is checked again (fstat) on its
 * first use in a later one (sl__cache_begin), so a file rewritten between
 * two reads is noticed; one replaced by a new file under its name keeps its
 * old contents for as long as it stays open, as with any open file.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "base.h"

#define NONE ((size_t)-1)
#define SL_FD_BUDGET_MAX (1 << 16)

typedef struct entry {
  int fd, dfd;          /* -1: not open */
  int pins;
  bool direct_refused;  /* the filesystem said no to O_DIRECT */
  size_t align;
  unsigned epoch;       /* when its identity was last checked */
  size_t prev, next;    /* in the idle list; NONE at the ends */
  bool idle;
} entry;

struct sl_cache {
  pthread_mutex_t mu;
  size_t n;
  char *const *paths;
  const sl_file_id *ids;
  entry *e;
  size_t head, tail;    /* idle list: head is the least recently used */
  unsigned epoch;
};

/* ------------------------------------------------------------- the budget */

static _Atomic int64_t held, peak, budget_set;
static int64_t budget_derived;
static pthread_once_t budget_once = PTHREAD_ONCE_INIT;

static int64_t open_now(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return 16;
  int64_t n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

static void derive_budget(void) {
  struct rlimit rl;
  int64_t soft = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    soft = rl.rlim_cur == RLIM_INFINITY ? SL_FD_BUDGET_MAX * 2 : (int64_t)rl.rlim_cur;
  budget_derived = SL_MIN(SL_MAX((soft - open_now()) / 2, 4), SL_FD_BUDGET_MAX);
}

int64_t sl__fd_budget(void) {
  int64_t set = atomic_load(&budget_set);
  if (set > 0) return set;
  pthread_once(&budget_once, derive_budget);
  return budget_derived;
}

void sl__fd_budget_set(int64_t n) {
  atomic_store(&budget_set, n);
  atomic_store(&peak, atomic_load(&held));
}

int64_t sl__fd_held(void) { return atomic_load(&held); }

int64_t sl__fd_peak(void) { return atomic_load(&peak); }

static void took(int64_t k, _Atomic int64_t *opened) {
  int64_t now = atomic_fetch_add(&held, k) + k, p = atomic_load(&peak);
  while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
  }
  if (opened != NULL) atomic_fetch_add_explicit(opened, k, memory_order_relaxed);
}

/* ------------------------------------------------------------- idle list */

static void unlink_idle(sl_cache *c, size_t i) {
  entry *e = &c->e[i];
  if (!e->idle) return;
  if (e->prev != NONE) c->e[e->prev].next = e->next;
  else c->head = e->next;
  if (e->next != NONE) c->e[e->next].prev = e->prev;
  else c->tail = e->prev;
  e->prev = e->next = NONE;
  e->idle = false;
}

static void push_idle(sl_cache *c, size_t i) {
  entry *e = &c->e[i];
  e->prev = c->tail;
  e->next = NONE;
  if (c->tail != NONE) c->e[c->tail].next = i;
  else c->head = i;
  c->tail = i;
  e->idle = true;
}

static void close_entry(sl_cache *c, size_t i) {
  entry *e = &c->e[i];
  int64_t k = (e->fd >= 0) + (e->dfd >= 0);
  sl__close(e->fd);
  sl__close(e->dfd);
  e->fd = e->dfd = -1;
  atomic_fetch_sub(&held, k);
}

/* Closes idle files, least recently used first, until want more fit. */
static bool make_room(sl_cache *c, int64_t want) {
  while (atomic_load(&held) + want > sl__fd_budget()) {
    size_t i = c->head;
    if (i == NONE) return false;
    unlink_idle(c, i);
    close_entry(c, i);
  }
  return true;
}

/* ---------------------------------------------------------------- cache */

sl_status sl__cache_new(size_t nfiles, char *const *paths, const sl_file_id *ids,
                        sl_cache **out, sl_error *err) {
  sl_cache *c = sl__calloc(1, sizeof *c);
  entry *e = sl__calloc(nfiles ? nfiles : 1, sizeof *e);
  if (c == NULL || e == NULL) {
    sl__free(c);
    sl__free(e);
    SL_FAIL(err, SL_ENOMEM, "out of memory for the descriptors of %zu files", nfiles);
  }
  pthread_mutex_init(&c->mu, NULL);
  for (size_t i = 0; i < nfiles; i++)
    e[i] = (entry){.fd = -1, .dfd = -1, .prev = NONE, .next = NONE};
  c->n = nfiles;
  c->paths = paths;
  c->ids = ids;
  c->e = e;
  c->head = c->tail = NONE;
  c->epoch = 1;
  *out = c;
  return SL_OK;
}

void sl__cache_free(sl_cache *c) {
  if (c == NULL) return;
  for (size_t i = 0; i < c->n; i++) close_entry(c, i);
  pthread_mutex_destroy(&c->mu);
  sl__free(c->e);
  sl__free(c);
}

void sl__cache_begin(sl_cache *c) {
  pthread_mutex_lock(&c->mu);
  c->epoch++;
  pthread_mutex_unlock(&c->mu);
}

/* Opens file i (the budget made room for it first where it could). A
   descriptor refused for want of descriptors gets one more idle file
   closed and one more try. */
static sl_status open_file(sl_cache *c, size_t i, _Atomic int64_t *opened, sl_error *err) {
  entry *e = &c->e[i];
  make_room(c, 1);
  sl_error first = {0};
  sl_file_id id;
  sl_status st = sl__open_read(c->paths[i], false, &e->fd, &id, &first);
  if (st == SL_EIO && c->head != NONE) {
    size_t j = c->head;
    unlink_idle(c, j);
    close_entry(c, j);
    sl_error_clear(&first);
    st = sl__open_read(c->paths[i], false, &e->fd, &id, &first);
  }
  if (st != SL_OK) {
    e->fd = -1;
    SL_FAIL(err, st, "%s", first.message);
  }
  took(1, opened);
  st = sl__check_id(c->paths[i], &id, &c->ids[i], err);
  if (st != SL_OK) {
    close_entry(c, i);
    return st;
  }
  e->epoch = c->epoch;
  return SL_OK;
}

/* The descriptor is the file discovery saw, as it was then. */
static sl_status check(sl_cache *c, size_t i, sl_error *err) {
  entry *e = &c->e[i];
  if (e->epoch == c->epoch) return SL_OK;
  sl_file_id now;
  SL_TRY(sl__fstat_id(e->fd, c->paths[i], &now, err));
  SL_TRY(sl__check_id(c->paths[i], &now, &c->ids[i], err));
  e->epoch = c->epoch;
  return SL_OK;
}

/* The O_DIRECT descriptor, when the budget has room for it. A file
   replaced between the two opens is caught by comparing inodes. */
static void open_direct(sl_cache *c, size_t i, _Atomic int64_t *opened) {
  entry *e = &c->e[i];
  if (e->dfd >= 0 || e->direct_refused || atomic_load(&held) + 1 > sl__fd_budget()) return;
  sl_error ignored = {0};
  sl_file_id id;
  if (sl__open_read(c->paths[i], true, &e->dfd, &id, &ignored) != SL_OK) {
    e->dfd = -1;
    e->direct_refused = ignored.code == SL_ENOTSUP;
    return;
  }
  took(1, opened);
  if (id.ino != c->ids[i].ino || id.dev != c->ids[i].dev) {
    atomic_fetch_sub(&held, 1);
    sl__close(e->dfd);
    e->dfd = -1;
    e->direct_refused = true;
    return;
  }
  e->align = sl__direct_align(e->dfd);
}

static sl_status pin(sl_cache *c, size_t i, bool direct, _Atomic int64_t *opened,
                     sl_error *err) {
  entry *e = &c->e[i];
  if (e->fd < 0) SL_TRY(open_file(c, i, opened, err));
  else unlink_idle(c, i);
  sl_status st = check(c, i, err); /* a no-op for a file opened just now */
  if (st != SL_OK) {
    if (e->pins == 0) close_entry(c, i); /* stale: the next use opens it afresh */
    return st;
  }
  e->pins++;
  if (direct) open_direct(c, i, opened);
  return SL_OK;
}

sl_status sl__cache_get(sl_cache *c, size_t file, bool direct, _Atomic int64_t *opened,
                        sl_file_ref *out, sl_error *err) {
  pthread_mutex_lock(&c->mu);
  sl_status st = pin(c, file, direct, opened, err);
  if (st == SL_OK) {
    const entry *e = &c->e[file];
    out->src = (sl_source){.path = c->paths[file], .fd = e->fd, .mem = NULL,
                           .size = c->ids[file].size, .id = c->ids[file]};
    out->dfd = direct ? e->dfd : -1;
    out->align = e->align;
    out->file = file;
  }
  pthread_mutex_unlock(&c->mu);
  return st;
}

void sl__cache_put(sl_cache *c, const sl_file_ref *f) {
  pthread_mutex_lock(&c->mu);
  entry *e = &c->e[f->file];
  if (--e->pins == 0) push_idle(c, f->file);
  pthread_mutex_unlock(&c->mu);
}
