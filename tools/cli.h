/* Shared by the files of the command-line tool (not part of the library). */
#ifndef SHARDLOAD_CLI_H
#define SHARDLOAD_CLI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "shardload.h"

enum { EXIT_DATA = 1, EXIT_USAGE = 2 };

#define META_NAME "_meta.json"

typedef struct args {
  const char *cmd, *path;
  sl_open_options open;
  sl_read_options read;
  const char *output, *shape, *dtype_name;
  int64_t num_shards;
  uint64_t seed;
  bool verify, json, progress, force, have_seed;
} args;

typedef struct choice {
  const char *name;
  int value;
} choice;

extern const choice variants[], io_modes[], partitions[], gds_modes[];
extern int rank0; /* 1 on the rank that prints */

void say(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
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

int cmd_demo(sl_comm *comm, args *a);
int cmd_write(sl_comm *comm, args *a);
int cmd_clean(sl_comm *comm, args *a);
int cmd_inspect(sl_comm *comm, args *a);
int cmd_read(sl_comm *comm, args *a);

#endif
