/* The schema of a Parquet file as rows of numbers: each top-level field
 * classified (a flat numeric column, a fixed-size list of numbers, or what
 * else it is and so why it cannot load), and the selection of the columns
 * that make the array: those option columns names, in its order, or every
 * flat numeric column, or the one list column. */
#include <stdio.h>
#include <string.h>

#include "pq.h"

/* Names listed in a message before "...". */
#define PQ_LIST_MAX 16

/* ---------------------------------------------------------------- types */

static const char *logical_name(int lt) {
  static const char *const names[] = {
      NULL, "a string", "a map", "a list", "an enum", "a DECIMAL", "a DATE", "a TIME",
      "a TIMESTAMP", NULL, "an INTEGER", "a null", "JSON", "BSON", "a UUID", "a FLOAT16",
      "a VARIANT", "a GEOMETRY", "a GEOGRAPHY"};
  return lt > 0 && lt < (int)SL_ARRAY_LEN(names) && names[lt] ? names[lt] : "an annotated value";
}

static const char *converted_name(int ct) {
  static const char *const names[] = {
      "a string", "a map", "a map", "a list", "an enum", "a DECIMAL", "a DATE", "a TIME",
      "a TIME", "a TIMESTAMP", "a TIMESTAMP"};
  if (ct >= 0 && ct < (int)SL_ARRAY_LEN(names)) return names[ct];
  return ct == 19 ? "JSON" : ct == 20 ? "BSON" : ct == 21 ? "an INTERVAL" : "an annotated value";
}

/* An integer of bits/sign on physical INT32 or INT64, or SL_DTYPE_COUNT. */
static sl_dtype int_dtype(int type, int bits, bool sign) {
  if (type == PQ_INT64) return bits != 64 ? SL_DTYPE_COUNT : sign ? SL_INT64 : SL_UINT64;
  switch (bits) {
    case 8: return sign ? SL_INT8 : SL_UINT8;
    case 16: return sign ? SL_INT16 : SL_UINT16;
    case 32: return sign ? SL_INT32 : SL_UINT32;
    default: return SL_DTYPE_COUNT;
  }
}

/* Integers: a LogicalType INTEGER, a ConvertedType INT_n/UINT_n, or none. */
/* DATE, TIME and TIMESTAMP load as the integers they are stored as (days,
   or units since midnight or the epoch), as numpy's datetime64 views do. */
static bool temporal(const pq_schema *e) {
  if (e->logical != 0)
    return e->logical == PQ_LT_DATE || e->logical == PQ_LT_TIME || e->logical == PQ_LT_TIMESTAMP;
  return e->converted >= PQ_CT_DATE && e->converted <= PQ_CT_TIMESTAMP_MICROS;
}

static sl_dtype integer_of(const pq_schema *e, const char **what) {
  if (e->logical == PQ_LT_INTEGER) return int_dtype(e->type, e->int_bits, e->int_signed);
  if (temporal(e)) return e->type == PQ_INT32 ? SL_INT32 : SL_INT64;
  if (e->logical != 0) {
    *what = logical_name(e->logical);
    return SL_DTYPE_COUNT;
  }
  if (e->converted >= PQ_CT_UINT_8 && e->converted <= PQ_CT_INT_64) {
    static const int bits[] = {8, 16, 32, 64};
    int k = (e->converted - PQ_CT_UINT_8) % 4;
    return int_dtype(e->type, bits[k], e->converted >= PQ_CT_UINT_8 + 4);
  }
  if (e->converted >= 0) {
    *what = converted_name(e->converted);
    return SL_DTYPE_COUNT;
  }
  return e->type == PQ_INT32 ? SL_INT32 : SL_INT64;
}

static void temporal_desc(const pq_schema *e, char *desc, size_t cap);

/* The dtype of a primitive element, or SL_DTYPE_COUNT and desc saying what
   it is ("a string (BYTE_ARRAY)"). */
static sl_dtype dtype_of(const pq_schema *e, char *desc, size_t cap) {
  const char *what = "an unsupported value";
  sl_dtype dt = SL_DTYPE_COUNT;
  switch (e->type) {
    case PQ_BOOLEAN: dt = SL_BOOL; break;
    case PQ_INT32: case PQ_INT64: dt = integer_of(e, &what); break;
    case PQ_FLOAT: dt = SL_FLOAT32; break;
    case PQ_DOUBLE: dt = SL_FLOAT64; break;
    case PQ_FLBA:
      if (e->logical == PQ_LT_FLOAT16 && e->type_length == 2) dt = SL_FLOAT16;
      else what = e->logical ? logical_name(e->logical) : "binary data";
      break;
    case PQ_BYTE_ARRAY:
      what = e->logical == PQ_LT_STRING || e->converted == PQ_CT_UTF8 ? "a string"
             : e->logical ? logical_name(e->logical) : "binary data";
      break;
    case PQ_INT96: what = "an INT96 timestamp"; break;
    default: break;
  }
  if (e->type == PQ_FLBA)
    snprintf(desc, cap, "%s (FIXED_LEN_BYTE_ARRAY(%d))", what, (int)e->type_length);
  else if (dt == SL_DTYPE_COUNT)
    snprintf(desc, cap, "%s (%s)", what, pq_type_name(e->type));
  if (dt != SL_DTYPE_COUNT) snprintf(desc, cap, "%s", pq_type_name(e->type));
  if (dt != SL_DTYPE_COUNT && temporal(e)) temporal_desc(e, desc, cap);
  return dt;
}

/* The unit of a temporal column's integers, "" for other columns. */
void pq_unit_text(const pq_schema *e, char *buf, size_t cap) {
  static const char *const words[] = {"?", "milliseconds", "microseconds", "nanoseconds"};
  buf[0] = '\0';
  if (!temporal(e)) return;
  int kind = e->logical ? e->logical
             : e->converted == PQ_CT_DATE ? PQ_LT_DATE
             : e->converted <= PQ_CT_DATE + 2 ? PQ_LT_TIME : PQ_LT_TIMESTAMP;
  int unit = e->logical ? e->time_unit : (e->converted - PQ_CT_DATE) % 2 ? 1 : 2;
  const char *w = words[unit >= 1 && unit <= 3 ? unit : 0];
  int bits = e->type == PQ_INT32 ? 32 : 64;
  if (kind == PQ_LT_DATE) snprintf(buf, cap, "int32 days since 1970-01-01");
  else if (kind == PQ_LT_TIME) snprintf(buf, cap, "int%d %s since midnight", bits, w);
  else snprintf(buf, cap, "int64 %s since 1970-01-01 00:00:00%s", w,
                e->logical && e->utc ? " UTC" : ", not adjusted to UTC");
}

/* "TIMESTAMP(MICROS) (INT64)" */
static void temporal_desc(const pq_schema *e, char *desc, size_t cap) {
  static const char *const units[] = {"", "(MILLIS)", "(MICROS)", "(NANOS)"};
  int kind = e->logical ? e->logical
             : e->converted == PQ_CT_DATE ? PQ_LT_DATE
             : e->converted <= PQ_CT_DATE + 2 ? PQ_LT_TIME : PQ_LT_TIMESTAMP;
  int unit = e->logical ? e->time_unit : (e->converted - PQ_CT_DATE) % 2 ? 1 : 2;
  snprintf(desc, cap, "%s%s (%s)", kind == PQ_LT_DATE ? "DATE" : kind == PQ_LT_TIME ? "TIME"
           : "TIMESTAMP", kind == PQ_LT_DATE || unit < 1 || unit > 3 ? "" : units[unit],
           pq_type_name(e->type));
}

static size_t physical_width(const pq_schema *e) {
  switch (e->type) {
    case PQ_BOOLEAN: return 1;
    case PQ_INT32: case PQ_FLOAT: return 4;
    case PQ_INT64: case PQ_DOUBLE: return 8;
    case PQ_INT96: return 12;
    case PQ_FLBA: return (size_t)e->type_length;
    default: return 0;
  }
}

/* --------------------------------------------------------------- schema */

typedef struct walker {
  const pq_meta *m;
  size_t next;  /* next schema element */
  size_t leaf;  /* leaves seen so far */
  const char *why;
} walker;

/* Consumes the subtree at w->next, recording its first leaf in f. */
static void walk(walker *w, int def, int rep, int depth, pq_top *f) {
  if (w->next >= w->m->nschema || depth > PQ_MAX_LEVEL) {
    w->why = depth > PQ_MAX_LEVEL ? "the schema nests too deeply"
                                  : "the schema has fewer elements than its groups claim";
    return;
  }
  const pq_schema *e = &w->m->schema[w->next++];
  if (e->repetition == PQ_OPTIONAL || e->repetition == PQ_REPEATED) def++;
  if (e->repetition == PQ_REPEATED && rep++ == 0) f->rep_def = def;
  if (e->type >= 0) {
    if (f->nleaves++ == 0) {
      f->leaf = e;
      f->leaf_idx = w->leaf;
      f->max_def = def;
      f->max_rep = rep;
    }
    w->leaf++;
    return;
  }
  for (int32_t i = 0; i < e->num_children && w->why == NULL; i++)
    walk(w, def, rep, depth + 1, f);
}

static bool is_list_group(const pq_schema *e) {
  return e->type < 0 && (e->logical == PQ_LT_LIST || e->converted == PQ_CT_LIST);
}

/* Whether a field loads, as a flat column or as a list, and its dtype. */
static void classify(pq_top *f) {
  f->dtype = SL_DTYPE_COUNT;
  if (f->nleaves != 1) {
    snprintf(f->desc, sizeof f->desc, "a group of %zu columns (struct or map)", f->nleaves);
    f->why = f->desc;
    return;
  }
  if (f->max_rep > 1 || (f->max_rep == 1 && f->e->type < 0 && !is_list_group(f->e))) {
    snprintf(f->desc, sizeof f->desc, "a nested list or a struct holding a list");
    f->why = f->desc;
    return;
  }
  if (f->max_rep == 0 && f->e->type < 0) {
    snprintf(f->desc, sizeof f->desc, "a group (struct)");
    f->why = f->desc;
    return;
  }
  f->dtype = dtype_of(f->leaf, f->desc, sizeof f->desc);
  f->why = f->dtype == SL_DTYPE_COUNT ? f->desc : NULL;
}

sl_status pq_read_schema(const char *path, pq_file *f, sl_error *err) {
  const pq_meta *m = &f->meta;
  const pq_schema *root = &m->schema[0];
  size_t n = root->type < 0 ? (size_t)root->num_children : 0;
  if (n > m->nschema)
    SL_FAIL(err, SL_EFORMAT, "%s: Parquet schema root claims %zu fields but the schema has "
            "%zu elements", path, n, m->nschema);
  f->fields = sl__calloc(n ? n : 1, sizeof *f->fields);
  if (f->fields == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for the schema", path);
  f->nfields = n;
  walker w = {m, 1, 0, NULL};
  for (size_t i = 0; i < n && w.why == NULL; i++) {
    f->fields[i].e = &m->schema[w.next];
    walk(&w, 0, 0, 0, &f->fields[i]);
    classify(&f->fields[i]);
  }
  if (w.why == NULL && w.next != m->nschema) w.why = "the schema has elements outside the tree";
  for (size_t g = 0; w.why == NULL && g < m->ngroups; g++)
    if (m->groups[g].ncols != w.leaf) w.why = "a row group's column count differs from the schema's";
  if (w.why != NULL) SL_FAIL(err, SL_EFORMAT, "%s: Parquet schema is invalid: %s", path, w.why);
  return SL_OK;
}

/* ------------------------------------------------------------ selection */

/* The top-level field names, as the columns module takes them. */
static sl_name *field_list(const pq_file *f) {
  sl_name *v = sl__malloc((f->nfields ? f->nfields : 1) * sizeof *v);
  for (size_t i = 0; v != NULL && i < f->nfields; i++)
    v[i] = (sl_name){f->fields[i].e->name, (size_t)f->fields[i].e->name_len};
  return v;
}

/* "a, b, c" of every field, for messages. */
static void field_names(const pq_file *f, char *buf, size_t cap) {
  sl_name *v = field_list(f);
  if (v != NULL) sl__names_text(v, f->nfields, buf, cap);
  else snprintf(buf, cap, "(out of memory)");
  sl__free(v);
}

static sl_status not_loadable(const char *path, const pq_top *fl, sl_error *err) {
  SL_FAIL(err, SL_EFORMAT, "%s: column %.*s %s %s, which cannot be loaded as numbers", path,
          fl->e->name_len, fl->e->name, fl->max_rep ? "is a list of" : "is", fl->why);
}

/* The fields option columns names, in its order. */
static sl_status select_named(const char *path, const sl_columns *want, const pq_file *f,
                              const pq_top **sel, size_t *n, sl_error *err) {
  sl_name *have = field_list(f);
  size_t *idx = sl__malloc(want->n * sizeof *idx);
  sl_status st = have && idx ? SL_OK : sl__fail(err, SL_ENOMEM, "%s: out of memory", path);
  if (st == SL_OK) st = sl__columns_resolve(path, want, have, f->nfields, idx, err);
  for (size_t i = 0; st == SL_OK && i < want->n; i++) {
    sel[i] = &f->fields[idx[i]];
    if (sel[i]->why != NULL) st = not_loadable(path, sel[i], err);
  }
  *n = st == SL_OK ? want->n : 0;
  sl__free(have);
  sl__free(idx);
  return st;
}

/* No option columns: every flat numeric column, or else the one list column. */
static sl_status select_default(const char *path, const pq_file *f, const pq_top **sel,
                                size_t *n, sl_error *err) {
  *n = 0;
  const pq_top *list = NULL;
  size_t lists = 0;
  for (size_t i = 0; i < f->nfields; i++) {
    const pq_top *fl = &f->fields[i];
    if (fl->why != NULL) continue;
    if (fl->max_rep == 0) sel[(*n)++] = fl;
    else lists++, list = fl;
  }
  if (*n == 0 && lists == 1) sel[(*n)++] = list;
  if (*n > 0) return SL_OK;
  char all[512];
  field_names(f, all, sizeof all);
  SL_FAIL(err, SL_EFORMAT, "%s: expected a numeric column but found none among: %s%s", path,
          all, lists > 1 ? " (several list columns: choose one with option columns)" : "");
}

/* Lists load alone; the columns' types decide the array's (columns.c). */
static sl_status check_types(const char *path, const pq_options *o, const pq_top **sel,
                             size_t n, bool named, sl_dtype *out, sl_error *err) {
  for (size_t i = 0; i < n; i++)
    if (sel[i]->max_rep > 0 && n > 1)
      SL_FAIL(err, SL_EINVAL, "%s: column %.*s is a list, which loads only alone (as rows x "
              "list length); select it by itself with option columns", path, sel[i]->e->name_len,
              sel[i]->e->name);
  sl_col_type *c = sl__calloc(n ? n : 1, sizeof *c);
  if (c == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  for (size_t i = 0; i < n; i++)
    c[i] = (sl_col_type){{sel[i]->e->name, (size_t)sel[i]->e->name_len}, sel[i]->dtype,
                         sel[i]->desc};
  sl_status st = sl__columns_dtype(path, o, c, n, named ? "selected" : "numeric", out, err);
  sl__free(c);
  return st;
}

/* ---------------------------------------------------------------- lists */

/* Values per row of a list column: num_values / num_rows in every row
   group (rows are checked one by one when read); -1 without rows. */
static sl_status list_width(const char *path, const pq_file *f, const pq_top *fl,
                            int64_t *width, sl_error *err) {
  *width = -1;
  for (size_t g = 0; g < f->meta.ngroups; g++) {
    const pq_group *rg = &f->meta.groups[g];
    int64_t vals = rg->cols[fl->leaf_idx].num_values;
    if (rg->num_rows == 0) continue;
    if (vals % rg->num_rows != 0 || (*width >= 0 && vals / rg->num_rows != *width))
      SL_FAIL(err, SL_EFORMAT, "%s: column %.*s is a list whose rows differ in length (%lld "
              "values in %lld rows of row group %zu), so it is not a fixed-size list", path,
              fl->e->name_len, fl->e->name, (long long)vals, (long long)rg->num_rows, g);
    *width = vals / rg->num_rows;
  }
  return SL_OK; /* -1 when no row group has rows: discovery takes another shard's */
}

static void make_col(const pq_top *fl, pq_col *c) {
  c->name = fl->e->name;
  c->name_len = fl->e->name_len;
  c->leaf = fl->leaf_idx;
  c->type = fl->leaf->type;
  c->pw = physical_width(fl->leaf);
  c->max_def = fl->max_def;
  c->max_rep = fl->max_rep;
  c->is_list = fl->max_rep > 0;
  c->list_def = c->is_list ? fl->rep_def : 0;
  c->dtype = fl->dtype;
  c->e = fl->leaf;
  snprintf(c->desc, sizeof c->desc, "%s", fl->desc);
}

/* Every chunk of a selected column must have the schema's physical type
   and a codec this build decodes. */
static sl_status check_chunks(const char *path, const pq_file *f, sl_error *err) {
  for (size_t g = 0; g < f->meta.ngroups; g++)
    for (size_t i = 0; i < f->ncols; i++) {
      const pq_chunk *c = &f->meta.groups[g].cols[f->cols[i].leaf];
      if (c->type != f->cols[i].type)
        SL_FAIL(err, SL_EFORMAT, "%s: column %.*s is %s in the schema but its chunk in row "
                "group %zu says %s", path, f->cols[i].name_len, f->cols[i].name,
                pq_type_name(f->cols[i].type), g, pq_type_name(c->type));
      SL_TRY(pq_codec_check(path, &f->cols[i], c->codec, err)); /* inspect fails as read would */
    }
  return SL_OK;
}

sl_status pq_select_columns(const char *path, const pq_options *o, pq_file *f,
                            sl_error *err) {
  bool named = o != NULL && o->columns.n > 0;
  const pq_top **sel = sl__calloc(SL_MAX(f->nfields, named ? o->columns.n : 0) + 1, sizeof *sel);
  if (sel == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  size_t n = 0;
  sl_status st = named ? select_named(path, &o->columns, f, sel, &n, err)
                       : select_default(path, f, sel, &n, err);
  sl_dtype dtype = SL_DTYPE_COUNT;
  if (st == SL_OK) st = check_types(path, o, sel, n, named, &dtype, err);
  if (st == SL_OK && ((f->cols = sl__calloc(n, sizeof *f->cols)) == NULL ||
                      (f->types = sl__calloc(n, sizeof *f->types)) == NULL))
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory", path);
  if (st == SL_OK) {
    f->ncols = n;
    for (size_t i = 0; i < n; i++) {
      make_col(sel[i], &f->cols[i]);
      f->types[i] = sel[i]->dtype;
      f->cast |= sel[i]->dtype != dtype;
    }
    f->dtype = dtype;
    f->width = (int64_t)n;
    if (sel[0]->max_rep > 0) st = list_width(path, f, sel[0], &f->width, err);
  }
  sl__free(sel);
  if (st == SL_OK) st = check_chunks(path, f, err);
  return st;
}

