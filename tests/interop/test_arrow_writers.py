#!/usr/bin/python3
"""Interop with the Arrow writers: Parquet written by arrow-rs (npm
parquet-wasm) and Arrow IPC files written by apache-arrow (JavaScript).

numpy makes each case's column values; the test-data step (make_arrow_js.mjs)
writes them as sharded files with the writer's options, so the expected array
is numpy's own. Parquet cases cover every encoding the reader supports
(PLAIN, dictionary, RLE booleans, DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT),
both writer versions (data page v1 and v2), every codec (UNCOMPRESSED,
SNAPPY, GZIP, ZSTD, LZ4_RAW), small pages and row groups, the integer widths
stored in INT32/INT64, float16, fixed-size lists and nulls. Arrow IPC cases
cover uncompressed, LZ4_FRAME and ZSTD bodies, many record batches, single
columns and fixed-size lists (the direct pread path), bools, float16 and
nulls. Each good case loads exactly at 1 and 3 ranks; nulls without
--fill-nulls and the Hadoop LZ4 codec are refused with one line naming the
file, column and row or codec. P9: Arrow IPC streams (RecordBatchStreamWriter),
columns of different types loaded with --dtype (numpy astype; refused without
it, and float -> int without --cast unsafe), Arrow temporal types by name.

Test data step: npm installs the writers into --node-dir (never committed);
without node, npm or network the test is skipped (exit 77) and says why.
"""
import json, os, shutil, subprocess, sys, tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from sltest import check, node_args, npm_dir, run, summary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = ["parquet-wasm@0.8.0", "apache-arrow@21.2.0", "lz4js@0.2.0",
            "@bokuweb/zstd-wasm@0.0.27"]
SHARDS = ((0, 700), (700, 1000), (1000, 1000), (1000, 2300))  # one of zero rows


# ------------------------------------------------------------------ cases

def ints(dt):
    info = np.iinfo(dt)
    span = int(info.max) - int(info.min) + 1

    def gen(i, k):  # wraps around the whole range, extremes at the start
        v = (i.astype(object) * (2654435761 + 97 * k) + int(info.min) + k) % span + int(info.min)
        v[:2] = [info.min, info.max]
        return np.array(v.tolist(), dtype=dt)
    return gen


def floats(dt):
    def gen(i, k):
        v = (np.sin(i * (k + 1) * 0.37) * 1000).astype(dt)
        if len(v) > 4:
            v[:4] = [np.nan, np.inf, -0.0, np.finfo(dt).max]
        return v
    return gen


def rising(dt):  # slowly rising with small drops: what DELTA_BINARY_PACKED is for
    return lambda i, k: (i * 3 - (i % 7) * 5 + k * 1000 - 2000).astype(dt)


def few(dt, n=17):  # low cardinality: dictionary pages
    return lambda i, k: ((i * (k + 3)) % n).astype(dt) - np.array(5, dtype=dt)


def boolean(i, k):
    return (i * (k + 5)) % 3 == 0


def nulls_every(m):
    return lambda i, k: (i + k) % m != 3


# name: format, dtype, ncols, values, list width (0: flat), validity or None,
#       writer options, extra argv
def pq(dt, n, gen, opts, list_width=0, valid=None, argv=()):
    return ("parquet", dt, n, gen, list_width, valid, opts, list(argv))


def ar(dt, n, gen, opts, list_width=0, valid=None, argv=()):
    return ("arrow", dt, n, gen, list_width, valid, opts, list(argv))


def ars(dt, n, gen, opts, list_width=0, valid=None, argv=()):  # the IPC stream format
    return ("arrows", dt, n, gen, list_width, valid, opts, list(argv))


# Columns of different types (P9): dt is then a tuple, one dtype (or, for
# Arrow, a temporal type's name, stored as the integer dtype of STORAGE) a
# column, and gen makes column k's values from gens[k].
STORAGE = {"date32": "int32", "time64_us": "int64", "timestamp_us_utc": "int64",
           "timestamp_ms": "int64", "duration_ns": "int64"}


def col_dtype(dt, k):
    d = dt[k] if isinstance(dt, tuple) else dt
    return STORAGE.get(d, d)


def col_type(dt, k):
    return dt[k] if isinstance(dt, tuple) else dt


def mixed(*gens):
    return lambda i, k: gens[k](i, k)


CASES = {
    "pq_f8_plain_v1_small_pages": pq("float64", 3, floats(np.float64), {
        "batch": 512, "parquet": {"dictionary": False, "page": 1024}}),
    "pq_f4_dict_snappy": pq("float32", 2, few(np.float32), {
        "parquet": {"compression": "SNAPPY"}}),
    "pq_i4_delta_lz4raw_v2": pq("int32", 2, rising(np.int32), {
        "batch": 800, "parquet": {"compression": "LZ4_RAW", "writer": "V2",
                                  "encodings": {"c0": "DELTA_BINARY_PACKED",
                                                "c1": "DELTA_BINARY_PACKED"}}}),
    "pq_i8_delta_gzip": pq("int64", 2, ints(np.int64), {
        "parquet": {"compression": "GZIP", "encodings": {"c0": "DELTA_BINARY_PACKED",
                                                         "c1": "DELTA_BINARY_PACKED"}}}),
    "pq_f8_bss_zstd_v2": pq("float64", 2, floats(np.float64), {
        "parquet": {"compression": "ZSTD", "writer": "V2",
                    "encodings": {"c0": "BYTE_STREAM_SPLIT", "c1": "BYTE_STREAM_SPLIT"}}}),
    "pq_f4_bss_snappy": pq("float32", 3, floats(np.float32), {
        "batch": 600, "parquet": {"compression": "SNAPPY", "page": 2048, "encodings": {
            "c0": "BYTE_STREAM_SPLIT", "c1": "BYTE_STREAM_SPLIT", "c2": "BYTE_STREAM_SPLIT"}}}),
    "pq_bool_rle_v2_zstd": pq("bool", 3, boolean, {
        "parquet": {"compression": "ZSTD", "writer": "V2", "dictionary": False}}),
    "pq_bool_plain_v1": pq("bool", 2, boolean, {"parquet": {"dictionary": False}}),
    "pq_i1_dict_v2": pq("int8", 2, ints(np.int8), {
        "parquet": {"compression": "ZSTD", "writer": "V2"}}),
    "pq_u1_plain": pq("uint8", 3, ints(np.uint8), {"parquet": {"dictionary": False}}),
    "pq_i2_snappy": pq("int16", 2, ints(np.int16), {"parquet": {"compression": "SNAPPY"}}),
    "pq_u2_delta_v2": pq("uint16", 2, ints(np.uint16), {
        "parquet": {"writer": "V2", "encodings": {"c0": "DELTA_BINARY_PACKED",
                                                  "c1": "DELTA_BINARY_PACKED"}}}),
    "pq_u4_gzip": pq("uint32", 2, ints(np.uint32), {"parquet": {"compression": "GZIP"}}),
    "pq_u8_zstd": pq("uint64", 2, ints(np.uint64), {
        "parquet": {"compression": "ZSTD", "dictionary": False}}),
    "pq_f2_lz4raw": pq("float16", 2, floats(np.float16), {
        "parquet": {"compression": "LZ4_RAW"}}),
    "pq_fsl_f4x5_zstd": pq("float32", 1, floats(np.float32), {
        "batch": 300, "parquet": {"compression": "ZSTD", "dictionary": False}}, list_width=5),
    # small pages in one row group per shard, as arrow-rs writes them with
    # its offset index: at 3 ranks each reads only the pages of its rows
    "pq_fsl_f8x4_pages_v1": pq("float64", 1, floats(np.float64), {
        "parquet": {"compression": "SNAPPY", "page": 1024, "dictionary": False}}, list_width=4),
    "pq_fsl_i4x6_pages_v2": pq("int32", 1, rising(np.int32), {
        "parquet": {"writer": "V2", "page": 700}}, list_width=6),
    "pq_fsl_i8x3_dict": pq("int64", 1, few(np.int64), {"parquet": {"compression": "SNAPPY"}},
                           list_width=3),
    "pq_f8_nulls_filled": pq("float64", 2, floats(np.float64), {
        "batch": 400, "parquet": {"compression": "SNAPPY", "page": 512, "dictionary": False}},
        valid=nulls_every(37), argv=["--fill-nulls", "-2.5"]),
    "pq_i4_nulls_dict_filled": pq("int32", 2, few(np.int32), {
        "parquet": {"compression": "ZSTD", "writer": "V2"}},
        valid=nulls_every(11), argv=["--fill-nulls", "7"]),
    "ar_f8_batches": ar("float64", 3, floats(np.float64), {"batch": 256}),
    "ar_i4_lz4": ar("int32", 2, ints(np.int32), {"batch": 500, "codec": "LZ4_FRAME"}),
    "ar_f4_zstd": ar("float32", 4, floats(np.float32), {"batch": 1000, "codec": "ZSTD"}),
    "ar_i8_single": ar("int64", 1, ints(np.int64), {"batch": 300}),
    "ar_fsl_f8x3": ar("float64", 1, floats(np.float64), {"batch": 400}, list_width=3),
    "ar_fsl_i2x4_zstd": ar("int16", 1, ints(np.int16), {"batch": 450, "codec": "ZSTD"},
                           list_width=4),
    "ar_bool": ar("bool", 3, boolean, {"batch": 333}),
    "ar_u1_lz4": ar("uint8", 2, ints(np.uint8), {"batch": 640, "codec": "LZ4_FRAME"}),
    "ar_f2": ar("float16", 2, floats(np.float16), {"batch": 1000}),
    "ar_u8_zstd": ar("uint64", 2, ints(np.uint64), {"batch": 700, "codec": "ZSTD"}),
    "ar_f4_nulls_filled": ar("float32", 2, floats(np.float32), {"batch": 128},
                             valid=nulls_every(29), argv=["--fill-nulls", "7"]),
    # P9: streams, columns of different types with --dtype, temporal types
    "ars_f4_stream": ars("float32", 3, floats(np.float32), {"batch": 300}),
    "ars_i8_zstd_stream": ars("int64", 2, ints(np.int64), {"batch": 700, "codec": "ZSTD"}),
    "ars_fsl_f8x3_stream": ars("float64", 1, floats(np.float64), {"batch": 250}, list_width=3),
    "ar_mixed_cast_f8": ar(("float32", "int64", "int16", "uint8", "bool"), 5,
                           mixed(floats(np.float32), ints(np.int64), ints(np.int16),
                                 ints(np.uint8), boolean), {"batch": 500},
                           argv=["--dtype", "float64"]),
    "ars_mixed_cast_f4_lz4": ars(("float64", "int32"), 2, mixed(floats(np.float64),
                                                                ints(np.int32)),
                                 {"batch": 900, "codec": "LZ4_FRAME"},
                                 argv=["--dtype", "float32"]),
    "ar_mixed_unsafe_i2": ar(("float64", "int64"), 2, mixed(rising(np.float64), ints(np.int64)),
                             {"batch": 640}, argv=["--dtype", "int16", "--cast", "unsafe",
                                                   "--columns", "c1,c0"]),
    "pq_mixed_cast_f4": pq(("float64", "int32", "int16"), 3,
                           mixed(floats(np.float64), ints(np.int32), ints(np.int16)),
                           {"parquet": {"compression": "SNAPPY"}}, argv=["--dtype", "float32"]),
    "ar_temporal": ar(("date32", "time64_us", "timestamp_us_utc", "timestamp_ms",
                       "duration_ns"), 5, mixed(ints(np.int32), rising(np.int64),
                                                rising(np.int64), rising(np.int64),
                                                ints(np.int64)), {"batch": 400},
                      argv=["--columns", "c1,c2,c3,c4"]),
    # one compressed batch of 17.6 MB: read whole by one piece, its columns
    # decoded one at a time (over 16 MiB); a third of it at 3 ranks
    "ar_f8_zstd_one_batch": ar("float64", 2, floats(np.float64), {
        "codec": "ZSTD", "shards": [[0, 1100000], [1100000, 1100100]]}),
}

# name: the case it copies (its files), extra argv, the phrases of the one-line error
ERRORS = {
    "pq_nulls_refused": ("pq_f8_nulls_filled", [], ["shard_0000.parquet: column c0 has a "
                                                    "null value at row 3"]),
    "ar_nulls_refused": ("ar_f4_nulls_filled", [], ["shard_0000.arrow: column 'c0' has a null "
                                                    "at row 3"]),
    "ar_mixed_refused": ("ar_mixed_cast_f8", [], [
        "shard_0000.arrow: the numeric columns differ in type (c0 Float32 (<f4), c1 Int64 "
        "(<i8)", "give --dtype (e.g. float64)"]),
    "pq_float_to_int_refused": ("pq_mixed_cast_f4", ["--dtype", "int64"], [
        "shard_0000.parquet: column c0 is DOUBLE (<f8), which --dtype int64 does not take "
        "under same_kind casting", "--cast unsafe"]),
}


def column_values(case, i):
    """Each column's values (rows x list width, or rows) for global rows i."""
    _, dt, n, gen, lw, valid, _, _ = case
    cols = []
    for k in range(n):
        if lw:
            v = np.stack([gen(i * lw + j, k) for j in range(lw)], 1)
        else:
            v = gen(i, k)
        cols.append(np.asarray(v, dtype=col_dtype(dt, k)))
    masks = [valid(i, k) for k in range(n)] if valid else None
    return cols, masks


def shards_of(case):
    return case[6].get("shards", SHARDS)


def expected(case, fill):
    i = np.arange(shards_of(case)[-1][1])
    cols, masks = column_values(case, i)
    if masks:
        cols = [np.where(m[:, None] if c.ndim == 2 else m, c, np.asarray(fill, c.dtype))
                for c, m in zip(cols, masks)]
    argv = case[7]
    if "--columns" in argv:  # c<k> names, in the order given
        cols = [cols[int(n[1:])] for n in argv[argv.index("--columns") + 1].split(",")]
    if "--dtype" in argv:  # numpy's astype, column by column
        cols = [c.astype(argv[argv.index("--dtype") + 1]) for c in cols]
    return cols[0] if case[4] else np.stack(cols, 1)


def specs(t):
    out = []
    for name, case in CASES.items():
        fmt, dt, n, _, lw, _, opts, _ = case
        d = os.path.join(t, name)
        os.makedirs(d)
        cols, masks = column_values(case, np.arange(shards_of(case)[-1][1]))
        ext = fmt
        for s, (lo, up) in enumerate(shards_of(case)):
            columns = []
            for k in range(n):
                data = os.path.join(d, f".c{k}_{s}.bin")
                v = cols[k][lo:up]
                (v.astype(np.uint8) if col_dtype(dt, k) == "bool" else v).tofile(data)
                vp = None
                if masks:
                    vp = os.path.join(d, f".c{k}_{s}.valid")
                    masks[k][lo:up].astype(np.uint8).tofile(vp)
                columns.append({"name": f"c{k}", "type": col_type(dt, k), "data": data, "valid": vp,
                                "list": lw})
            spec = {k: v for k, v in opts.items() if k != "shards"}
            out.append(dict(spec, format=fmt, out=os.path.join(d, f"shard_{s:04d}.{ext}"),
                            rows=up - lo, columns=columns))
    # the deprecated Hadoop-framed LZ4, which the reader does not decode
    d = os.path.join(t, "pq_lz4_hadoop")
    os.makedirs(d)
    data = os.path.join(d, ".c0.bin")
    np.arange(100, dtype=np.float64).tofile(data)
    out.append({"format": "parquet", "out": os.path.join(d, "shard_0000.parquet"), "rows": 100,
                "columns": [{"name": "x", "type": "float64", "data": data, "valid": None,
                             "list": 0}],
                "parquet": {"compression": "LZ4", "dictionary": False}})
    return out


def make_files(nd, t):
    with open(os.path.join(t, "spec.json"), "w") as f:
        json.dump(specs(t), f)
    script = os.path.join(nd, "make_arrow_js.mjs")  # resolves node_modules from there
    shutil.copy(os.path.join(HERE, "make_arrow_js.mjs"), script)
    p = subprocess.run(["node", script, os.path.join(t, "spec.json")], capture_output=True,
                       text=True, timeout=600)
    if p.returncode != 0:
        print(p.stderr[-3000:])
    for name in CASES:  # only the shards stay in the case directories
        d = os.path.join(t, name)
        for f in os.listdir(d):
            if f.startswith("."):
                os.unlink(os.path.join(d, f))
    return p.returncode == 0


def loads(a, t):
    for name, case in CASES.items():
        argv = case[7]
        fill = float(argv[argv.index("--fill-nulls") + 1]) if "--fill-nulls" in argv else 0
        want = expected(case, fill)
        for n in (0, 3):
            out = os.path.join(t, f"{name}_{n}.npy")
            p = run(a, "read", os.path.join(t, name), "--output", out, "--verify", *argv, n=n)
            got = np.load(out) if p.returncode == 0 else None
            ok = (got is not None and got.dtype == want.dtype and got.shape == want.shape
                  and np.array_equal(got, want, equal_nan=want.dtype.kind == "f"))
            if not ok:
                print(p.stderr[-1500:], None if got is None else (got.dtype, got.shape, got[:3]),
                      (want.dtype, want.shape, want[:3]))
            writer = "arrow-rs" if case[0] == "parquet" else "apache-arrow JS"
            check(ok, f"{writer} {name} loads exactly at {max(n, 1)} rank(s)")


def one_line_error(p, *needles):
    lines = [l for l in p.stderr.splitlines() if l.startswith("shardload: ")]
    return p.returncode == 1 and len(lines) == 1 and all(s in lines[0] for s in needles)


def refuses(a, t):
    for name, (case, argv, phrases) in ERRORS.items():
        for n in (0, 2):
            p = run(a, "read", os.path.join(t, case), *argv, n=n)
            check(one_line_error(p, *phrases),
                  f"{name} at {max(n, 1)} rank(s): {p.stderr.strip()[:200]}")
    p = run(a, "read", os.path.join(t, "pq_lz4_hadoop"))
    check(one_line_error(p, "shard_0000.parquet: column x uses compression LZ4"),
          f"arrow-rs LZ4 (Hadoop framing) is refused naming the codec: {p.stderr.strip()[:200]}")


def main():
    a = node_args()
    nd = npm_dir(a.node_dir, PACKAGES, "files with parquet-wasm and apache-arrow")
    with tempfile.TemporaryDirectory() as t:
        if not check(make_files(nd, t), "parquet-wasm and apache-arrow write the cases"):
            return summary()
        loads(a, t)
        refuses(a, t)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
