/* The executor table (src/core/exec_*.c): each variant's parallel loop
   reports the lowest failing task whichever thread fails first, host tiles
   are their own host view with the CPU DLPack device, the gpu entry of a
   build without CUDA says which option adds it, and AUTO picks omp only
   when more than one thread would run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "sl_test.h"

typedef struct tasks {
  _Atomic int ran;
  size_t fail_from;
} tasks;

/* Task 0 is slow, so with threads the later failures happen first. */
static sl_status task(void *ctx, size_t i, sl_error *err) {
  tasks *t = ctx;
  if (i == 0) usleep(50 * 1000);
  atomic_fetch_add(&t->ran, 1);
  if (i >= t->fail_from) SL_FAIL(err, SL_EIO, "task %zu failed", i);
  return SL_OK;
}

static void check_loop(const sl_executor *ex, int threads) {
  tasks t = {0, 5};
  sl_error err = {0};
  assert_int_equal(ex->parallel(40, task, &t, threads, &err), SL_EIO);
  assert_string_equal(err.message, "task 5 failed");
  assert_true(atomic_load(&t.ran) >= 6); /* every task before the failure ran */
  tasks ok = {0, 1000};
  sl_error_clear(&err);
  assert_int_equal(ex->parallel(40, task, &ok, threads, &err), SL_OK);
  assert_int_equal(atomic_load(&ok.ran), 40);
}

static void test_exec_lowest_failing_task_wins(void **state) {
  (void)state;
  check_loop(&sl__exec_cpu, 1);
  NEED_OMP();
  check_loop(&sl__exec_omp, 4);
}

static void test_exec_host_tiles(void **state) {
  (void)state;
  sl_tile t;
  sl_error err = {0};
  assert_int_equal(sl__exec_cpu.tile_alloc(5 << 20, 512, &t, &err), SL_OK);
  assert_int_equal(t.kind, SL_MEMORY_HOST);
  assert_int_equal((uintptr_t)t.data % 4096, 512); /* shifted for direct reads */
  memset(t.data, 7, 5 << 20);
  const void *view;
  assert_int_equal(sl__exec_cpu.to_host(&t, 100, 10, NULL, &view, &err), SL_OK);
  assert_ptr_equal(view, (char *)t.data + 100); /* no copy for host memory */
  int type, id;
  sl__exec_cpu.dl_device(&t, &type, &id);
  assert_int_equal(type, 1); /* kDLCPU */
  assert_int_equal(id, 0);
  sl__exec_cpu.tile_free(&t);
  assert_null(t.base);
}

/* Without CUDA the gpu entry names the option that adds it; with CUDA and
   no device it names the driver's reason, and the AUTO choice of sl_load
   falls back to a host variant with a note. */
static void test_exec_gpu_says_it_is_not_built(void **state) {
  (void)state;
  sl_error err = {0};
  const sl_executor *ex;
  int threads;
  char note[256];
#ifndef SL_HAVE_CUDA
  assert_int_equal(sl__exec_gpu.available(&err), SL_ENOTSUP);
  assert_non_null(strstr(err.message, "configure with -DSL_WITH_CUDA=ON"));
  sl_error_clear(&err);
  assert_int_equal(sl__choose_executor(SL_VARIANT_GPU, 0, &ex, &threads, &err), SL_ENOTSUP);
  assert_int_equal(sl__choose_executor_for(SL_VARIANT_AUTO, 2, SL_MEMORY_HOST, true, 0, &ex,
                                           &threads, note, sizeof note, &err), SL_OK);
  assert_string_equal(note, ""); /* nothing to fall back from */
#else
  sl_status st = sl__exec_gpu.available(&err);
  if (st == SL_OK) {
    print_message("SKIPPED: a CUDA device is visible; the no-device choice is not checked\n");
    skip();
  }
  assert_int_equal(st, SL_EIO);
  sl_error_clear(&err);
  assert_int_equal(sl__choose_executor_for(SL_VARIANT_GPU, 0, SL_MEMORY_HOST, true, 3, &ex,
                                           &threads, note, sizeof note, &err), SL_EIO);
  assert_non_null(strstr(err.message, "no CUDA device visible to rank 3"));
  sl_error_clear(&err);
  assert_int_equal(sl__choose_executor_for(SL_VARIANT_AUTO, 2, SL_MEMORY_HOST, true, 1, &ex,
                                           &threads, note, sizeof note, &err), SL_OK);
  assert_true(ex != &sl__exec_gpu);
  assert_non_null(strstr(note, "no CUDA device visible to rank 1"));
#endif
}

static void test_exec_auto_choice(void **state) {
  (void)state;
  const sl_executor *ex;
  int threads;
  sl_error err = {0};
  assert_int_equal(sl__choose_executor(SL_VARIANT_AUTO, 1, &ex, &threads, &err), SL_OK);
  assert_ptr_equal(ex, &sl__exec_cpu);
  assert_int_equal(threads, 1);
  assert_int_equal(sl__choose_executor(SL_VARIANT_AUTO, 3, &ex, &threads, &err), SL_OK);
  assert_ptr_equal(ex, have_omp() ? &sl__exec_omp : &sl__exec_cpu);
  assert_int_equal(threads, have_omp() ? 3 : 1);
  assert_int_equal(sl__choose_executor(SL_VARIANT_CPU, 0, &ex, &threads, &err), SL_OK);
  assert_int_equal(threads, 1);
  /* the cpu variant runs one thread however many are asked for: its stats
     and its plan (a share of the rows per thread) say one */
  assert_int_equal(sl__choose_executor(SL_VARIANT_CPU, 4, &ex, &threads, &err), SL_OK);
  assert_int_equal(threads, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exec_lowest_failing_task_wins),
      cmocka_unit_test(test_exec_host_tiles),
      cmocka_unit_test(test_exec_gpu_says_it_is_not_built),
      cmocka_unit_test(test_exec_auto_choice),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
