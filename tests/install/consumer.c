/* A program built against an installed shardload, as a user would. */
#include <shardload.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (sl_version_number() != SL_VERSION_NUMBER) return 1;
  sl_dataset *d;
  sl_error err;
  if (argc > 1 && sl_dataset_open(NULL, argv[1], NULL, &d, &err) != SL_OK) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  if (argc > 1) {
    printf("%zu shards\n", sl_dataset_num_shards(d));
    sl_dataset_free(d);
  }
  return 0;
}
