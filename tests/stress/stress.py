#!/usr/bin/python3
"""The stress tier (TESTING.md): one test per subcommand.

  many-shards  100000 tiny npy shards read in one process under ulimit -n 1024
  many-ranks   64 ranks (oversubscribed) on a 5-row dataset
  rank-killed  a rank SIGKILLed mid-load and mid-output: the job ends non-zero
               within 10 s and leaves neither the output nor a temporary file

Every test checks afterwards that its input files kept their sha256, mtime
and inode. "Mid-load" is made deterministic by pause_shim.so (LD_PRELOAD,
tests only), which stops the chosen rank at the first read of shard data or
at the fsync of the output's temporary file and writes a marker."""
import argparse, hashlib, io, json, os, resource, shutil, signal, stat, subprocess, sys
import time
import uuid

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import MPI_ENV, check, summary  # noqa: E402

NOFILE = 1024
KILL_LIMIT_S = 10.0


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("test", choices=["many-shards", "many-ranks", "rank-killed"])
    ap.add_argument("--shardload", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--shim", help="pause_shim.so (rank-killed)")
    ap.add_argument("--work", required=True, help="a folder of the build tree for the data")
    return ap.parse_args()


# ---------------------------------------------------------------- inputs

def snapshot(folder):
    """sha256, mtime (ns), inode and size of every file under folder, by path
    relative to it. Plain os calls: open() adds system calls that cost 6x here
    for 100000 files."""
    out = {}
    for root, _, names in os.walk(folder):
        dfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for n in names:
                fd = os.open(n, os.O_RDONLY, dir_fd=dfd)
                try:
                    st = os.fstat(fd)
                    data = os.read(fd, st.st_size + 1)
                    while len(data) <= st.st_size:  # large files come in parts
                        more = os.read(fd, st.st_size + 1 - len(data))
                        if not more:
                            break
                        data += more
                finally:
                    os.close(fd)
                out[os.path.relpath(os.path.join(root, n), folder)] = (
                    hashlib.sha256(data).hexdigest(), st.st_mtime_ns, st.st_ino, st.st_size)
        finally:
            os.close(dfd)
    return out


def check_unchanged(before, folder, what):
    """@return whether every file of before is still as it was."""
    after = snapshot(folder)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    return check(not changed and len(after) == len(before),
                 f"{what}: all {len(before)} input files keep sha256, mtime and inode"
                 + (f"; changed: {changed[:5]}" if changed else ""))


def npy_header(shape, dtype):
    """The header bytes numpy itself writes for an array of shape and dtype."""
    b = io.BytesIO()
    np.save(b, np.zeros(shape, dtype))
    v = b.getvalue()
    return v[:len(v) - int(np.prod(shape)) * np.dtype(dtype).itemsize]


def save_shards(folder, parts):
    os.makedirs(folder)
    for i, p in enumerate(parts):
        np.save(os.path.join(folder, f"shard_{i:04d}.npy"), p)
    return np.concatenate(parts)


def leftovers(folder, keep=()):
    """Files in folder other than keep, with their sizes."""
    return {n: os.path.getsize(os.path.join(folder, n))
            for n in os.listdir(folder) if n not in keep}


# ---------------------------------------------------------------- many shards

N_SHARDS = 100000
STAMP_VERSION = 2  # of many_shards.json: a record of another form is made again


def kept(dfd, name, data):
    """@return whether file name is a regular file holding data."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        return stat.S_ISREG(st.st_mode) and st.st_size == len(data) and \
            os.read(fd, len(data) + 1) == data
    finally:
        os.close(fd)


def write_new(dfd, name, data):
    try:
        os.unlink(name, dir_fd=dfd)
    except FileNotFoundError:
        pass
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dfd)
    try:
        if os.write(fd, data) != len(data):
            sys.exit(f"generator: short write to {name}")
    finally:
        os.close(fd)


def make_many(folder):
    """N_SHARDS shards of 1-3 rows of int32 x 3, written once per build tree
    (12 s; files already right are kept): numpy's own header bytes, then the
    rows. A sample is read back with np.load. @return the stamp: rows, the
    sha256 of the array and
    the files' snapshot as made, so the test need not read 100000 cold files
    before the run."""
    stamp = os.path.join(folder, "..", "many_shards.json")
    if os.path.exists(stamp):
        with open(stamp) as f:
            s = json.load(f)
        if (s.get("shards") == N_SHARDS and s.get("version") == STAMP_VERSION
                and len(s.get("files", {})) == N_SHARDS
                and len(os.listdir(folder)) == N_SHARDS):
            s["files"] = {k: tuple(v) for k, v in s["files"].items()}
            return s
    t0 = time.time()
    os.makedirs(folder, exist_ok=True)
    names = {f"shard_{i:04d}.npy" for i in range(N_SHARDS)}
    for n in os.listdir(folder):  # only what differs is rewritten: unlinking 100000 files
        if n not in names:        # takes minutes here, rewriting them a minute
            os.unlink(os.path.join(folder, n))
    rows = 1 + np.arange(N_SHARDS) % 3
    total = int(rows.sum())
    want = ((np.arange(total * 3, dtype=np.int64) * 2654435761) % 2**31).astype("<i4")
    want = want.reshape(total, 3)
    heads = {r: npy_header((r, 3), "<i4") for r in (1, 2, 3)}
    raw, ends = want.tobytes(), np.cumsum(rows) * 12
    meant = {}
    dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        lo = 0
        for i in range(N_SHARDS):
            hi, name = int(ends[i]), f"shard_{i:04d}.npy"
            data = heads[int(rows[i])] + raw[lo:hi]
            if not kept(dfd, name, data):
                write_new(dfd, name, data)
            meant[name] = hashlib.sha256(data).hexdigest()
            lo = hi
    finally:
        os.close(dfd)
    # the record is taken the way the test will look (a file's fstat while it
    # is being written need not match its stat later on every file system)
    files = snapshot(folder)
    if {p: v[0] for p, v in files.items()} != meant:
        sys.exit("generator: the files do not hold what was written")
    for i in range(0, N_SHARDS, 97):  # numpy reads what we meant to write
        lo = int(ends[i]) // 12 - int(rows[i])
        got = np.load(os.path.join(folder, f"shard_{i:04d}.npy"))
        if not np.array_equal(got, want[lo:lo + int(rows[i])]):
            sys.exit(f"generator: shard {i} does not read back with numpy")
    s = {"version": STAMP_VERSION, "shards": N_SHARDS, "rows": total, "sha256": hashlib.sha256(raw).hexdigest(),
         "files": files}
    with open(stamp, "w") as f:
        json.dump(s, f)
    print(f"made {N_SHARDS} shards in {time.time() - t0:.1f} s")
    return s


def fd_limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def watch_fds(p):
    """Polls /proc/PID/fd until p ends; @return the most descriptors seen."""
    peak = 0
    while p.poll() is None:
        try:
            peak = max(peak, len(os.listdir(f"/proc/{p.pid}/fd")))
        except OSError:
            pass
        time.sleep(0.02)
    return peak


def many_shards(a):
    folder = os.path.join(a.work, "many")
    stamp = make_many(folder)
    before = stamp["files"]  # as made: unchanged by this run and every one before
    out = os.path.join(a.work, "many_out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    target = os.path.join(out, "all.npy")
    t0 = time.time()
    p = subprocess.Popen([a.shardload, "read", folder, "--json", "--verify", "--output", target],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=fd_limit)
    peak = watch_fds(p)
    stdout, stderr = p.communicate(timeout=300)
    took = time.time() - t0
    check(p.returncode == 0, f"{N_SHARDS} shards under ulimit -n {NOFILE}: exit 0 "
          f"({took:.1f} s){': ' + stderr[-500:] if p.returncode else ''}")
    print(f"figure: {N_SHARDS} shards, read + verify (re-read) + output in {took:.1f} s, "
          f"at most {peak} descriptors open (seen in /proc)")
    if p.returncode == 0:
        r = json.loads(stdout)
        me = r["per_rank"][0]
        check(r["num_shards"] == N_SHARDS and r["shape"] == [stamp["rows"], 3],
              f"{N_SHARDS} shards, shape {r['shape']}")
        check(r["verify"] == "reread", f"verified by a re-read: {r['verify']}")
        check(0 < me["open_files_peak"] <= me["open_files_limit"] < NOFILE,
              f"open files: peak {me['open_files_peak']}, budget {me['open_files_limit']}, "
              f"below the limit {NOFILE}")
        check(peak < NOFILE, f"descriptors seen in /proc: {peak} < {NOFILE}")
        got = np.load(target)
        h = hashlib.sha256(np.ascontiguousarray(got).tobytes()).hexdigest()
        check(got.dtype == np.dtype("<i4") and got.shape == (stamp["rows"], 3)
              and h == stamp["sha256"],
              f"output sha256 {h[:16]} equals numpy's {stamp['sha256'][:16]}")
        check(sorted(os.listdir(out)) == ["all.npy"], f"output folder holds the output only: "
              f"{sorted(os.listdir(out))[:5]}")
    t0 = time.time()
    if not check_unchanged(before, folder, f"{N_SHARDS} shards, since they were made"):
        os.unlink(os.path.join(folder, "..", "many_shards.json"))  # made again next time
    print(f"figure: snapshot of {N_SHARDS} input files (sha256, mtime, inode) in "
          f"{time.time() - t0:.1f} s")
    shutil.rmtree(out, ignore_errors=True)


# ---------------------------------------------------------------- many ranks

def mpi_env(extra=None):
    env = dict(os.environ)
    env.update(MPI_ENV)
    env.update(extra or {})
    return env


def many_ranks(a):
    base = os.path.join(a.work, "five")
    shutil.rmtree(base, ignore_errors=True)
    rng = np.random.default_rng(5)
    parts = [rng.standard_normal((r, 4)) for r in (2, 0, 3)]
    folder = os.path.join(base, "in")
    want = save_shards(folder, parts)
    before = snapshot(folder)
    target = os.path.join(base, "out.npy")
    t0 = time.time()
    cmd = a.mpiexec.split() + ["-n", "64", a.shardload, "read", folder, "--json", "--verify",
                               "--output", target]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=mpi_env())
    took = time.time() - t0
    check(p.returncode == 0, f"64 ranks on 5 rows: exit 0 ({took:.1f} s)"
          + (f": {p.stderr[-800:]}" if p.returncode else ""))
    print(f"figure: 64 ranks on 5 rows, read + verify + output in {took:.1f} s")
    if p.returncode == 0:
        r = json.loads(p.stdout)
        rows = [x["rows"] for x in r["per_rank"]]
        check(r["ranks"] == 64 and len(rows) == 64, f"64 ranks reported: {r['ranks']}")
        check(sum(rows) == 5 and all(x in (0, 1) for x in rows) and rows.count(1) == 5,
              f"5 ranks hold a row each, 59 none: {rows}")
        check(r["verify"] == "reread", f"verified: {r['verify']}")
        got = np.load(target)
        check(got.dtype == want.dtype and np.array_equal(got, want),
              "output equals numpy's concatenation")
        check(sorted(os.listdir(base)) == ["in", "out.npy"],
              f"nothing else left beside the output: {sorted(os.listdir(base))}")
    check_unchanged(before, folder, "64 ranks")
    shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- rank killed

def tagged(tag):
    """{rank: pid} of the live processes whose environment holds tag."""
    found = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if f"SL_STRESS_TAG={tag}".encode() in env:
            for e in env:
                if e.startswith(b"OMPI_COMM_WORLD_RANK="):
                    found[int(e.split(b"=", 1)[1])] = int(d)
    return found


def wait_for(path, p, limit):
    end = time.time() + limit
    while time.time() < end and p.poll() is None:
        if os.path.exists(path):
            with open(path) as f:
                return f.read().split()
        time.sleep(0.01)
    return None


def stop_all(p, tag):
    """Ends what a failed case left running: mpiexec's process group and every
    process carrying this run's tag, by pid."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
    for pid in tagged(tag).values():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    p.wait()


def killed_case(a, data, base, name, n, pause_at, pause_rank, victim, clean=True):
    """One rank paused at pause_at (read: a shard's data; fsync: the output's
    temporary file) and rank victim SIGKILLed; clean: nothing may be left in
    the output folder. @return the leftover files."""
    out = os.path.join(base, name)
    os.makedirs(out)
    target = os.path.join(out, "out.npy")
    mark = os.path.join(base, name + ".mark")
    tag = uuid.uuid4().hex
    env = mpi_env({"SL_STRESS_TAG": tag, "SL_PAUSE_AT": pause_at, "SL_PAUSE_RANK": str(pause_rank),
                   "SL_PAUSE_DIR": out, "SL_PAUSE_MARK": mark, "SL_PAUSE_SECONDS": "60",
                   "ASAN_OPTIONS": "detect_leaks=0:verify_asan_link_order=0"})
    cmd = a.mpiexec.split() + ["-n", str(n), "-x", f"LD_PRELOAD={a.shim}", a.shardload, "read",
                               data, "--io", "buffered", "--output", target]
    what = f"{name}: {n} ranks, rank {pause_rank} paused at {pause_at}, rank {victim} killed"
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)
    try:
        m = wait_for(mark, p, 60)
        if not check(m is not None, f"{what}: the pause was reached"):
            return leftovers(out)
        if pause_at == "fsync":
            print(f"  paused on {m[2]} ({m[3]} bytes) before its rename")
        ranks = tagged(tag)
        pid = int(m[0]) if victim == pause_rank else ranks.get(victim)
        if not check(pid is not None, f"{what}: rank {victim} found ({ranks})"):
            return leftovers(out)
        os.kill(pid, signal.SIGKILL)
        t0 = time.time()
        try:
            _, err = p.communicate(timeout=KILL_LIMIT_S + 20)
        except subprocess.TimeoutExpired:
            err = "(still running after 30 s)"
        took = time.time() - t0
        check(p.returncode not in (0, None) and took <= KILL_LIMIT_S,
              f"{what}: the job ends non-zero (rc {p.returncode}) in {took:.2f} s "
              f"<= {KILL_LIMIT_S:.0f} s")
        print(f"figure: {name}: job ended {took:.2f} s after the kill, rc {p.returncode}")
        if p.returncode not in (0, None) and "shardload:" in err:
            print("  " + "\n  ".join(l for l in err.splitlines() if "shardload:" in l))
    finally:
        stop_all(p, tag)
        if os.path.exists(mark):
            os.unlink(mark)
    left = leftovers(out)
    if clean:
        check(not left, f"{what}: no output or temporary file left: {left} "
              f"({sum(left.values())} bytes)")
    else:
        print(f"note {what}: {left} left to the next run (the rank holding it was SIGKILLed)")
    check("out.npy" not in left, f"{what}: no output file")
    print(f"figure: {name}: {len(left)} files, {sum(left.values())} bytes left in the output "
          "folder")
    return left


def rank_killed(a):
    if not a.shim or not os.path.exists(a.shim):
        print(f"FAIL the pause shim is missing: {a.shim}")
        sys.exit(1)
    base = os.path.join(a.work, "killed")
    shutil.rmtree(base, ignore_errors=True)
    rng = np.random.default_rng(9)
    data = os.path.join(base, "in")
    want = save_shards(data, [rng.standard_normal((r, 16)).astype("<f4")
                              for r in (70000, 50000, 90000, 52144)])  # 16 MiB
    before = snapshot(data)
    # mid-load: rank 1 stopped in a read of shard data, then killed
    killed_case(a, data, base, "load", 3, "read", 1, 1)
    check_unchanged(before, data, "killed mid-load")
    # mid-output: rank 0 holds the full-size temporary file; another rank dies
    # and mpiexec stops rank 0 (SIGTERM), which must remove it
    killed_case(a, data, base, "output", 3, "fsync", 0, 1)
    check_unchanged(before, data, "killed mid-output")
    # the rank that holds the temporary file dies itself (nothing can run on
    # it): the next run of the same output cleans the stale file up
    killed_case(a, data, base, "owner", 2, "fsync", 0, 0, clean=False)
    check_unchanged(before, data, "owner killed")
    out = os.path.join(base, "owner")
    target = os.path.join(out, "out.npy")
    p = subprocess.run(a.mpiexec.split() + ["-n", "2", a.shardload, "read", data, "--output",
                                            target], capture_output=True, text=True,
                       timeout=120, env=mpi_env())
    left = leftovers(out, keep=("out.npy",))
    check(p.returncode == 0 and os.path.exists(target) and np.array_equal(np.load(target), want),
          f"owner killed, then a second run: exit {p.returncode}, output equals numpy's")
    check(not left, f"owner killed, then a second run: no stale temporary file: {left} "
          f"({sum(left.values())} bytes)")
    print(f"figure: after the second run, {sum(left.values())} bytes of stale temporary files")
    check_unchanged(before, data, "second run")
    shutil.rmtree(base, ignore_errors=True)


def main():
    a = parse()
    os.makedirs(a.work, exist_ok=True)
    t0 = time.time()
    {"many-shards": many_shards, "many-ranks": many_ranks, "rank-killed": rank_killed}[a.test](a)
    print(f"{a.test}: {time.time() - t0:.1f} s")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
