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

static const char usage_text[] =
    "usage: shardload <command> [options]\n"
    "\n"
    "commands:\n"
    "  demo                      write -> read -> verify -> clean in a temporary directory\n"
    "  write DIR --shape R,C.. --dtype T --num-shards N --seed S [--format F] [--force]\n"
    "  inspect PATH [--json]     discovery only: shards, rows, dtype, shape, bytes\n"
    "  read PATH [options]       load into a row-partitioned array over the ranks\n"
    "  clean DIR                 remove what `write` made there\n"
    "\n"
    "PATH is a directory of shard_NNNN.<ext> files, a single file, or a directory with\n"
    "--pattern GLOB; --shard-dir DIR is a synonym of PATH.\n"
    "\n"
    "read options:\n"
    "  --format F                npy|hdf5|raw (default: from the file names)\n"
    "  --variant V               auto|cpu|omp|gpu (default auto: gpu where a CUDA device is\n"
    "                            visible, else omp when >1 thread)\n"
    "  --device N                gpu: CUDA device (default: node-local rank modulo devices)\n"
    "  --gds M                   gpu: GPUDirect Storage off|auto|on (default auto)\n"
    "  --threads N               threads per rank (default: OpenMP's default)\n"
    "  --io M                    auto|buffered|direct (default auto)\n"
    "  --partition P             balanced|tiled (default balanced)\n"
    "  --min-rows N              smallest tile worth a rank (default 1)\n"
    "  --chunk-mib N             work unit of the threads in MiB (default 16)\n"
    "  --verify                  check the tile (pattern of _meta.json, or a re-read)\n"
    "  --output FILE.npy         write the whole array as one .npy file\n"
    "  --json                    one JSON report on stdout\n"
    "  --progress                phase messages on stderr\n"
    "  --pattern GLOB            shard files inside the directory, natural sort\n"
    "  --dataset NAME            HDF5 dataset (or '/group/*' in one file)\n"
    "  --dtype T --trailing D,.. --header-bytes N   raw binary layout\n"
    "  --columns a,b --fill-nulls V                 table formats\n"
    "  --hdf5-allow-external     read HDF5 external storage, virtual sources and\n"
    "                            external links inside the shard's directory\n"
    "  --dtype T [--cast same_kind|unsafe]          tables: convert every column to T\n"
    "                            (numpy astype; same_kind, the default, refuses\n"
    "                            float -> int and complex -> real)\n"
    "\n"
    "Under mpiexec or srun every rank takes part; SHARDLOAD_MPI=0|1 overrides the\n"
    "detection. Exit codes: 0 ok, 1 data or I/O error, 2 usage error.\n";

int rank0 = 1;

void say(FILE *f, const char *fmt, ...) {
  if (!rank0) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
}

int usage_error(const char *fmt, ...) {
  if (rank0) {
    va_list ap;
    va_start(ap, fmt);
    fputs("shardload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n(see shardload --help)\n", stderr);
    va_end(ap);
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

static void with_flags(const char *msg, char *out, size_t cap) {
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

/* ------------------------------------------------------------ arguments */

static bool parse_i64(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') return false;
  *out = v;
  return true;
}

static bool pick(const choice *c, const char *s, int *out) {
  for (; c->name; c++)
    if (strcmp(c->name, s) == 0) {
      *out = c->value;
      return true;
    }
  return false;
}

const choice variants[] = {{"auto", SL_VARIANT_AUTO}, {"cpu", SL_VARIANT_CPU},
                                  {"omp", SL_VARIANT_OMP},   {"gpu", SL_VARIANT_GPU},
                                  {NULL, 0}};
const choice io_modes[] = {{"auto", SL_IO_AUTO}, {"buffered", SL_IO_BUFFERED},
                                  {"direct", SL_IO_DIRECT}, {NULL, 0}};
const choice partitions[] = {{"balanced", SL_PARTITION_BALANCED},
                                    {"tiled", SL_PARTITION_TILED}, {NULL, 0}};

const choice gds_modes[] = {{"auto", SL_GDS_AUTO}, {"off", SL_GDS_OFF}, {"on", SL_GDS_ON},
                            {NULL, 0}};

const char *name_of(const choice *c, int v) {
  for (; c->name; c++)
    if (c->value == v) return c->name;
  return "?";
}

/* The numeric options and their ranges: anything outside is a usage error,
   never a silent wrap (4294967297 threads is not 1). */
static const struct {
  const char *opt;
  int64_t lo, hi;
} ranges[] = {{"--threads", 0, SL_MAX_THREADS},
              {"--min-rows", 1, INT64_MAX},
              {"--chunk-mib", 1, SL_MAX_CHUNK_BYTES >> 20},
              {"--header-bytes", 0, INT64_MAX},
              {"--num-shards", 1, 1000000},
              {"--device", 0, 4096}};

static int set_seed(args *a, const char *v) {
  char *end;
  errno = 0;
  unsigned long long s = strtoull(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || v[0] == '+' || v[0] == ' ')
    return usage_error("--seed: expected an integer from 0 to %llu, got '%s'",
                       (unsigned long long)UINT64_MAX, v);
  a->seed = (uint64_t)s;
  a->have_seed = true;
  return 0;
}

static int set_number(args *a, const char *opt, const char *v) {
  if (strcmp(opt, "--seed") == 0) return set_seed(a, v);
  size_t i = 0;
  while (i < sizeof ranges / sizeof ranges[0] && strcmp(ranges[i].opt, opt) != 0) i++;
  if (i == sizeof ranges / sizeof ranges[0]) return usage_error("unknown option %s", opt);
  int64_t n;
  if ((!parse_i64(v, &n) || n < ranges[i].lo || n > ranges[i].hi) && ranges[i].hi == INT64_MAX)
    return usage_error("%s: expected an integer >= %lld, got '%s'", opt,
                       (long long)ranges[i].lo, v);
  if (!parse_i64(v, &n) || n < ranges[i].lo || n > ranges[i].hi)
    return usage_error("%s: expected an integer from %lld to %lld, got '%s'", opt,
                       (long long)ranges[i].lo, (long long)ranges[i].hi, v);
  if (strcmp(opt, "--threads") == 0) a->read.threads = (int)n;
  else if (strcmp(opt, "--min-rows") == 0) a->read.min_rows = n;
  else if (strcmp(opt, "--chunk-mib") == 0) a->read.chunk_bytes = n << 20;
  else if (strcmp(opt, "--header-bytes") == 0) a->open.header_bytes = n;
  else if (strcmp(opt, "--device") == 0) a->read.device = (int)n;
  else a->num_shards = n;
  return 0;
}

/* Options that take a value; @return 0, or an exit code. */
static int set_value(args *a, const char *opt, const char *v) {
  int iv;
  if (strcmp(opt, "--format") == 0) a->open.format = v;
  else if (strcmp(opt, "--pattern") == 0) a->open.pattern = v;
  else if (strcmp(opt, "--dataset") == 0) a->open.dataset = v;
  else if (strcmp(opt, "--trailing") == 0) a->open.trailing = v;
  else if (strcmp(opt, "--columns") == 0) a->open.columns = v;
  else if (strcmp(opt, "--fill-nulls") == 0) a->open.fill_nulls = v;
  else if (strcmp(opt, "--cast") == 0) a->open.cast = v;
  else if (strcmp(opt, "--output") == 0) {
    if (*v == '\0') return usage_error("--output: expected a file name, got ''");
    a->output = v;
  }
  else if (strcmp(opt, "--shape") == 0) a->shape = v;
  else if (strcmp(opt, "--dtype") == 0) a->open.dtype = a->dtype_name = v;
  else if (strcmp(opt, "--shard-dir") == 0) a->path = v;
  else if (strcmp(opt, "--variant") == 0) {
    if (!pick(variants, v, &iv)) return usage_error("--variant: expected auto|cpu|omp|gpu, got '%s'", v);
    a->read.variant = (sl_variant)iv;
  } else if (strcmp(opt, "--io") == 0) {
    if (!pick(io_modes, v, &iv)) return usage_error("--io: expected auto|buffered|direct, got '%s'", v);
    a->read.io = (sl_io_mode)iv;
  } else if (strcmp(opt, "--gds") == 0) {
    if (!pick(gds_modes, v, &iv)) return usage_error("--gds: expected off|auto|on, got '%s'", v);
    a->read.gds = (sl_gds_mode)iv;
  } else if (strcmp(opt, "--partition") == 0) {
    if (!pick(partitions, v, &iv)) return usage_error("--partition: expected balanced|tiled, got '%s'", v);
    a->read.partition = (sl_partition_kind)iv;
  } else {
    return set_number(a, opt, v);
  }
  return 0;
}

static const char *const valued[] = {
    "--format", "--pattern", "--dataset", "--trailing", "--columns", "--fill-nulls",
    "--output", "--shape", "--dtype", "--shard-dir", "--variant", "--io", "--partition",
    "--threads", "--min-rows", "--chunk-mib", "--header-bytes", "--num-shards", "--seed",
    "--device", "--gds", "--cast", NULL};

static bool takes_value(const char *opt, size_t len) {
  for (const char *const *v = valued; *v; v++)
    if (strlen(*v) == len && strncmp(*v, opt, len) == 0) return true;
  return false;
}

static int set_flag(args *a, const char *opt) {
  if (strcmp(opt, "--verify") == 0) a->verify = true;
  else if (strcmp(opt, "--json") == 0) a->json = true;
  else if (strcmp(opt, "--progress") == 0) a->progress = true;
  else if (strcmp(opt, "--force") == 0) a->force = true;
  else if (strcmp(opt, "--hdf5-allow-external") == 0) a->open.hdf5_allow_external = 1;
  else return usage_error("unknown option %s", opt);
  return 0;
}

static int parse_args(int argc, char **argv, args *a) {
  sl_open_options_init(&a->open);
  sl_read_options_init(&a->read);
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (strncmp(s, "--", 2) != 0 || strcmp(s, "--") == 0) {
      if (a->cmd == NULL) a->cmd = s;
      else if (a->path == NULL) a->path = s;
      else return usage_error("unexpected argument '%s'", s);
      continue;
    }
    const char *eq = strchr(s, '=');
    size_t len = eq ? (size_t)(eq - s) : strlen(s);
    int rc;
    if (takes_value(s, len)) {
      if (eq == NULL && i + 1 >= argc) return usage_error("%s needs a value", s);
      char opt[32];
      snprintf(opt, sizeof opt, "%.*s", (int)len, s);
      rc = set_value(a, opt, eq ? eq + 1 : argv[++i]);
    } else {
      rc = eq ? usage_error("%.*s takes no value", (int)len, s) : set_flag(a, s);
    }
    if (rc != 0) return rc;
  }
  return 0;
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
  if (a->path == NULL) return usage_error("%s needs a PATH", a->cmd);
  if (strcmp(a->cmd, "write") == 0) return cmd_write(comm, a);
  if (strcmp(a->cmd, "inspect") == 0) return cmd_inspect(comm, a);
  if (strcmp(a->cmd, "read") == 0) return cmd_read(comm, a);
  if (strcmp(a->cmd, "clean") == 0) return cmd_clean(comm, a);
  return usage_error("unknown command '%s'", a->cmd);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage_text, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--version") == 0) {
      printf("shardload %s (library %u)\n%s\n", SL_VERSION_STRING, sl_version_number(),
             sl_features());
      return 0;
    }
  }
  args a = {0};
  int rc = parse_args(argc, argv, &a);
  if (rc != 0) return rc;
  if (a.cmd == NULL) return usage_error("no command given");
  sl_comm *comm;
  sl_error err = {0};
  if (sl_comm_init(SL_LAUNCH_AUTO, &argc, &argv, &comm, &err) != SL_OK) return data_error(&err);
  rank0 = sl_comm_rank(comm) == 0;
  catch_signals();
  rc = dispatch(comm, &a);
  fflush(stdout);
  sl_comm_free(comm);
  return rc;
}
