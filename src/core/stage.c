/* The staging pipeline of the gpu variant: the pieces of a read, cut into
 * chunks of at most one staging buffer, land in device memory through a
 * ring of pinned buffers per worker. A worker reads (pread, or a decoding
 * driver's read) chunk i into a free slot of its ring and submits its copy
 * on its own queue, then takes the next chunk: the reading of chunk i+1
 * overlaps the copy of chunk i, and a worker waits for a slot's copy only
 * when it comes round to refill that buffer (back-pressure: at most
 * SL_STAGE_SLOTS chunks in flight per worker, so pinned memory is bounded
 * by workers x slots x buffer whatever the size of the read).
 *
 * Errors follow the executor contract (core.h): the lowest failing chunk
 * wins whichever worker sees its failure first, a read error as soon as it
 * happens and a copy error when its slot is waited for; chunks after it
 * are not started, chunks before it all run, and every copy in flight is
 * waited for before the buffers are freed.
 *
 * No CUDA here: the device is the copy engine of stage.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "stage.h"

#define SL_GDS_ALIGN 4096

typedef struct stage {
  const sl_copy_engine *e;
  const sl_leaf *L;
  sl_segment *chunks;
  size_t n;
  char *dst;                 /* row 0 of the window, device memory */
  size_t buf_bytes;
  bool gds;
  _Atomic size_t next;       /* the next chunk to take */
  _Atomic size_t failed_at;  /* the lowest failing chunk so far (n: none) */
  pthread_mutex_t lock;      /* guards status and err */
  sl_status status;
  sl_error err;
  _Atomic int64_t held, peak; /* pinned bytes */
} stage;

typedef struct slot {
  void *buf;
  bool busy;      /* a copy from buf is in flight */
  size_t chunk;
} slot;

static void fail_at(stage *S, size_t i, sl_status st, const sl_error *e) {
  pthread_mutex_lock(&S->lock);
  if (i < atomic_load(&S->failed_at)) {
    atomic_store(&S->failed_at, i);
    S->status = st;
    S->err = *e;
  }
  pthread_mutex_unlock(&S->lock);
}

/* --------------------------------------------------------------- chunks */

/* Pieces cut into chunks of at most rpb rows. */
static sl_status make_chunks(stage *S, const sl_segment *pieces, size_t n, int64_t rpb,
                             sl_error *err) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count += (size_t)((pieces[i].file_hi - pieces[i].file_lo + rpb - 1) / rpb);
  S->chunks = sl__malloc((count ? count : 1) * sizeof *S->chunks);
  if (S->chunks == NULL)
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory planning the staging", S->L->ds->root);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    for (int64_t r = pieces[i].file_lo; r < pieces[i].file_hi; r += rpb) {
      sl_segment c = pieces[i];
      c.file_lo = r;
      c.file_hi = SL_MIN(r + rpb, pieces[i].file_hi);
      c.dst_row = pieces[i].dst_row + (r - pieces[i].file_lo);
      S->chunks[k++] = c;
    }
  S->n = count;
  return SL_OK;
}

static const char *label(const stage *S, const sl_segment *c, char *buf, size_t cap) {
  return sl__shard_label(&S->L->ds->shards[c->shard], buf, cap);
}

/* An engine's error with the file and rows in front. */
static sl_status copy_failed(const stage *S, const sl_segment *c, sl_status st,
                             const sl_error *why, sl_error *err) {
  char lb[512];
  return sl__fail(err, st, "%s: copying rows [%lld, %lld) to %s device %d failed: %s",
                  label(S, c, lb, sizeof lb), (long long)c->file_lo, (long long)c->file_hi,
                  S->e->name, S->L->device, why->message);
}

/* ----------------------------------------------------------------- GDS */

/* A chunk that cuFile read is counted (and traced) as the leaf read counts
   the others. */
static void counted(const sl_leaf *L, const sl_segment *c, int64_t t0, const int64_t *by) {
  sl__counts_add(L->counts, by);
  int64_t row0 = L->ds->cum_rows[c->shard];
  sl__leaf_trace(L, t0, c->shard, row0 + c->file_lo, row0 + c->file_hi, 0, by);
}

/* The chunk's extents whose 4 KiB-aligned middles cuFile reads straight
   into place; heads, tails and extents too short go through buf, copied
   synchronously on q (they are small). *done = false when the driver has no
   extents for it (it decodes): the ring takes the chunk. */
static sl_status gds_chunk(stage *S, void *q, int k, void *buf, const sl_segment *c,
                           bool *done, sl_error *err) {
  const sl_leaf *L = S->L;
  const sl_dataset *d = L->ds;
  sl_extent stack[SL_EXTENTS_STACK], *ex;
  size_t n;
  *done = false;
  SL_TRY(sl__leaf_extents(L, c, stack, &ex, &n, err));
  if (n == 0) {
    sl__leaf_extents_free(stack, ex);
    return SL_OK;
  }
  const sl_shard *s = &d->shards[c->shard];
  size_t es = s->swap ? sl__swap_unit(d->dtype) : 0;
  sl_file_ref f;
  sl_status st = sl__cache_get(d->cache, d->file_of[c->shard], true, L->opened, &f, err);
  if (st != SL_OK) {
    sl__leaf_extents_free(stack, ex);
    return st;
  }
  int fd = f.dfd >= 0 ? f.dfd : f.src.fd;
  int64_t t0 = L->trace != NULL ? sl__now_ns() : 0, by[SL_PATH_COUNT] = {0};
  char *to = S->dst + c->dst_row * d->row_bytes;
  int64_t want = (c->file_hi - c->file_lo) * d->row_bytes, total = 0;
  for (size_t i = 0; st == SL_OK && i < n; i++) {
    int64_t off = ex[i].offset, len = ex[i].length, end;
    if (len < 0 || off < 0 || !sl__add(off, len, &end) || end > f.src.size ||
        !sl__add(total, len, &total) || total > want) {
      st = sl__fail(err, SL_EFORMAT, "%s: driver %s gave byte ranges that do not match the "
                    "rows", f.src.path, d->driver->name);
      break;
    }
    char *at = to + (total - len);
    int64_t F0 = (off + SL_GDS_ALIGN - 1) / SL_GDS_ALIGN * SL_GDS_ALIGN;
    int64_t F1 = end / SL_GDS_ALIGN * SL_GDS_ALIGN;
    /* swapping needs whole elements on both sides of the cut */
    bool mid = F1 - F0 >= SL_GDS_ALIGN && (es == 0 || (F0 - off) % (int64_t)es == 0);
    if (!mid) F0 = F1 = end;
    int64_t parts[2][2] = {{off, F0 - off}, {F1, end - F1}};
    for (int p = 0; st == SL_OK && p < 2; p++) {
      for (int64_t o = parts[p][0], m = parts[p][1]; st == SL_OK && m > 0;) {
        size_t step = (size_t)SL_MIN(m, (int64_t)S->buf_bytes);
        if (es > 1) step -= step % es;
        st = sl__pread_full(f.src.fd, f.src.path, buf, step, o, err);
        by[SL_PATH_BUFFERED] += (int64_t)step;
        sl_error why = {0};
        sl_status cs = SL_OK;
        if (st == SL_OK) cs = S->e->submit(q, k, at + (o - off), buf, step, es, &why);
        if (st == SL_OK && cs == SL_OK) cs = S->e->wait(q, k, &why);
        if (st == SL_OK && cs != SL_OK) st = copy_failed(S, c, cs, &why, err);
        o += (int64_t)step;
        m -= (int64_t)step;
      }
    }
    if (st == SL_OK && mid) {
      sl_error why = {0};
      sl_status gs = S->e->gds_read(L->device, fd, at + (F0 - off), (size_t)(F1 - F0), F0, es,
                                    &why);
      if (gs != SL_OK)
        st = sl__fail(err, gs, "%s: cuFileRead of %lld bytes at offset %lld failed: %s",
                      f.src.path, (long long)(F1 - F0), (long long)F0, why.message);
      else if (L->gds_bytes != NULL)
        atomic_fetch_add(L->gds_bytes, F1 - F0);
      by[SL_PATH_DIRECT] += F1 - F0;
    }
  }
  if (st == SL_OK && total != want)
    st = sl__fail(err, SL_EFORMAT, "%s: driver %s gave %lld bytes of ranges for %lld bytes of "
                  "rows", f.src.path, d->driver->name, (long long)total, (long long)want);
  sl__cache_put(d->cache, &f);
  sl__leaf_extents_free(stack, ex);
  *done = st == SL_OK;
  if (st == SL_OK) counted(L, c, t0, by);
  return st;
}

/* -------------------------------------------------------------- workers */

static sl_status slot_buffer(stage *S, slot *sl, sl_error *err) {
  if (sl->buf != NULL) return SL_OK;
  SL_TRY(S->e->pinned_alloc(S->buf_bytes, &sl->buf, err));
  int64_t now = atomic_fetch_add(&S->held, (int64_t)S->buf_bytes) + (int64_t)S->buf_bytes;
  for (int64_t p = atomic_load(&S->peak); now > p;)
    if (atomic_compare_exchange_weak(&S->peak, &p, now)) break;
  return SL_OK;
}

/* Waits for the copy in flight from sl, if any. */
static void settle(stage *S, void *q, int k, slot *sl) {
  if (!sl->busy) return;
  sl->busy = false;
  sl_error why = {0}, e = {0};
  sl_status st = S->e->wait(q, k, &why);
  if (st != SL_OK) fail_at(S, sl->chunk, copy_failed(S, &S->chunks[sl->chunk], st, &why, &e), &e);
}

/* Chunk i into the slot's buffer and its copy submitted. */
static sl_status run_chunk(stage *S, void *q, int k, slot *sl, size_t i, sl_error *err) {
  const sl_segment *c = &S->chunks[i];
  const sl_dataset *d = S->L->ds;
  SL_TRY(slot_buffer(S, sl, err));
  if (S->gds) {
    bool done;
    SL_TRY(gds_chunk(S, q, k, sl->buf, c, &done, err));
    if (done) return SL_OK;
  }
  size_t swap_es;
  SL_TRY(sl__leaf_piece_raw(S->L, c, sl->buf, &swap_es, err));
  size_t bytes = (size_t)((c->file_hi - c->file_lo) * d->row_bytes);
  sl_error why = {0};
  sl_status st = S->e->submit(q, k, S->dst + c->dst_row * d->row_bytes, sl->buf, bytes, swap_es,
                              &why);
  if (st != SL_OK) return copy_failed(S, c, st, &why, err);
  sl->busy = true;
  sl->chunk = i;
  return SL_OK;
}

static void worker_loop(stage *S, void *q, slot *slots) {
  for (size_t j = 0;; j++) {
    size_t i = atomic_fetch_add(&S->next, 1);
    if (i >= S->n || i > atomic_load(&S->failed_at)) return;
    int k = (int)(j % SL_STAGE_SLOTS);
    settle(S, q, k, &slots[k]);
    if (i > atomic_load(&S->failed_at)) return; /* cancelled by that copy's failure */
    sl_error e = {0};
    sl_status st = run_chunk(S, q, k, &slots[k], i, &e);
    if (st != SL_OK) {
      fail_at(S, i, st, &e);
      return;
    }
  }
}

/* One worker: its own queue and ring; errors go to the stage, so the loop
   running the workers never decides which error wins. */
static sl_status worker(void *ctx, size_t w, sl_error *unused) {
  (void)w, (void)unused;
  stage *S = ctx;
  const sl_copy_engine *e = S->e;
  sl_error why = {0};
  void *q = NULL;
  slot slots[SL_STAGE_SLOTS];
  memset(slots, 0, sizeof slots);
  sl_status st = e->bind(S->L->device, &why);
  if (st == SL_OK) st = e->queue_new(S->L->device, SL_STAGE_SLOTS, &q, &why);
  if (st != SL_OK) {
    sl_error msg = {0};
    sl__fail(&msg, st, "%s: cannot start a staging queue on %s device %d: %s",
             S->L->ds->root, e->name, S->L->device, why.message);
    fail_at(S, 0, st, &msg);
    return SL_OK;
  }
  worker_loop(S, q, slots);
  for (int k = 0; k < SL_STAGE_SLOTS; k++) settle(S, q, k, &slots[k]);
  for (int k = 0; k < SL_STAGE_SLOTS; k++)
    if (slots[k].buf != NULL) {
      e->pinned_free(slots[k].buf, S->buf_bytes);
      atomic_fetch_sub(&S->held, (int64_t)S->buf_bytes);
    }
  e->queue_free(q);
  return SL_OK;
}

/* ------------------------------------------------------------------ read */

/* One staging buffer: the largest piece, capped at SL_STAGE_BUF (tests:
   SHARDLOAD_TEST_STAGE_BYTES, to run many chunks through small fixtures),
   whole rows, at least one row. */
static int64_t rows_per_buffer(const sl_dataset *d, const sl_segment *pieces, size_t n) {
  int64_t most = 1, buf = SL_STAGE_BUF;
  for (size_t i = 0; i < n; i++) most = SL_MAX(most, pieces[i].file_hi - pieces[i].file_lo);
  const char *v = getenv("SHARDLOAD_TEST_STAGE_BYTES");
  if (v != NULL && atoll(v) > 0) buf = SL_MIN(atoll(v), (int64_t)SL_STAGE_BUF);
  int64_t cap = SL_MAX(buf / SL_MAX(d->row_bytes, 1), 1);
  return SL_MIN(most, cap);
}

sl_status sl__stage_read(const sl_copy_engine *e, const sl_executor *loop, const sl_leaf *L,
                         const sl_segment *pieces, size_t n, char *dst, int threads, bool gds,
                         sl_error *err) {
  const sl_dataset *d = L->ds;
  int64_t rpb = rows_per_buffer(d, pieces, n);
  stage *S = sl__calloc(1, sizeof *S);
  if (S == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for the staging", d->root);
  S->e = e;
  S->L = L;
  S->dst = dst;
  S->gds = gds;
  S->buf_bytes = (size_t)(rpb * d->row_bytes);
  sl_status st = make_chunks(S, pieces, n, rpb, err);
  if (st != SL_OK) {
    sl__free(S);
    return st;
  }
  atomic_init(&S->next, 0);
  atomic_init(&S->failed_at, S->n);
  pthread_mutex_init(&S->lock, NULL);
  size_t workers = SL_MIN((size_t)SL_MAX(threads, 1), S->n);
  sl_error why = {0};
  sl_status ps = loop->parallel(workers, worker, S, (int)workers, &why);
  if (ps != SL_OK && S->status == SL_OK) { /* the loop itself could not run */
    S->status = ps;
    S->err = why;
  }
  st = S->status;
  if (st != SL_OK) sl__fail(err, st, "%s", S->err.message);
  if (L->staging_peak != NULL)
    for (int64_t p = atomic_load(L->staging_peak), now = atomic_load(&S->peak); now > p;)
      if (atomic_compare_exchange_weak(L->staging_peak, &p, now)) break;
  pthread_mutex_destroy(&S->lock);
  sl__free(S->chunks);
  sl__free(S);
  return st;
}
