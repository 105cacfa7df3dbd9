/* The distributed layer, and the only file that includes <mpi.h>.
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

#include "sl_internal.h"

#ifdef SL_HAVE_MPI
#include <mpi.h>
#endif

struct sl_comm {
  bool mpi;
  bool owns_init; /* we called MPI_Init, so we finalise */
  int rank, size;
#ifdef SL_HAVE_MPI
  MPI_Comm comm;
#endif
};

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
  return SL_OK;
}

#ifdef SL_HAVE_MPI
static sl_status mpi_start(sl_comm *c, int *argc, char ***argv, sl_error *err) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    if (MPI_Init(argc, argv) != MPI_SUCCESS) SL_FAIL(err, SL_EIO, "MPI_Init failed");
    c->owns_init = true;
  }
  c->mpi = true;
  c->comm = MPI_COMM_WORLD;
  MPI_Comm_rank(c->comm, &c->rank);
  MPI_Comm_size(c->comm, &c->size);
  return SL_OK;
}
#endif

sl_status sl_comm_init(sl_launch how, int *argc, char ***argv, sl_comm **out,
                       sl_error *err) {
  *out = NULL;
  sl_comm *c;
  SL_TRY(new_comm(&c, err));
  bool mpi = how == SL_LAUNCH_MPI || (how == SL_LAUNCH_AUTO && launched_by_mpi());
  sl_status st = SL_OK;
#ifdef SL_HAVE_MPI
  if (mpi) st = mpi_start(c, argc, argv, err);
#else
  (void)argc, (void)argv;
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
  *out = NULL;
#ifdef SL_HAVE_MPI
  if (mpi_comm == NULL) SL_FAIL(err, SL_EINVAL, "sl_comm_from_mpi: NULL communicator");
  sl_comm *c;
  SL_TRY(new_comm(&c, err));
  c->mpi = true;
  c->comm = *(const MPI_Comm *)mpi_comm;
  MPI_Comm_rank(c->comm, &c->rank);
  MPI_Comm_size(c->comm, &c->size);
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
  if (c->owns_init) {
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
  }
#endif
  sl__free(c);
}

int sl_comm_rank(const sl_comm *c) { return c ? c->rank : 0; }
int sl_comm_size(const sl_comm *c) { return c ? c->size : 1; }
int sl_comm_is_mpi(const sl_comm *c) { return c != NULL && c->mpi; }

sl_status sl_comm_agree(sl_comm *c, sl_status local, sl_error *err) {
  if (c == NULL || !c->mpi) return local;
#ifdef SL_HAVE_MPI
  int mine = local == SL_OK ? c->size : c->rank, root;
  MPI_Allreduce(&mine, &root, 1, MPI_INT, MPI_MIN, c->comm);
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

sl_status sl_comm_gather(sl_comm *c, const void *send, size_t n, void *recv, sl_error *err) {
  if (c == NULL || !c->mpi) {
    memcpy(recv, send, n);
    return SL_OK;
  }
#ifdef SL_HAVE_MPI
  if (n > (size_t)INT32_MAX) SL_FAIL(err, SL_EINVAL, "sl_comm_gather: %zu bytes is too many", n);
  MPI_Gather(send, (int)n, MPI_BYTE, recv, (int)n, MPI_BYTE, 0, c->comm);
#endif
  (void)err;
  return SL_OK;
}

sl_status sl_comm_bcast(sl_comm *c, void *buf, size_t n, sl_error *err) {
  if (c == NULL || !c->mpi) return SL_OK;
#ifdef SL_HAVE_MPI
  for (size_t done = 0; done < n;) { /* counts are int: send in pieces */
    int part = (int)SL_MIN(n - done, (size_t)1 << 30);
    MPI_Bcast((char *)buf + done, part, MPI_BYTE, 0, c->comm);
    done += (size_t)part;
  }
#else
  (void)buf, (void)n;
#endif
  (void)err;
  return SL_OK;
}

/* ------------------------------------------------------------- datasets */

sl_status sl_dataset_open(sl_comm *comm, const char *path, const sl_open_options *o,
                          sl_dataset **out, sl_error *err) {
  *out = NULL;
  if (!sl_comm_is_mpi(comm)) return sl__discover(path, o, out, err);
  sl_dataset *d = NULL;
  char *buf = NULL;
  size_t n = 0;
  sl_status st = SL_OK;
  if (comm->rank == 0) {
    st = sl__discover(path, o, &d, err);
    if (st == SL_OK) st = sl__dataset_pack(d, &buf, &n, err);
  }
  st = sl_comm_agree(comm, st, err);
  int64_t len = (int64_t)n;
  if (st == SL_OK) {
    sl_comm_bcast(comm, &len, sizeof len, err);
    if (comm->rank != 0 && (buf = sl__malloc((size_t)len)) == NULL)
      st = sl__fail(err, SL_ENOMEM, "%s: out of memory for the dataset description", path);
    st = sl_comm_agree(comm, st, err);
  }
  if (st == SL_OK) { /* every rank now has a buffer of len bytes */
    sl_comm_bcast(comm, buf, (size_t)len, err);
    if (comm->rank != 0) st = sl__dataset_unpack(buf, (size_t)len, &d, err);
    st = sl_comm_agree(comm, st, err);
  }
  sl__free(buf);
  if (st != SL_OK) {
    sl_dataset_free(d);
    return st;
  }
  *out = d;
  return SL_OK;
}

/* ---------------------------------------------------------------- load */

sl_status sl_load(sl_comm *comm, const sl_dataset *d, const sl_load_options *o,
                  sl_array **out, sl_read_stats *stats, sl_error *err) {
  *out = NULL;
  sl_load_options defaults;
  if (o == NULL) {
    sl_load_options_init(&defaults);
    o = &defaults;
  }
  sl_status st = sl__check_read_options(&o->read, err);
  if (st == SL_OK && (unsigned)o->partition > SL_PARTITION_TILED)
    st = sl__fail(err, SL_EINVAL, "sl_load_options.partition: %d is not a partition",
                  (int)o->partition);
  if (st == SL_OK && o->min_rows < 1)
    st = sl__fail(err, SL_EINVAL, "sl_load_options.min_rows: expected >= 1 but found %lld",
                  (long long)o->min_rows);
  int P = sl_comm_size(comm), r = sl_comm_rank(comm);
  int64_t *bounds = sl__malloc(((size_t)P + 1) * sizeof *bounds);
  if (st == SL_OK && bounds == NULL) st = sl__fail(err, SL_ENOMEM, "out of memory");
  sl_array *a = NULL;
  double t0 = sl__now(), t1 = t0;
  if (st == SL_OK) {
    sl__partition(d->shape[0], P, o->partition, o->min_rows, bounds);
    size_t shift = o->read.io == SL_IO_BUFFERED ? 0 : sl__tile_shift(d, bounds[r], bounds[r + 1]);
    st = sl__array_new(d, P, r, bounds, shift, &a, err);
    t1 = sl__now();
  }
  if (st == SL_OK)
    st = sl_dataset_read_rows(d, bounds[r], bounds[r + 1], a->data, &o->read, stats, err);
  if (stats != NULL) stats->alloc_seconds = t1 - t0;
  sl__free(bounds);
  st = sl_comm_agree(comm, st, err);
  if (st != SL_OK) {
    sl_array_free(a);
    return st;
  }
  *out = a;
  return SL_OK;
}

/* ------------------------------------------------------------ npy output */

/* Rank 0 creates the temporary file, writes the header and sizes it; every
   rank writes its rows; rank 0 renames it into place. */
sl_status sl_array_write_npy(sl_comm *comm, const sl_array *a, const char *path,
                             sl_error *err) {
  char hdr[1024], tmpname[4096] = {0};
  size_t hl = 0;
  int fd0 = -1;
  char *tmp = NULL;
  bool root = sl_comm_rank(comm) == 0;
  sl_status st = sl__npy_header(a->dtype, a->ndim, a->shape, hdr, sizeof hdr, &hl, err);
  if (st == SL_OK && root) {
    st = sl__create_temp(path, &fd0, &tmp, err);
    if (st == SL_OK && strlen(tmp) >= sizeof tmpname)
      st = sl__fail(err, SL_EINVAL, "%s: path too long", path);
    if (st == SL_OK) {
      strcpy(tmpname, tmp);
      st = sl__pwrite_full(fd0, tmp, hdr, hl, 0, err);
    }
    if (st == SL_OK) st = sl__truncate(fd0, tmp, (int64_t)hl + a->shape[0] * a->row_bytes, err);
  }
  st = sl_comm_agree(comm, st, err);
  if (st == SL_OK) {
    sl_comm_bcast(comm, tmpname, sizeof tmpname, err);
    int fd = fd0;
    if (!root) st = sl__open_write(tmpname, &fd, err);
    if (st == SL_OK) st = sl__array_pwrite_local(a, fd, tmpname, (int64_t)hl, err);
    if (!root && fd >= 0) sl__close(fd);
    st = sl_comm_agree(comm, st, err);
  }
  if (root && tmp != NULL) {
    if (st == SL_OK) st = sl__commit_temp(fd0, tmp, path, err);
    else sl__abort_temp(fd0, tmp);
  }
  return sl_comm_agree(comm, st, err);
}

/* ------------------------------------------------------------ verification */

sl_status sl_array_verify_pattern(sl_comm *comm, const sl_array *a, uint64_t seed,
                                  sl_error *err) {
  return sl_comm_agree(comm, sl__verify_local(a, seed, err), err);
}

sl_status sl_array_verify_reread(sl_comm *comm, const sl_array *a, const sl_dataset *d,
                                 sl_error *err) {
  return sl_comm_agree(comm, sl__reread_local(a, d, err), err);
}
