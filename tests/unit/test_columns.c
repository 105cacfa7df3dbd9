/* The columns option of the table formats (src/base/columns.c): one grammar
   and one set of messages for Parquet and Arrow IPC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_test.h"

static void expect_refused(const char *text, const char *want) {
  sl_columns c;
  sl_error err = {0};
  assert_int_equal(sl__columns_parse("ds", text, &c, &err), SL_EINVAL);
  assert_string_equal(err.message, want);
  assert_int_equal(c.n, 0);
}

static void test_columns_grammar(void **state) {
  (void)state;
  sl_columns c;
  sl_error err = {0};
  assert_int_equal(sl__columns_parse("ds", " b , a,c ", &c, &err), SL_OK);
  assert_int_equal(c.n, 3);
  assert_string_equal(c.names[0], "b");
  assert_string_equal(c.names[1], "a");
  assert_string_equal(c.names[2], "c");
  sl__columns_free(&c);
  assert_int_equal(sl__columns_parse("ds", NULL, &c, &err), SL_OK);
  assert_int_equal(c.n, 0); /* every column */
  expect_refused("", "ds: option columns is empty: name at least one column");
  expect_refused("  ", "ds: option columns is empty: name at least one column");
  expect_refused("a,,b", "ds: option columns 'a,,b' has an empty column name");
  expect_refused("a,", "ds: option columns 'a,' has an empty column name");
  expect_refused("a, b,a", "ds: option columns 'a, b,a' names the column 'a' twice");
}

static void test_columns_resolve_names_what_the_file_has(void **state) {
  (void)state;
  sl_columns c;
  sl_error err = {0};
  assert_int_equal(sl__columns_parse("ds", "y,x", &c, &err), SL_OK);
  sl_name have[] = {{"x", 1}, {"yy", 2}, {"y", 1}};
  size_t idx[2];
  assert_int_equal(sl__columns_resolve("f.parquet", &c, have, 3, idx, &err), SL_OK);
  assert_int_equal(idx[0], 2);
  assert_int_equal(idx[1], 0);
  sl__columns_free(&c);
  assert_int_equal(sl__columns_parse("ds", "x,z", &c, &err), SL_OK);
  assert_int_equal(sl__columns_resolve("f.parquet", &c, have, 3, idx, &err), SL_EINVAL);
  assert_string_equal(err.message, "f.parquet: expected a column named 'z' (from option "
                      "columns) but the file has none; its columns are: x, yy, y");
  sl__columns_free(&c);
}

static void test_columns_long_lists_are_shortened(void **state) {
  (void)state;
  sl_name many[40];
  for (int i = 0; i < 40; i++) many[i] = (sl_name){"c", 1};
  char buf[512];
  sl__names_text(many, 40, buf, sizeof buf);
  assert_non_null(strstr(buf, ", ... (40 in all)"));
  sl__names_text(many, 2, buf, sizeof buf);
  assert_string_equal(buf, "c, c");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_columns_grammar),
      cmocka_unit_test(test_columns_resolve_names_what_the_file_has),
      cmocka_unit_test(test_columns_long_lists_are_shortened),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
