#!/usr/bin/python3
"""Benchmark: shardload vs NumPy vs fio on a ragged sharded .npy dataset.

This is a benchmark, not a test: it never fails a build.  It

  1. makes (or reuses) a ragged float32 dataset of N shards with trailing
     shape (8,)  (default 16 shards, ~2 GiB; --quick: 256 MiB),
  2. times whole processes, as a user waits for them, alternating the tools
     in every repetition:
       shardload-1p    shardload read DIR --threads 2 --json         (no MPI)
       shardload-mpi2  mpiexec -n 2 shardload read DIR --threads 1 --json
       np-concat       np.concatenate([np.load(f) for f in files])
       np-prealloc     headers via np.lib.format, np.empty, readinto per shard
       fio             O_DIRECT psync 4 MiB reads, 2 concurrent readers
  3. does this twice: warm (page cache filled by an untimed read first) and
     cold (sync + drop_caches before every timed run; root only), and
  4. prints medians, per-repetition ratios (median'd) and PASS/FAIL against
     the targets of the issue.

Use /usr/bin/python3 (it has numpy).  See bench/README.md.
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

MiB = 1 << 20
GiB = 1 << 30
COLS = 8
DTYPE = np.dtype("<f4")
NUMPY_ENV_DROP = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
FIO_BS = 4 * MiB

# --------------------------------------------------------------------------
# Child programs.  Every timed command runs under WRAPPER: a fresh, tiny
# python process that spawns the command, waits for it and reports the
# wall time (spawn to exit) and getrusage(RUSAGE_CHILDREN).ru_maxrss, i.e.
# the largest peak RSS of any descendant that was waited for (for mpiexec:
# mpiexec itself and the ranks it reaped).  The wrapper's own start-up is
# not inside the timed interval.
# --------------------------------------------------------------------------
WRAPPER = r"""
import os, sys, time, resource, json
report, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
try:
    pid = os.posix_spawnp(cmd[0], cmd, os.environ)
except OSError as e:
    sys.stderr.write("bench wrapper: cannot start %r: %s\n" % (cmd[0], e))
    with open(report, "w") as f:
        json.dump({"rc": 127, "wall": 0.0, "maxrss_kib": 0}, f)
    sys.exit(0)
_, status, _ = os.wait4(pid, 0)
t1 = time.perf_counter()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(report, "w") as f:
    json.dump({"rc": os.waitstatus_to_exitcode(status), "wall": t1 - t0,
               "maxrss_kib": ru.ru_maxrss}, f)
"""

NP_CONCAT = r"""
import sys, time, json
import numpy as np
t0 = time.perf_counter()
a = np.concatenate([np.load(f) for f in sys.argv[1:]])
t1 = time.perf_counter()
print(json.dumps({"seconds": t1 - t0, "shape": list(a.shape),
                  "last": float(a[-1, -1]) if a.size else None}))
"""

NP_PREALLOC = r"""
import sys, time, json
import numpy as np
from numpy.lib import format as fmt
t0 = time.perf_counter()
files, metas, total, dtype, tail = [], [], 0, None, None
for path in sys.argv[1:]:
    f = open(path, "rb", buffering=0)
    major, minor = fmt.read_magic(f)
    if major == 1:
        shape, fortran, dt = fmt.read_array_header_1_0(f)
    else:
        shape, fortran, dt = fmt.read_array_header_2_0(f)
    if fortran:
        raise SystemExit("%s: fortran order not supported" % path)
    if dtype is None:
        dtype, tail = dt, shape[1:]
    elif dt != dtype or shape[1:] != tail:
        raise SystemExit("%s: dtype/shape mismatch" % path)
    files.append(f)
    metas.append((total, shape[0]))
    total += shape[0]
out = np.empty((total,) + tuple(tail), dtype=dtype)
for f, (row0, rows) in zip(files, metas):
    mv = memoryview(out[row0:row0 + rows]).cast("B")
    got = 0
    while got < len(mv):
        n = f.readinto(mv[got:])
        if not n:
            raise SystemExit("short read")
        got += n
    f.close()
t1 = time.perf_counter()
print(json.dumps({"seconds": t1 - t0, "shape": list(out.shape),
                  "last": float(out[-1, -1]) if out.size else None}))
"""

NP_WARMUP = r"""
import sys
buf = bytearray(16 << 20)
mv = memoryview(buf)
for p in sys.argv[1:]:
    with open(p, "rb", buffering=0) as f:
        while f.readinto(mv):
            pass
"""


def log(msg=""):
    print(msg, flush=True)


# --------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------
def plan_rows(total_bytes, shards, seed):
    """Seeded ragged row counts, each between ~0.5x and ~1.5x the mean."""
    total_rows = total_bytes // (COLS * DTYPE.itemsize)
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 1.5, shards)
    rows = np.floor(w / w.sum() * total_rows).astype(np.int64)
    rows[-1] += total_rows - rows.sum()
    return [int(r) for r in rows]


def header_info(path):
    with open(path, "rb") as f:
        major, _ = np.lib.format.read_magic(f)
        if major == 1:
            shape, fortran, dt = np.lib.format.read_array_header_1_0(f)
        else:
            shape, fortran, dt = np.lib.format.read_array_header_2_0(f)
        return shape, fortran, dt, f.tell()


def shard_ok(path, rows):
    try:
        shape, fortran, dt, off = header_info(path)
    except Exception:
        return False
    return (shape == (rows, COLS) and not fortran and dt == DTYPE
            and os.path.getsize(path) == off + rows * COLS * DTYPE.itemsize)


def write_shard(path, rows, first_row, chunk_rows=1 << 20):
    """np.lib.format header, then the data in chunks (low memory).
    Values: flat element index (rounded to float32)."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": np.lib.format.dtype_to_descr(DTYPE),
                "fortran_order": False, "shape": (rows, COLS)})
        done = 0
        while done < rows:
            n = min(chunk_rows, rows - done)
            lo = (first_row + done) * COLS
            a = np.arange(lo, lo + n * COLS, dtype=np.float64).astype(DTYPE)
            f.write(a.data)
            done += n
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def make_dataset(d, total_bytes, shards, seed):
    os.makedirs(d, exist_ok=True)
    rows = plan_rows(total_bytes, shards, seed)
    names = ["shard_%04d.npy" % i for i in range(shards)]
    # remove stray shard files that would change what a directory read sees
    for n in os.listdir(d):
        if n.startswith("shard_") and (n.endswith(".npy") or n.endswith(".tmp")) \
                and n not in names:
            os.remove(os.path.join(d, n))
    paths = [os.path.join(d, n) for n in names]
    first, made = 0, 0
    t0 = time.perf_counter()
    for p, r in zip(paths, rows):
        if not shard_ok(p, r):
            write_shard(p, r, first)
            made += 1
        first += r
    if made:
        log("dataset: wrote %d of %d shards in %.1f s" % (made, shards, time.perf_counter() - t0))
    else:
        log("dataset: reusing existing shards (headers and sizes match)")
    return paths, rows


# --------------------------------------------------------------------------
# Running things
# --------------------------------------------------------------------------
def numpy_env():
    env = dict(os.environ)
    for k in NUMPY_ENV_DROP:
        env.pop(k, None)
    return env


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def parse_json_stdout(out):
    """Parse one JSON object from stdout, defensively."""
    s = out.strip()
    if not s:
        return None
    try:
        v = json.loads(s)
        return v if isinstance(v, dict) else None
    except ValueError:
        pass
    for line in reversed(s.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                v = json.loads(line)
                if isinstance(v, dict):
                    return v
            except ValueError:
                continue
    i, j = s.find("{"), s.rfind("}")
    if 0 <= i < j:
        try:
            v = json.loads(s[i:j + 1])
            return v if isinstance(v, dict) else None
        except ValueError:
            pass
    return None


def run_timed(cmd, env, timeout):
    """Run cmd under the wrapper; return a record."""
    fd, rep = tempfile.mkstemp(prefix="bench-wrap-", suffix=".json")
    os.close(fd)
    rec = {"cmd": cmd}
    try:
        p = subprocess.run([sys.executable, "-I", "-S", "-c", WRAPPER, rep] + cmd,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        rec["stdout"] = p.stdout.decode("utf-8", "replace")
        rec["stderr"] = p.stderr.decode("utf-8", "replace")
        try:
            with open(rep) as f:
                w = json.load(f)
        except (OSError, ValueError):
            w = {"rc": p.returncode or 99, "wall": None, "maxrss_kib": None}
        rec.update(rc=w["rc"], wall=w["wall"],
                   rss_mib=(w["maxrss_kib"] / 1024.0) if w["maxrss_kib"] else None)
    except subprocess.TimeoutExpired:
        rec.update(rc=124, wall=None, rss_mib=None, stdout="", stderr="timeout")
    finally:
        try:
            os.remove(rep)
        except OSError:
            pass
    return rec


# --------------------------------------------------------------------------
# fio job file: two jobs (the two concurrent readers), each reading its half
# of the files (balanced by bytes) one after another (file_service_type=
# sequential).  fio's multi-file mode (filename=a:b:c) would otherwise give
# every file size/nrfiles bytes, wrong for ragged shards; filesize=1-1T makes
# it use each file's real size.  With fixed bs=4M, fio reads whole 4 MiB
# blocks only, so the last partial block of each file (< 4 MiB, ~1.5% of a
# 128 MiB shard) is not read; throughput is computed from the bytes fio
# reports (io_bytes), so it stays comparable.  (Chaining per-file jobs with
# wait_for would read every byte but costs ~0.2 s of fio polling per link.)
# invalidate=0: fio must not evict the page cache the warm runs rely on.
# --------------------------------------------------------------------------
def fio_jobfile(paths, path_out, iodepth=1):
    sizes = [(os.path.getsize(p), p) for p in paths]
    lanes = [[], []]
    lane_bytes = [0, 0]
    for sz, p in sorted(sizes, reverse=True):
        k = 0 if lane_bytes[0] <= lane_bytes[1] else 1
        lanes[k].append((p, sz))
        lane_bytes[k] += sz
    engine = ["ioengine=psync"] if iodepth <= 1 else ["ioengine=libaio", "iodepth=%d" % iodepth]
    lines = ["[global]", "rw=read"] + engine + ["direct=1", "bs=%d" % FIO_BS,
             "thread", "invalidate=0", "group_reporting", "filesize=1-1T",
             "file_service_type=sequential", ""]
    expect = 0
    for li, lane in enumerate(lanes):
        lane = sorted(lane)
        lines.append("[r%d]" % li)
        lines.append("filename=%s" % ":".join(p.replace(":", "\\:") for p, _ in lane))
        lines.append("")
        expect += sum(sz // FIO_BS * FIO_BS for _, sz in lane)
    with open(path_out, "w") as f:
        f.write("\n".join(lines))
    return expect, [[os.path.basename(p) for p, _ in sorted(l)] for l in lanes]


def parse_fio(out):
    """Return (bytes, read-phase seconds) from fio's group-reported JSON
    (runtime = the longer of the two jobs, in ms)."""
    try:
        d = json.loads(out[out.find("{"):])
        jobs = d["jobs"]
        if any(j.get("error") for j in jobs):
            return None, None
        total = sum(j["read"]["io_bytes"] for j in jobs)
        secs = max(j["read"]["runtime"] for j in jobs) / 1000.0
        return total, secs
    except (ValueError, KeyError, TypeError):
        return None, None


# --------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def build_tools(args, paths, ddir, mode, sl_ok, mpi_ok, fio_ok, jobfile):
    extra = shlex.split(args.sl_args) + shlex.split(
        args.cold_args if mode == "cold" else args.warm_args)
    tools = []
    if sl_ok:
        tools.append(("shardload-1p",
                      [args.shardload, "read", ddir, "--threads", "2", "--json"] + extra,
                      None))
        if mpi_ok:
            tools.append(("shardload-mpi2",
                          [args.mpiexec, "--allow-run-as-root", "--oversubscribe", "-n", "2",
                           args.shardload, "read", ddir, "--threads", "1", "--json"] + extra,
                          None))
    tools.append(("np-concat", [sys.executable, "-c", NP_CONCAT] + paths, numpy_env()))
    tools.append(("np-prealloc", [sys.executable, "-c", NP_PREALLOC] + paths, numpy_env()))
    if fio_ok:
        tools.append(("fio", [args.fio, "--output-format=json", jobfile], None))
    return tools


def run_mode(args, mode, paths, ddir, array_bytes, sl_ok, mpi_ok, fio_ok, jobfile, fio_expect):
    tools = build_tools(args, paths, ddir, mode, sl_ok, mpi_ok, fio_ok, jobfile)
    names = [t[0] for t in tools]
    log("\n=== %s: %d reps, order rotates each rep ===" % (mode.upper(), args.reps))
    for name, cmd, _ in tools:
        shown = cmd if not cmd[0] == sys.executable else cmd[:2] + ["<script>", "<%d files>" % len(paths)]
        log("  %-15s %s" % (name, " ".join(shlex.quote(c) for c in shown)))
    if mode == "warm":
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", NP_WARMUP] + paths, check=True)
        log("  warm-up read (untimed): %.2f s" % (time.perf_counter() - t0))
    runs = {n: [] for n in names}
    for rep in range(args.reps):
        order = tools[rep % len(tools):] + tools[:rep % len(tools)]
        for name, cmd, env in order:
            if mode == "cold":
                drop_caches()
            rec = run_timed(cmd, env if env is not None else dict(os.environ), args.timeout)
            rec["rep"] = rep
            if name == "fio":
                b, secs = parse_fio(rec["stdout"])
                rec["bytes"], rec["read"] = b, secs
                rec["parsed"] = b is not None
                if b is not None and b != fio_expect:
                    log("  WARNING: fio read %d bytes, expected %d" % (b, fio_expect))
                rec["stdout"] = rec["stdout"][:200] if b is not None else rec["stdout"][:4000]
            else:
                j = parse_json_stdout(rec["stdout"])
                rec["json"] = j
                rec["parsed"] = bool(j and isinstance(j.get("seconds"), (int, float)))
                rec["read"] = float(j["seconds"]) if rec["parsed"] else None
                rec["bytes"] = array_bytes
            ok = rec["rc"] == 0 and rec["wall"] is not None
            rec["ok"] = ok
            msg = "  rep %d %-15s wall %s s  read %s s  rss %s MiB" % (
                rep, name, fmt(rec["wall"], ".3f"), fmt(rec["read"], ".3f"),
                fmt(rec["rss_mib"], ".0f"))
            if not ok:
                msg += "  FAILED rc=%s" % rec["rc"]
            log(msg)
            if not ok:
                log("      stderr: %s" % rec["stderr"].strip()[:400].replace("\n", "\n      "))
            if ok and not rec["parsed"]:
                log("      (could not parse JSON; stdout starts: %r)" % rec["stdout"][:200])
            if name != "fio" and len(rec["stdout"]) > 4000:
                rec["stdout"] = rec["stdout"][:4000]
            runs[name].append(rec)
    return summarize(mode, runs, array_bytes, args)


def per_rep_ratio(runs, num, den, key):
    """median over reps of runs[num][rep][key] / runs[den][rep][key]."""
    out = []
    a = {r["rep"]: r for r in runs.get(num, []) if r["ok"]}
    b = {r["rep"]: r for r in runs.get(den, []) if r["ok"]}
    for rep in sorted(set(a) & set(b)):
        x, y = a[rep].get(key), b[rep].get(key)
        if x and y:
            out.append(x / y)
    return (med(out), out)


def summarize(mode, runs, array_bytes, args):
    summ = {}
    for name, recs in runs.items():
        ok = [r for r in recs if r["ok"]]
        s = {"n_ok": len(ok), "n": len(recs),
             "wall": med([r["wall"] for r in ok]),
             "read": med([r["read"] for r in ok]),
             "rss_mib": max([r["rss_mib"] for r in ok if r["rss_mib"]] or [None]) if ok else None}
        nbytes = array_bytes if name != "fio" else med([r["bytes"] for r in ok])
        s["bytes"] = nbytes
        s["gbps_wall"] = nbytes / s["wall"] / 1e9 if (s["wall"] and nbytes) else None
        s["gbps_read"] = nbytes / s["read"] / 1e9 if (s["read"] and nbytes) else None
        # speedups: baseline time / this tool's time, per rep, median'd
        for base in ("np-prealloc", "np-concat"):
            for key in ("wall", "read"):
                s["x_%s_%s" % (base, key)], s["x_%s_%s_reps" % (base, key)] = \
                    per_rep_ratio(runs, base, name, key)
        summ[name] = s
    # throughput relative to fio's O_DIRECT bandwidth, per rep:
    # (array_bytes / t) / (fio io_bytes / fio read-phase).  fio's own
    # whole-process time is not used: its start-up alone is ~0.3 s.
    if "fio" in runs:
        f = {r["rep"]: r for r in runs["fio"] if r["ok"] and r.get("bytes") and r.get("read")}
        for name in runs:
            if name == "fio":
                continue
            for key in ("wall", "read"):
                vals = []
                for r in runs[name]:
                    fr = f.get(r["rep"])
                    if r["ok"] and fr and r.get(key):
                        vals.append((array_bytes / r[key]) / (fr["bytes"] / fr["read"]))
                summ[name]["x_fio_%s" % key] = med(vals)
                summ[name]["x_fio_%s_reps" % key] = vals
    return {"mode": mode, "runs": runs, "summary": summ}


def print_table(res, array_bytes):
    mode, summ = res["mode"], res["summary"]
    cold = mode == "cold"
    log("\n--- %s results (medians; ratios = per-rep ratio, median'd; "
        "'x' = baseline time / tool time) ---" % mode.upper())
    hdr = "%-15s %5s %8s %8s %8s %8s %8s %10s %12s %10s %12s" % (
        "tool", "ok", "wall s", "read s", "GB/s", "GB/s rd", "RSS MiB",
        "x prealloc", "(read-phase)", "x concat", "(read-phase)")
    if cold:
        hdr += " %9s %12s" % ("x fio", "(read-phase)")
    log(hdr)
    log("-" * len(hdr))
    for name, s in summ.items():
        line = "%-15s %5s %8s %8s %8s %8s %8s %10s %12s %10s %12s" % (
            name, "%d/%d" % (s["n_ok"], s["n"]), fmt(s["wall"], ".3f"), fmt(s["read"], ".3f"),
            fmt(s["gbps_wall"], ".2f"), fmt(s["gbps_read"], ".2f"), fmt(s["rss_mib"], ".0f"),
            fmt(s["x_np-prealloc_wall"], ".2f"), fmt(s["x_np-prealloc_read"], ".2f"),
            fmt(s["x_np-concat_wall"], ".2f"), fmt(s["x_np-concat_read"], ".2f"))
        if cold:
            line += " %9s %12s" % (fmt(s.get("x_fio_wall"), ".2f"), fmt(s.get("x_fio_read"), ".2f"))
        log(line)


def judge(results, array_bytes, tile_bytes, sl_ok):
    """Targets from the issue, PASS/FAIL per shardload variant, judged twice:
    on whole-process time (as a user waits) and on the read phase the tool
    reports.  Against fio both use fio's O_DIRECT bandwidth (bytes / its
    read phase) as the device limit."""
    rows = []

    def verdict(v, lim):
        if v is None:
            return "SKIP"
        return "PASS" if v >= lim else "FAIL"

    for res in results:
        summ = res["summary"]
        for name in ("shardload-1p", "shardload-mpi2"):
            if name not in summ:
                continue
            s = summ[name]
            if res["mode"] == "warm":
                for base, lim in (("np-prealloc", 1.5), ("np-concat", 5.0)):
                    v, vr = s["x_%s_wall" % base], s["x_%s_read" % base]
                    rows.append(("warm", name, ">= %.1fx %s (speedup)" % (lim, base),
                                 fmt(v, ".2f"), verdict(v, lim), fmt(vr, ".2f"), verdict(vr, lim)))
            if res["mode"] == "cold" and "x_fio_wall" in s:
                v, vr = s["x_fio_wall"], s["x_fio_read"]
                rows.append(("cold", name, ">= 0.9x fio O_DIRECT GB/s",
                             fmt(v, ".2f"), verdict(v, 0.9), fmt(vr, ".2f"), verdict(vr, 0.9)))
            # peak RSS: one process holds the whole array; each MPI rank one tile
            lim_b = (array_bytes if name == "shardload-1p" else tile_bytes) + 64 * MiB
            rss = s["rss_mib"]
            v = "SKIP" if rss is None else ("PASS" if rss * MiB <= lim_b else "FAIL")
            rows.append((res["mode"], name,
                         "peak RSS <= %s+64MiB = %.0f MiB" % (
                             "array" if name == "shardload-1p" else "tile", lim_b / MiB),
                         fmt(rss, ".0f"), v, "", ""))
    log("\n--- targets (issue); judged on whole-process time and on the tool's read phase ---")
    if not sl_ok:
        log("  shardload binary not available: all targets SKIPPED")
    else:
        log("  %-5s %-15s %-36s %8s %6s   %10s %6s" % (
            "mode", "tool", "target", "wall", "", "read-phase", ""))
    for r in rows:
        log("  %-5s %-15s %-36s %8s %6s   %10s %6s" % r)
    return [dict(zip(("mode", "tool", "target", "value_wall", "verdict_wall",
                      "value_read", "verdict_read"), r)) for r in rows]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(here)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", help="dataset directory (default /tmp/shardload-bench/npy-<size>)")
    ap.add_argument("--shardload", default=os.path.join(repo, "build", "tools", "shardload"),
                    help="shardload binary (default: %(default)s)")
    ap.add_argument("--mpiexec", default=shutil.which("mpiexec") or "mpiexec")
    ap.add_argument("--fio", default=shutil.which("fio") or "fio")
    ap.add_argument("--reps", type=int, help="repetitions per mode (default 5; --quick: 2)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 256 MiB, 2 reps")
    ap.add_argument("--size-mib", type=int, help="dataset size in MiB (default 2048; --quick: 256)")
    ap.add_argument("--shards", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modes", default="warm,cold", help="comma list of warm,cold (default %(default)s)")
    ap.add_argument("--sl-args", default="", help="extra shardload args for every run")
    ap.add_argument("--warm-args", default="", help="extra shardload args for warm runs")
    ap.add_argument("--cold-args", default="--io direct",
                    help="extra shardload args for cold runs (default %(default)r)")
    ap.add_argument("--no-mpi", action="store_true", help="skip the mpiexec -n 2 run")
    ap.add_argument("--no-fio", action="store_true", help="skip fio")
    ap.add_argument("--fio-iodepth", type=int, default=1,
                    help="1: psync (default); N>1: libaio with iodepth N per job")
    ap.add_argument("--timeout", type=float, default=600, help="per-command timeout, s")
    ap.add_argument("--json-out", help="save all raw numbers to this file")
    args = ap.parse_args()

    size_mib = args.size_mib or (256 if args.quick else 2048)
    args.reps = args.reps or (2 if args.quick else 5)
    ddir = os.path.abspath(args.dir or "/tmp/shardload-bench/npy-%dMiB" % size_mib)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    args.shardload = os.path.abspath(args.shardload)

    log("shardload bench  %s  host %s  cpus %d" % (
        time.strftime("%Y-%m-%d %H:%M:%S %Z"), os.uname().nodename, os.cpu_count()))
    log("note: machines drift 2x run to run; compare ratios within this run, not absolute numbers")
    log("note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are unset in the numpy child "
        "environments only (they slow 'import numpy'); numpy %s, python %s" % (
            np.__version__, sys.executable))

    paths, rows = make_dataset(ddir, size_mib * MiB, args.shards, args.seed)
    total_rows = sum(rows)
    array_bytes = total_rows * COLS * DTYPE.itemsize
    file_bytes = sum(os.path.getsize(p) for p in paths)
    tile_rows = -(-total_rows // 2)  # balanced, 2 ranks: largest tile
    tile_bytes = tile_rows * COLS * DTYPE.itemsize
    log("dataset: %s  %d shards  rows %d..%d  total (%d, %d) float32  array %.1f MiB  files %.1f MiB" % (
        ddir, len(paths), min(rows), max(rows), total_rows, COLS, array_bytes / MiB, file_bytes / MiB))

    sl_ok = os.access(args.shardload, os.X_OK)
    if not sl_ok:
        log("shardload: %s not found/executable -> skipping shardload runs" % args.shardload)
    mpi_ok = sl_ok and not args.no_mpi and shutil.which(args.mpiexec) is not None
    if sl_ok and not mpi_ok and not args.no_mpi:
        log("mpiexec not found -> skipping shardload-mpi2")
    fio_ok = not args.no_fio and shutil.which(args.fio) is not None
    if not args.no_fio and not fio_ok:
        log("fio not found -> skipping fio (apt-get install -y fio)")

    if "cold" in modes:
        why = None
        if os.geteuid() != 0:
            why = "not root"
        else:
            try:
                drop_caches()
            except OSError as e:
                why = "cannot write /proc/sys/vm/drop_caches (%s)" % e
        if why:
            log("cold mode SKIPPED: %s" % why)
            modes = [m for m in modes if m != "cold"]

    tmpd = tempfile.mkdtemp(prefix="shardload-bench-")
    jobfile = os.path.join(tmpd, "read.fio")
    fio_expect, lanes = fio_jobfile(paths, jobfile, args.fio_iodepth)
    if fio_ok:
        log("fio: 2 concurrent jobs (%d + %d files), O_DIRECT %s bs=4M, %d bytes "
            "(whole 4 MiB blocks: %.1f%% of the file bytes)" % (
                len(lanes[0]), len(lanes[1]),
                "psync" if args.fio_iodepth <= 1 else "libaio iodepth=%d" % args.fio_iodepth,
                fio_expect, 100.0 * fio_expect / file_bytes))

    results = []
    try:
        for mode in modes:
            res = run_mode(args, mode, paths, ddir, array_bytes, sl_ok, mpi_ok, fio_ok,
                           jobfile, fio_expect)
            results.append(res)
            print_table(res, array_bytes)
    finally:
        shutil.rmtree(tmpd, ignore_errors=True)
    targets = judge(results, array_bytes, tile_bytes, sl_ok)
    log("\ncolumns: wall s = median whole-process seconds (spawn to exit); read s = median "
        "read-phase seconds reported by the tool (shardload 'seconds', numpy after import, "
        "fio group runtime); GB/s = bytes / wall s, GB/s rd = bytes / read s (1e9 B/s; "
        "for fio use GB/s rd, its start-up alone is ~0.3 s); x fio = tool GB/s (wall or "
        "read phase) / fio GB/s rd, per rep; "
        "RSS = largest peak RSS of one process over reps (for mpiexec: max over "
        "mpiexec and its ranks, not their sum).")

    if args.json_out:
        out = {"config": {k: v for k, v in vars(args).items()},
               "dataset": {"dir": ddir, "shards": [os.path.basename(p) for p in paths],
                           "rows": rows, "cols": COLS, "dtype": DTYPE.str,
                           "array_bytes": array_bytes, "file_bytes": file_bytes,
                           "largest_tile_bytes_2ranks": tile_bytes},
               "fio": {"expected_bytes": fio_expect, "lanes": lanes},
               "modes": results, "targets": targets,
               "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        with open(args.json_out, "w") as f:
            json.dump(out, f, indent=1, default=str)
        log("raw numbers saved to %s" % args.json_out)


if __name__ == "__main__":
    main()
