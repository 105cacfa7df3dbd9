/* The dataset as bytes (src/core/pack.c): what rank 0 broadcasts and every
   other rank rebuilds without opening a file. Files and their identities
   travel once however many shards they hold; a truncated or damaged
   buffer is refused, never misread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sl_test.h"

static void test_pack_round_trip(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "shard_0000.npy", 4);
  npy_shard(d, "shard_0001.npy", 6);
  sl_dataset *ds, *back;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  char *buf;
  size_t n;
  assert_int_equal(sl__dataset_pack(ds, &buf, &n, &err), SL_OK);
  assert_int_equal(sl__dataset_unpack(buf, n, &back, &err), SL_OK);
  assert_int_equal(back->nshards, 2);
  assert_string_equal(back->shards[1].path, ds->shards[1].path);
  assert_memory_equal(back->shards[1].param, ds->shards[1].param, sizeof ds->shards[1].param);
  assert_memory_equal(back->cum_rows, ds->cum_rows, 3 * sizeof(int64_t));
  assert_int_equal(back->row_bytes, 8);
  assert_int_equal(sl_dataset_files_probed(back), 0); /* other ranks open nothing */
  for (size_t cut = 0; cut < n; cut += 7) { /* every truncation is refused, not misread */
    sl_dataset *bad = NULL;
    sl_error_clear(&err);
    assert_int_not_equal(sl__dataset_unpack(buf, cut, &bad, &err), SL_OK);
    assert_null(bad);
  }
  sl__free(buf);
  sl_dataset_free(back);
  sl_dataset_free(ds);
  rm_tree(d);
}

/* Identities survive the trip, and a rank reading with them notices a file
   changed since rank 0 looked. */
static void test_pack_identities_travel(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "shard_0000.npy", 4);
  npy_shard(d, "shard_0001.npy", 6);
  sl_dataset *ds, *back;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  char *buf;
  size_t n;
  assert_int_equal(sl__dataset_pack(ds, &buf, &n, &err), SL_OK);
  assert_int_equal(sl__dataset_unpack(buf, n, &back, &err), SL_OK);
  assert_int_equal(back->nfiles, 2);
  for (int f = 0; f < 2; f++) { /* the device is this machine's to find */
    assert_int_equal(back->ids[f].dev, SL_DEV_UNKNOWN);
    assert_int_equal(back->ids[f].ino, ds->ids[f].ino);
    assert_int_equal(back->ids[f].size, ds->ids[f].size);
    assert_int_equal(back->ids[f].mtime_nsec, ds->ids[f].mtime_nsec);
  }
  assert_true(back->ids[1].size > 0 && back->ids[1].ino != 0);
  float first[8];
  assert_int_equal(sl_dataset_read_rows(back, 0, 4, first, NULL, NULL, &err), SL_OK);
  assert_int_equal(back->ids[0].dev, ds->ids[0].dev); /* adopted from the open */
  npy_shard(d, "shard_0001.npy", 7); /* rewritten after rank 0's discovery */
  float out[20];
  assert_int_equal(sl_dataset_read_rows(back, 0, 10, out, NULL, NULL, &err), SL_ECHANGED);
  assert_non_null(strstr(err.message, "shard_0001.npy changed since the dataset was opened"));
  sl__free(buf);
  sl_dataset_free(back);
  sl_dataset_free(ds);
  rm_tree(d);
}

/* Flipping any byte of the buffer: refused or unpacked, never a crash. */
static void test_pack_damage_is_refused_or_harmless(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "shard_0000.npy", 4);
  npy_shard(d, "shard_0001.npy", 6);
  sl_dataset *ds;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  char *buf;
  size_t n;
  assert_int_equal(sl__dataset_pack(ds, &buf, &n, &err), SL_OK);
  for (size_t i = 0; i < n; i++) {
    char keep = buf[i];
    buf[i] = (char)(keep ^ 0x5a);
    sl_dataset *back = NULL;
    sl_error_clear(&err);
    if (sl__dataset_unpack(buf, n, &back, &err) == SL_OK) sl_dataset_free(back);
    else assert_null(back);
    buf[i] = keep;
  }
  sl__free(buf);
  sl_dataset_free(ds);
  rm_tree(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pack_round_trip),
      cmocka_unit_test(test_pack_identities_travel),
      cmocka_unit_test(test_pack_damage_is_refused_or_harmless),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
