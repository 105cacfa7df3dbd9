/* The dataset object: its files (each with the identity discovery recorded),
 * its shards (several may share a file), the options it was opened with,
 * the driver's dataset state and the file cache of this process. Discovery
 * (layout.c) fills it on rank 0; unpacking (pack.c) on the others. */
#include <stdio.h>
#include <string.h>

#include "core.h"

void sl_dataset_free(sl_dataset *d) {
  if (d == NULL) return;
  sl__handles_free(d->handles, d); /* before the driver state they use */
  sl__cache_free(d->cache);
  if (d->state != NULL && d->driver->dataset_close != NULL) d->driver->dataset_close(d->state);
  for (size_t i = 0; d->shards != NULL && i < d->nshards; i++)
    sl__free((char *)d->shards[i].member);
  for (size_t i = 0; d->files != NULL && i < d->nfiles; i++) sl__free(d->files[i]);
  sl__free(d->files);
  sl__free(d->ids);
  sl__free(d->shards);
  sl__free(d->file_of);
  sl__free(d->cum_rows);
  sl__free(d->opt_strings);
  sl__free(d->root);
  sl__free(d);
}

/* The caller's options as far as its struct_size reaches, the rest default.
   A struct_size of 0 is a caller that never called sl_open_options_init. */
/* The caller's options; format by its driver's own name (an alias or an
   extension resolved), or SL_EINVAL when no driver answers to it. */
sl_status sl__open_options(const sl_open_options *in, sl_open_options *out, sl_error *err) {
  sl_open_options_init(out);
  if (in == NULL) return SL_OK;
  SL_TRY(sl__struct_in(in, out, sizeof *out, offsetof(sl_open_options, format),
                       "sl_open_options", "sl_open_options_init", err));
  if (out->format == NULL) return SL_OK;
  const sl_driver *d = sl__driver_by_name(out->format);
  if (d == NULL)
    SL_FAIL(err, SL_EINVAL, "option format '%s' is not a format of this build (built in: %s)",
            out->format, sl__driver_names());
  out->format = d->name;
  return SL_OK;
}

/* Copies the option strings into one block the dataset owns. */
static sl_status copy_options(sl_dataset *d, const sl_open_options *o, sl_error *err) {
  SL_TRY(sl__open_options(o, &d->opts, err));
  const char **fields[] = {&d->opts.format,  &d->opts.pattern, &d->opts.dataset,
                           &d->opts.dtype,   &d->opts.trailing, &d->opts.columns,
                           &d->opts.fill_nulls, &d->opts.cast};
  size_t total = 1;
  for (size_t i = 0; i < SL_ARRAY_LEN(fields); i++)
    if (*fields[i] != NULL) total += strlen(*fields[i]) + 1;
  d->opt_strings = sl__malloc(total);
  if (d->opt_strings == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", d->root);
  char *p = d->opt_strings;
  for (size_t i = 0; i < SL_ARRAY_LEN(fields); i++) {
    if (*fields[i] == NULL) continue;
    size_t n = strlen(*fields[i]) + 1;
    memcpy(p, *fields[i], n);
    *fields[i] = p;
    p += n;
  }
  return SL_OK;
}

sl_status sl__dataset_new(const char *root, const sl_driver *drv, const sl_open_options *o,
                          size_t nfiles, size_t nshards, sl_dataset **out, sl_error *err) {
  *out = NULL;
  sl_dataset *d = sl__calloc(1, sizeof *d);
  if (d == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", root);
  d->driver = drv;
  d->nshards = nshards;
  d->nfiles = nfiles;
  d->root = sl__strdup(root);
  d->files = sl__calloc(nfiles ? nfiles : 1, sizeof *d->files);
  d->ids = sl__calloc(nfiles ? nfiles : 1, sizeof *d->ids);
  d->shards = sl__calloc(nshards ? nshards : 1, sizeof *d->shards);
  d->file_of = sl__calloc(nshards ? nshards : 1, sizeof *d->file_of);
  d->cum_rows = sl__calloc(nshards + 1, sizeof *d->cum_rows);
  if (d->root == NULL || d->files == NULL || d->ids == NULL || d->shards == NULL ||
      d->file_of == NULL || d->cum_rows == NULL) {
    sl_dataset_free(d);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory for %zu shards", root, nshards);
  }
  sl_status st = copy_options(d, o, err);
  if (st != SL_OK) {
    sl_dataset_free(d);
    return st;
  }
  for (size_t i = 0; i < nshards; i++) d->shards[i].opts = &d->opts;
  *out = d;
  return SL_OK;
}

sl_status sl__dataset_set_shard(sl_dataset *d, size_t i, size_t file, const char *member,
                                sl_error *err) {
  d->file_of[i] = file;
  d->shards[i].path = d->files[file];
  if (member != NULL && (d->shards[i].member = sl__strdup(member)) == NULL)
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory", d->root);
  return SL_OK;
}

sl_status sl__dataset_start(sl_dataset *d, bool discovering, sl_error *err) {
  if (d->driver->dataset_open != NULL) {
    sl_dataset_desc desc = {d->root, &d->opts, d->shards, d->nshards, discovering};
    SL_TRY(d->driver->dataset_open(&desc, &d->state, err));
  }
  sl_error why = {0};
  if (sl__cache_new(d->nfiles, d->files, d->ids, &d->cache, &why) != SL_OK)
    SL_FAIL(err, why.code, "%s: %s", d->root, why.message);
  return sl__handles_new(d->nshards, &d->handles, err);
}

/* ----------------------------------------------------------- outputs */

/* A device number that came in the broadcast is unknown here: the inode,
   size and mtime must all match then. */
static bool same_file(const sl_file_id *in, const sl_file_id *out) {
  if (in->ino != out->ino) return false;
  if (in->dev != SL_DEV_UNKNOWN) return in->dev == out->dev;
  return in->size == out->size && in->mtime_sec == out->mtime_sec &&
         in->mtime_nsec == out->mtime_nsec;
}

/* The directory part of path ("." when it has none), in buf. */
static const char *dir_of(const char *path, char *buf, size_t cap) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) return ".";
  snprintf(buf, cap, "%.*s", (int)(slash == path ? 1 : slash - path), path);
  return buf;
}

static bool same_dir(const char *a, const char *b) {
  sl_file_id da, db;
  return sl__stat_id(a, true, &da) == 0 && sl__stat_id(b, true, &db) == 0 &&
         da.dev == db.dev && da.ino == db.ino;
}

/* A sidecar (_meta.json) in the dataset's directory or the first shard's:
   the raw driver's layout and write's record, both inputs of a sort. */
static bool is_sidecar(const sl_dataset *d, const char *path) {
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  if (strcmp(base, "_meta.json") != 0 || d->nfiles == 0) return false;
  char a[4096], b[4096], prev[4096] = "";
  const char *dir = dir_of(path, a, sizeof a);
  if (same_dir(dir, d->root)) return true;
  for (size_t i = 0; i < d->nfiles; i++) { /* several inputs: every folder of a file */
    const char *f = dir_of(d->files[i], b, sizeof b);
    if (strcmp(f, prev) == 0) continue;
    if (same_dir(dir, f)) return true;
    snprintf(prev, sizeof prev, "%s", f);
  }
  return false;
}

/* Inside the directory of a store (a Zarr store's chunks live beside the
   metadata file that stands for it, in folders below it): any ancestor of
   path that is the directory of an input file of a store format. */
static bool inside_store(const sl_dataset *d, const char *path) {
  if (d->driver->store_file == NULL) return false;
  char up[4096], buf[4096];
  snprintf(up, sizeof up, "%s", path);
  sl_file_id anc[64];
  int n = 0;
  for (char *s; n < 64 && (s = strrchr(up, '/')) != NULL && s != up; n++) {
    *s = '\0';
    if (sl__stat_id(up, true, &anc[n]) != 0) n--;
  }
  for (size_t i = 0; i < d->nfiles; i++) {
    sl_file_id id;
    if (sl__stat_id(dir_of(d->files[i], buf, sizeof buf), true, &id) != 0) continue;
    for (int k = 0; k < n; k++)
      if (anc[k].dev == id.dev && anc[k].ino == id.ino) return true;
  }
  return false;
}

sl_status sl_dataset_check_output(const sl_dataset *d, const char *path, sl_error *err) {
  sl_error_clear(err);
  if (d == NULL) SL_FAIL(err, SL_EINVAL, "sl_dataset_check_output: no dataset");
  SL_TRY(sl__check_output_path(path, err));
  if (is_sidecar(d, path))
    SL_FAIL(err, SL_EINVAL, "%s: is the sidecar of the dataset being read; refusing to "
            "replace it", path);
  if (inside_store(d, path))
    SL_FAIL(err, SL_EINVAL, "%s: is inside a store of the dataset being read; refusing to "
            "write there", path);
  sl_file_id out;
  if (sl__stat_id(path, false, &out) != 0) return SL_OK; /* a new file */
  for (size_t i = 0; i < d->nfiles; i++) {
    if (!same_file(&d->ids[i], &out)) continue;
    if (strcmp(path, d->files[i]) == 0)
      SL_FAIL(err, SL_EINVAL, "%s: is an input of this read; refusing to replace it", path);
    SL_FAIL(err, SL_EINVAL, "%s: is the same file as %s, an input of this read; refusing "
            "to replace it", path, d->files[i]);
  }
  return SL_OK;
}

/* ------------------------------------------------------------- messages */

const char *sl__shard_label(const sl_shard *s, char *buf, size_t cap) {
  if (s->member) snprintf(buf, cap, "%s:%s", s->path, s->member);
  else snprintf(buf, cap, "%s", s->path);
  return buf;
}

void sl__shape_text(const int64_t *s, int n, char *buf, size_t cap) {
  size_t k = (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < n && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%lld%s", (long long)s[i],
                          n == 1 ? "," : i + 1 < n ? ", " : "");
  if (k < cap) snprintf(buf + k, cap - k, ")");
}

/* ------------------------------------------------------------ accessors */

sl_dtype sl_dataset_dtype(const sl_dataset *d) { return d->dtype; }

int sl_dataset_shape(const sl_dataset *d, int64_t *shape) {
  if (shape != NULL) memcpy(shape, d->shape, sizeof(int64_t) * (size_t)d->ndim);
  return d->ndim;
}

size_t sl_dataset_num_shards(const sl_dataset *d) { return d->nshards; }

const char *sl_dataset_shard(const sl_dataset *d, size_t i, int64_t *rows,
                             const char **member) {
  if (i >= d->nshards) return NULL;
  if (rows) *rows = d->shards[i].rows;
  if (member) *member = d->shards[i].member;
  return d->shards[i].path;
}

const char *sl_dataset_format(const sl_dataset *d) { return d->driver->name; }

int64_t sl_dataset_nbytes(const sl_dataset *d) { return d->shape[0] * d->row_bytes; }

int64_t sl_dataset_files_probed(const sl_dataset *d) { return d->files_probed; }
