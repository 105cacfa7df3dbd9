/* For `shardload inspect`: one Zarr array as its metadata describes it
 * (format version, chunk shape and count, the codec chain with its
 * parameters as written, order, fill value, sharding) and the way the
 * driver reads it: uncompressed C-order chunks of whole rows go straight
 * into place with one pread each; every other chunk is decoded. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "zarr.h"

/* Chunk files whose sizes (and Blosc headers) inspect checks, at most: an
   open and a 16-byte read each, a second or so for the largest stores. */
#define ZARR_INSPECT_CHUNKS 100000

static bool whole_rows(const zarr_array *a, const zarr_pipe *p) {
  for (int k = 1; k < a->nd; k++)
    if (p->cs[k] != a->shape[k]) return false;
  return true;
}

static void read_path(const zarr_array *a, cJSON *o) {
  const zarr_pipe *p = &a->chunk;
  bool direct = !a->sharded && p->nbb == 0 && !p->permuted && whole_rows(a, p);
  cJSON_AddStringToObject(o, "read_path", direct ? "direct" : "decoded");
  const char *why = direct ? "uncompressed chunks of whole rows: one pread per chunk, "
                             "straight into place"
                    : a->sharded ? "inner chunks found by each shard's index, decoded by shardload"
                    : p->nbb > 0 ? "chunks decompressed by shardload"
                    : p->permuted ? "chunks stored transposed, put in C order by shardload"
                                  : "chunks that cut rows, assembled by shardload";
  char note[256];
  snprintf(note, sizeof note, "%s%s", why, p->swap || a->inner.swap ? ", then byte-swapped" : "");
  cJSON_AddStringToObject(o, "read_note", note);
}

static void codec_names(const zarr_pipe *p, cJSON *codecs) {
  for (int i = 0; i < p->nbb; i++) sl__json_push_unique(codecs, sl__zarr_codec_name(p->bb[i]));
}

/* A JSON text kept from the metadata, parsed back under key. */
static void add_raw(cJSON *o, const char *key, const char *text) {
  cJSON *v = text != NULL ? cJSON_Parse(text) : NULL;
  if (v != NULL && !cJSON_AddItemToObject(o, key, v)) cJSON_Delete(v);
}

static void chunk_count(const zarr_array *a, cJSON *o) {
  int64_t n = 1;
  for (int k = 0; k < a->nd; k++) {
    int64_t c = (a->shape[k] + a->chunk.cs[k] - 1) / a->chunk.cs[k]; /* cs >= 1 */
    if (!sl__mul(n, c, &n)) return;
  }
  cJSON_AddNumberToObject(o, "chunk_count", (double)n);
}

static void stored(const zarr_array *a, cJSON *o) {
  char t[8];
  snprintf(t, sizeof t, "%s", sl_dtype_str(a->dtype));
  if ((a->sharded ? a->inner.swap : a->chunk.swap) && t[0] == '<') t[0] = '>';
  cJSON_AddStringToObject(o, "stored", t);
}

sl_status sl__zarr_inspect(const sl_shard *s, const void *handle, const sl_source *src,
                           char **json, sl_error *err) {
  (void)src;
  const zarr_array *a = handle;
  int64_t checked;
  SL_TRY(sl__zarr_check_chunks(a, ZARR_INSPECT_CHUNKS, &checked, err));
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", s->path);
  read_path(a, o);
  stored(a, o);
  cJSON *codecs = cJSON_AddArrayToObject(o, "codecs");
  codec_names(&a->chunk, codecs);
  if (a->sharded) codec_names(&a->inner, codecs);
  cJSON_AddNumberToObject(o, "zarr_format", a->version);
  sl__json_dims(o, a->sharded ? "shard_chunks" : "chunks", a->chunk.cs, a->nd);
  if (a->sharded) sl__json_dims(o, "chunks", a->inner.cs, a->nd);
  chunk_count(a, o);
  cJSON_AddNumberToObject(o, "chunk_files_checked", (double)checked);
  if (a->version == 2) cJSON_AddStringToObject(o, "order", a->fortran ? "F" : "C");
  else if (a->chunk.permuted || a->inner.permuted) cJSON_AddStringToObject(o, "order", "transposed");
  add_raw(o, "codec_chain", a->codec_json);
  add_raw(o, "fill_value", a->fill_json);
  if (a->sharded)
    cJSON_AddStringToObject(o, "shard_index", a->index_end ? "at the end" : "at the start");
  return sl__json_text(o, s->path, json, err);
}
