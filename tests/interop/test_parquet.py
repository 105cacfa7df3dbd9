#!/usr/bin/python3
"""Interop of the Parquet driver with DuckDB (@duckdb/node-api), both ways.

DuckDB writes: every integer width signed and unsigned, floats, booleans,
NULLs (refused, or replaced with --fill-nulls), FLOAT[3] arrays, small row
groups, each codec and both Parquet versions (V2: DELTA_BINARY_PACKED,
BYTE_STREAM_SPLIT, RLE_DICTIONARY); shardload must load exactly what numpy
computes from the same formulas, at 1 and 3 ranks, BROTLI pages included;
a NULL is refused with one line naming column and row. shardload writes (`write --format parquet`):
DuckDB must read back the values shardload loads.

Test data step: node_modules comes from `npm install @duckdb/node-api` into
--node-dir (never committed); without node, npm or network the test is
skipped (exit 77) and says why.
"""
import json, os, shutil, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import check, node_args, npm_dir, run, summary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DUCKDB_PKG = "@duckdb/node-api@1.5.6-r.1"
SHARDS = ((0, 700), (700, 1000), (1000, 2300))


def duckdb(nd, statements):
    """Runs SQL in DuckDB; @return each statement's rows."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(statements, f)
    script = os.path.join(nd, "make_parquet.mjs")  # resolves node_modules from there
    shutil.copy(os.path.join(HERE, "make_parquet.mjs"), script)
    p = subprocess.run(["node", script, f.name], capture_output=True, text=True, timeout=300)
    os.unlink(f.name)
    if p.returncode != 0:
        print(p.stderr[-2000:])
        return None
    return json.loads(p.stdout)


# name: (SQL columns over i, numpy builder of the expected array, COPY options, extra argv)
def i64(i):
    return i.astype(np.int64)


CASES = {
    "i1_snappy": ("(i % 256 - 128)::TINYINT AS a, (i * 7 % 256 - 128)::TINYINT AS b",
                  lambda i: np.stack([i % 256 - 128, i * 7 % 256 - 128], 1).astype(np.int8),
                  "COMPRESSION snappy", []),
    "u1_v2_zstd": ("(i % 256)::UTINYINT AS a, (i * 3 % 256)::UTINYINT AS b",
                   lambda i: np.stack([i % 256, i * 3 % 256], 1).astype(np.uint8),
                   "COMPRESSION zstd, PARQUET_VERSION V2", []),
    "i2_gzip": ("(i * 31 % 65536 - 32768)::SMALLINT AS a",
                lambda i: (i * 31 % 65536 - 32768).astype(np.int16)[:, None],
                "COMPRESSION gzip", []),
    "u2_lz4": ("(i * 97 % 65536)::USMALLINT AS a, (i % 3)::USMALLINT AS b",
               lambda i: np.stack([i * 97 % 65536, i % 3], 1).astype(np.uint16),
               "COMPRESSION lz4_raw", []),
    "u4_v2": ("(4294967295 - i * 1000003)::UINTEGER AS a",
              lambda i: (4294967295 - i * 1000003).astype(np.uint32)[:, None],
              "COMPRESSION uncompressed, PARQUET_VERSION V2", []),
    "i4_v2_delta": ("(i * i - 5000)::INTEGER AS a, (-i * 13)::INTEGER AS b",
                    lambda i: np.stack([i * i - 5000, -i * 13], 1).astype(np.int32),
                    "COMPRESSION snappy, PARQUET_VERSION V2", []),
    "u8_big": ("(18446744073709551615 - i)::UBIGINT AS a",
               lambda i: (np.uint64(18446744073709551615) - i.astype(np.uint64))[:, None],
               "COMPRESSION zstd", []),
    "i8_v2": ("(i * 1000000007 - 9223372036854775807)::BIGINT AS a",
              lambda i: (i64(i) * 1000000007 - 9223372036854775807)[:, None],
              "COMPRESSION zstd, PARQUET_VERSION V2", []),
    "f4_v2_small_groups": ("(i::FLOAT / 7::FLOAT) AS x, (-i::FLOAT * 0.25::FLOAT) AS y",
                           lambda i: np.stack([i.astype(np.float32) / np.float32(7),
                                               -i.astype(np.float32) * np.float32(0.25)], 1),
                           "COMPRESSION snappy, PARQUET_VERSION V2, ROW_GROUP_SIZE 100", []),
    "f8_dict": ("(i % 13)::DOUBLE / 8 AS x, (i::DOUBLE / 3::DOUBLE) AS y",
                lambda i: np.stack([(i % 13) / 8.0, i / 3.0], 1),
                "COMPRESSION gzip", []),
    "f8_nulls_filled": ("CASE WHEN i % 97 = 5 THEN NULL ELSE i::DOUBLE END AS x",
                        lambda i: np.where(i % 97 == 5, -1.5, i.astype(np.float64))[:, None],
                        "COMPRESSION snappy", ["--fill-nulls", "-1.5"]),
    "bool_nulls_filled": ("CASE WHEN i % 11 = 0 THEN NULL ELSE i % 3 = 0 END AS m",
                          lambda i: np.where(i % 11 == 0, True, i % 3 == 0)[:, None],
                          "COMPRESSION zstd, PARQUET_VERSION V2", ["--fill-nulls", "1"]),
    "f4x3_array": ("[i::FLOAT, (i * 2)::FLOAT, (-i)::FLOAT]::FLOAT[3] AS v",
                   lambda i: np.stack([i, i * 2, -i], 1).astype(np.float32),
                   "COMPRESSION zstd, ROW_GROUP_SIZE 500", ["--columns", "v"]),
}


def make_cases(nd, t):
    stmts = []
    for name, (cols, _, opts, _) in CASES.items():
        os.makedirs(os.path.join(t, name))
        for k, (lo, hi) in enumerate(SHARDS):
            out = os.path.join(t, name, f"shard_{k:04d}.parquet")
            stmts.append(f"COPY (SELECT {cols} FROM range({lo}, {hi}) t(i)) TO '{out}' "
                         f"(FORMAT parquet, {opts})")
    bad = os.path.join(t, "brotli.parquet")
    stmts.append(f"COPY (SELECT i::DOUBLE AS x FROM range(10) t(i)) TO '{bad}' "
                 "(FORMAT parquet, COMPRESSION brotli)")
    stmts.append(f"COPY (SELECT CASE WHEN i = 3 THEN NULL ELSE i::DOUBLE END AS x FROM "
                 f"range(10) t(i)) TO '{os.path.join(t, 'nulls.parquet')}' (FORMAT parquet)")
    return duckdb(nd, stmts) is not None


def duckdb_writes(a, t):
    i = np.arange(SHARDS[-1][1])
    for name, (_, want, _, extra) in CASES.items():
        expect = want(i)
        for n in (0, 3):
            out = os.path.join(t, f"{name}_{n}.npy")
            p = run(a, "read", os.path.join(t, name), "--output", out, "--verify", *extra, n=n)
            got = np.load(out) if p.returncode == 0 else None
            ok = (got is not None and got.dtype == expect.dtype and got.shape == expect.shape
                  and np.array_equal(got, expect))
            if not ok:
                print(p.stderr[-1500:], None if got is None else (got.dtype, got.shape, got[:3]))
            check(ok, f"DuckDB-written {name} loads exactly at {max(n, 1)} rank(s)")


def one_line_error(p, *needles):
    lines = [l for l in p.stderr.splitlines() if l.startswith("shardload: ")]
    return p.returncode == 1 and len(lines) == 1 and all(s in lines[0] for s in needles)


def duckdb_rejects(a, t):
    out = os.path.join(t, "brotli.npy")
    p = run(a, "read", os.path.join(t, "brotli.parquet"), "--output", out)
    check(p.returncode == 0 and np.array_equal(np.load(out), np.arange(10.0).reshape(10, 1)),
          f"BROTLI pages decode: {p.stderr.strip()[:200]}")
    p = run(a, "read", os.path.join(t, "nulls.parquet"))
    check(one_line_error(p, "nulls.parquet: column x has a null value at row 3"),
          f"a NULL is refused naming column and row: {p.stderr.strip()[:200]}")


def same(x, y, dt):
    """DuckDB's JSON value x (NaN arrives as null, big ints as strings) equals y."""
    if dt.startswith("float"):
        return np.isnan(y) if x is None else float(x) == float(y)
    return int(x) == int(y)


def shardload_writes(a, nd, t):
    for dt in ("float32", "float64", "int8", "uint16", "int32", "uint32", "int64", "uint64",
               "bool"):
        d = os.path.join(t, f"w_{dt}")
        p = run(a, "write", d, "--shape", "1500,3", "--dtype", dt, "--num-shards", "2",
                "--seed", "5", "--format", "parquet")
        out = os.path.join(t, f"w_{dt}.npy")
        q = run(a, "read", d, "--output", out, "--verify")
        if not check(p.returncode == 0 and q.returncode == 0, f"write/read --format parquet {dt}"):
            print(p.stderr[-800:], q.stderr[-800:])
            continue
        mine = np.load(out)
        files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".parquet"))
        flist = "[" + ", ".join(f"'{f}'" for f in files) + "]"
        rows = duckdb(nd, [f"SELECT c0, c1, c2 FROM read_parquet({flist}, filename = true, "
                           "file_row_number = true) ORDER BY filename, file_row_number"])
        theirs = None if rows is None else [v for r in rows[0] for v in r]
        ok = theirs is not None and len(theirs) == mine.size and all(
            same(x, y, dt) for x, y in zip(theirs, mine.ravel()))
        check(ok, f"DuckDB reads back what shardload wrote ({dt})")


def main():
    a = node_args()
    nd = npm_dir(a.node_dir, [DUCKDB_PKG], "Parquet files with DuckDB")
    with tempfile.TemporaryDirectory() as t:
        if not check(make_cases(nd, t), "DuckDB makes the Parquet cases"):
            return summary()
        duckdb_writes(a, t)
        duckdb_rejects(a, t)
        shardload_writes(a, nd, t)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
