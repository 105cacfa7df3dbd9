#!/bin/sh
# Dependencies point one way (STYLE.md rule 2): fails on any violation.
#  - tools/ include only shardload.h (and their own cli.h, system headers)
#  - a driver includes neither another driver nor <mpi.h>
#  - only src/dist.c includes <mpi.h>; only src/exec_cuda.cu includes CUDA headers
#  - no #ifdef on CUDA or OpenMP outside the exec_* files
set -u
root=${1:-.}
cd "$root" || exit 2
fail=0
bad() { echo "layering: $*"; fail=1; }

for f in tools/*.c tools/*.h; do
  grep -n '#include "' "$f" | grep -v '"shardload.h"\|"cli.h"' | while read -r l; do
    echo "layering: $f includes a private header: $l"; done | grep . && fail=1
done
for f in src/formats/*.c src/formats/*/*.c; do
  [ -e "$f" ] || continue
  grep -n '#include' "$f" | grep -q 'mpi.h' && bad "$f includes mpi.h"
  grep -n '#include "' "$f" | grep -v '"sl_internal.h"\|"shardload.h"' | grep -q 'formats/' &&
    bad "$f includes another driver"
done
for f in $(grep -l '#include <mpi.h>' src -r); do
  [ "$f" = src/dist.c ] || bad "$f includes <mpi.h> (only src/dist.c may)"
done
for f in $(grep -rl '#include <cuda\|#include <cuda_runtime' src tools); do
  [ "$f" = src/exec_cuda.cu ] || bad "$f includes CUDA headers"
done
for f in $(grep -rlE '^#\s*(if|ifdef|ifndef|elif).*(SL_HAVE_CUDA|SL_HAVE_OPENMP|_OPENMP)' src tools); do
  case "$f" in
    src/exec_*|src/sl_config.h.in) ;;
    *) bad "$f tests CUDA/OpenMP outside the exec_* files" ;;
  esac
done
# the core below dist.c never calls MPI
grep -rn '\bMPI_[A-Z][a-z_]*(' src --include=*.c | grep -v '^src/dist.c' | grep . && fail=1
[ $fail = 0 ] && echo "layering: ok"
exit $fail
