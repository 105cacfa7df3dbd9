#!/usr/bin/python3
"""Benchmark: shardload on a Zarr v2 array vs python3-zarr and dask.

Not a test. Makes (or reuses) one float32 array (default 2 GiB, 1024
columns) in chunks of 16 MiB (4096 rows x 1024), twice with python3-zarr:
uncompressed and Blosc lz4 (clevel 5, byte shuffle); values are rounded
normals, so Blosc has something to find. Times whole processes, warm page
cache, tools in a rotating order within each repetition:

  sl-npy        shardload read NPYDIR --threads 2 --json  (bench_npy.py's dataset, same bytes)
  sl-raw        shardload read RAW.zarr --threads 2 --json
  zarr-raw      zarr.open(RAW.zarr)[:]
  dask-raw      dask.array.from_zarr(RAW.zarr).compute(num_workers=2, threaded scheduler)
  sl-lz4 / zarr-lz4 / dask-lz4   the same on the Blosc lz4 array

Targets (issue P9): on the compressed array >= 3x python3-zarr and >= 1.5x
dask; uncompressed within 0.9x of shardload's npy throughput.
Use /usr/bin/python3 (numpy, zarr, numcodecs, dask).
"""
import argparse, json, os, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_npy as B  # noqa: E402

ZARR_READ = r"""
import sys, time
t0 = time.perf_counter()
import numpy as np, zarr
t1 = time.perf_counter()
a = zarr.open(sys.argv[1], mode="r")[:]
t2 = time.perf_counter()
print('{"seconds": %f, "import": %f, "sum": %f}' % (t2 - t1, t1 - t0, float(a[::4096, 0].sum())))
"""

DASK_READ = r"""
import sys, time
t0 = time.perf_counter()
import numpy as np, dask, dask.array as da
t1 = time.perf_counter()
a = da.from_zarr(sys.argv[1]).compute(scheduler="threads", num_workers=2)
t2 = time.perf_counter()
print('{"seconds": %f, "import": %f, "sum": %f}' % (t2 - t1, t1 - t0, float(a[::4096, 0].sum())))
"""

COLS, CHUNK_ROWS = 1024, 4096  # 16 MiB chunks of whole rows


def run_cpu(cmd, env, timeout):
    """Whole process: wall seconds, CPU seconds (user + system, all threads,
    from wait4: what a tool costs when other work shares the cores), peak RSS."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    wall = time.perf_counter() - t0
    ru = p.rusage if hasattr(p, "rusage") else None
    rec = {"cmd": cmd, "rc": p.returncode, "wall": wall, "stdout": out.decode("utf-8", "replace"),
           "stderr": err.decode("utf-8", "replace")}
    if ru is not None:
        rec["cpu"] = ru.ru_utime + ru.ru_stime
        rec["rss_mib"] = ru.ru_maxrss / 1024.0
    return rec


class RusagePopen(subprocess.Popen):
    """Popen that keeps the child's rusage (wait4) when it is reaped."""

    def _try_wait(self, wait_flags):
        try:
            pid, sts, ru = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return (self.pid, 0)
        if pid == self.pid:
            self.rusage = ru
        return (pid, sts)


subprocess.Popen = RusagePopen


def make_store(path, rows, compressor, seed=1):
    import numcodecs
    import numpy as np
    import zarr
    done = os.path.join(path, ".bench-complete")
    if os.path.exists(done):
        z = zarr.open(path, mode="r")
        if z.shape == (rows, COLS) and z.chunks == (CHUNK_ROWS, COLS):
            return
    comp = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1) if compressor else None
    z = zarr.open(path, mode="w", shape=(rows, COLS), chunks=(CHUNK_ROWS, COLS), dtype="<f4",
                  compressor=comp)
    rng = np.random.default_rng(seed)
    for r in range(0, rows, CHUNK_ROWS * 4):
        n = min(CHUNK_ROWS * 4, rows - r)
        z[r:r + n] = np.round(rng.standard_normal((n, COLS), dtype=np.float32), 2)
    open(done, "w").close()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shardload", default=os.path.join(here, "..", "build", "tools", "shardload"))
    ap.add_argument("--size-mib", type=int, default=2048)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--no-npy", action="store_true", help="skip the npy reference")
    ap.add_argument("--json-out")
    a = ap.parse_args()
    base = "/tmp/shardload-bench"
    rows = (a.size_mib << 20) // (4 * COLS)
    raw, lz4 = f"{base}/zarr-raw-{a.size_mib}MiB.zarr", f"{base}/zarr-lz4-{a.size_mib}MiB.zarr"
    print("making the Zarr arrays (once)...", flush=True)
    make_store(raw, rows, False)
    make_store(lz4, rows, True)
    sl = [a.shardload, "read"]
    py = sys.executable
    tools = {}
    if not a.no_npy:
        npy = f"{base}/npy-{a.size_mib}MiB"
        B.make_dataset(npy, a.size_mib << 20, 16, 0)
        tools["sl-npy"] = sl + [npy, "--threads", "2", "--json"]
    tools.update({
        "sl-raw": sl + [raw, "--threads", "2", "--json"],
        "zarr-raw": [py, "-c", ZARR_READ, raw],
        "dask-raw": [py, "-c", DASK_READ, raw],
        "sl-lz4": sl + [lz4, "--threads", "2", "--json"],
        "zarr-lz4": [py, "-c", ZARR_READ, lz4],
        "dask-lz4": [py, "-c", DASK_READ, lz4],
    })
    dirs = [raw, lz4] + ([] if a.no_npy else [f"{base}/npy-{a.size_mib}MiB"])
    for d in dirs:  # warm the page cache
        for root, _, files in os.walk(d):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    while fh.read(64 << 20):
                        pass
    stored = {d: sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)
              for d in (raw, lz4)}
    runs = {k: [] for k in tools}
    for rep in range(a.reps):
        order = list(tools)[rep % len(tools):] + list(tools)[:rep % len(tools)]
        for k in order:
            r = run_cpu(tools[k], B.numpy_env(), 900)
            j = B.parse_json_stdout(r.get("stdout", "")) or {}
            r["read"] = j.get("seconds")
            runs[k].append(r)
            print(f"rep {rep} {k:9s} rc={r['rc']} wall={r['wall']:.3f} cpu={r.get('cpu', 0):.3f} "
                  f"read={r['read']}", flush=True)
            if r["rc"] != 0:
                print(r.get("stderr", "")[-800:])
    nbytes = rows * COLS * 4
    print(f"\narray {nbytes / 2**20:.0f} MiB; stored: uncompressed {stored[raw] / 2**20:.0f} MiB, "
          f"blosc-lz4 {stored[lz4] / 2**20:.0f} MiB")
    print(f"{'tool':10s} {'wall s':>8s} {'cpu s':>8s} {'read s':>8s} {'GB/s(wall)':>11s} "
          f"{'peak RSS MiB':>13s}")
    res = {}
    for k, rs in runs.items():
        ok = [r for r in rs if r["rc"] == 0 and r["wall"]]
        res[k] = {"wall": statistics.median([r["wall"] for r in ok]) if ok else None,
                  "cpu": statistics.median([r["cpu"] for r in ok if r.get("cpu")]) if ok else None,
                  "read": statistics.median([r["read"] for r in ok if r["read"]]) if ok else None,
                  "rss": max((r["rss_mib"] or 0) for r in ok) if ok else None}
        v = res[k]
        gb = nbytes / v["wall"] / 1e9 if v["wall"] else float("nan")
        print(f"{k:10s} {v['wall'] or float('nan'):8.3f} {v['cpu'] or float('nan'):8.3f} "
              f"{v['read'] or float('nan'):8.3f} "
              f"{gb:11.2f} {v['rss'] or 0:13.0f}")

    def ratio(num, den, key="wall"):
        if num not in runs or den not in runs:
            return None
        xs = [runs[num][i][key] / runs[den][i][key] for i in range(a.reps)
              if runs[num][i].get(key) and runs[den][i].get(key)]
        return statistics.median(xs) if xs else None

    t = {
        "blosc-lz4: speedup over zarr (whole process, >= 3)": ratio("zarr-lz4", "sl-lz4"),
        "blosc-lz4: speedup over dask 2 threads (whole process, >= 1.5)": ratio("dask-lz4", "sl-lz4"),
        "uncompressed: speedup over zarr (whole process)": ratio("zarr-raw", "sl-raw"),
        "uncompressed: speedup over dask 2 threads (whole process)": ratio("dask-raw", "sl-raw"),
        "uncompressed zarr vs own npy throughput (whole process, >= 0.9)": ratio("sl-npy", "sl-raw"),
        "uncompressed zarr vs own npy throughput (read phase)": ratio("sl-npy", "sl-raw", "read"),
        "blosc-lz4: CPU seconds of zarr / shardload": ratio("zarr-lz4", "sl-lz4", "cpu"),
        "blosc-lz4: CPU seconds of dask / shardload": ratio("dask-lz4", "sl-lz4", "cpu"),
        "uncompressed: CPU seconds of npy / zarr (shardload both)": ratio("sl-npy", "sl-raw", "cpu"),
    }
    print()
    for k, v in t.items():
        print(f"{k:66s} {v:.2f}" if v else f"{k:66s} n/a")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"runs": runs, "ratios": t}, f, indent=1, default=str)


if __name__ == "__main__":
    main()
