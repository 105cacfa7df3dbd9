/* Parquet driver: numeric columns of one type stacked as rows x columns, or
 * one fixed-size list column (a Parquet LIST whose rows all hold d values)
 * as rows x d.
 *
 * A file is "PAR1", column chunks, the Thrift-encoded FileMetaData, its
 * 4-byte little-endian length and "PAR1". Probe reads only that footer,
 * resolves --columns against the schema's top-level fields, and puts into
 * param[] the numbers the other ranks check against (footer length, dtype,
 * values per row). Every rank re-reads the footer once, lazily, under a
 * mutex (shard->priv), and re-derives the same selection from shard->opts.
 *
 * Parquet must be decoded, so there are no extents: read() decodes rows
 * [lo, hi) of each overlapping row group, one column chunk at a time, into
 * the column's strided place in dst. It is thread-safe: the parsed footer
 * is read-only after creation and every buffer is per call.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq.h"

enum { P_FOOTER_LEN, P_DTYPE, P_WIDTH };

/* Names listed in a message before "...". */
#define PQ_LIST_MAX 16

/* One top-level field of the schema and what loading it would mean. */
typedef struct pq_top {
  const pq_schema *e;     /* the top-level element */
  const pq_schema *leaf;  /* its first primitive leaf */
  size_t leaf_idx, nleaves;
  int max_def, max_rep, rep_def;
  sl_dtype dtype;
  const char *why;        /* NULL when loadable; else what it is */
  char desc[96];
} pq_top;

/* The parsed footer and the selection: what read() needs, per process. */
typedef struct pq_file {
  uint8_t *footer;
  size_t footer_len;
  int64_t file_size;
  pq_meta meta;
  size_t nfields;
  pq_top *fields;
  size_t ncols;
  pq_col *cols;
  sl_dtype dtype;
  int64_t width;          /* values per row: columns, or the list length */
  bool has_fill;
  uint8_t fill[8];
} pq_file;

/* One selected column while a row group is read: its buffers, where its
   rows go and its place among the pages. */
typedef struct pq_column {
  pq_scratch sc;
  pq_target t;
  pq_cursor cur;
  pq_loc *locs;         /* the chunk's page locations, when needed */
  size_t nlocs, locs_cap;
} pq_column;

/* One thread's decoding state, kept in the pool between reads so that its
   buffers are allocated, and their pages faulted in, once per thread. */
typedef struct pq_work {
  size_t cap;
  pq_column *col;
  const uint8_t **src;  /* each column's value of the next row */
} pq_work;

static void work_free(void *item) {
  pq_work *w = item;
  if (w == NULL) return;
  for (size_t i = 0; i < w->cap; i++) {
    pq_scratch_free(&w->col[i].sc);
    sl__free(w->col[i].locs);
  }
  sl__free(w->col);
  sl__free(w->src);
  sl__free(w);
}

static sl_pool pool = SL_POOL_INIT(work_free);

static pq_file *file_new(void) {
  pq_file *f = sl__calloc(1, sizeof *f);
  if (f != NULL) sl__pool_join(&pool);
  return f;
}

static void file_free(pq_file *f) {
  if (f == NULL) return;
  sl__pool_leave(&pool);
  pq_meta_free(&f->meta);
  sl__free(f->fields);
  sl__free(f->cols);
  sl__free(f->footer);
  sl__free(f);
}

/* --------------------------------------------------------------- footer */

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static sl_status read_footer(int fd, const char *path, pq_file *f, sl_error *err) {
  SL_TRY(sl__file_size(fd, path, &f->file_size, err));
  if (f->file_size < 12)
    SL_FAIL(err, SL_EFORMAT, "%s: not a Parquet file (%lld bytes; expected at least 12 with "
            "the PAR1 magic at both ends)", path, (long long)f->file_size);
  uint8_t head[4], tail[8];
  SL_TRY(sl__pread_full(fd, path, head, 4, 0, err));
  SL_TRY(sl__pread_full(fd, path, tail, 8, f->file_size - 8, err));
  if (memcmp(tail + 4, "PARE", 4) == 0)
    SL_FAIL(err, SL_ENOTSUP, "%s: Parquet file has an encrypted footer, which this reader does "
            "not support", path);
  if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0)
    SL_FAIL(err, SL_EFORMAT, "%s: not a Parquet file (expected the magic PAR1 at the start "
            "and the end)", path);
  uint32_t len = le32(tail);
  if ((int64_t)len > f->file_size - 12 || len > PQ_MAX_FOOTER)
    SL_FAIL(err, SL_EFORMAT, "%s: Parquet footer length %u does not fit in the file's %lld "
            "bytes (limit %d)", path, len, (long long)f->file_size, PQ_MAX_FOOTER);
  f->footer_len = len;
  f->footer = sl__malloc(len ? len : 1);
  if (f->footer == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for the footer", path);
  return sl__pread_full(fd, path, f->footer, len, f->file_size - 8 - len, err);
}

static sl_status parse_footer(const char *path, pq_file *f, sl_error *err) {
  bool oom;
  const char *why = pq_parse_meta(f->footer, f->footer_len, &f->meta, &oom);
  if (why != NULL)
    SL_FAIL(err, oom ? SL_ENOMEM : SL_EFORMAT, "%s: Parquet footer (FileMetaData) does not "
            "parse: %s", path, why);
  return SL_OK;
}

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
  return dt;
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

static sl_status read_schema(const char *path, pq_file *f, sl_error *err) {
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

static bool name_is(const pq_schema *e, const char *s, size_t n) {
  return (size_t)e->name_len == n && memcmp(e->name, s, n) == 0;
}

/* "a, b, c" of every field, for messages. */
static void field_names(const pq_file *f, char *buf, size_t cap) {
  size_t k = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < f->nfields && i < PQ_LIST_MAX && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%.*s", i ? ", " : "", f->fields[i].e->name_len,
                          f->fields[i].e->name);
  if (f->nfields > PQ_LIST_MAX && k < cap) snprintf(buf + k, cap - k, ", ...");
}

static sl_status find_field(const char *path, const pq_file *f, const char *s, size_t n,
                            const pq_top **out, sl_error *err) {
  for (size_t i = 0; i < f->nfields; i++)
    if (name_is(f->fields[i].e, s, n)) {
      *out = &f->fields[i];
      return SL_OK;
    }
  char all[512];
  field_names(f, all, sizeof all);
  SL_FAIL(err, SL_EINVAL, "%s: expected a column named '%.*s' (from --columns) but the file "
          "has none; its columns are: %s", path, (int)n, s, all);
}

static sl_status not_loadable(const char *path, const pq_top *fl, sl_error *err) {
  SL_FAIL(err, SL_EFORMAT, "%s: column %.*s %s %s, which cannot be loaded as numbers", path,
          fl->e->name_len, fl->e->name, fl->max_rep ? "is a list of" : "is", fl->why);
}

/* The fields --columns names, in its order. */
static sl_status select_named(const char *path, const char *list, const pq_file *f,
                              const pq_top **sel, size_t *n, sl_error *err) {
  *n = 0;
  for (const char *p = list; *p != '\0';) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    while (len > 0 && *p == ' ') p++, len--;
    while (len > 0 && p[len - 1] == ' ') len--;
    if (len == 0)
      SL_FAIL(err, SL_EINVAL, "%s: --columns '%s' has an empty column name", path, list);
    SL_TRY(find_field(path, f, p, len, &sel[(*n)++], err));
    p = comma ? comma + 1 : p + len;
    if (comma && *p == '\0')
      SL_FAIL(err, SL_EINVAL, "%s: --columns '%s' ends with a comma", path, list);
  }
  if (*n == 0) SL_FAIL(err, SL_EINVAL, "%s: --columns is empty", path);
  for (size_t i = 0; i < *n; i++)
    if (sel[i]->why != NULL) return not_loadable(path, sel[i], err);
  return SL_OK;
}

/* No --columns: every flat numeric column, or else the one list column. */
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
          all, lists > 1 ? " (several list columns: choose one with --columns)" : "");
}

/* "a INT32 (<i4), b INT64 (<i8)" */
static void type_list(const pq_top **sel, size_t n, char *buf, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < n && i < PQ_LIST_MAX && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%.*s %s (%s)", i ? ", " : "",
                          sel[i]->e->name_len, sel[i]->e->name, sel[i]->desc,
                          sl_dtype_str(sel[i]->dtype));
  if (n > PQ_LIST_MAX && k < cap) snprintf(buf + k, cap - k, ", ...");
}

static sl_status check_same(const char *path, const pq_top **sel, size_t n, bool named,
                            sl_error *err) {
  for (size_t i = 0; i < n; i++) {
    if (sel[i]->max_rep > 0 && n > 1)
      SL_FAIL(err, SL_EINVAL, "%s: column %.*s is a list, which loads only alone (as rows x "
              "list length); select it by itself with --columns", path, sel[i]->e->name_len,
              sel[i]->e->name);
    if (sel[i]->dtype == sel[0]->dtype) continue;
    char types[768];
    type_list(sel, n, types, sizeof types);
    SL_FAIL(err, SL_EFORMAT, "%s: %s columns differ in type (%s), so they cannot be stacked "
            "into one array; choose columns of one type with --columns", path,
            named ? "the selected" : "the numeric", types);
  }
  return SL_OK;
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
}

/* Every chunk of a selected column must have the schema's physical type. */
static sl_status check_chunks(const char *path, const pq_file *f, sl_error *err) {
  for (size_t g = 0; g < f->meta.ngroups; g++)
    for (size_t i = 0; i < f->ncols; i++) {
      const pq_chunk *c = &f->meta.groups[g].cols[f->cols[i].leaf];
      if (c->type != f->cols[i].type)
        SL_FAIL(err, SL_EFORMAT, "%s: column %.*s is %s in the schema but its chunk in row "
                "group %zu says %s", path, f->cols[i].name_len, f->cols[i].name,
                pq_type_name(f->cols[i].type), g, pq_type_name(c->type));
    }
  return SL_OK;
}

static sl_status select_columns(const char *path, const sl_open_options *o, pq_file *f,
                                sl_error *err) {
  bool named = o != NULL && o->columns != NULL;
  size_t cap = f->nfields + 1; /* --columns may name a field twice: one per comma */
  for (const char *p = named ? o->columns : ""; *p; p++) cap += *p == ',';
  const pq_top **sel = sl__calloc(cap, sizeof *sel);
  if (sel == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  size_t n = 0;
  sl_status st = named ? select_named(path, o->columns, f, sel, &n, err)
                       : select_default(path, f, sel, &n, err);
  if (st == SL_OK) st = check_same(path, sel, n, named, err);
  if (st == SL_OK && (f->cols = sl__calloc(n, sizeof *f->cols)) == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory", path);
  if (st == SL_OK) {
    f->ncols = n;
    for (size_t i = 0; i < n; i++) make_col(sel[i], &f->cols[i]);
    f->dtype = sel[0]->dtype;
    f->width = (int64_t)n;
    if (sel[0]->max_rep > 0) st = list_width(path, f, sel[0], &f->width, err);
  }
  sl__free(sel);
  if (st == SL_OK) st = check_chunks(path, f, err);
  return st;
}

/* ---------------------------------------------------------------- file */

static sl_status open_file(const char *path, const sl_open_options *o, pq_file **out,
                           sl_error *err) {
  pq_file *f = file_new();
  if (f == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  int fd;
  sl_status st = sl__open_read(path, false, &fd, err);
  if (st == SL_OK) {
    st = read_footer(fd, path, f, err);
    sl__close(fd);
  }
  if (st == SL_OK) st = parse_footer(path, f, err);
  if (st == SL_OK) st = read_schema(path, f, err);
  if (st == SL_OK) st = select_columns(path, o, f, err);
  f->has_fill = o != NULL && o->fill_nulls != NULL;
  if (st == SL_OK && f->has_fill) st = sl__parse_fill(path, o->fill_nulls, f->dtype, f->fill, err);
  if (st != SL_OK) {
    file_free(f);
    return st;
  }
  *out = f;
  return SL_OK;
}

static sl_status pq_probe(const char *path, const char *member, const sl_open_options *o,
                          sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)member;
  pq_file *f;
  SL_TRY(open_file(path, o, &f, err));
  info->dtype = f->dtype;
  info->ndim = 2;
  info->shape[0] = f->meta.num_rows;
  info->shape[1] = f->width;
  s->rows = f->meta.num_rows;
  s->file_size = f->file_size;
  s->swap = 0;
  s->param[P_FOOTER_LEN] = f->footer_len;
  s->param[P_DTYPE] = (uint64_t)f->dtype;
  s->param[P_WIDTH] = (uint64_t)f->width;
  file_free(s->priv);
  s->priv = f; /* this process reads with it later */
  return SL_OK;
}

/* ---------------------------------------------------------------- read */

static pthread_mutex_t priv_mutex = PTHREAD_MUTEX_INITIALIZER;

/* The parsed footer of s, made once per process; checked against probe's. */
static sl_status get_file(const sl_shard *s, const pq_file **out, sl_error *err) {
  sl_shard *w = (sl_shard *)s; /* priv is the driver's lazily built state */
  sl_status st = SL_OK;
  pthread_mutex_lock(&priv_mutex);
  if (w->priv == NULL) {
    pq_file *f = NULL;
    st = open_file(s->path, s->opts, &f, err);
    if (st == SL_OK && (f->footer_len != s->param[P_FOOTER_LEN] ||
                        (uint64_t)f->dtype != s->param[P_DTYPE] ||
                        (uint64_t)f->width != s->param[P_WIDTH] || f->meta.num_rows != s->rows)) {
      file_free(f);
      st = sl__fail(err, SL_EFORMAT, "%s: file changed during the load (its footer differs "
                    "from the one read at discovery)", s->path);
    } else if (st == SL_OK) {
      w->priv = f;
    }
  }
  *out = w->priv;
  pthread_mutex_unlock(&priv_mutex);
  return st;
}

/* Whether file bytes [off, off + len) lie between the magic and the footer. */
static bool in_data(const pq_file *f, int64_t off, int64_t len, int64_t *data_end) {
  int64_t end;
  *data_end = f->file_size - 8 - (int64_t)f->footer_len;
  return off >= 4 && sl__add(off, len, &end) && end <= *data_end;
}

/* The bytes of a chunk: from its dictionary page (if any) to its end. */
static sl_status chunk_range(const char *path, const pq_file *f, const pq_chunk *c,
                             const pq_col *col, int64_t *off, int64_t *len, sl_error *err) {
  *off = c->dict_off > 0 && c->dict_off < c->data_off ? c->dict_off : c->data_off;
  *len = c->compressed;
  int64_t data_end;
  if (!in_data(f, *off, *len, &data_end))
    SL_FAIL(err, SL_EFORMAT, "%s: column %.*s: the chunk (%lld bytes at %lld) lies outside the "
            "data section (bytes 4..%lld)", path, col->name_len, col->name, (long long)*len,
            (long long)*off, (long long)data_end);
  return SL_OK;
}

/* The OffsetIndex of chunk c (its bytes at off, n long), parsed into k;
   *usable false (and k->nlocs 0) when it lies outside the data section or
   does not parse as pages in order inside the chunk: an index only speeds
   reads up, and one that cannot be used is ignored, for every read alike. */
static sl_status read_index(int fd, const sl_shard *s, const pq_file *f, const pq_group *g,
                            const pq_chunk *c, int64_t off, int64_t n, pq_column *k,
                            bool *usable, sl_error *err) {
  int64_t data_end;
  *usable = false;
  k->nlocs = 0;
  if (!in_data(f, c->index_off, c->index_len, &data_end)) return SL_OK;
  if (!sl__buf_reserve(&k->sc.page, (size_t)c->index_len))
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory for an offset index", s->path);
  SL_TRY(sl__pread_full(fd, s->path, k->sc.page.p, (size_t)c->index_len, c->index_off, err));
  sl__free(k->locs);
  k->locs_cap = 0;
  bool oom;
  const char *why = pq_parse_offset_index(k->sc.page.p, (size_t)c->index_len, off, off + n,
                                          g->num_rows, &k->locs, &k->nlocs, &oom);
  if (oom) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for an offset index", s->path);
  k->locs_cap = k->nlocs;
  *usable = why == NULL;
  return SL_OK;
}

/* Page headers are read a window at a time while walking a chunk: 4 KiB
   for each header of large pages, doubling (to 1 MiB) while a window holds
   whole pages, so small pages come many to a read. */
#define PQ_WALK_MIN (4 << 10)
#define PQ_WALK_MAX (1 << 20)
#define PQ_MAX_HEADER (16 << 20)

/* A walk over a chunk's page headers: file bytes [at, at + len) are in buf. */
typedef struct pq_walk {
  int fd;
  const sl_shard *s;
  const pq_col *col;
  int64_t first_row, end; /* the group's first row (messages); the chunk's end */
  sl_buf *buf;
  int64_t at, len, win;
  sl_error *err;
} pq_walk;

static sl_status walk_fail(const pq_walk *w, const char *why) {
  SL_FAIL(w->err, SL_EFORMAT, "%s: column %.*s: %s (row group starting at row %lld)",
          w->s->path, w->col->name_len, w->col->name, why, (long long)w->first_row);
}

/* Reads the window afresh: len bytes from pos (fewer at the chunk's end). */
static sl_status refill(pq_walk *w, int64_t pos, int64_t len) {
  len = SL_MIN(len, w->end - pos);
  if (!sl__buf_reserve(w->buf, (size_t)len))
    SL_FAIL(w->err, SL_ENOMEM, "%s: out of memory for page headers", w->s->path);
  SL_TRY(sl__pread_full(w->fd, w->s->path, w->buf->p, (size_t)len, pos, w->err));
  w->at = pos;
  w->len = len;
  return SL_OK;
}

/* The page header at file offset pos. A header cut off by the window is
   read again in a larger one. */
static sl_status header_at(pq_walk *w, int64_t pos, pq_page *h) {
  int64_t want = w->win;
  for (;;) {
    if (pos >= w->at && pos < w->at + w->len) {
      const char *why = pq_parse_page(w->buf->p + (pos - w->at),
                                      (size_t)(w->at + w->len - pos), h);
      if (why == NULL && pos > w->at) w->win = SL_MIN(w->win * 2, PQ_WALK_MAX);
      if (why == NULL) return SL_OK;
      if (w->at + w->len == w->end || (w->at == pos && w->len >= PQ_MAX_HEADER))
        return walk_fail(w, why);
      if (w->at == pos) want = w->len * 16;
    }
    SL_TRY(refill(w, pos, want));
  }
}

/* File bytes [pos, pos + len) of the chunk (inside it), through the window. */
static sl_status bytes_at(pq_walk *w, int64_t pos, int64_t len, const uint8_t **p) {
  if (pos < w->at || pos + len > w->at + w->len) SL_TRY(refill(w, pos, SL_MAX(w->win, len)));
  *p = w->buf->p + (pos - w->at);
  return SL_OK;
}

/* The rows of data page h at pos as pq_page_rows counts them (-1: they
   cannot be told, or the page starts inside a row and so cannot be read
   alone); its repetition levels are read through the window where needed. */
static sl_status walk_rows(pq_walk *w, const pq_page *h, int64_t pos, int64_t cap, sl_buf *rep,
                           int64_t *rows) {
  const uint8_t *body = NULL;
  if (w->col->is_list && h->type == PQ_DATA_PAGE_V2)
    SL_TRY(bytes_at(w, pos + (int64_t)h->header_len, SL_MIN(h->rep_len, h->compressed), &body));
  bool starts_row;
  const char *why = pq_page_rows(w->col, h, body, cap, rep, rows, &starts_row);
  if (why == pq_oom) SL_FAIL(w->err, SL_ENOMEM, "%s: out of memory for levels", w->s->path);
  if (why != NULL) return walk_fail(w, why);
  if (!starts_row) *rows = -1;
  return SL_OK;
}

static bool add_loc(pq_column *k, pq_loc l) {
  if (k->nlocs == k->locs_cap) {
    size_t cap = k->locs_cap ? k->locs_cap * 2 : 64;
    pq_loc *p = sl__grow(k->locs, k->locs_cap, cap, sizeof *p);
    if (p == NULL) return false;
    k->locs = p;
    k->locs_cap = cap;
  }
  k->locs[k->nlocs++] = l;
  return true;
}

/* For a chunk without an OffsetIndex (bytes [off, off + n)): its data pages
   from the first to the one holding row upto - 1, found from their headers,
   into k->locs; *end_row is the row after them. *ok is false where a page's
   rows cannot be told (v1 pages of a list column, a v2 page starting inside
   a row) or it holds none. */
static sl_status walk_pages(int fd, const sl_shard *s, const pq_group *g, int64_t off,
                            int64_t n, int64_t upto, pq_column *k, int64_t *end_row, bool *ok,
                            sl_error *err) {
  pq_walk w = {fd, s, k->t.col, g->first_row, off + n, &k->sc.page, 0, 0, PQ_WALK_MIN, err};
  int64_t pos = off, row = 0, cap;
  if (!sl__mul(g->num_rows, SL_MAX(k->t.width, 1), &cap)) cap = INT64_MAX;
  k->nlocs = 0;
  *ok = false;
  while (pos < w.end && row < upto) {
    pq_page h;
    SL_TRY(header_at(&w, pos, &h));
    if ((int64_t)h.header_len + h.compressed > w.end - pos)
      return walk_fail(&w, "a page runs past the end of its column chunk");
    int64_t size = (int64_t)h.header_len + h.compressed;
    if (h.type == PQ_DATA_PAGE || h.type == PQ_DATA_PAGE_V2) {
      int64_t rows;
      SL_TRY(walk_rows(&w, &h, pos, cap, &k->sc.rep, &rows));
      if (rows <= 0) return SL_OK;
      if (rows > g->num_rows - row)
        return walk_fail(&w, "pages hold more rows than their row group");
      if (!add_loc(k, (pq_loc){pos, size, row}))
        SL_FAIL(err, SL_ENOMEM, "%s: out of memory for page locations", s->path);
      row += rows;
    }
    pos += size;
  }
  *ok = k->nlocs > 0;
  *end_row = row;
  return SL_OK;
}

/* Reads file bytes [off, off + n) to the end of the chunk buffer, *len so far. */
static sl_status append(int fd, const sl_shard *s, pq_scratch *sc, int64_t off, int64_t n,
                        size_t *len, sl_error *err) {
  if (n == 0) return SL_OK;
  SL_TRY(sl__pread_full(fd, s->path, sc->chunk.p + *len, (size_t)n, off, err));
  *len += (size_t)n;
  return SL_OK;
}

/* Where chunk c's pages are, for rows [a, b) of the group: from its
   OffsetIndex (for whole reads too, so that every read checks the pages
   against it alike), or else, when only some rows are wanted, from the page
   headers (*by says which). *ok false: unknown, read the chunk whole. */
static sl_status locate_pages(int fd, const sl_shard *s, const pq_file *f, const pq_group *g,
                              const pq_chunk *c, int64_t off, int64_t n, pq_column *k,
                              int64_t *end_row, const char **by, bool *ok, sl_error *err) {
  *ok = false;
  *end_row = g->num_rows;
  *by = "its offset index";
  if (c->index_off >= 0) SL_TRY(read_index(fd, s, f, g, c, off, n, k, ok, err));
  if (*ok || (k->t.a == 0 && k->t.b == g->num_rows)) return SL_OK;
  *by = "its page headers";
  return walk_pages(fd, s, g, off, n, k->t.b, k, end_row, ok, err);
}

/* Column i's chunk in row group g into its buffer, and its cursor set up on
   it for rows [t.a, t.b). Where only some rows are wanted and the pages can
   be located, only the bytes before the first data page (the dictionary)
   and the pages holding those rows are read. */
static sl_status read_chunk(int fd, const sl_shard *s, const pq_file *f, const pq_group *g,
                            size_t i, pq_column *k, sl_error *err) {
  const pq_col *col = &f->cols[i];
  const pq_chunk *c = &g->cols[col->leaf];
  int64_t off, n, a = k->t.a, b = k->t.b, end_row = 0;
  SL_TRY(chunk_range(s->path, f, c, col, &off, &n, err));
  bool paged;
  const char *by;
  SL_TRY(locate_pages(fd, s, f, g, c, off, n, k, &end_row, &by, &paged, err));
  size_t p0 = 0, p1 = 0, len = 0;
  int64_t lead = n, from = 0, to = 0;
  paged = paged && pq_pages_for(k->locs, k->nlocs, a, b, &p0, &p1);
  if (paged) {
    lead = k->locs[0].offset - off;
    from = k->locs[p0].offset;
    to = k->locs[p1].offset + k->locs[p1].size;
  }
  if (!sl__buf_reserve(&k->sc.chunk, (size_t)(lead + (to - from))))
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory for a column chunk", s->path);
  SL_TRY(append(fd, s, &k->sc, off, lead, &len, err));
  SL_TRY(append(fd, s, &k->sc, from, to - from, &len, err));
  pq_cursor_init(&k->cur, s->path, c, k->sc.chunk.p, len, g->num_rows, &k->t, &k->sc, err);
  if (paged) pq_cursor_pages(&k->cur, k->locs, k->nlocs, end_row, p0, (size_t)lead, by);
  return SL_OK;
}

/* Flat columns: rows as long as every column's page runs, interleaved row
   by row. */
static sl_status gather_rows(const pq_file *f, int64_t a, int64_t b, uint8_t *dst,
                             pq_work *w) {
  size_t ow = sl_dtype_size(f->dtype), stride = (size_t)f->width * ow;
  for (int64_t r = a; r < b;) {
    int64_t k = b - r, avail;
    for (size_t i = 0; i < f->ncols; i++) {
      SL_TRY(pq_cursor_at(&w->col[i].cur, r, &w->src[i], &avail));
      k = SL_MIN(k, avail);
    }
    sl__gather((char *)dst + (size_t)(r - a) * stride, stride, w->src, f->ncols, ow, ow, k);
    r += k;
  }
  return SL_OK;
}

/* Rows [a, b) of row group g, every selected column: a list column decodes
   straight into its rows, flat columns through their cursors. */
static sl_status read_group(int fd, const sl_shard *s, const pq_file *f, const pq_group *g,
                            int64_t a, int64_t b, uint8_t *dst, pq_work *w,
                            sl_error *err) {
  size_t ow = sl_dtype_size(f->dtype), stride = (size_t)f->width * ow;
  for (size_t i = 0; i < f->ncols; i++) {
    pq_column *k = &w->col[i];
    k->t = (pq_target){.col = &f->cols[i], .a = a, .b = b, .ow = ow, .dst = dst + i * ow,
                       .stride = stride, .width = f->cols[i].is_list ? f->width : 1,
                       .fill = f->has_fill ? f->fill : NULL, .first_row = g->first_row};
    SL_TRY(read_chunk(fd, s, f, g, i, k, err));
    if (f->cols[i].is_list) return pq_cursor_read(&k->cur);
  }
  if (f->ncols == 1) return pq_cursor_copy(&w->col[0].cur, a, b - a, dst);
  return gather_rows(f, a, b, dst, w);
}

/* A pooled work set with room for n columns (their buffers kept). */
static pq_work *work_get(size_t n) {
  pq_work *w = sl__pool_get(&pool);
  if (w == NULL) w = sl__calloc(1, sizeof *w);
  if (w == NULL || w->cap >= n) return w;
  pq_column *col = sl__grow(w->col, w->cap, n, sizeof *col);
  if (col != NULL) w->col = col;
  const uint8_t **src = sl__grow(w->src, w->cap, n, sizeof *src);
  if (src != NULL) w->src = src;
  if (col == NULL || src == NULL) {
    work_free(w);
    return NULL;
  }
  w->cap = n;
  return w;
}

static sl_status pq_read(const sl_shard *s, int64_t lo, int64_t hi, void *dst, sl_error *err) {
  assert(lo >= 0 && lo <= hi && hi <= s->rows);
  if (lo == hi) return SL_OK;
  const pq_file *f;
  SL_TRY(get_file(s, &f, err));
  pq_work *w = work_get(f->ncols);
  if (w == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for decoding buffers", s->path);
  int fd = -1;
  sl_status st = sl__open_read(s->path, false, &fd, err);
  size_t row_bytes = (size_t)f->width * sl_dtype_size(f->dtype);
  for (size_t i = 0; i < f->meta.ngroups && st == SL_OK; i++) {
    const pq_group *g = &f->meta.groups[i];
    int64_t a = SL_MAX(lo, g->first_row), b = SL_MIN(hi, g->first_row + g->num_rows);
    if (a >= b) continue;
    uint8_t *out = (uint8_t *)dst + (size_t)(a - lo) * row_bytes;
    st = read_group(fd, s, f, g, a - g->first_row, b - g->first_row, out, w, err);
  }
  sl__close(fd);
  sl__pool_put(&pool, w);
  return st;
}

/* Row groups are the units: a piece that ends inside one decodes its
   column chunks again. */
static int64_t pq_unit_start(const sl_shard *s, int64_t row) {
  const pq_file *f;
  sl_error ignored = {0};
  if (get_file(s, &f, &ignored) != SL_OK) return -1; /* the read will say why */
  for (size_t i = 0; i < f->meta.ngroups; i++)
    if (f->meta.groups[i].first_row >= row) return f->meta.groups[i].first_row;
  return s->rows;
}

static void pq_release(sl_shard *s) {
  file_free(s->priv);
  s->priv = NULL;
}

/* ----------------------------------------------------------- fuzz entry */

sl_status sl__parquet_parse_footer(const uint8_t *buf, size_t n, sl_error *err) {
  /* a whole file: the footer is at its end; else the bytes are the footer */
  if (n >= 12 && memcmp(buf + n - 4, "PAR1", 4) == 0 && le32(buf + n - 8) <= n - 12) {
    size_t len = le32(buf + n - 8);
    buf += n - 8 - len;
    n = len;
  }
  pq_file *f = file_new();
  if (f == NULL) SL_FAIL(err, SL_ENOMEM, "<buffer>: out of memory");
  f->footer = sl__malloc(n ? n : 1);
  sl_status st = f->footer == NULL ? sl__fail(err, SL_ENOMEM, "<buffer>: out of memory") : SL_OK;
  if (st == SL_OK) {
    memcpy(f->footer, buf, n);
    f->footer_len = n;
    st = parse_footer("<buffer>", f, err);
  }
  if (st == SL_OK) st = read_schema("<buffer>", f, err);
  if (st == SL_OK) st = select_columns("<buffer>", NULL, f, err);
  file_free(f);
  return st;
}

static const char *const pq_ext[] = {".parquet", ".pq", NULL};

const sl_driver sl__parquet_driver = {
    .name = "parquet",
    .extensions = pq_ext,
    .probe = pq_probe,
    .read = pq_read,
    .release = pq_release,
    .write = sl__parquet_write,
    .unit_start = pq_unit_start,
};
