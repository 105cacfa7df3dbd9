/* shardload inspect and read: discovery, the collective load, the per-rank
 * report (rows, shards and files touched, bytes, seconds, GB/s, as in the
 * recipe), optional verification and --output. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
} rank_report;

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

void print_json(cJSON *j) {
  char *t = cJSON_PrintUnformatted(j);
  say(stdout, "%s\n", t ? t : "{}");
  free(t);
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
  return r;
}

static double gbps(int64_t bytes, double s) { return s > 0 ? (double)bytes / s / 1e9 : 0; }

static void report_text(const rank_report *r, int P, const sl_dataset *d, const args *a,
                        double open_s, double load_s) {
  char line[1024];
  describe(d, a->path, line, sizeof line);
  say(stdout, "%s\n", line);
  say(stdout, "%d rank%s, partition %s, variant %s, io %s\n", P, P == 1 ? "" : "s",
      name_of(partitions, a->read.partition), name_of(variants, r[0].variant),
      name_of(io_modes, r[0].io));
  double slowest = 0;
  for (int i = 0; i < P; i++) {
    if (r[i].seconds > slowest) slowest = r[i].seconds;
    if (r[i].hi == r[i].lo) {
      say(stdout, "  rank %d: no rows\n", i);
      continue;
    }
    say(stdout,
        "  rank %d: rows [%lld, %lld) %lld rows, shards %lld..%lld (%lld files), %.1f MiB in "
        "%.3f s (%.2f GB/s), %d thread%s\n",
        i, (long long)r[i].lo, (long long)r[i].hi, (long long)(r[i].hi - r[i].lo),
        (long long)r[i].first_shard, (long long)r[i].last_shard, (long long)r[i].files,
        (double)r[i].bytes / (1 << 20), r[i].seconds, gbps(r[i].bytes, r[i].seconds),
        r[i].threads, r[i].threads == 1 ? "" : "s");
    if (r[i].device >= 0)
      say(stdout, "    device %d (%s, %s), %s\n", r[i].device, r[i].device_name, r[i].device_pci,
          r[i].gds ? "cuFile (GPUDirect Storage)" : "pinned staging");
    if (r[i].note[0]) say(stdout, "    note: %s\n", r[i].note);
  }
  say(stdout, "total: %.1f MiB, read phase %.3f s (%.2f GB/s), discovery %.3f s, load %.3f s\n",
      (double)sl_dataset_nbytes(d) / (1 << 20), slowest, gbps(sl_dataset_nbytes(d), slowest),
      open_s, load_s);
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

static void report_json(const rank_report *r, int P, const sl_dataset *d, const args *a,
                        double open_s, double load_s, const char *verified) {
  cJSON *j = cJSON_CreateObject(), *ranks = cJSON_CreateArray();
  print_dataset_json(d, a->path, j);
  double slowest = 0;
  int64_t probed = 0;
  for (int i = 0; i < P; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "rank", i);
    cJSON_AddNumberToObject(o, "row_lo", (double)r[i].lo);
    cJSON_AddNumberToObject(o, "row_hi", (double)r[i].hi);
    cJSON_AddNumberToObject(o, "rows", (double)(r[i].hi - r[i].lo));
    cJSON_AddNumberToObject(o, "first_shard", (double)r[i].first_shard);
    cJSON_AddNumberToObject(o, "last_shard", (double)r[i].last_shard);
    cJSON_AddNumberToObject(o, "files", (double)r[i].files);
    cJSON_AddNumberToObject(o, "files_opened", (double)r[i].files_opened);
    cJSON_AddNumberToObject(o, "open_files_peak", (double)r[i].open_files_peak);
    cJSON_AddNumberToObject(o, "open_files_limit", (double)r[i].open_files_limit);
    cJSON_AddNumberToObject(o, "bytes", (double)r[i].bytes);
    cJSON_AddNumberToObject(o, "seconds", r[i].seconds);
    cJSON_AddNumberToObject(o, "alloc_seconds", r[i].alloc_seconds);
    cJSON_AddNumberToObject(o, "fault_seconds", r[i].fault_seconds);
    cJSON_AddNumberToObject(o, "gbps", gbps(r[i].bytes, r[i].seconds));
    cJSON_AddNumberToObject(o, "threads", r[i].threads);
    add_device_json(o, &r[i]); /* before variant and io, which end the object */
    cJSON_AddStringToObject(o, "variant", name_of(variants, r[i].variant));
    cJSON_AddStringToObject(o, "io", name_of(io_modes, r[i].io));
    cJSON_AddItemToArray(ranks, o);
    slowest = r[i].seconds > slowest ? r[i].seconds : slowest;
    probed += r[i].files_probed;
  }
  cJSON_AddNumberToObject(j, "ranks", P);
  cJSON_AddStringToObject(j, "partition", name_of(partitions, a->read.partition));
  cJSON_AddNumberToObject(j, "files_probed", (double)probed);
  cJSON_AddNumberToObject(j, "seconds", slowest);
  cJSON_AddNumberToObject(j, "gbps", gbps(sl_dataset_nbytes(d), slowest));
  cJSON_AddNumberToObject(j, "open_seconds", open_s);
  cJSON_AddNumberToObject(j, "load_seconds", load_s);
  if (verified) cJSON_AddStringToObject(j, "verify", verified);
  else cJSON_AddNullToObject(j, "verify");
  if (a->output) cJSON_AddStringToObject(j, "output", a->output);
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

static void progress(const args *a, const char *what) {
  if (a->progress) say(stderr, "shardload: %s\n", what);
}

static int finish_read(sl_comm *comm, args *a, sl_dataset *d, sl_array *arr,
                       const sl_read_stats *stats, double open_s, double load_s) {
  sl_error err = {0};
  const char *verified = NULL;
  int P = sl_comm_size(comm);
  rank_report mine = local_report(arr, d, stats), *all = calloc((size_t)P, sizeof *all);
  sl_status st = all ? SL_OK : SL_ENOMEM;
  if (sl_comm_agree(comm, st, &err) != SL_OK) return data_error(&err);
  sl_comm_gather(comm, &mine, sizeof mine, all, &err);
  if (a->verify) {
    progress(a, "verifying");
    st = verify(comm, arr, d, a, &verified, &err);
  }
  if (st == SL_OK && a->output) {
    progress(a, "writing the output file");
    st = sl_array_write_npy(comm, arr, a->output, &err);
  }
  if (st == SL_OK && a->json) report_json(all, P, d, a, open_s, load_s, verified);
  else if (st == SL_OK) report_text(all, P, d, a, open_s, load_s);
  if (st == SL_OK && verified && !a->json) say(stdout, "verify: ok (%s)\n", verified);
  if (st == SL_OK && a->output && !a->json) say(stdout, "output: %s\n", a->output);
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

int cmd_read(sl_comm *comm, args *a) {
  sl_error err = {0};
  sl_dataset *d;
  progress(a, "discovering shards");
  double t0 = now();
  int rc0 = open_dataset(comm, a, &d);
  if (rc0 != 0) return rc0;
  double t1 = now();
  if (a->output != NULL) {
    sl_status st = sl_comm_rank(comm) == 0 ? sl_dataset_check_output(d, a->output, &err) : SL_OK;
    if (sl_comm_agree(comm, st, &err) != SL_OK) {
      sl_dataset_free(d);
      return data_error(&err);
    }
  }
  progress(a, "loading");
  sl_array *arr;
  sl_read_stats stats;
  sl_read_stats_init(&stats);
  test_hook_after_open(comm);
  if (sl_load(comm, d, &a->read, &arr, &stats, &err) != SL_OK) {
    sl_dataset_free(d);
    return data_error(&err);
  }
  int rc = finish_read(comm, a, d, arr, &stats, t1 - t0, now() - t1);
  sl_array_free(arr);
  sl_dataset_free(d);
  return rc;
}
