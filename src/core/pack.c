/* A dataset as bytes, so rank 0's discovery can be broadcast: every other
   rank rebuilds the same shard table without opening a file. Drivers are
   found again by name, so a user driver must be registered on every rank. */
#include <string.h>

#include "core.h"

#define SL_PACK_MAGIC 0x534c4454u /* "TDLS": files with identities */

typedef struct packer {
  char *buf;
  size_t len, cap;
  bool oom;
} packer;

static void put(packer *p, const void *v, size_t n) {
  if (p->oom) return;
  if (p->len + n > p->cap) {
    size_t cap = SL_MAX(p->cap * 2, p->len + n + 256);
    char *nb = sl__realloc(p->buf, cap);
    if (nb == NULL) {
      p->oom = true;
      return;
    }
    p->buf = nb;
    p->cap = cap;
  }
  memcpy(p->buf + p->len, v, n);
  p->len += n;
}

static void put_i64(packer *p, int64_t v) { put(p, &v, sizeof v); }

/* Strings travel as length+1 (0 = NULL) then the bytes. */
static void put_str(packer *p, const char *s) {
  int64_t n = s ? (int64_t)strlen(s) + 1 : 0;
  put_i64(p, n);
  if (s) put(p, s, (size_t)n - 1);
}

sl_status sl__dataset_pack(const sl_dataset *d, char **buf, size_t *n, sl_error *err) {
  packer p = {0};
  put_i64(&p, SL_PACK_MAGIC);
  put_str(&p, d->driver->name);
  put_str(&p, d->root);
  const char *opt[] = {d->opts.format,   d->opts.pattern, d->opts.dataset,   d->opts.dtype,
                       d->opts.trailing, d->opts.columns, d->opts.fill_nulls,
                       d->opts.cast};
  for (size_t i = 0; i < SL_ARRAY_LEN(opt); i++) put_str(&p, opt[i]);
  put_i64(&p, d->opts.header_bytes);
  put_i64(&p, d->opts.hdf5_allow_external);
  put_i64(&p, d->dtype);
  put_i64(&p, d->ndim);
  put(&p, d->shape, sizeof d->shape);
  put_i64(&p, (int64_t)d->nfiles);
  put_i64(&p, (int64_t)d->nshards);
  for (size_t f = 0; f < d->nfiles; f++) {
    put_str(&p, d->files[f]);
    put(&p, &d->ids[f], sizeof d->ids[f]);
  }
  for (size_t i = 0; i < d->nshards; i++) {
    const sl_shard *s = &d->shards[i];
    put_i64(&p, (int64_t)d->file_of[i]);
    put_str(&p, s->member);
    put_i64(&p, s->rows);
    put_i64(&p, s->swap);
    put(&p, s->param, sizeof s->param);
  }
  if (p.oom) {
    sl__free(p.buf);
    SL_FAIL(err, SL_ENOMEM, "%s: out of memory packing the dataset", d->root);
  }
  *buf = p.buf;
  *n = p.len;
  return SL_OK;
}

typedef struct unpacker {
  const char *p, *end;
  bool bad;
} unpacker;

static void get(unpacker *u, void *v, size_t n) {
  if (u->bad || (size_t)(u->end - u->p) < n) {
    u->bad = true;
    memset(v, 0, n);
    return;
  }
  memcpy(v, u->p, n);
  u->p += n;
}

static int64_t get_i64(unpacker *u) {
  int64_t v;
  get(u, &v, sizeof v);
  return v;
}

/* @return a malloc'd copy, NULL for a NULL string (check u->bad / *oom). */
static char *get_str(unpacker *u, bool *oom) {
  int64_t n = get_i64(u);
  if (n <= 0 || u->bad) return NULL;
  if (n - 1 > u->end - u->p) {
    u->bad = true;
    return NULL;
  }
  char *s = sl__malloc((size_t)n);
  if (s == NULL) {
    *oom = true;
    return NULL;
  }
  memcpy(s, u->p, (size_t)n - 1);
  s[n - 1] = '\0';
  u->p += n - 1;
  return s;
}

static void unpack_files(unpacker *u, sl_dataset *d, bool *oom) {
  for (size_t f = 0; f < d->nfiles && !u->bad && !*oom; f++) {
    d->files[f] = get_str(u, oom);
    if (d->files[f] == NULL) u->bad = true;
    get(u, &d->ids[f], sizeof d->ids[f]);
    d->ids[f].dev = SL_DEV_UNKNOWN; /* rank 0's machine numbers its devices itself */
  }
}

static void unpack_shards(unpacker *u, sl_dataset *d, bool *oom) {
  for (size_t i = 0; i < d->nshards && !u->bad && !*oom; i++) {
    sl_shard *s = &d->shards[i];
    int64_t f = get_i64(u);
    if (f < 0 || (size_t)f >= d->nfiles) {
      u->bad = true;
      return;
    }
    d->file_of[i] = (size_t)f;
    s->path = d->files[f];
    s->member = get_str(u, oom);
    s->rows = get_i64(u);
    s->swap = (int)get_i64(u);
    get(u, s->param, sizeof s->param);
    if (s->rows < 0 || !sl__add(d->cum_rows[i], s->rows, &d->cum_rows[i + 1])) u->bad = true;
  }
}

/* The numbers that shape the array, checked as rank 0 checked them. */
static bool shape_ok(sl_dataset *d) {
  if (d->ndim < 1 || d->ndim > SL_MAX_DIMS || sl_dtype_size(d->dtype) == 0) return false;
  d->row_bytes = (int64_t)sl_dtype_size(d->dtype);
  for (int k = 1; k < d->ndim; k++)
    if (d->shape[k] < 0 || !sl__mul(d->row_bytes, d->shape[k], &d->row_bytes)) return false;
  return d->shape[0] == d->cum_rows[d->nshards];
}

static sl_status unpack_body(unpacker *u, size_t n, const char *root, const sl_driver *driver,
                             const sl_open_options *o, sl_dataset **out, sl_error *err) {
  sl_dtype t = (sl_dtype)get_i64(u);
  int ndim = (int)get_i64(u);
  int64_t shape[SL_MAX_DIMS];
  get(u, shape, sizeof shape);
  int64_t nf = get_i64(u), ns = get_i64(u);
  if (u->bad || nf < 0 || ns < 0 || nf > (int64_t)n || ns > (int64_t)n)
    SL_FAIL(err, SL_EPEER, "broadcast dataset is corrupt");
  sl_dataset *d;
  SL_TRY(sl__dataset_new(root, driver, o, (size_t)nf, (size_t)ns, &d, err));
  d->dtype = t;
  d->ndim = ndim;
  memcpy(d->shape, shape, sizeof shape);
  bool oom = false;
  unpack_files(u, d, &oom);
  unpack_shards(u, d, &oom);
  sl_status st = SL_OK;
  if (oom) st = sl__fail(err, SL_ENOMEM, "%s: out of memory unpacking the dataset", root);
  else if (u->bad || !shape_ok(d)) st = sl__fail(err, SL_EPEER, "broadcast dataset is corrupt");
  if (st == SL_OK) st = sl__dataset_start(d, false, err);
  if (st != SL_OK) {
    sl_dataset_free(d);
    return st;
  }
  *out = d;
  return SL_OK;
}

sl_status sl__dataset_unpack(const char *buf, size_t n, sl_dataset **out, sl_error *err) {
  unpacker u = {buf, buf + n, false};
  bool oom = false;
  *out = NULL;
  if (get_i64(&u) != SL_PACK_MAGIC) SL_FAIL(err, SL_EPEER, "broadcast dataset is corrupt");
  char *drv = get_str(&u, &oom), *root = get_str(&u, &oom);
  char *opt[8];
  for (size_t i = 0; i < SL_ARRAY_LEN(opt); i++) opt[i] = get_str(&u, &oom);
  sl_open_options o;
  sl_open_options_init(&o);
  o.format = opt[0], o.pattern = opt[1], o.dataset = opt[2], o.dtype = opt[3];
  o.trailing = opt[4], o.header_bytes = get_i64(&u), o.columns = opt[5], o.fill_nulls = opt[6];
  o.hdf5_allow_external = (int)get_i64(&u);
  o.cast = opt[7];
  const sl_driver *driver = drv ? sl__driver_by_name(drv) : NULL;
  sl_status st = SL_OK;
  if (oom) st = sl__fail(err, SL_ENOMEM, "out of memory unpacking the dataset");
  else if (u.bad || root == NULL) st = sl__fail(err, SL_EPEER, "broadcast dataset is corrupt");
  else if (driver == NULL)
    st = sl__fail(err, SL_EPEER, "%s: format driver '%s' is not registered on this rank", root,
                  drv);
  if (st == SL_OK) st = unpack_body(&u, n, root, driver, &o, out, err);
  sl__free(drv);
  sl__free(root);
  for (size_t i = 0; i < SL_ARRAY_LEN(opt); i++) sl__free(opt[i]);
  return st;
}
