/* FileMetaData, SchemaElement, RowGroup, ColumnChunk, ColumnMetaData,
 * PageHeader and OffsetIndex (field ids from parquet-format's parquet.thrift), parsed into
 * the plain structs of pq.h. Only the fields the reader uses are kept;
 * everything else is skipped by type, so newer writers' additions pass.
 */
#include <string.h>

#include "pq.h"

/* Iterates the fields of the struct t is in: `FIELDS(t) { switch (id) ... }`. */
#define FIELDS(t)          \
  int16_t last_ = 0, id;   \
  int type;                \
  while (pq_field((t), &last_, &id, &type))

/* ------------------------------------------------------------- schema */

static void parse_int_type(pq_thrift *t, pq_schema *e) {
  FIELDS(t) {
    if (id == 1) e->int_bits = (int)pq_int(t, type);
    else if (id == 2) e->int_signed = pq_bool(t, type);
    else pq_skip(t, type);
  }
}

/* TimeUnit, a union of empty structs: the field present names it. */
static void parse_time_unit(pq_thrift *t, pq_schema *e) {
  FIELDS(t) {
    e->time_unit = id;
    pq_skip(t, type);
  }
}

/* TimeType and TimestampType: isAdjustedToUTC, unit. */
static void parse_time_type(pq_thrift *t, pq_schema *e) {
  FIELDS(t) {
    if (id == 1) e->utc = pq_bool(t, type);
    else if (id == 2 && pq_enter(t, type)) {
      parse_time_unit(t, e);
      pq_leave(t);
    } else pq_skip(t, type);
  }
}

/* A union: the one field present names the logical type. */
static void parse_logical(pq_thrift *t, pq_schema *e) {
  FIELDS(t) {
    e->logical = id;
    if (id == PQ_LT_INTEGER && pq_enter(t, type)) {
      parse_int_type(t, e);
      pq_leave(t);
    } else if ((id == PQ_LT_TIME || id == PQ_LT_TIMESTAMP) && pq_enter(t, type)) {
      parse_time_type(t, e);
      pq_leave(t);
    } else {
      pq_skip(t, type);
    }
  }
}

static void parse_schema_element(pq_thrift *t, pq_schema *e) {
  e->type = -1;
  e->repetition = -1;
  e->converted = -1;
  FIELDS(t) {
    size_t len;
    switch (id) {
      case 1: e->type = pq_i32(t, type, 0, PQ_FLBA); break;
      case 2: e->type_length = pq_i32(t, type, 0, INT32_MAX); break;
      case 3: e->repetition = pq_i32(t, type, 0, PQ_REPEATED); break;
      case 4:
        e->name = (const char *)pq_binary(t, type, &len);
        e->name_len = len > 4096 ? 4096 : (int)len;
        break;
      case 5: e->num_children = pq_i32(t, type, 0, INT32_MAX); break;
      case 6: e->converted = pq_i32(t, type, 0, 1000); break;
      case 10:
        if (pq_enter(t, type)) {
          parse_logical(t, e);
          pq_leave(t);
        }
        break;
      default: pq_skip(t, type); break;
    }
  }
}

/* ------------------------------------------------------- column chunks */

/* The fields below serve inspect alone: one of an unexpected type is
   skipped as an unknown field would be, never a reason to refuse a file. */
static bool is_int_type(int type) {
  return type == PQ_T_BYTE || type == PQ_T_I16 || type == PQ_T_I32 || type == PQ_T_I64;
}

/* Statistics: only null_count (field 3) is kept. */
static void parse_statistics(pq_thrift *t, pq_chunk *c) {
  FIELDS(t) {
    if (id == 3 && is_int_type(type)) c->null_count = pq_int(t, type);
    else pq_skip(t, type);
  }
  if (c->null_count < -1) c->null_count = -1; /* a negative count says nothing */
}

/* The list of encodings the chunk's pages use, as a bit set. */
static void parse_encodings(pq_thrift *t, int type, pq_chunk *c) {
  pq_thrift at = *t;
  int elem = PQ_T_STOP;
  int64_t n = 0;
  if (type != PQ_T_LIST || !pq_list(t, type, &elem, &n) || !is_int_type(elem)) {
    *t = at; /* not a list of integers: skipped whole, as before it was read */
    pq_skip(t, type);
    return;
  }
  for (int64_t i = 0; i < n && t->why == NULL; i++) {
    int64_t e = pq_int(t, elem);
    c->encodings |= e >= 0 && e < 31 ? 1u << e : 1u << 31;
  }
}

static void parse_column_meta(pq_thrift *t, pq_chunk *c) {
  c->has_meta = true;
  FIELDS(t) {
    switch (id) {
      case 1: c->type = pq_i32(t, type, 0, PQ_FLBA); break;
      case 2: parse_encodings(t, type, c); break;
      case 12:
        if (type != PQ_T_STRUCT) pq_skip(t, type);
        else if (pq_enter(t, type)) {
          parse_statistics(t, c);
          pq_leave(t);
        }
        break;
      case 4: c->codec = pq_i32(t, type, 0, 1000); break;
      case 5: c->num_values = pq_int(t, type); break;
      case 7: c->compressed = pq_int(t, type); break;
      case 9: c->data_off = pq_int(t, type); break;
      case 11: c->dict_off = pq_int(t, type); break;
      default: pq_skip(t, type); break;
    }
  }
  if (c->num_values < 0 || c->compressed < 0 || c->data_off < 0)
    pq_fail(t, "ColumnMetaData has a negative size, count or offset");
}

static void parse_column_chunk(pq_thrift *t, pq_chunk *c) {
  c->dict_off = c->index_off = c->null_count = -1;
  int64_t index_len = 0;
  FIELDS(t) {
    if (id == 1) { /* file_path: the chunk lives in another file */
      c->external = true;
      pq_skip(t, type);
    } else if (id == 3 && pq_enter(t, type)) {
      parse_column_meta(t, c);
      pq_leave(t);
    } else if (id == 4) {
      c->index_off = pq_int(t, type);
    } else if (id == 5) {
      index_len = pq_int(t, type);
    } else {
      pq_skip(t, type);
    }
  }
  /* the index only speeds up reads: one that cannot be located is ignored */
  if (c->index_off < 0 || index_len <= 0 || index_len > INT32_MAX) c->index_off = -1;
  else c->index_len = (int32_t)index_len;
}

/* ------------------------------------------------------- lists of structs */

/* Opens a list of structs and allocates n elements of size bytes, zeroed. */
static void *struct_list(pq_thrift *t, int type, size_t size, size_t *n, bool *oom) {
  int elem;
  int64_t count;
  *n = 0;
  if (!pq_list(t, type, &elem, &count)) return NULL;
  if (elem != PQ_T_STRUCT && count > 0) {
    pq_fail(t, "Thrift list holds non-structs where structs belong");
    return NULL;
  }
  void *v = sl__calloc(count ? (size_t)count : 1, size);
  if (v == NULL) {
    *oom = true;
    pq_fail(t, "out of memory");
    return NULL;
  }
  *n = (size_t)count;
  return v;
}

static void parse_columns(pq_thrift *t, int type, pq_group *g, bool *oom) {
  if (g->cols != NULL) { /* a repeated field: keep the first */
    pq_skip(t, type);
    return;
  }
  g->cols = struct_list(t, type, sizeof *g->cols, &g->ncols, oom);
  for (size_t i = 0; i < g->ncols && pq_enter(t, PQ_T_STRUCT); i++) {
    parse_column_chunk(t, &g->cols[i]);
    pq_leave(t);
  }
}

static void parse_row_group(pq_thrift *t, pq_group *g, bool *oom) {
  g->num_rows = -1;
  FIELDS(t) {
    if (id == 1) parse_columns(t, type, g, oom);
    else if (id == 3) g->num_rows = pq_int(t, type);
    else pq_skip(t, type);
  }
}

static void parse_schema(pq_thrift *t, int type, pq_meta *m, bool *oom) {
  if (m->schema != NULL) {
    pq_skip(t, type);
    return;
  }
  m->schema = struct_list(t, type, sizeof *m->schema, &m->nschema, oom);
  for (size_t i = 0; i < m->nschema && pq_enter(t, PQ_T_STRUCT); i++) {
    parse_schema_element(t, &m->schema[i]);
    pq_leave(t);
  }
}

static void parse_groups(pq_thrift *t, int type, pq_meta *m, bool *oom) {
  if (m->groups != NULL) {
    pq_skip(t, type);
    return;
  }
  m->groups = struct_list(t, type, sizeof *m->groups, &m->ngroups, oom);
  for (size_t i = 0; i < m->ngroups && pq_enter(t, PQ_T_STRUCT); i++) {
    parse_row_group(t, &m->groups[i], oom);
    pq_leave(t);
  }
}

void pq_meta_free(pq_meta *m) {
  for (size_t i = 0; m->groups != NULL && i < m->ngroups; i++) sl__free(m->groups[i].cols);
  sl__free(m->groups);
  sl__free(m->schema);
  memset(m, 0, sizeof *m);
}

/* Row counts add up, each group lists a chunk with metadata per leaf. */
static const char *check_meta(pq_meta *m) {
  if (m->schema == NULL || m->nschema == 0) return "FileMetaData has no schema";
  if (m->num_rows < 0) return "FileMetaData has no or a negative num_rows";
  int64_t rows = 0;
  for (size_t i = 0; i < m->ngroups; i++) {
    pq_group *g = &m->groups[i];
    if (g->num_rows < 0) return "a row group has no or a negative num_rows";
    g->first_row = rows;
    if (!sl__add(rows, g->num_rows, &rows)) return "row group row counts overflow";
    for (size_t k = 0; k < g->ncols; k++)
      if (!g->cols[k].has_meta || g->cols[k].external)
        return "a column chunk is stored in another file or encrypted, which this reader does "
               "not support";
  }
  if (rows != m->num_rows) return "the row groups' row counts do not add up to num_rows";
  for (size_t i = 0; i < m->nschema; i++)
    if (m->schema[i].name == NULL) return "a schema element has no name";
  return NULL;
}

static void parse_created_by(pq_thrift *t, int type, pq_meta *m) {
  size_t len;
  if (type != PQ_T_BINARY) {
    pq_skip(t, type);
    return;
  }
  m->created_by = (const char *)pq_binary(t, type, &len);
  m->created_by_len = len > 256 ? 256 : (int)len;
}

const char *pq_parse_meta(const uint8_t *buf, size_t n, pq_meta *m, bool *oom) {
  memset(m, 0, sizeof *m);
  m->num_rows = -1;
  *oom = false;
  pq_thrift t;
  pq_thrift_init(&t, buf, n);
  FIELDS(&t) {
    if (id == 2) parse_schema(&t, type, m, oom);
    else if (id == 3) m->num_rows = pq_int(&t, type);
    else if (id == 4) parse_groups(&t, type, m, oom);
    else if (id == 6) parse_created_by(&t, type, m);
    else pq_skip(&t, type);
  }
  const char *why = *oom ? "out of memory" : t.why;
  if (why == NULL) why = check_meta(m);
  if (why != NULL) pq_meta_free(m);
  return why;
}

/* --------------------------------------------------------------- pages */

static void parse_v1(pq_thrift *t, pq_page *h) {
  FIELDS(t) {
    switch (id) {
      case 1: h->num_values = pq_i32(t, type, 0, INT32_MAX); break;
      case 2: h->encoding = pq_i32(t, type, 0, 1000); break;
      case 3: h->def_enc = pq_i32(t, type, 0, 1000); break;
      case 4: h->rep_enc = pq_i32(t, type, 0, 1000); break;
      default: pq_skip(t, type); break;
    }
  }
}

static void parse_v2(pq_thrift *t, pq_page *h) {
  h->is_compressed = true;
  FIELDS(t) {
    switch (id) {
      case 1: h->num_values = pq_i32(t, type, 0, INT32_MAX); break;
      case 2: h->num_nulls = pq_i32(t, type, 0, INT32_MAX); break;
      case 3: h->num_rows = pq_i32(t, type, 0, INT32_MAX); break;
      case 4: h->encoding = pq_i32(t, type, 0, 1000); break;
      case 5: h->def_len = pq_i32(t, type, 0, INT32_MAX); break;
      case 6: h->rep_len = pq_i32(t, type, 0, INT32_MAX); break;
      case 7: h->is_compressed = pq_bool(t, type); break;
      default: pq_skip(t, type); break;
    }
  }
}

static void parse_dict_header(pq_thrift *t, pq_page *h) {
  FIELDS(t) {
    if (id == 1) h->num_values = pq_i32(t, type, 0, INT32_MAX);
    else if (id == 2) h->encoding = pq_i32(t, type, 0, 1000);
    else pq_skip(t, type);
  }
}

static void parse_page_sub(pq_thrift *t, int type, pq_page *h,
                           void (*fn)(pq_thrift *, pq_page *)) {
  if (pq_enter(t, type)) {
    fn(t, h);
    pq_leave(t);
  }
}

const char *pq_parse_page(const uint8_t *p, size_t n, pq_page *h) {
  memset(h, 0, sizeof *h);
  h->type = -1;
  h->uncompressed = h->compressed = -1;
  pq_thrift t;
  pq_thrift_init(&t, p, n);
  FIELDS(&t) {
    switch (id) {
      case 1: h->type = pq_i32(&t, type, 0, 1000); break;
      case 2: h->uncompressed = pq_i32(&t, type, 0, INT32_MAX); break;
      case 3: h->compressed = pq_i32(&t, type, 0, INT32_MAX); break;
      case 5: parse_page_sub(&t, type, h, parse_v1); break;
      case 7: parse_page_sub(&t, type, h, parse_dict_header); break;
      case 8: parse_page_sub(&t, type, h, parse_v2); break;
      default: pq_skip(&t, type); break;
    }
  }
  if (t.why != NULL) return t.why;
  if (h->type < 0 || h->uncompressed < 0 || h->compressed < 0)
    return "page header lacks its type or sizes";
  if (h->uncompressed > PQ_MAX_PAGE || h->compressed > PQ_MAX_PAGE)
    return "page is larger than 1 GiB";
  h->header_len = pq_consumed(&t, p);
  return NULL;
}

/* -------------------------------------------------------- offset index */

static void parse_location(pq_thrift *t, pq_loc *l) {
  l->offset = l->first_row = -1;
  FIELDS(t) {
    switch (id) {
      case 1: l->offset = pq_int(t, type); break;
      case 2: l->size = pq_int(t, type); break;
      case 3: l->first_row = pq_int(t, type); break;
      default: pq_skip(t, type); break;
    }
  }
  if (l->offset < 0 || l->size <= 0 || l->size > INT32_MAX || l->first_row < 0)
    pq_fail(t, "the offset index lists a page without a valid offset, size or first row");
}

/* Pages in file order, inside [lo, hi), rows from 0 up within the group. */
static const char *check_locs(const pq_loc *l, size_t n, int64_t lo, int64_t hi,
                              int64_t rows) {
  if (n == 0) return "the offset index lists no pages";
  if (l[0].first_row != 0) return "the offset index's first page does not start at row 0";
  for (size_t i = 0; i < n; i++) {
    if (l[i].offset < lo || l[i].offset > hi || l[i].size > hi - l[i].offset)
      return "the offset index places a page outside its column chunk";
    if (l[i].first_row >= rows && rows > 0)
      return "the offset index places a page past its row group's rows";
    if (i > 0 && (l[i].offset < l[i - 1].offset + l[i - 1].size ||
                  l[i].first_row <= l[i - 1].first_row))
      return "the offset index's pages overlap or are out of order";
  }
  return NULL;
}

const char *pq_parse_offset_index(const uint8_t *buf, size_t n, int64_t lo, int64_t hi,
                                  int64_t rows, pq_loc **locs, size_t *nlocs, bool *oom) {
  *locs = NULL;
  *nlocs = 0;
  *oom = false;
  pq_thrift t;
  pq_thrift_init(&t, buf, n);
  FIELDS(&t) {
    if (id == 1 && *locs == NULL) {
      *locs = struct_list(&t, type, sizeof **locs, nlocs, oom);
      for (size_t i = 0; i < *nlocs && pq_enter(&t, PQ_T_STRUCT); i++) {
        parse_location(&t, &(*locs)[i]);
        pq_leave(&t);
      }
    } else {
      pq_skip(&t, type);
    }
  }
  const char *why = *oom ? "out of memory" : t.why;
  if (why == NULL && *locs == NULL) why = "the offset index lists no pages";
  if (why == NULL) why = check_locs(*locs, *nlocs, lo, hi, rows);
  if (why != NULL) {
    sl__free(*locs);
    *locs = NULL;
    *nlocs = 0;
  }
  return why;
}

/* --------------------------------------------------------------- names */

const char *pq_type_name(int type) {
  static const char *const names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                      "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return type >= 0 && type < (int)SL_ARRAY_LEN(names) ? names[type] : "an unknown type";
}

const char *pq_encoding_name(int enc) {
  static const char *const names[] = {
      "PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
      "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
      "RLE_DICTIONARY", "BYTE_STREAM_SPLIT", "ALP"};
  return enc >= 0 && enc < (int)SL_ARRAY_LEN(names) ? names[enc] : "an unknown encoding";
}

const char *pq_codec_name(int codec) {
  static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                      "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
  return codec >= 0 && codec < (int)SL_ARRAY_LEN(names) ? names[codec] : "an unknown codec";
}
