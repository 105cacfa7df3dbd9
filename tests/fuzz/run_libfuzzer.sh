#!/bin/sh
# A short libFuzzer run of every fuzz target (clang, ASan+UBSan), on top of
# the corpus replay every build does. New inputs go to a temporary
# directory, never into the committed corpus. Skips loudly without clang.
set -u
src=$1 seconds=${2:-15}
shift 2 2>/dev/null || true
targets=${*:-"npy parquet_footer parquet_page arrow_footer"}
if ! command -v clang >/dev/null 2>&1; then
  echo "SKIPPED: clang is not installed (apt-get install clang) - no libFuzzer run"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)(n & 0); }\n' \
  > "$work/probe.c"
if ! clang -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" 2>/dev/null; then
  echo "SKIPPED: clang has no libFuzzer runtime (apt-get install libclang-rt-14-dev)"
  exit 77
fi
CC=clang cmake -S "$src" -B "$work/build" -DSL_LIBFUZZER=ON -DSL_SANITIZE=address,undefined -DSL_WITH_CUDA=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
fail=0
for t in $targets; do
  if ! cmake --build "$work/build" --target "fuzz_$t" -j2 >"$work/build_$t.log" 2>&1; then
    cat "$work/build_$t.log"
    exit 1
  fi
  mkdir -p "$work/new_$t"
  if "$work/build/tests/fuzz_$t" "$work/new_$t" "$src/tests/fuzz/corpus/$t" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$work/run_$t.log" 2>&1; then
    echo "fuzz_$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/run_$t.log" | grep -o '[0-9]*$') runs in ${seconds} s, no crash"
  else
    echo "fuzz_$t FAILED:"
    tail -40 "$work/run_$t.log"
    fail=1
  fi
done
exit $fail
