#!/usr/bin/python3
"""Benchmark: shardload on sharded HDF5 vs h5py, next to shardload on npy.

Not a test. Makes (or reuses) the bench_npy.py dataset (~2 GiB float32,
16 ragged shards, trailing (8,)), converts it once to HDF5 shards, both
contiguous and chunked with gzip (level 1, chunks of 65536 rows), and times
whole processes, alternating tools in each repetition:

  sl-npy        shardload read NPYDIR --threads 2 --json   (the reference)
  sl-h5         shardload read H5DIR  --threads 2 --json   (contiguous: extents + pread)
  sl-h5-mpi2    mpiexec -n 2 shardload read H5DIR --threads 1
  h5py          h5py read_direct of every shard into one preallocated array
  (and the same three for the gzip-chunked shards)

Prints medians, per-repetition ratios and the issue's targets: contiguous
HDF5 >= 0.9x shardload's own npy throughput and >= 2x h5py; for chunked,
the ratio to h5py. Warm page cache only (decompression, not the disk, is
what chunked costs). Use /usr/bin/python3 (numpy, h5py).
"""
import argparse, json, os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_npy as B  # noqa: E402

H5PY_READ = r"""
import sys, time, glob
t0 = time.perf_counter()
import numpy as np, h5py
t1 = time.perf_counter()
files = sorted(glob.glob(sys.argv[1] + "/shard_*.h5"))
hs = [h5py.File(f, "r") for f in files]
ds = [h["data"] for h in hs]
n = sum(d.shape[0] for d in ds)
out = np.empty((n,) + ds[0].shape[1:], ds[0].dtype)
r = 0
for d in ds:
    if d.shape[0]:
        d.read_direct(out, dest_sel=np.s_[r:r + d.shape[0]])
    r += d.shape[0]
t2 = time.perf_counter()
print('{"seconds": %f, "import": %f}' % (t2 - t1, t1 - t0))
"""


def convert(npy_dir, h5_dir, chunked):
    import h5py
    import numpy as np
    os.makedirs(h5_dir, exist_ok=True)
    files = sorted(f for f in os.listdir(npy_dir) if f.startswith("shard_") and f.endswith(".npy"))
    for f in files:
        out = os.path.join(h5_dir, f[:-4] + ".h5")
        if os.path.exists(out):
            continue
        a = np.load(os.path.join(npy_dir, f), mmap_mode="r")
        kw = dict(chunks=(min(65536, max(1, a.shape[0])),) + a.shape[1:], compression="gzip",
                  compression_opts=1) if chunked else {}
        with h5py.File(out + ".tmp", "w") as h:
            h.create_dataset("data", data=a, **kw)
        os.rename(out + ".tmp", out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shardload", default=os.path.join(here, "..", "build", "tools", "shardload"))
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--size-mib", type=int, default=2048)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json-out")
    a = ap.parse_args()
    base = f"/tmp/shardload-bench"
    npy = f"{base}/npy-{a.size_mib}MiB"
    B.make_dataset(npy, a.size_mib << 20, 16, 0)
    h5c, h5z = f"{base}/h5-contig-{a.size_mib}MiB", f"{base}/h5-gzip-{a.size_mib}MiB"
    print("converting to HDF5 (once)...", flush=True)
    convert(npy, h5c, False)
    convert(npy, h5z, True)
    nbytes = sum(os.path.getsize(os.path.join(npy, f)) for f in os.listdir(npy))
    sl = [a.shardload, "read"]
    mpi = [a.mpiexec, "--allow-run-as-root", "--oversubscribe", "-n", "2", a.shardload, "read"]
    tools = {
        "sl-npy": sl + [npy, "--threads", "2", "--json"],
        "sl-h5": sl + [h5c, "--threads", "2", "--json"],
        "sl-h5-mpi2": mpi + [h5c, "--threads", "1", "--json"],
        "h5py": [sys.executable, "-c", H5PY_READ, h5c],
        "sl-gz": sl + [h5z, "--threads", "2", "--json"],
        "sl-gz-mpi2": mpi + [h5z, "--threads", "1", "--json"],
        "h5py-gz": [sys.executable, "-c", H5PY_READ, h5z],
    }
    for d in (npy, h5c, h5z):  # warm the page cache
        for f in os.listdir(d):
            with open(os.path.join(d, f), "rb") as fh:
                while fh.read(64 << 20):
                    pass
    runs = {k: [] for k in tools}
    for rep in range(a.reps):
        order = list(tools)[rep % len(tools):] + list(tools)[:rep % len(tools)]
        for k in order:
            r = B.run_timed(tools[k], B.numpy_env(), 900)
            j = B.parse_json_stdout(r.get("stdout", "")) or {}
            r["read"] = j.get("seconds")
            runs[k].append(r)
            print(f"rep {rep} {k:11s} rc={r['rc']} wall={r['wall']} read={r['read']}", flush=True)
    res = {}
    for k, rs in runs.items():
        ok = [r for r in rs if r["rc"] == 0 and r["wall"]]
        res[k] = {"wall": statistics.median([r["wall"] for r in ok]) if ok else None,
                  "read": statistics.median([r["read"] for r in ok if r["read"]]) if ok else None,
                  "rss": max((r["rss_mib"] or 0) for r in ok) if ok else None}

    def ratio(num, den, key):
        xs = [runs[num][i][key] / runs[den][i][key] for i in range(a.reps)
              if runs[num][i].get(key) and runs[den][i].get(key)]
        return statistics.median(xs) if xs else None

    print(f"\n{'tool':12s} {'wall s':>8s} {'read s':>8s} {'GB/s(wall)':>11s} {'peak RSS MiB':>13s}")
    for k, v in res.items():
        gb = nbytes / v["wall"] / 1e9 if v["wall"] else float("nan")
        print(f"{k:12s} {v['wall'] or float('nan'):8.3f} {v['read'] or float('nan'):8.3f} {gb:11.2f} {v['rss'] or 0:13.0f}")
    t = {
        "contiguous h5 vs own npy (whole process, >= 0.9)": ratio("sl-npy", "sl-h5", "wall"),
        "contiguous h5 vs own npy (read phase, >= 0.9)": ratio("sl-npy", "sl-h5", "read"),
        "contiguous h5 speedup over h5py (whole process, >= 2)": ratio("h5py", "sl-h5", "wall"),
        "contiguous h5 2 ranks speedup over h5py (whole process)": ratio("h5py", "sl-h5-mpi2", "wall"),
        "gzip-chunked speedup over h5py (whole process)": ratio("h5py-gz", "sl-gz", "wall"),
        "gzip-chunked 2 ranks speedup over h5py (whole process)": ratio("h5py-gz", "sl-gz-mpi2", "wall"),
    }
    print()
    for k, v in t.items():
        print(f"{k:58s} {v:.2f}" if v else f"{k:58s} n/a")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"runs": runs, "ratios": t}, f, indent=1, default=str)


if __name__ == "__main__":
    main()
