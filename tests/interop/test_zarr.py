#!/usr/bin/python3
"""Interop with Debian's python3-zarr (2.x, numcodecs) both ways: arrays
zarr writes with every compressor the driver decodes (Blosc with each of
its inner codecs and shuffles, Zstd, GZip, Zlib, LZ4, BZ2, none), in both
byte orders, C and F order, both key separators, chunked along every axis,
with missing chunks and NaN fill, as one store, a group of arrays and a
directory of stores, load in shardload identically at 1 and 3 ranks; what
it cannot apply (a filter, an object dtype) fails naming the array and the
filter; and `write --format zarr` makes stores zarr reads back identically."""
import os, shutil, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import args, check, run, skip, summary  # noqa: E402

try:
    import numcodecs
    import zarr
except ImportError as e:  # the package is in scripts/install-deps.sh
    skip(f"python3-zarr is not installed ({e})")


def values(rng, dt, shape):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, shape, dtype=dt.newbyteorder("="),
                            endpoint=True).astype(dt)
    x = rng.standard_normal(shape) * 100
    if dt.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dt)


def loads_as(a, t, path, want, what, extra=()):
    for n in (0, 3):
        out = os.path.join(t, "out.npy")
        if os.path.exists(out):
            os.remove(out)
        p = run(a, "read", path, "--verify", "--output", out, *extra, n=n)
        got = np.load(out) if p.returncode == 0 else None
        ok = (got is not None and got.dtype == want.dtype.newbyteorder("=")
              and got.shape == want.shape
              and np.array_equal(got, want, equal_nan=want.dtype.kind in "fc"))
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


def compressors():
    out = {"none": None}
    for cname in ("blosclz", "lz4", "lz4hc", "zstd", "zlib"):
        for shuffle, sname in ((0, "noshuffle"), (1, "shuffle"), (2, "bitshuffle")):
            out[f"blosc_{cname}_{sname}"] = numcodecs.Blosc(cname=cname, clevel=5, shuffle=shuffle)
    out["zstd"] = numcodecs.Zstd(level=3)
    out["gzip"] = numcodecs.GZip(level=5)
    out["zlib"] = numcodecs.Zlib(level=5)
    out["lz4"] = numcodecs.LZ4()
    out["bz2"] = numcodecs.BZ2(level=5)
    return out


def compressor_cases(a, t):
    rng = np.random.default_rng(3)
    for name, comp in compressors().items():
        x = values(rng, "<f4", (517, 7))
        x[::5] = np.round(x[::5])  # some runs for the codecs to find
        path = os.path.join(t, f"{name}.zarr")
        z = zarr.open(path, mode="w", shape=x.shape, chunks=(64, 3), dtype=x.dtype,
                      compressor=comp)
        z[:] = x
        loads_as(a, t, path, x, f"compressor {name}, chunks (64, 3)")
        shutil.rmtree(path)


def dtype_cases(a, t):
    rng = np.random.default_rng(4)
    for dt in ("|b1", "|i1", "|u1", "<i2", ">i2", "<u2", ">u4", "<i4", ">i8", "<u8", "<f2",
               ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c16"):
        x = values(rng, dt, (203, 3, 2))
        for order in ("C", "F"):
            path = os.path.join(t, "d.zarr")
            z = zarr.open(path, mode="w", shape=x.shape, chunks=(50, 2, 2), dtype=x.dtype,
                          order=order, compressor=numcodecs.Zstd(level=1))
            z[:] = x
            loads_as(a, t, path, x.astype(x.dtype.newbyteorder("=")),
                     f"dtype {dt} order {order}, chunks (50, 2, 2)")
            shutil.rmtree(path)


def layout_cases(a, t):
    rng = np.random.default_rng(5)
    # '/' separator, NaN fill, missing chunks, uncompressed whole-row chunks
    x = values(rng, "<f8", (300, 4))
    path = os.path.join(t, "sep.zarr")
    store = zarr.DirectoryStore(path, dimension_separator="/")
    z = zarr.open(store, mode="w", shape=x.shape, chunks=(40, 4), dtype=x.dtype,
                  fill_value=np.nan, compressor=None)
    z[:120] = x[:120]
    z[200:] = x[200:]
    want = x.copy()
    want[120:200] = np.nan
    loads_as(a, t, path, want, "'/' separator, missing chunks read as NaN, uncompressed")
    # a group of ragged arrays, natural order
    gpath = os.path.join(t, "group.zarr")
    g = zarr.open_group(gpath, mode="w")
    parts = []
    for i in range(11):
        p = values(rng, "<i4", (int(rng.integers(0, 40)), 5))
        g.create_dataset(f"shards/{i}", data=p, chunks=(16, 5), compressor=numcodecs.GZip())
        parts.append(p)
    loads_as(a, t, gpath, np.concatenate(parts), "group '/shards/*' (11 arrays)",
             extra=("--dataset", "/shards/*"))
    # a directory of stores
    dpath = os.path.join(t, "dir")
    os.makedirs(dpath)
    parts = []
    for i in range(4):
        p = values(rng, "<u2", (int(rng.integers(1, 90)), 3))
        zarr.save_array(os.path.join(dpath, f"shard_{i:04d}.zarr"), p, chunks=(32, 2))
        parts.append(p)
    loads_as(a, t, dpath, np.concatenate(parts), "directory of shard_NNNN.zarr stores")


def error_cases(a, t):
    path = os.path.join(t, "delta.zarr")
    z = zarr.open(path, mode="w", shape=(100,), chunks=(10,), dtype="<i4",
                  filters=[numcodecs.Delta(dtype="<i4")])
    z[:] = np.arange(100)
    fails_with(a, path, ["delta.zarr", "'delta'"], "a filter is refused by name")
    path = os.path.join(t, "obj.zarr")
    z = zarr.open(path, mode="w", shape=(10,), chunks=(5,), dtype=object,
                  object_codec=numcodecs.VLenUTF8())
    z[:] = ["a"] * 10
    fails_with(a, path, ["obj.zarr", "|O"], "an object dtype is refused naming the array")
    path = os.path.join(t, "mixed.zarr")
    g = zarr.open_group(path, mode="w")
    g.create_dataset("shards/0", data=np.zeros((5, 2), "<f4"))
    g.create_dataset("shards/3", data=np.zeros((5, 2), "<f8"))
    fails_with(a, path, ["mixed.zarr/shards/3: dtype <f8 differs", "mixed.zarr/shards/0"],
               "a dtype mismatch between a group's arrays names both by path",
               extra=("--dataset", "/shards/*"))
    fails_with(a, path, ["mixed.zarr", "group", "--dataset"], "a group without --dataset")


def write_cases(a, t):
    for dt, shape in (("float32", (1000, 3, 4)), ("int64", (77, 5)), ("uint8", (300,)),
                      ("bool", (50, 2))):
        out = os.path.join(t, "w")
        p = run(a, "write", out, "--shape", ",".join(map(str, shape)), "--dtype", dt,
                "--num-shards", "3", "--seed", "7", "--format", "zarr", show=True)
        if not check(p.returncode == 0, f"write --format zarr {dt} {shape}"):
            continue
        stores = sorted(f for f in os.listdir(out) if f.endswith(".zarr"))
        parts = [zarr.open(os.path.join(out, s), mode="r")[:] for s in stores]
        back = np.concatenate(parts)
        got = os.path.join(t, "got.npy")
        p = run(a, "read", out, "--output", got, "--verify")
        ok = p.returncode == 0 and np.array_equal(np.load(got), back) and back.shape == shape
        check(ok and len(stores) == 3, f"zarr reads what write --format zarr wrote ({dt})")
        shutil.rmtree(out)


def main():
    a = args()
    with tempfile.TemporaryDirectory() as t:
        compressor_cases(a, t)
        dtype_cases(a, t)
        layout_cases(a, t)
        error_cases(a, t)
        write_cases(a, t)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
