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
  *state = o;
  return SL_OK;
}

void sl__table_close(void *state) {
  sl_table_options *o = state;
  sl__columns_free(&o->columns);
  sl__free(o);
}
