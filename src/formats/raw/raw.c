/* Raw driver: headerless fixed-stride files (shard_NNNN.bin / .raw).
 *
 * Nothing in the file says what it holds, so the layout comes from outside:
 * the options (--dtype, --trailing, --header-bytes) or, without --dtype, the
 * sidecar _meta.json beside the file ({"dtype": "<f4", "trailing": [8]} or
 * "shape": [N, 8], optional "header_bytes"). Options given on the command
 * line win over the sidecar field by field. Rows are what the file size
 * says: (size - header) / row bytes, with no remainder allowed.
 *
 * The layout is resolved once per dataset (dataset_open, on the discovering
 * process: the other ranks get every number they need in param[]), not once
 * per shard. Every shard answers `extents` with one byte range, so reads
 * take the generic pread path; `read` exists for callers that want decoded
 * rows. There is no header to re-read: the library's identity check (size,
 * inode, mtime) is all a changed raw file can be caught by.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base.h"

/* param[] layout, broadcast to every rank. */
enum { P_DATA_OFF, P_ROW_BYTES, P_DTYPE };

/* A sidecar is a few hundred bytes plus a list of file names; anything far
   larger is not one. */
#define SL_RAW_MAX_META (64 << 20)
#define SL_RAW_META_NAME "_meta.json"

/* The layout of every file of the dataset. */
typedef struct raw_layout {
  sl_dtype dtype;
  int swap;
  int ntrail;                       /* trailing dimensions (ndim - 1) */
  int64_t trail[SL_MAX_DIMS - 1];
  int64_t header;                   /* bytes to skip at each file's start */
  bool trail_from_meta;             /* the trailing shape came from the sidecar */
} raw_layout;

/* ------------------------------------------------------------- options */

static sl_status bad_trailing(const char *text, const char *path, sl_error *err) {
  SL_FAIL(err, SL_EINVAL, "%s: expected option trailing as up to %d comma-separated sizes "
          "such as 3,4 but found '%s'", path, SL_MAX_DIMS - 1, text);
}

/* Parses "3,4" (also "(3, 4)", "3,4,"); NULL or empty is 1-D. */
static sl_status parse_trailing(const char *text, const char *path, raw_layout *L,
                                sl_error *err) {
  L->ntrail = 0;
  if (text == NULL) return SL_OK;
  const char *p = text;
  while (*p == ' ' || *p == '(') p++;
  while (*p != '\0' && *p != ')') {
    if (*p < '0' || *p > '9' || L->ntrail == SL_MAX_DIMS - 1)
      return bad_trailing(text, path, err);
    int64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
      if (!sl__mul(v, 10, &v) || !sl__add(v, *p - '0', &v))
        SL_FAIL(err, SL_EINVAL, "%s: option trailing '%s' overflows 64 bits", path, text);
    L->trail[L->ntrail++] = v;
    while (*p == ' ') p++;
    if (*p == ',') p++;
    while (*p == ' ') p++;
  }
  if (*p == ')') p++;
  return *p == '\0' ? SL_OK : bad_trailing(text, path, err);
}

static sl_status parse_dtype(const char *text, const char *path, const char *source,
                             raw_layout *L, sl_error *err) {
  if (sl_dtype_parse(text, &L->dtype, &L->swap) != SL_OK)
    SL_FAIL(err, source[0] == 'o' ? SL_EINVAL : SL_EFORMAT,
            "%s: expected %s to name a dtype such as <f4, >i8 or float32 but found '%s'",
            path, source, text);
  return SL_OK;
}

/* ------------------------------------------------------------- sidecar */

/* path's directory joined with the sidecar name (malloc'd). */
static char *sidecar_path(const char *path) {
  const char *slash = strrchr(path, '/');
  size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
  size_t n = dir + sizeof SL_RAW_META_NAME;
  char *m = sl__malloc(n);
  if (m != NULL) snprintf(m, n, "%.*s%s", (int)dir, path, SL_RAW_META_NAME);
  return m;
}

/* Reads the whole sidecar; a missing one says what else would do. */
static sl_status read_text(const char *meta, const char *path, char **text, sl_error *err) {
  sl_error e = {0};
  int fd;
  if (sl__open_read(meta, false, &fd, NULL, &e) != SL_OK) {
    if (e.code == SL_ENOENT)
      SL_FAIL(err, SL_ELAYOUT, "%s: expected option dtype (and option trailing) or a "
              "sidecar %s for this raw file but found neither", path, meta);
    SL_FAIL(err, e.code, "%s", e.message);
  }
  int64_t size;
  sl_status st = sl__file_size(fd, meta, &size, err);
  if (st == SL_OK && size > SL_RAW_MAX_META)
    st = sl__fail(err, SL_EFORMAT, "%s: expected a sidecar of at most %d bytes but found %lld",
                  meta, SL_RAW_MAX_META, (long long)size);
  char *buf = st == SL_OK ? sl__malloc((size_t)size + 1) : NULL;
  if (st == SL_OK && buf == NULL) st = sl__fail(err, SL_ENOMEM, "%s: out of memory", meta);
  if (st == SL_OK) st = sl__pread_full(fd, meta, buf, (size_t)size, 0, err);
  sl__close(fd);
  if (st != SL_OK) {
    sl__free(buf);
    return st;
  }
  buf[size] = '\0';
  *text = buf;
  return SL_OK;
}

/* A JSON number that is a non-negative integer exactly representable. */
static bool json_count(const cJSON *v, int64_t *out) {
  if (!cJSON_IsNumber(v)) return false;
  double d = v->valuedouble;
  if (!(d >= 0 && d <= 9007199254740992.0) || (double)(int64_t)d != d) return false;
  *out = (int64_t)d;
  return true;
}

/* Fills dims from a JSON array of counts, skipping its first skip items. */
static sl_status json_dims(const cJSON *a, int skip, const char *meta, const char *key,
                           int64_t *dims, int *n, sl_error *err) {
  int size = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : -1;
  if (size < skip || size - skip > SL_MAX_DIMS - 1)
    SL_FAIL(err, SL_EFORMAT, "%s: expected \"%s\" to be an array of %d to %d sizes", meta, key,
            skip, SL_MAX_DIMS - 1 + skip);
  *n = 0;
  int i = 0;
  for (const cJSON *v = a->child; v != NULL; v = v->next, i++) {
    if (i < skip) continue;
    if (!json_count(v, &dims[*n]))
      SL_FAIL(err, SL_EFORMAT, "%s: expected \"%s\" item %d to be a non-negative integer",
              meta, key, i);
    (*n)++;
  }
  return SL_OK;
}

/* Trailing shape: "trailing", else "shape"[1:], else 1-D; both must agree. */
static sl_status json_trailing(const cJSON *root, const char *meta, raw_layout *L,
                               sl_error *err) {
  const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "trailing");
  const cJSON *sh = cJSON_GetObjectItemCaseSensitive(root, "shape");
  L->ntrail = 0;
  if (tr != NULL) SL_TRY(json_dims(tr, 0, meta, "trailing", L->trail, &L->ntrail, err));
  if (sh == NULL) return SL_OK;
  int64_t dims[SL_MAX_DIMS - 1];
  int n;
  SL_TRY(json_dims(sh, 1, meta, "shape", dims, &n, err));
  if (tr == NULL) {
    memcpy(L->trail, dims, sizeof dims);
    L->ntrail = n;
  } else if (n != L->ntrail || memcmp(dims, L->trail, (size_t)n * sizeof *dims) != 0) {
    SL_FAIL(err, SL_EFORMAT, "%s: expected \"shape\"[1:] to equal \"trailing\" but they "
            "differ", meta);
  }
  return SL_OK;
}

/* Takes from the sidecar what the options left open. */
static sl_status apply_json(const cJSON *root, const char *meta, const sl_open_options *o,
                            raw_layout *L, sl_error *err) {
  if (!cJSON_IsObject(root))
    SL_FAIL(err, SL_EFORMAT, "%s: expected a JSON object at the top level", meta);
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(root, "dtype");
  if (!cJSON_IsString(dt))
    SL_FAIL(err, SL_EFORMAT, "%s: expected a \"dtype\" string such as \"<f4\" but found %s",
            meta, dt == NULL ? "none" : "another JSON type");
  SL_TRY(parse_dtype(dt->valuestring, meta, "\"dtype\"", L, err));
  if (o->trailing == NULL) {
    SL_TRY(json_trailing(root, meta, L, err));
    L->trail_from_meta = true;
  }
  const cJSON *hb = cJSON_GetObjectItemCaseSensitive(root, "header_bytes");
  if (o->header_bytes == 0 && hb != NULL && !json_count(hb, &L->header))
    SL_FAIL(err, SL_EFORMAT, "%s: expected \"header_bytes\" to be a non-negative integer",
            meta);
  return SL_OK;
}

static sl_status load_sidecar(const char *path, const sl_open_options *o, raw_layout *L,
                              sl_error *err) {
  char *meta = sidecar_path(path), *text = NULL;
  if (meta == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", path);
  sl_status st = read_text(meta, path, &text, err);
  cJSON *root = NULL;
  if (st == SL_OK && (root = cJSON_Parse(text)) == NULL) {
    const char *at = cJSON_GetErrorPtr();
    long off = at != NULL && at >= text ? (long)(at - text) : -1;
    st = sl__fail(err, SL_EFORMAT, "%s: expected JSON but it does not parse (near byte %ld)",
                  meta, off);
  }
  if (st == SL_OK) st = apply_json(root, meta, o, L, err);
  cJSON_Delete(root);
  sl__free(text);
  sl__free(meta);
  return st;
}

/* The layout from the options, the sidecar filling what they leave open. */
static sl_status resolve_layout(const char *path, const sl_open_options *o, raw_layout *L,
                                sl_error *err) {
  sl_open_options none;
  if (o == NULL) {
    sl_open_options_init(&none);
    o = &none;
  }
  memset(L, 0, sizeof *L);
  if (o->header_bytes < 0)
    SL_FAIL(err, SL_EINVAL, "%s: expected option header_bytes >= 0 but found %lld", path,
            (long long)o->header_bytes);
  L->header = o->header_bytes;
  if (o->dtype != NULL) {
    SL_TRY(parse_dtype(o->dtype, path, "option dtype", L, err));
    return parse_trailing(o->trailing, path, L, err);
  }
  if (o->trailing != NULL) SL_TRY(parse_trailing(o->trailing, path, L, err));
  return load_sidecar(path, o, L, err);
}

/* ---------------------------------------------------------------- probe */

static sl_status row_bytes(const raw_layout *L, const char *path, int64_t *rb,
                           sl_error *err) {
  *rb = (int64_t)sl_dtype_size(L->dtype);
  for (int i = 0; i < L->ntrail; i++)
    if (!sl__mul(*rb, L->trail[i], rb))
      SL_FAIL(err, SL_EFORMAT, "%s: row size of the trailing shape overflows 64 bits", path);
  if (*rb != 0) return SL_OK;
  if (!L->trail_from_meta)
    SL_FAIL(err, SL_EINVAL, "%s: expected option trailing without zeros (rows of 0 bytes "
            "leave the row count unknown)", path);
  char *meta = sidecar_path(path);
  sl__fail(err, SL_EFORMAT, "%s: expected a trailing shape without zeros (rows of 0 bytes "
           "leave the row count unknown)", meta ? meta : path);
  sl__free(meta);
  return SL_EFORMAT;
}

/* Rows from the file size: every byte after the header belongs to a row. */
static sl_status count_rows(const char *path, int64_t size, int64_t header, int64_t rb,
                            int64_t *rows, sl_error *err) {
  if (size < header)
    SL_FAIL(err, SL_EFORMAT, "%s: expected at least the %lld-byte header but the file has "
            "%lld bytes", path, (long long)header, (long long)size);
  int64_t data = size - header;
  if (data % rb != 0)
    SL_FAIL(err, SL_EFORMAT, "%s: expected a whole number of %lld-byte rows after the "
            "%lld-byte header but found %lld data bytes (%lld rows and %lld bytes over)",
            path, (long long)rb, (long long)header, (long long)data, (long long)(data / rb),
            (long long)(data % rb));
  *rows = data / rb;
  return SL_OK;
}

/* The layout, once: from the options, the sidecar beside the first shard
   filling what they leave open. Only the discovering process needs it. */
static sl_status raw_dataset_open(const sl_dataset_desc *d, void **state, sl_error *err) {
  *state = NULL;
  if (!d->discovering || d->nshards == 0) return SL_OK;
  raw_layout *L = sl__malloc(sizeof *L);
  if (L == NULL) SL_FAIL(err, SL_ENOMEM, "%s: out of memory", d->root);
  int64_t rb;
  sl_status st = resolve_layout(d->shards[0].path, d->opts, L, err);
  if (st == SL_OK) st = row_bytes(L, d->shards[0].path, &rb, err);
  if (st != SL_OK) {
    sl__free(L);
    return st;
  }
  *state = L;
  return SL_OK;
}

static void raw_dataset_close(void *state) { sl__free(state); }

static sl_status raw_probe(const void *state, const sl_source *src, const char *member,
                           sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)member;
  const raw_layout *L = state;
  const char *path = sl_source_path(src);
  if (L == NULL) SL_FAIL(err, SL_EINVAL, "%s: the raw layout was not resolved", path);
  int64_t rb;
  SL_TRY(row_bytes(L, path, &rb, err));
  SL_TRY(count_rows(path, sl_source_size(src), L->header, rb, &s->rows, err));
  s->swap = L->swap;
  s->param[P_DATA_OFF] = (uint64_t)L->header;
  s->param[P_ROW_BYTES] = (uint64_t)rb;
  s->param[P_DTYPE] = (uint64_t)L->dtype;
  info->dtype = L->dtype;
  info->ndim = 1 + L->ntrail;
  info->shape[0] = s->rows;
  memcpy(info->shape + 1, L->trail, (size_t)L->ntrail * sizeof *L->trail);
  return SL_OK;
}

/* ------------------------------------------------------------ reading */

static sl_status raw_extents(const sl_shard *s, const void *handle, int64_t lo, int64_t hi,
                             sl_extent *out, size_t *n, sl_error *err) {
  (void)err, (void)handle;
  if (*n < 1) {
    *n = 1;
    return SL_OK;
  }
  int64_t rb = (int64_t)s->param[P_ROW_BYTES];
  out[0].offset = (int64_t)s->param[P_DATA_OFF] + lo * rb;
  out[0].length = (hi - lo) * rb;
  *n = 1;
  return SL_OK;
}

/* The same bytes as extents, swapped to native order here since the
   library swaps only what it read through extents. */
static sl_status raw_read(const sl_shard *s, const void *handle, const sl_source *src,
                          int64_t lo, int64_t hi, void *dst, sl_error *err) {
  (void)handle;
  assert(lo >= 0 && lo <= hi && hi <= s->rows);
  int64_t rb = (int64_t)s->param[P_ROW_BYTES];
  size_t n = (size_t)((hi - lo) * rb);
  SL_TRY(sl_source_read(src, (int64_t)s->param[P_DATA_OFF] + lo * rb, n, dst, err));
  sl_dtype t = (sl_dtype)s->param[P_DTYPE];
  if (s->swap) sl__byteswap(dst, n / sl_dtype_size(t), sl_dtype_size(t), t);
  return SL_OK;
}

/* ------------------------------------------------------------ inspect */

/* Where each part of the layout came from: the options win field by field,
   the sidecar beside the first shard fills the rest (resolve_layout). */
static void layout_from(const sl_open_options *o, cJSON *j) {
  static const char side[] = "sidecar " SL_RAW_META_NAME;
  cJSON *f = cJSON_AddObjectToObject(j, "layout_from");
  bool opt = o != NULL && o->dtype != NULL;
  cJSON_AddStringToObject(f, "dtype", opt ? "option dtype" : side);
  cJSON_AddStringToObject(f, "trailing", o != NULL && o->trailing != NULL ? "option trailing"
                                         : opt ? "none (1-D)" : side);
  cJSON_AddStringToObject(f, "header_bytes", o != NULL && o->header_bytes != 0
                                             ? "option header_bytes" : opt ? "none (0)" : side);
}

static sl_status raw_inspect(const sl_shard *s, const void *handle, const sl_source *src,
                             char **json, sl_error *err) {
  (void)handle, (void)src;
  char stored[8];
  snprintf(stored, sizeof stored, "%s", sl_dtype_str((sl_dtype)s->param[P_DTYPE]));
  if (s->swap) stored[0] = '>';
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "read_path", "direct");
  cJSON_AddStringToObject(o, "read_note", s->swap ? "headerless: one byte range per read, "
                          "then byte-swapped" : "headerless: one byte range per read");
  cJSON_AddStringToObject(o, "stored", stored);
  cJSON_AddArrayToObject(o, "codecs");
  cJSON_AddNumberToObject(o, "header_bytes", (double)s->param[P_DATA_OFF]);
  layout_from(s->opts, o);
  return sl__json_text(o, s->path, json, err);
}

/* ------------------------------------------------------------ writing */

/* The bytes as they are (native = little-endian), nothing else: the
   sidecar _meta.json is the command line's to write. path exists already
   (the library's temporary file). */
static sl_status raw_write(const char *path, sl_dtype dtype, int ndim, const int64_t *shape,
                           const void *data, sl_error *err) {
  int64_t n = (int64_t)sl_dtype_size(dtype);
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0 || !sl__mul(n, shape[i], &n))
      SL_FAIL(err, SL_EINVAL, "%s: expected a shape of non-negative sizes whose bytes fit in "
              "64 bits", path);
  int fd;
  SL_TRY(sl__open_write(path, &fd, err));
  sl_status st = sl__truncate(fd, path, 0, err);
  if (st == SL_OK) st = sl__pwrite_full(fd, path, data, (size_t)n, 0, err);
  sl__close(fd);
  return st;
}

static const char *const raw_ext[] = {".bin", ".raw", NULL};

const sl_driver sl__raw_driver = {
    .abi = SL_DRIVER_ABI,
    .struct_size = sizeof(sl_driver),
    .name = "raw",
    .extensions = raw_ext,
    .dataset_open = raw_dataset_open,
    .dataset_close = raw_dataset_close,
    .probe = raw_probe,
    .extents = raw_extents,
    .read = raw_read,
    .write = raw_write,
    .inspect = raw_inspect,
};
