/* Every system call on files (src/base/io.c) and fault injection through
   it: every allocation failed in turn must surface as SL_ENOMEM without a
   leak, a failed or short read names the file or is absorbed, a refused
   open is retried once a descriptor is closed, identity checks name what
   changed, and nothing but a regular file is ever read (a FIFO cannot
   block an open). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_test.h"

/* Fail the 1st, 2nd, ... allocation until the whole open + read no longer
   reaches the nth; every failure that fired must surface as SL_ENOMEM. */
static void test_io_every_allocation_failure_is_enomem(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "shard_0000.npy", 40);
  npy_shard(d, "shard_0001.npy", 30);
  float out[140];
  long nth;
  for (nth = 1;; nth++) {
    sl__alloc_fail_at(nth, false);
    sl_dataset *ds = NULL;
    sl_error err;
    sl_status st = discover(d, NULL, &ds, &err);
    if (st == SL_OK) st = sl_dataset_read_rows(ds, 0, 70, out, NULL, NULL, &err);
    bool fired = sl__alloc_fired();
    sl__alloc_fail_at(0, false);
    sl_dataset_free(ds);
    if (!fired) {
      assert_int_equal(st, SL_OK);
      break;
    }
    if (st != SL_ENOMEM) fail_msg("allocation %ld: %s %s", nth, sl_status_name(st), err.message);
    assert_true(nth < 1000);
  }
  assert_true(nth > 10); /* discovery and the read allocate more than a few times */
  rm_tree(d);
}

static void test_io_read_failures_name_the_file(void **state) {
  (void)state;
  char *d = make_tmpdir();
  npy_shard(d, "shard_0000.npy", 40);
  npy_shard(d, "shard_0001.npy", 30);
  sl_dataset *ds;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  float out[140];
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_CPU;
  o.io = SL_IO_BUFFERED;
  sl__io_fail_at(2, false, false); /* EIO on the second shard */
  sl_error_clear(&err);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 70, out, &o, NULL, &err), SL_EIO);
  if (strstr(err.message, "shard_0001.npy: read of") == NULL) fail_msg("%s", err.message);
  sl__io_fail_at(1, true, true); /* every read comes back short: the loop absorbs it */
  sl_error_clear(&err);
  assert_int_equal(sl_dataset_read_rows(ds, 0, 70, out, &o, NULL, &err), SL_OK);
  sl__io_fail_at(0, false, false);
  sl_dataset_free(ds);
  rm_tree(d);
}

/* An open refused with EMFILE: the cache closes an idle file and tries
   once more, so the read goes on. */
static void test_io_refused_open_is_retried_after_closing_one(void **state) {
  (void)state;
  char *d = make_tmpdir();
  for (int i = 0; i < 3; i++) {
    char name[32];
    sprintf(name, "shard_%04d.npy", i);
    npy_shard(d, name, 10);
  }
  sl_dataset *ds;
  sl_error err;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_OK);
  float out[60];
  sl_read_options o;
  sl_read_options_init(&o);
  o.variant = SL_VARIANT_CPU;
  o.io = SL_IO_BUFFERED;
  sl__open_fail_at(3); /* the third file's open; two idle files can be closed */
  sl_status st = sl_dataset_read_rows(ds, 0, 30, out, &o, NULL, &err);
  sl__open_fail_at(0);
  if (st != SL_OK) fail_msg("%s", err.message);
  sl_dataset_free(ds);
  rm_tree(d);
}

static void test_io_identity_names_what_changed(void **state) {
  (void)state;
  sl_file_id was = {1, 2, 100, 5, 6}, now = was;
  sl_error err = {0};
  assert_int_equal(sl__check_id("f.npy", &now, &was, &err), SL_OK);
  now.size = 200;
  now.mtime_nsec = 7;
  assert_int_equal(sl__check_id("f.npy", &now, &was, &err), SL_ECHANGED);
  assert_string_equal(err.message, "f.npy changed since the dataset was opened (size 200, was "
                      "100, mtime)");
  now = was;
  now.ino = 3;
  sl_error_clear(&err);
  assert_int_equal(sl__check_id("f.npy", &now, &was, &err), SL_ECHANGED);
  assert_string_equal(err.message, "f.npy changed since the dataset was opened (inode)");
}

/* A FIFO, a directory or a device as a file to read: refused at once,
   naming it (O_NONBLOCK keeps the open of a FIFO from waiting forever). */
static void test_io_only_regular_files_are_read(void **state) {
  (void)state;
  char *d = make_tmpdir();
  char *fifo = path_in(d, "shard_0000.npy");
  assert_int_equal(mkfifo(fifo, 0600), 0);
  int fd;
  sl_error err = {0};
  assert_int_equal(sl__open_read(fifo, false, &fd, NULL, &err), SL_EFORMAT);
  assert_non_null(strstr(err.message, "shard_0000.npy: not a regular file"));
  sl_error_clear(&err);
  assert_int_equal(sl__open_read("/dev/null", false, &fd, NULL, &err), SL_EFORMAT);
  sl_dataset *ds = NULL;
  assert_int_equal(discover(d, NULL, &ds, &err), SL_EFORMAT);
  assert_non_null(strstr(err.message, "not a regular file"));
  free(fifo);
  rm_tree(d);
}

static void test_io_temporary_files_never_replace_on_failure(void **state) {
  (void)state;
  char *d = make_tmpdir();
  char *out = path_in(d, "out.bin");
  write_bytes(d, "out.bin", "old", 3);
  int fd;
  char *tmp;
  sl_error err = {0};
  assert_int_equal(sl__create_temp(out, &fd, &tmp, &err), SL_OK);
  assert_int_equal(sl__pwrite_full(fd, tmp, "new!", 4, 0, &err), SL_OK);
  sl__abort_temp(fd, tmp); /* a failure: the old file stays, the temporary goes */
  struct stat st;
  assert_int_equal(stat(out, &st), 0);
  assert_int_equal(st.st_size, 3);
  assert_int_equal(sl__create_temp(out, &fd, &tmp, &err), SL_OK);
  assert_int_equal(sl__pwrite_full(fd, tmp, "new!", 4, 0, &err), SL_OK);
  assert_int_equal(sl__commit_temp(fd, tmp, out, true, &err), SL_OK);
  assert_int_equal(stat(out, &st), 0);
  assert_int_equal(st.st_size, 4);
  char **names;
  size_t n;
  assert_int_equal(sl__list_dir(d, &names, &n, &err), SL_OK);
  assert_int_equal(n, 1); /* no temporary left behind */
  sl__free_names(names, n);
  free(out);
  rm_tree(d);
}

/* The temporary name is fixed per output: a second writer of the same
   output is refused while the first holds it, a stale one is taken over,
   and sl_remove_temp_files (what the signal handlers call) removes the
   files in progress and only those. */
static void test_io_temporary_name_is_locked_and_removable(void **state) {
  (void)state;
  char *d = make_tmpdir();
  char *out = path_in(d, "out.npy"), *other = path_in(d, "other.npy");
  write_bytes(d, "out.npy.shardload-tmp", "stale", 5);
  int fd, fd2;
  char *tmp, *tmp2;
  sl_error err = {0};
  assert_int_equal(sl__create_temp(out, &fd, &tmp, &err), SL_OK);
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_size, 0); /* the stale bytes are gone */
  sl_error_clear(&err);
  assert_int_equal(sl__create_temp(out, &fd2, &tmp2, &err), SL_EIO);
  assert_non_null(strstr(err.message, "another process is writing it now"));
  assert_null(strstr(err.message, "shardload-tmp"));
  sl_error_clear(&err);
  assert_int_equal(sl__create_temp(other, &fd2, &tmp2, &err), SL_OK);
  sl_remove_temp_files();
  assert_int_not_equal(access(tmp, F_OK), 0);
  assert_int_not_equal(access(tmp2, F_OK), 0);
  sl__abort_temp(fd, tmp);
  sl__abort_temp(fd2, tmp2);
  /* committed files are forgotten: removing again touches nothing */
  assert_int_equal(sl__create_temp(out, &fd, &tmp, &err), SL_OK);
  assert_int_equal(sl__commit_temp(fd, tmp, out, false, &err), SL_OK);
  write_bytes(d, "out.npy.shardload-tmp", "x", 1);
  sl_remove_temp_files();
  assert_int_equal(access(out, F_OK), 0);
  char *again = path_in(d, "out.npy.shardload-tmp");
  assert_int_equal(access(again, F_OK), 0);
  free(again);
  free(out);
  free(other);
  rm_tree(d);
}

/* Outputs that are not regular files are never replaced, nor written
   through a link planted under the temporary name. */
static void test_io_output_must_be_a_regular_file(void **state) {
  (void)state;
  char *d = make_tmpdir();
  char *fifo = path_in(d, "f.npy"), *link = path_in(d, "l.npy"), *t = path_in(d, "t.npy");
  char *tlink = path_in(d, "t.npy.shardload-tmp"), *target = path_in(d, "target");
  assert_int_equal(mkfifo(fifo, 0644), 0);
  write_bytes(d, "target", "keep", 4);
  assert_int_equal(symlink(target, link), 0);
  assert_int_equal(symlink(target, tlink), 0);
  sl_error err = {0};
  assert_int_equal(sl__check_output_path(fifo, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "a FIFO, not a regular file"));
  sl_error_clear(&err);
  assert_int_equal(sl__check_output_path(link, &err), SL_EINVAL);
  assert_non_null(strstr(err.message, "a symbolic link"));
  sl_error_clear(&err);
  assert_int_equal(sl__check_output_path("/dev/null", &err), SL_EINVAL);
  sl_error_clear(&err);
  assert_int_equal(sl__check_output_path("", &err), SL_EINVAL);
  sl_error_clear(&err);
  int fd;
  char *tmp;
  assert_int_equal(sl__create_temp(t, &fd, &tmp, &err), SL_EIO);
  struct stat st;
  assert_int_equal(stat(target, &st), 0);
  assert_int_equal(st.st_size, 4);
  free(fifo);
  free(link);
  free(t);
  free(tlink);
  free(target);
  rm_tree(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_io_every_allocation_failure_is_enomem),
      cmocka_unit_test(test_io_read_failures_name_the_file),
      cmocka_unit_test(test_io_refused_open_is_retried_after_closing_one),
      cmocka_unit_test(test_io_identity_names_what_changed),
      cmocka_unit_test(test_io_only_regular_files_are_read),
      cmocka_unit_test(test_io_temporary_files_never_replace_on_failure),
      cmocka_unit_test(test_io_temporary_name_is_locked_and_removable),
      cmocka_unit_test(test_io_output_must_be_a_regular_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
