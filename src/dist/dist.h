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

#endif
