/* The drivers' shard handles kept across reads: the gather (take.c) is
 * called again and again for a few rows each time (a training loop, a Dask
 * task), and re-making a handle per call (npy re-reads and re-parses its
 * header, Parquet its whole footer) was most of its per-call cost.
 *
 * A handle is made on first use (sl__leaf_open_shard: its file through the
 * cache, identity checked, the re-read header checked against discovery)
 * and kept, pinned while a read uses it, idle afterwards. At most
 * SL_HANDLES_KEPT idle handles stay, the least recently used closed first,
 * so a dataset of 100000 shards never holds them all. A handle holds no
 * descriptor: the files stay in the file cache, whose identity check on
 * each read's first use (sl__cache_begin) notices a file rewritten between
 * two calls.
 *
 * As in the file cache, the open runs without the lock (the entry marked
 * opening; a thread wanting the same shard waits). */
#include <pthread.h>

#include "core.h"

#define SL_HANDLES_KEPT 256
#define NONE ((size_t)-1)

typedef struct slot {
  void *h;
  int pins;
  bool open, opening, idle;
  size_t prev, next; /* idle list */
} slot;

struct sl_handles {
  pthread_mutex_t mu;
  pthread_cond_t opened;
  size_t n, nidle;
  slot *s;          /* n slots, allocated on first use */
  size_t head, tail; /* idle list: head is the least recently used */
};

sl_status sl__handles_new(size_t nshards, sl_handles **out, sl_error *err) {
  sl_handles *c = sl__calloc(1, sizeof *c);
  if (c == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory for the handles of %zu shards", nshards);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->opened, NULL);
  c->n = nshards;
  c->head = c->tail = NONE;
  *out = c;
  return SL_OK;
}

void sl__handles_free(sl_handles *c, const sl_dataset *d) {
  if (c == NULL) return;
  for (size_t i = 0; c->s != NULL && i < c->n; i++)
    if (c->s[i].open) sl__leaf_close_shard(d, c->s[i].h);
  pthread_cond_destroy(&c->opened);
  pthread_mutex_destroy(&c->mu);
  sl__free(c->s);
  sl__free(c);
}

static void unlink_idle(sl_handles *c, size_t i) {
  slot *e = &c->s[i];
  if (!e->idle) return;
  if (e->prev != NONE) c->s[e->prev].next = e->next;
  else c->head = e->next;
  if (e->next != NONE) c->s[e->next].prev = e->prev;
  else c->tail = e->prev;
  e->prev = e->next = NONE;
  e->idle = false;
  c->nidle--;
}

static void push_idle(sl_handles *c, size_t i) {
  slot *e = &c->s[i];
  e->prev = c->tail;
  e->next = NONE;
  if (c->tail != NONE) c->s[c->tail].next = i;
  else c->head = i;
  c->tail = i;
  e->idle = true;
  c->nidle++;
}

/* Closes idle handles beyond what is kept, under the lock: a driver's
   close only frees memory. */
static void trim(sl_handles *c, const sl_dataset *d) {
  while (c->nidle > SL_HANDLES_KEPT) {
    size_t i = c->head;
    unlink_idle(c, i);
    sl__leaf_close_shard(d, c->s[i].h);
    c->s[i].h = NULL;
    c->s[i].open = false;
  }
}

static sl_status ensure_slots(sl_handles *c, const sl_dataset *d, sl_error *err) {
  if (c->s != NULL) return SL_OK;
  c->s = sl__calloc(c->n ? c->n : 1, sizeof *c->s);
  if (c->s == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for the handles of %zu shards",
                            d->root, c->n);
  for (size_t i = 0; i < c->n; i++) c->s[i].prev = c->s[i].next = NONE;
  return SL_OK;
}

sl_status sl__handle_get(const sl_dataset *d, size_t shard, _Atomic int64_t *opened,
                         const void **out, sl_error *err) {
  sl_handles *c = d->handles;
  pthread_mutex_lock(&c->mu);
  sl_status st = ensure_slots(c, d, err);
  slot *e = st == SL_OK ? &c->s[shard] : NULL;
  while (e != NULL && e->opening) pthread_cond_wait(&c->opened, &c->mu);
  if (e != NULL && !e->open) {
    e->opening = true;
    pthread_mutex_unlock(&c->mu);
    void *h = NULL;
    st = sl__leaf_open_shard(d, shard, opened, &h, err);
    pthread_mutex_lock(&c->mu);
    e->opening = false;
    e->open = st == SL_OK;
    e->h = h;
    pthread_cond_broadcast(&c->opened);
  }
  if (e != NULL && st == SL_OK) {
    unlink_idle(c, shard);
    e->pins++;
    *out = e->h;
  }
  pthread_mutex_unlock(&c->mu);
  return st;
}

void sl__handle_put(const sl_dataset *d, size_t shard) {
  sl_handles *c = d->handles;
  pthread_mutex_lock(&c->mu);
  slot *e = &c->s[shard];
  if (--e->pins == 0) push_idle(c, shard);
  trim(c, d);
  pthread_mutex_unlock(&c->mu);
}
