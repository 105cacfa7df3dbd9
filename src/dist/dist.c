/* The process group, and the only file that includes <mpi.h>: start-up,
 * agreement, gather and broadcast. The collectives built on them are in
 * load.c.
 *
 * Collective calls follow one rule: every rank makes the same sequence of MPI
 * calls whatever happens locally, and outcomes meet in sl_comm_agree, where
 * the lowest failing rank's error is broadcast to all. So a rank that fails
 * never leaves another waiting in a collective it will not join.
 *
 * Without a launcher the group is this process alone and MPI is never
 * initialised: a singleton MPI_Init costs about 0.4 s, as long as a whole
 * 2 GiB load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"

#ifdef SL_HAVE_MPI
#include <mpi.h>
#endif

struct sl_comm {
  bool mpi;
  bool owns_init; /* we called MPI_Init, so we finalise */
  bool progress_ok; /* every rank may send progress from a thread of its own */
  int rank, size;
  int local_rank; /* among the ranks of this node: picks the GPU */
  int failed_rank; /* of the last failed agreement; -1 */
  sl_trace *trace; /* the collectives' phases go here (sl_comm_set_trace) */
#ifdef SL_HAVE_MPI
  MPI_Comm comm;
  MPI_Comm progress; /* a duplicate for progress messages, which then never
                        meet a collective's; MPI_COMM_NULL without them */
#endif
};

#define SL_PROGRESS_TAG 1

bool sl__have_mpi(void) {
#ifdef SL_HAVE_MPI
  return true;
#else
  return false;
#endif
}

/* Launchers announce themselves in the environment of each rank. */
static bool launched_by_mpi(void) {
  const char *force = getenv("SHARDLOAD_MPI");
  if (force != NULL && *force != '\0') return strcmp(force, "0") != 0;
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK",
                                     "PMIX_RANK", "MV2_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"};
  for (size_t i = 0; i < SL_ARRAY_LEN(vars); i++)
    if (getenv(vars[i]) != NULL) return true;
  return getenv("SLURM_STEP_ID") != NULL && getenv("SLURM_PROCID") != NULL;
}

static sl_status new_comm(sl_comm **out, sl_error *err) {
  *out = sl__calloc(1, sizeof **out);
  if (*out == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory");
  (*out)->size = 1;
  (*out)->failed_rank = -1;
  (*out)->progress_ok = true; /* one process reports to itself */
#ifdef SL_HAVE_MPI
  (*out)->progress = MPI_COMM_NULL;
#endif
  return SL_OK;
}

#ifdef SL_HAVE_MPI
/* Collective over c at its creation: the ranks sharing this node. */
static void set_local_rank(sl_comm *c) {
  MPI_Comm node;
  c->local_rank = 0;
  if (MPI_Comm_split_type(c->comm, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &node) !=
      MPI_SUCCESS)
    return;
  MPI_Comm_rank(node, &c->local_rank);
  MPI_Comm_free(&node);
}

/* Collective over c at its creation: progress from a thread of each rank
   needs MPI_THREAD_MULTIPLE on every rank (the lowest level decides). */
static void set_progress(sl_comm *c) {
  int have = MPI_THREAD_SINGLE, least = MPI_THREAD_SINGLE;
  MPI_Query_thread(&have);
  MPI_Allreduce(&have, &least, 1, MPI_INT, MPI_MIN, c->comm);
  c->progress_ok = least >= MPI_THREAD_MULTIPLE;
  if (c->progress_ok && c->size > 1 && MPI_Comm_dup(c->comm, &c->progress) != MPI_SUCCESS) {
    c->progress = MPI_COMM_NULL;
    c->progress_ok = false;
  }
}

/* The thread level is asked for only when progress is: Open MPI takes
   locks in every call under MPI_THREAD_MULTIPLE. */
static sl_status mpi_start(sl_comm *c, unsigned flags, int *argc, char ***argv,
                           sl_error *err) {
  int inited = 0, provided = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    int rc = flags & SL_COMM_PROGRESS
                 ? MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided)
                 : MPI_Init(argc, argv);
    if (rc != MPI_SUCCESS) SL_FAIL(err, SL_EIO, "MPI_Init failed");
    c->owns_init = true;
  }
  c->mpi = true;
  c->comm = MPI_COMM_WORLD;
  MPI_Comm_rank(c->comm, &c->rank);
  MPI_Comm_size(c->comm, &c->size);
  set_local_rank(c);
  set_progress(c);
  return SL_OK;
}
#endif

sl_status sl_comm_init(sl_launch how, int *argc, char ***argv, sl_comm **out,
                       sl_error *err) {
  return sl_comm_init_flags(how, 0, argc, argv, out, err);
}

sl_status sl_comm_init_flags(sl_launch how, unsigned flags, int *argc, char ***argv,
                             sl_comm **out, sl_error *err) {
  sl_error_clear(err);
  *out = NULL;
  sl_comm *c;
  SL_TRY(new_comm(&c, err));
  bool mpi = how == SL_LAUNCH_MPI || (how == SL_LAUNCH_AUTO && launched_by_mpi());
  sl_status st = SL_OK;
#ifdef SL_HAVE_MPI
  if (mpi) st = mpi_start(c, flags, argc, argv, err);
#else
  (void)argc, (void)argv, (void)flags;
  if (mpi && how == SL_LAUNCH_MPI)
    st = sl__fail(err, SL_ENOTSUP, "MPI is not in this build; configure with -DSL_WITH_MPI=ON");
#endif
  if (st != SL_OK) {
    sl__free(c);
    return st;
  }
  *out = c;
  return SL_OK;
}

sl_status sl_comm_from_mpi(const void *mpi_comm, sl_comm **out, sl_error *err) {
  sl_error_clear(err);
  *out = NULL;
#ifdef SL_HAVE_MPI
  if (mpi_comm == NULL) SL_FAIL(err, SL_EINVAL, "sl_comm_from_mpi: NULL communicator");
  sl_comm *c;
  SL_TRY(new_comm(&c, err));
  c->mpi = true;
  c->comm = *(const MPI_Comm *)mpi_comm;
  MPI_Comm_rank(c->comm, &c->rank);
  MPI_Comm_size(c->comm, &c->size);
  set_local_rank(c);
  set_progress(c);
  *out = c;
  return SL_OK;
#else
  (void)mpi_comm;
  SL_FAIL(err, SL_ENOTSUP, "MPI is not in this build; configure with -DSL_WITH_MPI=ON");
#endif
}

void sl_comm_free(sl_comm *c) {
  if (c == NULL) return;
#ifdef SL_HAVE_MPI
  int done = 0;
  MPI_Finalized(&done);
  if (!done && c->progress != MPI_COMM_NULL) MPI_Comm_free(&c->progress);
  if (c->owns_init && !done) MPI_Finalize();
#endif
  sl__free(c);
}

int sl_comm_rank(const sl_comm *c) { return c ? c->rank : 0; }
int sl_comm_size(const sl_comm *c) { return c ? c->size : 1; }
int sl_comm_is_mpi(const sl_comm *c) { return c != NULL && c->mpi; }
int sl__comm_local_rank(const sl_comm *c) { return c ? c->local_rank : 0; }
int sl_comm_progress_ok(const sl_comm *c) { return c == NULL || c->progress_ok; }
int sl_comm_failed_rank(const sl_comm *c) { return c ? c->failed_rank : -1; }
void sl_comm_set_trace(sl_comm *c, sl_trace *t) {
  if (c != NULL) c->trace = t;
}
sl_trace *sl__comm_trace(const sl_comm *c) { return c ? c->trace : NULL; }

sl_status sl_comm_agree(sl_comm *c, sl_status local, sl_error *err) {
  if (c != NULL) c->failed_rank = local == SL_OK ? -1 : c->rank;
  if (c == NULL || !c->mpi) return local;
#ifdef SL_HAVE_MPI
  int mine = local == SL_OK ? c->size : c->rank, root;
  MPI_Allreduce(&mine, &root, 1, MPI_INT, MPI_MIN, c->comm);
  c->failed_rank = root == c->size ? -1 : root;
  if (root == c->size) return SL_OK;
  sl_error e;
  if (c->rank == root) {
    e.code = local;
    if (err != NULL && err->code != SL_OK) e = *err;
    else snprintf(e.message, sizeof e.message, "rank %d failed: %s", root, sl_strerror(local));
  }
  MPI_Bcast(&e, (int)sizeof e, MPI_BYTE, root, c->comm);
  if (err != NULL) *err = e;
  return e.code;
#else
  (void)err;
  return local;
#endif
}

void sl__comm_gather(sl_comm *c, const void *send, size_t n, void *recv) {
  if (c == NULL || !c->mpi) {
    memcpy(recv, send, n);
    return;
  }
#ifdef SL_HAVE_MPI
  MPI_Gather(send, (int)n, MPI_BYTE, recv, (int)n, MPI_BYTE, 0, c->comm);
#endif
}

void sl__comm_bcast(sl_comm *c, void *buf, size_t n) {
  if (c == NULL || !c->mpi) return;
#ifdef SL_HAVE_MPI
  for (size_t done = 0; done < n;) { /* counts are int: send in pieces */
    int part = (int)SL_MIN(n - done, (size_t)1 << 30);
    MPI_Bcast((char *)buf + done, part, MPI_BYTE, 0, c->comm);
    done += (size_t)part;
  }
#else
  (void)buf, (void)n;
#endif
}

void sl__comm_gatherv(sl_comm *c, const void *send, int n, void *recv, const int *counts,
                      const int *displs) {
  if (c == NULL || !c->mpi) {
    memcpy(recv, send, (size_t)n);
    return;
  }
#ifdef SL_HAVE_MPI
  MPI_Gatherv(send, n, MPI_BYTE, recv, counts, displs, MPI_BYTE, 0, c->comm);
#else
  (void)counts, (void)displs;
#endif
}

/* ------------------------------------------------------------ progress */

/* Point-to-point on the duplicate communicator, from the progress threads
   while the main threads read: never a collective inside the read. */
void sl__comm_progress_send(sl_comm *c, const int64_t msg[2]) {
#ifdef SL_HAVE_MPI
  if (c->progress != MPI_COMM_NULL)
    MPI_Send(msg, 2, MPI_INT64_T, 0, SL_PROGRESS_TAG, c->progress);
#else
  (void)c, (void)msg;
#endif
}

bool sl__comm_progress_recv(sl_comm *c, bool wait, int *src, int64_t msg[2]) {
#ifdef SL_HAVE_MPI
  MPI_Status s;
  int flag = 1;
  if (c->progress == MPI_COMM_NULL) return false;
  if (!wait) MPI_Iprobe(MPI_ANY_SOURCE, SL_PROGRESS_TAG, c->progress, &flag, &s);
  if (!flag) return false;
  MPI_Recv(msg, 2, MPI_INT64_T, wait ? MPI_ANY_SOURCE : s.MPI_SOURCE, SL_PROGRESS_TAG,
           c->progress, &s);
  *src = s.MPI_SOURCE;
  return true;
#else
  (void)c, (void)wait, (void)src, (void)msg;
  return false;
#endif
}

bool sl__comm_progress_remote(const sl_comm *c) {
#ifdef SL_HAVE_MPI
  return c != NULL && c->progress != MPI_COMM_NULL;
#else
  (void)c;
  return false;
#endif
}

sl_status sl_comm_gather(sl_comm *c, const void *send, size_t n, void *recv, sl_error *err) {
  sl_error_clear(err);
  if (n > (size_t)INT32_MAX) SL_FAIL(err, SL_EINVAL, "sl_comm_gather: %zu bytes is too many", n);
  sl__comm_gather(c, send, n, recv);
  return SL_OK;
}

sl_status sl_comm_bcast(sl_comm *c, void *buf, size_t n, sl_error *err) {
  sl_error_clear(err);
  sl__comm_bcast(c, buf, n);
  return SL_OK;
}
