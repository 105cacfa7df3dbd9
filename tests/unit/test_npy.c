/* The npy header parser and driver: versions, dtypes, byte order, Fortran
   order, and every malformed header named with file and reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_test.h"

extern const sl_driver sl__npy_driver;

/* Probes dir/name; the caller releases p and frees p->s.path. */
static sl_status probe(const char *name, tshard *p) {
  tshard_init(p, &sl__npy_driver);
  return tshard_probe(p, path_in(dir, name), NULL);
}

static void done(tshard *p) {
  tshard_release(p);
  free((char *)p->s.path);
}

static void expect_error(const char *name, const char *phrase) {
  tshard p;
  sl_status st = probe(name, &p);
  assert_int_equal(st, SL_EFORMAT);
  assert_non_null(strstr(p.err.message, name));
  if (strstr(p.err.message, phrase) == NULL) fail_msg("'%s' lacks '%s'", p.err.message, phrase);
  assert_null(strchr(p.err.message, '\n'));
  done(&p);
}

static void test_npy_reads_versions_1_2_3(void **state) {
  (void)state;
  const char *d = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
  for (int v = 1; v <= 3; v++) {
    char name[32];
    sprintf(name, "v%d.npy", v);
    write_npy_raw(dir, name, v, d, 24);
    tshard p;
    assert_int_equal(probe(name, &p), SL_OK);
    assert_int_equal(p.info.dtype, SL_FLOAT32);
    assert_int_equal(p.info.ndim, 2);
    assert_int_equal(p.info.shape[0], 3);
    assert_int_equal(p.info.shape[1], 2);
    assert_int_equal(p.s.rows, 3);
    assert_int_equal(p.s.swap, 0);
    done(&p);
  }
}

static void test_npy_big_endian_sets_swap(void **state) {
  (void)state;
  write_npy_raw(dir, "be.npy", 1, "{'descr': '>i8', 'fortran_order': False, 'shape': (2,), }", 16);
  tshard p;
  assert_int_equal(probe("be.npy", &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_INT64);
  assert_int_equal(p.s.swap, 1);
  done(&p);
}

static void test_npy_rejects_bad_magic(void **state) {
  (void)state;
  write_bytes(dir, "csv.npy", "a,b\n1,2\n", 8);
  expect_error("csv.npy", "no \\x93NUMPY magic");
}

static void test_npy_rejects_unparsable_header(void **state) {
  (void)state;
  write_npy_raw(dir, "junk.npy", 1, "{'descr': '<f4', 'fortran_order': Fals", 0);
  expect_error("junk.npy", "does not parse");
  write_npy_raw(dir, "junk2.npy", 1, "\x01\x02garbage", 0);
  expect_error("junk2.npy", "does not parse");
}

static void test_npy_rejects_object_and_structured_dtypes(void **state) {
  (void)state;
  write_npy_raw(dir, "obj.npy", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16);
  expect_error("obj.npy", "Python objects");
  write_npy_raw(dir, "rec.npy", 1,
                "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8);
  expect_error("rec.npy", "structured");
  write_npy_raw(dir, "str.npy", 1, "{'descr': '<U4', 'fortran_order': False, 'shape': (2,), }", 32);
  expect_error("str.npy", "not supported");
}

static void test_npy_rejects_0d(void **state) {
  (void)state;
  write_npy_raw(dir, "scalar.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8);
  expect_error("scalar.npy", "0-d array");
}

static void test_npy_rejects_truncated_data(void **state) {
  (void)state;
  write_npy_raw(dir, "short.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (40, 6), }",
                836);
  expect_error("short.npy", "header promises");
}

static void test_npy_rejects_overflowing_shape(void **state) {
  (void)state;
  write_npy_raw(dir, "huge.npy", 1,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", 8);
  expect_error("huge.npy", "overflows");
  write_npy_raw(dir, "huge2.npy", 1,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", 8);
  expect_error("huge2.npy", "overflows");
}

static void test_npy_rejects_header_length_past_end(void **state) {
  (void)state;
  unsigned char b[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0};
  write_bytes(dir, "hlen.npy", b, sizeof b);
  expect_error("hlen.npy", "exceeds the limit");
  unsigned char c[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xff, 0x7f, '{'};
  write_bytes(dir, "hlen2.npy", c, sizeof c);
  expect_error("hlen2.npy", "file ends");
  unsigned char v[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 9, 0, 0, 0};
  write_bytes(dir, "v9.npy", v, sizeof v);
  expect_error("v9.npy", "version 9.0");
}

/* (R, 2, 3) in Fortran order: element (r, i, j) is at r + R*(i + 2*j). */
static void test_npy_fortran_order_reads_c_order(void **state) {
  (void)state;
  const int R = 5, I = 2, J = 3;
  write_npy_raw(dir, "f.npy", 1, "{'descr': '<i4', 'fortran_order': True, 'shape': (5, 2, 3), }", 0);
  char *p = path_in(dir, "f.npy");
  FILE *f = fopen(p, "r+b");
  fseek(f, 0, SEEK_END);
  for (int j = 0; j < J; j++)
    for (int i = 0; i < I; i++)
      for (int r = 0; r < R; r++) {
        int32_t v = r * 100 + i * 10 + j;
        fwrite(&v, 4, 1, f);
      }
  fclose(f);
  tshard t;
  sl_error err = {0};
  assert_int_equal(probe("f.npy", &t), SL_OK);
  size_t n = 1;
  sl_extent ex;
  assert_int_equal(tshard_extents(&t, 0, 5, &ex, &n, &err), SL_OK);
  assert_int_equal(n, 0); /* Fortran order must be decoded */
  int32_t out[3 * 6];
  assert_int_equal(tshard_read(&t, 1, 4, out, &err), SL_OK);
  for (int r = 1; r < 4; r++)
    for (int i = 0; i < I; i++)
      for (int j = 0; j < J; j++) assert_int_equal(out[(r - 1) * 6 + i * 3 + j], r * 100 + i * 10 + j);
  free(p);
  done(&t);
}

/* The header writer's output parses, from memory, with the same code. */
static void test_npy_header_parses_from_memory(void **state) {
  (void)state;
  char buf[256];
  size_t hl;
  int64_t shape[] = {4, 3};
  sl_error err = {0};
  assert_int_equal(sl__npy_header(SL_UINT16, 2, shape, buf, sizeof buf, &hl, &err), SL_OK);
  assert_int_equal(hl % 64, 0);
  memset(buf + hl, 0, 24);
  tshard p;
  tshard_init(&p, &sl__npy_driver);
  assert_int_equal(tshard_probe_mem(&p, "<buffer>", buf, hl + 24), SL_OK);
  assert_int_equal(p.info.dtype, SL_UINT16);
  assert_int_equal(p.info.shape[1], 3);
  tshard_release(&p);
  tshard_init(&p, &sl__npy_driver);
  assert_int_equal(tshard_probe_mem(&p, "<buffer>", buf, hl + 23), SL_EFORMAT);
  tshard_release(&p);
}

/* open reads the header again and says what it found: the library holds
   that against discovery. A header moved (same dtype and shape, longer
   padding) is a changed file too. */
static void test_npy_open_rereads_the_header(void **state) {
  (void)state;
  const char *d4 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
  write_npy_raw(dir, "again.npy", 1, d4, 24);
  tshard p;
  sl_error err = {0};
  assert_int_equal(probe("again.npy", &p), SL_OK);
  write_npy_raw(dir, "again.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
                96);
  void *h = NULL;
  sl_shard_info info = {0};
  sl__source_close(&p.src);
  assert_int_equal(sl__source_open(&p.src, p.s.path, &err), SL_OK);
  assert_int_equal(sl__npy_driver.open(NULL, &p.s, &p.src, &h, &info, &err), SL_OK);
  assert_int_equal(info.dtype, SL_FLOAT64);
  assert_int_equal(info.shape[1], 4);
  sl__npy_driver.close(h);
  char pad[300];
  snprintf(pad, sizeof pad, "%s%200s", d4, "");
  write_npy_raw(dir, "again.npy", 1, pad, 24);
  sl__source_close(&p.src);
  assert_int_equal(sl__source_open(&p.src, p.s.path, &err), SL_OK);
  assert_int_equal(sl__npy_driver.open(NULL, &p.s, &p.src, &h, &info, &err), SL_ECHANGED);
  assert_non_null(strstr(err.message, "changed since the dataset was opened"));
  done(&p);
}

/* Inspect: version, order, byte order, where the data starts and the read
   path that order chooses. */
static void test_npy_inspect_header_facts_and_read_path(void **state) {
  (void)state;
  write_npy_raw(dir, "i2.npy", 2, "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", 48);
  write_npy_raw(dir, "if.npy", 1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", 24);
  tshard p;
  assert_int_equal(probe("i2.npy", &p), SL_OK);
  sl_error err = {0};
  cJSON *j = tshard_account(&p, &err);
  assert_non_null(j);
  assert_string_equal(jstr(j, "read_path"), "direct");
  assert_string_equal(jstr(j, "version"), "2.0");
  assert_string_equal(jstr(j, "order"), "C");
  assert_string_equal(jstr(j, "byte_order"), "big");
  assert_string_equal(jstr(j, "stored"), ">f8");
  assert_int_equal((int64_t)jnum(j, "data_offset"), (int64_t)p.s.param[0]);
  assert_int_equal((int64_t)jnum(j, "data_offset") % 64, 0);
  cJSON_Delete(j);
  done(&p);
  assert_int_equal(probe("if.npy", &p), SL_OK);
  j = tshard_account(&p, &err);
  assert_non_null(j);
  assert_string_equal(jstr(j, "read_path"), "decoded");
  assert_string_equal(jstr(j, "order"), "F");
  assert_string_equal(jstr(j, "version"), "1.0");
  cJSON_Delete(j);
  done(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_npy_reads_versions_1_2_3),
      cmocka_unit_test(test_npy_big_endian_sets_swap),
      cmocka_unit_test(test_npy_rejects_bad_magic),
      cmocka_unit_test(test_npy_rejects_unparsable_header),
      cmocka_unit_test(test_npy_rejects_object_and_structured_dtypes),
      cmocka_unit_test(test_npy_rejects_0d),
      cmocka_unit_test(test_npy_rejects_truncated_data),
      cmocka_unit_test(test_npy_rejects_overflowing_shape),
      cmocka_unit_test(test_npy_rejects_header_length_past_end),
      cmocka_unit_test(test_npy_fortran_order_reads_c_order),
      cmocka_unit_test(test_npy_header_parses_from_memory),
      cmocka_unit_test(test_npy_open_rereads_the_header),
      cmocka_unit_test(test_npy_inspect_header_facts_and_read_path),
  };
  return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
