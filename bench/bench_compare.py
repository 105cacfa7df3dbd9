#!/usr/bin/python3
"""Benchmark: one shardload binary against another (before and after a
change), alternating, whole process, same run; and the many-shards loads.

Not a test. Part 1 (--old and --new binaries), warm page cache:

  npy-2g      2 GiB npy, 16 ragged shards (bench_npy's dataset)
  h5-1g       1 GiB contiguous HDF5 (h5py, dataset "data"), 8 shards
  pq-1g       1 GiB Parquet (DuckDB, snappy, 8 DOUBLE columns), 8 shards
  arrow-1g    1 GiB Arrow IPC (apache-arrow JS, uncompressed), 8 shards

each read by `shardload read DIR --threads 2 --json`, old and new in turn
(which goes first alternates, after an untimed run of the other one),
--reps times. It prints the median wall time
of each and the median of the per-repetition ratios old/new (> 1: new is
faster); the target is that none drops below 0.95.

Part 2 (--new only unless --old-many): 100000 npy shards of 10 rows in one
process under `ulimit -n 1024`, at --io buffered, direct and auto, and 10000
shards at 4 ranks: load time, peak descriptors the process held (sampled
from /proc/PID/fd every millisecond, and the library's own count), and the
opens of shard files per shard per reading rank (strace -f -e openat, a
separate run).
"""
import argparse, json, os, random, resource, statistics, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_npy as B  # noqa: E402
import bench_hdf5 as H  # noqa: E402
import bench_tables as T  # noqa: E402

BASE = "/tmp/shardload-bench"


def datasets(a):
    """The four datasets of part 1, made once and kept under BASE."""
    npy = f"{BASE}/npy-2048MiB"
    B.make_dataset(npy, 2 << 30, 16, 0)
    h5 = f"{BASE}/h5-1g"
    npy1 = f"{BASE}/npy-1024MiB-8"
    B.make_dataset(npy1, 1 << 30, 8, 1)
    H.convert(npy1, h5, False)
    pq, arw, _ = T.make(a.node_cache, f"{BASE}/tables-{2 * 1024 * 1024}x8", 2 * 1024 * 1024, 8)
    return {"npy-2g": npy, "h5-1g": h5, "pq-1g": pq, "arrow-1g": arw}


def warm(d):
    for f in os.listdir(d):
        with open(os.path.join(d, f), "rb") as fh:
            while fh.read(64 << 20):
                pass


def compare(a):
    sets = datasets(a)
    bins = {"old": a.old, "new": a.new}
    runs = {(k, b): [] for k in sets for b in bins}
    for d in sets.values():
        warm(d)
    for rep in range(a.reps):
        for ki, (k, d) in enumerate(sets.items()):
            order = ["old", "new"] if (rep + ki) % 2 == 0 else ["new", "old"]
            # An untimed run first: the first process to fault in its tile
            # after a pause pays for the memory the host took back (up to
            # seconds per GiB here), and would put that on whichever binary
            # happened to come first.
            B.run_timed([bins[order[1]], "read", d, "--threads", "2", "--json"],
                        dict(os.environ), 900)
            for b in order:
                r = B.run_timed([bins[b], "read", d, "--threads", "2", "--json"],
                                dict(os.environ), 900)
                r["first"] = b == order[0]
                runs[(k, b)].append(r)
                print(f"rep {rep} {k:9s} {b}: rc={r['rc']} wall={r['wall']}", flush=True)
                if r["rc"] != 0:
                    print(r.get("stderr", "")[-300:])
    print(f"\n{'dataset':9s} {'old s':>7s} {'new s':>7s} {'old/new':>8s}  (median wall; "
          "median of per-rep ratios)")
    out = {}
    for k in sets:
        o = [r["wall"] for r in runs[(k, "old")] if r["rc"] == 0]
        n = [r["wall"] for r in runs[(k, "new")] if r["rc"] == 0]
        ratios = [ro["wall"] / rn["wall"] for ro, rn in zip(runs[(k, "old")], runs[(k, "new")])
                  if ro["rc"] == 0 and rn["rc"] == 0]
        mo, mn = statistics.median(o), statistics.median(n)
        mr = statistics.median(ratios)
        out[k] = {"old": mo, "new": mn, "ratio": mr, "old_all": o, "new_all": n}
        verdict = "ok" if mr >= 0.95 else "SLOWER"
        print(f"{k:9s} {mo:7.3f} {mn:7.3f} {mr:8.3f}  {verdict}")
    return out


# ------------------------------------------------------------ many shards

def many(n, rows):
    d = f"{BASE}/many-{n}x{rows}"
    if not os.path.exists(f"{d}/shard_{n - 1:04d}.npy"):
        print(f"writing {n} shards of {rows} rows (once)...", flush=True)
        subprocess.run([A.new, "write", d, "--shape", f"{n * rows},8", "--num-shards", str(n),
                        "--seed", "3", "--force"], check=True, capture_output=True)
    return d


def peak_fds(pid, stop, box):
    """Samples /proc/PID/fd until stop is set; box[0] = the most seen."""
    while not stop.is_set():
        try:
            box[0] = max(box[0], len(os.listdir(f"/proc/{pid}/fd")))
        except OSError:
            pass
        time.sleep(0.001)


def limited(nofile):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))


def run_many(binary, argv, nofile=1024, ranks=0):
    cmd = [binary] + argv
    if ranks:
        cmd = A.mpiexec.split() + ["-n", str(ranks)] + cmd
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=limited(nofile))
    stop, box = threading.Event(), [0]
    th = threading.Thread(target=peak_fds, args=(p.pid, stop, box))
    th.start()
    out, err = p.communicate(timeout=1800)
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    j = B.parse_json_stdout(out.decode()) or {}
    return {"rc": p.returncode, "wall": wall, "peak_fds_sampled": box[0], "json": j,
            "stderr": err.decode()[-300:]}


def opens_per_shard(binary, d, io):
    """openat calls on shard files (discovery's and the read's), from strace."""
    log = f"{BASE}/strace-{os.getpid()}.log"
    subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat", "-o", log, binary, "read", d,
                    "--io", io], capture_output=True, preexec_fn=limited(1024))
    with open(log) as fh:
        count = sum(1 for line in fh if "shard_" in line and "= -1" not in line)
    os.remove(log)
    return count


def many_shards(a):
    res = {}
    d = many(100000, 10)
    binaries = {"new": a.new}
    if a.old_many:
        binaries["old"] = a.old
    for b, binary in binaries.items():
        for io in ("buffered", "direct", "auto"):
            r = run_many(binary, ["read", d, "--io", io, "--json"])
            pr = (r["json"].get("per_rank") or [{}])[0]
            res[f"100000x1p-{io}-{b}"] = r
            print(f"{b} 100000 shards, 1 process, ulimit -n 1024, io {io}: rc={r['rc']} "
                  f"wall={r['wall']:.2f}s load={r['json'].get('load_seconds')} "
                  f"peak fds sampled={r['peak_fds_sampled']} library peak="
                  f"{pr.get('open_files_peak')} of {pr.get('open_files_limit')} "
                  f"opened={pr.get('files_opened')} {r['stderr'].strip()[:120]}", flush=True)
    opens = opens_per_shard(a.new, d, "buffered")
    print(f"new 100000 shards, 1 process, io buffered: {opens} opens of shard files in all, "
          f"{opens / 100000:.2f} per shard, discovery's one included", flush=True)
    res["opens_100000"] = opens
    d = many(10000, 10)
    for io in ("buffered", "direct"):
        r = run_many(a.new, ["read", d, "--io", io, "--json"], ranks=4)
        ranks = r["json"].get("per_rank") or []
        print(f"new 10000 shards, 4 ranks, io {io}: rc={r['rc']} wall={r['wall']:.2f}s "
              f"load={r['json'].get('load_seconds')} per rank files/opened/peak: "
              f"{[(x['files'], x['files_opened'], x['open_files_peak']) for x in ranks]}",
              flush=True)
        res[f"10000x4-{io}"] = r
    return res


def main():
    global A
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", help="the shardload binary from before the change")
    ap.add_argument("--new", default=os.path.join(os.path.dirname(__file__), "..", "build",
                                                  "tools", "shardload"))
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--node-cache", default=f"{BASE}/node")
    ap.add_argument("--mpiexec", default="mpiexec --allow-run-as-root --oversubscribe")
    ap.add_argument("--skip-compare", action="store_true")
    ap.add_argument("--skip-many", action="store_true")
    ap.add_argument("--old-many", action="store_true", help="run the old binary on many shards too")
    ap.add_argument("--json-out")
    A = ap.parse_args()
    os.makedirs(BASE, exist_ok=True)
    out = {}
    if A.old and not A.skip_compare:
        out["compare"] = compare(A)
    if not A.skip_many:
        out["many"] = many_shards(A)
    if A.json_out:
        with open(A.json_out, "w") as f:
            json.dump(out, f, indent=1, default=str)


if __name__ == "__main__":
    main()
