/* shardload write, clean and demo.
 *
 * `write` makes a deterministic ragged dataset: row counts and values both
 * come from the seed, values from the library's counter-based pattern, so
 * `read --verify` can check any tile without the whole reference. It records
 * what it made in _meta.json, which is how `clean` knows what to remove and
 * how a second `write` knows the directory is its own. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MAX_SHARDS 1000000

typedef struct plan {
  sl_dtype dtype;
  int ndim;
  int64_t shape[SL_MAX_DIMS];
  int64_t nshards, row_elems;
  int64_t *rows; /* per shard */
  const char *format, *ext;
} plan;

static int parse_shape(const char *s, plan *p) {
  p->ndim = 0;
  for (const char *q = s; *q;) {
    char *end;
    errno = 0;
    long long v = strtoll(q, &end, 10);
    if (end == q || errno || v < 0 || p->ndim == SL_MAX_DIMS)
      return usage_error("--shape: expected comma-separated sizes like 4000000,8, got '%s'", s);
    p->shape[p->ndim++] = v;
    q = *end == ',' ? end + 1 : end;
    if (*end != ',' && *end != '\0') return usage_error("--shape: bad character in '%s'", s);
  }
  if (p->ndim == 0) return usage_error("--shape: empty");
  p->row_elems = 1;
  for (int i = 1; i < p->ndim; i++) p->row_elems *= p->shape[i];
  return 0;
}

/* Ragged, deterministic: weights in [0.5, 1.5) from the seed's pattern. */
static int split_rows(plan *p, uint64_t seed) {
  uint32_t *w = malloc((size_t)p->nshards * sizeof *w);
  p->rows = calloc((size_t)p->nshards, sizeof *p->rows);
  if (w == NULL || p->rows == NULL) {
    free(w);
    return usage_error("out of memory");
  }
  sl_pattern_fill(SL_UINT32, seed ^ 0x5348415244ull, 0, p->nshards, w);
  double sum = 0, acc = 0;
  for (int64_t i = 0; i < p->nshards; i++) sum += 0.5 + w[i] / 4294967296.0;
  int64_t given = 0;
  for (int64_t i = 0; i < p->nshards; i++) {
    acc += 0.5 + w[i] / 4294967296.0;
    int64_t upto = i + 1 == p->nshards ? p->shape[0] : (int64_t)(p->shape[0] * (acc / sum));
    p->rows[i] = upto - given;
    given = upto;
  }
  free(w);
  return 0;
}

static int make_plan(args *a, plan *p) {
  memset(p, 0, sizeof *p);
  if (a->shape == NULL) return usage_error("write needs --shape R,C,...");
  int rc = parse_shape(a->shape, p);
  if (rc) return rc;
  int swap = 0;
  if (sl_dtype_parse(a->dtype_name ? a->dtype_name : "float32", &p->dtype, &swap) != SL_OK ||
      swap)
    return usage_error("--dtype: '%s' is not a supported little-endian dtype", a->dtype_name);
  p->nshards = a->num_shards ? a->num_shards : 4;
  if (p->nshards > MAX_SHARDS) return usage_error("--num-shards: at most %d", MAX_SHARDS);
  p->format = a->open.format ? a->open.format : "npy";
  int writable = 0;
  const char *ext = sl_format_extension(p->format, &writable);
  if (ext == NULL || !writable)
    return usage_error("--format: '%s' cannot be written by this build (%s)", p->format,
                       sl_features());
  p->ext = ext;
  return split_rows(p, (uint64_t)a->seed);
}

static char *shard_name(const plan *p, int64_t i) {
  char buf[64];
  snprintf(buf, sizeof buf, "shard_%04lld%s", (long long)i, p->ext);
  return strdup(buf);
}

/* ------------------------------------------------------ the directory */

static bool listed(cJSON *files, const char *name) {
  cJSON *f;
  cJSON_ArrayForEach(f, files) if (cJSON_IsString(f) && strcmp(f->valuestring, name) == 0) return true;
  return false;
}

/* A directory is ours when everything in it is listed in its _meta.json. */
static int check_dir(const char *dir, bool force, cJSON **old, sl_error *err) {
  *old = NULL;
  DIR *d = opendir(dir);
  if (d == NULL) {
    if (errno == ENOENT && mkdir(dir, 0755) == 0) return 0;
    snprintf(err->message, sizeof err->message, "%s: cannot use as output directory: %s", dir,
             strerror(errno));
    return EXIT_DATA;
  }
  char *m = join(dir, META_NAME);
  *old = read_json(m);
  free(m);
  cJSON *files = cJSON_GetObjectItemCaseSensitive(*old, "files");
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, META_NAME))
      continue;
    if (!force && !listed(files, e->d_name)) {
      snprintf(err->message, sizeof err->message,
               "%s: holds %s, which shardload write did not make; refusing to write there "
               "(use --force)", dir, e->d_name);
      rc = EXIT_DATA;
    }
  }
  closedir(d);
  return rc;
}

/* Files of an earlier write that this one does not replace would make the
   directory look like a bigger dataset: remove them first. */
static void remove_stale(const char *dir, cJSON *old, const plan *p) {
  cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(old, "files")) {
    if (!cJSON_IsString(f) || strchr(f->valuestring, '/')) continue;
    bool kept = false;
    for (int64_t i = 0; i < p->nshards && !kept; i++) {
      char *n = shard_name(p, i);
      kept = n && strcmp(n, f->valuestring) == 0;
      free(n);
    }
    char *path = join(dir, f->valuestring);
    if (!kept && path) unlink(path);
    free(path);
  }
}

static int write_meta(const char *dir, const plan *p, uint64_t seed, sl_error *err) {
  cJSON *j = cJSON_CreateObject(), *shape = cJSON_AddArrayToObject(j, "shape");
  cJSON_AddStringToObject(j, "writer", "shardload " SL_VERSION_STRING);
  cJSON_AddStringToObject(j, "format", p->format);
  cJSON_AddStringToObject(j, "dtype", sl_dtype_str(p->dtype));
  cJSON *trailing = cJSON_CreateArray();
  for (int i = 0; i < p->ndim; i++) {
    cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)p->shape[i]));
    if (i > 0) cJSON_AddItemToArray(trailing, cJSON_CreateNumber((double)p->shape[i]));
  }
  cJSON_AddItemToObject(j, "trailing", trailing);
  cJSON_AddNumberToObject(j, "seed", (double)seed);
  cJSON_AddNumberToObject(j, "num_shards", (double)p->nshards);
  cJSON *rows = cJSON_AddArrayToObject(j, "rows"), *files = cJSON_AddArrayToObject(j, "files");
  for (int64_t i = 0; i < p->nshards; i++) {
    cJSON_AddItemToArray(rows, cJSON_CreateNumber((double)p->rows[i]));
    char *n = shard_name(p, i);
    cJSON_AddItemToArray(files, cJSON_CreateString(n));
    free(n);
  }
  char *text = cJSON_Print(j), *path = join(dir, META_NAME), *tmp = join(dir, ".meta.tmp");
  cJSON_Delete(j);
  FILE *f = tmp ? fopen(tmp, "w") : NULL;
  bool ok = f && text && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
  if (f && fclose(f) != 0) ok = false;
  ok = ok && rename(tmp, path) == 0;
  if (!ok) snprintf(err->message, sizeof err->message, "%s: cannot write: %s", path, strerror(errno));
  if (!ok && tmp) unlink(tmp);
  free(text);
  free(path);
  free(tmp);
  return ok ? 0 : EXIT_DATA;
}

/* Shard i holds global rows [first, first + rows[i]). */
static sl_status write_one(const char *dir, const plan *p, int64_t i, int64_t first_row,
                           uint64_t seed, sl_error *err) {
  int64_t shape[SL_MAX_DIMS];
  memcpy(shape, p->shape, sizeof shape);
  shape[0] = p->rows[i];
  size_t n = (size_t)(p->rows[i] * p->row_elems);
  void *buf = malloc(n * sl_dtype_size(p->dtype) + 1);
  char *name = shard_name(p, i), *path = name ? join(dir, name) : NULL;
  sl_status st = SL_ENOMEM;
  if (buf && path) {
    sl_pattern_fill(p->dtype, seed, first_row * p->row_elems, (int64_t)n, buf);
    st = sl_write_shard(p->format, path, p->dtype, p->ndim, shape, buf, err);
  } else {
    snprintf(err->message, sizeof err->message, "%s: out of memory for shard %lld", dir,
             (long long)i);
    err->code = st;
  }
  free(buf);
  free(name);
  free(path);
  return st;
}

/* Rank 0 checks the directory; shards go round-robin over the ranks; rank 0
   writes _meta.json once every shard is in place. */
static int write_dataset(sl_comm *comm, const char *dir, args *a, bool quiet) {
  plan p;
  int rc = make_plan(a, &p);
  if (rc) return rc;
  sl_error err = {0};
  cJSON *old = NULL;
  int r = sl_comm_rank(comm), P = sl_comm_size(comm);
  if (r == 0 && (rc = check_dir(dir, a->force, &old, &err)) == 0) remove_stale(dir, old, &p);
  cJSON_Delete(old);
  sl_status st = sl_comm_agree(comm, rc ? SL_EIO : SL_OK, &err);
  int64_t first = 0;
  for (int64_t i = 0; st == SL_OK && i < p.nshards; first += p.rows[i], i++)
    if (i % P == r) st = write_one(dir, &p, i, first, (uint64_t)a->seed, &err);
  st = sl_comm_agree(comm, st, &err);
  if (st == SL_OK && r == 0 && write_meta(dir, &p, (uint64_t)a->seed, &err) != 0) st = SL_EIO;
  st = sl_comm_agree(comm, st, &err);
  if (st == SL_OK && !quiet) {
    char shape[256];
    shape_text(p.shape, p.ndim, shape, sizeof shape);
    say(stdout, "wrote %lld %s shards of %s %s to %s (seed %lld)\n", (long long)p.nshards,
        p.format, shape, sl_dtype_str(p.dtype), dir, (long long)a->seed);
  }
  free(p.rows);
  return st == SL_OK ? 0 : data_error(&err);
}

int cmd_write(sl_comm *comm, args *a) { return write_dataset(comm, a->path, a, false); }

/* --------------------------------------------------------------- clean */

/* A shard that is a directory (a Zarr store): the files in it, then it. */
static int remove_shard_dir(const char *path) {
  DIR *d = opendir(path);
  if (d == NULL) return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char *p = join(path, e->d_name);
    if (p) unlink(p);
    free(p);
  }
  closedir(d);
  return rmdir(path);
}

static int clean_dir(const char *dir, sl_error *err, int *removed) {
  char *m = join(dir, META_NAME);
  cJSON *j = read_json(m);
  cJSON *files = cJSON_GetObjectItemCaseSensitive(j, "files");
  int rc = 0;
  *removed = 0;
  if (!cJSON_IsArray(files)) {
    snprintf(err->message, sizeof err->message,
             "%s: no readable %s, so nothing here is known to be made by shardload write; "
             "nothing removed", dir, META_NAME);
    rc = EXIT_DATA;
  }
  cJSON *f, *list = rc ? NULL : files;
  cJSON_ArrayForEach(f, list) {
    if (!cJSON_IsString(f) || strchr(f->valuestring, '/') || f->valuestring[0] == '.') continue;
    char *path = join(dir, f->valuestring);
    if (path && (unlink(path) == 0 || (errno == EISDIR && remove_shard_dir(path) == 0)))
      ++*removed;
    free(path);
  }
  if (rc == 0 && unlink(m) == 0) ++*removed;
  if (rc == 0) rmdir(dir); /* only if nothing else is left */
  cJSON_Delete(j);
  free(m);
  return rc;
}

int cmd_clean(sl_comm *comm, args *a) {
  sl_error err = {0};
  int removed = 0, rc = 0;
  if (sl_comm_rank(comm) == 0) rc = clean_dir(a->path, &err, &removed);
  if (sl_comm_agree(comm, rc ? SL_EIO : SL_OK, &err) != SL_OK) return data_error(&err);
  say(stdout, "removed %d files from %s\n", removed, a->path);
  return 0;
}

/* ---------------------------------------------------------------- demo */

int cmd_demo(sl_comm *comm, args *a) {
  char dir[4096] = {0};
  const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  sl_error err = {0};
  sl_status st = SL_OK;
  if (sl_comm_rank(comm) == 0) {
    snprintf(dir, sizeof dir, "%s/shardload-demo-XXXXXX", base);
    if (mkdtemp(dir) == NULL) {
      snprintf(err.message, sizeof err.message, "%s: cannot make a temporary directory: %s",
               base, strerror(errno));
      st = SL_EIO;
    }
  }
  if ((st = sl_comm_agree(comm, st, &err)) != SL_OK) return data_error(&err);
  sl_comm_bcast(comm, dir, sizeof dir, &err);
  say(stdout, "demo: %d rank%s, working in %s\n", sl_comm_size(comm),
      sl_comm_size(comm) > 1 ? "s" : "", dir);
  a->path = dir;
  if (a->shape == NULL) a->shape = "1000000,8";
  if (a->num_shards == 0) a->num_shards = 4;
  int rc = write_dataset(comm, dir, a, false);
  if (rc == 0) {
    a->verify = true;
    rc = cmd_read(comm, a);
  }
  int crc = cmd_clean(comm, a);
  if (rc == 0 && crc == 0) say(stdout, "demo: ok\n");
  return rc ? rc : crc;
}
