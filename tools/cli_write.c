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
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MAX_SHARDS 1000000
/* New shards are written here first and moved into place only once every
   one of them is complete: a write that fails leaves the old dataset. */
#define STAGING ".shardload-write"

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
  for (int i = 1; i < p->ndim; i++)
    if (__builtin_mul_overflow(p->row_elems, p->shape[i], &p->row_elems))
      return usage_error("--shape: '%s' has more elements per row than 64 bits count", s);
  return 0;
}

/* The whole array's bytes fit in 64 bits (and so does every shard's, which
   write_one allocates), or the shape is refused before anything is made. */
static int check_bytes(const plan *p) {
  int64_t elems, bytes;
  if (__builtin_mul_overflow(p->shape[0], p->row_elems, &elems) ||
      __builtin_mul_overflow(elems, (int64_t)sl_dtype_size(p->dtype), &bytes) ||
      (uint64_t)bytes > (uint64_t)SIZE_MAX / 2) {
    char t[256];
    shape_text(p->shape, p->ndim, t, sizeof t);
    return usage_error("--shape: %s of %s is more bytes than this machine can address", t,
                       sl_dtype_str(p->dtype));
  }
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
  if (sl_format_name(p->format) != NULL) p->format = sl_format_name(p->format); /* "h5" */
  int writable = 0;
  const char *ext = sl_format_extension(p->format, &writable);
  if (ext == NULL || !writable)
    return usage_error("--format: '%s' cannot be written by this build (%s)", p->format,
                       sl_features());
  p->ext = ext;
  if ((rc = check_bytes(p)) != 0) return rc;
  return split_rows(p, a->seed);
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
  int rc = m && read_json(m, old, err) == JSON_BAD ? EXIT_DATA : 0;
  free(m);
  if (rc != 0 && !force) {
    closedir(d);
    return rc;
  }
  rc = 0;
  cJSON *files = cJSON_GetObjectItemCaseSensitive(*old, "files");
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, META_NAME) ||
        !strcmp(e->d_name, STAGING))
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

/* A name write could have made: shard_<digits>.<ext>, nothing else (no
   "", ".", "..", no path): _meta.json is a file anyone can edit, and only
   what it names that way is ever removed. */
static bool shard_like(const char *n) {
  if (strncmp(n, "shard_", 6) != 0 || strchr(n, '/') != NULL) return false;
  const char *p = n + 6;
  while (*p >= '0' && *p <= '9') p++;
  return p > n + 6 && *p == '.' && p[1] != '\0';
}

/* A shard that is a directory (a Zarr store, one level of chunk files):
   opened without following a link, its plain files removed, then it. */
static int remove_shard_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    if (fd >= 0) close(fd);
    return -1;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      unlinkat(dirfd(d), e->d_name, 0);
  closedir(d);
  return rmdir(path);
}

/* A shard file (or a link: the link goes, not what it names), or a shard
   that is a store directory. */
static int remove_shard(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return -1;
  return S_ISDIR(st.st_mode) ? remove_shard_dir(path) : unlink(path);
}

/* Files of an earlier write that this one does not replace would make the
   directory look like a bigger dataset: remove them first. */
static void remove_stale(const char *dir, cJSON *old, const plan *p) {
  cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(old, "files")) {
    if (!cJSON_IsString(f) || !shard_like(f->valuestring)) continue;
    bool kept = false;
    for (int64_t i = 0; i < p->nshards && !kept; i++) {
      char *n = shard_name(p, i);
      kept = n && strcmp(n, f->valuestring) == 0;
      free(n);
    }
    char *path = join(dir, f->valuestring);
    if (!kept && path) remove_shard(path);
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
  cJSON_AddItemToObject(j, "seed", seed_json(seed));
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
  if (tmp) unlink(tmp);
  int fd = tmp ? open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644) : -1;
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (fd >= 0 && f == NULL) close(fd);
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

/* The message of a failed shard names it where it was going to be (dir),
   not in the staging directory (from). */
static void rename_in_message(sl_error *err, const char *from, const char *dir) {
  char *at = strstr(err->message, from);
  if (at == NULL) return;
  char out[sizeof err->message];
  snprintf(out, sizeof out, "%.*s%s%s", (int)(at - err->message), err->message, dir,
           at + strlen(from));
  memcpy(err->message, out, sizeof out);
}

/* Shard i holds global rows [first, first + rows[i]) and goes into dir
   (the staging directory of the dataset directory shown). */
static sl_status write_one(const char *dir, const char *shown, const plan *p, int64_t i,
                           int64_t first_row, uint64_t seed, sl_error *err) {
  int64_t shape[SL_MAX_DIMS];
  memcpy(shape, p->shape, sizeof shape);
  shape[0] = p->rows[i];
  size_t n = (size_t)(p->rows[i] * p->row_elems); /* check_bytes bounds it */
  void *buf = malloc(n * sl_dtype_size(p->dtype) + 1);
  char *name = shard_name(p, i), *path = name ? join(dir, name) : NULL;
  sl_status st = SL_ENOMEM;
  if (buf && path) {
    sl_pattern_fill(p->dtype, seed, first_row * p->row_elems, (int64_t)n, buf);
    /* like numpy.save, no fsync: an fsync per shard made 4000 shards take
       29 s instead of 3; a shard appears under its name only complete */
    st = sl_write_shard_flags(p->format, path, p->dtype, p->ndim, shape, buf, SL_WRITE_NO_SYNC,
                              err);
    if (st != SL_OK) rename_in_message(err, dir, shown);
  } else {
    snprintf(err->message, sizeof err->message, "%.900s: out of memory for shard %lld", shown,
             (long long)i);
    err->code = st;
  }
  free(buf);
  free(name);
  free(path);
  return st;
}

/* ---------------------------------------------------------- staging */

/* What a signal handler needs to remove a half-done staging directory:
   its path and the shard names, rebuilt without stdio (async-signal-safe). */
static char staging_dir[4096];
static const char *staging_ext;
static int64_t staging_shards;
static volatile sig_atomic_t staging_live;

static size_t put_name(char *out, size_t k, size_t cap, int64_t i, const char *ext) {
  char digits[24];
  int n = 0;
  do digits[n++] = (char)('0' + i % 10); while ((i /= 10) > 0);
  while (n < 4) digits[n++] = '0';
  const char *pre = "/shard_";
  for (; *pre && k + 1 < cap; pre++) out[k++] = *pre;
  while (n > 0 && k + 1 < cap) out[k++] = digits[--n];
  for (; *ext && k + 1 < cap; ext++) out[k++] = *ext;
  out[k] = '\0';
  return k;
}

void remove_staging(void) {
  if (!staging_live) return;
  char path[4096 + 64];
  size_t base = strlen(staging_dir);
  memcpy(path, staging_dir, base + 1);
  for (int64_t i = 0; i < staging_shards; i++) {
    put_name(path, base, sizeof path, i, staging_ext);
    unlink(path);
  }
  rmdir(staging_dir);
}

/* Empties and removes a staging directory (one left by a killed write
   too: only shard files of ours are ever in it). */
static void drop_staging(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) { /* a link or file planted there: it goes, not its target */
    unlink(path);
    return;
  }
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL && fd >= 0) close(fd);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "shard_", 6) != 0 && strcmp(e->d_name, "old") != 0) continue;
    char *f = join(path, e->d_name);
    if (f) remove_shard(f);
    free(f);
  }
  if (d) closedir(d);
  rmdir(path);
}

static int make_staging(const char *dir, const plan *p, sl_error *err) {
  int n = snprintf(staging_dir, sizeof staging_dir, "%s/%s", dir, STAGING);
  if (n < 0 || (size_t)n >= sizeof staging_dir) {
    snprintf(err->message, sizeof err->message, "%s: path too long", dir);
    return EXIT_DATA;
  }
  drop_staging(staging_dir);
  if (mkdir(staging_dir, 0755) != 0) {
    snprintf(err->message, sizeof err->message, "%s: cannot make a directory for the new "
             "shards: %s", dir, strerror(errno));
    return EXIT_DATA;
  }
  staging_ext = p->ext;
  staging_shards = p->nshards;
  staging_live = 1;
  return 0;
}

/* A new store directory over an old one (rename cannot replace a directory
   that is not empty): the old one into the staging directory, then gone. */
static int replace_store(const char *from, const char *to) {
  if (errno != ENOTEMPTY && errno != EEXIST) return -1;
  char *old = join(staging_dir, "old");
  int rc = -1;
  if (old && rename(to, old) == 0) {
    rc = rename(from, to);
    if (rc == 0) remove_shard(old);
    else rename(old, to); /* the old store stays where it was */
  }
  free(old);
  return rc;
}

/* Moves every new shard over the old ones, then removes the old ones this
   write does not replace. */
static int publish(const char *dir, cJSON *old, const plan *p, sl_error *err) {
  for (int64_t i = 0; i < p->nshards; i++) {
    char *n = shard_name(p, i), *from = n ? join(staging_dir, n) : NULL,
         *to = n ? join(dir, n) : NULL;
    bool ok = from && to && (rename(from, to) == 0 || replace_store(from, to) == 0);
    if (!ok)
      snprintf(err->message, sizeof err->message, "%s: cannot move %s into place: %s", dir,
               n ? n : "a shard", strerror(errno));
    free(n);
    free(from);
    free(to);
    if (!ok) return EXIT_DATA;
  }
  remove_stale(dir, old, p);
  return 0;
}

/* One write at a time in a directory: a second one would take over the
   first's staging directory and interleave their shards. */
static int lock_dir(const char *dir, int *fd, sl_error *err) {
  *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*fd >= 0 && flock(*fd, LOCK_EX | LOCK_NB) == 0) return 0;
  bool busy = *fd >= 0 && errno == EWOULDBLOCK;
  snprintf(err->message, sizeof err->message, "%.900s: %s", dir,
           busy ? "another shardload write is working there now" : strerror(errno));
  if (*fd >= 0) close(*fd);
  *fd = -1;
  return EXIT_DATA;
}

/* Rank 0 checks the directory and makes the staging directory; shards go
   round-robin over the ranks into it; rank 0 moves them into place and
   writes _meta.json once every shard is complete. */
static int write_dataset(sl_comm *comm, const char *dir, args *a, bool quiet) {
  plan p;
  int rc = make_plan(a, &p);
  if (rc) return rc;
  sl_error err = {0};
  cJSON *old = NULL;
  int r = sl_comm_rank(comm), P = sl_comm_size(comm), lock_fd = -1;
  if (r == 0 && (rc = check_dir(dir, a->force, &old, &err)) == 0 &&
      (rc = lock_dir(dir, &lock_fd, &err)) == 0)
    rc = make_staging(dir, &p, &err);
  sl_status st = sl_comm_agree(comm, rc ? SL_EIO : SL_OK, &err);
  if (st == SL_OK && r != 0) {
    snprintf(staging_dir, sizeof staging_dir, "%s/%s", dir, STAGING);
    staging_ext = p.ext;
    staging_shards = p.nshards;
    staging_live = 1;
  }
  int64_t first = 0;
  for (int64_t i = 0; st == SL_OK && i < p.nshards; first += p.rows[i], i++)
    if (i % P == r) st = write_one(staging_dir, dir, &p, i, first, a->seed, &err);
  st = sl_comm_agree(comm, st, &err);
  if (st == SL_OK && r == 0) {
    defer_signals(true); /* a half-published directory would mix two datasets */
    if (publish(dir, old, &p, &err) != 0 || write_meta(dir, &p, a->seed, &err) != 0)
      st = SL_EIO;
  }
  if (r == 0 && staging_live) drop_staging(staging_dir);
  staging_live = 0;
  if (lock_fd >= 0) close(lock_fd);
  if (r == 0) defer_signals(false);
  st = sl_comm_agree(comm, st, &err);
  cJSON_Delete(old);
  if (st == SL_OK && !quiet) {
    char shape[256];
    shape_text(p.shape, p.ndim, shape, sizeof shape);
    say(stdout, "wrote %lld %s shards of %s %s to %s (seed %llu)\n", (long long)p.nshards,
        p.format, shape, sl_dtype_str(p.dtype), dir, (unsigned long long)a->seed);
  }
  free(p.rows);
  return st == SL_OK ? 0 : data_error(&err);
}

int cmd_write(sl_comm *comm, args *a) { return write_dataset(comm, a->path, a, false); }

/* --------------------------------------------------------------- clean */

static int clean_dir(const char *dir, sl_error *err, int *removed) {
  char *m = join(dir, META_NAME);
  cJSON *j = NULL;
  int got = m ? read_json(m, &j, err) : JSON_MISSING;
  cJSON *files = cJSON_GetObjectItemCaseSensitive(j, "files");
  int rc = 0;
  *removed = 0;
  if (got == JSON_BAD) {
    rc = EXIT_DATA;
  } else if (!cJSON_IsArray(files)) {
    snprintf(err->message, sizeof err->message,
             "%s: no readable %s, so nothing here is known to be made by shardload write; "
             "nothing removed", dir, META_NAME);
    rc = EXIT_DATA;
  }
  cJSON *f, *list = rc ? NULL : files;
  cJSON_ArrayForEach(f, list) {
    if (!cJSON_IsString(f) || !shard_like(f->valuestring)) continue;
    char *path = join(dir, f->valuestring);
    if (path && remove_shard(path) == 0) ++*removed;
    free(path);
  }
  if (rc == 0 && unlink(m) == 0) ++*removed;
  char *staging = rc == 0 ? join(dir, STAGING) : NULL;
  if (staging) drop_staging(staging);
  free(staging);
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
  a->path = a->paths[0] = dir; /* parse_args made room for one PATH at least */
  a->npaths = 1;
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
