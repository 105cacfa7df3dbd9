/* shardload: the command-line tool. Uses only the public API (shardload.h).
 *
 *   shardload demo
 *   shardload write DIR --shape 4000000,8 --dtype float32 --num-shards 4 --seed 0
 *   shardload inspect PATH [--json]
 *   shardload read PATH [--variant auto|cpu|omp|gpu] [--threads N] [--verify] ...
 *   shardload clean DIR
 *
 * Exit codes: 0 ok, 1 data or I/O error, 2 usage error. Under mpiexec or srun
 * every rank runs the same command; rank 0 prints.
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int rank0 = 1;
const char *help_topic;
bool json_out, json_said;
sl_comm *the_comm;

void say(FILE *f, const char *fmt, ...) {
  if (!rank0) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
}

static int launcher_rank(void);

/* The rank an error came from: the lowest failing one, when the ranks
   agreed on it; else this one. */
static int failing_rank(void) {
  int r = sl_comm_failed_rank(the_comm);
  if (r >= 0) return r;
  return the_comm != NULL ? sl_comm_rank(the_comm) : launcher_rank();
}

/* --json's object for a failure, once, on standard output. */
static void json_failure(const char *status, const char *msg) {
  if (!json_out || json_said || !rank0) return;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddBoolToObject(j, "ok", 0);
  cJSON_AddStringToObject(j, "status", status);
  cJSON_AddStringToObject(j, "message", msg);
  cJSON_AddNumberToObject(j, "rank", failing_rank());
  cJSON_AddStringToObject(j, "version", SL_VERSION_STRING);
  cJSON_AddNumberToObject(j, "schema", JSON_SCHEMA);
  print_json(j);
  cJSON_Delete(j);
  json_said = true;
}

int usage_error(const char *fmt, ...) {
  if (rank0) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "shardload: %s\n(see shardload %s%s--help)\n", msg,
            help_topic ? help_topic : "", help_topic ? " " : "");
    json_failure("SL_EINVAL", msg);
  }
  return EXIT_USAGE;
}

/* The library names its options ("option columns"); the command line has
   flags for them: the message says the flag. */
static const struct {
  const char *option, *flag;
} flags[] = {{"option columns", "--columns"},   {"option fill_nulls", "--fill-nulls"},
             {"option dtype", "--dtype"},       {"option trailing", "--trailing"},
             {"option header_bytes", "--header-bytes"}, {"option dataset", "--dataset"},
             {"option pattern", "--pattern"},   {"option format", "--format"},
             {"option variant", "--variant"},   {"option threads", "--threads"},
             {"option io", "--io"},             {"option partition", "--partition"},
             {"option min_rows", "--min-rows"}, {"option cast", "--cast"},
             {"option hdf5_allow_external", "--hdf5-allow-external"}};

void with_flags(const char *msg, char *out, size_t cap) {
  size_t k = 0;
  while (*msg && k + 1 < cap) {
    size_t i = 0;
    while (i < sizeof flags / sizeof flags[0] &&
           strncmp(msg, flags[i].option, strlen(flags[i].option)) != 0)
      i++;
    if (i < sizeof flags / sizeof flags[0]) {
      k += (size_t)snprintf(out + k, cap - k, "%s", flags[i].flag);
      msg += strlen(flags[i].option);
    } else {
      out[k++] = *msg++;
    }
  }
  out[k < cap ? k : cap - 1] = '\0';
}

int data_error(const sl_error *e) {
  char msg[sizeof e->message + 256];
  with_flags(e->message[0] ? e->message : sl_strerror(e->code), msg, sizeof msg);
  say(stderr, "shardload: %s\n", msg);
  json_failure(sl_status_name(e->code), msg);
  return e->code == SL_EINVAL ? EXIT_USAGE : EXIT_DATA;
}

void test_hook_after_open(sl_comm *comm) {
  const char *cmd = getenv("SHARDLOAD_TEST_AFTER_OPEN");
  if (cmd == NULL || *cmd == '\0') return;
  sl_error err = {0};
  sl_status st = SL_OK;
  if (sl_comm_rank(comm) == 0 && system(cmd) != 0) st = SL_EIO;
  (void)sl_comm_agree(comm, st, &err); /* the others wait until it is done */
}

/* ---------------------------------------------------------------- helpers */

void shape_text(const int64_t *s, int n, char *buf, size_t cap) {
  size_t k = (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < n && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%lld%s", (long long)s[i],
                          n == 1 ? "," : i + 1 < n ? ", " : "");
  if (k < cap) snprintf(buf + k, cap - k, ")");
}

double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* The whole file, however long (a sidecar of a million shards is tens of
   MB); O_NONBLOCK and the fstat first, so a FIFO under the name is an error
   rather than a wait for a writer. */
#define JSON_MAX_BYTES ((off_t)1 << 30)

int read_json(const char *path, cJSON **out, sl_error *err) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) return JSON_MISSING;
  struct stat st;
  const char *why = NULL;
  if (fd < 0) why = strerror(errno);
  else if (fstat(fd, &st) != 0) why = strerror(errno);
  else if (!S_ISREG(st.st_mode)) why = "not a regular file";
  else if (st.st_size > JSON_MAX_BYTES) why = "larger than 1 GiB";
  char *buf = why ? NULL : malloc((size_t)st.st_size + 1);
  if (!why && buf == NULL) why = "out of memory";
  size_t got = 0;
  while (!why && got < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) why = r < 0 ? strerror(errno) : "shorter than its size";
    else got += (size_t)r;
  }
  if (fd >= 0) close(fd);
  if (!why) {
    buf[got] = '\0';
    if ((*out = cJSON_ParseWithLength(buf, got)) == NULL) why = "not valid JSON";
  }
  free(buf);
  if (!why) return JSON_OK;
  snprintf(err->message, sizeof err->message, "%s: cannot read: %s", path, why);
  err->code = SL_EFORMAT;
  return JSON_BAD;
}

/* A seed as write records it: a number while cJSON prints it exactly (15
   significant digits), else a string of digits. */
cJSON *seed_json(uint64_t seed) {
  if (seed < 1000000000000000ull) return cJSON_CreateNumber((double)seed);
  char buf[32];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)seed);
  return cJSON_CreateString(buf);
}

bool seed_of(const cJSON *s, uint64_t *seed) {
  if (cJSON_IsNumber(s)) {
    double v = s->valuedouble;
    if (!(v >= 0 && v <= 9007199254740992.0) || v != (double)(uint64_t)v) return false;
    *seed = (uint64_t)v;
    return true;
  }
  if (!cJSON_IsString(s) || s->valuestring[0] < '0' || s->valuestring[0] > '9') return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s->valuestring, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *seed = (uint64_t)v;
  return true;
}

/* Shard path's first component below the dataset directory dir
   ("shard_0000.zarr" of "dir/shard_0000.zarr/.zarray"): what write listed. */
static bool listed_as(const char *path, const char *dir, const char *name) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') n--;
  if (strncmp(path, dir, n) != 0 || path[n] != '/') return false;
  const char *rel = path + n + 1;
  while (*rel == '/') rel++;
  size_t k = strlen(name);
  return strncmp(rel, name, k) == 0 && (rel[k] == '\0' || rel[k] == '/');
}

/* The shards loaded are those write made, in its order and with its rows:
   only then do the pattern's global rows line up with the array's. */
static bool same_shards(const cJSON *j, const sl_dataset *d, const char *dir) {
  const cJSON *files = cJSON_GetObjectItemCaseSensitive(j, "files");
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(j, "rows");
  const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "format");
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
  size_t n = sl_dataset_num_shards(d);
  if (!cJSON_IsArray(files) || (size_t)cJSON_GetArraySize(files) != n) return false;
  if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, sl_dataset_format(d)) != 0) return false;
  if (!cJSON_IsString(dt) || strcmp(dt->valuestring, sl_dtype_str(sl_dataset_dtype(d))) != 0)
    return false;
  if (cJSON_IsArray(rows) && (size_t)cJSON_GetArraySize(rows) != n) return false;
  /* a column selection of a table, say, changes the shape: not write's rows */
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive(j, "shape");
  int64_t have[SL_MAX_DIMS];
  int nd = sl_dataset_shape(d, have);
  if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != nd) return false;
  const cJSON *e = shape->child;
  for (int k = 0; k < nd; k++, e = e->next)
    if (!cJSON_IsNumber(e) || e->valuedouble != (double)have[k]) return false;
  const cJSON *f = files->child, *r = cJSON_IsArray(rows) ? rows->child : NULL;
  for (size_t i = 0; i < n; i++, f = f->next, r = r ? r->next : NULL) {
    int64_t got;
    const char *member, *path = sl_dataset_shard(d, i, &got, &member);
    if (!cJSON_IsString(f) || member != NULL || !listed_as(path, dir, f->valuestring))
      return false;
    if (r != NULL && (!cJSON_IsNumber(r) || r->valuedouble != (double)got)) return false;
  }
  return true;
}

int meta_pattern(const char *path, const sl_dataset *d, uint64_t *seed, sl_error *err) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
  char *m = join(path, META_NAME);
  cJSON *j = NULL;
  int rc = m ? read_json(m, &j, err) : JSON_MISSING;
  free(m);
  if (rc == JSON_BAD) return -1;
  int ok = rc == JSON_OK && seed_of(cJSON_GetObjectItemCaseSensitive(j, "seed"), seed) &&
           same_shards(j, d, path);
  cJSON_Delete(j);
  return ok;
}

/* ---------------------------------------------------------------- main */

/* An interrupted write leaves no temporary file: the handler removes what
   the library is writing, then the signal takes its default course (the
   exit status still says which signal). mpiexec ends the other ranks of a
   failed job with SIGTERM, so a surviving rank removes the output's
   temporary file even when the rank that made it was killed outright. */
static volatile sig_atomic_t deferring, deferred;

static void on_signal(int sig) {
  if (deferring) { /* publishing a write: it ends first, then the signal */
    deferred = sig;
    return;
  }
  sl_remove_temp_files();
  remove_staging();
  signal(sig, SIG_DFL);
  raise(sig); /* the default action, once this returns */
}

void defer_signals(bool on) {
  deferring = on;
  if (!on && deferred != 0) raise(deferred);
}

static void catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&sa.sa_mask, sigs[i]);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

static int dispatch(sl_comm *comm, args *a) {
  if (strcmp(a->cmd, "demo") == 0) return cmd_demo(comm, a);
  if (strcmp(a->cmd, "write") == 0) return cmd_write(comm, a);
  if (strcmp(a->cmd, "inspect") == 0) return cmd_inspect(comm, a);
  if (strcmp(a->cmd, "read") == 0) return cmd_read(comm, a);
  return cmd_clean(comm, a);
}

/* This process's rank as a launcher tells it, before MPI is initialised
   (help, version and usage errors print once under mpiexec or srun). */
static int launcher_rank(void) {
  const char *vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (v != NULL && *v != '\0') return atoi(v);
  }
  return 0;
}

static void free_args(args *a) {
  for (size_t i = a->owned_from; a->listed && i < a->npaths; i++)
    free((void *)a->paths[i]);
  free(a->paths);
}

int main(int argc, char **argv) {
  rank0 = launcher_rank() == 0;
  /* --json, looked for before parsing so that usage errors answer in JSON
     too; as the parser reads it (not after "--", not an option's value) */
  json_out = has_option(argc, argv, "--json");
  const char *help_cmd;
  if (wants_help(argc, argv, &help_cmd)) {
    if (rank0) print_help(help_cmd);
    return 0;
  }
  if (has_option(argc, argv, "--version")) {
    if (rank0)
      printf("shardload %s (library %u)\n%s\n", SL_VERSION_STRING, sl_version_number(),
             sl_features());
    return 0;
  }
  args a = {0};
  int rc = parse_args(argc, argv, &a);
  if (rc != 0) {
    free_args(&a);
    /* mpiexec ends the job at the first rank that exits non-zero: the
       others let rank 0 print its one message first */
    if (!rank0) usleep(300 * 1000);
    return rc;
  }
  sl_comm *comm;
  sl_error err = {0};
  /* progress across ranks needs MPI's thread support, asked for only then */
  unsigned how = strcmp(a.cmd, "read") == 0 && a.progress != PROGRESS_NEVER
                       ? SL_COMM_PROGRESS : 0;
  if (sl_comm_init_flags(SL_LAUNCH_AUTO, how, &argc, &argv, &comm, &err) != SL_OK) {
    free_args(&a);
    return data_error(&err);
  }
  the_comm = comm;
  rank0 = sl_comm_rank(comm) == 0;
  catch_signals();
  rc = dispatch(comm, &a);
  fflush(stdout);
  the_comm = NULL;
  sl_comm_free(comm);
  free_args(&a);
  return rc;
}
