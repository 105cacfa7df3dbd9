/* A program built against an older copy of the public headers (fewer
   fields in the option and stats structs, fewer slots in sl_driver) and run
   on the current library: it must work, the fields it does not know taking
   their defaults, and the library must neither read nor write past the
   structs it was given. Built against the current headers too, as the
   control. Usage: consumer FIXTURE_DIR TMPDIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shardload.h"
#include "shardload_driver.h"

static int failed;

#define CHECK(cond, ...)                   \
  do {                                     \
    if (!(cond)) {                         \
      fprintf(stderr, "FAIL: " __VA_ARGS__); \
      fprintf(stderr, "\n");               \
      failed = 1;                          \
    }                                      \
  } while (0)

/* Each struct with bytes after it that the library must not touch. */
typedef struct {
  sl_read_stats st;
  unsigned char guard[64];
} guarded_stats;

typedef struct {
  sl_read_options o;
  unsigned char junk[64]; /* as a newer field would be: must not be read */
} padded_options;

static void check_guard(const unsigned char *g, const char *what) {
  for (int i = 0; i < 64; i++)
    if (g[i] != 0xAB) {
      CHECK(0, "%s: the library wrote past the caller's struct", what);
      return;
    }
}

/* A user driver: each file says "ROWS" in text; row r holds r as uint8. */
static sl_status txt_probe(const void *state, const sl_source *src, const char *member,
                           sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)state, (void)member;
  char text[32] = {0};
  size_t got;
  if (sl_source_read_some(src, 0, sizeof text - 1, text, &got, err) != SL_OK) return err->code;
  s->rows = atoll(text);
  if (s->rows <= 0) return sl_error_setf(err, SL_EFORMAT, "%s: no rows", sl_source_path(src));
  info->dtype = SL_UINT8;
  info->ndim = 1;
  info->shape[0] = s->rows;
  return SL_OK;
}

static sl_status txt_read(const sl_shard *s, const void *h, const sl_source *src, int64_t lo,
                          int64_t hi, void *dst, sl_error *err) {
  (void)s, (void)h, (void)src, (void)err;
  for (int64_t r = lo; r < hi; r++) ((uint8_t *)dst)[r - lo] = (uint8_t)r;
  return SL_OK;
}

static const char *const txt_ext[] = {".abitxt", NULL};

/* The table, followed by bytes that would crash the library if it took
   them for slots: it must stop at struct_size. */
static struct {
  sl_driver d;
  void *junk[8];
} txt = {{.abi = SL_DRIVER_ABI, .struct_size = sizeof(sl_driver), .name = "abitxt",
          .extensions = txt_ext, .probe = txt_probe, .read = txt_read},
         {(void *)1, (void *)1, (void *)1, (void *)1, (void *)1, (void *)1, (void *)1,
          (void *)1}};

static void user_driver(const char *tmp) {
  sl_error err;
  CHECK(sl_register_driver(&txt.d, &err) == SL_OK, "register: %s", err.message);
  char path[4096];
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/shard_%04d.abitxt", tmp, i);
    FILE *f = fopen(path, "w");
    fputs(i ? "7" : "5", f);
    fclose(f);
  }
  sl_dataset *ds;
  CHECK(sl_dataset_open(NULL, tmp, NULL, &ds, &err) == SL_OK, "open user dataset: %s",
        err.message);
  if (ds == NULL) return;
  uint8_t got[12];
  CHECK(sl_dataset_read_rows(ds, 0, 12, got, NULL, NULL, &err) == SL_OK, "read: %s",
        err.message);
  for (int r = 0; r < 12; r++) CHECK(got[r] == (r < 5 ? r : r - 5), "user row %d", r);
  sl_dataset_free(ds);
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  sl_error err;
  memset(&err, 0x5a, sizeof err); /* stale contents: every call clears it */
  padded_options po;
  memset(&po, 0xff, sizeof po);
  sl_read_options_init(&po.o);
  memset(po.junk, 0xff, sizeof po.junk);
  po.o.variant = SL_VARIANT_CPU;
  sl_open_options oo;
  sl_open_options_init(&oo);
  sl_dataset *ds;
  CHECK(sl_dataset_open(NULL, argv[1], &oo, &ds, &err) == SL_OK, "open: %s", err.message);
  if (ds == NULL) return 1;
  int64_t shape[SL_MAX_DIMS];
  sl_dataset_shape(ds, shape);
  size_t bytes = (size_t)sl_dataset_nbytes(ds);
  void *all = malloc(bytes);
  guarded_stats gs;
  memset(&gs, 0xAB, sizeof gs);
  sl_read_stats_init(&gs.st);
  CHECK(sl_dataset_read_rows(ds, 0, shape[0], all, &po.o, &gs.st, &err) == SL_OK, "read: %s",
        err.message);
  CHECK(err.code == SL_OK && err.message[0] == '\0', "err not cleared by a call that worked");
  CHECK(gs.st.rows == shape[0], "stats rows %lld, expected %lld", (long long)gs.st.rows,
        (long long)shape[0]);
  check_guard(gs.guard, "sl_dataset_read_rows stats");
  sl_array *a;
  memset(&gs, 0xAB, sizeof gs);
  sl_read_stats_init(&gs.st);
  CHECK(sl_load(NULL, ds, &po.o, &a, &gs.st, &err) == SL_OK, "load: %s", err.message);
  check_guard(gs.guard, "sl_load stats");
  if (a != NULL) {
    CHECK(memcmp(sl_array_local_data(a), all, bytes) == 0, "load differs from read");
    sl_array_free(a);
  }
  sl_dataset_free(ds);
  free(all);
  user_driver(argv[2]);
  if (!failed) printf("abi ok: %lld rows, struct sizes %zu/%zu/%zu, driver %u bytes\n",
                      (long long)shape[0], sizeof(sl_open_options), sizeof(sl_read_options),
                      sizeof(sl_read_stats), (unsigned)sizeof(sl_driver));
  return failed;
}
