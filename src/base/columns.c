/* The options of the table formats (Parquet, Arrow IPC): columns, parsed
 * once per dataset and resolved against each file's own columns, and
 * fill_nulls, so that every table format accepts the same grammar and says
 * the same things:
 *
 *   columns = name { "," name }      spaces around a name are dropped
 *
 * An empty name, an empty list and a name given twice are refused naming
 * the option; a name a file lacks is refused naming the file and listing
 * the columns it has. */
#include <stdio.h>
#include <string.h>

#include "base.h"

void sl__columns_free(sl_columns *c) {
  for (size_t i = 0; i < c->n; i++) sl__free(c->names[i]);
  sl__free(c->names);
  c->names = NULL;
  c->n = 0;
}

static sl_status add_name(sl_columns *c, const char *where, const char *text, const char *p,
                          size_t len, sl_error *err) {
  for (size_t i = 0; i < c->n; i++)
    if (strlen(c->names[i]) == len && memcmp(c->names[i], p, len) == 0)
      SL_FAIL(err, SL_EINVAL, "%s: option columns '%s' names the column '%.*s' twice", where,
              text, (int)len, p);
  char *name = sl__malloc(len + 1);
  if (name == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for option columns", where);
  memcpy(name, p, len);
  name[len] = '\0';
  c->names[c->n++] = name;
  return SL_OK;
}

static sl_status parse_names(const char *where, const char *text, sl_columns *c,
                             sl_error *err) {
  for (const char *p = text;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    while (len > 0 && *p == ' ') p++, len--;
    while (len > 0 && p[len - 1] == ' ') len--;
    if (len == 0)
      SL_FAIL(err, SL_EINVAL, "%s: option columns '%s' has an empty column name", where, text);
    SL_TRY(add_name(c, where, text, p, len, err));
    if (comma == NULL) return SL_OK;
    p = comma + 1;
  }
}

sl_status sl__columns_parse(const char *where, const char *text, sl_columns *out,
                            sl_error *err) {
  memset(out, 0, sizeof *out);
  if (text == NULL) return SL_OK;
  size_t cap = 1;
  for (const char *p = text; *p; p++) cap += *p == ',';
  bool blank = strspn(text, " ") == strlen(text);
  if (blank)
    SL_FAIL(err, SL_EINVAL, "%s: option columns is empty: name at least one column", where);
  out->names = sl__calloc(cap, sizeof *out->names);
  if (out->names == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory for option columns", where);
  sl_status st = parse_names(where, text, out, err);
  if (st != SL_OK) sl__columns_free(out);
  return st;
}

sl_status sl__columns_resolve(const char *path, const sl_columns *want, const sl_name *have,
                              size_t nhave, size_t *idx, sl_error *err) {
  for (size_t i = 0; i < want->n; i++) {
    size_t len = strlen(want->names[i]), j = 0;
    while (j < nhave && !(have[j].len == len && memcmp(have[j].p, want->names[i], len) == 0))
      j++;
    if (j == nhave) {
      char all[640];
      sl__names_text(have, nhave, all, sizeof all);
      SL_FAIL(err, SL_EINVAL, "%s: expected a column named '%s' (from option columns) but "
              "the file has none; its columns are: %s", path, want->names[i], all);
    }
    idx[i] = j;
  }
  return SL_OK;
}

sl_status sl__table_open(const sl_dataset_desc *d, void **state, sl_error *err) {
  sl_table_options *o = sl__calloc(1, sizeof *o);
  if (o == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", d->root);
  sl_status st = sl__columns_parse(d->root, d->opts->columns, &o->columns, err);
  if (st != SL_OK) {
    sl__free(o);
    return st;
  }
  o->fill_nulls = d->opts->fill_nulls;
  st = sl__cast_options(d->root, d->opts, &o->has_dtype, &o->dtype, &o->casting, err);
  if (st != SL_OK) {
    sl__table_close(o);
    return st;
  }
  *state = o;
  return SL_OK;
}

void sl__table_close(void *state) {
  sl_table_options *o = state;
  sl__columns_free(&o->columns);
  sl__free(o);
}

/* "a INT32 (<i4), b INT64 (<i8)" */
static void type_list(const sl_col_type *c, size_t n, char *buf, size_t cap) {
  size_t k = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && i < 16 && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%.*s %s (%s)", i ? ", " : "",
                          (int)SL_MIN(c[i].name.len, 128), c[i].name.p, c[i].desc,
                          sl_dtype_str(c[i].dtype));
  if (n > 16 && k < cap) snprintf(buf + k, cap - k, ", ...");
}

/* numpy's result_type of the columns: the smallest type every one of them
   casts to safely (candidates by size, then kind). */
static sl_dtype common_type(const sl_col_type *c, size_t n) {
  static const sl_dtype order[] = {SL_BOOL,    SL_UINT8,   SL_INT8,    SL_UINT16, SL_INT16,
                                   SL_FLOAT16, SL_UINT32,  SL_INT32,   SL_FLOAT32,
                                   SL_UINT64,  SL_INT64,   SL_FLOAT64, SL_COMPLEX64,
                                   SL_COMPLEX128};
  for (size_t k = 0; k < SL_ARRAY_LEN(order); k++) {
    size_t i = 0;
    while (i < n && sl__can_cast(c[i].dtype, order[k], SL_CAST_SAFE)) i++;
    if (i == n) return order[k];
  }
  return SL_FLOAT64;
}

static const char *type_word(sl_dtype t) {
  static const char *const w[] = {"bool",    "int8",    "int16",   "int32",   "int64",
                                  "uint8",   "uint16",  "uint32",  "uint64",  "float16",
                                  "float32", "float64", "complex64", "complex128"};
  return (unsigned)t < SL_ARRAY_LEN(w) ? w[t] : "?";
}

static const char *why_not(sl_dtype from, sl_dtype to) {
  bool fc = from == SL_COMPLEX64 || from == SL_COMPLEX128;
  bool tc = to == SL_COMPLEX64 || to == SL_COMPLEX128;
  bool ff = fc || from == SL_FLOAT16 || from == SL_FLOAT32 || from == SL_FLOAT64;
  bool tf = tc || to == SL_FLOAT16 || to == SL_FLOAT32 || to == SL_FLOAT64;
  if (fc && !tc) return "complex to real drops the imaginary part";
  if (ff && !tf) return "a float does not convert to an integer or bool without loss";
  if (to == SL_BOOL) return "only bool converts to bool";
  return "a signed integer does not convert to an unsigned one without loss";
}

sl_status sl__columns_dtype(const char *path, const sl_table_options *o,
                            const sl_col_type *cols, size_t n, const char *what,
                            sl_dtype *out, sl_error *err) {
  char types[768];
  if (o != NULL && o->has_dtype) {
    for (size_t i = 0; i < n; i++) {
      if (sl__can_cast(cols[i].dtype, o->dtype, o->casting)) continue;
      SL_FAIL(err, SL_EFORMAT, "%s: column %.*s is %s (%s), which option dtype %s does not "
              "take under %s casting (%s; numpy.can_cast is False); give option cast unsafe "
              "to convert it anyway, or leave it out with option columns", path,
              (int)SL_MIN(cols[i].name.len, 128), cols[i].name.p, cols[i].desc,
              sl_dtype_str(cols[i].dtype), type_word(o->dtype), sl__casting_name(o->casting),
              o->casting == SL_CAST_SAME_KIND ? why_not(cols[i].dtype, o->dtype)
                                              : "a stricter rule than same_kind");
    }
    *out = o->dtype;
    return SL_OK;
  }
  for (size_t i = 1; i < n; i++) {
    if (cols[i].dtype == cols[0].dtype) continue;
    type_list(cols, n, types, sizeof types);
    SL_FAIL(err, SL_EFORMAT, "%s: the %s columns differ in type (%s), so they cannot be "
            "stacked into one array as they are; give option dtype (e.g. %s) to convert "
            "them while loading, or choose columns of one type with option columns", path,
            what, types, type_word(common_type(cols, n)));
  }
  *out = n > 0 ? cols[0].dtype : SL_DTYPE_COUNT;
  return SL_OK;
}
