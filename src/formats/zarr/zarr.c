/* The Zarr driver. A store is a directory; the file that stands for it in
 * the dataset (the one the library identifies and hands over as the
 * source) is its metadata: .zarray, .zgroup or zarr.json. A shard is one
 * array: the store itself, arrays of a group chosen with option dataset
 * (a pattern such as "/shards/" and a star, natural order), or each
 * shard_NNNN.zarr store of a directory. Chunk files are opened here, read-only, as reads need them. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zarr.h"

static const char *const meta_names[] = {".zarray", "zarr.json", ".zgroup"};

static void work_free(void *p) {
  if (p == NULL) return;
  sl__zarr_work_free(p);
  sl__free(p);
}

static sl_pool pool = SL_POOL_INIT(work_free);

/* Whether path/name exists as a file (opened read-only and closed). */
static bool has_file(const char *dir, const char *name) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd;
  sl_error e = {0};
  if (sl__open_read(p, false, &fd, NULL, &e) != SL_OK) return false;
  sl__close(fd);
  return true;
}

static sl_status zr_store_file(const char *dir, char **file, sl_error *err) {
  *file = NULL;
  for (size_t i = 0; i < SL_ARRAY_LEN(meta_names); i++)
    if (has_file(dir, meta_names[i])) {
      size_t n = strlen(dir) + strlen(meta_names[i]) + 2;
      if ((*file = sl__malloc(n)) == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", dir);
      snprintf(*file, n, "%s/%s", dir, meta_names[i]);
      return SL_OK;
    }
  return SL_OK;
}

/* The store directory of a metadata file path. */
static char *store_dir(const char *meta) {
  char *d = sl__strdup(meta);
  if (d == NULL) return NULL;
  char *slash = strrchr(d, '/');
  if (slash == NULL) {
    sl__free(d);
    return sl__strdup(".");
  }
  *slash = '\0';
  return d;
}

/* The directory of the array member of the store whose metadata is meta. */
static char *array_dir(const char *meta, const char *member) {
  char *d = store_dir(meta);
  if (d == NULL || member == NULL) return d;
  while (*member == '/') member++;
  size_t n = strlen(d) + strlen(member) + 2;
  char *p = sl__malloc(n);
  if (p != NULL) snprintf(p, n, "%s%s%s", d, *member ? "/" : "", member);
  sl__free(d);
  return p;
}

static sl_status slurp(const char *path, char **text, size_t *n, sl_error *err) {
  int fd;
  sl_file_id id;
  SL_TRY(sl__open_read(path, false, &fd, &id, err));
  sl_status st = SL_OK;
  if (id.size > (1 << 24)) st = sl__fail(err, SL_EFORMAT, "%s: metadata larger than 16 MiB", path);
  char *t = st == SL_OK ? sl__malloc((size_t)id.size + 1) : NULL;
  if (st == SL_OK && t == NULL) st = sl__fail(err, SL_ENOMEM, "%s: out of memory", path);
  if (st == SL_OK) st = sl__pread_full(fd, path, t, (size_t)id.size, 0, err);
  sl__close(fd);
  if (st != SL_OK) {
    sl__free(t);
    return st;
  }
  t[id.size] = '\0';
  *text = t;
  *n = (size_t)id.size;
  return SL_OK;
}

/* Parses the array in dir: .zarray (v2) or zarr.json (v3). */
static sl_status load_array(const char *dir, zarr_array *a, sl_error *err) {
  int version = has_file(dir, ".zarray") ? 2 : has_file(dir, "zarr.json") ? 3 : 0;
  if (version == 0) {
    if (has_file(dir, ".zgroup"))
      SL_FAIL(err, SL_ELAYOUT, "%s: is a Zarr group, not an array; choose its arrays with "
              "option dataset (e.g. '/shards/*')", dir);
    SL_FAIL(err, SL_ENOENT, "%s: no Zarr array here (no .zarray or zarr.json)", dir);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, version == 2 ? ".zarray" : "zarr.json");
  char *text;
  size_t n;
  SL_TRY(slurp(path, &text, &n, err));
  sl_status st = sl__zarr_parse(text, n, version, dir, a, err);
  sl__free(text);
  return st;
}

static sl_status load_shard(const char *meta, const char *member, zarr_array *a, sl_error *err) {
  if (member != NULL && strpbrk(member, "*?[") != NULL)
    SL_FAIL(err, SL_EINVAL, "%s: the dataset pattern '%s' selects arrays of one store, not of a "
            "directory of stores", meta, member);
  char *dir = array_dir(meta, member);
  if (dir == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", meta);
  sl_status st = load_array(dir, a, err);
  sl__free(dir);
  if (st == SL_OK && a->nd < 1) {
    sl__zarr_free(a);
    SL_FAIL(err, SL_EFORMAT, "%s: a 0-d array has no rows", meta);
  }
  return st;
}

static void describe(const zarr_array *a, sl_shard_info *info) {
  info->dtype = a->dtype;
  info->ndim = a->nd;
  memcpy(info->shape, a->shape, sizeof info->shape);
}

/* --------------------------------------------------------------- expand */

typedef struct name_list {
  char **v;
  size_t n;
} name_list;

static int cmp_names(const void *x, const void *y) {
  return sl__natural_cmp(*(char *const *)x, *(char *const *)y);
}

static sl_status add_name(name_list *l, const char *rel, sl_error *err) {
  char **nv = sl__realloc(l->v, (l->n + 1) * sizeof *nv);
  if (nv == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory listing Zarr arrays");
  l->v = nv;
  /* the library frees members with free(): use the plain allocator */
  if ((l->v[l->n] = strdup(rel)) == NULL) SL_FAIL(err, SL_ENOMEM, "out of memory");
  l->n++;
  return SL_OK;
}

/* Walks dir matching the pattern's components from comp on. */
static sl_status walk(const char *dir, const char *rel, char **comps, int nc, int ci,
                      name_list *out, sl_error *err) {
  if (ci == nc) {
    if (has_file(dir, ".zarray") || has_file(dir, "zarr.json")) return add_name(out, rel, err);
    return SL_OK;
  }
  bool is_dir = false;
  sl_error e = {0};
  if (sl__path_kind(dir, &is_dir, &e) != SL_OK || !is_dir) return SL_OK;
  char **names;
  size_t n;
  SL_TRY(sl__list_dir(dir, &names, &n, err));
  sl_status st = SL_OK;
  for (size_t i = 0; st == SL_OK && i < n; i++) {
    if (names[i][0] == '.' || fnmatch(comps[ci], names[i], FNM_PERIOD) != 0) continue;
    char sub[4096], srel[4096];
    snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
    snprintf(srel, sizeof srel, "%s%s%s", rel, *rel ? "/" : "", names[i]);
    st = walk(sub, srel, comps, nc, ci + 1, out, err);
  }
  sl__free_names(names, n);
  return st;
}

static sl_status zr_expand(const void *state, const char *path, const sl_open_options *o,
                           char ***members, size_t *n, sl_error *err) {
  (void)state;
  *members = NULL;
  *n = 1;
  const char *pat = o->dataset;
  if (pat == NULL || strpbrk(pat, "*?[") == NULL) return SL_OK; /* one array */
  char *root = store_dir(path), *copy = sl__strdup(pat);
  char *comps[64];
  int nc = 0;
  sl_status st = root && copy ? SL_OK : sl__fail(err, SL_ENOMEM, "%s: out of memory", path);
  for (char *save = NULL, *t = copy ? strtok_r(copy, "/", &save) : NULL; t && nc < 64;
       t = strtok_r(NULL, "/", &save))
    comps[nc++] = t;
  name_list l = {0};
  if (st == SL_OK) st = walk(root, "", comps, nc, 0, &l, err);
  if (st == SL_OK && l.n == 0)
    st = sl__fail(err, SL_ELAYOUT, "%s: no Zarr array matches the pattern '%s'", root, pat);
  if (st == SL_OK) {
    qsort(l.v, l.n, sizeof *l.v, cmp_names);
    char **v = malloc(l.n * sizeof *v); /* the library frees it with free() */
    if (v == NULL) st = sl__fail(err, SL_ENOMEM, "%s: out of memory", root);
    else {
      memcpy(v, l.v, l.n * sizeof *v);
      *members = v;
      *n = l.n;
      l.n = 0;
    }
  }
  for (size_t i = 0; i < l.n; i++) free(l.v[i]);
  sl__free(l.v);
  sl__free(root);
  sl__free(copy);
  return st;
}

/* ----------------------------------------------------------- the slots */

static sl_status zr_probe(const void *state, const sl_source *src, const char *member,
                          sl_shard *shard, sl_shard_info *info, sl_error *err) {
  (void)state;
  zarr_array a;
  SL_TRY(load_shard(sl_source_path(src), member, &a, err));
  describe(&a, info);
  shard->rows = a.shape[0];
  shard->swap = 0;
  sl__zarr_free(&a);
  return SL_OK;
}

static sl_status zr_open(const void *state, const sl_shard *s, const sl_source *src,
                         void **handle, sl_shard_info *info, sl_error *err) {
  (void)state;
  zarr_array *a = sl__calloc(1, sizeof *a);
  if (a == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", s->path);
  sl_status st = load_shard(sl_source_path(src), s->member, a, err);
  if (st != SL_OK) {
    sl__free(a);
    return st;
  }
  describe(a, info);
  sl__pool_join(&pool);
  *handle = a;
  return SL_OK;
}

static void zr_close(void *handle) {
  zarr_array *a = handle;
  if (a == NULL) return;
  sl__pool_leave(&pool);
  sl__zarr_free(a);
  sl__free(a);
}

static sl_status zr_read(const sl_shard *s, const void *handle, const sl_source *src, int64_t lo,
                         int64_t hi, void *dst, sl_error *err) {
  (void)s;
  (void)src;
  zarr_work *w = sl__pool_get(&pool);
  if (w == NULL && (w = sl__calloc(1, sizeof *w)) == NULL)
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory", s->path);
  sl_status st = sl__zarr_read_rows(handle, lo, hi, dst, w, err);
  sl__pool_put(&pool, w);
  return st;
}

/* Pieces end where chunk rows (inner chunk rows when sharded) start. */
static int64_t zr_unit_start(const sl_shard *s, const void *handle, int64_t row) {
  const zarr_array *a = handle;
  int64_t c = a->sharded ? a->inner.cs[0] : a->chunk.cs[0];
  int64_t r = (row + c - 1) / c * c;
  return SL_MIN(r, s->rows);
}

/* The dataset's hold on the buffers' pool: they outlive a window's handles. */
static sl_status zr_dataset_open(const sl_dataset_desc *d, void **state, sl_error *err) {
  (void)d;
  (void)err;
  *state = NULL;
  sl__pool_join(&pool);
  return SL_OK;
}

static void zr_dataset_close(void *state) {
  (void)state;
  sl__pool_leave(&pool);
}

static const char *const zarr_extensions[] = {".zarr", ".zarray", "zarr.json", ".zgroup", NULL};

const sl_driver sl__zarr_driver = {
    .abi = SL_DRIVER_ABI,
    .struct_size = sizeof(sl_driver),
    .name = "zarr",
    .extensions = zarr_extensions,
    .probe = zr_probe,
    .read = zr_read,
    .dataset_open = zr_dataset_open,
    .dataset_close = zr_dataset_close,
    .expand = zr_expand,
    .open = zr_open,
    .close = zr_close,
    .unit_start = zr_unit_start,
    .write = sl__zarr_write,
    .store_file = zr_store_file,
    .inspect = sl__zarr_inspect,
};
