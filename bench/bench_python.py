#!/usr/bin/python3
"""Benchmark of the Python package (issue P7). Not a test: it never fails a build.

  1. load:   shardload.load(DIR) from Python vs `shardload read DIR --json`,
             whole processes alternating, warm page cache (an untimed read
             of every file before each pair). Reported: medians of the read
             phase (stats.seconds vs the CLI's "seconds") and of the whole
             process; target: the read phases within 5% (no extra copy).
  2. gather: 4096 random rows per call, the same index set for both, calls
             alternating: Dataset.take (sl_dataset_gather_rows) vs NumPy
             fancy indexing of np.load(mmap_mode="r") maps (opened once,
             rows split per shard with searchsorted). Per-row microseconds,
             median over calls; target: shardload <= NumPy.
  3. tables: the same random rows from Parquet and from an npy copy of the
             same array (made once under the Parquet set's folder).

Datasets come from /tmp/shardload-bench (bench_npy.py and bench_tables.py
make them). Machines of this kind drift by 2x between runs: read the ratios.

    /usr/bin/python3 bench/bench_python.py [--quick] [--reps 3] [--calls 40]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("SHARDLOAD_LIBRARY", os.path.join(ROOT, "build", "libshardload.so"))
import shardload  # noqa: E402

CLI = os.path.join(ROOT, "build", "tools", "shardload")


def warm(path):
    for f in sorted(os.listdir(path)):
        with open(os.path.join(path, f), "rb", buffering=0) as fh:
            while fh.read(64 << 20):
                pass


def run_cli(path):
    t = time.perf_counter()
    p = subprocess.run([CLI, "read", path, "--json"], capture_output=True, text=True, check=True)
    return time.perf_counter() - t, json.loads(p.stdout)["seconds"]


PY_LOAD = ("import sys, json, shardload; a = shardload.load(sys.argv[1]); "
           "print(json.dumps(a.stats))")


def run_py(path):
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", PY_LOAD, path], capture_output=True, text=True,
                       check=True, env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python")))
    return time.perf_counter() - t, json.loads(p.stdout)["seconds"]


def bench_load(path, reps):
    cli, py = [], []
    for _ in range(reps):
        warm(path)
        run_cli(path)  # untimed: first touch of fresh memory lands on neither
        cli.append(run_cli(path))
        py.append(run_py(path))
    med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
    r = {"cli_process_s": med(cli, 0), "py_process_s": med(py, 0),
         "cli_read_s": med(cli, 1), "py_read_s": med(py, 1)}
    r["read_ratio_py_over_cli"] = statistics.median(p[1] / c[1] for p, c in zip(py, cli))
    r["process_ratio_py_over_cli"] = statistics.median(p[0] / c[0] for p, c in zip(py, cli))
    return r


class NumpyMaps:
    """np.load(mmap_mode="r") of every shard, rows gathered by fancy indexing."""

    def __init__(self, path):
        files = [p for p, _ in shardload.open(path).shards]
        self.maps = [np.load(f, mmap_mode="r") for f in files]
        self.cum = np.cumsum([0] + [m.shape[0] for m in self.maps])

    def take(self, idx):
        out = np.empty((idx.shape[0],) + self.maps[0].shape[1:], self.maps[0].dtype)
        s = np.searchsorted(self.cum, idx, side="right") - 1
        for k in np.unique(s):
            sel = np.flatnonzero(s == k)
            out[sel] = self.maps[k][idx[sel] - self.cum[k]]
        return out


def per_row_us(fn, sets):
    ts = []
    for idx in sets:
        t = time.perf_counter()
        fn(idx)
        ts.append((time.perf_counter() - t) / idx.shape[0] * 1e6)
    return ts


def bench_gather(path, calls, rows, seed=0):
    ds, nm = shardload.open(path), NumpyMaps(path)
    rng = np.random.default_rng(seed)
    sets = [rng.integers(0, ds.shape[0], rows) for _ in range(calls)]
    ds.take(sets[0])
    nm.take(sets[0])  # untimed: maps and handles made
    sl, npy = [], []
    for idx in sets:  # alternating, call by call
        sl += per_row_us(ds.take, [idx])
        npy += per_row_us(nm.take, [idx])
        assert np.array_equal(ds.take(idx[:64]), nm.take(idx[:64]))
    return {"rows_per_call": rows, "calls": calls,
            "shardload_us_per_row": statistics.median(sl),
            "numpy_mmap_us_per_row": statistics.median(npy),
            "ratio_shardload_over_numpy": statistics.median(a / b for a, b in zip(sl, npy))}


def npy_copy(pq_path):
    """An npy copy of the Parquet set (same array, same shard rows)."""
    out = os.path.join(os.path.dirname(pq_path.rstrip("/")), "npy")
    pq = shardload.open(pq_path)
    if not os.path.exists(os.path.join(out, f"shard_{len(pq.shards) - 1:04d}.npy")):
        os.makedirs(out, exist_ok=True)
        lo = 0
        for i, (_, n) in enumerate(pq.shards):
            np.save(os.path.join(out, f"shard_{i:04d}.npy"), pq.read(lo, lo + n))
            lo += n
    return out


def bench_tables(pq_path, calls, rows, seed=1, npy=None):
    npy = npy or npy_copy(pq_path)
    a, b = shardload.open(pq_path), shardload.open(npy)
    rng = np.random.default_rng(seed)
    sets = [rng.integers(0, a.shape[0], rows) for _ in range(calls)]
    a.take(sets[0][:8])
    b.take(sets[0][:8])
    pq_t, npy_t = [], []
    for idx in sets:
        pq_t += per_row_us(a.take, [idx])
        npy_t += per_row_us(b.take, [idx])
    assert np.array_equal(a.take(sets[0]), b.take(sets[0]))
    return {"rows_per_call": rows, "calls": calls,
            "parquet_us_per_row": statistics.median(pq_t),
            "npy_us_per_row": statistics.median(npy_t),
            "ratio_parquet_over_npy": statistics.median(x / y for x, y in zip(pq_t, npy_t))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npy", default="/tmp/shardload-bench/npy-2048MiB")
    ap.add_argument("--parquet", default="/tmp/shardload-bench/tables-2097152x8/parquet")
    ap.add_argument("--parquet-plain",
                    default="/tmp/shardload-bench/tables-2097152x8/parquet-plain",
                    help="the same tables, uncompressed (bench/tables.mjs plain)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and calls")
    ap.add_argument("--skip", default="", help="comma list of load,gather,tables to skip")
    a = ap.parse_args()
    if a.quick:
        a.reps, a.calls = 1, 10
    skip = set(a.skip.split(",")) - {""}
    res = {"library": shardload.library_path}
    if "load" not in skip:
        res["load"] = bench_load(a.npy, a.reps)
        print(json.dumps({"load": res["load"]}), flush=True)
    if "gather" not in skip:
        warm(a.npy)
        res["gather_npy"] = bench_gather(a.npy, a.calls, a.rows)
        print(json.dumps({"gather_npy": res["gather_npy"]}), flush=True)
    if "tables" not in skip and os.path.isdir(a.parquet):
        res["gather_tables"] = bench_tables(a.parquet, max(2, a.calls // 10), a.rows)
        print(json.dumps({"gather_tables": res["gather_tables"]}), flush=True)
    if "tables" not in skip and os.path.isdir(a.parquet_plain):
        res["gather_plain"] = bench_tables(a.parquet_plain, a.calls, a.rows,
                                           npy=npy_copy(a.parquet))
        print(json.dumps({"gather_plain": res["gather_plain"]}), flush=True)
    load = res.get("load")
    if load:
        ok = load["read_ratio_py_over_cli"] <= 1.05
        print(f"load read phase, Python / CLI: {load['read_ratio_py_over_cli']:.3f} "
              f"({'PASS' if ok else 'FAIL'} <= 1.05)")
    g = res.get("gather_npy")
    if g:
        ok = g["ratio_shardload_over_numpy"] <= 1.0
        print(f"gather npy, shardload / numpy mmap per row: "
              f"{g['ratio_shardload_over_numpy']:.3f} ({'PASS' if ok else 'FAIL'} <= 1)")
    for key, what in (("gather_tables", "snappy"), ("gather_plain", "uncompressed")):
        t = res.get(key)
        if t:
            ok = t["ratio_parquet_over_npy"] <= 3.0
            print(f"gather parquet ({what}) / npy per row: {t['ratio_parquet_over_npy']:.1f} "
                  f"({'PASS' if ok else 'FAIL'} <= 3)")


if __name__ == "__main__":
    main()
