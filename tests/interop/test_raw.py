#!/usr/bin/python3
"""Interop of the raw driver with numpy's tofile/fromfile: headerless shards
numpy writes (both byte orders, headers to skip, 1-D to 4-D, zero-row
shards) load identically at 1 and 3 ranks, with the layout given by
options or by a _meta.json sidecar; bad layouts fail with exit 1 and one
line naming the file; `write --format raw` makes bytes numpy reads back."""
import json, os, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import args, check, run, summary  # noqa: E402





def loads_as(a, t, path, want, what, extra=()):
    for n in (0, 3):
        out = os.path.join(t, "out.npy")
        if os.path.exists(out):
            os.remove(out)
        p = run(a, "read", path, "--output", out, *extra, n=n)
        got = np.load(out) if p.returncode == 0 else None
        ok = (got is not None and got.dtype == want.dtype.newbyteorder("=") and got.shape == want.shape
              and np.array_equal(got, want))
        if not ok:
            print(p.stdout[-1500:], p.stderr[-1500:])
        check(ok, f"{what} at {max(n, 1)} rank(s)")


def make(t, name, dt, trailing, header=0, rows=(37, 0, 129, 1, 64), ext=".bin", seed=1):
    rng = np.random.default_rng(seed)
    d = os.path.join(t, name)
    os.makedirs(d)
    parts = []
    for i, r in enumerate(rows):
        x = (rng.standard_normal((r,) + trailing) * 100).astype(dt)
        parts.append(x)
        with open(os.path.join(d, f"shard_{i:04d}{ext}"), "wb") as f:
            f.write(b"\xee" * header)
            x.tofile(f)
    return d, np.concatenate(parts)


def option_cases(a, t):
    cases = {
        "f4": ("<f4", (8,), 0),
        "f8_be_hdr": (">f8", (3,), 16),
        "i2_be_4d": (">i2", (2, 3, 2), 0),
        "u4_1d_hdr": ("<u4", (), 100),
        "c8": ("<c8", (2,), 0),
        "f2_be": (">f2", (6,), 8),
    }
    for name, (dt, trailing, header) in cases.items():
        d, want = make(t, name, dt, trailing, header, ext=".raw" if header else ".bin")
        extra = ["--dtype", dt, "--trailing", ",".join(map(str, trailing)), "--header-bytes", str(header)]
        loads_as(a, t, d, want, f"numpy tofile {name} with --dtype/--trailing/--header-bytes", extra)


def sidecar_cases(a, t):
    d, want = make(t, "side_trailing", ">i4", (2, 2), 12, seed=2)
    with open(os.path.join(d, "_meta.json"), "w") as f:
        json.dump({"dtype": ">i4", "trailing": [2, 2], "header_bytes": 12}, f)
    loads_as(a, t, d, want, "sidecar with dtype, trailing and header_bytes")
    d, want = make(t, "side_shape", "<f8", (5,), seed=3)
    with open(os.path.join(d, "_meta.json"), "w") as f:
        json.dump({"format": "raw", "dtype": "float64", "shape": [int(len(want)), 5]}, f)
    loads_as(a, t, d, want, "sidecar with a numpy shape")
    loads_as(a, t, d, want.reshape(-1), "--trailing '' over the sidecar: 1-D", ["--trailing", ""])


def error_cases(a, t):
    d, _ = make(t, "bad_rem", "<f4", (3,), rows=(4, 5), seed=4)
    p = os.path.join(d, "shard_0001.bin")
    with open(p, "ab") as f:
        f.write(b"xyz")
    r = run(a, "inspect", d, "--dtype", "<f4", "--trailing", "3")
    check(r.returncode == 1 and r.stderr.count("\n") == 1 and
          "shard_0001.bin: expected a whole number of 12-byte rows after the 0-byte header but found 63 "
          "data bytes (5 rows and 3 bytes over)" in r.stderr, "a partial row names the file and the bytes")
    d, _ = make(t, "bad_nometa", "<f4", (3,), rows=(4,), seed=5)
    r = run(a, "inspect", d)
    check(r.returncode == 1 and "expected --dtype (and --trailing) or a sidecar" in r.stderr and
          "shard_0000.bin" in r.stderr, "no --dtype and no sidecar says what is missing")
    with open(os.path.join(d, "_meta.json"), "w") as f:
        f.write("{\"dtype\": ")
    r = run(a, "inspect", d)
    check(r.returncode == 1 and "_meta.json: expected JSON but it does not parse" in r.stderr,
          "a broken sidecar is named")


def written_by_shardload(a, t):
    d = os.path.join(t, "w")
    r = run(a, "write", d, "--shape", "301,2,3", "--dtype", "int16", "--num-shards", "3", "--format", "raw")
    ok = r.returncode == 0
    meta = json.load(open(os.path.join(d, "_meta.json"))) if ok else {}
    files = meta.get("files", [])
    arrs = [np.fromfile(os.path.join(d, f), dtype="<i2").reshape(-1, 2, 3) for f in files]
    whole = np.concatenate(arrs) if arrs else None
    check(ok and len(files) == 3 and whole.shape == (301, 2, 3) and
          sum(os.path.getsize(os.path.join(d, f)) for f in files) == 301 * 12,
          "write --format raw: the files are exactly the rows' bytes")
    if whole is not None:
        loads_as(a, t, d, whole, "write --format raw reads back equal to numpy's view")


def main():
    a = args()
    with tempfile.TemporaryDirectory() as t:
        option_cases(a, t)
        sidecar_cases(a, t)
        error_cases(a, t)
        written_by_shardload(a, t)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
