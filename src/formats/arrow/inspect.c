/* For `shardload inspect`: what an Arrow IPC shard loads and why, from the
 * metadata the driver parsed at open (the schema, every record batch's
 * header): the selected columns (Arrow type, dtype, nulls counted by the
 * batches' FieldNodes), the fields left out and why, the record batches
 * and their body compression, and the read path (extents for one
 * uncompressed column without nulls, our decoder for the rest).
 *
 * A FieldNode counting nulls in a selected column, without option
 * fill_nulls, means a read fails: that batch is decoded here so that
 * inspect refuses the shard with the read's own message. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "ipc.h"

extern const sl_driver sl__arrow_driver;

static const char *codec_name(int codec) {
  return codec == ARROW_CODEC_LZ4_FRAME ? "LZ4_FRAME" : codec == ARROW_CODEC_ZSTD ? "ZSTD" : NULL;
}

/* -1 if the counts overflow (each is at most its batch's values). */
static int64_t col_nulls(const arrow_file *f, size_t k) {
  int64_t n = 0;
  for (size_t i = 0; i < f->nbatches; i++) {
    const arrow_part *p = &f->batches[i].parts[k];
    if (!sl__add(n, p->nulls, &n) || !sl__add(n, p->child_nulls, &n)) return -1;
  }
  return n;
}

static void columns(const arrow_file *f, cJSON *o) {
  cJSON *list = cJSON_AddArrayToObject(o, "columns");
  for (size_t k = 0; list != NULL && k < f->ncols; k++) {
    const arrow_col *c = &f->cols[k];
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", c->name);
    cJSON_AddStringToObject(e, "stored", c->type);
    cJSON_AddStringToObject(e, "dtype", sl_dtype_str(c->dtype));
    if (c->fsl) cJSON_AddNumberToObject(e, "list_size", (double)c->width);
    sl__json_nulls(e, col_nulls(f, k));
    cJSON_AddItemToArray(list, e);
  }
  list = cJSON_AddArrayToObject(o, "skipped");
  for (size_t i = 0; list != NULL && i < f->nskipped; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", f->skipped[i].name);
    cJSON_AddStringToObject(e, "why", f->skipped[i].why);
    cJSON_AddItemToArray(list, e);
  }
}

static void batches(const arrow_file *f, cJSON *o) {
  int64_t lo = 0, hi = 0;
  cJSON *codecs = cJSON_AddArrayToObject(o, "codecs");
  for (size_t i = 0; i < f->nbatches; i++) {
    int64_t n = f->batches[i].rows;
    lo = i == 0 || n < lo ? n : lo;
    hi = n > hi ? n : hi;
    const char *c = codec_name(f->batches[i].codec);
    if (c != NULL) sl__json_push_unique(codecs, c);
  }
  sl__json_units(o, "batches", (int64_t)f->nbatches, lo, hi);
}

/* Why the rows are decoded rather than read in place. */
static const char *why_decoded(const arrow_file *f) {
  for (size_t i = 0; i < f->nbatches; i++)
    if (f->batches[i].codec != ARROW_CODEC_NONE && f->batches[i].rows > 0)
      return "compressed record batches, decompressed whole by shardload";
  if (f->ncols > 1) return "several columns, interleaved into rows by shardload";
  if (f->cols[0].bits) return "booleans stored as bits, unpacked by shardload";
  if (f->cast) return "converted by option dtype while read";
  return "nulls, filled by shardload with option fill_nulls";
}

static void read_path(const arrow_file *f, cJSON *o) {
  size_t count;
  bool direct = f->ncols > 0 && sl__arrow_plain_rows(f, 0, f->rows, &count);
  cJSON_AddStringToObject(o, "read_path", direct ? "direct" : "decoded");
  cJSON_AddStringToObject(o, "read_note", direct ? "one uncompressed column without nulls: "
                          "one byte range per record batch, straight into place"
                          : why_decoded(f));
}

/* The first batch whose FieldNodes count nulls in a selected column,
   decoded as a read decodes it: its error is the read's. */
static sl_status refuse_nulls(const sl_shard *s, const arrow_file *f, const sl_source *src,
                              sl_error *err) {
  int64_t row_bytes;
  if ((f->opts != NULL && f->opts->fill_nulls != NULL) ||
      !sl__mul(f->width, (int64_t)sl_dtype_size(f->dtype), &row_bytes))
    return SL_OK; /* a row too large for memory fails the read first anyway */
  for (size_t i = 0; i < f->nbatches; i++) {
    const arrow_batch *b = &f->batches[i];
    for (size_t k = 0; k < f->ncols; k++)
      if (b->parts[k].nulls > 0 || b->parts[k].child_nulls > 0)
        return sl__read_refusal(&sl__arrow_driver, s, f, src, b->row0, b->row0 + b->rows,
                                row_bytes, err);
  }
  return SL_OK;
}

sl_status sl__arrow_inspect(const sl_shard *s, const void *handle, const sl_source *src,
                            char **json, sl_error *err) {
  const arrow_file *f = handle;
  SL_TRY(refuse_nulls(s, f, src, err));
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", s->path);
  read_path(f, o);
  batches(f, o);
  columns(f, o);
  cJSON_AddStringToObject(o, "ipc_format", f->stream ? "stream" : "file");
  return sl__json_text(o, s->path, json, err);
}
