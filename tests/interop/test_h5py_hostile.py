#!/usr/bin/python3
"""Hostile HDF5 shards (issue P5).

Finding 2: shards whose data lies in other files: external
storage (h5py external=[...]), virtual datasets and external links. By
default each is refused with exit 1 and one line naming the shard and the
foreign file; with --hdf5-allow-external they load, but only when every
foreign file resolves (symbolic links followed) inside the shard's
directory. A secret file outside never reaches the array, at 1 and 2 ranks.

Finding 8: rows of zero bytes in huge numbers ((2^62, 0) contiguous,
(2^40, 0, 3) chunked) are probed and read with no work per row: inspect,
read --verify at 1 and 3 ranks, each within 60 s.

Finding 9: no HDF5 error stack on stderr for a file HDF5 cannot open; and
a segfault inside libhdf5 (H5Dread, H5Lvisit: made to happen on chosen
files by a preloaded shim, h5_fault_shim.c) is one line naming the file and
exit 1, alone and under mpiexec at 3 ranks, where the job ends within 20 s
whichever rank crashed (discovery on rank 0, a read on rank 2).
"""
import os, subprocess, sys, tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import argparse, time  # noqa: E402
from sltest import check, run, summary  # noqa: E402

SECRET = np.arange(24, dtype="<f4").reshape(6, 4) * 7 + 3  # what must not leak


def external(path, target, n=len(SECRET.tobytes())):
    """A dataset of float32 (6, 4) whose bytes are those of file target."""
    with h5py.File(path, "w") as f:
        f.create_dataset("x", shape=SECRET.shape, dtype="<f4", external=[(target, 0, n)])


def virtual(path, source, name="x"):
    """A virtual dataset (6, 4) mapping all of dataset name in file source."""
    layout = h5py.VirtualLayout(shape=SECRET.shape, dtype="<f4")
    layout[:] = h5py.VirtualSource(source, name, shape=SECRET.shape)
    with h5py.File(path, "w", libver="latest") as f:
        f.create_virtual_dataset("x", layout)


def refused(a, path, phrases, what, extra=(), n=0):
    """exit 1, exactly one line on stderr (no HDF5 error stack) naming path
    and the phrases; nothing on stdout that shows the secret."""
    p = run(a, "read", path, "--verify", *extra, n=n)
    msg = p.stderr.strip()
    if n:  # mpiexec adds its own banner about the job's end: our line is rank 0's
        msg = "\n".join(x for x in msg.splitlines() if x.startswith("shardload:"))
    ok = (p.returncode == 1 and msg.count("\n") == 0 and path in msg
          and all(s in msg for s in phrases) and "HDF5-DIAG" not in p.stderr)
    if not ok:
        print(p.returncode, p.stdout[-800:], p.stderr[-1500:])
    check(ok, what)


def loads(a, t, path, want, what, extra=(), n=0):
    out = os.path.join(t, "out.npy")
    if os.path.exists(out):
        os.remove(out)
    p = run(a, "read", path, "--verify", "--output", out, *extra, n=n)
    got = np.load(out) if p.returncode == 0 else None
    ok = got is not None and np.array_equal(got, want) and (n or p.stderr.strip() == "")
    if not ok:
        print(p.returncode, p.stderr[-1500:])
    check(ok, what)


def args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardload", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--shim", required=True, help="libsl_h5_fault_shim.so")
    return ap.parse_args()


def main():
    a = args()
    with tempfile.TemporaryDirectory() as t:
        outside = os.path.join(t, "outside")
        ds = os.path.join(t, "ds")
        os.mkdir(outside)
        os.mkdir(ds)
        secret = os.path.join(outside, "secret.bin")
        SECRET.tofile(secret)
        allow = ("--hdf5-allow-external",)

        # external storage: an absolute path outside
        abs_ext = os.path.join(ds, "abs.h5")
        external(abs_ext, secret)
        refused(a, abs_ext, ["external storage file", secret, "--hdf5-allow-external"],
                "external storage outside: refused by default")
        refused(a, abs_ext, ["outside the dataset's directory", secret],
                "external storage outside: refused even with --hdf5-allow-external", allow)
        refused(a, abs_ext, ["external storage file"],
                "external storage outside: refused at 2 ranks", n=2)
        refused(a, abs_ext, ["outside"], "external storage outside, 2 ranks, allowed: refused",
                allow, n=2)
        p = run(a, "inspect", abs_ext)
        check(p.returncode == 1 and "external storage" in p.stderr,
              "inspect refuses external storage too (probe)")

        # /etc/passwd, the finding's own example
        etc = os.path.join(ds, "etc.h5")
        with h5py.File(etc, "w") as f:
            f.create_dataset("x", shape=(8,), dtype="u1", external=[("/etc/passwd", 0, 8)])
        refused(a, etc, ["/etc/passwd"], "external storage /etc/passwd: refused")
        refused(a, etc, ["/etc/passwd", "outside"], "external /etc/passwd: refused when allowed",
                allow)

        # external storage inside the directory, by relative name
        inside = os.path.join(ds, "inside")
        os.mkdir(inside)
        SECRET.tofile(os.path.join(inside, "data.bin"))
        rel = os.path.join(inside, "rel.h5")
        external(rel, "data.bin")
        refused(a, rel, ["external storage file", "data.bin"],
                "external storage inside: refused by default")
        loads(a, t, rel, SECRET, "external storage inside: loads with --hdf5-allow-external",
              allow)
        # every rank opens (and checks) the shard it reads: the option travels
        loads(a, t, rel, SECRET, "external storage inside: loads at 2 ranks with the option",
              allow, n=2)
        # ... and from another working directory: resolved next to the file
        p = subprocess.run([a.shardload, "read", rel, "--verify", *allow], cwd=outside,
                           capture_output=True, text=True, env=dict(os.environ, SHARDLOAD_MPI="0"))
        check(p.returncode == 0, "external storage inside: resolved next to the file, not the cwd")

        # a symbolic link inside the directory that leads outside
        os.symlink(secret, os.path.join(inside, "link.bin"))
        sym = os.path.join(inside, "sym.h5")
        external(sym, "link.bin")
        refused(a, sym, ["link.bin", "resolves to", secret],
                "external storage through a symlink out: refused even when allowed", allow)
        dotdot = os.path.join(inside, "dotdot.h5")
        external(dotdot, "../../outside/secret.bin")
        refused(a, dotdot, ["outside"], "external storage ../..: refused even when allowed", allow)

        # virtual datasets
        src_out = os.path.join(outside, "src.h5")
        with h5py.File(src_out, "w") as f:
            f.create_dataset("x", data=SECRET)
        vabs = os.path.join(ds, "vabs.h5")
        virtual(vabs, src_out)
        refused(a, vabs, ["virtual dataset source", src_out], "virtual source outside: refused")
        refused(a, vabs, ["outside", src_out], "virtual source outside: refused when allowed",
                allow)
        with h5py.File(os.path.join(inside, "src.h5"), "w") as f:
            f.create_dataset("x", data=SECRET)
        vrel = os.path.join(inside, "vrel.h5")
        virtual(vrel, "src.h5")
        refused(a, vrel, ["virtual dataset source", "src.h5"], "virtual source inside: refused")
        loads(a, t, vrel, SECRET, "virtual source inside: loads with --hdf5-allow-external", allow)
        # a virtual source inside whose own data is external storage outside
        external(os.path.join(inside, "hop.h5"), secret)
        vhop = os.path.join(inside, "vhop.h5")
        virtual(vhop, "hop.h5")
        refused(a, vhop, ["external storage file", secret],
                "virtual source inside, its external storage outside: refused when allowed",
                allow)

        # an external link named with --dataset
        el = os.path.join(ds, "elink.h5")
        with h5py.File(el, "w") as f:
            f["y"] = np.zeros((2, 4), "<f4")
            f["x"] = h5py.ExternalLink(src_out, "/x")
        refused(a, el, ["external link"], "external link outside: refused",
                ("--dataset", "/x"))
        refused(a, el, ["external link"], "external link outside: refused when allowed",
                ("--dataset", "/x", *allow))
        el_in = os.path.join(inside, "elink.h5")
        with h5py.File(el_in, "w") as f:
            f["x"] = h5py.ExternalLink("src.h5", "/x")
        loads(a, t, el_in, SECRET, "external link inside: loads when allowed",
              ("--dataset", "/x", *allow))

        # a plain shard is unaffected either way
        plain = os.path.join(inside, "plain.h5")
        with h5py.File(plain, "w") as f:
            f.create_dataset("x", data=SECRET)
        loads(a, t, plain, SECRET, "plain shard, default")
        loads(a, t, plain, SECRET, "plain shard, --hdf5-allow-external", allow)

        zero_rows(a, t)
        quiet_errors(a, t)
        crashes(a, t)
    return summary()


def zero_rows(a, t):
    z = os.path.join(t, "zero.h5")
    with h5py.File(z, "w") as f:
        f.create_dataset("flat", shape=(2 ** 62, 0), dtype="<f4")
        f.create_dataset("chunked", shape=(2 ** 40, 0, 3), dtype="<f8", chunks=(2 ** 20, 1, 3),
                         maxshape=(None, None, 3))
    for name, rows in (("/flat", 2 ** 62), ("/chunked", 2 ** 40)):
        for argv, n in ((("inspect",), 0), (("read", "--verify"), 0), (("read", "--verify"), 3)):
            cmd = [a.shardload, *argv, z, "--dataset", name]
            if n:
                cmd = a.mpiexec.split() + ["-n", str(n)] + cmd
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                                   env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
                ok = p.returncode == 0 and str(rows) in p.stdout
            except subprocess.TimeoutExpired:
                p, ok = None, False
            if not ok:
                print(p and (p.returncode, p.stdout[-500:], p.stderr[-800:]))
            check(ok, f"{name} of {rows} zero-byte rows: {' '.join(argv)} at {max(n, 1)} rank(s) "
                      "within 60 s")


def quiet_errors(a, t):
    """One line of ours, none of HDF5's: a file with the signature that
    HDF5 cannot open, and a truncated one."""
    bad = os.path.join(t, "sig_only.h5")
    with open(bad, "wb") as f:
        f.write(b"\x89HDF\r\n\x1a\n" + b"\0" * 200)
    trunc = os.path.join(t, "trunc.h5")
    with h5py.File(trunc, "w") as f:
        f.create_dataset("x", data=np.arange(4000, dtype="<f4").reshape(1000, 4))
    data = open(trunc, "rb").read()
    with open(trunc, "wb") as f:
        f.write(data[:1500])
    for path in (bad, trunc):
        for argv in (("inspect",), ("read", "--verify")):
            p = run(a, *argv, path)
            err = p.stderr.strip()
            ok = (p.returncode == 1 and err.count("\n") == 0 and err.startswith("shardload: " + path)
                  and "HDF5-DIAG" not in p.stderr and "infinite loop" not in p.stderr)
            if not ok:
                print(p.returncode, p.stderr[-1500:])
            check(ok, f"{os.path.basename(path)}: {' '.join(argv)} prints one line, no HDF5 stack")


def crashes(a, t):
    d = os.path.join(t, "crashing")
    os.mkdir(d)
    for i in range(3):  # chunks that split rows: read through H5Dread
        with h5py.File(os.path.join(d, f"shard_{i:04d}.h5"), "w") as f:
            f.create_dataset("x", data=np.arange(120, dtype="<f4").reshape(40, 3) + i, chunks=(8, 1))
    env = {"LD_PRELOAD": a.shim, "ASAN_OPTIONS": "detect_leaks=0:verify_asan_link_order=0"}
    cases = [("read", "SL_SHIM_CRASH_READ", "shard_0001.h5", 0),
             ("inspect", "SL_SHIM_CRASH_VISIT", "shard_0002.h5", 0),
             ("read", "SL_SHIM_CRASH_READ", "shard_0002.h5", 3),
             ("read", "SL_SHIM_CRASH_VISIT", "shard_0002.h5", 3)]
    for cmd, var, shard, n in cases:
        e = dict(os.environ, **env, **{var: shard})
        argv = [a.shardload, cmd, d]
        if n:
            argv = a.mpiexec.split() + ["-n", str(n)] + [
                x for k, v in env.items() for x in ("-x", k)] + ["-x", var] + argv
        else:
            e["SHARDLOAD_MPI"] = "0"
        t0 = time.monotonic()
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=e)
        except subprocess.TimeoutExpired:
            check(False, f"{var}={shard} at {max(n, 1)} rank(s): ends")
            continue
        took = time.monotonic() - t0
        ours = [x for x in p.stderr.splitlines() if x.startswith("shardload:")]
        want = f"shardload: {os.path.join(d, shard)}: libhdf5 crashed (SIGSEGV)"
        ok = (p.returncode == 1 and len(ours) == 1 and ours[0].startswith(want)
              and (n or p.stderr.strip() == ours[0]) and took < 20)
        if not ok:
            print(p.returncode, f"{took:.1f} s", p.stderr[-1500:])
        check(ok, f"{cmd}, {var} on {shard} at {max(n, 1)} rank(s): one line, exit 1, "
                  f"in {took:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
