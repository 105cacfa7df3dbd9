/* Helpers shared by the unit tests: temporary directories and small files. */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core.h"
#include "sl_tshard.h"

/* A fresh directory under $TMPDIR (or /tmp); removed by rm_tree. */
static inline char *make_tmpdir(void) {
  const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char *d = malloc(strlen(base) + 32);
  sprintf(d, "%s/sltest-XXXXXX", base);
  if (mkdtemp(d) == NULL) abort();
  return d;
}

static inline void rm_tree(char *d) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  if (system(cmd) != 0) abort();
  free(d);
}

static inline char *path_in(const char *dir, const char *name) {
  char *p = malloc(strlen(dir) + strlen(name) + 2);
  sprintf(p, "%s/%s", dir, name);
  return p;
}

static inline void write_bytes(const char *dir, const char *name, const void *b, size_t n) {
  char *p = path_in(dir, name);
  FILE *f = fopen(p, "wb");
  if (f == NULL || fwrite(b, 1, n, f) != n) abort();
  fclose(f);
  free(p);
}

/* An npy file with a header of our choosing (dict text), version v, then
   data_bytes bytes of the pattern. */
static inline void write_npy_raw(const char *dir, const char *name, int v, const char *dict,
                                 size_t data_bytes) {
  size_t dl = strlen(dict), pre = v == 1 ? 10 : 12;
  size_t total = (pre + dl + 1 + 63) / 64 * 64;
  size_t hl = total - pre;
  char *buf = calloc(1, total + data_bytes + 1);
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (char)v;
  buf[7] = 0;
  buf[8] = (char)(hl & 0xff);
  buf[9] = (char)((hl >> 8) & 0xff);
  if (v != 1) buf[10] = buf[11] = 0;
  memset(buf + pre, ' ', hl);
  memcpy(buf + pre, dict, dl);
  buf[total - 1] = '\n';
  sl_pattern_fill(SL_UINT8, 7, 0, (int64_t)data_bytes, buf + total);
  write_bytes(dir, name, buf, total + data_bytes);
  free(buf);
}

/* where/name: an npy shard of rows x 2 float32 (the bytes of the pattern). */
static inline void npy_shard(const char *where, const char *name, int rows) {
  char d[128];
  snprintf(d, sizeof d, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 2), }", rows);
  write_npy_raw(where, name, 1, d, (size_t)rows * 8);
}

/* Discovery on this process, the report cleared first. */
static inline sl_status discover(const char *path, const sl_open_options *o, sl_dataset **ds,
                                 sl_error *err) {
  sl_error_clear(err);
  return sl__discover(path, o, ds, err);
}

/* ../shared/fixtures beside the repository, or $SL_FIXTURES. */
static char fixtures[4096];

static inline void find_fixtures(void) {
  const char *env = getenv("SL_FIXTURES");
  if (env != NULL) {
    snprintf(fixtures, sizeof fixtures, "%s", env);
    return;
  }
  const char *slash = strrchr(__FILE__, '/');
  int n = slash ? (int)(slash - __FILE__) : 1;
  snprintf(fixtures, sizeof fixtures, "%.*s/../../../shared/fixtures", n,
           slash ? __FILE__ : ".");
}

/* Declares fx = the fixture's path, or skips the test loudly (cmocka). */
#define NEED_FIXTURE(name)                                                    \
  char fx[4200];                                                              \
  do {                                                                        \
    snprintf(fx, sizeof fx, "%s/%s", fixtures, name);                         \
    struct stat st_;                                                          \
    if (stat(fx, &st_) != 0) {                                                \
      print_message("SKIPPED: fixture %s not found (set SL_FIXTURES)\n", fx); \
      skip();                                                                 \
    }                                                                         \
  } while (0)

/* The test group's temporary directory, made by tmpdir_setup. */
static char *dir;

static inline int tmpdir_setup(void **state) {
  (void)state;
  dir = make_tmpdir();
  find_fixtures();
  return 0;
}

static inline int tmpdir_teardown(void **state) {
  (void)state;
  rm_tree(dir);
  return 0;
}

/* shard_NNNN.npy files in d holding rows[i] rows of the given trailing shape,
   filled with the pattern of seed as one stacked array. @return 0 or -1. */
static inline int write_pattern_shards(const char *d, sl_dtype t, uint64_t seed, int ntrail,
                                       const int64_t *trailing, const int64_t *rows,
                                       size_t n) {
  int64_t per_row = 1, first = 0, shape[SL_MAX_DIMS];
  for (int k = 0; k < ntrail; k++) per_row *= shape[k + 1] = trailing[k];
  for (size_t i = 0; i < n; i++) {
    shape[0] = rows[i];
    char *buf = malloc((size_t)(rows[i] * per_row) * sl_dtype_size(t) + 1);
    sl_pattern_fill(t, seed, first * per_row, rows[i] * per_row, buf);
    char name[32];
    sprintf(name, "shard_%04zu.npy", i);
    char *p = path_in(d, name);
    sl_error err = {0};
    sl_status st = sl_write_shard("npy", p, t, ntrail + 1, shape, buf, &err);
    free(p);
    free(buf);
    if (st != SL_OK) return -1;
    first += rows[i];
  }
  return 0;
}

/* Whether the omp executor is in this build. */
static inline bool have_omp(void) {
  sl_error e = {0};
  return sl__exec_omp.available(&e) == SL_OK;
}

/* ------------------------------------------------------------- inspect */

/* The driver's account of p's shard (tshard_inspect), parsed; NULL when
   the slot fails (err says why) or its text is not JSON. cJSON_Delete it. */
static inline cJSON *tshard_account(tshard *p, sl_error *err) {
  char *text;
  if (tshard_inspect(p, &text, err) != SL_OK) return NULL;
  cJSON *j = cJSON_Parse(text);
  free(text);
  return j;
}

/* The value at a dotted path of keys and indices ("columns.0.nulls");
   NULL when absent. */
static inline const cJSON *jget(const cJSON *j, const char *path) {
  char key[128];
  while (j != NULL && *path) {
    size_t n = strcspn(path, ".");
    snprintf(key, sizeof key, "%.*s", (int)n, path);
    j = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, atoi(key))
                         : cJSON_GetObjectItemCaseSensitive(j, key);
    path += n + (path[n] == '.');
  }
  return j;
}

static inline const char *jstr(const cJSON *j, const char *path) {
  const cJSON *v = jget(j, path);
  return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static inline double jnum(const cJSON *j, const char *path) {
  const cJSON *v = jget(j, path);
  return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

/* Skips the current cmocka test loudly unless the format's driver is built. */
#define NEED_FORMAT(name)                                                          \
  do {                                                                             \
    if (sl_format_extension((name), NULL) == NULL) {                               \
      print_message("SKIPPED: the %s driver is not in this build\n", (name));      \
      skip();                                                                      \
    }                                                                              \
  } while (0)

/* Skips the current cmocka test loudly unless the omp variant is built. */
#define NEED_OMP()                                                     \
  do {                                                                 \
    if (!have_omp()) {                                                 \
      print_message("SKIPPED: the omp variant is not in this build\n"); \
      skip();                                                          \
    }                                                                  \
  } while (0)

#endif
