/* Byte sources (src/base/source.c): a memory image and a file read alike,
   short only at the end, and a descriptor another library opened is held
   to the file's identity. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_test.h"

static void check_reads(const sl_source *s) {
  char b[8];
  sl_error err = {0};
  assert_int_equal(sl_source_size(s), 6);
  assert_int_equal(sl_source_read(s, 1, 4, b, &err), SL_OK);
  assert_memory_equal(b, "bcde", 4);
  size_t got;
  assert_int_equal(sl_source_read_some(s, 4, 8, b, &got, &err), SL_OK);
  assert_int_equal(got, 2);
  assert_int_equal(sl_source_read_some(s, 9, 8, b, &got, &err), SL_OK);
  assert_int_equal(got, 0);
  assert_int_equal(sl_source_read(s, 3, 4, b, &err), SL_EFORMAT);
  assert_non_null(strstr(err.message, "file ends at byte 6 but 4 bytes were expected from "
                                      "offset 3"));
  assert_non_null(strstr(err.message, sl_source_path(s)));
  sl_error_clear(&err);
  assert_int_equal(sl_source_read(s, -1, 1, b, &err), SL_EFORMAT);
}

static void test_source_memory_and_file_read_alike(void **state) {
  (void)state;
  sl_source m;
  sl__source_memory(&m, "<image>", "abcdef", 6);
  check_reads(&m);
  char *d = make_tmpdir();
  write_bytes(d, "f.bin", "abcdef", 6);
  char *p = path_in(d, "f.bin");
  sl_source f;
  sl_error err = {0};
  assert_int_equal(sl__source_open(&f, p, &err), SL_OK);
  check_reads(&f);
  assert_int_equal(f.id.size, 6);
  sl__source_close(&f);
  free(p);
  rm_tree(d);
}

/* What HDF5 does: open the file again by name. The descriptor must be the
   same file, unchanged. */
/* A mapped file that shrinks under its reader: the read past the new end
   is SL_ECHANGED naming the file, not a SIGBUS; guarded reads nest, and the
   thread reads on normally afterwards. */
/* ThreadSanitizer's memcpy interceptor takes the SIGBUS inside its own
   runtime, which then ends the process instead of running the handler
   (seen with clang 14): the guard cannot be tested there. */
#if defined(__SANITIZE_THREAD__)
#define SL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SL_TSAN 1
#endif
#endif

static void test_source_mapping_of_a_shrunk_file_is_an_error(void **state) {
  (void)state;
#ifdef SL_TSAN
  print_message("SKIPPED: a SIGBUS inside ThreadSanitizer's memcpy ends the process\n");
  return;
#endif
  long page = sysconf(_SC_PAGESIZE);
  char *buf = calloc(4, (size_t)page);
  write_bytes(dir, "shrinks.bin", buf, 4 * (size_t)page);
  char *path = path_in(dir, "shrinks.bin");
  sl_source s;
  sl_error err = {0};
  assert_int_equal(sl__source_open(&s, path, &err), SL_OK);
  void *map = sl__map_file(s.fd, s.size);
  assert_non_null(map);
  sl_source m = s;
  m.mem = map;
  assert_int_equal(sl_source_read(&m, 3 * page, 16, buf, &err), SL_OK);
  int fd = open(path, O_WRONLY);
  assert_int_equal(ftruncate(fd, page), 0);
  close(fd);
  for (int i = 0; i < 3; i++) { /* again and again: the guard is left as it was found */
    sl_error_clear(&err);
    assert_int_equal(sl_source_read(&m, 3 * page, 16, buf, &err), SL_ECHANGED);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "changed while it was being read"));
    assert_int_equal(sl_source_read(&m, 0, 16, buf, &err), SL_OK);
  }
  sl__unmap_file(map, s.size);
  sl__source_close(&s);
  free(path);
  free(buf);
}

static void test_source_check_fd_holds_identity(void **state) {
  (void)state;
  char *d = make_tmpdir();
  write_bytes(d, "f.bin", "abcdef", 6);
  write_bytes(d, "g.bin", "abcdef", 6);
  char *p = path_in(d, "f.bin"), *q = path_in(d, "g.bin");
  sl_source s;
  sl_error err = {0};
  assert_int_equal(sl__source_open(&s, p, &err), SL_OK);
  int same = open(p, O_RDONLY), other = open(q, O_RDONLY);
  assert_int_equal(sl_source_check_fd(&s, same, &err), SL_OK);
  assert_int_equal(sl_source_check_fd(&s, other, &err), SL_ECHANGED);
  assert_non_null(strstr(err.message, "changed since the dataset was opened (inode"));
  close(same);
  close(other);
  sl__source_close(&s);
  free(p);
  free(q);
  rm_tree(d);
}

/* A handler installed after ours that passes what is not its own to the
   one before it (ours), with ours put back over it by a later read: a
   SIGBUS that is nobody's ends the process by SIGBUS, not in a loop of
   the two handlers (stack overflow). And a fault while SIGBUS is ignored
   kills rather than re-running the access for ever. */
static struct sigaction chained_before;
static void chaining_handler(int sig, siginfo_t *si, void *uc) {
  if (chained_before.sa_flags & SA_SIGINFO) chained_before.sa_sigaction(sig, si, uc);
}

static int child_status(int ignore) {
  pid_t pid = fork();
  if (pid == 0) {
    alarm(10);
    sl__map_guard_arm(); /* ours */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = chaining_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &sa, &chained_before); /* a later one, chaining to ours */
    sl__map_guard_arm();                      /* ours over it again (a later read) */
    if (ignore) {
      signal(SIGBUS, SIG_IGN);
      sl__map_guard_arm(); /* ours, before which SIGBUS was ignored */
      long page = sysconf(_SC_PAGESIZE);
      FILE *f = tmpfile();
      if (f == NULL || ftruncate(fileno(f), 2 * page) != 0) _exit(3);
      volatile char *m = sl__map_file(fileno(f), 2 * page);
      if (m == NULL || ftruncate(fileno(f), 0) != 0) _exit(3);
      (void)m[page]; /* a fault past the end */
      _exit(4);
    }
    raise(SIGBUS);
    _exit(5);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return st;
}

static void test_source_bus_handler_chain_ends(void **state) {
  (void)state;
  int st = child_status(0);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGBUS);
  st = child_status(1);
  assert_true(WIFSIGNALED(st));
  assert_int_equal(WTERMSIG(st), SIGBUS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_source_memory_and_file_read_alike),
      cmocka_unit_test(test_source_check_fd_holds_identity),
      cmocka_unit_test(test_source_mapping_of_a_shrunk_file_is_an_error),
      cmocka_unit_test(test_source_bus_handler_chain_ends),
  };
  return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_teardown);
}
