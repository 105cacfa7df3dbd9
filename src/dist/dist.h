/* src/dist: the process group (dist.c, the only file that calls MPI) and
 * the collectives built on it (load.c). Internal (sl__ prefix). */
#ifndef SL_DIST_H
#define SL_DIST_H

#include "core.h"

/* Without clearing or touching an error report: for use inside other
   collectives. Same calls on every rank. */
void sl__comm_bcast(sl_comm *c, void *buf, size_t n);
bool sl__have_mpi(void);
/* This rank's index among the ranks of its node (MPI_COMM_TYPE_SHARED);
   0 without MPI. */
int sl__comm_local_rank(const sl_comm *c);
void sl__comm_gather(sl_comm *c, const void *send, size_t n, void *recv);
/* MPI_Gatherv of bytes to rank 0 (counts, displs: rank 0's, P each). */
void sl__comm_gatherv(sl_comm *c, const void *send, int n, void *recv, const int *counts,
                      const int *displs);
/* The trace the collectives on c record into (NULL: none). */
sl_trace *sl__comm_trace(const sl_comm *c);

/* Progress messages {bytes done, final} from the ranks' progress threads
   to rank 0's, point-to-point on a communicator of their own. remote:
   whether there is one (MPI, more than one rank, MPI_THREAD_MULTIPLE). */
bool sl__comm_progress_remote(const sl_comm *c);
void sl__comm_progress_send(sl_comm *c, const int64_t msg[2]);
/* Rank 0: the next message (wait) or one already there; @return false
   when none is. */
bool sl__comm_progress_recv(sl_comm *c, bool wait, int *src, int64_t msg[2]);

/* observe.c: sl_load's progress. start is collective when remote (rank
   0's callback and interval decide for every rank; o NULL: a rank whose
   options failed, still taking part); stop ends it (rank 0: once every
   rank has finished, with the final call). NULL: no progress. mine and
   all: the bytes of this rank's tile and of the whole array. */
typedef struct sl_progress_run sl_progress_run;
sl_progress_run *sl__progress_start(sl_comm *c, const sl_read_options *o,
                                    _Atomic int64_t *done, int64_t mine, int64_t all);
void sl__progress_stop(sl_progress_run *p);

#endif
