/* The gpu variant's pipeline on the host copy engine under mpiexec (1-4
   ranks): a read error and a copy error injected mid-pipeline on the last
   rank each reach every rank as the same message naming the file, nobody
   hangs (CTest's timeout), and the load works afterwards. The dataset is
   written here: 6 shards of 9000 x 4 float32, read in 4 KiB chunks, so the
   failures land well inside the pipeline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stage.h"

static int check_same(sl_comm *c, const sl_error *e, const char *what, const char *needle) {
  int P = sl_comm_size(c);
  sl_error *all = calloc((size_t)P, sizeof *all);
  sl_error err = {0};
  if (sl_comm_gather(c, e, sizeof *e, all, &err) != SL_OK) return 1;
  int bad = 0;
  for (int r = 0; sl_comm_rank(c) == 0 && r < P; r++)
    if (all[r].code != SL_EIO || strcmp(all[r].message, all[0].message) != 0 ||
        strstr(all[r].message, "/shard_000") == NULL || strstr(all[r].message, needle) == NULL) {
      fprintf(stderr, "%s: rank %d has '%s', rank 0 has '%s'\n", what, r, all[r].message,
              all[0].message);
      bad = 1;
    }
  if (sl_comm_rank(c) == 0 && !bad) printf("%s: all %d ranks: %s\n", what, P, all[0].message);
  free(all);
  return bad;
}

static int write_dataset(sl_comm *c, const char *dir) {
  sl_error err = {0};
  int st = 0;
  if (sl_comm_rank(c) == 0) {
    for (int i = 0; i < 6 && st == 0; i++) {
      int64_t shape[2] = {9000, 4};
      float *b = malloc(9000 * 4 * sizeof *b);
      sl_pattern_fill(SL_FLOAT32, 5, (int64_t)i * 36000, 36000, b);
      char p[4200];
      snprintf(p, sizeof p, "%s/shard_%04d.npy", dir, i);
      if (sl_write_shard("npy", p, SL_FLOAT32, 2, shape, b, &err) != SL_OK) {
        fprintf(stderr, "%s\n", err.message);
        st = 1;
      }
      free(b);
    }
  }
  int64_t flag = st;
  sl_comm_bcast(c, &flag, sizeof flag, &err);
  return (int)flag;
}

static sl_status load(sl_comm *c, sl_dataset *d, sl_array **a, sl_error *err) {
  sl_read_options o;
  sl_read_options_init(&o);
  o.io = SL_IO_BUFFERED;
  o.variant = SL_VARIANT_GPU;
  o.chunk_bytes = 4096;
  o.threads = 2;
  sl_error_clear(err);
  return sl_load(c, d, &o, a, NULL, err);
}

int main(int argc, char **argv) {
  setenv("SHARDLOAD_TEST_COPY_ENGINE", "host:5", 1);
  sl_comm *c;
  sl_error err = {0};
  if (sl_comm_init(SL_LAUNCH_MPI, &argc, &argv, &c, &err) != SL_OK) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  int rank = sl_comm_rank(c), P = sl_comm_size(c), bad = 0;
  char dir[4096] = "";
  if (rank == 0) {
    snprintf(dir, sizeof dir, "%s/sl-stage-mpi-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL) dir[0] = '\0';
  }
  sl_comm_bcast(c, dir, sizeof dir, &err);
  if (dir[0] == '\0' || write_dataset(c, dir) != 0) return 1;
  sl_dataset *d = NULL;
  if (sl_dataset_open(c, dir, NULL, &d, &err) != SL_OK) {
    fprintf(stderr, "rank %d: %s\n", rank, err.message);
    return 1;
  }
  sl_array *a = NULL;

  /* a pread of the pipeline fails: past the open phase's header re-reads
     (at most 6), well before the last of the 50-odd chunks of each rank */
  if (rank == P - 1) sl__io_fail_at(20, false, false);
  sl_status st = load(c, d, &a, &err);
  bad |= st != SL_EIO || a != NULL || check_same(c, &err, "read error", ".npy");
  sl__io_fail_at(0, false, false);

  /* a copy fails when its slot is waited for */
  if (rank == P - 1) {
    setenv("SHARDLOAD_TEST_COPY_FAIL", "17", 1);
    sl__host_engine_reset();
  }
  st = load(c, d, &a, &err);
  bad |= st != SL_EIO || a != NULL || check_same(c, &err, "copy error", "injected failure of copy");
  unsetenv("SHARDLOAD_TEST_COPY_FAIL");

  /* and it loads right afterwards */
  st = load(c, d, &a, &err);
  if (st != SL_OK) {
    fprintf(stderr, "rank %d: %s\n", rank, err.message);
    bad = 1;
  } else {
    bad |= sl_array_verify_pattern(c, a, 5, &err) != SL_OK;
    sl_array_free(a);
  }
  int64_t now, peak;
  sl__host_engine_pinned(&now, &peak);
  if (now != 0) {
    fprintf(stderr, "rank %d: %lld pinned bytes left\n", rank, (long long)now);
    bad = 1;
  }
  sl_dataset_free(d);
  if (rank == 0) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) bad = 1;
  }
  sl_comm_free(c);
  if (rank == 0) printf("%s\n", bad ? "FAIL" : "ok");
  return bad;
}
