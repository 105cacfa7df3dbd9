/* Shared by the files of the command-line tool (not part of the library). */
#ifndef SHARDLOAD_CLI_H
#define SHARDLOAD_CLI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "shardload.h"

enum { EXIT_DATA = 1, EXIT_USAGE = 2 };

#define META_NAME "_meta.json"

enum { PROGRESS_NEVER = 0, PROGRESS_AUTO = 1, PROGRESS_ALWAYS = 2 };
#define MAX_OPTIONS 64

typedef struct args {
  const char *cmd;
  const char **paths;  /* the PATH arguments, then (rank 0) --list's lines */
  size_t npaths, owned_from; /* paths[owned_from..] are strdup'd (--list) */
  bool listed;         /* read_list ran: paths[owned_from..] are ours to free */
  const char *path;    /* paths[0]: the dataset as messages and reports name it */
  const char *list, *shard_dir, *trace;
  sl_open_options open;
  sl_read_options read;
  const char *output, *shape, *dtype_name;
  int64_t num_shards;
  uint64_t seed;
  int progress;        /* PROGRESS_* */
  bool verify, json, force, have_seed;
  bool seen[MAX_OPTIONS]; /* which options were given (cli_args.c's table) */
} args;

/* cli_args.c: @return 0, or the exit code of a usage error (printed). */
int parse_args(int argc, char **argv, args *a);
/* The index of the "--" that ends the options (argc if none): what follows
   is PATHs. The parser and every look ahead of it (--json, --help,
   --version) stop there. */
int options_end(int argc, char **argv);
/* Whether the option name (a flag: "--json") is given as an option: not an
   option's value, not after the "--" that ends them. */
bool has_option(int argc, char **argv, const char *name);
/* Whether --help (or -h) is asked for; *cmd the command named, if any. */
bool wants_help(int argc, char **argv, const char **cmd);
/* The help of cmd (NULL: every command) on standard output. */
void print_help(const char *cmd);
/* 0, or the usage error for an option of other formats than format. */
int check_format_options(const args *a, const char *format);
/* Appends --list's paths (this process reads it); 0 or an exit code, err set. */
int read_list(args *a, sl_error *err);

typedef struct choice {
  const char *name;
  int value;
} choice;

extern const choice variants[], io_modes[], partitions[], gds_modes[];
extern int rank0; /* 1 on the rank that prints */
extern const char *help_topic; /* the command whose help usage errors point to */

void say(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* msg with the library's option names ("option columns") as the flags
   that set them ("--columns"). */
void with_flags(const char *msg, char *out, size_t cap);
/* Prints the error (rank 0) and @return its exit code. */
int data_error(const sl_error *e);
/* Tests only: SHARDLOAD_TEST_AFTER_OPEN runs on rank 0 between discovery and
   the load, every rank waiting for it. */
void test_hook_after_open(sl_comm *comm);
const char *name_of(const choice *c, int v);
void shape_text(const int64_t *s, int n, char *buf, size_t cap);
double now(void);
char *join(const char *dir, const char *name);
enum { JSON_OK = 0, JSON_MISSING = -1, JSON_BAD = -2 };
/* The whole file parsed: JSON_OK; JSON_MISSING; or JSON_BAD, err naming it. */
int read_json(const char *path, cJSON **out, sl_error *err);
cJSON *seed_json(uint64_t seed);
bool seed_of(const cJSON *s, uint64_t *seed);
/* 1: --verify can check d against the pattern of the seed in PATH's
   _meta.json (write made exactly these shards); 0: it cannot; -1: the
   sidecar is there but unreadable (err). */
int meta_pattern(const char *path, const sl_dataset *d, uint64_t *seed, sl_error *err);
/* Async-signal-safe: removes a half-done write's staging directory. */
void remove_staging(void);
/* While on, SIGINT/SIGTERM/SIGHUP wait (a write's shards being moved into
   place and _meta.json written); off delivers one that came meanwhile. */
void defer_signals(bool on);

/* --json: every outcome is one JSON object on standard output, failures
   too (json_out is set before the options are parsed, so that a usage
   error is one). The version of the report's keys: */
#define JSON_SCHEMA 1
extern bool json_out;
/* Whether a JSON object has been printed (there is only ever one). */
extern bool json_said;
/* The group the command runs on, once made (whose failed rank errors name). */
extern sl_comm *the_comm;

/* cli_live.c: --progress. */
/* Whether the live line is shown (rank 0 prints it). */
bool live_wanted(const args *a);
/* The phase, on the live line. */
void live_phase(const args *a, const char *what);
void live_clear(const args *a);
/* The library's progress callback: the line during the load, and the
   summary line at its end. */
void live_progress(const sl_progress *p, void *user);
/* bytes as "100 B", "12.5 KiB", "3.0 MiB" or "2.0 GiB". */
void size_text(int64_t bytes, char *buf, size_t cap);

/* cli_read.c: the dataset of a's PATHs, its format's options checked;
   0 or an exit code (the same on every rank). */
int open_dataset(sl_comm *comm, args *a, sl_dataset **d);
void print_dataset_json(const sl_dataset *d, const char *path, cJSON *j);
/* j on standard output (rank 0), made valid UTF-8: any byte of a path or
   message that is not is printed as U+FFFD. */
void print_json(cJSON *j);
/* A success's object, with the keys every one begins with: ok, version, schema. */
cJSON *json_report(void);
/* cli_inspect.c: "PATH: 3 hdf5 shards in 1 file, shape (..) <f4, 1.5 MiB" (the
   files only where they are fewer than the shards; the size in B to PiB). */
void describe(const sl_dataset *d, const char *path, char *buf, size_t cap);

int cmd_demo(sl_comm *comm, args *a);
int cmd_write(sl_comm *comm, args *a);
int cmd_clean(sl_comm *comm, args *a);
int cmd_inspect(sl_comm *comm, args *a);
int cmd_read(sl_comm *comm, args *a);

#endif
