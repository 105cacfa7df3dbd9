#!/bin/sh
# The CUDA option is honest: SL_WITH_CUDA=ON without a CUDA compiler fails
# at configure, naming what is missing; with nvcc present it configures.
set -u
src=$1
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
# a machine without the toolkit: only the system's own directories on PATH
if env -u CUDACXX -u CUDA_HOME -u CUDA_PATH -u CUDAToolkit_ROOT PATH=/usr/bin:/bin cmake -S "$src" -B "$t/off" -DSL_WITH_CUDA=ON \
    -DSL_BUILD_TESTS=OFF >"$t/off.log" 2>&1; then
  echo "FAIL: SL_WITH_CUDA=ON configured without nvcc"; exit 1
fi
grep -q "SL_WITH_CUDA=ON but no CUDA compiler (nvcc) was found" "$t/off.log" ||
  { echo "FAIL: no clear message:"; cat "$t/off.log"; exit 1; }
echo "ok: SL_WITH_CUDA=ON without nvcc fails at configure with its reason"
if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
  PATH="$PATH:/usr/local/cuda/bin" cmake -S "$src" -B "$t/on" -DSL_WITH_CUDA=ON \
    -DSL_BUILD_TESTS=OFF >"$t/on.log" 2>&1 || { echo "FAIL: ON with nvcc"; cat "$t/on.log"; exit 1; }
  echo "ok: SL_WITH_CUDA=ON with nvcc configures"
fi
