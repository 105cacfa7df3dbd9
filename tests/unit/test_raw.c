/* The raw driver: layout from options or from the _meta.json sidecar (and
   options winning field by field), row counting from the file size, byte
   order, every rejection with its exact message, the library path from a
   directory of shards, and allocation failures. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_test.h"

extern const sl_driver sl__raw_driver;

typedef tshard probed;

static sl_status probe(const char *name, const sl_open_options *o, probed *p) {
  tshard_init(p, &sl__raw_driver);
  if (o != NULL) p->o = *o;
  return tshard_probe(p, path_in(dir, name), NULL);
}

static void done(probed *p) {
  tshard_release(p);
  free((char *)p->s.path);
}

/* n bytes of the pattern, after header bytes of 0xEE. */
static void write_pattern(const char *name, size_t header, size_t n) {
  char *b = malloc(header + n + 1);
  memset(b, 0xEE, header);
  sl_pattern_fill(SL_UINT8, 1, 0, (int64_t)n, b + header);
  write_bytes(dir, name, b, header + n);
  free(b);
}

static void write_meta(const char *json) { write_bytes(dir, "_meta.json", json, strlen(json)); }

static void expect_message(const probed *p, sl_status code, const char *fmt) {
  assert_int_equal(p->err.code, code);
  char want[8192];
  snprintf(want, sizeof want, fmt, p->s.path);
  assert_string_equal(p->err.message, want);
}

/* ------------------------------------------------------------- options */

static void test_raw_layout_from_options(void **state) {
  (void)state;
  write_pattern("a.bin", 16, 5 * 48);
  sl_open_options o;
  sl_open_options_init(&o);
  o.dtype = "<f4";
  o.trailing = "3,4";
  o.header_bytes = 16;
  probed p;
  assert_int_equal(probe("a.bin", &o, &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_FLOAT32);
  assert_int_equal(p.info.ndim, 3);
  assert_int_equal(p.info.shape[0], 5);
  assert_int_equal(p.info.shape[1], 3);
  assert_int_equal(p.info.shape[2], 4);
  assert_int_equal(p.s.rows, 5);
  assert_int_equal(p.s.swap, 0);
  assert_int_equal(sl_source_size(&p.src), 16 + 240);
  sl_extent ex[2];
  size_t n = 2;
  sl_error err = {0};
  assert_int_equal(tshard_extents(&p, 1, 4, ex, &n, &err), SL_OK);
  assert_int_equal(n, 1);
  assert_int_equal(ex[0].offset, 16 + 48);
  assert_int_equal(ex[0].length, 3 * 48);
  done(&p);
}

static void test_raw_trailing_spellings(void **state) {
  (void)state;
  write_pattern("t.raw", 0, 24 * 8);
  const char *ok[] = {"(2, 3)", "2,3,", " 2 , 3 ", "2,3"};
  for (size_t i = 0; i < SL_ARRAY_LEN(ok); i++) {
    sl_open_options o;
    sl_open_options_init(&o);
    o.dtype = "int64";
    o.trailing = ok[i];
    probed p;
    assert_int_equal(probe("t.raw", &o, &p), SL_OK);
    assert_int_equal(p.info.ndim, 3);
    assert_int_equal(p.info.shape[1] * p.info.shape[2], 6);
    assert_int_equal(p.s.rows, 4);
    done(&p);
  }
  sl_open_options o;
  sl_open_options_init(&o);
  o.dtype = "int64";
  o.trailing = "";
  probed p;
  assert_int_equal(probe("t.raw", &o, &p), SL_OK);
  assert_int_equal(p.info.ndim, 1);
  assert_int_equal(p.s.rows, 24);
  done(&p);
}

static void test_raw_big_endian_read_swaps(void **state) {
  (void)state;
  const unsigned char be[] = {0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0x12, 0x34, 0x56, 0x78};
  write_bytes(dir, "be.bin", be, sizeof be);
  sl_open_options o;
  sl_open_options_init(&o);
  o.dtype = ">i4";
  probed p;
  assert_int_equal(probe("be.bin", &o, &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_INT32);
  assert_int_equal(p.s.swap, 1);
  int32_t got[3];
  sl_error err = {0};
  assert_int_equal(tshard_read(&p, 0, 3, got, &err), SL_OK);
  assert_int_equal(got[0], 1);
  assert_int_equal(got[1], -2);
  assert_int_equal(got[2], 0x12345678);
  done(&p);
}

static void test_raw_rejects_bad_dtype_option(void **state) {
  (void)state;
  write_pattern("d.bin", 0, 8);
  sl_open_options o;
  sl_open_options_init(&o);
  o.dtype = "<q7";
  probed p;
  assert_int_equal(probe("d.bin", &o, &p), SL_EINVAL);
  expect_message(&p, SL_EINVAL, "%s: expected option dtype to name a dtype such as <f4, >i8 or "
                 "float32 but found '<q7'");
  done(&p);
}

static void test_raw_rejects_bad_trailing_option(void **state) {
  (void)state;
  write_pattern("d.bin", 0, 8);
  sl_open_options o;
  sl_open_options_init(&o);
  o.dtype = "u1";
  o.trailing = "3x4";
  probed p;
  assert_int_equal(probe("d.bin", &o, &p), SL_EINVAL);
  expect_message(&p, SL_EINVAL, "%s: expected option trailing as up to 15 comma-separated sizes "
                 "such as 3,4 but found '3x4'");
  done(&p);
  o.trailing = "99999999999999999999";
  assert_int_equal(probe("d.bin", &o, &p), SL_EINVAL);
  expect_message(&p, SL_EINVAL, "%s: option trailing '99999999999999999999' overflows 64 bits");
  done(&p);
  o.trailing = "0";
  assert_int_equal(probe("d.bin", &o, &p), SL_EINVAL);
  expect_message(&p, SL_EINVAL, "%s: expected option trailing without zeros (rows of 0 bytes "
                 "leave the row count unknown)");
  done(&p);
  o.trailing = "1";
  o.header_bytes = -1;
  assert_int_equal(probe("d.bin", &o, &p), SL_EINVAL);
  expect_message(&p, SL_EINVAL, "%s: expected option header_bytes >= 0 but found -1");
  done(&p);
}

static void test_raw_row_bytes_overflow(void **state) {
  (void)state;
  write_pattern("o.bin", 0, 8);
  sl_open_options o;
  sl_open_options_init(&o);
  o.dtype = "f8";
  o.trailing = "4294967296,4294967296";
  probed p;
  assert_int_equal(probe("o.bin", &o, &p), SL_EFORMAT);
  expect_message(&p, SL_EFORMAT, "%s: row size of the trailing shape overflows 64 bits");
  done(&p);
}

/* ------------------------------------------------------------ file size */

static void test_raw_rejects_partial_row(void **state) {
  (void)state;
  write_pattern("r.bin", 8, 1000);
  sl_open_options o;
  sl_open_options_init(&o);
  o.dtype = "<f4";
  o.trailing = "12";
  o.header_bytes = 8;
  probed p;
  assert_int_equal(probe("r.bin", &o, &p), SL_EFORMAT);
  expect_message(&p, SL_EFORMAT, "%s: expected a whole number of 48-byte rows after the "
                 "8-byte header but found 1000 data bytes (20 rows and 40 bytes over)");
  done(&p);
}

static void test_raw_rejects_file_shorter_than_header(void **state) {
  (void)state;
  write_pattern("h.bin", 0, 10);
  sl_open_options o;
  sl_open_options_init(&o);
  o.dtype = "u1";
  o.header_bytes = 64;
  probed p;
  assert_int_equal(probe("h.bin", &o, &p), SL_EFORMAT);
  expect_message(&p, SL_EFORMAT, "%s: expected at least the 64-byte header but the file has "
                 "10 bytes");
  done(&p);
}

static void test_raw_empty_file_has_zero_rows(void **state) {
  (void)state;
  write_bytes(dir, "e.bin", "", 0);
  sl_open_options o;
  sl_open_options_init(&o);
  o.dtype = "c16";
  probed p;
  assert_int_equal(probe("e.bin", &o, &p), SL_OK);
  assert_int_equal(p.s.rows, 0);
  assert_int_equal(p.info.dtype, SL_COMPLEX128);
  done(&p);
}

/* -------------------------------------------------------------- sidecar */

static void test_raw_sidecar_trailing(void **state) {
  (void)state;
  write_meta("{\"format\": \"raw\", \"dtype\": \">f8\", \"trailing\": [2, 3], "
             "\"header_bytes\": 4, \"files\": [\"x.bin\"]}");
  write_pattern("x.bin", 4, 7 * 48);
  probed p;
  assert_int_equal(probe("x.bin", NULL, &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_FLOAT64);
  assert_int_equal(p.s.swap, 1);
  assert_int_equal(p.info.ndim, 3);
  assert_int_equal(p.info.shape[1], 2);
  assert_int_equal(p.info.shape[2], 3);
  assert_int_equal(p.s.rows, 7);
  assert_int_equal(p.s.param[0], 4); /* data offset */
  done(&p);
}

static void test_raw_sidecar_shape_gives_trailing(void **state) {
  (void)state;
  write_meta("{\"dtype\": \"float32\", \"shape\": [1000, 5]}");
  write_pattern("y.bin", 0, 3 * 20);
  probed p;
  assert_int_equal(probe("y.bin", NULL, &p), SL_OK);
  assert_int_equal(p.info.ndim, 2);
  assert_int_equal(p.info.shape[1], 5);
  assert_int_equal(p.s.rows, 3);
  done(&p);
}

static void test_raw_options_win_over_sidecar(void **state) {
  (void)state;
  write_meta("{\"dtype\": \"<u2\", \"trailing\": [8], \"header_bytes\": 2}");
  write_pattern("z.bin", 6, 3 * 8);
  sl_open_options o;
  sl_open_options_init(&o);
  o.trailing = "2,2";
  o.header_bytes = 6;
  probed p;
  assert_int_equal(probe("z.bin", &o, &p), SL_OK);
  assert_int_equal(p.info.dtype, SL_UINT16);
  assert_int_equal(p.info.ndim, 3);
  assert_int_equal(p.s.rows, 3);
  assert_int_equal(p.s.param[0], 6);
  done(&p);
  o.dtype = "u1"; /* option dtype: the sidecar is not read at all */
  o.trailing = NULL;
  o.header_bytes = 0;
  assert_int_equal(probe("z.bin", &o, &p), SL_OK);
  assert_int_equal(p.info.ndim, 1);
  assert_int_equal(p.s.rows, 30);
  done(&p);
}

static void test_raw_rejects_missing_sidecar(void **state) {
  (void)state;
  write_pattern("m.bin", 0, 8);
  probed p;
  assert_int_equal(probe("m.bin", NULL, &p), SL_ELAYOUT);
  char want[8192];
  snprintf(want, sizeof want, "%s: expected option dtype (and option trailing) or a sidecar "
           "%s/_meta.json for this raw file but found neither", p.s.path, dir);
  assert_string_equal(p.err.message, want);
  done(&p);
}

/* Each broken sidecar and the message naming it. */
static void test_raw_rejects_bad_sidecars(void **state) {
  (void)state;
  static const struct {
    const char *json, *msg;
  } cases[] = {
      {"{\"dtype\": \"<f4\", ", "expected JSON but it does not parse (near byte 17)"},
      {"[1, 2]", "expected a JSON object at the top level"},
      {"{\"trailing\": [3]}", "expected a \"dtype\" string such as \"<f4\" but found none"},
      {"{\"dtype\": 4}", "expected a \"dtype\" string such as \"<f4\" but found another JSON "
                         "type"},
      {"{\"dtype\": \"<x4\"}", "expected \"dtype\" to name a dtype such as <f4, >i8 or float32 "
                               "but found '<x4'"},
      {"{\"dtype\": \"<f4\", \"trailing\": [3, -1]}",
       "expected \"trailing\" item 1 to be a non-negative integer"},
      {"{\"dtype\": \"<f4\", \"trailing\": [2.5]}",
       "expected \"trailing\" item 0 to be a non-negative integer"},
      {"{\"dtype\": \"<f4\", \"trailing\": 3}", "expected \"trailing\" to be an array of 0 to 15 "
                                                "sizes"},
      {"{\"dtype\": \"<f4\", \"shape\": []}", "expected \"shape\" to be an array of 1 to 16 "
                                              "sizes"},
      {"{\"dtype\": \"<f4\", \"shape\": [9, 4], \"trailing\": [2, 2]}",
       "expected \"shape\"[1:] to equal \"trailing\" but they differ"},
      {"{\"dtype\": \"<f4\", \"header_bytes\": \"16\"}",
       "expected \"header_bytes\" to be a non-negative integer"},
  };
  write_pattern("s.bin", 0, 64);
  for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
    write_meta(cases[i].json);
    probed p;
    assert_int_equal(probe("s.bin", NULL, &p), SL_EFORMAT);
    char want[8192];
    snprintf(want, sizeof want, "%s/_meta.json: %s", dir, cases[i].msg);
    assert_string_equal(p.err.message, want);
    done(&p);
  }
}

static void test_raw_sidecar_allocation_failures(void **state) {
  (void)state;
  write_meta("{\"dtype\": \"<i2\", \"shape\": [0, 3]}");
  write_pattern("f.bin", 0, 60);
  for (long nth = 1;; nth++) {
    probed p;
    sl__alloc_fail_at(nth, false);
    sl_status st = probe("f.bin", NULL, &p);
    sl__alloc_fail_at(0, false);
    done(&p);
    if (st == SL_OK) {
      assert_int_equal(p.s.rows, 10);
      break;
    }
    if (st != SL_ENOMEM) fail_msg("allocation %ld: %s", nth, p.err.message);
    assert_int_equal(st, SL_ENOMEM);
    assert_non_null(strstr(p.err.message, "out of memory"));
    assert_true(nth < 100);
  }
}

/* ------------------------------------------------------------- library */

static void test_raw_write_then_open_directory(void **state) {
  (void)state;
  const int64_t rows[] = {13, 0, 40, 1};
  float *all = malloc(54 * 6 * sizeof *all);
  sl_pattern_fill(SL_FLOAT32, 9, 0, 54 * 6, all);
  int64_t first = 0;
  for (size_t i = 0; i < SL_ARRAY_LEN(rows); i++) {
    char name[32];
    snprintf(name, sizeof name, "shard_%04zu.bin", i);
    char *p = path_in(dir, name);
    int64_t shape[] = {rows[i], 2, 3};
    sl_error err = {0};
    assert_int_equal(sl_write_shard("raw", p, SL_FLOAT32, 3, shape, all + first * 6, &err),
                     SL_OK);
    first += rows[i];
    free(p);
  }
  write_meta("{\"format\": \"raw\", \"dtype\": \"<f4\", \"shape\": [54, 2, 3], "
             "\"trailing\": [2, 3], \"seed\": 9, \"num_shards\": 4}");
  sl_dataset *ds;
  sl_error err = {0};
  if (sl_dataset_open(NULL, dir, NULL, &ds, &err) != SL_OK) fail_msg("%s", err.message);
  assert_string_equal(sl_dataset_format(ds), "raw");
  int64_t shape[SL_MAX_DIMS];
  assert_int_equal(sl_dataset_shape(ds, shape), 3);
  assert_int_equal(shape[0], 54);
  float *got = malloc(54 * 6 * sizeof *got);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 54, got, NULL, NULL, &err), SL_OK);
  assert_memory_equal(got, all, 54 * 6 * sizeof *got);
  assert_int_equal(sl_dataset_read_rows(ds, 12, 14, got, NULL, NULL, &err), SL_OK);
  assert_memory_equal(got, all + 12 * 6, 2 * 6 * sizeof *got);
  sl_dataset_free(ds);
  free(got);
  free(all);
}

/* Inspect says where the layout came from: options, the sidecar, or both. */
static void test_raw_inspect_says_where_the_layout_came_from(void **state) {
  (void)state;
  write_pattern("l.bin", 8, 4 * 12);
  write_meta("{\"dtype\": \">f4\", \"trailing\": [3]}");
  sl_open_options o;
  sl_open_options_init(&o);
  o.header_bytes = 8;
  probed p;
  assert_int_equal(probe("l.bin", &o, &p), SL_OK);
  sl_error err = {0};
  cJSON *j = tshard_account(&p, &err);
  assert_non_null(j);
  assert_string_equal(jstr(j, "read_path"), "direct");
  assert_string_equal(jstr(j, "stored"), ">f4");
  assert_int_equal((int)jnum(j, "header_bytes"), 8);
  assert_string_equal(jstr(j, "layout_from.dtype"), "sidecar _meta.json");
  assert_string_equal(jstr(j, "layout_from.trailing"), "sidecar _meta.json");
  assert_string_equal(jstr(j, "layout_from.header_bytes"), "option header_bytes");
  cJSON_Delete(j);
  done(&p);
  o.dtype = "<f4";
  o.header_bytes = 0;
  write_pattern("m.bin", 0, 8);
  assert_int_equal(probe("m.bin", &o, &p), SL_OK);
  j = tshard_account(&p, &err);
  assert_non_null(j);
  assert_string_equal(jstr(j, "layout_from.dtype"), "option dtype");
  assert_string_equal(jstr(j, "layout_from.trailing"), "none (1-D)");
  cJSON_Delete(j);
  done(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_raw_layout_from_options, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_trailing_spellings, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_big_endian_read_swaps, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_rejects_bad_dtype_option, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_rejects_bad_trailing_option, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_row_bytes_overflow, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_rejects_partial_row, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_rejects_file_shorter_than_header, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_empty_file_has_zero_rows, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_sidecar_trailing, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_sidecar_shape_gives_trailing, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_options_win_over_sidecar, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_rejects_missing_sidecar, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_rejects_bad_sidecars, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_sidecar_allocation_failures, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_write_then_open_directory, tmpdir_setup, tmpdir_teardown),
      cmocka_unit_test_setup_teardown(test_raw_inspect_says_where_the_layout_came_from, tmpdir_setup,
                                      tmpdir_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
