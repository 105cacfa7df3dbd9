/* The trace recorder (base/trace.c) and what a read counts (bytes by path):
   threads recording at once each into their own buffer, every span kept
   and rendered once with its thread's id; names escaped into valid JSON;
   a read's piece spans covering exactly the rows read; the stats' bytes by
   path adding up to the bytes read; sl_trace_write on one process. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_test.h"

static sl_dataset *ds;
static const int64_t rows[] = {70000, 0, 123457, 5, 99999, 1};

static int setup(void **state) {
  const int64_t trailing[] = {3};
  if (tmpdir_setup(state) != 0 ||
      write_pattern_shards(dir, SL_FLOAT32, 5, 1, trailing, rows, SL_ARRAY_LEN(rows)) != 0)
    return -1;
  sl_error err = {0};
  return sl__discover(dir, NULL, &ds, &err) == SL_OK ? 0 : -1;
}

static int teardown(void **state) {
  sl_dataset_free(ds);
  return tmpdir_teardown(state);
}

/* The next what in text, or NULL. Not strstr: the sanitizers' strstr
   measures the whole rest of the text at every call (minutes on 2 MB). */
static const char *find(const char *p, const char *what) {
  size_t k = strlen(what);
  for (; *p; p++)
    if (*p == what[0] && strncmp(p, what, k) == 0) return p;
  return NULL;
}

static size_t count_of(const char *text, const char *what) {
  size_t n = 0;
  for (const char *p = text; (p = find(p, what)) != NULL; p += strlen(what)) n++;
  return n;
}

/* The sum of every "key":N in text. */
static int64_t sum_of(const char *text, const char *key) {
  int64_t sum = 0;
  for (const char *p = text; (p = find(p, key)) != NULL; p += strlen(key))
    sum += strtoll(p + strlen(key), NULL, 10);
  return sum;
}

static char *render(const sl_trace *t) {
  char *out = NULL;
  size_t n = 0;
  sl_error err = {0};
  assert_int_equal(sl__trace_render(t, 3, 0, &out, &n, &err), SL_OK);
  char *z = malloc(n + 1);
  memcpy(z, out, n);
  z[n] = '\0';
  sl__free(out);
  return z;
}

/* ------------------------------------------------------------ threads */

#define THREADS 4
#define SPANS 3000

typedef struct rec_arg {
  sl_trace *t;
  int k;
} rec_arg;

static void *recorder(void *p) {
  const rec_arg *a = p;
  int64_t by[SL_PATH_COUNT] = {0};
  by[SL_PATH_BUFFERED] = 100;
  for (int i = 0; i < SPANS; i++) {
    int64_t t0 = sl__now_ns();
    /* row_lo encodes the thread, so each span's owner can be checked */
    sl_trace_piece pc = {"f.npy", a->k, a->k * 1000000 + i, a->k * 1000000 + i + 1, by, 0};
    sl__trace_piece_span(a->t, t0, &pc);
    if (i % 100 == 0) sl_trace_span(a->t, "user span", t0);
  }
  return NULL;
}

static void test_trace_threads_record_without_losing_spans(void **state) {
  (void)state;
  sl_trace *t;
  sl_error err = {0};
  assert_int_equal(sl_trace_new(&t, &err), SL_OK);
  sl__trace_phase(t, "read", sl__now_ns()); /* the creating thread: "main" */
  pthread_t th[THREADS];
  rec_arg args[THREADS];
  for (int k = 0; k < THREADS; k++) {
    args[k] = (rec_arg){t, k + 1};
    assert_int_equal(pthread_create(&th[k], NULL, recorder, &args[k]), 0);
  }
  for (int k = 0; k < THREADS; k++) pthread_join(th[k], NULL);
  int64_t want = 1 + THREADS * (SPANS + SPANS / 100);
  assert_int_equal(sl_trace_count(t), want);
  char *j = render(t);
  assert_int_equal(count_of(j, "\"ph\":\"X\""), (size_t)want);
  assert_int_equal(count_of(j, "\"name\":\"thread_name\""), THREADS + 1);
  assert_int_equal(count_of(j, "\"args\":{\"name\":\"main\"}"), 1);
  assert_int_equal(count_of(j, "\"name\":\"process_name\""), 1);
  assert_non_null(strstr(j, "\"name\":\"rank 3 ("));
  assert_int_equal(sum_of(j, "\"rows\":"), THREADS * SPANS);
  assert_int_equal(sum_of(j, "\"bytes\":"), THREADS * SPANS * 100);
  /* each piece span sits on one tid, the same for all of a thread's spans */
  for (int k = 1; k <= THREADS; k++) {
    char key[64];
    snprintf(key, sizeof key, "\"row_lo\":%d,", k * 1000000 + 7);
    const char *p = find(j, key);
    assert_non_null(p);
    const char *start = p;
    while (start > j && strncmp(start, "{\"name\":\"piece\"", 15) != 0) start--;
    int tid = atoi(find(start, "\"tid\":") + 6);
    char mine[64];
    snprintf(mine, sizeof mine, "\"tid\":%d,\"args\":{\"file\"", tid);
    assert_int_equal(count_of(j, mine), SPANS);
  }
  free(j);
  sl_trace_free(t);
}

/* ------------------------------------------------------------ escaping */

static void test_trace_names_become_valid_json(void **state) {
  (void)state;
  sl_trace *t;
  sl_error err = {0};
  assert_int_equal(sl_trace_new(&t, &err), SL_OK);
  int64_t by[SL_PATH_COUNT] = {0};
  by[SL_PATH_DIRECT] = 4096;
  by[SL_PATH_CACHED] = 10;
  sl_trace_piece pc = {"a\"b\\c\nd\xff\xc3\xa9.npy", 0, 0, 1, by, 0};
  sl__trace_piece_span(t, sl__now_ns(), &pc);
  sl_trace_span(t, "tab\there", sl__now_ns());
  char *j = render(t);
  assert_non_null(strstr(j, "\"file\":\"a\\\"b\\\\c\\u000ad\\ufffd\xc3\xa9.npy\""));
  assert_non_null(strstr(j, "\"name\":\"tab\\u0009here\""));
  assert_non_null(strstr(j, "\"path\":\"mixed\",\"bytes_direct\":4096,\"bytes_cached\":10"));
  assert_int_equal(sum_of(j, "\"bytes\":"), 4106);
  free(j);
  sl_trace_free(t);
  sl_trace_span(NULL, "nothing", 0);       /* no recorder: nothing, no crash */
  sl__trace_phase(NULL, "nothing", 0);
  assert_int_equal(sl_trace_count(NULL), 0);
  j = render(NULL);
  assert_int_equal(count_of(j, "\"ph\":\"X\""), 0);
  assert_int_equal(count_of(j, "process_name"), 1);
  free(j);
  sl_trace_free(NULL);
}

/* ------------------------------------------------------------ a read */

static void read_traced(sl_variant v, sl_io_mode io, int64_t lo, int64_t hi) {
  sl_trace *t;
  sl_error err = {0};
  assert_int_equal(sl_trace_new(&t, &err), SL_OK);
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = v;
  o.io = io;
  o.threads = v == SL_VARIANT_OMP ? 3 : 0;
  o.chunk_bytes = 64 << 10; /* many pieces */
  o.trace = t;
  sl_read_stats st;
  sl_read_stats_init(&st);
  char *buf = malloc((size_t)((hi - lo) * 12) + 1);
  assert_int_equal(sl_dataset_read_rows(ds, lo, hi, buf, &o, &st, &err), SL_OK);
  char *j = render(t);
  assert_int_equal(sum_of(j, "\"rows\":"), hi - lo);
  assert_int_equal(sum_of(j, "\"bytes\":"), (hi - lo) * 12);
  assert_int_equal(st.bytes_direct + st.bytes_cached + st.bytes_buffered + st.bytes_mapped +
                       st.bytes_decoded, st.bytes);
  if (io == SL_IO_BUFFERED) assert_int_equal(st.bytes_buffered, st.bytes);
  if (io == SL_IO_AUTO) assert_int_equal(st.bytes_direct + st.bytes_cached + st.bytes_buffered,
                                         st.bytes);
  free(j);
  free(buf);
  sl_trace_free(t);
}

static void test_trace_pieces_cover_the_rows_read(void **state) {
  (void)state;
  int64_t N = ds->shape[0];
  read_traced(SL_VARIANT_CPU, SL_IO_BUFFERED, 0, N);
  read_traced(SL_VARIANT_CPU, SL_IO_AUTO, 17, N - 3);
  read_traced(SL_VARIANT_CPU, SL_IO_DIRECT, 1000, N - 1000);
  if (!have_omp()) {
    print_message("SKIPPED (omp part): the omp variant is not in this build\n");
    return;
  }
  read_traced(SL_VARIANT_OMP, SL_IO_BUFFERED, 0, N);
  read_traced(SL_VARIANT_OMP, SL_IO_DIRECT, 5, N);
}

/* A small read (variant auto) takes the gather's path: mapped copies. */
static void test_stats_small_reads_count_their_path(void **state) {
  (void)state;
  sl_read_stats st;
  sl_read_stats_init(&st);
  sl_error err = {0};
  char buf[1200];
  assert_int_equal(sl_dataset_read_rows(ds, 69990, 70090, buf, NULL, &st, &err), SL_OK);
  assert_int_equal(st.bytes, 1200);
  assert_int_equal(st.bytes_mapped + st.bytes_buffered, 1200);
}

/* Small reads (the gather's mapped copies) and gathers leave piece spans
   whose rows add up to the distinct rows read, like a whole read's. */
static void test_trace_small_reads_and_gathers_have_pieces(void **state) {
  (void)state;
  sl_trace *t;
  sl_error err = {0};
  assert_int_equal(sl_trace_new(&t, &err), SL_OK);
  sl_read_options o;
  sl_read_options_init(&o);
  o.trace = t;
  char buf[1200];
  assert_int_equal(sl_dataset_read_rows(ds, 69990, 70090, buf, &o, NULL, &err), SL_OK);
  char *j = render(t);
  assert_int_equal(sum_of(j, "\"rows\":"), 100);
  assert_int_equal(sum_of(j, "\"bytes\":"), 1200);
  free(j);
  sl_trace_free(t);

  assert_int_equal(sl_trace_new(&t, &err), SL_OK);
  o.trace = t;
  const int64_t pick[] = {5, 70001, 150000, 5, 200000, 293461}; /* far apart */
  char out[SL_ARRAY_LEN(pick) * 12];
  assert_int_equal(sl_dataset_gather_rows(ds, pick, SL_ARRAY_LEN(pick), out, &o, NULL, &err),
                   SL_OK);
  j = render(t);
  assert_int_equal(sum_of(j, "\"rows\":"), 5); /* 5 asked twice, read once */
  assert_int_equal(sum_of(j, "\"bytes\":"), 5 * 12);
  free(j);
  sl_trace_free(t);
}

/* ------------------------------------------------------------ writing */

static void test_trace_write_one_process(void **state) {
  (void)state;
  sl_trace *t;
  sl_error err = {0};
  assert_int_equal(sl_trace_new(&t, &err), SL_OK);
  sl_trace_span(t, "one", sl_trace_clock());
  char *p = path_in(dir, "t.json");
  assert_int_equal(sl_trace_write(NULL, t, p, &err), SL_OK);
  FILE *f = fopen(p, "r");
  char text[8192] = {0};
  assert_true(fread(text, 1, sizeof text - 1, f) > 0);
  fclose(f);
  const char head[] = "{\"traceEvents\":[\n{\"name\":\"process_name\"";
  assert_int_equal(strncmp(text, head, sizeof head - 1), 0);
  assert_non_null(strstr(text, "\"name\":\"one\",\"cat\":\"user\",\"ph\":\"X\",\"ts\":0.000,"));
  assert_non_null(strstr(text, "\"otherData\":{\"tool\":\"shardload\""));
  /* a directory under the name is refused, and nothing is left */
  char *d = path_in(dir, "adir.json");
  assert_int_equal(mkdir(d, 0755), 0);
  assert_int_equal(sl_trace_write(NULL, t, d, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "adir.json"));
  free(d);
  free(p);
  sl_trace_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_trace_threads_record_without_losing_spans),
      cmocka_unit_test(test_trace_names_become_valid_json),
      cmocka_unit_test(test_trace_pieces_cover_the_rows_read),
      cmocka_unit_test(test_stats_small_reads_count_their_path),
      cmocka_unit_test(test_trace_small_reads_and_gathers_have_pieces),
      cmocka_unit_test(test_trace_write_one_process),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
