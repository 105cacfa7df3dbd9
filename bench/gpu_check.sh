#!/bin/sh
# The gpu variant's checks on a machine with a CUDA device, in one go (issue
# P6): the CUDA build, the gpu-labelled tests, pinned host-to-device
# bandwidth of 1 GiB, and gpu vs omp read throughput on a ~4 GiB npy dataset
# whose pages are warm in the page cache. Prints the figures, the device and
# the target check: gpu >= 0.8 x min(omp host throughput, pinned H2D).
#
#   sh bench/gpu_check.sh [BUILD_DIR] [DATA_DIR]
#
# Defaults: build-cuda, /tmp/shardload-gpu-check (4 GiB written once and
# reused; it needs ~4.5 GiB of disk and as much free memory to stay warm).
# Env: JOBS (default nproc), REPS (default 3), SIZE_ROWS (default
# 134217728 rows x 8 float32 = 4 GiB), THREADS (default 8), SKIP_TESTS=1.
# Takes about 3-6 minutes on a 16-core machine: configure ~1 min, build
# ~1-2 min, tests ~1 min, writing the dataset ~30 s, the runs ~1 min.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-cuda}
data=${2:-/tmp/shardload-gpu-check}
jobs=${JOBS:-$(nproc)}
reps=${REPS:-3}
rows=${SIZE_ROWS:-134217728}
threads=${THREADS:-8}
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
say() { printf '== %s\n' "$*"; }

say "device"
nvidia-smi -L || { echo "gpu_check: nvidia-smi lists no device: nothing to check here"; exit 1; }

say "CUDA build in $build"
cd "$src"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSL_WITH_CUDA=ON \
  -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES=native >/dev/null
cmake --build "$build" -j"$jobs" --target shardload_cli shardload test_stage test_stage_mpi \
  test_device_api test_exec
sl="$build/tools/shardload"
"$sl" --version

if [ "${SKIP_TESTS:-0}" != 1 ]; then
  say "gpu-labelled tests, and the pipeline's unit and error tests"
  ctest --test-dir "$build" --output-on-failure -L '^gpu$' || echo "gpu_check: gpu tests FAILED"
  ctest --test-dir "$build" --output-on-failure -R 'unit_test_(stage|exec)|gpu_host_errors' ||
    echo "gpu_check: pipeline tests FAILED"
fi

say "pinned host-to-device bandwidth, 1 GiB"
"$nvcc" -O2 -o "$build/h2d_bandwidth" bench/h2d_bandwidth.cu
h2d=$("$build/h2d_bandwidth" 1024 5 0)
echo "$h2d"

say "dataset: $rows x 8 float32 in 16 shards at $data"
if ! "$sl" inspect "$data" --json 2>/dev/null | grep -q "\"shape\":\[$rows,8\]"; then
  rm -rf "$data"
  "$sl" write "$data" --shape "$rows,8" --dtype float32 --num-shards 16 --seed 1 >/dev/null
fi
cat "$data"/shard_*.npy >/dev/null # warm the page cache

say "gpu vs omp, $reps alternating runs each, $threads threads, page cache warm"
out=$(mktemp)
i=0
while [ $i -lt "$reps" ]; do
  for v in omp gpu; do
    "$sl" read "$data" --variant $v --threads "$threads" --io buffered --json >"$out.$v.$i"
  done
  i=$((i + 1))
done
"$sl" read "$data" --variant gpu --threads "$threads" --verify --json >"$out.verify"
"$py" - "$out" "$reps" "$h2d" <<'EOF'
import json, statistics, sys
base, reps, h2d = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
def runs(v):
    return [json.load(open(f"{base}.{v}.{i}")) for i in range(reps)]
omp, gpu = runs("omp"), runs("gpu")
g = lambda rs: statistics.median(r["gbps"] for r in rs)
ver = json.load(open(f"{base}.verify"))
r0 = gpu[0]["per_rank"][0]
print(f"device: {r0['device']}  path: {r0['path']}  staging peak: {r0.get('staging_peak_bytes')} B")
print(f"verify (gpu tile read back): {ver['verify']}")
print(f"pinned H2D, 1 GiB: {h2d['gbps']:.2f} GB/s")
print(f"omp read phase: {g(omp):.2f} GB/s  (runs {[round(r['gbps'], 2) for r in omp]})")
print(f"gpu read phase: {g(gpu):.2f} GB/s  (runs {[round(r['gbps'], 2) for r in gpu]})")
target = 0.8 * min(g(omp), h2d["gbps"])
print(f"target gpu >= 0.8 x min(omp, H2D) = {target:.2f} GB/s: {'PASS' if g(gpu) >= target else 'FAIL'}")
EOF
rm -f "$out" "$out".*
