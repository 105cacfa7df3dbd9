/* sl_dataset_inspect: one shard's account, for `shardload inspect`. The
 * shard is opened exactly as a read opens it (sl__leaf_open_shard: file
 * identity checked, header parsed again and held against discovery), so
 * what a read refuses at that point is refused here with the same message.
 * The driver's inspect slot then says what it knows as a JSON object; the
 * library puts where the shard is in front of it, and for a driver without
 * the slot says only which read path the shard takes (from extents). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* A driver without the slot: extents answering for the whole shard means
   the rows are read in place; anything else goes through its read. */
static sl_status generic(const sl_dataset *d, const sl_shard *s, const void *h, cJSON *o,
                         sl_error *err) {
  size_t n = 0;
  sl_extent one;
  if (d->driver->extents != NULL) {
    n = 1;
    SL_TRY(d->driver->extents(s, h, 0, s->rows, &one, &n, err));
  }
  cJSON_AddStringToObject(o, "read_path", n > 0 ? "direct" : "decoded");
  return SL_OK;
}

/* The driver's object, its keys moved into o after the library's own. */
static sl_status merge(const sl_dataset *d, const sl_shard *s, char *text, cJSON *o,
                       sl_error *err) {
  cJSON *j = text != NULL ? cJSON_Parse(text) : NULL;
  sl__free(text); /* malloc'd, as the slot promises: sl__free is free */
  char label[512];
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    SL_FAIL(err, SL_EFORMAT, "%s: driver %s described the shard with something other than "
            "a JSON object", sl__shard_label(s, label, sizeof label), d->driver->name);
  }
  while (j->child != NULL) {
    cJSON *c = cJSON_DetachItemViaPointer(j, j->child);
    if (c->string == NULL || cJSON_GetObjectItemCaseSensitive(o, c->string) != NULL ||
        !cJSON_AddItemToObject(o, c->string, c))
      cJSON_Delete(c); /* the library's keys win */
  }
  cJSON_Delete(j);
  return SL_OK;
}

static sl_status from_driver(const sl_dataset *d, size_t i, const void *h, cJSON *o,
                             sl_error *err) {
  const sl_shard *s = &d->shards[i];
  if (d->driver->inspect == NULL) return generic(d, s, h, o, err);
  sl_file_ref f;
  SL_TRY(sl__cache_get(d->cache, d->file_of[i], false, NULL, &f, err));
  char *text = NULL;
  sl_status st = d->driver->inspect(s, h, &f.src, &text, err);
  sl__cache_put(d->cache, &f);
  if (st != SL_OK) {
    sl__free(text);
    return st;
  }
  return merge(d, s, text, o, err);
}

static cJSON *shard_object(const sl_shard *s) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return NULL;
  cJSON_AddStringToObject(o, "path", s->path);
  if (s->member != NULL) cJSON_AddStringToObject(o, "member", s->member);
  cJSON_AddNumberToObject(o, "rows", (double)s->rows);
  return o;
}

sl_status sl_dataset_inspect(const sl_dataset *d, size_t i, char **json, sl_error *err) {
  sl_error_clear(err);
  if (json == NULL) SL_FAIL(err, SL_EINVAL, "sl_dataset_inspect: json is NULL");
  *json = NULL;
  if (d == NULL || i >= d->nshards)
    SL_FAIL(err, SL_EINVAL, "sl_dataset_inspect: expected a shard below %zu but found %zu",
            d ? d->nshards : 0, i);
  void *h;
  SL_TRY(sl__leaf_open_shard(d, i, NULL, &h, err));
  cJSON *o = shard_object(&d->shards[i]);
  sl_status st = o != NULL ? from_driver(d, i, h, o, err)
                           : sl__fail(err, SL_ENOMEM, "%s: out of memory", d->shards[i].path);
  sl__leaf_close_shard(d, h);
  if (st != SL_OK) {
    cJSON_Delete(o);
    return st;
  }
  return sl__json_text(o, d->shards[i].path, json, err);
}

void sl_free(void *p) { sl__free(p); }
