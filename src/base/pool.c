/* A process-wide cache of a driver's per-thread decoding buffers.
 *
 * A load runs a few threads over many shards; buffers kept per shard would
 * be allocated, and their pages faulted in, once per shard and thread, which
 * on large reads cost more than the decoding. Files join the pool when
 * opened and leave when released; the last one out frees what is cached, so
 * nothing outlives the datasets that used it.
 */
#include "base.h"

void sl__pool_join(sl_pool *p) {
  pthread_mutex_lock(&p->mu);
  p->users++;
  pthread_mutex_unlock(&p->mu);
}

void sl__pool_leave(sl_pool *p) {
  pthread_mutex_lock(&p->mu);
  size_t n = --p->users == 0 ? p->n : 0;
  void *items[SL_POOL_MAX];
  for (size_t i = 0; i < n; i++) items[i] = p->items[i];
  if (n > 0) p->n = 0;
  pthread_mutex_unlock(&p->mu);
  for (size_t i = 0; i < n; i++) p->free_item(items[i]);
}

void *sl__pool_get(sl_pool *p) {
  pthread_mutex_lock(&p->mu);
  void *item = p->n > 0 ? p->items[--p->n] : NULL;
  pthread_mutex_unlock(&p->mu);
  return item;
}

void sl__pool_put(sl_pool *p, void *item) {
  if (item == NULL) return;
  pthread_mutex_lock(&p->mu);
  bool kept = p->users > 0 && p->n < SL_POOL_MAX;
  if (kept) p->items[p->n++] = item;
  pthread_mutex_unlock(&p->mu);
  if (!kept) p->free_item(item);
}
