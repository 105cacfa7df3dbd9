/* JSON for inspect: drivers describe a shard as one JSON object (the
 * inspect slot of shardload_driver.h), built with cJSON and handed over as
 * text. cJSON allocates with malloc, which is also what the slot's
 * contract asks for (the library frees the text with free()); its
 * allocations therefore escape the fault injection of alloc.c, and a
 * failure to print is what reports running out of memory. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "base.h"

sl_status sl__json_text(cJSON *o, const char *path, char **json, sl_error *err) {
  /* file names are bytes, JSON is UTF-8 (cJSON does not check) */
  *json = o != NULL ? sl__utf8_valid(cJSON_PrintUnformatted(o)) : NULL;
  cJSON_Delete(o);
  if (*json == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory describing the shard", path);
  return SL_OK;
}

cJSON *sl__json_strn(const char *s, size_t n) {
  char *t = sl__malloc(n + 1);
  if (t == NULL) return NULL;
  memcpy(t, s, n);
  t[n] = '\0';
  cJSON *j = cJSON_CreateString(t);
  sl__free(t);
  return j;
}

void sl__json_add_strn(cJSON *o, const char *key, const char *s, size_t n) {
  cJSON *j = sl__json_strn(s, n);
  if (j != NULL && !cJSON_AddItemToObject(o, key, j)) cJSON_Delete(j);
}

void sl__json_push(cJSON *array, const char *s) {
  cJSON *j = cJSON_CreateString(s);
  if (j != NULL && !cJSON_AddItemToArray(array, j)) cJSON_Delete(j);
}

void sl__json_push_unique(cJSON *array, const char *s) {
  const cJSON *e;
  cJSON_ArrayForEach(e, array) if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0) return;
  sl__json_push(array, s);
}

void sl__json_dims(cJSON *o, const char *key, const int64_t *v, int n) {
  cJSON *a = cJSON_AddArrayToObject(o, key);
  for (int i = 0; a != NULL && i < n; i++) {
    cJSON *x = cJSON_CreateNumber((double)v[i]);
    if (x != NULL && !cJSON_AddItemToArray(a, x)) cJSON_Delete(x);
  }
}

void sl__json_nulls(cJSON *col, int64_t count) {
  if (count < 0) {
    cJSON_AddNullToObject(col, "nulls");
    return;
  }
  cJSON_AddBoolToObject(col, "nulls", count > 0);
  cJSON_AddNumberToObject(col, "null_count", (double)count);
}

void sl__json_units(cJSON *o, const char *key, int64_t count, int64_t min_rows,
                    int64_t max_rows) {
  cJSON *u = cJSON_AddObjectToObject(o, key);
  if (u == NULL) return;
  cJSON_AddNumberToObject(u, "count", (double)count);
  if (count == 0) return;
  cJSON_AddNumberToObject(u, "min_rows", (double)min_rows);
  cJSON_AddNumberToObject(u, "max_rows", (double)max_rows);
}

/* ------------------------------------------------- data behind a refusal */

/* Rows a window of sl__read_refusal may take: enough for a row group or a
   record batch of usual size at a time, never a large allocation. */
#define SL_REFUSAL_WINDOW (8 << 20)

sl_status sl__read_refusal(const sl_driver *drv, const sl_shard *s, const void *h,
                           const sl_source *src, int64_t lo, int64_t hi, int64_t row_bytes,
                           sl_error *err) {
  if (lo >= hi || row_bytes <= 0) return SL_OK;
  int64_t win = SL_MAX(1, SL_REFUSAL_WINDOW / row_bytes);
  size_t cap = (size_t)(SL_MIN(win, hi - lo) * row_bytes);
  void *buf = sl__malloc(cap);
  if (buf == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", s->path);
  sl_status st = SL_OK;
  for (int64_t r = lo; r < hi && st == SL_OK; r += win)
    st = drv->read(s, h, src, r, SL_MIN(hi, r + win), buf, err);
  sl__free(buf);
  return st;
}
