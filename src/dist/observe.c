/* Observing the collectives: sl_load's progress across ranks, and writing
 * a trace gathered from every rank. No MPI here: the messages and the
 * gathers are dist.c's.
 *
 * Progress. The read path only adds each finished piece's bytes to a
 * counter. While the main thread reads, a thread of each rank samples it
 * every progress_ms: rank 0's calls the callback; with MPI_THREAD_MULTIPLE
 * the others send their count to rank 0 point-to-point (on a communicator
 * of their own), so no collective runs inside the read and no rank waits
 * for another. Each rank's last message is marked final; rank 0's thread
 * ends once it has every final (the main thread would wait for the slowest
 * rank in the agreement anyway), so no message is left unreceived for a
 * later load. Without the thread level, rank 0 reports its own share. A
 * thread that cannot be started leaves its loop to the main thread at the
 * end: late, but no rank waits forever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist.h"

struct sl_progress_run {
  sl_comm *comm;
  sl_progress_fn fn;
  void *user;
  double interval;        /* seconds */
  _Atomic int64_t *done;  /* this rank's counter */
  int64_t total;          /* what bytes_total says */
  int P, ranks;           /* ranks counted: P, or 1 (rank 0 alone) */
  bool remote, root;
  double t0;
  pthread_t thread;
  bool started;
  pthread_mutex_t mu;
  pthread_cond_t cv;      /* on CLOCK_MONOTONIC */
  bool stop;
  int finals;             /* rank 0: final messages received */
  int64_t *counts;        /* rank 0: each rank's last count (P) */
  bool *final_of;
};

/* Sleeps up to seconds or until stopped; @return whether stopped. */
static bool nap(sl_progress_run *R, double seconds) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t ns = (int64_t)ts.tv_nsec + (int64_t)(SL_MAX(seconds, 0.0) * 1e9);
  ts.tv_sec += (time_t)(ns / 1000000000);
  ts.tv_nsec = (long)(ns % 1000000000);
  pthread_mutex_lock(&R->mu);
  while (!R->stop && pthread_cond_timedwait(&R->cv, &R->mu, &ts) == 0) {
  }
  bool stop = R->stop;
  pthread_mutex_unlock(&R->mu);
  return stop;
}

static void take(sl_progress_run *R, int src, const int64_t msg[2]) {
  if (src <= 0 || src >= R->P) return;
  R->counts[src] = msg[0];
  if (msg[1] && !R->final_of[src]) {
    R->final_of[src] = true;
    R->finals++;
  }
}

static void report(sl_progress_run *R, bool final) {
  int64_t sum = atomic_load_explicit(R->done, memory_order_relaxed);
  for (int r = 1; R->remote && r < R->P; r++) sum += R->counts[r];
  sl_progress p = {sizeof p, sum, R->total, sl__now() - R->t0, R->ranks, R->P, final};
  if (R->fn != NULL) R->fn(&p, R->user);
}

/* Rank 0: a call every interval; at the end, every rank's final first. */
static void root_loop(sl_progress_run *R) {
  int64_t msg[2];
  int src;
  double last = sl__now();
  for (bool stop = false; !stop;) {
    stop = nap(R, R->interval - (sl__now() - last));
    while (R->remote && sl__comm_progress_recv(R->comm, false, &src, msg)) take(R, src, msg);
    if (!stop && sl__now() - last >= R->interval) {
      report(R, false);
      last = sl__now();
    }
  }
  while (R->remote && R->finals < R->P - 1 && sl__comm_progress_recv(R->comm, true, &src, msg)) {
    take(R, src, msg);
    if (sl__now() - last >= R->interval) {
      report(R, false);
      last = sl__now();
    }
  }
  report(R, true);
}

/* Other ranks: their count every interval, marked final at the end. */
static void rank_loop(sl_progress_run *R) {
  for (bool stop = false; !stop;) {
    stop = nap(R, R->interval);
    int64_t msg[2] = {atomic_load_explicit(R->done, memory_order_relaxed), stop};
    sl__comm_progress_send(R->comm, msg);
  }
}

static void *progress_main(void *arg) {
  sl_progress_run *R = arg;
  if (R->root) root_loop(R);
  else rank_loop(R);
  return NULL;
}

static sl_progress_run *new_run(sl_comm *c, const sl_read_options *o, int64_t ms,
                                _Atomic int64_t *done, int64_t total, bool remote) {
  int P = sl_comm_size(c);
  sl_progress_run *R = sl__calloc(1, sizeof *R);
  if (R == NULL) return NULL;
  R->counts = sl__calloc((size_t)P, sizeof *R->counts);
  R->final_of = sl__calloc((size_t)P, sizeof *R->final_of);
  if (R->counts == NULL || R->final_of == NULL) {
    sl__free(R->counts);
    sl__free(R->final_of);
    sl__free(R);
    return NULL;
  }
  *R = (sl_progress_run){c, o ? o->progress : NULL, o ? o->progress_user : NULL,
                         (double)ms / 1e3, done, total, P, remote ? P : 1, remote,
                         sl_comm_rank(c) == 0, sl__now(), .counts = R->counts,
                         .final_of = R->final_of};
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&R->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&R->mu, NULL);
  return R;
}

/* Without memory for the run, a rank still owes rank 0 its final message,
   and rank 0 still owes the others their receipt: settled at once. */
static void settle_now(sl_comm *c, bool root) {
  int64_t msg[2] = {0, 1};
  int src, left = sl_comm_size(c) - 1;
  if (!root) sl__comm_progress_send(c, msg);
  while (root && left > 0 && sl__comm_progress_recv(c, true, &src, msg))
    left -= msg[1] != 0;
}

sl_progress_run *sl__progress_start(sl_comm *c, const sl_read_options *o,
                                    _Atomic int64_t *done, int64_t mine, int64_t all) {
  bool remote = sl__comm_progress_remote(c), root = sl_comm_rank(c) == 0;
  /* rank 0's callback and interval decide for every rank */
  int64_t want[2] = {root && o != NULL && o->progress != NULL, o ? o->progress_ms : 0};
  if (remote) sl__comm_bcast(c, want, sizeof want);
  if (!want[0]) return NULL;
  sl_progress_run *R = new_run(c, o, want[1], done, remote ? all : mine, remote);
  if (R == NULL) {
    if (remote) settle_now(c, root);
    return NULL;
  }
  R->started = pthread_create(&R->thread, NULL, progress_main, R) == 0;
  return R;
}

void sl__progress_stop(sl_progress_run *R) {
  if (R == NULL) return;
  pthread_mutex_lock(&R->mu);
  R->stop = true;
  pthread_cond_signal(&R->cv);
  pthread_mutex_unlock(&R->mu);
  if (R->started) pthread_join(R->thread, NULL);
  else progress_main(R); /* stopped already: one message, or the finals */
  pthread_cond_destroy(&R->cv);
  pthread_mutex_destroy(&R->mu);
  sl__free(R->counts);
  sl__free(R->final_of);
  sl__free(R);
}

/* --------------------------------------------------------------- traces */

/* Agreement after each step, so a rank that fails (memory) never leaves
   the others in a gather it will not join. */
static sl_status trace_origin(sl_comm *c, const sl_trace *t, int64_t *origin, sl_error *err) {
  int P = sl_comm_size(c);
  bool root = sl_comm_rank(c) == 0;
  int64_t first = sl__trace_first(t), *all = root ? sl__malloc((size_t)P * sizeof *all) : NULL;
  sl_status st = root && all == NULL ? sl__fail(err, SL_ENOMEM, "out of memory") : SL_OK;
  if ((st = sl_comm_agree(c, st, err)) != SL_OK) return st;
  sl__comm_gather(c, &first, sizeof first, all);
  *origin = first;
  for (int r = 0; root && r < P; r++) *origin = SL_MIN(*origin, all[r]);
  sl__free(all);
  sl__comm_bcast(c, origin, sizeof *origin);
  if (*origin == INT64_MAX) *origin = 0; /* no spans anywhere */
  return SL_OK;
}

typedef struct gathered {
  char *text;  /* rank 0: every rank's, one after another */
  int *counts, *displs;
} gathered;

static void gathered_free(gathered *g) {
  sl__free(g->text);
  sl__free(g->counts);
  sl__free(g->displs);
}

/* Rank 0's buffers for n[r] bytes from each rank r (their sum under 2 GiB:
   MPI counts are int). */
static sl_status make_room(const int64_t *n, int P, const char *path, gathered *g,
                           sl_error *err) {
  int64_t total = 0;
  for (int r = 0; r < P; r++) total += n[r];
  if (total > INT32_MAX)
    SL_FAIL(err, SL_EINVAL, "%s: the trace is %lld bytes, more than one file of it can "
            "gather (2 GiB)", path, (long long)total);
  g->text = sl__malloc((size_t)total + 1);
  g->counts = sl__malloc((size_t)P * sizeof *g->counts);
  g->displs = sl__malloc((size_t)P * sizeof *g->displs);
  if (g->text == NULL || g->counts == NULL || g->displs == NULL)
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory gathering the trace", path);
  for (int r = 0, at = 0; r < P; at += (int)n[r], r++) {
    g->counts[r] = (int)n[r];
    g->displs[r] = at;
  }
  return SL_OK;
}

static sl_status gather_text(sl_comm *c, const char *mine, size_t n, const char *path,
                             gathered *g, sl_error *err) {
  int P = sl_comm_size(c);
  bool root = sl_comm_rank(c) == 0;
  int64_t len = (int64_t)n, *lens = root ? sl__malloc((size_t)P * sizeof *lens) : NULL;
  sl_status st = root && lens == NULL ? sl__fail(err, SL_ENOMEM, "out of memory") : SL_OK;
  if ((st = sl_comm_agree(c, st, err)) != SL_OK) return st;
  sl__comm_gather(c, &len, sizeof len, lens);
  if (root) st = make_room(lens, P, path, g, err);
  sl__free(lens);
  if ((st = sl_comm_agree(c, st, err)) != SL_OK) return st;
  sl__comm_gatherv(c, mine, (int)n, g->text, g->counts, g->displs);
  return SL_OK;
}

/* Rank 0: the file, under a temporary name renamed at the end (not synced
   first: a trace is a diagnostic, and an fsync costs a load ~10 ms). */
static sl_status write_file(const gathered *g, int P, const char *path, sl_error *err) {
  SL_TRY(sl__check_output_path(path, err));
  int fd;
  char *tmp;
  SL_TRY(sl__create_temp(path, &fd, &tmp, err));
  char tail[256];
  snprintf(tail, sizeof tail, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"tool\":"
           "\"shardload\",\"version\":\"%s\",\"ranks\":%d}}\n", SL_VERSION_STRING, P);
  const char head[] = "{\"traceEvents\":[\n", sep[] = ",\n";
  int64_t off = 0;
  sl_status st = sl__pwrite_full(fd, path, head, sizeof head - 1, off, err);
  off += (int64_t)sizeof head - 1;
  for (int r = 0; st == SL_OK && r < P; r++) {
    if (r > 0) st = sl__pwrite_full(fd, path, sep, sizeof sep - 1, off, err);
    off += r > 0 ? (int64_t)sizeof sep - 1 : 0;
    if (st == SL_OK)
      st = sl__pwrite_full(fd, path, g->text + g->displs[r], (size_t)g->counts[r], off, err);
    off += g->counts[r];
  }
  if (st == SL_OK) st = sl__pwrite_full(fd, path, tail, strlen(tail), off, err);
  if (st != SL_OK) {
    sl__abort_temp(fd, tmp);
    return st;
  }
  return sl__commit_temp(fd, tmp, path, false, err); /* a diagnostic: no fsync's wait */
}

sl_status sl_trace_write(sl_comm *comm, const sl_trace *t, const char *path, sl_error *err) {
  sl_error_clear(err);
  bool root = sl_comm_rank(comm) == 0;
  int64_t origin;
  SL_TRY(trace_origin(comm, t, &origin, err));
  char *mine = NULL;
  size_t n = 0;
  sl_status st = sl__trace_render(t, sl_comm_rank(comm), origin, &mine, &n, err);
  if (st == SL_OK && n > INT32_MAX)
    st = sl__fail(err, SL_EINVAL, "%s: rank %d's trace is %zu bytes, more than one file of it "
                  "can gather (2 GiB)", path, sl_comm_rank(comm), n);
  if ((st = sl_comm_agree(comm, st, err)) != SL_OK) {
    sl__free(mine);
    return st;
  }
  gathered g = {0};
  st = gather_text(comm, mine, n, path, &g, err);
  sl__free(mine);
  if (st == SL_OK && root) st = write_file(&g, sl_comm_size(comm), path, err);
  gathered_free(&g);
  return sl_comm_agree(comm, st, err);
}
