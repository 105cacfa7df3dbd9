#!/usr/bin/python3
"""HDF5 fuzz target at the command line: small files h5py writes
(contiguous, chunked with shuffle+gzip, chunked plain, a file of several
datasets in a group, chunks that split rows, compact), bytes mutated
deterministically from a seed, each mutant run through `shardload read
--verify` (and `inspect --json` when that runs out of time).

A run fails the target when it dies by a signal, outlives its timeout,
exits with a code other than 0 or 1, or exits 1 without exactly one line
on stderr naming the file. libhdf5 1.10.8 itself crashes on some of these
files (h5py does too), so this checks that the driver turns that into an
error (lock.c), not that HDF5 is right.

  hdf5_mutate.py --shardload BIN [--seconds 20] [--seed 1] [--save DIR]
      mutate for a time budget; --save keeps every failing input in DIR
  hdf5_mutate.py --shardload BIN --replay DIR
      every *.h5 in DIR (the regression corpus) must exit 0 or 1 cleanly
"""
import argparse, glob, json, os, random, shutil, subprocess, sys, tempfile, time

ENV = dict(os.environ, SHARDLOAD_MPI="0", ASAN_OPTIONS="detect_leaks=0")
TIMEOUT = 15  # s per command: a hang, not a slow machine


def seeds(d):
    """The files mutants start from, written once per run into d."""
    import h5py
    import numpy as np
    rng = np.random.default_rng(7)
    out = []

    def make(name, fill):
        p = os.path.join(d, name)
        with h5py.File(p, "w") as f:
            fill(f)
        out.append(p)

    make("contiguous.h5", lambda f: f.create_dataset("x", data=rng.standard_normal((16, 3)).astype("<f4")))
    make("gzip_shuffle.h5", lambda f: f.create_dataset(
        "x", data=rng.integers(0, 1000, (40, 3), dtype="<i2"), chunks=(8, 3), shuffle=True,
        compression="gzip"))
    make("chunked.h5", lambda f: f.create_dataset(
        "x", data=rng.integers(0, 9, (30, 2), dtype="<i4").astype(">i4"), chunks=(7, 2)))
    # chunks that split rows: decoded by H5Dread, not by our own chunk code
    make("split_chunks.h5", lambda f: f.create_dataset(
        "x", data=rng.standard_normal((24, 4)).astype("<f8"), chunks=(5, 1), shuffle=True,
        compression="gzip"))

    def compact(f):
        sp = h5py.h5s.create_simple((6, 4))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        h5py.h5d.create(f.id, b"x", h5py.h5t.STD_I16LE, sp, dcpl=dcpl).write(
            h5py.h5s.ALL, h5py.h5s.ALL, np.arange(24, dtype="<i2").reshape(6, 4))
    make("compact.h5", compact)

    def group(f, n=3):
        g = f.create_group("shards")
        for i in range(n):
            g.create_dataset(str(i), data=np.arange(6 * (i + 1), dtype="<f8").reshape(-1, 2))
    make("group.h5", group)
    make("group_symtab.h5", lambda f: group(f, 12))  # a B-tree and local heap of names

    def latest(f):  # dense links (fractal heap, v2 B-tree), unlimited chunked index
        group(f, 10)
        f.create_dataset("grow", data=np.arange(50, dtype="<i8").reshape(25, 2), chunks=(4, 2),
                         maxshape=(None, 2), compression="gzip")
    p = os.path.join(d, "latest_group.h5")
    with h5py.File(p, "w", libver="latest") as f:
        latest(f)
    out.append(p)
    p = os.path.join(d, "latest_grow.h5")
    with h5py.File(p, "w", libver="latest") as f:
        f.create_dataset("grow", data=np.arange(60, dtype="<i8").reshape(30, 2), chunks=(4, 2),
                         maxshape=(None, 2), compression="gzip", shuffle=True)
        f["grow"].attrs["note"] = "attribute"
    out.append(p)
    return out


def mutate(data, r):
    """One deterministic mutant of data: byte flips, runs of 0x00/0xff,
    large 8-byte integers (addresses, sizes) or a truncation."""
    b = bytearray(data)
    kind = r.randrange(5)
    if kind == 0:
        for _ in range(r.randint(1, 8)):
            b[r.randrange(len(b))] ^= 1 << r.randrange(8)
    elif kind == 1:
        at = r.randrange(len(b))
        b[at:at + r.randint(1, 8)] = bytes([r.choice((0, 0xff))]) * r.randint(1, 8)
    elif kind == 2:
        at = r.randrange(max(1, len(b) - 8))
        v = r.choice((0xffffffffffffffff, 1 << 63, 1 << 40, len(b) + r.randrange(4096),
                      r.getrandbits(64)))
        b[at:at + 8] = v.to_bytes(8, "little")
    elif kind == 3:
        for _ in range(r.randint(1, 4)):  # random bytes, mostly over the metadata
            at = r.randrange(max(1, len(b) * 3 // 4))
            n = r.randint(1, 32)
            b[at:at + n] = bytes(r.getrandbits(8) for _ in range(n))
    else:
        del b[r.randrange(len(b)):]
    return bytes(b[:len(data) + 64])


def problem(p, path, timed_out):
    """What is wrong with one run (None: a clean 0 or 1)."""
    if timed_out:
        return f"no exit within {TIMEOUT} s"
    if p.returncode < 0:
        return f"killed by signal {-p.returncode}"
    if p.returncode not in (0, 1):
        return f"exit {p.returncode}"
    err = p.stderr.strip()
    if p.returncode == 1 and (err.count("\n") != 0 or path not in err):
        return f"exit 1 without one line naming the file: {err[-600:]!r}"
    return None


# A mutated shape can claim gigabytes of never-written chunks, which HDF5
# fills chunk by chunk (a 4 KiB file of (6060233, 3) int16 takes ~30 s):
# work in proportion to the claim, not a hang. A read that runs out of time
# on a file whose inspect reports more than READ_LIMIT bytes is counted in
# the summary, not failed.
READ_LIMIT = 4 << 20
too_big = 0


def run_one(sl, path, *argv):
    """(problem or None, stdout)"""
    try:
        p = subprocess.run([sl, *argv, path], capture_output=True, text=True,
                           errors="replace", timeout=TIMEOUT, env=ENV)
        return problem(p, path, False), p.stdout
    except subprocess.TimeoutExpired:
        return problem(None, path, True), None


def check_file(sl, path):
    """read --verify (discovery included); the problem, if any. A file
    named *group* holds its shards as /shards/N."""
    global too_big
    extra = ("--dataset", "/shards/*") if "group" in os.path.basename(path) else ()
    why, out = run_one(sl, path, "read", "--verify", *extra)
    if why is None or out is not None:
        return f"read --verify: {why}" if why else None
    why, out = run_one(sl, path, "inspect", "--json", *extra)
    if why:
        return f"inspect: {why}"
    try:
        nbytes = json.loads(out)["nbytes"]
    except (ValueError, KeyError, TypeError):
        return f"read --verify timed out; inspect --json printed no report: {out[-300:]!r}"
    if nbytes > READ_LIMIT:
        too_big += 1
        return None
    return f"read --verify: no exit within {TIMEOUT} s for {nbytes} bytes"


def replay(a):
    files = sorted(glob.glob(os.path.join(a.replay, "*.h5")))
    if not files:
        print(f"FAIL: no *.h5 in {a.replay}")
        return 1
    bad = 0
    for f in files:
        why = check_file(a.shardload, f)
        print(("FAIL " if why else "ok   ") + os.path.basename(f) + (f": {why}" if why else ""))
        bad += why is not None
    print(f"{len(files) - bad} passed, {bad} failed")
    return 1 if bad else 0


def fuzz(a):
    r = random.Random(a.seed)
    failures = runs = 0
    with tempfile.TemporaryDirectory() as t:
        base = [(p, open(p, "rb").read()) for p in seeds(t)]
        end = time.monotonic() + a.seconds
        while time.monotonic() < end and (a.iterations == 0 or runs < a.iterations):
            src, data = base[runs % len(base)]
            path = os.path.join(t, f"m{runs % 2}_{os.path.basename(src)}")
            with open(path, "wb") as f:
                f.write(mutate(data, r))
            runs += 1
            why = check_file(a.shardload, path)
            if why is None:
                continue
            failures += 1
            print(f"FAIL mutant {runs} of {os.path.basename(src)} (seed {a.seed}): {why}")
            if a.save:
                os.makedirs(a.save, exist_ok=True)
                shutil.copy(path, os.path.join(a.save, f"seed{a.seed}_{runs}_{os.path.basename(src)}"))
    print(f"{runs} mutants, {failures} failed, {too_big} out of time on a claim of more than "
          f"{READ_LIMIT >> 20} MiB (seed {a.seed}, {a.seconds} s)")
    return 1 if failures or runs == 0 else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardload", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--iterations", type=int, default=0, help="0: until the time is up")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save", help="keep failing inputs here")
    ap.add_argument("--replay", help="a directory of inputs to check instead of mutating")
    a = ap.parse_args()
    return replay(a) if a.replay else fuzz(a)


if __name__ == "__main__":
    sys.exit(main())
