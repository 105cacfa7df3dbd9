/* The driver table (src/core/drivers.c): registrations are checked for
   their ABI and size, copied only as far as their struct_size reaches (the
   slots of a newer library left NULL for an older driver), and found by
   name before the built-ins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_test.h"

static sl_status one_probe(const void *state, const sl_source *src, const char *member,
                           sl_shard *s, sl_shard_info *info, sl_error *err) {
  (void)state, (void)src, (void)member, (void)err;
  s->rows = 4;
  *info = (sl_shard_info){.dtype = SL_UINT8, .ndim = 1, .shape = {4}};
  return SL_OK;
}

static sl_status one_read(const sl_shard *s, const void *h, const sl_source *src, int64_t lo,
                          int64_t hi, void *dst, sl_error *err) {
  (void)s, (void)h, (void)src, (void)err;
  for (int64_t r = lo; r < hi; r++) ((uint8_t *)dst)[r - lo] = (uint8_t)(10 + r);
  return SL_OK;
}

static const char *const one_ext[] = {".one", NULL};

static void test_drivers_registration_is_checked(void **state) {
  (void)state;
  sl_driver d = {.abi = SL_DRIVER_ABI + 1, .struct_size = sizeof d, .name = "one",
                 .extensions = one_ext, .probe = one_probe, .read = one_read};
  sl_error err;
  assert_int_equal(sl_register_driver(&d, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "expected a driver of ABI 1"));
  d.abi = SL_DRIVER_ABI;
  d.struct_size = offsetof(sl_driver, name);
  assert_int_equal(sl_register_driver(&d, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "too short"));
  d.struct_size = sizeof d;
  d.read = NULL;
  assert_int_equal(sl_register_driver(&d, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "needs extents or read"));
}

/* A table as an older driver has it: it ends before open. What lies after
   it in memory (an invalid pointer here) is never taken for a slot. */
static void test_drivers_older_table_is_copied_by_its_size(void **state) {
  (void)state;
  static struct {
    sl_driver d;
  } t;
  memset(&t, 0, sizeof t);
  t.d = (sl_driver){.abi = SL_DRIVER_ABI, .struct_size = offsetof(sl_driver, open),
                    .name = "one", .extensions = one_ext, .probe = one_probe,
                    .read = one_read};
  memset(&t.d.open, 0xff, sizeof t.d - offsetof(sl_driver, open)); /* not the driver's */
  sl_error err;
  assert_int_equal(sl_register_driver(&t.d, &err), SL_OK);
  const sl_driver *got = sl_find_driver("one");
  assert_non_null(got);
  assert_true(got != &t.d); /* the library's own copy */
  assert_null(got->open);
  assert_null(got->unit_start);
  assert_null(got->write);
  assert_null(got->inspect);
  assert_int_equal(got->struct_size, sizeof(sl_driver));
  char *d = make_tmpdir();
  write_bytes(d, "shard_0000.one", "", 0);
  write_bytes(d, "shard_0001.one", "", 0);
  sl_dataset *ds;
  assert_int_equal(sl_dataset_open(NULL, d, NULL, &ds, &err), SL_OK);
  assert_string_equal(sl_dataset_format(ds), "one");
  uint8_t out[8];
  assert_int_equal(sl_dataset_read_rows(ds, 2, 8, out, NULL, NULL, &err), SL_OK);
  const uint8_t want[] = {12, 13, 10, 11, 12, 13};
  assert_memory_equal(out, want, sizeof want);
  char *json = NULL; /* without the slot: where the shard is and its read path */
  assert_int_equal(sl_dataset_inspect(ds, 1, &json, &err), SL_OK);
  cJSON *j = cJSON_Parse(json);
  sl_free(json);
  assert_non_null(strstr(jstr(j, "path"), "shard_0001.one"));
  assert_int_equal((int)jnum(j, "rows"), 4);
  assert_string_equal(jstr(j, "read_path"), "decoded");
  assert_null(jget(j, "member"));
  cJSON_Delete(j);
  assert_int_equal(sl_dataset_inspect(ds, 2, &json, &err), SL_EINVAL);
  assert_null(json);
  assert_string_equal(err.message, "sl_dataset_inspect: expected a shard below 2 but found 2");
  assert_int_equal(sl_dataset_inspect(ds, 0, NULL, &err), SL_EINVAL);
  sl_dataset_free(ds);
  rm_tree(d);
}

/* A driver's inspect slot: its keys follow the library's (which win), and
   text that is not a JSON object is refused naming the driver. */
static const char *two_text;

static sl_status two_inspect(const sl_shard *s, const void *h, const sl_source *src,
                             char **json, sl_error *err) {
  (void)s, (void)h, (void)src, (void)err;
  *json = strdup(two_text); /* the slot's contract: malloc */
  return SL_OK;
}

static void test_drivers_inspect_slot_is_merged_or_refused(void **state) {
  (void)state;
  static const char *const ext[] = {".two", NULL};
  sl_driver d = {.abi = SL_DRIVER_ABI, .struct_size = sizeof d, .name = "two",
                 .extensions = ext, .probe = one_probe, .read = one_read,
                 .inspect = two_inspect};
  sl_error err;
  assert_int_equal(sl_register_driver(&d, &err), SL_OK);
  char *dd = make_tmpdir();
  write_bytes(dd, "shard_0000.two", "", 0);
  sl_dataset *ds;
  assert_int_equal(sl_dataset_open(NULL, dd, NULL, &ds, &err), SL_OK);
  two_text = "{\"read_path\":\"direct\",\"rows\":99,\"mine\":[1,2]}";
  char *json = NULL;
  assert_int_equal(sl_dataset_inspect(ds, 0, &json, &err), SL_OK);
  cJSON *j = cJSON_Parse(json);
  sl_free(json);
  assert_int_equal((int)jnum(j, "rows"), 4);
  assert_string_equal(jstr(j, "read_path"), "direct");
  assert_int_equal((int)jnum(j, "mine.1"), 2);
  assert_string_equal(j->child->string, "path"); /* the library's keys first */
  int rows_keys = 0;
  for (const cJSON *c = j->child; c != NULL; c = c->next) rows_keys += strcmp(c->string, "rows") == 0;
  assert_int_equal(rows_keys, 1); /* the driver's "rows" dropped, not repeated */
  cJSON_Delete(j);
  two_text = "[1, 2]";
  assert_int_equal(sl_dataset_inspect(ds, 0, &json, &err), SL_EFORMAT);
  assert_non_null(strstr(err.message, "shard_0000.two: driver two described the shard with "
                                      "something other than a JSON object"));
  sl_dataset_free(ds);
  rm_tree(dd);
}

static void test_drivers_built_ins_and_their_extensions(void **state) {
  (void)state;
  int writable = -1;
  assert_string_equal(sl_format_extension("npy", &writable), ".npy");
  assert_int_equal(writable, 1);
  assert_null(sl_format_extension("nope", &writable));
  assert_int_equal(writable, 0);
  const sl_driver *npy = sl_find_driver("npy");
  assert_non_null(npy);
  assert_int_equal(npy->abi, SL_DRIVER_ABI);
  assert_int_equal(npy->struct_size, sizeof(sl_driver));
  assert_non_null(strstr(sl_features(), "formats: npy"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_drivers_registration_is_checked),
      cmocka_unit_test(test_drivers_older_table_is_copied_by_its_size),
      cmocka_unit_test(test_drivers_built_ins_and_their_extensions),
      cmocka_unit_test(test_drivers_inspect_slot_is_merged_or_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
