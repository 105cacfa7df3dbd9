#!/usr/bin/python3
"""Interop with Debian's h5py both ways: shards h5py writes (every dtype,
both byte orders, contiguous and chunked with shuffle+gzip, a user block,
ragged and zero-row shards, one file holding many datasets) load in
shardload identically at 1 and 3 ranks; what h5py writes but plain HDF5
cannot decode (its LZF filter) and what no array can hold (strings,
scalars, a missing dataset) fail with exit 1 and a message naming the file
and the dataset; and `write --format hdf5` makes files h5py reads back."""
import os, subprocess, sys, tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import args, check, run, summary  # noqa: E402





def values(rng, dt, shape):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, shape, dtype=dt.newbyteorder("="), endpoint=True).astype(dt)
    x = rng.standard_normal(shape) * 100
    if dt.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dt)


def loads_as(a, t, path, want, what, extra=()):
    """read --output at 1 and 3 ranks equals want (native byte order)."""
    for n in (0, 3):
        out = os.path.join(t, "out.npy")
        if os.path.exists(out):
            os.remove(out)
        p = run(a, "read", path, "--verify", "--output", out, *extra, n=n)
        got = np.load(out) if p.returncode == 0 else None
        ok = (got is not None and got.dtype == want.dtype.newbyteorder("=") and got.shape == want.shape
              and np.array_equal(got, want))
        if not ok:
            print(p.stdout[-1500:], p.stderr[-1500:])
        check(ok, f"{what} at {max(n, 1)} rank(s)")


def fails_with(a, path, phrases, what, extra=()):
    p = run(a, "inspect", path, *extra)
    msg = p.stderr.strip()
    ok = p.returncode == 1 and all(s in msg for s in phrases) and msg.count("\n") == 0
    if not ok:
        print(p.returncode, msg)
    check(ok, what)


def directory_cases(a, t):
    rng = np.random.default_rng(5)
    cases = {  # name: (dtype, trailing, dataset keyword arguments)
        "f4_contig": ("<f4", (7,), {}),
        "f8_be_contig": (">f8", (3,), {}),
        "i2_be_chunked_gzip": (">i2", (2, 3), dict(chunks=True, shuffle=True, compression="gzip")),
        "u1_1d": ("|u1", (), {}),
        "u2_be": (">u2", (4,), {}),
        "u4": ("<u4", (2,), dict(chunks=(5, 2), compression="gzip")),
        "u8_be": (">u8", (1,), {}),
        "i1": ("|i1", (3,), {}),
        "i4": ("<i4", (3,), {}),
        "i8_be_chunked": (">i8", (2,), dict(chunks=(3, 2))),
        "bool": ("|b1", (4,), {}),
        "bool_chunked": ("|b1", (5,), dict(chunks=True, compression="gzip")),
        "f2": ("<f2", (6,), {}),
        "f2_be_chunked": (">f2", (6,), dict(chunks=(8, 6), shuffle=True, compression="gzip")),
        "c8_be": (">c8", (2,), {}),
        "c16_chunked": ("<c16", (3,), dict(chunks=(16, 3), compression="gzip")),
    }
    for name, (dt, trailing, kw) in cases.items():
        d = os.path.join(t, name)
        os.makedirs(d)
        parts = []
        for i, rows in enumerate([37, 0, 129, 1, 64]):
            x = values(rng, dt, (rows,) + trailing)
            parts.append(x)
            ext = ".hdf5" if i == 3 else ".h5"
            opts = dict(kw) if rows else {}  # h5py refuses chunks larger than the data
            if isinstance(opts.get("chunks"), tuple) and rows < opts["chunks"][0]:
                opts["chunks"] = True
            with h5py.File(os.path.join(d, f"shard_{i:04d}{ext}"), "w") as f:
                f.create_dataset("data", data=x, **opts)
        want = np.concatenate(parts)
        loads_as(a, t, d, want, f"h5py {name} (ragged, a zero-row shard)", ("--format", "hdf5"))
    # the only dataset of each file is the default; here it sits in a group
    d = os.path.join(t, "default_name")
    os.makedirs(d)
    parts = [values(rng, "<f4", (r, 2)) for r in (10, 20)]
    for i, x in enumerate(parts):
        with h5py.File(os.path.join(d, f"shard_{i:04d}.h5"), "w") as f:
            f.create_dataset(f"grp/v{i}", data=x, chunks=(4, 2), compression="gzip")
    loads_as(a, t, d, np.concatenate(parts), "each file's only dataset, chunked, without --dataset")
    # a user block moves every byte; the offsets must still be right
    d = os.path.join(t, "userblock")
    os.makedirs(d)
    parts = [values(rng, ">i4", (r, 3)) for r in (11, 7)]
    for i, x in enumerate(parts):
        with h5py.File(os.path.join(d, f"shard_{i:04d}.h5"), "w", userblock_size=4096) as f:
            f["data"] = x
    loads_as(a, t, d, np.concatenate(parts), "contiguous files behind a 4096-byte user block")


def single_file_cases(a, t):
    rng = np.random.default_rng(8)
    path = os.path.join(t, "many.h5")
    parts = []
    with h5py.File(path, "w") as f:
        for i in range(12):  # names 0..11 without padding: natural order is not text order
            x = values(rng, "<f8", (int(rng.integers(0, 40)), 2, 2))
            parts.append(x)
            kw = dict(chunks=True, compression="gzip") if i % 3 == 0 and len(x) else {}
            f.create_dataset(f"shards/{i}", data=x, **kw)
        f["other"] = np.zeros(3)
    want = np.concatenate(parts)
    loads_as(a, t, path, want, "one file, /shards/0../shards/11 in natural order", ("--dataset", "/shards/*"))
    loads_as(a, t, path, parts[10], "one file, one named dataset", ("--dataset", "shards/10"))
    fails_with(a, path, [path + ":", "expected exactly one dataset", "13 datasets", "/other"],
               "one file of many datasets without --dataset lists them")


def error_cases(a, t):
    d = os.path.join(t, "bad")
    os.makedirs(d)
    p = os.path.join(d, "lzf.h5")
    with h5py.File(p, "w") as f:
        f.create_dataset("data", data=np.arange(100.0).reshape(50, 2), compression="lzf")
    fails_with(a, p, [p + ":data:", "filter 32000 (lzf)", "HDF5_PLUGIN_PATH"],
               "h5py's LZF filter, absent from plain HDF5, is named", ("--dataset", "data"))
    p = os.path.join(d, "str.h5")
    with h5py.File(p, "w") as f:
        f["data"] = np.array([b"ab", b"cd"])
    fails_with(a, p, [p + ":/data:", "element type is a string"], "a string dataset is refused")
    p = os.path.join(d, "vlen.h5")
    with h5py.File(p, "w") as f:
        f.create_dataset("data", (3,), dtype=h5py.vlen_dtype(np.float32))
    fails_with(a, p, [p + ":/data:", "variable-length"], "a variable-length dataset is refused")
    p = os.path.join(d, "scalar.h5")
    with h5py.File(p, "w") as f:
        f["data"] = 3.5
    fails_with(a, p, [p + ":/data:", "scalar (rank 0)"], "a scalar dataset is refused")
    p = os.path.join(d, "missing.h5")
    with h5py.File(p, "w") as f:
        f["a"] = np.zeros(3)
        f["b/c"] = np.zeros(3)
    fails_with(a, p, [p + ":", "expected a dataset 'data' but found none", "2 datasets: /a, /b/c"],
               "a missing dataset names what the file holds", ("--dataset", "data"))
    p = os.path.join(d, "notes.h5")
    with open(p, "w") as f:
        f.write("not hdf5\n")
    fails_with(a, p, [p + ":", "not an HDF5 file"], "a text file named .h5 is refused")


def written_by_shardload(a, t):
    for dt in ("float32", "float64", "int16", "uint64", "bool", "float16", "complex64", "complex128"):
        d = os.path.join(t, "w_" + dt)
        p = run(a, "write", d, "--shape", "301,2,3", "--dtype", dt, "--num-shards", "3", "--format", "hdf5")
        ok = p.returncode == 0
        if not ok:
            print(p.stderr[-1500:])
        files = sorted(f for f in os.listdir(d) if f.endswith(".h5")) if ok else []
        arrs = []
        for f in files:
            with h5py.File(os.path.join(d, f), "r") as h:
                ds = h["data"]
                ok = ok and ds.chunks is None and list(h.keys()) == ["data"]
                arrs.append(ds[()])
        whole = np.concatenate(arrs) if arrs else None
        check(ok and whole.shape == (301, 2, 3) and whole.dtype == np.dtype(dt),
              f"write --format hdf5 {dt}: h5py reads one contiguous 'data' per file")
        if whole is not None:
            loads_as(a, t, d, whole, f"write --format hdf5 {dt} reads back equal to h5py's view")


def main():
    a = args()
    with tempfile.TemporaryDirectory() as t:
        directory_cases(a, t)
        single_file_cases(a, t)
        error_cases(a, t)
        written_by_shardload(a, t)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
