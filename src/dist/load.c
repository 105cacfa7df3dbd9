/* The collectives of the library, over the process group of dist.c:
 * opening a dataset (rank 0 discovers and broadcasts), loading it (each
 * rank its tile, through its executor), writing it out as one .npy, and
 * verifying it. Every one makes the same calls on every rank and ends in
 * agreement, so every rank returns the same status and message. No MPI
 * here: only sl_comm_agree, sl__comm_bcast and sl__comm_gather. */
#include <stdio.h>
#include <string.h>

#include "dist.h"

/* ------------------------------------------------------------- datasets */

/* Discovery alone, as the "discover" phase of the comm's trace. */
static sl_status discover(sl_comm *comm, const char *const *paths, size_t npaths,
                          const sl_open_options *o, sl_dataset **out, sl_error *err) {
  int64_t t0 = sl__now_ns();
  sl_status st = sl__discover_paths(paths, npaths, o, out, err);
  sl__trace_phase(sl__comm_trace(comm), "discover", t0);
  return st;
}

/* Rank 0 alone reads paths (the others' are only named in messages); the
   packed dataset carries every file's path to them. */
sl_status sl_dataset_open_paths(sl_comm *comm, const char *const *paths, size_t npaths,
                                const sl_open_options *o, sl_dataset **out, sl_error *err) {
  sl_error_clear(err);
  *out = NULL;
  if (!sl_comm_is_mpi(comm)) return discover(comm, paths, npaths, o, out, err);
  const char *path = npaths > 0 && paths != NULL && paths[0] != NULL ? paths[0] : "dataset";
  sl_dataset *d = NULL;
  char *buf = NULL;
  size_t n = 0;
  sl_status st = SL_OK;
  bool root = sl_comm_rank(comm) == 0;
  if (root) {
    st = discover(comm, paths, npaths, o, &d, err);
    if (st == SL_OK) st = sl__dataset_pack(d, &buf, &n, err);
  }
  int64_t t0 = sl__now_ns();
  st = sl_comm_agree(comm, st, err);
  int64_t len = (int64_t)n;
  if (st == SL_OK) {
    sl__comm_bcast(comm, &len, sizeof len);
    if (!root && (buf = sl__malloc((size_t)len)) == NULL)
      st = sl__fail(err, SL_ENOMEM, "%s: out of memory for the dataset description", path);
    st = sl_comm_agree(comm, st, err);
  }
  if (st == SL_OK) { /* every rank now has a buffer of len bytes */
    sl__comm_bcast(comm, buf, (size_t)len);
    if (!root) st = sl__dataset_unpack(buf, (size_t)len, &d, err);
    st = sl_comm_agree(comm, st, err);
  }
  sl__free(buf);
  sl__trace_phase(sl__comm_trace(comm), "broadcast", t0);
  if (st != SL_OK) {
    sl_dataset_free(d);
    return st;
  }
  *out = d;
  return SL_OK;
}

sl_status sl_dataset_open(sl_comm *comm, const char *path, const sl_open_options *o,
                          sl_dataset **out, sl_error *err) {
  return sl_dataset_open_paths(comm, &path, 1, o, out, err);
}

/* ---------------------------------------------------------------- load */

/* This rank's part: the tile from the executor, then the read into it,
   counted in counts as it goes. */
static sl_status load_local(sl_comm *comm, const sl_dataset *d, const sl_read_options *o,
                            const int64_t *bounds, sl_array **a, sl_read_stats *stats,
                            sl_counts *counts, sl_error *err) {
  const sl_executor *ex;
  int threads, r = sl_comm_rank(comm);
  sl_read_stats dev;
  sl_read_stats_init(&dev);
  SL_TRY(sl__choose_executor_for(o->variant, o->threads, SL_MEMORY_HOST, true, r, &ex, &threads,
                                 dev.note, sizeof dev.note, err));
  sl_read_options ro = *o;
  if (ex->bind != NULL) /* the device of this rank's tile */
    SL_TRY(ex->bind(o->device, sl__comm_local_rank(comm), r, o->gds, &dev, &ro.device, err));
  double t0 = sl__now();
  int64_t n0 = sl__now_ns();
  sl__cache_begin(d->cache); /* descriptors kept from earlier reads are checked again */
  size_t shift = o->io == SL_IO_BUFFERED ? 0 : sl__tile_shift(d, bounds[r], bounds[r + 1]);
  SL_TRY(sl__array_new(d, sl_comm_size(comm), r, bounds, ex, shift, ro.device, a, err));
  double t1 = sl__now();
  sl__trace_phase(o->trace, "allocate", n0);
  int64_t n1 = sl__now_ns(); /* after the span ends: phases of a thread never overlap */
  sl_status st = sl__read(d, bounds[r], bounds[r + 1], ex, threads, (*a)->tile.data, &ro,
                          stats, counts, err);
  sl__trace_phase(o->trace, "read", n1);
  sl__stats_device(stats, &dev);
  stats->alloc_seconds = t1 - t0;
  return st;
}

sl_status sl_load(sl_comm *comm, const sl_dataset *d, const sl_read_options *opts,
                  sl_array **out, sl_read_stats *stats, sl_error *err) {
  sl_error_clear(err);
  *out = NULL;
  sl_read_options o;
  sl_read_stats full;
  sl_read_stats_init(&full);
  sl_status st = sl__read_options(opts, &o, err);
  if (st == SL_OK) st = sl__stats_check(stats, err);
  int P = sl_comm_size(comm);
  int64_t *bounds = sl__malloc(((size_t)P + 1) * sizeof *bounds);
  if (st == SL_OK && bounds == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory for %d parts", d->root, P);
  sl_array *a = NULL;
  if (o.trace == NULL) o.trace = sl__comm_trace(comm);
  int64_t mine = 0;
  if (st == SL_OK) {
    sl__partition(d->shape[0], P, o.partition, o.min_rows, bounds);
    int r = sl_comm_rank(comm);
    mine = (bounds[r + 1] - bounds[r]) * d->row_bytes;
  }
  /* every rank, whatever happened so far: rank 0 may be waiting for it */
  sl_counts counts = {0};
  sl_progress_run *pr = sl__progress_start(comm, st == SL_OK ? &o : NULL, &counts.done, mine,
                                           sl_dataset_nbytes(d));
  if (st == SL_OK) st = load_local(comm, d, &o, bounds, &a, &full, &counts, err);
  /* rank 0's wait for every rank's last count is waiting for the slowest
     rank: part of the agreement's span */
  int64_t t0 = sl__now_ns();
  sl__progress_stop(pr);
  if (st == SL_OK) st = sl__stats_out(&full, stats, err);
  sl__free(bounds);
  st = sl_comm_agree(comm, st, err);
  sl__trace_phase(o.trace, "agree", t0);
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
static sl_status write_npy(sl_comm *comm, const sl_array *a, const char *path,
                          sl_error *err) {
  char hdr[1024], tmpname[4096] = {0};
  size_t hl = 0;
  int fd0 = -1;
  char *tmp = NULL;
  bool root = sl_comm_rank(comm) == 0;
  int64_t size = 0;
  sl_status st = sl__npy_header(a->dtype, a->ndim, a->shape, hdr, sizeof hdr, &hl, err);
  if (st == SL_OK && !sl__mul(a->shape[0], a->row_bytes, &size))
    st = sl__fail(err, SL_EINVAL, "%s: the array is too large for one file", path);
  if (st == SL_OK && root) st = sl__check_output_path(path, err);
  if (st == SL_OK && root) {
    st = sl__create_temp(path, &fd0, &tmp, err);
    if (st == SL_OK && strlen(tmp) >= sizeof tmpname)
      st = sl__fail(err, SL_EINVAL, "%s: path too long", path);
    if (st == SL_OK) {
      strcpy(tmpname, tmp);
      st = sl__pwrite_full(fd0, path, hdr, hl, 0, err);
    }
    if (st == SL_OK) st = sl__truncate(fd0, path, (int64_t)hl + size, err);
  }
  st = sl_comm_agree(comm, st, err);
  if (st == SL_OK) {
    sl__comm_bcast(comm, tmpname, sizeof tmpname);
    int fd = fd0;
    /* every rank knows the name, so whichever survives a signal removes it */
    if (!root) sl__temp_register(tmpname);
    if (!root && (st = sl__open_write(tmpname, &fd, err)) != SL_OK)
      sl__error_rename(err, tmpname, path);
    if (st == SL_OK) st = sl__array_pwrite_local(a, fd, path, (int64_t)hl, err);
    if (!root && fd >= 0) sl__close(fd);
    st = sl_comm_agree(comm, st, err);
  }
  if (root && tmp != NULL) {
    if (st == SL_OK) st = sl__commit_temp(fd0, tmp, path, true, err);
    else sl__abort_temp(fd0, tmp);
  }
  st = sl_comm_agree(comm, st, err);
  /* only now: a rank 0 killed in its fsync or rename leaves the name with
     the others, whose signal handlers remove the temporary file */
  if (!root && tmpname[0] != '\0') sl__temp_forget(tmpname);
  return st;
}

sl_status sl_array_write_npy(sl_comm *comm, const sl_array *a, const char *path,
                             sl_error *err) {
  sl_error_clear(err);
  int64_t t0 = sl__now_ns();
  sl_status st = write_npy(comm, a, path, err);
  sl__trace_phase(sl__comm_trace(comm), "output", t0);
  return st;
}

/* ------------------------------------------------------------ verification */

sl_status sl_array_verify_pattern(sl_comm *comm, const sl_array *a, uint64_t seed,
                                  sl_error *err) {
  sl_error_clear(err);
  int64_t t0 = sl__now_ns();
  sl_status st = sl_comm_agree(comm, sl__verify_local(a, seed, err), err);
  sl__trace_phase(sl__comm_trace(comm), "verify", t0);
  return st;
}

sl_status sl_array_verify_reread(sl_comm *comm, const sl_array *a, const sl_dataset *d,
                                 sl_error *err) {
  sl_error_clear(err);
  int64_t t0 = sl__now_ns();
  sl_status st = sl_comm_agree(comm, sl__reread_local(a, d, err), err);
  sl__trace_phase(sl__comm_trace(comm), "verify", t0);
  return st;
}
