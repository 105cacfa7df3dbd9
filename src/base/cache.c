/* The bounded file cache: the descriptors of one dataset's files, shared by
 * every thread of every read on this process.
 *
 * A file is opened on first use and its identity (device, inode, size,
 * modification time) checked against what discovery recorded; it stays
 * open, pinned while a thread reads it and idle afterwards. Idle files form
 * a least-recently-used list. Descriptors held by all caches of the process
 * together stay within one budget, half of what RLIMIT_NOFILE leaves free
 * when it is first needed (the other half is the caller's): opening a file
 * beyond it first closes the least recently used idle file of this cache,
 * then of the other caches of the process. Only files pinned by threads can
 * push past it, by at most one per thread.
 *
 * The open itself (a round trip to the server on Lustre or NFS) runs
 * without the cache's lock: the entry is marked as opening, and a thread
 * that wants the same file meanwhile waits for it.
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
 *
 * Device numbers are per machine (an NFS or Lustre client numbers its
 * mounts itself), so a rank that did not discover the dataset receives
 * identities without one (SL_DEV_UNKNOWN) and adopts the device its first
 * open finds; inode, size and mtime are compared everywhere.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "base.h"

#define NONE ((size_t)-1)
#define SL_FD_BUDGET_MAX (1 << 16)

typedef struct entry {
  int fd, dfd;          /* -1: not open */
  int pins;
  bool opening;         /* a thread is opening it without the lock */
  bool direct_refused;  /* the filesystem said no to O_DIRECT */
  bool idle;
  size_t align;
  unsigned epoch;       /* when its identity was last checked */
  size_t prev, next;    /* in the idle list; NONE at the ends */
  uint64_t dev, ino;    /* of fd, to hold dfd to the same file */
  void *map;            /* read-only mapping of fd (sl__cache_map), or NULL */
  bool map_refused;
} entry;

struct sl_cache {
  pthread_mutex_t mu;
  pthread_cond_t opened;  /* an entry stopped opening */
  size_t n;
  char *const *paths;
  sl_file_id *ids;        /* the dataset's; a device unknown is adopted */
  entry *e;
  size_t head, tail;      /* idle list: head is the least recently used */
  unsigned epoch;
  sl_cache *prev_cache, *next_cache; /* every cache of the process */
};

/* ------------------------------------------------------------- the budget */

static _Atomic int64_t held, peak, budget_set;
static int64_t budget_derived;
static pthread_once_t budget_once = PTHREAD_ONCE_INIT;
/* Taken after a cache's own lock, never before one (others' only by trylock). */
static pthread_mutex_t caches_mu = PTHREAD_MUTEX_INITIALIZER;
static sl_cache *caches;

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

static void took(int64_t k) {
  int64_t now = atomic_fetch_add(&held, k) + k, p = atomic_load(&peak);
  while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
  }
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
  sl__unmap_file(e->map, c->ids[i].size);
  e->map = NULL;
  e->map_refused = false;
  sl__close(e->fd);
  sl__close(e->dfd);
  e->fd = e->dfd = -1;
  atomic_fetch_sub(&held, k);
}

/* Closes c's least recently used idle file; false when it has none. */
static bool evict_one(sl_cache *c) {
  size_t i = c->head;
  if (i == NONE) return false;
  unlink_idle(c, i);
  close_entry(c, i);
  return true;
}

/* Idle files of the other caches, for as long as want do not fit. Their
   locks are only tried: a cache busy in another thread keeps its files. */
static void evict_elsewhere(const sl_cache *self, int64_t want) {
  pthread_mutex_lock(&caches_mu);
  for (sl_cache *o = caches; o != NULL; o = o->next_cache) {
    if (o == self || pthread_mutex_trylock(&o->mu) != 0) continue;
    while (atomic_load(&held) + want > sl__fd_budget() && evict_one(o)) {
    }
    pthread_mutex_unlock(&o->mu);
    if (atomic_load(&held) + want <= sl__fd_budget()) break;
  }
  pthread_mutex_unlock(&caches_mu);
}

/* Closes idle files, least recently used first, until want more fit. */
static void make_room(sl_cache *c, int64_t want) {
  while (atomic_load(&held) + want > sl__fd_budget())
    if (!evict_one(c)) break;
  if (atomic_load(&held) + want > sl__fd_budget()) evict_elsewhere(c, want);
}

/* ---------------------------------------------------------------- cache */

sl_status sl__cache_new(size_t nfiles, char *const *paths, sl_file_id *ids, sl_cache **out,
                        sl_error *err) {
  sl_cache *c = sl__calloc(1, sizeof *c);
  entry *e = sl__calloc(nfiles ? nfiles : 1, sizeof *e);
  if (c == NULL || e == NULL) {
    sl__free(c);
    sl__free(e);
    SL_FAIL(err, SL_ENOMEM, "out of memory for the descriptors of %zu files", nfiles);
  }
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->opened, NULL);
  for (size_t i = 0; i < nfiles; i++)
    e[i] = (entry){.fd = -1, .dfd = -1, .prev = NONE, .next = NONE};
  c->n = nfiles;
  c->paths = paths;
  c->ids = ids;
  c->e = e;
  c->head = c->tail = NONE;
  c->epoch = 1;
  pthread_mutex_lock(&caches_mu);
  c->next_cache = caches;
  if (caches != NULL) caches->prev_cache = c;
  caches = c;
  pthread_mutex_unlock(&caches_mu);
  *out = c;
  return SL_OK;
}

void sl__cache_free(sl_cache *c) {
  if (c == NULL) return;
  pthread_mutex_lock(&caches_mu);
  if (c->prev_cache != NULL) c->prev_cache->next_cache = c->next_cache;
  else caches = c->next_cache;
  if (c->next_cache != NULL) c->next_cache->prev_cache = c->prev_cache;
  pthread_mutex_unlock(&caches_mu);
  pthread_mutex_lock(&c->mu); /* another cache may be evicting from it */
  for (size_t i = 0; i < c->n; i++) close_entry(c, i);
  pthread_mutex_unlock(&c->mu);
  pthread_cond_destroy(&c->opened);
  pthread_mutex_destroy(&c->mu);
  sl__free(c->e);
  sl__free(c);
}

void sl__cache_begin(sl_cache *c) {
  pthread_mutex_lock(&c->mu);
  c->epoch++;
  pthread_mutex_unlock(&c->mu);
  sl__map_guard_arm(); /* this read may copy from the files' mappings */
}

/* The open of file i, without the lock: the descriptor and its identity
   (checked by the caller). A refusal for want of descriptors gets idle
   files closed and one more try. */
static sl_status open_unlocked(sl_cache *c, size_t i, int *fd, sl_file_id *id, sl_error *err) {
  sl_error first = {0};
  sl_status st = sl__open_read(c->paths[i], false, fd, id, &first);
  if (st != SL_OK && (errno == EMFILE || errno == ENFILE)) {
    pthread_mutex_lock(&c->mu);
    evict_one(c);
    pthread_mutex_unlock(&c->mu);
    evict_elsewhere(c, 1);
    sl_error_clear(&first);
    st = sl__open_read(c->paths[i], false, fd, id, &first);
  }
  if (st != SL_OK) SL_FAIL(err, st, "%s", first.message);
  return SL_OK;
}

/* Opens file i for the caller, which holds the lock and has reserved the
   entry (opening, one pin): the lock is let go for the system calls. */
static sl_status open_file(sl_cache *c, size_t i, _Atomic int64_t *opened, sl_error *err) {
  entry *e = &c->e[i];
  make_room(c, 1);
  took(1); /* counted while it opens, so that others make room for it */
  pthread_mutex_unlock(&c->mu);
  int fd = -1;
  sl_file_id id;
  sl_status st = open_unlocked(c, i, &fd, &id, err);
  pthread_mutex_lock(&c->mu);
  sl_file_id *was = &c->ids[i];
  if (st == SL_OK && was->dev == SL_DEV_UNKNOWN && id.ino == was->ino)
    was->dev = id.dev; /* this machine's number for the device */
  if (st == SL_OK) st = sl__check_id(c->paths[i], &id, was, err);
  if (st != SL_OK) {
    sl__close(fd);
    atomic_fetch_sub(&held, 1);
    return st;
  }
  if (opened != NULL) atomic_fetch_add_explicit(opened, 1, memory_order_relaxed);
  e->fd = fd;
  e->dev = id.dev;
  e->ino = id.ino;
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
  took(1);
  if (opened != NULL) atomic_fetch_add_explicit(opened, 1, memory_order_relaxed);
  if (id.ino != e->ino || id.dev != e->dev) {
    atomic_fetch_sub(&held, 1);
    sl__close(e->dfd);
    e->dfd = -1;
    e->direct_refused = true;
    return;
  }
  e->align = sl__direct_align(e->dfd);
}

/* Pins entry i (the lock held), opening it if no one has. */
static sl_status pin(sl_cache *c, size_t i, bool direct, _Atomic int64_t *opened,
                     sl_error *err) {
  entry *e = &c->e[i];
  while (e->opening) pthread_cond_wait(&c->opened, &c->mu);
  unlink_idle(c, i);
  e->pins++;
  sl_status st = SL_OK;
  if (e->fd < 0) {
    e->opening = true;
    st = open_file(c, i, opened, err);
    e->opening = false;
    pthread_cond_broadcast(&c->opened);
  } else {
    st = check(c, i, err);
  }
  if (st != SL_OK) {
    if (--e->pins == 0 && e->fd >= 0) close_entry(c, i); /* stale: opened afresh next time */
    return st;
  }
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

const char *sl__cache_map(sl_cache *c, const sl_file_ref *f) {
  pthread_mutex_lock(&c->mu);
  entry *e = &c->e[f->file];
  if (e->map == NULL && !e->map_refused) {
    e->map = sl__map_file(e->fd, c->ids[f->file].size);
    e->map_refused = e->map == NULL;
  }
  const char *m = e->map;
  pthread_mutex_unlock(&c->mu);
  return m;
}

