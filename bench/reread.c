/* Benchmark: the read path alone. One process opens the dataset once and
 * reads all of it REPS times into a destination faulted in beforehand, so
 * neither process start nor the first touch of fresh memory (which on
 * these machines varies by seconds per GiB) is in the figure. Built against
 * the public API only: link it against a library from before a change and
 * one from after to compare their read paths (bench/README.md).
 *
 *     build/bench/reread DIR [THREADS [REPS]]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shardload.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(const sl_error *err) { /* the message names the file */
  fprintf(stderr, "reread: %s\n", err->message);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: reread DIR [THREADS [REPS]]\n");
    return 2;
  }
  int threads = argc > 2 ? atoi(argv[2]) : 0, reps = argc > 3 ? atoi(argv[3]) : 10;
  sl_error err;
  sl_dataset *ds;
  if (sl_dataset_open(NULL, argv[1], NULL, &ds, &err) != SL_OK) return fail(&err);
  int64_t shape[SL_MAX_DIMS];
  int nd = sl_dataset_shape(ds, shape);
  size_t bytes = sl_dtype_size(sl_dataset_dtype(ds));
  for (int i = 0; i < nd; i++) bytes *= (size_t)shape[i];
  char *dst = malloc(bytes ? bytes : 1);
  if (dst == NULL) {
    fprintf(stderr, "reread: out of memory for %zu bytes\n", bytes);
    return 1;
  }
  memset(dst, 1, bytes);
  sl_read_options o;
  sl_read_options_init(&o);
  o.threads = threads;
  double first = 0, best = 1e30, sum = 0;
  for (int r = 0; r < reps; r++) {
    double t = now();
    if (sl_dataset_read_rows(ds, 0, shape[0], dst, &o, NULL, &err) != SL_OK)
      return fail(&err);
    t = now() - t;
    if (r == 0) first = t;
    else sum += t, best = t < best ? t : best;
  }
  printf("%s: %zu bytes, first %.4f s", argv[1], bytes, first);
  if (reps > 1) printf(", then best %.4f s, mean %.4f s", best, sum / (reps - 1));
  printf("\n");
  free(dst);
  sl_dataset_free(ds);
  return 0;
}
