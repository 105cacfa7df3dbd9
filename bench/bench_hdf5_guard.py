#!/usr/bin/python3
"""Benchmark: what the HDF5 crash guard costs per shard (issue P5, finding 9).

Not a test. Every locked section of the HDF5 driver now installs a
SIGSEGV/SIGBUS/SIGFPE/SIGABRT handler and takes it down again (8 sigaction
calls), and every external-storage/virtual check reads the dataset's
creation properties once more. This times, whole process, binaries given in
rotating order (pass two copies of one binary as an A/A control):

  inspect DIR          discovery of N small contiguous shards (one probe each)
  read DIR             the same shards read (extents: no HDF5 call per read)
  read DECODE_DIR      N small shards with chunks that split rows: open and
                       one H5Dread per shard, each under the lock

and prints medians and the difference per shard against the first binary.

    /usr/bin/python3 bench/bench_hdf5_guard.py OLD OLD_COPY NEW NEW_COPY [--shards 1000]
"""
import argparse, itertools, os, statistics, subprocess, sys, tempfile, time

import h5py
import numpy as np


def make(d, n, decode):
    os.makedirs(d, exist_ok=True)
    for i in range(n):
        with h5py.File(os.path.join(d, f"shard_{i:04d}.h5"), "w") as f:
            v = np.arange(40, dtype="<f4").reshape(10, 4) + i
            if decode:
                f.create_dataset("x", data=v, chunks=(5, 1))
            else:
                f.create_dataset("x", data=v)


def wall(binary, argv):
    t = time.monotonic()
    p = subprocess.run([binary, *argv], capture_output=True, text=True,
                       env=dict(os.environ, SHARDLOAD_MPI="0"))
    if p.returncode != 0:
        sys.exit(f"{binary} {' '.join(argv)}: exit {p.returncode}: {p.stderr[-300:]}")
    return time.monotonic() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--shards", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=12)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        flat, dec = os.path.join(t, "flat"), os.path.join(t, "decode")
        make(flat, a.shards, False)
        make(dec, a.shards, True)
        cases = {"inspect": ["inspect", flat], "read": ["read", flat, "--threads", "1"],
                 "read-decode": ["read", dec, "--threads", "1"]}
        orders = list(itertools.permutations(range(len(a.binaries))))
        res = {(c, i): [] for c in cases for i in range(len(a.binaries))}
        for r in range(a.reps):
            for c, argv in cases.items():
                for i in orders[r % len(orders)]:
                    res[(c, i)].append(wall(a.binaries[i], argv))
        print(f"{a.shards} shards, {a.reps} repetitions, median wall seconds "
              "(per shard vs the first binary, microseconds)")
        for c in cases:
            base = statistics.median(res[(c, 0)])
            for i, b in enumerate(a.binaries):
                m = statistics.median(res[(c, i)])
                print(f"  {c:12s} {i}:{b[-40:]:40s} {m:8.3f} s  "
                      f"{(m - base) / a.shards * 1e6:+8.1f} us/shard")


if __name__ == "__main__":
    main()
