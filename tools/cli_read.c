/* shardload inspect and read: discovery, the collective load, the per-rank
 * report (rows, shards and files touched, bytes, seconds, GB/s, the I/O
 * path that ran, as in the recipe), optional verification, --output and
 * --trace. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* One rank's line of the report; gathered to rank 0 as bytes. */
typedef struct rank_report {
  int64_t lo, hi, files, first_shard, last_shard, bytes, files_probed;
  int64_t files_opened, open_files_peak, open_files_limit;
  double seconds, alloc_seconds, fault_seconds;
  int threads, variant, io;
  int device, gds;
  int64_t staging_peak;
  char device_name[96], device_pci[32], note[256];
  int64_t by_path[5]; /* bytes: direct, cached, buffered, mapped, decoded */
  char host[256];     /* gethostname fails when the name and its NUL do not fit */
} rank_report;
_Static_assert(sizeof ((rank_report *)0)->host > HOST_NAME_MAX, "a host name fits");

/* The paths of by_path, in order. */
static const char *const path_names[5] = {"direct", "cached", "buffered", "mapped", "decoded"};

void print_dataset_json(const sl_dataset *d, const char *path, cJSON *j) {
  int64_t shape[SL_MAX_DIMS];
  int nd = sl_dataset_shape(d, shape);
  cJSON_AddStringToObject(j, "path", path);
  cJSON_AddStringToObject(j, "format", sl_dataset_format(d));
  cJSON_AddStringToObject(j, "dtype", sl_dtype_str(sl_dataset_dtype(d)));
  cJSON *s = cJSON_AddArrayToObject(j, "shape");
  for (int i = 0; i < nd; i++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)shape[i]));
  cJSON_AddNumberToObject(j, "nbytes", (double)sl_dataset_nbytes(d));
  cJSON_AddNumberToObject(j, "num_shards", (double)sl_dataset_num_shards(d));
}

/* The library's twin (sl__utf8_len, sl__utf8_valid in src/base/text.c)
   cleans its inspect JSON; the command links only the public API
   (tests/check_layers.py), so its reports carry their own copy.

   The length of the valid UTF-8 sequence at s (RFC 3629: no overlong
   forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_length(const unsigned char *s) {
  unsigned char c = s[0];
  size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
           : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  /* the second byte's range, narrower after E0, ED, F0 and F4 */
  unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
  unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
  for (size_t k = 1; k < n; k++)
    if (s[k] < (k == 1 ? lo : 0x80) || s[k] > (k == 1 ? hi : 0xBF)) return 0;
  return n;
}

/* t with every byte that is not part of a valid UTF-8 sequence replaced by
   U+FFFD (EF BF BD); NULL when out of memory. cJSON copies strings as bytes
   (paths, messages), and JSON must be UTF-8; its own syntax is ASCII, so
   the object stays valid. */
static char *valid_utf8(const char *t) {
  size_t n = strlen(t);
  char *out = malloc(3 * n + 1), *o = out;
  if (out == NULL) return NULL;
  for (const unsigned char *s = (const unsigned char *)t; *s;) {
    size_t k = utf8_length(s);
    const unsigned char *from = k ? s : (const unsigned char *)"\xEF\xBF\xBD";
    memcpy(o, from, k ? k : 3);
    o += k ? k : 3;
    s += k ? k : 1;
  }
  *o = '\0';
  return out;
}

void print_json(cJSON *j) {
  char *t = cJSON_PrintUnformatted(j), *u = t ? valid_utf8(t) : NULL;
  say(stdout, "%s\n", u ? u : "{}");
  free(u);
  free(t);
  json_said = true;
}

cJSON *json_report(void) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddBoolToObject(j, "ok", 1);
  cJSON_AddStringToObject(j, "version", SL_VERSION_STRING);
  cJSON_AddNumberToObject(j, "schema", JSON_SCHEMA);
  return j;
}

/* ------------------------------------------------------------------ read */

static rank_report local_report(const sl_array *arr, const sl_dataset *d,
                                const sl_read_stats *s) {
  rank_report r = {0};
  sl_array_part(arr, sl_array_local_part(arr), &r.lo, &r.hi);
  r.files = s->files;
  r.first_shard = s->first_shard;
  r.last_shard = s->last_shard;
  r.bytes = s->bytes;
  r.seconds = s->seconds;
  r.alloc_seconds = s->alloc_seconds;
  r.fault_seconds = s->fault_seconds;
  r.threads = s->threads;
  r.variant = s->variant;
  r.io = s->io;
  r.files_probed = sl_dataset_files_probed(d);
  r.files_opened = s->files_opened;
  r.open_files_peak = s->open_files_peak;
  r.open_files_limit = s->open_files_limit;
  r.device = s->device;
  r.gds = s->gds;
  r.staging_peak = s->staging_peak;
  snprintf(r.device_name, sizeof r.device_name, "%s", s->device_name);
  snprintf(r.device_pci, sizeof r.device_pci, "%s", s->device_pci);
  snprintf(r.note, sizeof r.note, "%s", s->note);
  const int64_t by[5] = {s->bytes_direct, s->bytes_cached, s->bytes_buffered, s->bytes_mapped,
                         s->bytes_decoded};
  memcpy(r.by_path, by, sizeof by);
  if (gethostname(r.host, sizeof r.host) != 0) snprintf(r.host, sizeof r.host, "?");
  r.host[sizeof r.host - 1] = '\0';
  return r;
}

/* The I/O that ran: one path's name ("decoded": by the format's driver,
   through a mapping of the file or preads), "mixed", or "none". */
static const char *io_ran(const int64_t *by) {
  int kinds = 0, last = 0;
  for (int k = 0; k < 5; k++)
    if (by[k] > 0) kinds++, last = k;
  return kinds == 0 ? "none" : kinds > 1 ? "mixed" : path_names[last];
}

/* The sum of every rank's bytes by path. */
static void all_paths(const rank_report *r, int P, int64_t *by) {
  memset(by, 0, 5 * sizeof *by);
  for (int i = 0; i < P; i++)
    for (int k = 0; k < 5; k++) by[k] += r[i].by_path[k];
}

static double gbps(int64_t bytes, double s) { return s > 0 ? (double)bytes / s / 1e9 : 0; }

/* Over the ranks that hold rows (the others read nothing in no time). */
typedef struct spread {
  double min, mean, max;
} spread;

static void spreads(const rank_report *r, int P, spread *secs, spread *rate) {
  int n = 0;
  *secs = *rate = (spread){0, 0, 0};
  for (int i = 0; i < P; i++) {
    if (r[i].hi == r[i].lo) continue;
    double s = r[i].seconds, g = gbps(r[i].bytes, s);
    if (n == 0) *secs = (spread){s, 0, s}, *rate = (spread){g, 0, g};
    secs->min = s < secs->min ? s : secs->min;
    secs->max = s > secs->max ? s : secs->max;
    rate->min = g < rate->min ? g : rate->min;
    rate->max = g > rate->max ? g : rate->max;
    secs->mean += s;
    rate->mean += g;
    n++;
  }
  if (n > 0) secs->mean /= n, rate->mean /= n;
}

static double slowest(const rank_report *r, int P) {
  double s = 0;
  for (int i = 0; i < P; i++) s = r[i].seconds > s ? r[i].seconds : s;
  return s;
}

static void rank_line(const rank_report *r, int i) {
  char size[32];
  size_text(r->bytes, size, sizeof size);
  say(stdout,
      "  rank %d (%s): rows [%lld, %lld) %lld row%s, shards %lld..%lld (%lld file%s), %s in "
      "%.3f s (%.2f GB/s), io %s, %d thread%s\n",
      i, r->host, (long long)r->lo, (long long)r->hi, (long long)(r->hi - r->lo),
      r->hi - r->lo == 1 ? "" : "s", (long long)r->first_shard, (long long)r->last_shard,
      (long long)r->files, r->files == 1 ? "" : "s", size, r->seconds,
      gbps(r->bytes, r->seconds), io_ran(r->by_path), r->threads, r->threads == 1 ? "" : "s");
  if (r->device >= 0)
    say(stdout, "    device %d (%s, %s), %s\n", r->device, r->device_name, r->device_pci,
        r->gds ? "cuFile (GPUDirect Storage)" : "pinned staging");
  if (r->note[0]) say(stdout, "    note: %s\n", r->note);
}

/* What the read did, then what was done with it, then the summary line. */
static void report_text(const rank_report *r, int P, const sl_dataset *d, const args *a,
                        double open_s, double load_s, const char *verified) {
  char line[1024], size[32];
  int64_t by[5];
  all_paths(r, P, by);
  describe(d, a->path, line, sizeof line);
  say(stdout, "%s\n", line);
  say(stdout, "%d rank%s, partition %s, variant %s, io %s\n", P, P == 1 ? "" : "s",
      name_of(partitions, a->read.partition), name_of(variants, r[0].variant), io_ran(by));
  for (int i = 0; i < P; i++) {
    if (r[i].hi == r[i].lo) say(stdout, "  rank %d (%s): no rows\n", i, r[i].host);
    else rank_line(&r[i], i);
  }
  if (verified) say(stdout, "verify: ok (%s)\n", verified);
  if (a->output) say(stdout, "output: %s\n", a->output);
  if (a->trace) say(stdout, "trace: %s\n", a->trace);
  double slow = slowest(r, P);
  size_text(sl_dataset_nbytes(d), size, sizeof size);
  say(stdout, "total: %s, read phase %.3f s (%.2f GB/s), discovery %.3f s, load %.3f s\n",
      size, slow, gbps(sl_dataset_nbytes(d), slow), open_s, load_s);
}

/* The gpu variant's device and read path per rank; null for host variants. */
static void add_device_json(cJSON *o, const rank_report *r) {
  if (r->device >= 0) {
    cJSON *dv = cJSON_AddObjectToObject(o, "device");
    cJSON_AddNumberToObject(dv, "index", r->device);
    cJSON_AddStringToObject(dv, "name", r->device_name);
    cJSON_AddStringToObject(dv, "pci_bus_id", r->device_pci);
    cJSON_AddStringToObject(o, "path", r->gds ? "cufile" : "staging");
    cJSON_AddNumberToObject(o, "staging_peak_bytes", (double)r->staging_peak);
  } else {
    cJSON_AddNullToObject(o, "device");
    cJSON_AddStringToObject(o, "path", "host");
  }
  if (r->note[0]) cJSON_AddStringToObject(o, "note", r->note);
  else cJSON_AddNullToObject(o, "note");
}

static void add_spread(cJSON *j, const char *key, const spread *s) {
  cJSON *o = cJSON_AddObjectToObject(j, key);
  cJSON_AddNumberToObject(o, "min", s->min);
  cJSON_AddNumberToObject(o, "mean", s->mean);
  cJSON_AddNumberToObject(o, "max", s->max);
}

static cJSON *rank_json(const rank_report *r, int i) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "rank", i);
  cJSON_AddStringToObject(o, "host", r->host);
  cJSON_AddNumberToObject(o, "row_lo", (double)r->lo);
  cJSON_AddNumberToObject(o, "row_hi", (double)r->hi);
  cJSON_AddNumberToObject(o, "rows", (double)(r->hi - r->lo));
  cJSON_AddNumberToObject(o, "first_shard", (double)r->first_shard);
  cJSON_AddNumberToObject(o, "last_shard", (double)r->last_shard);
  cJSON_AddNumberToObject(o, "files", (double)r->files);
  cJSON_AddNumberToObject(o, "files_opened", (double)r->files_opened);
  cJSON_AddNumberToObject(o, "open_files_peak", (double)r->open_files_peak);
  cJSON_AddNumberToObject(o, "open_files_limit", (double)r->open_files_limit);
  cJSON_AddNumberToObject(o, "bytes", (double)r->bytes);
  cJSON_AddNumberToObject(o, "seconds", r->seconds);
  cJSON_AddNumberToObject(o, "alloc_seconds", r->alloc_seconds);
  cJSON_AddNumberToObject(o, "fault_seconds", r->fault_seconds);
  cJSON_AddNumberToObject(o, "gbps", gbps(r->bytes, r->seconds));
  cJSON_AddNumberToObject(o, "threads", r->threads);
  add_device_json(o, r); /* before variant and io, which end the object */
  cJSON_AddStringToObject(o, "io_asked", name_of(io_modes, r->io));
  cJSON *by = cJSON_AddObjectToObject(o, "io_bytes");
  for (int k = 0; k < 5; k++) cJSON_AddNumberToObject(by, path_names[k], (double)r->by_path[k]);
  cJSON_AddStringToObject(o, "variant", name_of(variants, r->variant));
  cJSON_AddStringToObject(o, "io", io_ran(r->by_path));
  return o;
}

static void report_json(const rank_report *r, int P, const sl_dataset *d, const args *a,
                        double open_s, double load_s, const char *verified) {
  cJSON *j = json_report(), *ranks = cJSON_CreateArray();
  print_dataset_json(d, a->path, j);
  int64_t probed = 0;
  for (int i = 0; i < P; i++) {
    cJSON_AddItemToArray(ranks, rank_json(&r[i], i));
    probed += r[i].files_probed;
  }
  double slow = slowest(r, P);
  spread secs, rate;
  spreads(r, P, &secs, &rate);
  cJSON_AddNumberToObject(j, "ranks", P);
  cJSON_AddStringToObject(j, "partition", name_of(partitions, a->read.partition));
  cJSON_AddNumberToObject(j, "files_probed", (double)probed);
  cJSON_AddNumberToObject(j, "seconds", slow);
  cJSON_AddNumberToObject(j, "gbps", gbps(sl_dataset_nbytes(d), slow));
  add_spread(j, "rank_seconds", &secs);
  add_spread(j, "rank_gbps", &rate);
  cJSON_AddNumberToObject(j, "open_seconds", open_s);
  cJSON_AddNumberToObject(j, "load_seconds", load_s);
  if (verified) cJSON_AddStringToObject(j, "verify", verified);
  else cJSON_AddNullToObject(j, "verify");
  if (a->output) cJSON_AddStringToObject(j, "output", a->output);
  if (a->trace) cJSON_AddStringToObject(j, "trace", a->trace);
  cJSON_AddItemToObject(j, "per_rank", ranks);
  print_json(j);
  cJSON_Delete(j);
}

/* Pattern check when the directory was made by `write` and these are its
   shards, else a re-read. */
static sl_status verify(sl_comm *comm, const sl_array *arr, const sl_dataset *d,
                        const args *a, const char **how, sl_error *err) {
  uint64_t seed = 0;
  int have = sl_comm_rank(comm) == 0 ? meta_pattern(a->path, d, &seed, err) : 0;
  /* every rank must take the same branch: rank 0 decides */
  sl_status st = sl_comm_agree(comm, have < 0 ? SL_EFORMAT : SL_OK, err);
  if (st != SL_OK) return st;
  int64_t flag = have;
  sl_comm_bcast(comm, &flag, sizeof flag, err);
  sl_comm_bcast(comm, &seed, sizeof seed, err);
  *how = flag ? "pattern" : "reread";
  return flag ? sl_array_verify_pattern(comm, arr, seed, err)
              : sl_array_verify_reread(comm, arr, d, err);
}

/* A step of the read failed (the same error on every rank): --trace still
   writes the timeline of what ran, which is when it helps most, and the
   step's error is the one reported (its exit code too). */
static int failed(sl_comm *comm, const args *a, const sl_trace *t, const sl_error *err) {
  sl_error terr = {0};
  sl_status ts = SL_OK;
  if (a->trace) {
    live_phase(a, "writing the trace");
    ts = sl_trace_write(comm, t, a->trace, &terr);
  }
  live_clear(a);
  int rc = data_error(err);
  if (ts != SL_OK)
    say(stderr, "shardload: the trace was not written: %s\n", terr.message);
  return rc;
}

static int finish_read(sl_comm *comm, args *a, sl_dataset *d, sl_array *arr,
                       const sl_read_stats *stats, const sl_trace *t, double open_s,
                       double load_s) {
  sl_error err = {0};
  const char *verified = NULL;
  int P = sl_comm_size(comm);
  rank_report mine = local_report(arr, d, stats), *all = calloc((size_t)P, sizeof *all);
  sl_status st = all ? SL_OK : SL_ENOMEM;
  if (sl_comm_agree(comm, st, &err) != SL_OK) {
    free(all);
    return failed(comm, a, t, &err);
  }
  sl_comm_gather(comm, &mine, sizeof mine, all, &err);
  if (a->verify) {
    live_phase(a, "verifying");
    st = verify(comm, arr, d, a, &verified, &err);
  }
  if (st == SL_OK && a->output) {
    live_phase(a, "writing the output file");
    st = sl_array_write_npy(comm, arr, a->output, &err);
  }
  if (st != SL_OK) {
    free(all);
    return failed(comm, a, t, &err);
  }
  if (a->trace) {
    live_phase(a, "writing the trace");
    st = sl_trace_write(comm, t, a->trace, &err);
  }
  live_clear(a);
  if (st == SL_OK && a->json) report_json(all, P, d, a, open_s, load_s, verified);
  else if (st == SL_OK) report_text(all, P, d, a, open_s, load_s, verified);
  free(all);
  return st == SL_OK ? 0 : data_error(&err);
}

/* The dataset of the PATHs (and of --list's lines, which rank 0 reads),
   then the options given checked against its format. @return 0 or an
   exit code, the same on every rank. */
int open_dataset(sl_comm *comm, args *a, sl_dataset **d) {
  sl_error err = {0};
  *d = NULL;
  int rc = sl_comm_rank(comm) == 0 ? read_list(a, &err) : 0;
  if (sl_comm_agree(comm, rc == 0 ? SL_OK : err.code, &err) != SL_OK) return data_error(&err);
  if (sl_dataset_open_paths(comm, a->paths, a->npaths, &a->open, d, &err) != SL_OK)
    return data_error(&err);
  rc = check_format_options(a, sl_dataset_format(*d));
  if (rc != 0) {
    sl_dataset_free(*d);
    *d = NULL;
  }
  return rc;
}

/* path's directory (stat: by device and inode) and its name in it; false
   when path names no entry ("x/", ".") or its directory cannot be seen. */
static bool entry_of(const char *path, struct stat *dir, const char **name) {
  const char *slash = strrchr(path, '/');
  *name = slash ? slash + 1 : path;
  if (**name == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0) return false;
  char *d = slash == NULL ? strdup(".")
            : slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
  bool ok = d != NULL && stat(d, dir) == 0;
  free(d);
  return ok;
}

/* Whether writing a replaces b: the same name in the same directory
   however spelt ("./o.npy", "o.npy", a linked directory), or one file
   under both names, before anything is written. */
static bool same_file(const char *a, const char *b) {
  struct stat sa, sb;
  const char *na, *nb;
  if (stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
      sa.st_ino == sb.st_ino)
    return true;
  return entry_of(a, &sa, &na) && entry_of(b, &sb, &nb) && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino && strcmp(na, nb) == 0;
}

/* The files a read writes (--output, --trace) against each other and
   against --list's file: a usage error naming both. */
static sl_status check_apart(const args *a, sl_error *err) {
  const char *list = a->list && strcmp(a->list, "-") != 0 ? a->list : NULL;
  const struct {
    const char *path, *flag, *other, *other_flag;
  } pairs[] = {{a->trace, "--trace", a->output, "--output"},
               {a->trace, "--trace", list, "--list"},
               {a->output, "--output", list, "--list"}};
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
    if (pairs[i].path && pairs[i].other && same_file(pairs[i].path, pairs[i].other)) {
      snprintf(err->message, sizeof err->message, "%s: %s names the %s file %s",
               pairs[i].path, pairs[i].flag, pairs[i].other_flag, pairs[i].other);
      return err->code = SL_EINVAL;
    }
  return SL_OK;
}

/* --output and --trace: refused onto an input, onto anything but a regular
   file, onto each other or --list's file, before the load (rank 0 looks,
   every rank agrees). */
static int check_outputs(sl_comm *comm, const args *a, const sl_dataset *d) {
  sl_error err = {0};
  sl_status st = SL_OK;
  if (sl_comm_rank(comm) == 0 && a->output) st = sl_dataset_check_output(d, a->output, &err);
  if (sl_comm_rank(comm) == 0 && st == SL_OK && a->trace)
    st = sl_dataset_check_output(d, a->trace, &err);
  if (sl_comm_rank(comm) == 0 && st == SL_OK) st = check_apart(a, &err);
  return sl_comm_agree(comm, st, &err) == SL_OK ? 0 : data_error(&err);
}

/* The load, with the live line when it is shown. */
static sl_status load(sl_comm *comm, const sl_dataset *d, args *a, sl_array **arr,
                      sl_read_stats *stats, sl_error *err) {
  sl_read_options o = a->read;
  if (live_wanted(a) && sl_comm_rank(comm) == 0) o.progress = live_progress;
  const char *ms = getenv("SHARDLOAD_PROGRESS_MS"); /* tests: updates more often */
  if (ms != NULL && *ms != '\0') o.progress_ms = atoi(ms);
  live_phase(a, "loading");
  test_hook_after_open(comm);
  return sl_load(comm, d, &o, arr, stats, err);
}

static int read_traced(sl_comm *comm, args *a, const sl_trace *t) {
  sl_error err = {0};
  sl_dataset *d;
  live_phase(a, "discovering shards");
  double t0 = now();
  int rc = open_dataset(comm, a, &d);
  if (rc == 0) rc = check_outputs(comm, a, d);
  if (rc != 0) {
    live_clear(a);
    sl_dataset_free(d);
    return rc;
  }
  double t1 = now();
  sl_array *arr;
  sl_read_stats stats;
  sl_read_stats_init(&stats);
  if (load(comm, d, a, &arr, &stats, &err) != SL_OK) {
    sl_dataset_free(d);
    return failed(comm, a, t, &err);
  }
  rc = finish_read(comm, a, d, arr, &stats, t, t1 - t0, now() - t1);
  sl_array_free(arr);
  sl_dataset_free(d);
  return rc;
}

int cmd_read(sl_comm *comm, args *a) {
  if (a->trace && a->output && strcmp(a->trace, a->output) == 0)
    return usage_error("--trace and --output name the same file %s", a->trace);
  sl_trace *t = NULL;
  sl_error err = {0};
  sl_status st = a->trace ? sl_trace_new(&t, &err) : SL_OK;
  if (sl_comm_agree(comm, st, &err) != SL_OK) {
    sl_trace_free(t);
    return data_error(&err);
  }
  sl_comm_set_trace(comm, t);
  int rc = read_traced(comm, a, t);
  sl_comm_set_trace(comm, NULL);
  sl_trace_free(t);
  return rc;
}
