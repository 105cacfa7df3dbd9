/* For `shardload inspect`: what a Parquet shard loads and why, from its
 * footer alone: the selected columns in order (stored type, dtype, unit,
 * repetition, codecs and encodings of their chunks, nulls from the
 * ColumnChunk statistics summed over row groups), the top-level fields
 * left out and why, the row groups, and the read path (always decoded).
 *
 * Where the statistics say a selected column holds nulls and option
 * fill_nulls gives no value for them, a read fails; the first row group
 * holding them is then decoded here, so that inspect refuses the shard with
 * the read's own message. Nothing else reads data. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "pq.h"

extern const sl_driver sl__parquet_driver;

static const char *repetition_name(int r) {
  return r == PQ_REQUIRED ? "REQUIRED" : r == PQ_OPTIONAL ? "OPTIONAL"
         : r == PQ_REPEATED ? "REPEATED" : "unknown";
}

/* ------------------------------------------------------------- columns */

/* Nulls of selected column c over every row group: none for a column
   without definition levels; -1 when a chunk has no statistics. */
static int64_t null_count(const pq_file *f, const pq_col *c) {
  if (c->max_def == 0) return 0;
  int64_t n = 0;
  for (size_t g = 0; g < f->meta.ngroups; g++) {
    int64_t k = f->meta.groups[g].cols[c->leaf].null_count;
    if (k < 0 || !sl__add(n, k, &n)) return -1;
  }
  return n;
}

static void chunk_names(const pq_file *f, size_t leaf, cJSON *codecs, cJSON *encodings) {
  for (size_t g = 0; g < f->meta.ngroups; g++) {
    const pq_chunk *k = &f->meta.groups[g].cols[leaf];
    sl__json_push_unique(codecs, pq_codec_name(k->codec));
    for (int e = 0; e < 32; e++)
      if (k->encodings & (1u << e))
        sl__json_push_unique(encodings, e < 31 ? pq_encoding_name(e) : "an unknown encoding");
  }
}

/* The stored type with the annotation that chose the dtype: messages name
   the physical type alone ("INT32"), inspect says "INT(16, signed) (INT32)". */
static void stored_text(const pq_col *c, char *buf, size_t cap) {
  static const char *const converted[] = {"UINT_8", "UINT_16", "UINT_32", "UINT_64",
                                          "INT_8",  "INT_16",  "INT_32",  "INT_64"};
  const pq_schema *e = c->e;
  if (e->logical == PQ_LT_INTEGER)
    snprintf(buf, cap, "INT(%d, %s) (%s)", e->int_bits, e->int_signed ? "signed" : "unsigned",
             pq_type_name(e->type));
  else if (e->logical == 0 && e->converted >= PQ_CT_UINT_8 && e->converted <= PQ_CT_INT_64)
    snprintf(buf, cap, "%s (%s)", converted[e->converted - PQ_CT_UINT_8], pq_type_name(e->type));
  else if (e->logical == PQ_LT_FLOAT16)
    snprintf(buf, cap, "FLOAT16 (FIXED_LEN_BYTE_ARRAY(2))");
  else
    snprintf(buf, cap, "%s", c->desc);
}

/* A fixed-size list column: "LIST of FLOAT, 8 a row". */
static void list_text(const pq_file *f, const pq_col *c, char *buf, size_t cap) {
  char inner[128];
  stored_text(c, inner, sizeof inner);
  snprintf(buf, cap, "LIST of %s, %lld a row", inner, (long long)f->width);
}

static cJSON *column(const pq_file *f, const pq_top *fl, const pq_col *c) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return NULL;
  sl__json_add_strn(o, "name", c->name, (size_t)c->name_len);
  char stored[192];
  if (c->is_list) list_text(f, c, stored, sizeof stored);
  else stored_text(c, stored, sizeof stored);
  cJSON_AddStringToObject(o, "stored", stored);
  cJSON_AddStringToObject(o, "dtype", sl_dtype_str(c->dtype));
  char unit[128];
  pq_unit_text(c->e, unit, sizeof unit);
  if (unit[0]) cJSON_AddStringToObject(o, "unit", unit);
  cJSON_AddStringToObject(o, "repetition", repetition_name(fl ? fl->e->repetition : -1));
  if (c->is_list) cJSON_AddNumberToObject(o, "list_size", (double)f->width);
  sl__json_nulls(o, null_count(f, c));
  cJSON *codecs = cJSON_AddArrayToObject(o, "codecs");
  chunk_names(f, c->leaf, codecs, cJSON_AddArrayToObject(o, "encodings"));
  return o;
}

static const pq_top *field_of(const pq_file *f, const pq_col *c) {
  for (size_t i = 0; i < f->nfields; i++)
    if (f->fields[i].nleaves > 0 && f->fields[i].leaf_idx == c->leaf) return &f->fields[i];
  return NULL;
}

/* ------------------------------------------------------------- skipped */

static bool selected(const pq_file *f, const pq_top *fl) {
  for (size_t i = 0; i < f->ncols; i++)
    if (fl->nleaves > 0 && f->cols[i].leaf == fl->leaf_idx) return true;
  return false;
}

/* Whether every row group holds the same number of values per row of a
   list field (what list_width asks of a selected one). */
static bool fixed_size(const pq_file *f, const pq_top *fl) {
  int64_t width = -1;
  for (size_t g = 0; g < f->meta.ngroups; g++) {
    const pq_group *rg = &f->meta.groups[g];
    int64_t vals = rg->cols[fl->leaf_idx].num_values;
    if (rg->num_rows == 0) continue;
    if (vals % rg->num_rows != 0 || (width >= 0 && vals / rg->num_rows != width)) return false;
    width = vals / rg->num_rows;
  }
  return true;
}

static void why_left_out(const pq_file *f, const pq_top *fl, bool named, char *buf,
                         size_t cap) {
  if (fl->why != NULL)
    snprintf(buf, cap, "%s%s", fl->max_rep ? "a list of " : "", fl->why);
  else if (named)
    snprintf(buf, cap, "not named by option columns");
  else if (fl->max_rep > 0 && !fixed_size(f, fl))
    snprintf(buf, cap, "a list whose rows differ in length (not a fixed-size list)");
  else if (fl->max_rep > 0)
    snprintf(buf, cap, "a list column, which loads only alone: name it in option columns");
  else
    snprintf(buf, cap, "not selected");
}

static void skipped(const pq_file *f, bool named, cJSON *o) {
  cJSON *list = cJSON_AddArrayToObject(o, "skipped");
  for (size_t i = 0; list != NULL && i < f->nfields; i++) {
    const pq_top *fl = &f->fields[i];
    if (selected(f, fl)) continue;
    char why[160];
    why_left_out(f, fl, named, why, sizeof why);
    cJSON *e = cJSON_CreateObject();
    sl__json_add_strn(e, "name", fl->e->name, (size_t)fl->e->name_len);
    cJSON_AddStringToObject(e, "why", why);
    cJSON_AddItemToArray(list, e);
  }
}

/* ------------------------------------------------------------ the shard */

static void row_groups(const pq_file *f, cJSON *o) {
  int64_t lo = 0, hi = 0;
  for (size_t g = 0; g < f->meta.ngroups; g++) {
    int64_t n = f->meta.groups[g].num_rows;
    lo = g == 0 || n < lo ? n : lo;
    hi = n > hi ? n : hi;
  }
  sl__json_units(o, "row_groups", (int64_t)f->meta.ngroups, lo, hi);
}

static cJSON *account(const pq_file *f, bool named) {
  cJSON *o = cJSON_CreateObject();
  if (o == NULL) return NULL;
  cJSON_AddStringToObject(o, "read_path", "decoded");
  cJSON_AddStringToObject(o, "read_note", "pages decompressed and decoded by shardload, a row "
                          "group's column chunks at a time");
  row_groups(f, o);
  cJSON *codecs = cJSON_AddArrayToObject(o, "codecs");
  cJSON *encodings = cJSON_AddArrayToObject(o, "encodings");
  cJSON *cols = cJSON_AddArrayToObject(o, "columns");
  for (size_t i = 0; i < f->ncols; i++) {
    chunk_names(f, f->cols[i].leaf, codecs, encodings);
    cJSON *c = column(f, field_of(f, &f->cols[i]), &f->cols[i]);
    if (c != NULL && !cJSON_AddItemToArray(cols, c)) cJSON_Delete(c);
  }
  skipped(f, named, o);
  if (f->meta.created_by != NULL)
    sl__json_add_strn(o, "created_by", f->meta.created_by, (size_t)f->meta.created_by_len);
  return o;
}

/* The first row group whose statistics count nulls in a selected column,
   decoded as a read decodes it: its error is the read's. */
static sl_status refuse_nulls(const sl_shard *s, const pq_file *f, const sl_source *src,
                              sl_error *err) {
  int64_t row_bytes;
  if (f->has_fill || !sl__mul(f->width, (int64_t)sl_dtype_size(f->dtype), &row_bytes))
    return SL_OK; /* a row too large for memory fails the read first anyway */
  for (size_t g = 0; g < f->meta.ngroups; g++) {
    const pq_group *rg = &f->meta.groups[g];
    for (size_t i = 0; i < f->ncols; i++)
      if (f->cols[i].max_def > 0 && rg->cols[f->cols[i].leaf].null_count > 0)
        return sl__read_refusal(&sl__parquet_driver, s, f, src, rg->first_row,
                                rg->first_row + rg->num_rows, row_bytes, err);
  }
  return SL_OK;
}

sl_status pq_inspect(const sl_shard *s, const void *handle, const sl_source *src,
                     char **json, sl_error *err) {
  const pq_file *f = handle;
  SL_TRY(refuse_nulls(s, f, src, err));
  bool named = s->opts != NULL && s->opts->columns != NULL;
  return sl__json_text(account(f, named), s->path, json, err);
}
