/* Step 1, discovery: find the shards, read only their headers, check that
 * dtype and trailing shape agree, and build cum_rows. This runs on one
 * process (rank 0); dist.c broadcasts the packed result.
 *
 * The inputs are taken in the order given, each for the files it holds
 * (find.c: a file, a store, a directory's shard_NNNN files, its matches of
 * option pattern or its key=value folders); one format for all of them; a
 * file given itself (or a store) may hold several shards when its driver
 * expands it (HDF5 datasets, Zarr arrays).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

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

/* ---------------------------------------------------------- the inputs */

/* Every input's files, in order. */
static sl_status find_all(const char *const *paths, size_t n, const sl_open_options *o,
                          sl_found_list *l, sl_error *err) {
  for (size_t i = 0; i < n; i++) {
    if (paths[i] != NULL && *paths[i] != '\0') {
      SL_TRY(sl__find_files(paths[i], o, l, err));
    } else if (n == 1) {
      SL_FAIL(err, SL_EINVAL, "no dataset path given");
    } else {
      SL_FAIL(err, SL_EINVAL, "no dataset path given as input %zu of %zu (it is %s)", i + 1,
              n, paths[i] ? "empty" : "NULL");
    }
  }
  return SL_OK;
}

static sl_status check_format_option(const char *root, const sl_open_options *o,
                                     sl_error *err) {
  if (o->format == NULL || sl__driver_by_name(o->format) != NULL) return SL_OK;
  SL_FAIL(err, SL_ENOTSUP, "%s: no format driver named '%s' in this build (built in: %s)",
          root, o->format, sl__driver_names());
}

/* A found file as messages name it: a store by its directory. */
static const char *found_name(const sl_found *f) { return f->store ? f->store : f->path; }

/* One dataset, one format: the first file's. */
static sl_status check_one_format(const sl_found_list *l, sl_error *err) {
  const sl_found *a = &l->v[0];
  for (size_t i = 1; i < l->n; i++) {
    const sl_found *b = &l->v[i];
    if (b->driver == a->driver) continue;
    SL_FAIL(err, SL_ELAYOUT, "%s: a %s %s, but %s is %s: one dataset has one format (choose "
            "with option format)", found_name(b), b->driver->name, b->store ? "store" : "file",
            found_name(a), a->driver->name);
  }
  return SL_OK;
}

/* The shards of one file: v NULL for one shard named by option dataset. */
typedef struct members {
  char **v;  /* malloc'd by the driver: free() */
  size_t n;
} members;

static void members_free(members *m, size_t nfiles) {
  for (size_t f = 0; m != NULL && f < nfiles; f++) {
    for (size_t i = 0; m[f].v != NULL && i < m[f].n; i++) free(m[f].v[i]);
    free(m[f].v);
  }
  sl__free(m);
}

/* Files given themselves are expanded by their drivers; *nshards counts all. */
static sl_status expand_all(const sl_found_list *l, const sl_open_options *o, members *m,
                            size_t *nshards, sl_error *err) {
  *nshards = 0;
  for (size_t f = 0; f < l->n; f++) {
    const sl_found *x = &l->v[f];
    m[f] = (members){NULL, 1};
    if (x->whole && x->driver->expand != NULL)
      SL_TRY(x->driver->expand(NULL, x->path, o, &m[f].v, &m[f].n, err));
    if (m[f].n == 0)
      SL_FAIL(err, SL_ELAYOUT, "%s: driver %s found no shards in the file", x->path,
              x->driver->name);
    *nshards += m[f].n;
  }
  return SL_OK;
}

/* The dataset of the files (their paths move into it), then every header. */
static sl_status build(const char *root, sl_found_list *l, const members *m, size_t nshards,
                       const sl_open_options *o, sl_dataset **out, sl_error *err) {
  sl_dataset *d = NULL;
  SL_TRY(sl__dataset_new(root, l->v[0].driver, o, l->n, nshards, &d, err));
  sl_status st = SL_OK;
  for (size_t f = 0, i = 0; st == SL_OK && f < l->n; f++) {
    d->files[f] = l->v[f].path;
    l->v[f].path = NULL;
    for (size_t k = 0; st == SL_OK && k < m[f].n; k++, i++)
      st = sl__dataset_set_shard(d, i, f, m[f].v ? m[f].v[k] : d->opts.dataset, err);
  }
  if (st == SL_OK) st = start_and_probe(d, err);
  if (st != SL_OK) {
    sl_dataset_free(d);
    return st;
  }
  *out = d;
  return SL_OK;
}

sl_status sl__discover_paths(const char *const *paths, size_t n, const sl_open_options *o,
                             sl_dataset **out, sl_error *err) {
  *out = NULL;
  sl_open_options opts;
  SL_TRY(sl__open_options(o, &opts, err));
  if (n == 0 || paths == NULL)
    SL_FAIL(err, SL_EINVAL, "no dataset path given (the list of paths is empty)");
  const char *root = paths[0] ? paths[0] : "";
  SL_TRY(check_format_option(root, &opts, err));
  sl_found_list l = {0};
  members *m = NULL;
  size_t nshards = 0;
  sl_status st = find_all(paths, n, &opts, &l, err);
  if (st == SL_OK) st = check_one_format(&l, err);
  if (st == SL_OK && (m = sl__calloc(l.n, sizeof *m)) == NULL)
    st = sl__fail(err, SL_ENOMEM, "%s: out of memory for %zu files", root, l.n);
  if (st == SL_OK) st = expand_all(&l, &opts, m, &nshards, err);
  if (st == SL_OK) st = build(root, &l, m, nshards, &opts, out, err);
  members_free(m, l.n);
  sl__found_list_free(&l);
  return st;
}

sl_status sl__discover(const char *path, const sl_open_options *o, sl_dataset **out,
                       sl_error *err) {
  return sl__discover_paths(&path, 1, o, out, err);
}
