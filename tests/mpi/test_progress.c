/* sl_load's progress across ranks, through the public API. Run under
   mpiexec at 1-3 ranks with a dataset: argv[2] "progress" makes the group
   with SL_COMM_PROGRESS (every rank counted), "plain" without (rank 0's
   share). Checks, on rank 0: the callback runs there alone, bytes_done never
   goes down, the last call is the one final call, and it says every byte:
   the sum of every rank's bytes (gathered) with SL_COMM_PROGRESS, rank 0's
   own without; a second load starts afresh (no message of the first left
   over); rank 0 without a callback means none anywhere. And the failing
   rank that every rank's sl_comm_failed_rank names. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shardload.h"

typedef struct seen {
  int calls, finals;
  bool went_down, final_not_last;
  sl_progress last;
} seen;

static void on_progress(const sl_progress *p, void *user) {
  seen *s = user;
  if (s->calls > 0 && p->bytes_done < s->last.bytes_done) s->went_down = true;
  if (s->finals > 0) s->final_not_last = true;
  s->calls++;
  s->finals += p->final;
  s->last = *p;
}

static int fail(const char *what) {
  fprintf(stderr, "FAIL: %s\n", what);
  return 1;
}

/* One load with a callback on the ranks in `with` (a bit per rank). */
static int load_once(sl_comm *c, const sl_dataset *d, unsigned with, seen *s, int64_t *mine) {
  sl_read_options o;
  sl_read_options_init(&o);
  o.chunk_bytes = 4096; /* many pieces */
  o.progress_ms = 10;
  o.io = SL_IO_BUFFERED;
  if (with & (1u << sl_comm_rank(c))) {
    o.progress = on_progress;
    o.progress_user = s;
  }
  sl_array *a;
  sl_read_stats st;
  sl_read_stats_init(&st);
  sl_error err = {0};
  if (sl_load(c, d, &o, &a, &st, &err) != SL_OK) {
    fprintf(stderr, "rank %d: %s\n", sl_comm_rank(c), err.message);
    return 1;
  }
  *mine = st.bytes;
  sl_array_free(a);
  return 0;
}

static int check_rank0(sl_comm *c, const sl_dataset *d, const seen *s, const int64_t *bytes,
                       bool across) {
  int P = sl_comm_size(c);
  int64_t sum = 0;
  for (int r = 0; r < P; r++) sum += bytes[r];
  if (sum != sl_dataset_nbytes(d)) return fail("the ranks' bytes add up to the array's");
  if (s->calls < 1 || s->finals != 1 || s->final_not_last || !s->last.final)
    return fail("one final call, the last");
  if (s->went_down) return fail("bytes_done never goes down");
  if (s->last.struct_size != sizeof(sl_progress)) return fail("struct_size");
  if (s->last.ranks_total != P) return fail("ranks_total is the group's size");
  int64_t want = across ? sum : bytes[0];
  if (s->last.bytes_total != want || s->last.bytes_done != want) {
    fprintf(stderr, "final: %lld of %lld, expected %lld (%d of %d ranks)\n",
            (long long)s->last.bytes_done, (long long)s->last.bytes_total, (long long)want,
            s->last.ranks, P);
    return fail("rank 0's final total equals the sum of the ranks' bytes");
  }
  if (s->last.ranks != (across ? P : 1)) return fail("ranks counted");
  printf("progress: %d calls, final %lld of %lld bytes, %d of %d ranks\n", s->calls,
         (long long)s->last.bytes_done, (long long)s->last.bytes_total, s->last.ranks, P);
  return 0;
}

static int check_failed_rank(sl_comm *c) {
  int P = sl_comm_size(c);
  sl_error err = {0};
  sl_status st = sl_comm_agree(c, sl_comm_rank(c) >= P - 2 ? SL_EIO : SL_OK, &err);
  int want = P >= 2 ? P - 2 : 0, got = sl_comm_failed_rank(c);
  sl_status ok = sl_comm_agree(c, SL_OK, &err); /* every rank, whatever it found */
  if (st != SL_EIO || got != want) return fail("the lowest failing rank");
  return ok != SL_OK || sl_comm_failed_rank(c) != -1 ? fail("no failed rank after success") : 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  bool asked = strcmp(argv[2], "progress") == 0;
  sl_comm *c;
  sl_error err = {0};
  if (sl_comm_init_flags(SL_LAUNCH_AUTO, asked ? SL_COMM_PROGRESS : 0, &argc, &argv, &c,
                         &err) != SL_OK)
    return fail(err.message);
  int P = sl_comm_size(c), rank = sl_comm_rank(c), bad = 0;
  bool across = sl_comm_progress_ok(c);
  if (asked && !across && rank == 0)
    printf("SKIPPED (across ranks): MPI does not provide MPI_THREAD_MULTIPLE here\n");
  if (!asked && P > 1 && across) bad |= fail("MPI_THREAD_MULTIPLE without asking");
  sl_dataset *d;
  if (sl_dataset_open(c, argv[1], NULL, &d, &err) != SL_OK) return fail(err.message);
  int64_t *bytes = calloc((size_t)P, sizeof *bytes), mine = 0;
  for (int round = 0; round < 2; round++) { /* every rank the same calls, failed or not */
    seen s = {0};
    bad |= load_once(c, d, ~0u, &s, &mine);
    sl_comm_gather(c, &mine, sizeof mine, bytes, &err);
    if (rank == 0) bad |= check_rank0(c, d, &s, bytes, across);
    else if (s.calls != 0) bad |= fail("the callback runs on rank 0 only");
  }
  seen none = {0};
  bad |= load_once(c, d, ~0u & ~1u, &none, &mine); /* rank 0 without: nobody */
  if (none.calls != 0) bad |= fail("rank 0 without a callback: no calls anywhere");
  bad |= check_failed_rank(c);
  sl_status st = sl_comm_agree(c, bad ? SL_EINVAL : SL_OK, &err);
  if (rank == 0 && st == SL_OK) printf("ok: %d ranks\n", P);
  free(bytes);
  sl_dataset_free(d);
  sl_comm_free(c);
  return st == SL_OK ? 0 : 1;
}
