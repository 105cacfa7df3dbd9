/* The command line: one table of options (which commands and formats each
 * applies to, and its help), parsed into `args`; per-command help; unknown
 * options answered with the nearest known one; options that do not apply
 * to the command (or, once discovery has told the format, to the format)
 * refused as usage errors rather than ignored. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

enum { C_DEMO = 1, C_WRITE = 2, C_INSPECT = 4, C_READ = 8, C_CLEAN = 16 };
#define C_OPEN (C_INSPECT | C_READ)

typedef enum { V_FLAG, V_VALUE, V_OPTIONAL } takes;

typedef struct option_def {
  const char *name;    /* "--threads" */
  takes kind;
  const char *arg;     /* "N" in the help */
  unsigned cmds;       /* the commands it applies to */
  const char *formats; /* space-separated: the formats it applies to; NULL: any */
  const char *help;
} option_def;

/* Every option, once: parsing, checking and the help all read this table. */
static const option_def options[] = {
    {"--format", V_VALUE, "F", C_OPEN | C_WRITE, NULL,
     "the format (default: from the file names; write: npy);\n"
     "aliases h5, feather, ipc, arrow_ipc, arrows, pq"},
    {"--pattern", V_VALUE, "GLOB", C_OPEN, NULL,
     "shard files under each directory PATH, relative to it:\n"
     "'*.npy', 'part-*/x.npy' across folders, '**' any depth"},
    {"--list", V_VALUE, "FILE", C_OPEN, NULL,
     "more inputs, one path a line ('-': standard input)"},
    {"--shard-dir", V_VALUE, "DIR", C_OPEN, NULL, "the dataset directory, instead of PATH"},
    {"--dataset", V_VALUE, "NAME", C_OPEN, "hdf5 zarr",
     "hdf5: the dataset in each file, or '/group/*' (one\n"
     "shard each); zarr: '/shards/*' in a group"},
    {"--dtype", V_VALUE, "T", C_OPEN | C_WRITE, NULL,
     "write and raw: the element type (write: float32);\n"
     "parquet, arrow: convert every column to T (numpy\n"
     "astype); other formats: must be the files' own"},
    {"--cast", V_VALUE, "RULE", C_OPEN, "parquet arrow",
     "with --dtype: same_kind (default; refuses float -> int),\n"
     "unsafe, safe, equiv, no"},
    {"--trailing", V_VALUE, "D,..", C_OPEN, "raw", "the shape of a row (default: _meta.json)"},
    {"--header-bytes", V_VALUE, "N", C_OPEN, "raw", "bytes to skip at each file's start"},
    {"--columns", V_VALUE, "a,b", C_OPEN, "parquet arrow",
     "the columns, in this order (default: every numeric one)"},
    {"--fill-nulls", V_VALUE, "V", C_OPEN, "parquet arrow",
     "the value of nulls (default: a null is an error)"},
    {"--hdf5-allow-external", V_FLAG, NULL, C_OPEN, "hdf5",
     "read external storage, virtual sources and external\n"
     "links, but only inside the shard's directory"},
    {"--variant", V_VALUE, "V", C_READ, NULL,
     "auto|cpu|omp|gpu (auto: gpu where a CUDA device is\n"
     "visible, else omp with more than one thread)"},
    {"--threads", V_VALUE, "N", C_READ, NULL, "threads per rank, 0-1024 (default: OpenMP's)"},
    {"--io", V_VALUE, "M", C_READ, NULL, "auto|buffered|direct (default auto)"},
    {"--chunk-mib", V_VALUE, "N", C_READ, NULL, "work unit of the threads in MiB (default 16)"},
    {"--device", V_VALUE, "N", C_READ, NULL,
     "gpu: the CUDA device (default: node-local rank modulo\n"
     "the devices)"},
    {"--gds", V_VALUE, "M", C_READ, NULL, "gpu: GPUDirect Storage off|auto|on (default auto)"},
    {"--partition", V_VALUE, "P", C_READ, NULL,
     "balanced (default: rank r owns [r*N/P, (r+1)*N/P)) or\n"
     "tiled (tiles of ceil(N/P) rows, the last one short)"},
    {"--min-rows", V_VALUE, "N", C_READ, NULL,
     "balanced: fewer ranks get rows, none fewer than N;\n"
     "tiled: tiles of at least N rows (the last may be short)"},
    {"--verify", V_FLAG, NULL, C_READ, NULL,
     "check each tile (the pattern of write's _meta.json,\n"
     "else a re-read)"},
    {"--output", V_VALUE, "FILE.npy", C_READ, NULL, "the whole array as one .npy file"},
    {"--json", V_FLAG, NULL, C_OPEN, NULL, "one JSON object on standard output, failures too"},
    {"--progress", V_OPTIONAL, "[=WHEN]", C_READ, NULL,
     "a live line on standard error: auto (the default: when\n"
     "it is a terminal), always, never; WHEN only after '='\n"
     "(--progress=always): a word after a space is a PATH"},
    {"--trace", V_VALUE, "FILE.json", C_READ, NULL,
     "a Chrome trace / Perfetto timeline of the read"},
    {"--shape", V_VALUE, "R,C,..", C_WRITE, NULL, "the whole array's shape"},
    {"--num-shards", V_VALUE, "N", C_WRITE, NULL, "shards, 1-1000000 (default 4)"},
    {"--seed", V_VALUE, "S", C_WRITE, NULL, "0 to 2^64-1 (default 0): rows and values"},
    {"--force", V_FLAG, NULL, C_WRITE, NULL, "replace what an earlier write made there"},
};
#define NOPTS LEN(options)
_Static_assert(NOPTS <= MAX_OPTIONS, "args.seen holds every option");

static const struct {
  const char *name;
  unsigned bit;
  const char *usage, *what;
} commands[] = {
    {"demo", C_DEMO, "demo", "write, read, verify, clean in a temporary directory"},
    {"write", C_WRITE, "write DIR --shape R,C.. [options]",
     "a deterministic test dataset (and _meta.json) in DIR"},
    {"inspect", C_INSPECT, "inspect PATH... [options]",
     "discovery only: shards, the array and why, codecs"},
    {"read", C_READ, "read PATH... [options]",
     "load into a row-partitioned array over the ranks"},
    {"clean", C_CLEAN, "clean DIR", "remove what write made in DIR (its _meta.json)"},
};

/* ------------------------------------------------------------ the help */

/* The formats of this build, from the library's feature line. */
static void format_names(char *buf, size_t cap) {
  const char *f = strstr(sl_features(), "formats: ");
  const char *end = f ? strchr(f, ';') : NULL;
  snprintf(buf, cap, "%.*s", f && end ? (int)(end - f - 9) : 0, f ? f + 9 : "");
}

static void print_option(const option_def *o) {
  char head[64];
  snprintf(head, sizeof head, "  %s%s%s", o->name, o->arg && o->kind == V_VALUE ? " " : "",
           o->arg ? o->arg : "");
  printf("%-25s", head);
  if (strlen(head) >= 25) printf("\n%25s", "");
  for (const char *p = o->help; *p; p++) {
    putchar(*p);
    if (*p == '\n') printf("%25s", "");
  }
  if (o->formats) printf("\n%25s[%s only]", "", o->formats);
  putchar('\n');
}

static const char tail_text[] =
    "\nPATH: a directory of shard_NNNN.<ext> files (four or more digits), a directory with\n"
    "--pattern, a directory of Hive-style key=value/ folders, a single file, or several of\n"
    "these (a shell glob's expansion), read in the order given. Files and folders named\n"
    "_* or .* (sidecars such as _meta.json) are never shards.\n"
    "Under mpiexec or srun every rank takes part (as root: mpiexec --allow-run-as-root;\n"
    "more ranks than cores: --oversubscribe); SHARDLOAD_MPI=0|1 overrides the detection.\n"
    "Exit codes: 0 ok, 1 data or I/O error, 2 usage error.\n";

void print_help(const char *cmd) {
  char fmts[256];
  format_names(fmts, sizeof fmts);
  for (size_t c = 0; cmd != NULL && c < LEN(commands); c++) {
    if (strcmp(cmd, commands[c].name) != 0) continue;
    printf("usage: shardload %s\n\n%c%s.\n", commands[c].usage,
           commands[c].what[0] - 'a' + 'A', commands[c].what + 1);
    bool any = false;
    for (size_t i = 0; i < NOPTS; i++)
      if (options[i].cmds & commands[c].bit) {
        if (!any) printf("\noptions:\n");
        any = true;
        print_option(&options[i]);
      }
    if (commands[c].bit & C_OPEN) printf("\nformats built in: %s\n%s", fmts, tail_text);
    return;
  }
  printf("usage: shardload <command> [options]\n"
         "       shardload <command> --help    (that command's options)\n\ncommands:\n");
  for (size_t c = 0; c < LEN(commands); c++)
    printf("  %-34s %s\n", commands[c].usage, commands[c].what);
  printf("\nformats built in: %s\n%s", fmts, tail_text);
}

/* ------------------------------------------------------------ matching */

/* Edit distance, for "did you mean": short strings only. */
static size_t distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b), row[64];
  if (n >= 64 || m >= 64) return 64;
  for (size_t j = 0; j <= m; j++) row[j] = j;
  for (size_t i = 1; i <= n; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= m; j++) {
      size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[m];
}

/* The nearest of names to s within a third of its length, else NULL. */
static const char *nearest(const char *s, const char *const *names, size_t n) {
  const char *best = NULL;
  size_t bd = strlen(s) / 3 > 2 ? strlen(s) / 3 : 2;
  for (size_t i = 0; i < n; i++) {
    size_t d = distance(s, names[i]);
    bool prefix = strlen(s) > 3 && strncmp(s, names[i], strlen(s)) == 0;
    if (d <= bd || (best == NULL && prefix)) {
      best = names[i];
      bd = d;
    }
  }
  return best;
}

static int unknown_option(const char *opt) {
  const char *names[LEN(options) + 2];
  for (size_t i = 0; i < NOPTS; i++) names[i] = options[i].name;
  names[NOPTS] = "--help";
  names[NOPTS + 1] = "--version";
  const char *n = nearest(opt, names, NOPTS + 2);
  if (n) return usage_error("unknown option %s (did you mean %s?)", opt, n);
  return usage_error("unknown option %s", opt);
}

static int unknown_command(const char *cmd) {
  const char *names[LEN(commands)];
  for (size_t i = 0; i < LEN(commands); i++) names[i] = commands[i].name;
  const char *n = nearest(cmd, names, LEN(commands));
  if (n) return usage_error("unknown command '%s' (did you mean %s?)", cmd, n);
  return usage_error("unknown command '%s' (commands: demo, write, inspect, read, clean)", cmd);
}

static const option_def *find_option(const char *name, size_t len) {
  for (size_t i = 0; i < NOPTS; i++)
    if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
      return &options[i];
  return NULL;
}

/* ------------------------------------------------------------ values */

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

static int bad_choice(const char *opt, const choice *c, const char *v) {
  char list[128] = "";
  for (size_t k = 0; c->name; c++)
    k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", k ? "|" : "", c->name);
  return usage_error("%s: expected %s, got '%s'", opt, list, v);
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
static const choice progress_modes[] = {{"auto", PROGRESS_AUTO}, {"always", PROGRESS_ALWAYS},
                                        {"never", PROGRESS_NEVER}, {NULL, 0}};

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
  size_t i = 0;
  while (i < LEN(ranges) && strcmp(ranges[i].opt, opt) != 0) i++;
  if (i == LEN(ranges)) return unknown_option(opt);
  int64_t n;
  bool ok = parse_i64(v, &n) && n >= ranges[i].lo && n <= ranges[i].hi;
  if (!ok && ranges[i].hi == INT64_MAX)
    return usage_error("%s: expected an integer >= %lld, got '%s'", opt,
                       (long long)ranges[i].lo, v);
  if (!ok)
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

static bool ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), k = strlen(tail);
  return n >= k && strcmp(s + n - k, tail) == 0;
}

static int set_output(args *a, const char *v) {
  if (*v == '\0') return usage_error("--output: expected a file name, got ''");
  if (!ends_with(v, ".npy") || strlen(v) == 4 || ends_with(v, "/.npy"))
    return usage_error("--output: '%s' does not end in .npy (the output is one .npy file: "
                       "name it NAME.npy)", v);
  a->output = v;
  return 0;
}

static int set_choice(const char *opt, const choice *c, const char *v, int *out) {
  return pick(c, v, out) ? 0 : bad_choice(opt, c, v);
}

/* Options that take a value; @return 0, or an exit code. */
static int set_value(args *a, const char *opt, const char *v) {
  int iv = 0, rc = 0;
  if (strcmp(opt, "--format") == 0) a->open.format = v;
  else if (strcmp(opt, "--pattern") == 0) a->open.pattern = v;
  else if (strcmp(opt, "--list") == 0) a->list = v;
  else if (strcmp(opt, "--dataset") == 0) a->open.dataset = v;
  else if (strcmp(opt, "--trailing") == 0) a->open.trailing = v;
  else if (strcmp(opt, "--columns") == 0) a->open.columns = v;
  else if (strcmp(opt, "--fill-nulls") == 0) a->open.fill_nulls = v;
  else if (strcmp(opt, "--cast") == 0) a->open.cast = v;
  else if (strcmp(opt, "--output") == 0) return set_output(a, v);
  else if (strcmp(opt, "--trace") == 0) a->trace = v;
  else if (strcmp(opt, "--shape") == 0) a->shape = v;
  else if (strcmp(opt, "--dtype") == 0) a->open.dtype = a->dtype_name = v;
  else if (strcmp(opt, "--shard-dir") == 0) a->shard_dir = v;
  else if (strcmp(opt, "--seed") == 0) return set_seed(a, v);
  else if (strcmp(opt, "--variant") == 0) {
    if ((rc = set_choice(opt, variants, v, &iv)) == 0) a->read.variant = (sl_variant)iv;
  } else if (strcmp(opt, "--io") == 0) {
    if ((rc = set_choice(opt, io_modes, v, &iv)) == 0) a->read.io = (sl_io_mode)iv;
  } else if (strcmp(opt, "--gds") == 0) {
    if ((rc = set_choice(opt, gds_modes, v, &iv)) == 0) a->read.gds = (sl_gds_mode)iv;
  } else if (strcmp(opt, "--partition") == 0) {
    if ((rc = set_choice(opt, partitions, v, &iv)) == 0)
      a->read.partition = (sl_partition_kind)iv;
  } else if (strcmp(opt, "--progress") == 0) {
    if ((rc = set_choice(opt, progress_modes, v, &iv)) == 0) a->progress = iv;
  } else {
    return set_number(a, opt, v);
  }
  return rc;
}

static int set_flag(args *a, const char *opt) {
  if (strcmp(opt, "--verify") == 0) a->verify = true;
  else if (strcmp(opt, "--json") == 0) a->json = true;
  else if (strcmp(opt, "--progress") == 0) a->progress = PROGRESS_AUTO;
  else if (strcmp(opt, "--force") == 0) a->force = true;
  else if (strcmp(opt, "--hdf5-allow-external") == 0) a->open.hdf5_allow_external = 1;
  else return unknown_option(opt);
  return 0;
}

/* ------------------------------------------------------------ parsing */

/* An optional value takes '=' only: "--progress always" is the flag, then
   a PATH named always, whatever files there are. When that word is one of
   the option's values and names no file, the PATH is surely a mistake: a
   usage error says how to write it. */
static int spaced_value(const option_def *o, const char *next) {
  int iv;
  struct stat st;
  if (strcmp(o->name, "--progress") != 0 || !pick(progress_modes, next, &iv) ||
      lstat(next, &st) == 0)
    return 0;
  return usage_error("%s: no such file (did you mean %s=%s? %s takes its value after "
                     "'=')", next, o->name, next, o->name);
}

static int option(args *a, int argc, char **argv, int *i) {
  const char *s = argv[*i], *eq = strchr(s, '=');
  size_t len = eq ? (size_t)(eq - s) : strlen(s);
  const option_def *o = find_option(s, len);
  if (o == NULL) {
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), s);
    return unknown_option(name);
  }
  a->seen[o - options] = true;
  if (o->kind == V_FLAG && eq) return usage_error("%s takes no value", o->name);
  if (o->kind == V_OPTIONAL && !eq && *i + 1 < argc) {
    int rc = spaced_value(o, argv[*i + 1]);
    if (rc != 0) return rc;
  }
  if (o->kind == V_FLAG || (o->kind == V_OPTIONAL && !eq)) return set_flag(a, o->name);
  if (eq == NULL && *i + 1 >= argc) return usage_error("%s needs a value", o->name);
  return set_value(a, o->name, eq ? eq + 1 : argv[++*i]);
}

static unsigned command_bit(const char *cmd) {
  for (size_t c = 0; c < LEN(commands); c++)
    if (strcmp(cmd, commands[c].name) == 0) return commands[c].bit;
  return 0;
}

/* The options given that do not apply to the command. */
static int check_command(const args *a, unsigned bit) {
  for (size_t i = 0; i < NOPTS; i++)
    if (a->seen[i] && !(options[i].cmds & bit))
      return usage_error("%s does not apply to %s (see shardload %s --help)", options[i].name,
                         a->cmd, a->cmd);
  if (a->shard_dir && a->npaths > 0)
    return usage_error("--shard-dir %s and PATH %s: give the dataset one way", a->shard_dir,
                       a->paths[0]);
  bool gpu_only = a->read.variant != SL_VARIANT_GPU && a->read.variant != SL_VARIANT_AUTO;
  for (size_t i = 0; gpu_only && i < NOPTS; i++)
    if (a->seen[i] && (strcmp(options[i].name, "--device") == 0 ||
                       strcmp(options[i].name, "--gds") == 0))
      return usage_error("%s applies to the gpu variant, not to --variant %s", options[i].name,
                         name_of(variants, a->read.variant));
  return 0;
}

/* The PATHs each command takes. */
static int check_paths(args *a, unsigned bit) {
  if (a->shard_dir) a->paths[a->npaths++] = a->shard_dir;
  if (bit == C_DEMO && a->npaths > 0)
    return usage_error("demo takes no PATH (it works in a temporary directory)");
  if ((bit == C_WRITE || bit == C_CLEAN) && a->npaths != 1)
    return usage_error("%s takes one DIR, got %zu", a->cmd, a->npaths);
  if ((bit & C_OPEN) && a->npaths == 0 && a->list == NULL)
    return usage_error("%s needs a PATH (or --list FILE)", a->cmd);
  a->path = a->npaths > 0 ? a->paths[0] : a->list;
  return 0;
}

/* The options end at the first "--" that is not an option's value:
   everything after it is a PATH ("--x.npy", "--json" too). */
int options_end(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (strcmp(s, "--") == 0) return i;
    if (strncmp(s, "--", 2) != 0 || strchr(s, '=') != NULL) continue;
    const option_def *o = find_option(s, strlen(s));
    if (o != NULL && o->kind == V_VALUE) i++; /* its value, whatever it looks like */
  }
  return argc;
}

bool has_option(int argc, char **argv, const char *name) {
  int end = options_end(argc, argv);
  for (int i = 1; i < end; i++) {
    if (strcmp(argv[i], name) == 0) return true;
    const option_def *o = find_option(argv[i], strlen(argv[i]));
    if (o != NULL && o->kind == V_VALUE) i++;
  }
  return false;
}

int parse_args(int argc, char **argv, args *a) {
  sl_open_options_init(&a->open);
  sl_read_options_init(&a->read);
  a->paths = calloc((size_t)argc + 1, sizeof *a->paths);
  if (a->paths == NULL) return usage_error("out of memory");
  int end = options_end(argc, argv);
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int rc = 0;
    bool opt = i < end && strncmp(s, "--", 2) == 0 && s[2] != '\0';
    if (opt) rc = option(a, argc, argv, &i);
    else if (i == end) continue; /* the "--" that ends the options */
    else if (a->cmd == NULL && (a->cmd = s) != NULL && command_bit(s) != 0) help_topic = s;
    else a->paths[a->npaths++] = s;
    if (rc != 0) return rc;
  }
  if (a->cmd == NULL) return usage_error("no command given");
  unsigned bit = command_bit(a->cmd);
  if (bit == 0) return unknown_command(a->cmd);
  int rc = check_command(a, bit);
  return rc ? rc : check_paths(a, bit);
}

/* A format-specific option given for a dataset of another format. */
int check_format_options(const args *a, const char *format) {
  for (size_t i = 0; i < NOPTS; i++) {
    const char *f = options[i].formats;
    if (!a->seen[i] || f == NULL) continue;
    size_t n = strlen(format);
    bool ok = false;
    for (const char *p = f; !ok && (p = strstr(p, format)) != NULL; p += n)
      ok = (p == f || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0');
    if (!ok) {
      char list[64];
      const char *sp = strchr(f, ' ');
      if (sp) snprintf(list, sizeof list, "%.*s and %s", (int)(sp - f), f, sp + 1);
      else snprintf(list, sizeof list, "%s", f);
      return usage_error("%s applies to %s datasets; %s is %s", options[i].name, list,
                         a->path, format);
    }
  }
  return 0;
}

/* Whether the command asked for its help; cmd the command named, if any. */
bool wants_help(int argc, char **argv, const char **cmd) {
  int end = options_end(argc, argv);
  *cmd = NULL;
  for (int i = 1; i < end && *cmd == NULL; i++)
    if (argv[i][0] != '-' && command_bit(argv[i]) != 0) *cmd = argv[i];
  return has_option(argc, argv, "--help") || has_option(argc, argv, "-h");
}

/* --list's lines appended to a->paths (blank lines and '#' comments
   skipped). @return 0, or the errno of the read (ENOMEM when a line could
   not be kept): a list read in part is an error, never a shorter dataset. */
static int list_lines(args *a, FILE *f) {
  char *line = NULL;
  size_t cap = 0;
  int e = 0;
  for (;;) {
    errno = 0;
    ssize_t n = getline(&line, &cap, f);
    if (n < 0) {
      /* -1 is the end, a read error (ferror) or no memory for the line */
      if (ferror(f) || !feof(f)) e = errno != 0 ? errno : EIO;
      break;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    if (n == 0 || line[0] == '#') continue;
    const char **p = realloc(a->paths, (a->npaths + 1) * sizeof *p);
    if (p != NULL) a->paths = p;
    char *copy = p != NULL ? strdup(line) : NULL;
    if (copy == NULL) {
      e = ENOMEM;
      break;
    }
    a->paths[a->npaths++] = copy;
  }
  free(line);
  return e;
}

/* The PATHs with the lines of --list (FILE, or '-' for standard input)
   after them. */
int read_list(args *a, sl_error *err) {
  if (a->list == NULL) return 0;
  FILE *f = strcmp(a->list, "-") == 0 ? stdin : fopen(a->list, "r");
  if (f == NULL) {
    snprintf(err->message, sizeof err->message, "%s: cannot read the list: %s", a->list,
             strerror(errno));
    err->code = SL_ENOENT;
    return EXIT_DATA;
  }
  a->owned_from = a->npaths; /* what list_lines appends is ours to free, even on error */
  a->listed = true;
  int e = list_lines(a, f);
  if (f != stdin) fclose(f);
  if (e != 0) {
    snprintf(err->message, sizeof err->message, "%s: cannot read the list: %s", a->list,
             strerror(e));
    err->code = e == ENOMEM ? SL_ENOMEM : SL_EIO;
    return EXIT_DATA;
  }
  if (a->npaths == 0) {
    snprintf(err->message, sizeof err->message, "%s: the list names no path", a->list);
    err->code = SL_EINVAL;
    return EXIT_USAGE;
  }
  a->path = a->paths[0];
  return 0;
}
