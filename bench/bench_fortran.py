#!/usr/bin/python3
"""Benchmark: Fortran-order npy shards against the same data in C order.

Not a test. Makes (or reuses) two shapes under --dir, each written once in
C order and once in Fortran order by numpy (same values):

  cube   (2, 5000, 5000) float32, one 200 MB shard: very short columns
         (2 rows), the case that was one pread per column
  table  2 x (1000000, 25) float32, 200 MB: long columns

and times whole processes, alternating C and F in each repetition:
shardload read DIR --json --output OUT (the output proves the bytes; the
report's read-phase seconds are what the target is about). Target (issue
P5): Fortran order at >= 0.5x the C-order throughput. Warm page cache.
"""
import argparse, json, os, statistics, subprocess, sys, time

import numpy as np


def make(root):
    rng = np.random.default_rng(0)
    cases = {"cube": [rng.random((2, 5000, 5000), dtype=np.float32)],
             "table": [rng.random((1000000, 25), dtype=np.float32) for _ in range(2)]}
    for name, parts in cases.items():
        for order in "CF":
            d = os.path.join(root, f"{name}-{order}")
            if os.path.isdir(d):
                continue
            os.makedirs(d + ".part", exist_ok=True)
            for i, a in enumerate(parts):
                a = np.asfortranarray(a) if order == "F" else np.ascontiguousarray(a)
                np.save(os.path.join(d + ".part", f"shard_{i:04d}.npy"), a)
            os.rename(d + ".part", d)
    return list(cases)


def run(sl, d, out):
    t = time.perf_counter()
    r = subprocess.run([sl, "read", d, "--json", "--output", out], capture_output=True,
                       text=True, check=True)
    return json.loads(r.stdout)["seconds"], time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardload", default="build/tools/shardload")
    ap.add_argument("--dir", default="/tmp/shardload-bench/fortran")
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    out = os.path.join(a.dir, "out.npy")
    for name in make(a.dir):
        res = {"C": [], "F": []}
        run(a.shardload, os.path.join(a.dir, f"{name}-C"), out)  # warm the page cache
        run(a.shardload, os.path.join(a.dir, f"{name}-F"), out)
        for _ in range(a.reps):
            for order in "CF":
                res[order].append(run(a.shardload, os.path.join(a.dir, f"{name}-{order}"), out))
        med = {o: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
               for o, v in res.items()}
        print(f"{name}: read phase C {med['C'][0]:.3f} s, F {med['F'][0]:.3f} s, "
              f"F/C throughput {med['C'][0] / med['F'][0]:.2f}x (target >= 0.5); whole "
              f"process C {med['C'][1]:.2f} s, F {med['F'][1]:.2f} s")
    os.unlink(out)


if __name__ == "__main__":
    sys.exit(main())
