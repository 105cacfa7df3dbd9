/* Arrow IPC file format: footer, schema, column selection and record batch
 * metadata (format/File.fbs, Schema.fbs, Message.fbs of apache/arrow).
 *
 * A file is "ARROW1\0\0", encapsulated messages, the Footer flatbuffer, its
 * int32 length and "ARROW1". The footer holds the Schema and a Block
 * {offset, metaDataLength, bodyLength} per record batch, so one read of the
 * footer and one small read per batch give every number the driver needs:
 * the schema is taken from the footer alone (Arrow JS writes it nowhere
 * else). Each batch's nodes and buffers follow the schema's fields flattened
 * in pre-order; a selected column is found there by counting the nodes and
 * buffers of every field before it. The stream format (.arrows), the same
 * messages without magic or footer, is scanned once, message header by
 * message header (see "streams" below).
 */
#include <stdio.h>
#include <string.h>

#include "flatbuf.h"
#include "ipc.h"

/* Metadata larger than this is not a record batch header of a sane file. */
#define ARROW_MAX_META (64 << 20)
/* Nesting deeper than this is refused rather than recursed into. */
#define ARROW_MAX_DEPTH 64
#define ARROW_BLOCK_SIZE 24 /* struct Block: i64 offset, i32 (+4 pad), i64 */
#define ARROW_NODE_SIZE 16  /* struct FieldNode: i64 length, i64 null_count */
#define ARROW_BUF_SIZE 16   /* struct Buffer: i64 offset, i64 length */

/* Type union tags of Schema.fbs. */
enum {
  T_NONE, T_NULL, T_INT, T_FLOAT, T_BINARY, T_UTF8, T_BOOL, T_DECIMAL, T_DATE, T_TIME,
  T_TIMESTAMP, T_INTERVAL, T_LIST, T_STRUCT, T_UNION, T_FIXED_BINARY, T_FIXED_LIST, T_MAP,
  T_DURATION, T_LARGE_BINARY, T_LARGE_UTF8, T_LARGE_LIST, T_RUN_END, T_BINARY_VIEW,
  T_UTF8_VIEW, T_LIST_VIEW, T_LARGE_LIST_VIEW, T_COUNT
};

static const char *const type_names[T_COUNT] = {
    "NONE",        "Null",     "Int",          "FloatingPoint", "Binary",
    "Utf8",        "Bool",     "Decimal",      "Date",          "Time",
    "Timestamp",   "Interval", "List",         "Struct",        "Union",
    "FixedSizeBinary", "FixedSizeList", "Map", "Duration",      "LargeBinary",
    "LargeUtf8",   "LargeList", "RunEndEncoded", "BinaryView",  "Utf8View",
    "ListView",    "LargeListView"};

/* Field table slots; the type union takes two (tag, value). */
enum { F_NAME = 0, F_TYPE_TAG = 2, F_TYPE = 3, F_DICT = 4, F_CHILDREN = 5 };

static sl_status bad(const char *path, sl_error *err, const char *what) {
  SL_FAIL(err, SL_EFORMAT, "%s: malformed Arrow IPC file: %s", path, what);
}

/* ------------------------------------------------------------ byte source */

sl_status sl__arrow_src_read(const sl_source *src, int64_t off, int64_t n, void *buf,
                             sl_error *err) {
  int64_t end;
  if (off < 0 || n < 0 || !sl__add(off, n, &end) || end > sl_source_size(src))
    SL_FAIL(err, SL_EFORMAT, "%s: Arrow data at byte %lld (+%lld) lies past the end of "
            "the file (%lld bytes)", sl_source_path(src), (long long)off, (long long)n,
            (long long)sl_source_size(src));
  return sl_source_read(src, off, (size_t)n, buf, err);
}

/* Reads [off, off + n) into a fresh allocation. */
static sl_status read_alloc(const sl_source *src, int64_t off, int64_t n, uint8_t **out,
                            sl_error *err) {
  *out = sl__malloc(n > 0 ? (size_t)n : 1);
  if (*out == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory (%lld bytes)", sl_source_path(src),
                            (long long)n);
  sl_status st = sl__arrow_src_read(src, off, n, *out, err);
  if (st != SL_OK) {
    sl__free(*out);
    *out = NULL;
  }
  return st;
}

/* ------------------------------------------------------------------ types */

/* What a field holds, as far as loading it as numbers goes. */
typedef struct ftype {
  bool numeric;      /* a primitive we load (Int, FloatingPoint, Bool) */
  bool fsl;          /* FixedSizeList of such a primitive */
  bool dict;
  bool temporal;     /* a Date, Time, Timestamp or Duration: loads when named */
  sl_dtype dtype;
  int64_t width;
  char name[160];    /* "Float32", "Utf8", "FixedSizeList<Float32>[16]" */
} ftype;

static bool int_dtype(const fb_table *t, ftype *ft) {
  int32_t bits;
  uint8_t is_signed;
  if (!sl__fb_i32(t, 0, 0, &bits) || !sl__fb_u8(t, 1, 0, &is_signed)) return false;
  static const sl_dtype s[] = {SL_INT8, SL_INT16, SL_INT32, SL_INT64};
  static const sl_dtype u[] = {SL_UINT8, SL_UINT16, SL_UINT32, SL_UINT64};
  int k = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : bits == 64 ? 3 : -1;
  snprintf(ft->name, sizeof ft->name, "%sInt%d", is_signed ? "" : "U", (int)bits);
  if (k < 0) return true;
  ft->dtype = is_signed ? s[k] : u[k];
  ft->numeric = true;
  return true;
}

static bool float_dtype(const fb_table *t, ftype *ft) {
  int16_t prec;
  if (!sl__fb_i16(t, 0, 0, &prec)) return false;
  static const sl_dtype d[] = {SL_FLOAT16, SL_FLOAT32, SL_FLOAT64};
  if (prec < 0 || prec > 2) {
    snprintf(ft->name, sizeof ft->name, "FloatingPoint(precision %d)", prec);
    return true;
  }
  snprintf(ft->name, sizeof ft->name, "Float%d", 16 << prec);
  ft->dtype = d[prec];
  ft->numeric = true;
  return true;
}

/* Date, Time, Timestamp and Duration load as the integers they are stored
   as, when a column is named (the default selection leaves them out). */
static const char *const time_units[] = {"s", "ms", "us", "ns"};
static const char *const unit_words[] = {"seconds", "milliseconds", "microseconds",
                                         "nanoseconds"};

static bool temporal_dtype(int tag, const fb_table *t, ftype *ft) {
  int16_t unit = 1;
  int32_t bits = 32;
  const char *tz = NULL;
  size_t tzlen = 0;
  if (!sl__fb_i16(t, 0, tag == T_DATE ? 1 : tag == T_TIMESTAMP ? 0 : 1, &unit) ||
      (tag == T_TIME && !sl__fb_i32(t, 1, 32, &bits)) ||
      (tag == T_TIMESTAMP && !sl__fb_string(t, 1, &tz, &tzlen)))
    return false;
  if (unit < 0 || unit > 3 || (tag == T_DATE && unit > 1)) return true; /* unsupported */
  if (tag == T_DATE) {
    ft->dtype = unit == 0 ? SL_INT32 : SL_INT64;
    snprintf(ft->name, sizeof ft->name, "%s", unit == 0
             ? "Date32 (int32 days since 1970-01-01)"
             : "Date64 (int64 milliseconds since 1970-01-01)");
  } else if (tag == T_TIME) {
    if (bits != 32 && bits != 64) return true;
    ft->dtype = bits == 32 ? SL_INT32 : SL_INT64;
    snprintf(ft->name, sizeof ft->name, "Time%d[%s] (int%d %s since midnight)", (int)bits,
             time_units[unit], (int)bits, unit_words[unit]);
  } else if (tag == T_TIMESTAMP) {
    ft->dtype = SL_INT64;
    snprintf(ft->name, sizeof ft->name, "Timestamp[%s%s%.*s] (int64 %s since 1970-01-01 "
             "00:00:00%s)", time_units[unit], tzlen ? ", " : "", (int)SL_MIN(tzlen, 32),
             tz ? tz : "", unit_words[unit], tzlen ? " UTC" : ", no time zone");
  } else {
    ft->dtype = SL_INT64;
    snprintf(ft->name, sizeof ft->name, "Duration[%s] (int64 %s)", time_units[unit],
             unit_words[unit]);
  }
  ft->temporal = true;
  return true;
}

static bool classify(const fb_table *field, int depth, ftype *ft);

/* FixedSizeList<primitive>[n]: the one nested type loaded (rows x n). */
static bool fsl_dtype(const fb_table *field, const fb_table *t, int depth, ftype *ft) {
  int32_t size;
  fb_vector kids;
  bool present;
  fb_table child;
  ftype ct;
  if (!sl__fb_i32(t, 0, 0, &size) ||
      !sl__fb_vector(field, F_CHILDREN, 4, &kids, &present))
    return false;
  if (!present || kids.len != 1 || !sl__fb_vector_table(&kids, 0, &child) ||
      !classify(&child, depth + 1, &ct))
    return false;
  snprintf(ft->name, sizeof ft->name, "FixedSizeList<%.60s>[%d]", ct.name, (int)size);
  if (ct.numeric && size > 0) {
    ft->fsl = true;
    ft->dtype = ct.dtype;
    ft->width = size;
  }
  return true;
}

/* False only for a malformed field; unsupported types come back with
   numeric and fsl false and a name for the message. */
static bool classify(const fb_table *field, int depth, ftype *ft) {
  memset(ft, 0, sizeof *ft);
  ft->width = 1;
  uint8_t tag;
  fb_table t, dict;
  bool has_t, has_dict;
  if (depth > ARROW_MAX_DEPTH || !sl__fb_u8(field, F_TYPE_TAG, 0, &tag) ||
      !sl__fb_table(field, F_TYPE, &t, &has_t) ||
      !sl__fb_table(field, F_DICT, &dict, &has_dict))
    return false;
  snprintf(ft->name, sizeof ft->name, "%s", tag < T_COUNT ? type_names[tag] : "unknown");
  bool ok = true; /* Int, FloatingPoint or FSL without its parameters: unsupported */
  if (tag == T_BOOL) ft->dtype = SL_BOOL, ft->numeric = true;
  else if (has_t && tag == T_INT) ok = int_dtype(&t, ft);
  else if (has_t && tag == T_FLOAT) ok = float_dtype(&t, ft);
  else if (has_t && tag == T_FIXED_LIST) ok = fsl_dtype(field, &t, depth, ft);
  else if (has_t && (tag == T_DATE || tag == T_TIME || tag == T_TIMESTAMP || tag == T_DURATION))
    ok = temporal_dtype(tag, &t, ft);
  if (ok && has_dict) {
    char inner[160];
    snprintf(inner, sizeof inner, "%s", ft->name);
    snprintf(ft->name, sizeof ft->name, "Dictionary<%.80s>", inner);
    ft->numeric = ft->fsl = ft->temporal = false;
    ft->dict = true;
  }
  return ok;
}

/* ------------------------------------------------------------ flattening */

/* Position of a field in a batch's flattened node and buffer lists. */
typedef struct flat_pos {
  int64_t nodes, buffers, views;
} flat_pos;

/* Buffers a field of this type owns in a V5 record batch, besides its
   children's (Columnar.rst, "Buffer Listing for Each Layout"); -1 unknown. */
static int own_buffers(int tag, const fb_table *field, bool *view) {
  *view = false;
  switch (tag) {
    case T_NULL: case T_RUN_END: return 0;
    case T_STRUCT: case T_FIXED_LIST: return 1;
    case T_BINARY: case T_UTF8: case T_LARGE_BINARY: case T_LARGE_UTF8:
    case T_LIST_VIEW: case T_LARGE_LIST_VIEW: return 3;
    case T_BINARY_VIEW: case T_UTF8_VIEW: *view = true; return 2;
    case T_UNION: {
      fb_table t;
      bool has;
      int16_t mode = 0; /* Sparse: type ids only; Dense: type ids + offsets */
      if (!sl__fb_table(field, F_TYPE, &t, &has) || (has && !sl__fb_i16(&t, 0, 0, &mode)))
        return -1;
      return mode == 1 ? 2 : 1;
    }
    case T_INT: case T_FLOAT: case T_BOOL: case T_DECIMAL: case T_DATE: case T_TIME:
    case T_TIMESTAMP: case T_INTERVAL: case T_FIXED_BINARY: case T_DURATION:
    case T_LIST: case T_LARGE_LIST: case T_MAP: return 2;
    default: return -1;
  }
}

/* Advances p past one field and its children; false when the field cannot
   be laid out (malformed, or a type this reader does not know). */
static bool skip_field(const fb_table *field, int depth, flat_pos *p) {
  uint8_t tag;
  fb_table dict;
  bool has_dict, view, present;
  if (depth > ARROW_MAX_DEPTH || !sl__fb_u8(field, F_TYPE_TAG, 0, &tag) ||
      !sl__fb_table(field, F_DICT, &dict, &has_dict))
    return false;
  p->nodes++;
  if (has_dict) { /* indices only; the values travel in dictionary batches */
    p->buffers += 2;
    return true;
  }
  int nb = own_buffers(tag, field, &view);
  if (nb < 0) return false;
  p->buffers += nb;
  p->views += view;
  fb_vector kids;
  if (!sl__fb_vector(field, F_CHILDREN, 4, &kids, &present)) return false;
  for (uint32_t i = 0; present && i < kids.len; i++) {
    fb_table child;
    if (!sl__fb_vector_table(&kids, i, &child) || !skip_field(&child, depth + 1, p))
      return false;
  }
  return true;
}

/* ------------------------------------------------------ column selection */

typedef struct schema_view {
  const char *path;
  fb_vector fields;
  ftype *types;      /* one per top-level field */
} schema_view;

static bool field_at(const schema_view *v, size_t i, fb_table *f) {
  return sl__fb_vector_table(&v->fields, (uint32_t)i, f);
}

/* The field's name (not NUL-terminated in the buffer) as "%.*s" arguments. */
static void field_name(const schema_view *v, size_t i, const char **s, int *len) {
  fb_table f;
  size_t n = 0;
  *s = "";
  if (field_at(v, i, &f)) sl__fb_string(&f, F_NAME, s, &n);
  *len = n > 256 ? 256 : (int)n;
}

/* "a (Int32), b (Int64)": the fields (numeric ones only if asked), shortened. */
static const char *describe(const schema_view *v, bool numeric_only, char *buf, size_t cap) {
  size_t k = 0, shown = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < v->fields.len && k + 1 < cap; i++) {
    if (numeric_only && !v->types[i].numeric) continue;
    const char *s;
    int len;
    field_name(v, i, &s, &len);
    if (shown++ == 12) {
      snprintf(buf + k, cap - k, ", ...");
      break;
    }
    k += (size_t)snprintf(buf + k, cap - k, "%s%.*s (%s)", k ? ", " : "", len, s,
                          v->types[i].name);
  }
  return buf;
}

static sl_status load_types(schema_view *v, sl_error *err) {
  v->types = sl__calloc(v->fields.len ? v->fields.len : 1, sizeof *v->types);
  if (v->types == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", v->path);
  for (size_t i = 0; i < v->fields.len; i++) {
    fb_table f;
    if (!field_at(v, i, &f) || !classify(&f, 0, &v->types[i]))
      return bad(v->path, err, "a schema field does not parse");
  }
  return SL_OK;
}


/* Checks that the chosen fields can be stacked: loadable, and an FSL
   column only alone; their types decide the array's (columns.c). */
static sl_status check_choice(const schema_view *v, const arrow_options *o, const int64_t *sel,
                              size_t n, bool named, sl_dtype *out, sl_error *err) {
  for (size_t k = 0; k < n; k++) {
    const ftype *t = &v->types[sel[k]];
    const char *s;
    int len;
    field_name(v, (size_t)sel[k], &s, &len);
    if (!t->numeric && !t->fsl && !t->temporal)
      SL_FAIL(err, SL_EFORMAT, "%s: column '%.*s' has type %s, which cannot be loaded as "
              "numbers (loadable: Int, FloatingPoint, Bool, FixedSizeList of those; Date, "
              "Time, Timestamp, Duration by name)", v->path, len, s, t->name);
    if (t->fsl && n > 1)
      SL_FAIL(err, SL_EFORMAT, "%s: column '%.*s' (%s) must be selected alone, not with "
              "other columns", v->path, len, s, t->name);
  }
  sl_col_type *c = sl__calloc(n ? n : 1, sizeof *c);
  if (c == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", v->path);
  for (size_t k = 0; k < n; k++) {
    int len;
    field_name(v, (size_t)sel[k], &c[k].name.p, &len);
    c[k].name.len = (size_t)len;
    c[k].dtype = v->types[sel[k]].dtype;
    c[k].desc = v->types[sel[k]].name;
  }
  sl_status st = sl__columns_dtype(v->path, o, c, n, named ? "selected" : "numeric", out, err);
  sl__free(c);
  return st;
}

/* Option columns: each name looked up in order, by the shared module. */
static sl_status choose_named(const schema_view *v, const sl_columns *want, int64_t *sel,
                              size_t *n, sl_error *err) {
  sl_name *have = sl__malloc((v->fields.len ? v->fields.len : 1) * sizeof *have);
  size_t *idx = sl__malloc(want->n * sizeof *idx);
  sl_status st = have && idx ? SL_OK : sl__fail(err, SL_ENOMEM, "%s: out of memory", v->path);
  for (size_t i = 0; st == SL_OK && i < v->fields.len; i++) {
    int len;
    field_name(v, i, &have[i].p, &len);
    have[i].len = (size_t)len;
  }
  if (st == SL_OK) st = sl__columns_resolve(v->path, want, have, v->fields.len, idx, err);
  for (size_t i = 0; st == SL_OK && i < want->n; i++) sel[i] = (int64_t)idx[i];
  *n = st == SL_OK ? want->n : 0;
  sl__free(have);
  sl__free(idx);
  return st;
}

/* No option columns: every numeric column, or else the only FixedSizeList one. */
static sl_status choose_default(const schema_view *v, int64_t *sel, size_t *n,
                                sl_error *err) {
  char list[700];
  size_t nfsl = 0;
  int64_t fsl = -1;
  *n = 0;
  for (size_t i = 0; i < v->fields.len; i++) {
    if (v->types[i].numeric) sel[(*n)++] = (int64_t)i;
    if (v->types[i].fsl) nfsl++, fsl = (int64_t)i;
  }
  if (*n == 0 && nfsl == 1) sel[(*n)++] = fsl;
  if (*n == 0)
    SL_FAIL(err, SL_EFORMAT, "%s: no numeric column to load (the file has: %s)", v->path,
            describe(v, false, list, sizeof list));
  return SL_OK;
}

/* Fills f->cols for the chosen fields, with their flattened positions. */
static sl_status place_columns(const schema_view *v, const int64_t *sel, size_t n,
                               arrow_file *f, sl_error *err) {
  int64_t last = 0;
  for (size_t k = 0; k < n; k++) last = SL_MAX(last, sel[k]);
  flat_pos *pos = sl__calloc((size_t)last + 1, sizeof *pos);
  f->cols = sl__calloc(n, sizeof *f->cols);
  if (pos == NULL || f->cols == NULL) {
    sl__free(pos);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory", v->path);
  }
  f->ncols = n;
  flat_pos p = {0, 0, 0};
  for (int64_t i = 0; i <= last; i++) {
    fb_table fld;
    pos[i] = p;
    if (i < last && (!field_at(v, (size_t)i, &fld) || !skip_field(&fld, 0, &p))) {
      const char *s;
      int len;
      field_name(v, (size_t)i, &s, &len);
      sl__free(pos);
      SL_FAIL(err, SL_EFORMAT, "%s: cannot locate the selected columns: column '%.*s' "
              "before them has an unknown layout (%s)", v->path, len, s,
              v->types[i].name);
    }
  }
  sl_status st = SL_OK;
  for (size_t k = 0; k < n && st == SL_OK; k++) {
    arrow_col *c = &f->cols[k];
    const ftype *t = &v->types[sel[k]];
    const char *s;
    int len;
    field_name(v, (size_t)sel[k], &s, &len);
    c->name = sl__malloc((size_t)len + 1);
    if (c->name == NULL) st = sl__fail(err, SL_ENOMEM, "%s: out of memory", v->path);
    else snprintf(c->name, (size_t)len + 1, "%.*s", len, s);
    c->fsl = t->fsl;
    c->bits = t->dtype == SL_BOOL;
    c->dtype = t->dtype;
    c->type = sl__strdup(t->name);
    if (c->type == NULL && st == SL_OK) st = sl__fail(err, SL_ENOMEM, "%s: out of memory", v->path);
    c->width = t->width;
    c->node = pos[sel[k]].nodes;
    c->buffer = pos[sel[k]].buffers;
    c->views_before = pos[sel[k]].views;
  }
  sl__free(pos);
  return st;
}

/* ------------------------------------------------- what is left out (inspect) */

static bool starts(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Why field t is not in the array: its type, or the selection. */
static void why_left_out(const ftype *t, bool named, char *buf, size_t cap) {
  const char *n = t->name;
  if (named && (t->numeric || t->fsl || t->temporal))
    snprintf(buf, cap, "not named by option columns");
  else if (t->temporal)
    snprintf(buf, cap, "%s: dates and times load only when named in option columns", n);
  else if (t->fsl)
    snprintf(buf, cap, "%s: a list column, which loads only alone: name it in option columns", n);
  else if (t->dict)
    snprintf(buf, cap, "%s: dictionary-encoded, which does not load as numbers", n);
  else if (starts(n, "Utf8") || starts(n, "LargeUtf8") || starts(n, "Binary") ||
           starts(n, "LargeBinary") || starts(n, "FixedSizeBinary"))
    snprintf(buf, cap, "%s: strings or bytes, not numbers", n);
  else if (starts(n, "List") || starts(n, "LargeList") || starts(n, "FixedSizeList"))
    snprintf(buf, cap, "%s: not a fixed-size list of numbers", n);
  else if (starts(n, "Struct") || starts(n, "Map") || starts(n, "Union"))
    snprintf(buf, cap, "%s: nested, not numbers", n);
  else
    snprintf(buf, cap, "%s: does not load as numbers", n);
}

static sl_status add_skipped(const schema_view *v, size_t i, const char *why, arrow_file *f,
                             sl_error *err) {
  const char *s;
  int len;
  field_name(v, i, &s, &len);
  arrow_skip *k = &f->skipped[f->nskipped];
  k->name = sl__malloc((size_t)len + 1);
  k->why = sl__strdup(why);
  if (k->name != NULL) snprintf(k->name, (size_t)len + 1, "%.*s", len, s);
  f->nskipped++; /* freed with the file even when half made */
  if (k->name == NULL || k->why == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", v->path);
  return SL_OK;
}

static sl_status record_skipped(const schema_view *v, const int64_t *sel, size_t n, bool named,
                                arrow_file *f, sl_error *err) {
  f->skipped = sl__calloc(v->fields.len ? v->fields.len : 1, sizeof *f->skipped);
  if (f->skipped == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", v->path);
  for (size_t i = 0; i < v->fields.len; i++) {
    bool chosen = false;
    for (size_t k = 0; k < n; k++) chosen |= sel[k] == (int64_t)i;
    if (chosen) continue;
    char why[256];
    why_left_out(&v->types[i], named, why, sizeof why);
    SL_TRY(add_skipped(v, i, why, f, err));
  }
  return SL_OK;
}

static sl_status select_columns(schema_view *v, const arrow_options *o, arrow_file *f,
                                sl_error *err) {
  SL_TRY(load_types(v, err));
  bool named = o != NULL && o->columns.n > 0;
  size_t cap = SL_MAX(named ? o->columns.n : 0, (size_t)v->fields.len);
  int64_t *sel = sl__malloc((cap ? cap : 1) * sizeof *sel);
  if (sel == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", v->path);
  size_t n = 0;
  sl_status st = named ? choose_named(v, &o->columns, sel, &n, err)
                       : choose_default(v, sel, &n, err);
  sl_dtype dtype = SL_DTYPE_COUNT;
  if (st == SL_OK) st = check_choice(v, o, sel, n, named, &dtype, err);
  if (st == SL_OK && (f->types = sl__calloc(n ? n : 1, sizeof *f->types)) == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory", v->path);
  if (st == SL_OK) {
    f->dtype = dtype;
    for (size_t k = 0; k < n; k++) {
      f->types[k] = v->types[sel[k]].dtype;
      f->cast |= f->types[k] != dtype;
    }
    f->width = (int64_t)n * v->types[sel[0]].width;
    st = place_columns(v, sel, n, f, err);
  }
  if (st == SL_OK) st = record_skipped(v, sel, n, named, f, err);
  sl__free(sel);
  return st;
}

/* ------------------------------------------------------------ record batches */

#define BATCH_FAIL(src, err, i, fmt, ...)                                            \
  SL_FAIL(err, SL_EFORMAT, "%s: malformed Arrow IPC file: record batch %zu " fmt,     \
          (src)->path, (i), __VA_ARGS__)

/* The batch's metadata as flatbuffer tables. */
typedef struct batch_meta {
  fb_vector nodes, buffers, variadic;
  int64_t length;
  int codec;
} batch_meta;

static bool read_struct2(const fb_vector *v, int64_t i, size_t size, int64_t *a,
                         int64_t *b) {
  if (i < 0 || i >= (int64_t)v->len) return false;
  const uint8_t *p = sl__fb_vector_struct(v, (uint32_t)i, size);
  *a = (int64_t)sl__fb_le64(p);
  *b = (int64_t)sl__fb_le64(p + 8);
  return true;
}

/* Buffer i of the batch, checked to lie inside the body. */
static bool get_buffer(const batch_meta *m, const arrow_batch *b, int64_t i,
                       sl_extent *out) {
  int64_t end;
  return read_struct2(&m->buffers, i, ARROW_BUF_SIZE, &out->offset, &out->length) &&
         out->offset >= 0 && out->length >= 0 && sl__add(out->offset, out->length, &end) &&
         end <= b->body_len;
}

/* Bytes that n values of the column's type take (bits for Bool). */
static int64_t value_bytes(const arrow_col *c, int64_t n) {
  if (c->dtype == SL_BOOL) return n / 8 + (n % 8 != 0);
  return n * (int64_t)sl_dtype_size(c->dtype); /* n was checked against the body */
}

/* Checks an uncompressed buffer holds what the node says. */
static bool big_enough(const arrow_batch *b, const sl_extent *e, int64_t need) {
  return b->codec != ARROW_CODEC_NONE || e->length >= need;
}

static sl_status locate_part(const sl_source *src, size_t bi,
                             const arrow_col *c, const batch_meta *m, arrow_batch *b,
                             arrow_part *p, sl_error *err) {
  int64_t buf = c->buffer, len, values;
  if (c->views_before > (int64_t)m->variadic.len)
    BATCH_FAIL(src, err, bi, "lists %u variadic buffer counts, expected at least %lld",
               m->variadic.len, (long long)c->views_before);
  for (int64_t k = 0; k < c->views_before; k++) {
    int64_t extra = (int64_t)sl__fb_le64(sl__fb_vector_struct(&m->variadic, (uint32_t)k, 8));
    if (extra < 0 || !sl__add(buf, extra, &buf))
      BATCH_FAIL(src, err, bi, "has a bad variadic buffer count %lld", (long long)extra);
  }
  if (!read_struct2(&m->nodes, c->node, ARROW_NODE_SIZE, &len, &p->nulls) ||
      len != b->rows || p->nulls < 0 || p->nulls > len)
    BATCH_FAIL(src, err, bi, "column '%s': missing or bad field node (expected %lld rows)",
               c->name, (long long)b->rows);
  if (!sl__mul(b->rows, c->width, &values) || values > INT64_MAX / 8)
    BATCH_FAIL(src, err, bi, "column '%s': too many values", c->name);
  bool ok = get_buffer(m, b, buf, &p->valid);
  if (c->fsl) {
    ok = ok && read_struct2(&m->nodes, c->node + 1, ARROW_NODE_SIZE, &len, &p->child_nulls) &&
         len == values && p->child_nulls >= 0 && p->child_nulls <= len &&
         get_buffer(m, b, buf + 1, &p->child_valid);
    buf++;
  }
  ok = ok && get_buffer(m, b, buf + 1, &p->data) &&
       big_enough(b, &p->data, value_bytes(c, values)) &&
       (p->nulls == 0 || big_enough(b, &p->valid, b->rows / 8 + (b->rows % 8 != 0))) &&
       (p->child_nulls == 0 || big_enough(b, &p->child_valid, values / 8 + (values % 8 != 0)));
  if (!ok)
    BATCH_FAIL(src, err, bi, "column '%s': buffers missing, outside the body or too short "
               "for %lld rows", c->name, (long long)b->rows);
  return SL_OK;
}

/* Message flatbuffer -> RecordBatch numbers. */
static sl_status parse_message(const sl_source *src, size_t bi, const uint8_t *fb,
                               size_t n, batch_meta *m, sl_error *err) {
  fb_table msg, rb, comp;
  uint8_t tag, codec = 0, method = 0;
  bool has_rb, has_comp, p1, p2, p3;
  if (!sl__fb_root(fb, n, &msg) || !sl__fb_u8(&msg, 1, 0, &tag) ||
      !sl__fb_table(&msg, 2, &rb, &has_rb))
    BATCH_FAIL(src, err, bi, "%s", "metadata does not parse");
  if (tag != 3 || !has_rb)
    BATCH_FAIL(src, err, bi, "is a message of type %u, expected a RecordBatch (3)", tag);
  if (!sl__fb_i64(&rb, 0, 0, &m->length) ||
      !sl__fb_vector(&rb, 1, ARROW_NODE_SIZE, &m->nodes, &p1) ||
      !sl__fb_vector(&rb, 2, ARROW_BUF_SIZE, &m->buffers, &p2) ||
      !sl__fb_table(&rb, 3, &comp, &has_comp) ||
      !sl__fb_vector(&rb, 4, 8, &m->variadic, &p3) ||
      (has_comp && (!sl__fb_u8(&comp, 0, 0, &codec) || !sl__fb_u8(&comp, 1, 0, &method))))
    BATCH_FAIL(src, err, bi, "%s", "RecordBatch header does not parse");
  if (m->length < 0) BATCH_FAIL(src, err, bi, "has %lld rows", (long long)m->length);
  if (has_comp && (codec > 1 || method != 0))
    SL_FAIL(err, SL_EFORMAT, "%s: record batch %zu uses compression codec %u method %u; "
            "supported: LZ4_FRAME (0) and ZSTD (1) per buffer", sl_source_path(src), bi, codec, method);
  m->codec = has_comp ? codec : ARROW_CODEC_NONE;
  /* a codec this build lacks fails discovery (inspect) as it would the read */
  return m->length > 0 ? sl__arrow_codec_check(src, m->codec, err) : SL_OK;
}

/* Encapsulated message: 0xFFFFFFFF, int32 length, flatbuffer (older files
   lack the 0xFFFFFFFF). */
static sl_status parse_meta_bytes(const sl_source *src, size_t bi, const uint8_t *p,
                                  int64_t n, batch_meta *m, sl_error *err) {
  int64_t start = 4;
  uint32_t len = sl__fb_le32(p);
  if (len == 0xFFFFFFFFu) {
    start = 8;
    len = sl__fb_le32(p + 4);
  }
  if ((int64_t)len > n - start)
    BATCH_FAIL(src, err, bi, "metadata length %u exceeds the block's %lld bytes", len,
               (long long)n);
  return parse_message(src, bi, p + start, len, m, err);
}

/* Batch bi's numbers from its encapsulated metadata (n bytes at p); its
   body and body_len are set. */
static sl_status batch_from_meta(const sl_source *src, arrow_file *f, size_t bi,
                                 const uint8_t *p, int64_t n, sl_error *err) {
  arrow_batch *b = &f->batches[bi];
  batch_meta m;
  sl_status st = parse_meta_bytes(src, bi, p, n, &m, err);
  b->rows = m.length;
  b->codec = m.codec;
  b->parts = st == SL_OK ? sl__calloc(f->ncols ? f->ncols : 1, sizeof *b->parts) : NULL;
  if (st == SL_OK && b->parts == NULL) st = sl__fail(err, SL_ENOMEM, "%s: out of memory",
                                                     sl_source_path(src));
  for (size_t k = 0; st == SL_OK && k < f->ncols; k++)
    st = locate_part(src, bi, &f->cols[k], &m, b, &b->parts[k], err);
  return st;
}

static sl_status parse_batch(const sl_source *src, arrow_file *f, size_t bi,
                             const uint8_t *blk, int64_t limit, sl_error *err) {
  arrow_batch *b = &f->batches[bi];
  int64_t off = (int64_t)sl__fb_le64(blk), body_len = (int64_t)sl__fb_le64(blk + 16), end;
  int32_t meta = (int32_t)sl__fb_le32(blk + 8);
  if (off < 8 || meta < 8 || meta > ARROW_MAX_META || body_len < 0 ||
      !sl__add(off, meta, &b->body) || !sl__add(b->body, body_len, &end) || end > limit)
    BATCH_FAIL(src, err, bi, "block (offset %lld, metadata %d, body %lld bytes) lies "
               "outside the data (%lld bytes)", (long long)off, (int)meta,
               (long long)body_len, (long long)limit);
  b->body_len = body_len;
  uint8_t *buf;
  SL_TRY(read_alloc(src, off, meta, &buf, err));
  sl_status st = batch_from_meta(src, f, bi, buf, meta, err);
  sl__free(buf);
  return st;
}

/* ----------------------------------------------------------------- footer */

static const char arrow_magic[6] = {'A', 'R', 'R', 'O', 'W', '1'};

/* The footer flatbuffer; *footer_off is where it starts (batches end there). */
static sl_status read_footer(const sl_source *src, uint8_t **buf, int64_t *len,
                             int64_t *footer_off, sl_error *err) {
  uint8_t head[8], tail[10];
  if (sl_source_size(src) < 18)
    SL_FAIL(err, SL_EFORMAT, "%s: not an Arrow IPC file (%lld bytes, too short for the "
            "ARROW1 magic at both ends and a footer)", sl_source_path(src), (long long)sl_source_size(src));
  SL_TRY(sl__arrow_src_read(src, 0, 8, head, err));
  SL_TRY(sl__arrow_src_read(src, sl_source_size(src) - 10, 10, tail, err));
  if (memcmp(head, arrow_magic, 6) != 0 || memcmp(tail + 4, arrow_magic, 6) != 0)
    SL_FAIL(err, SL_EFORMAT, "%s: not an Arrow IPC file or stream (expected the magic ARROW1 "
            "at the start and the end, or a stream's first message, its Schema; Feather v1 "
            "is not supported)", sl_source_path(src));
  *len = (int32_t)sl__fb_le32(tail);
  if (*len <= 0 || *len > sl_source_size(src) - 18)
    SL_FAIL(err, SL_EFORMAT, "%s: malformed Arrow IPC file: footer length %lld does not "
            "fit a file of %lld bytes", sl_source_path(src), (long long)*len, (long long)sl_source_size(src));
  *footer_off = sl_source_size(src) - 10 - *len;
  return read_alloc(src, *footer_off, *len, buf, err);
}

/* The Schema table (of the footer, or of a stream's first message): the
   columns chosen. */
static sl_status parse_schema(const sl_source *src, const fb_table *schema,
                              const arrow_options *o, arrow_file *f, sl_error *err) {
  bool has_fields;
  int16_t endian;
  schema_view v = {sl_source_path(src), {0}, NULL};
  if (!sl__fb_i16(schema, 0, 0, &endian) ||
      !sl__fb_vector(schema, 1, 4, &v.fields, &has_fields))
    return bad(sl_source_path(src), err, "the schema does not parse");
  if (endian != 0)
    SL_FAIL(err, SL_EFORMAT, "%s: Arrow data is big-endian (schema endianness %d); only "
            "little-endian files are supported", sl_source_path(src), endian);
  sl_status st = select_columns(&v, o, f, err);
  sl__free(v.types);
  return st;
}

/* Schema (columns chosen) and the Block vector of the footer. */
static sl_status parse_footer(const sl_source *src, const uint8_t *buf, int64_t len,
                              const arrow_options *o, arrow_file *f, fb_vector *blocks,
                              sl_error *err) {
  fb_table footer, schema;
  bool has_schema, has_blocks;
  if (!sl__fb_root(buf, (size_t)len, &footer) ||
      !sl__fb_table(&footer, 1, &schema, &has_schema) ||
      !sl__fb_vector(&footer, 3, ARROW_BLOCK_SIZE, blocks, &has_blocks))
    return bad(sl_source_path(src), err, "the footer does not parse");
  if (!has_schema) return bad(sl_source_path(src), err, "the footer has no schema");
  return parse_schema(src, &schema, o, f, err);
}

void sl__arrow_file_free(arrow_file *f) {
  if (f == NULL) return;
  if (f->pooled) sl__arrow_pool_leave();
  for (size_t i = 0; f->cols && i < f->ncols; i++) {
    sl__free(f->cols[i].name);
    sl__free(f->cols[i].type);
  }
  for (size_t i = 0; f->batches && i < f->nbatches; i++) sl__free(f->batches[i].parts);
  for (size_t i = 0; f->skipped && i < f->nskipped; i++) {
    sl__free(f->skipped[i].name);
    sl__free(f->skipped[i].why);
  }
  sl__free(f->skipped);
  sl__free(f->cols);
  sl__free(f->types);
  sl__free(f->batches);
  memset(f, 0, sizeof *f);
}

static sl_status parse_batches(const sl_source *src, arrow_file *f, const fb_vector *blocks,
                               int64_t limit, sl_error *err) {
  f->batches = sl__calloc(blocks->len ? blocks->len : 1, sizeof *f->batches);
  if (f->batches == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", sl_source_path(src));
  f->nbatches = blocks->len;
  for (size_t i = 0; i < f->nbatches; i++) {
    const uint8_t *blk = sl__fb_vector_struct(blocks, (uint32_t)i, ARROW_BLOCK_SIZE);
    SL_TRY(parse_batch(src, f, i, blk, limit, err));
    f->batches[i].row0 = f->rows;
    if (!sl__add(f->rows, f->batches[i].rows, &f->rows))
      SL_FAIL(err, SL_EFORMAT, "%s: malformed Arrow IPC file: row count overflows",
              sl_source_path(src));
  }
  return SL_OK;
}

/* ----------------------------------------------------------------- streams */

/* The stream format (Arrow's IPC "streaming format", .arrows) is the same
   encapsulated messages without the magic and the footer: a Schema, then
   DictionaryBatch and RecordBatch messages, each its metadata and then its
   body of bodyLength bytes, up to an end marker (a zero length) or the end
   of the file. Batches are located by one scan over the message headers. */

#define ARROW_CONTINUATION 0xFFFFFFFFu
enum { MSG_SCHEMA = 1, MSG_DICTIONARY = 2, MSG_RECORD_BATCH = 3 };

static const char *const message_names[] = {"NONE", "Schema", "DictionaryBatch",
                                            "RecordBatch", "Tensor", "SparseTensor"};

#define STREAM_FAIL(src, err, off, fmt, ...)                                             \
  SL_FAIL(err, SL_EFORMAT, "%s: malformed Arrow IPC stream: the message at byte %lld " fmt, \
          sl_source_path(src), (long long)(off), __VA_ARGS__)

/* The message prefix at off: 0xFFFFFFFF and an int32 length, or (before
   Arrow 0.15) the length alone; *n = prefix + metadata bytes, 0 at the end
   of the stream. */
static sl_status stream_prefix(const sl_source *src, int64_t off, int64_t *n, sl_error *err) {
  int64_t left = sl_source_size(src) - off;
  uint8_t h[8];
  *n = 0;
  if (left == 0) return SL_OK; /* writers may omit the end marker */
  if (left < 4) STREAM_FAIL(src, err, off, "is cut off after %lld bytes", (long long)left);
  SL_TRY(sl_source_read(src, off, (size_t)SL_MIN(left, 8), h, err));
  uint32_t len = sl__fb_le32(h), prefix = 4;
  if (len == ARROW_CONTINUATION) {
    if (left < 8) STREAM_FAIL(src, err, off, "is cut off after %lld bytes", (long long)left);
    len = sl__fb_le32(h + 4), prefix = 8;
  }
  if (len == 0) return SL_OK;
  if (len > ARROW_MAX_META || (int64_t)len > left - prefix)
    STREAM_FAIL(src, err, off, "claims %u bytes of metadata, but %lld bytes follow (limit %d)",
                len, (long long)(left - prefix), ARROW_MAX_META);
  *n = prefix + len;
  return SL_OK;
}

/* The Message flatbuffer after the prefix: its type, header and body length. */
static sl_status stream_message(const sl_source *src, int64_t off, const uint8_t *p,
                                int64_t n, uint8_t *tag, fb_table *header, int64_t *body,
                                sl_error *err) {
  int64_t start = sl__fb_le32(p) == ARROW_CONTINUATION ? 8 : 4;
  fb_table msg;
  bool has;
  if (!sl__fb_root(p + start, (size_t)(n - start), &msg) || !sl__fb_u8(&msg, 1, 0, tag) ||
      !sl__fb_table(&msg, 2, header, &has) || !sl__fb_i64(&msg, 3, 0, body))
    STREAM_FAIL(src, err, off, "%s", "does not parse");
  if (!has) STREAM_FAIL(src, err, off, "%s", "has no header");
  if (*body < 0 || *body > sl_source_size(src) - off - n)
    STREAM_FAIL(src, err, off, "has a body of %lld bytes, but %lld bytes follow its metadata",
                (long long)*body, (long long)(sl_source_size(src) - off - n));
  return SL_OK;
}

static sl_status stream_batch(const sl_source *src, arrow_file *f, int64_t body,
                              int64_t body_len, const uint8_t *p, int64_t n, size_t *cap,
                              sl_error *err) {
  if (f->nbatches == *cap) {
    size_t want = *cap ? 2 * *cap : 16;
    arrow_batch *b = sl__grow(f->batches, *cap, want, sizeof *b);
    if (b == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", sl_source_path(src));
    f->batches = b;
    *cap = want;
  }
  size_t bi = f->nbatches++;
  arrow_batch *b = &f->batches[bi];
  b->body = body;
  b->body_len = body_len;
  b->row0 = f->rows;
  SL_TRY(batch_from_meta(src, f, bi, p, n, err));
  if (!sl__add(f->rows, b->rows, &f->rows))
    SL_FAIL(err, SL_EFORMAT, "%s: malformed Arrow IPC stream: row count overflows",
            sl_source_path(src));
  return SL_OK;
}

/* One message of the scan; *off moves past its body. */
static sl_status stream_step(const sl_source *src, const arrow_options *o, arrow_file *f,
                             int64_t *off, int64_t n, sl_buf *buf, bool *schema, size_t *cap,
                             sl_error *err) {
  if (!sl__buf_reserve(buf, (size_t)n))
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory", sl_source_path(src));
  SL_TRY(sl_source_read(src, *off, (size_t)n, buf->p, err));
  uint8_t tag;
  fb_table header;
  int64_t body;
  SL_TRY(stream_message(src, *off, buf->p, n, &tag, &header, &body, err));
  const char *name = tag < SL_ARRAY_LEN(message_names) ? message_names[tag] : "unknown";
  if (!*schema && tag != MSG_SCHEMA)
    STREAM_FAIL(src, err, *off, "is a %s (type %u), but a stream starts with its Schema",
                name, tag);
  if (tag == MSG_SCHEMA && *schema)
    STREAM_FAIL(src, err, *off, "%s", "is a second Schema");
  if (tag == MSG_SCHEMA) SL_TRY(parse_schema(src, &header, o, f, err));
  else if (tag == MSG_RECORD_BATCH)
    SL_TRY(stream_batch(src, f, *off + n, body, buf->p, n, cap, err));
  else if (tag != MSG_DICTIONARY) /* dictionary-encoded columns are refused when
                                     selected, so their values are never needed */
    STREAM_FAIL(src, err, *off, "is a %s (type %u), which a stream of record batches does "
                "not hold", name, tag);
  *schema = true;
  *off += n + body;
  return SL_OK;
}

static sl_status parse_stream(const sl_source *src, const arrow_options *o, arrow_file *f,
                              sl_error *err) {
  sl_buf buf = {0};
  bool schema = false;
  size_t cap = 0;
  sl_status st = SL_OK;
  for (int64_t off = 0, n; st == SL_OK;) {
    st = stream_prefix(src, off, &n, err);
    if (st != SL_OK || n == 0) break;
    st = stream_step(src, o, f, &off, n, &buf, &schema, &cap, err);
  }
  sl__buf_free(&buf);
  if (st == SL_OK && !schema)
    st = sl__fail(err, SL_EFORMAT, "%s: Arrow IPC stream holds no Schema message",
                  sl_source_path(src));
  return st;
}

/* A stream starts with a message prefix whose metadata is a Schema; a file
   with the magic. Anything else is neither. */
static bool looks_like_stream(const sl_source *src) {
  uint8_t h[8];
  int64_t size = sl_source_size(src);
  if (size < 8 || sl_source_read(src, 0, 8, h, NULL) != SL_OK) return false;
  if (memcmp(h, arrow_magic, 6) == 0) return false;
  uint32_t a = sl__fb_le32(h);
  uint32_t len = a == ARROW_CONTINUATION ? sl__fb_le32(h + 4) : a;
  int64_t prefix = a == ARROW_CONTINUATION ? 8 : 4;
  if (len < 8 || len > ARROW_MAX_META || (int64_t)len > size - prefix) return false;
  uint8_t *p = sl__malloc(len);
  if (p == NULL) return a == ARROW_CONTINUATION; /* let the parse say it */
  fb_table msg;
  uint8_t tag = 0;
  bool ok = sl_source_read(src, prefix, len, p, NULL) == SL_OK && sl__fb_root(p, len, &msg) &&
            sl__fb_u8(&msg, 1, 0, &tag) && tag == MSG_SCHEMA;
  sl__free(p);
  return ok || a == ARROW_CONTINUATION;
}

sl_status sl__arrow_parse(const sl_source *src, const arrow_options *o, arrow_file *out,
                          sl_error *err) {
  memset(out, 0, sizeof *out);
  uint8_t *buf = NULL;
  int64_t len = 0, footer_off = 0;
  fb_vector blocks;
  sl_status st;
  if (looks_like_stream(src)) {
    out->stream = true;
    st = parse_stream(src, o, out, err);
  } else {
    SL_TRY(read_footer(src, &buf, &len, &footer_off, err));
    st = parse_footer(src, buf, len, o, out, &blocks, err);
    if (st == SL_OK) st = parse_batches(src, out, &blocks, footer_off, err);
    sl__free(buf);
  }
  if (st != SL_OK) {
    sl__arrow_file_free(out);
    return st;
  }
  sl__arrow_pool_join();
  out->pooled = true;
  out->opts = o;
  return SL_OK;
}
