#!/usr/bin/python3
"""Interop with Debian's numpy both ways: what `write` and `--output` make
loads in numpy with identical values, and shards numpy writes (every dtype,
both byte orders, Fortran order, format versions 1-3, 1-D to 4-D, zero-row
shards) load in shardload identically."""
import os, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import args, check, run, summary  # noqa: E402

M64 = (1 << 64) - 1



def mix(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def pattern_f32(seed, first, n):
    key = mix(seed)
    return np.array([(mix(key ^ (first + i)) >> 40) * 2.0 ** -23 - 1.0 for i in range(n)], np.float32)



def written_by_shardload(a, t):
    d = os.path.join(t, "w")
    check(run(a, "write", d, "--shape", "5000,3", "--num-shards", "4", "--seed", "21").returncode == 0,
          "shardload write")
    shards = [np.load(os.path.join(d, f"shard_{i:04d}.npy")) for i in range(4)]
    whole = np.concatenate(shards)
    check(whole.shape == (5000, 3) and whole.dtype == np.float32, "numpy reads the shards' shape and dtype")
    check(np.array_equal(whole.ravel()[:1000], pattern_f32(21, 0, 1000)), "values equal the documented pattern")
    check(np.array_equal(whole.ravel()[-500:], pattern_f32(21, 15000 - 500, 500)), "tail values too")
    for dt in ("float64", "int8", "uint16", "int64", "bool", "complex64", "float16", "complex128"):
        dd = os.path.join(t, dt)
        ok = run(a, "write", dd, "--shape", "300,2,2", "--dtype", dt, "--num-shards", "3").returncode == 0
        arr = np.concatenate([np.load(os.path.join(dd, f"shard_{i:04d}.npy")) for i in range(3)])
        out = os.path.join(t, dt + ".npy")
        ok = ok and run(a, "read", dd, "--verify", "--output", out, n=2).returncode == 0
        back = np.load(out)
        check(ok and arr.dtype == np.dtype(dt) and np.array_equal(back, arr, equal_nan=False) and
              back.dtype == arr.dtype, f"{dt}: write -> numpy == read --output")


def written_by_numpy(a, t):
    rng = np.random.default_rng(3)
    cases = {
        "f4_be": (np.dtype(">f4"), (7,)),
        "f8": (np.dtype("<f8"), ()),
        "i2_be_4d": (np.dtype(">i2"), (2, 3, 2)),
        "u4": (np.dtype("<u4"), (5,)),
        "c16_be": (np.dtype(">c16"), (3,)),
        "b1": (np.dtype("?"), (4,)),
        "f2": (np.dtype("<f2"), (6,)),
        "u8_be": (np.dtype(">u8"), (1,)),
    }
    for name, (dt, trailing) in cases.items():
        d = os.path.join(t, "np_" + name)
        os.makedirs(d)
        parts = []
        for i, rows in enumerate([37, 0, 129, 1, 64]):
            x = rng.standard_normal((rows,) + trailing) * 100
            if dt.kind == "c":
                x = x + 1j * rng.standard_normal(x.shape)
            x = x.astype(dt)
            parts.append(x)
            version = [(1, 0), (2, 0), (3, 0), (1, 0), (2, 0)][i]
            if i == 2 and len(trailing) > 0:
                x = np.asfortranarray(x)
            with open(os.path.join(d, f"shard_{i:04d}.npy"), "wb") as f:
                np.lib.format.write_array(f, x, version=version)
        want = np.concatenate(parts)
        for n in (0, 3):
            out = os.path.join(t, f"np_{name}_{n}.npy")
            ok = run(a, "read", d, "--verify", "--output", out, n=n).returncode == 0
            got = np.load(out) if ok else None
            check(ok and got.dtype == want.dtype.newbyteorder("=") and np.array_equal(got, want),
                  f"numpy-written {name} (versions 1-3, a Fortran shard, zero rows) at {max(n, 1)} rank(s)")


def fortran_paths(a, t):
    """Fortran order by both of its read paths: short columns read many at a
    time (2 rows of 300x200), long ones in cached blocks of rows (20000 rows,
    3-D trailing), pieces of 1 MiB cutting through them, big-endian too."""
    rng = np.random.default_rng(5)
    for name, shape, dt in (("short", (2, 300, 200), "<f4"), ("long", (20000, 3, 5), ">f8"),
                            ("wide", (3000, 700), "<i2"), ("mixed", (9, 4, 3, 2), "<u1")):
        d = os.path.join(t, "fo_" + name)
        os.makedirs(d)
        parts = [(rng.standard_normal((r,) + shape[1:]) * 100).astype(dt)
                 for r in (shape[0], 1, shape[0] // 2 + 1)]
        for i, x in enumerate(parts):
            np.save(os.path.join(d, f"shard_{i:04d}.npy"), np.asfortranarray(x))
        want = np.concatenate(parts)
        for n, variant in ((0, "cpu"), (0, "omp"), (3, "omp")):
            out = os.path.join(t, f"fo_{name}_{n}_{variant}.npy")
            ok = run(a, "read", d, "--verify", "--output", out, "--chunk-mib", "1",
                     "--variant", variant, n=n).returncode == 0
            got = np.load(out) if ok else None
            check(ok and np.array_equal(got, want),
                  f"Fortran-order {name} {shape} {dt} at {max(n, 1)} rank(s), {variant}")


def main():
    a = args()
    with tempfile.TemporaryDirectory() as t:
        written_by_shardload(a, t)
        written_by_numpy(a, t)
        fortran_paths(a, t)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
