/* shardload inspect: discovery only. What `read` would load (shape, dtype),
 * the shards, and per shard what its driver says of it. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_inspect(sl_comm *comm, args *a) {
  sl_dataset *d;
  sl_error err = {0};
  int rc = open_dataset(comm, a, &d);
  if (rc != 0) return rc;
  size_t n = sl_dataset_num_shards(d);
  char cols[2048] = ""; /* the first shard's columns, types and units (table formats) */
  if (n > 0 && sl_dataset_describe(d, 0, cols, sizeof cols, &err) != SL_OK) {
    sl_dataset_free(d);
    return data_error(&err);
  }
  if (a->json) {
    cJSON *j = cJSON_CreateObject(), *shards = cJSON_CreateArray();
    print_dataset_json(d, a->path, j);
    if (cols[0]) cJSON_AddStringToObject(j, "columns", cols);
    for (size_t i = 0; i < n; i++) {
      int64_t rows;
      const char *member;
      cJSON *s = cJSON_CreateObject();
      cJSON_AddStringToObject(s, "path", sl_dataset_shard(d, i, &rows, &member));
      if (member) cJSON_AddStringToObject(s, "member", member);
      cJSON_AddNumberToObject(s, "rows", (double)rows);
      cJSON_AddItemToArray(shards, s);
    }
    cJSON_AddItemToObject(j, "shards", shards);
    print_json(j);
    cJSON_Delete(j);
  } else {
    char line[1024];
    describe(d, a->path, line, sizeof line);
    say(stdout, "%s\n", line);
    if (cols[0]) say(stdout, "  columns: %s\n", cols);
    for (size_t i = 0; i < n; i++) {
      int64_t rows;
      const char *member;
      const char *p = sl_dataset_shard(d, i, &rows, &member);
      say(stdout, "  [%zu] %s%s%s  %lld rows\n", i, p, member ? ":" : "", member ? member : "",
          (long long)rows);
    }
  }
  sl_dataset_free(d);
  return 0;
}

