/* Step 1, discovery: find the shards, read only their headers, check that
 * dtype and trailing shape agree, and build cum_rows. This runs on one
 * process (rank 0); dist.c broadcasts the packed result.
 *
 * A directory holds shard_NNNN.<ext> files numbered contiguously from 0 with
 * at least four digits (shard_10000 follows shard_9999); --pattern replaces
 * that rule with a glob and natural sort; a single file is one shard, or
 * several when its driver can expand it (HDF5 datasets).
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ------------------------------------------------------------ naming */

typedef struct found {
  char *name;  /* entry name */
  int64_t index;
} found;

/* Parses "shard_<digits><ext>" for one of d's extensions; @return index,
   -1 (not a shard name) or SL_INDEX_OVERFLOW (a number beyond 64 bits). */
#define SL_INDEX_OVERFLOW (-2)
static int64_t shard_index(const sl_driver *d, const char *name) {
  if (strncmp(name, "shard_", 6) != 0) return -1;
  const char *ext = sl__driver_ext(d, name);
  if (ext == NULL) return -1;
  const char *p = name + 6, *end = name + strlen(name) - strlen(ext);
  if (end - p < 4) return -1;
  int64_t v = 0;
  bool overflow = false;
  for (; p < end; p++) {
    if (!isdigit((unsigned char)*p)) return -1;
    if (!sl__mul(v, 10, &v) || !sl__add(v, *p - '0', &v)) overflow = true;
  }
  return overflow ? SL_INDEX_OVERFLOW : v;
}

static int cmp_found(const void *x, const void *y) {
  const found *a = x, *b = y;
  if (a->index != b->index) return a->index < b->index ? -1 : 1;
  return sl__natural_cmp(a->name, b->name);
}

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = sl__malloc(n);
  if (p != NULL) snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
  return p;
}

/* ------------------------------------------------------------ checking */

/* A shard as messages name it: a store's shard by its directory (the
   store, or its array member inside it), not by the metadata file that
   stands for it; others as sl__shard_label does. */
static const char *label(const sl_dataset *d, size_t i, char *buf, size_t cap) {
  const sl_shard *s = &d->shards[i];
  const char *slash = strrchr(s->path, '/');
  if (d->driver->store_file == NULL || slash == NULL) return sl__shard_label(s, buf, cap);
  const char *m = s->member ? s->member : "";
  while (*m == '/') m++;
  snprintf(buf, cap, "%.*s%s%s", (int)(slash - s->path), s->path, *m ? "/" : "", m);
  return buf;
}

/* Shard i against the reference shard ref: same dtype, same trailing shape
   (an extent a shard without rows cannot tell, -1, matches any). */
static sl_status check_agrees(const sl_dataset *d, size_t i, size_t ref,
                              const sl_shard_info *first, const sl_shard_info *in,
                              sl_error *err) {
  char a[512], b[512];
  if (in->dtype != first->dtype)
    SL_FAIL(err, SL_ELAYOUT, "%s: dtype %s differs from %s of %s",
            label(d, i, a, sizeof a), sl_dtype_str(in->dtype), sl_dtype_str(first->dtype),
            label(d, ref, b, sizeof b));
  bool same = in->ndim == first->ndim;
  for (int k = 1; same && k < in->ndim; k++)
    same = in->shape[k] == first->shape[k] || in->shape[k] < 0 || first->shape[k] < 0;
  if (!same) {
    char sa[256], sb[256];
    sl__shape_text(in->shape + 1, in->ndim - 1, sa, sizeof sa);
    sl__shape_text(first->shape + 1, first->ndim - 1, sb, sizeof sb);
    SL_FAIL(err, SL_ELAYOUT, "%s: trailing shape %s differs from %s of %s",
            label(d, i, a, sizeof a), sa, sb, label(d, ref, b, sizeof b));
  }
  return SL_OK;
}

/* What a driver's probe returned is usable: -1 only for a shard without rows. */
static sl_status check_info(const sl_dataset *d, const sl_shard *s, const sl_shard_info *in,
                            sl_error *err) {
  bool ok = in->ndim >= 1 && in->ndim <= SL_MAX_DIMS && sl_dtype_size(in->dtype) != 0;
  for (int k = 1; ok && k < in->ndim; k++)
    ok = in->shape[k] >= 0 || (in->shape[k] == -1 && s->rows == 0);
  if (!ok)
    SL_FAIL(err, SL_EFORMAT, "%s: driver %s returned a bad dtype or shape", s->path,
            d->driver->name);
  return SL_OK;
}

/* The reference takes the extents it could not tell from a later shard. */
static bool learn_extents(sl_shard_info *ref, const sl_shard_info *in) {
  bool learned = false;
  for (int k = 1; k < ref->ndim && k < in->ndim; k++)
    if (ref->shape[k] < 0 && in->shape[k] >= 0) {
      ref->shape[k] = in->shape[k];
      learned = true;
    }
  return learned;
}

/* Shard i's header, read from src (its file, opened once for all the
   shards it holds), checked against the shards before it. */
static sl_status probe_one(sl_dataset *d, const sl_source *src, size_t i, sl_shard_info *ref,
                           size_t *ref_i, sl_error *err) {
  sl_shard *s = &d->shards[i];
  sl_shard_info info;
  memset(&info, 0, sizeof info);
  SL_TRY(d->driver->probe(d->state, src, s->member, s, &info, err));
  SL_TRY(check_info(d, s, &info, err));
  if (i == 0) *ref = info;
  SL_TRY(check_agrees(d, i, *ref_i, ref, &info, err));
  if (learn_extents(ref, &info)) *ref_i = i;
  if (!sl__add(d->cum_rows[i], s->rows, &d->cum_rows[i + 1]))
    SL_FAIL(err, SL_ELAYOUT, "%s: total rows overflow 64 bits", s->path);
  return SL_OK;
}

/* Every file opened once: its identity recorded, its shards probed. */
static sl_status probe_files(sl_dataset *d, sl_shard_info *ref, sl_error *err) {
  size_t ref_i = 0;
  for (size_t f = 0, i = 0; f < d->nfiles; f++) {
    sl_source src;
    SL_TRY(sl__source_open(&src, d->files[f], err));
    d->files_probed++;
    d->ids[f] = src.id;
    sl_status st = SL_OK;
    for (; st == SL_OK && i < d->nshards && d->file_of[i] == f; i++)
      st = probe_one(d, &src, i, ref, &ref_i, err);
    sl__source_close(&src);
    SL_TRY(st);
  }
  return SL_OK;
}

/* Option dtype: a driver that converts (the table formats) reports the
   dtype asked for; one that does not reports the files' own, and a
   different one asked for is refused rather than silently ignored. */
static sl_status check_dtype_option(const sl_dataset *d, sl_error *err) {
  if (d->opts.dtype == NULL) return SL_OK;
  sl_dtype want;
  int swap;
  if (sl_dtype_parse(d->opts.dtype, &want, &swap) != SL_OK)
    SL_FAIL(err, SL_EINVAL, "%s: option dtype '%s' is not a numeric dtype this library knows",
            d->root, d->opts.dtype);
  if (want == d->dtype) return SL_OK;
  SL_FAIL(err, SL_EINVAL, "%s: option dtype '%s' differs from the files' dtype %s, and the "
          "%s format loads its files' own type (only the table formats convert); leave "
          "option dtype out, or convert after loading", d->root, d->opts.dtype,
          sl_dtype_str(d->dtype), d->driver->name);
}

static sl_status probe_all(sl_dataset *d, sl_error *err) {
  sl_shard_info first = {0};
  SL_TRY(probe_files(d, &first, err));
  d->dtype = first.dtype;
  SL_TRY(check_dtype_option(d, err));
  d->ndim = first.ndim;
  memcpy(d->shape, first.shape, sizeof d->shape);
  for (int k = 1; k < d->ndim; k++) d->shape[k] = SL_MAX(d->shape[k], 0); /* no shard told */
  d->shape[0] = d->cum_rows[d->nshards];
  d->row_bytes = (int64_t)sl_dtype_size(d->dtype);
  for (int k = 1; k < d->ndim; k++)
    if (!sl__mul(d->row_bytes, d->shape[k], &d->row_bytes))
      SL_FAIL(err, SL_ELAYOUT, "%s: row size overflows 64 bits", d->root);
  int64_t total;
  if (!sl__mul(d->row_bytes, d->shape[0], &total))
    SL_FAIL(err, SL_ELAYOUT, "%s: array size overflows 64 bits", d->root);
  return SL_OK;
}

/* The driver's state, then every header. */
static sl_status start_and_probe(sl_dataset *d, sl_error *err) {
  SL_TRY(sl__dataset_start(d, true, err));
  return probe_all(d, err);
}

/* ---------------------------------------------------------- enumeration */

/* Collects shard_NNNN files of driver drv among names. */
static size_t match_shards(const sl_driver *drv, char **names, size_t n, found *out) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t idx = shard_index(drv, names[i]);
    if (idx == -1) continue;
    if (out) out[k] = (found){names[i], idx};
    k++;
  }
  return k;
}

/* Picks the format of a directory: the one given, or the only one present. */
static sl_status pick_driver(const char *dir, const sl_open_options *o, char **names,
                             size_t n, const sl_driver **out, sl_error *err) {
  if (o->format != NULL) {
    *out = sl__driver_by_name(o->format);
    if (*out == NULL)
      SL_FAIL(err, SL_ENOTSUP, "%s: no format driver named '%s' in this build (built in: %s)",
              dir, o->format, sl__driver_names());
    return SL_OK;
  }
  *out = NULL;
  for (size_t i = 0; sl__driver_at(i) != NULL; i++) {
    const sl_driver *d = sl__driver_at(i);
    if (match_shards(d, names, n, NULL) == 0) continue;
    if (*out != NULL && *out != d)
      SL_FAIL(err, SL_ELAYOUT, "%s: holds shards of two formats (%s and %s); choose one with "
              "option format", dir, (*out)->name, d->name);
    *out = d;
  }
  if (*out == NULL)
    SL_FAIL(err, SL_ELAYOUT, "%s: no shard files found (expected shard_NNNN.<ext> with at "
            "least four digits, for formats: %s)", dir, sl__driver_names());
  return SL_OK;
}

/* Checks the numbering is 0..n-1 with no hole and no duplicate. */
static sl_status check_sequence(const char *dir, const sl_driver *drv, const found *f,
                                size_t n, sl_error *err) {
  for (size_t i = 0; i < n; i++)
    if (f[i].index == SL_INDEX_OVERFLOW)
      SL_FAIL(err, SL_ELAYOUT, "%s: %s has a shard number beyond 64 bits", dir, f[i].name);
  for (size_t i = 0; i < n; i++) {
    if (f[i].index == (int64_t)i) continue;
    if (i > 0 && f[i].index == f[i - 1].index)
      SL_FAIL(err, SL_ELAYOUT, "%s: %s and %s both claim shard number %lld", dir,
              f[i - 1].name, f[i].name, (long long)f[i].index);
    SL_FAIL(err, SL_ELAYOUT, "%s: shard sequence has a hole: shard_%04zu%s is missing "
            "(found %zu shards, the last is %s)", dir, i, drv->extensions[0], n,
            f[n - 1].name);
  }
  return SL_OK;
}

static sl_status enumerate_dir(const char *dir, const sl_open_options *o, char **names,
                               size_t n, const sl_driver **drv, found **out, size_t *nout,
                               sl_error *err) {
  found *f = sl__calloc(n ? n : 1, sizeof *f);
  if (f == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", dir);
  size_t k = 0;
  sl_status st = SL_OK;
  if (o->pattern != NULL) {
    for (size_t i = 0; i < n; i++)
      if (fnmatch(o->pattern, names[i], FNM_PERIOD) == 0) f[k++] = (found){names[i], 0};
    qsort(f, k, sizeof *f, cmp_found);
    if (k == 0)
      st = sl__fail(err, SL_ELAYOUT, "%s: no file matches the pattern '%s'", dir, o->pattern);
    else if (o->format != NULL)
      st = pick_driver(dir, o, names, n, drv, err);
    else if ((*drv = sl__driver_for_path(f[0].name)) == NULL)
      st = sl__fail(err, SL_ELAYOUT, "%s: no format driver knows the extension of %s; choose "
                    "one with option format", dir, f[0].name);
  } else {
    st = pick_driver(dir, o, names, n, drv, err);
    if (st == SL_OK) {
      k = match_shards(*drv, names, n, f);
      qsort(f, k, sizeof *f, cmp_found);
      if (k == 0)
        st = sl__fail(err, SL_ELAYOUT, "%s: no shard_NNNN%s files found", dir,
                      (*drv)->extensions[0]);
      else
        st = check_sequence(dir, *drv, f, k, err);
    }
  }
  if (st != SL_OK) {
    sl__free(f);
    return st;
  }
  *out = f;
  *nout = k;
  return SL_OK;
}

/* A shard of a directory that is itself a store: its file instead. */
static sl_status store_member(const sl_driver *drv, char **path, sl_error *err) {
  bool is_dir = false;
  SL_TRY(sl__path_kind(*path, &is_dir, err));
  if (!is_dir) return SL_OK;
  char *file = NULL;
  SL_TRY(drv->store_file(*path, &file, err));
  if (file == NULL)
    SL_FAIL(err, SL_ELAYOUT, "%s: a directory that is not a %s store", *path, drv->name);
  sl__free(*path);
  *path = file;
  return SL_OK;
}

/* The driver (the one asked for, else any) whose store dir is, and the
   file that stands for it; *drv NULL when none claims it. */
static sl_status find_store(const char *dir, const sl_open_options *o, const sl_driver **drv,
                            char **file, sl_error *err) {
  *drv = NULL;
  *file = NULL;
  for (size_t i = 0; sl__driver_at(i) != NULL; i++) {
    const sl_driver *d = sl__driver_at(i);
    if (d->store_file == NULL || (o->format != NULL && strcmp(o->format, d->name) != 0))
      continue;
    SL_TRY(d->store_file(dir, file, err));
    if (*file != NULL) {
      *drv = d;
      return SL_OK;
    }
  }
  return SL_OK;
}

static sl_status discover_dir(const char *dir, const sl_open_options *o, sl_dataset **out,
                              sl_error *err) {
  char **names;
  size_t n;
  SL_TRY(sl__list_dir(dir, &names, &n, err));
  const sl_driver *drv = NULL;
  found *f = NULL;
  size_t k = 0;
  sl_status st = enumerate_dir(dir, o, names, n, &drv, &f, &k, err);
  sl_dataset *d = NULL;
  if (st == SL_OK) st = sl__dataset_new(dir, drv, o, k, k, &d, err);
  for (size_t i = 0; st == SL_OK && i < k; i++) {
    if ((d->files[i] = join(dir, f[i].name)) == NULL)
      st = sl__fail(err, SL_ENOMEM, "%s: out of memory", dir);
    else if (drv->store_file != NULL)
      st = store_member(drv, &d->files[i], err);
    if (st == SL_OK) st = sl__dataset_set_shard(d, i, i, d->opts.dataset, err);
  }
  sl__free(f);
  sl__free_names(names, n);
  if (st == SL_OK) st = start_and_probe(d, err);
  if (st != SL_OK) {
    sl_dataset_free(d);
    return st;
  }
  *out = d;
  return SL_OK;
}

static sl_status discover_file(const char *root, const char *path, const sl_driver *drv,
                               const sl_open_options *o, sl_dataset **out, sl_error *err) {
  if (drv == NULL)
    drv = o->format ? sl__driver_by_name(o->format) : sl__driver_for_path(path);
  if (drv == NULL)
    SL_FAIL(err, o->format ? SL_ENOTSUP : SL_ELAYOUT,
            "%s: %s (built in: %s); choose one with option format", path,
            o->format ? "no such format driver in this build" : "unknown file extension",
            sl__driver_names());
  char **members = NULL;
  size_t n = 1;
  if (drv->expand != NULL) SL_TRY(drv->expand(NULL, path, o, &members, &n, err));
  if (n == 0) {
    free(members);
    SL_FAIL(err, SL_ELAYOUT, "%s: driver %s found no shards in the file", path, drv->name);
  }
  sl_dataset *d = NULL;
  sl_status st = sl__dataset_new(root, drv, o, 1, n, &d, err);
  if (st == SL_OK && (d->files[0] = sl__strdup(path)) == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory", path);
  for (size_t i = 0; st == SL_OK && i < n; i++)
    st = sl__dataset_set_shard(d, i, 0, members ? members[i] : d->opts.dataset, err);
  for (size_t i = 0; members != NULL && i < n; i++) free(members[i]);
  free(members);
  if (st == SL_OK) st = start_and_probe(d, err);
  if (st != SL_OK) {
    sl_dataset_free(d);
    return st;
  }
  *out = d;
  return SL_OK;
}

sl_status sl__discover(const char *path, const sl_open_options *o, sl_dataset **out,
                       sl_error *err) {
  *out = NULL;
  sl_open_options opts;
  SL_TRY(sl__open_options(o, &opts, err));
  if (path == NULL || *path == '\0') SL_FAIL(err, SL_EINVAL, "no dataset path given");
  bool is_dir;
  SL_TRY(sl__path_kind(path, &is_dir, err));
  if (!is_dir) return discover_file(path, path, NULL, &opts, out, err);
  const sl_driver *drv;
  char *file;
  SL_TRY(find_store(path, &opts, &drv, &file, err));
  if (drv == NULL) return discover_dir(path, &opts, out, err);
  sl_status st = discover_file(path, file, drv, &opts, out, err);
  sl__free(file);
  return st;
}
