/* The datasets of a file: listing them (hard links only, natural order),
 * the only one of a file, one by name, or those a pattern matches (expand:
 * one file holding every shard). */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5.h"

/* Names shown in an error listing before "... (N in all)". */
#define SL_H5_LIST_MAX 8

bool sl__h5_has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* ----------------------------------------------------- names in a file */

typedef struct name_list {
  char **v;
  size_t n, cap;
  bool oom;
} name_list;

static void names_free(name_list *l) {
  for (size_t i = 0; i < l->n; i++) sl__free(l->v[i]);
  sl__free(l->v);
  memset(l, 0, sizeof *l);
}

static void names_push(name_list *l, const char *name) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **v = sl__realloc(l->v, cap * sizeof *v);
    if (v == NULL) {
      l->oom = true;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  size_t len = strlen(name) + 2;
  char *s = sl__malloc(len);
  if (s == NULL) {
    l->oom = true;
    return;
  }
  snprintf(s, len, "/%s", name);
  l->v[l->n++] = s;
}

/* Only hard links: a soft link to a dataset would list it twice, and an
   external link would open another file. */
static herr_t visit_link(hid_t g, const char *name, const H5L_info_t *info, void *data) {
  name_list *l = data;
  if (info->type != H5L_TYPE_HARD) return 0;
  hid_t o = H5Oopen(g, name, H5P_DEFAULT);
  if (o < 0) {
    sl__h5_failed(); /* not listed: a later message says no such dataset */
    return 0;
  }
  bool is_dataset = H5Iget_type(o) == H5I_DATASET;
  H5Oclose(o);
  if (is_dataset) names_push(l, name);
  return l->oom ? 1 : 0;
}

static int cmp_names(const void *a, const void *b) {
  return sl__natural_cmp(*(char *const *)a, *(char *const *)b);
}

/* Every dataset of the file, as absolute names, in natural order. */
static sl_status list_datasets(hid_t f, const char *path, name_list *l, sl_error *err) {
  memset(l, 0, sizeof *l);
  char why[160];
  herr_t r = H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, visit_link, l);
  if (l->oom) {
    names_free(l);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory listing the datasets", path);
  }
  if (r < 0) {
    names_free(l);
    SL_FAIL(err, SL_EFORMAT, "%s: cannot list the datasets of the file: %s", path,
            sl__h5_reason(why));
  }
  if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, cmp_names);
  return SL_OK;
}

/* "2 datasets: /a, /b" (or "no datasets"), shortened after a few names. */
static const char *describe_names(const name_list *l, char *buf, size_t cap) {
  if (l->n == 0) {
    snprintf(buf, cap, "no datasets");
    return buf;
  }
  size_t k = (size_t)snprintf(buf, cap, "%zu dataset%s: ", l->n, l->n == 1 ? "" : "s");
  for (size_t i = 0; i < l->n && i < SL_H5_LIST_MAX && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", l->v[i]);
  if (l->n > SL_H5_LIST_MAX && k < cap) snprintf(buf + k, cap - k, ", ...");
  return buf;
}

/* The file's one and only dataset, for the default of no --dataset. */
sl_status sl__h5_only_dataset(hid_t f, const char *path, char **out, sl_error *err) {
  name_list l;
  SL_TRY(list_datasets(f, path, &l, err));
  if (l.n != 1) {
    char held[512];
    describe_names(&l, held, sizeof held);
    names_free(&l);
    SL_FAIL(err, SL_EFORMAT, "%s: expected exactly one dataset (or a name given with "
            "option dataset) but found %s", path, held);
  }
  *out = l.v[0];
  sl__free(l.v);
  return SL_OK;
}
/* What the last link of name is when it cannot be opened as a dataset. */
static const char *not_a_dataset(hid_t f, const char *name) {
  H5L_info_t li;
  if (H5Lget_info(f, name, &li, H5P_DEFAULT) < 0) return "none";
  if (li.type == H5L_TYPE_EXTERNAL)
    return "an external link to another file (refused unless option hdf5_allow_external "
           "is set, and then followed only inside the file's directory)";
  if (li.type == H5L_TYPE_SOFT) return "a soft link that leads nowhere or to no dataset";
  hid_t o = H5Oopen(f, name, H5P_DEFAULT);
  if (o < 0) {
    sl__h5_failed();
    return "an object HDF5 cannot open";
  }
  bool dataset = H5Iget_type(o) == H5I_DATASET;
  H5Oclose(o);
  return dataset ? "a dataset HDF5 cannot open" : "a group or other object of that name";
}

/* H5Dopen2 with our access list: external storage resolved next to the
   file, external links checked (lock.c). */
sl_status sl__h5_open_dataset(hid_t f, const char *path, const char *name, bool allow_external,
                              hid_t *d, sl_error *err) {
  *d = H5Dopen2(f, name, sl__h5_dapl(allow_external));
  if (*d >= 0) return SL_OK;
  const char *found = not_a_dataset(f, name);
  name_list l;
  SL_TRY(list_datasets(f, path, &l, err));
  char held[512];
  describe_names(&l, held, sizeof held);
  names_free(&l);
  SL_FAIL(err, SL_EFORMAT, "%s: expected a dataset '%s' but found %s; the file holds %s",
          path, name, found, held);
}
/* ------------------------------------------------------------- expand */

/* Absolute dataset names match a pattern written with or without the
   leading '/'; '*' never crosses a '/'. */
static bool name_matches(const char *pattern, const char *name) {
  if (pattern[0] != '/') name++;
  return fnmatch(pattern, name, FNM_PATHNAME) == 0;
}

/* Moves the names matching pattern (all when NULL) into a malloc'd array. */
static sl_status take_matches(name_list *l, const char *pattern, const char *path,
                              char ***out, size_t *n, sl_error *err) {
  size_t k = 0;
  char **v = sl__malloc((l->n ? l->n : 1) * sizeof *v);
  if (v == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  for (size_t i = 0; i < l->n; i++)
    if (name_matches(pattern, l->v[i])) {
      v[k++] = l->v[i];
      l->v[i] = NULL;
    }
  if (k == 0) {
    sl__free(v);
    char held[512];
    describe_names(l, held, sizeof held);
    SL_FAIL(err, SL_ELAYOUT, "%s: expected datasets matching '%s' but found none; the file "
            "holds %s", path, pattern, held);
  }
  *out = v;
  *n = k;
  return SL_OK;
}

static sl_status expand_locked(const sl_source *src, const char *pattern, char ***out,
                               size_t *n, sl_error *err) {
  hid_t f;
  const char *path = sl_source_path(src);
  SL_TRY(sl__h5_open_file(src, &f, err));
  sl_status st;
  if (pattern == NULL) {
    char *only = NULL;
    st = sl__h5_only_dataset(f, path, &only, err);
    if (st == SL_OK && (*out = sl__malloc(sizeof **out)) == NULL)
      st = sl__fail(err, SL_ENOMEM, "%s: out of memory", path);
    if (st == SL_OK) {
      (*out)[0] = only;
      *n = 1;
    } else {
      sl__free(only);
    }
  } else {
    name_list l;
    st = list_datasets(f, path, &l, err);
    if (st == SL_OK) st = take_matches(&l, pattern, path, out, n, err);
    names_free(&l); /* the matches have moved out; NULL slots are left */
  }
  sl__h5_close_file(f);
  return st;
}

/* One file, several shards: the datasets matching a glob in option dataset, in
   natural order (/shards/2 before /shards/10). A plain name is one shard;
   no name means the file's only dataset. */
sl_status sl__h5_expand(const void *state, const char *path, const sl_open_options *o,
                        char ***members, size_t *n, sl_error *err) {
  (void)state;
  const char *want = o != NULL ? o->dataset : NULL;
  *members = NULL;
  *n = 0;
  if (want != NULL && !sl__h5_has_glob(want)) {
    char **v = sl__malloc(sizeof *v);
    char *s = sl__strdup(want);
    if (v == NULL || s == NULL) {
      sl__free(v);
      sl__free(s);
      SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
    }
    v[0] = s;
    *members = v;
    *n = 1;
    return SL_OK;
  }
  sl_source src;
  SL_TRY(sl__source_open(&src, path, err));
  sl_status st = sl__h5_check_signature(&src, err);
  if (st == SL_OK) {
    h5_guard g;
    sl__h5_lock(&g, path);
    st = expand_locked(&src, want, members, n, err);
    sl__h5_unlock(&g);
  }
  sl__source_close(&src);
  return st;
}