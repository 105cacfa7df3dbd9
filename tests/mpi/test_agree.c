/* One rank fails, every rank returns the same error and nobody hangs (CTest's
   timeout catches a hang). Run under mpiexec at 1-4 ranks with a fixture
   dataset: the last rank's reads fail with EIO. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static int check_same(sl_comm *c, const sl_error *e, const char *what) {
  int P = sl_comm_size(c);
  sl_error *all = calloc((size_t)P, sizeof *all);
  sl_error err = {0};
  if (sl_comm_gather(c, e, sizeof *e, all, &err) != SL_OK) return 1;
  int bad = 0;
  for (int r = 0; sl_comm_rank(c) == 0 && r < P; r++)
    if (all[r].code != all[0].code || strcmp(all[r].message, all[0].message) != 0 ||
        all[r].code == SL_OK) {
      fprintf(stderr, "%s: rank %d has '%s', rank 0 has '%s'\n", what, r, all[r].message,
              all[0].message);
      bad = 1;
    }
  if (sl_comm_rank(c) == 0 && !bad) printf("%s: all %d ranks: %s\n", what, P, all[0].message);
  free(all);
  return bad;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  sl_comm *c;
  sl_error err = {0};
  if (sl_comm_init(SL_LAUNCH_MPI, &argc, &argv, &c, &err) != SL_OK) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  int rank = sl_comm_rank(c), P = sl_comm_size(c), bad = 0;

  /* discovery fails on rank 0 only (only it looks): all get its error */
  sl_dataset *d = NULL;
  sl_status st = sl_dataset_open(c, "/nonexistent/shardload/dir", NULL, &d, &err);
  bad |= st != SL_ENOENT || check_same(c, &err, "open");

  /* several inputs: only rank 0's list is read, every rank gets its files */
  char one[4096];
  snprintf(one, sizeof one, "%s/shard_0003.npy", argv[1]);
  const char *mine[] = {argv[1], one}, *bogus[] = {"/nonexistent/a", "/nonexistent/b"};
  st = sl_dataset_open_paths(c, rank == 0 ? mine : bogus, 2, NULL, &d, &err);
  size_t n = st == SL_OK ? sl_dataset_num_shards(d) : 0;
  const char *last = n > 0 ? sl_dataset_shard(d, n - 1, NULL, NULL) : NULL;
  if (st != SL_OK || last == NULL || strcmp(last, one) != 0) {
    fprintf(stderr, "rank %d: open_paths: %s (last shard %s)\n", rank, err.message,
            last ? last : "none");
    bad = 1;
  }
  sl_dataset_free(d);

  sl_error_clear(&err);
  if (sl_dataset_open(c, argv[1], NULL, &d, &err) != SL_OK) {
    fprintf(stderr, "rank %d: %s\n", rank, err.message);
    return 1;
  }
  if (rank == P - 1) sl__io_fail_at(1, true, false);
  sl_read_options o;
  sl_read_options_init(&o);
  o.io = SL_IO_BUFFERED;
  sl_array *a = NULL;
  sl_error_clear(&err);
  st = sl_load(c, d, &o, &a, NULL, &err);
  bad |= st != SL_EIO || a != NULL || check_same(c, &err, "load");
  sl__io_fail_at(0, false, false);

  /* and the load works afterwards */
  sl_error_clear(&err);
  st = sl_load(c, d, &o, &a, NULL, &err);
  bad |= st != SL_OK;
  sl_array_free(a);
  sl_dataset_free(d);
  bad = sl_comm_agree(c, bad ? SL_EINVAL : SL_OK, &err) != SL_OK;
  sl_comm_free(c);
  return bad;
}
