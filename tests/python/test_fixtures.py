"""Every case of ../shared/fixtures through shardload.open and shardload.load:
good cases equal expected.json (shape, dtype, sha256 of the C-order
little-endian bytes, per-shard rows), error cases raise shardload.Error
naming the file. Formats this build lacks skip with the reason; a case's
extra_flags (--dtype, --cast) become open() options."""
import hashlib
import json
import os

import numpy as np
import pytest

import shardload

FIXTURES = os.environ.get("SL_FIXTURES") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "fixtures")
CASES = sorted(c for c in os.listdir(FIXTURES)
               if os.path.exists(os.path.join(FIXTURES, c, "expected.json"))) \
    if os.path.isdir(FIXTURES) else []
FORMATS = shardload.features().split("formats:")[1].split(";")[0].split()
TABLES = ("parquet", "arrow", "arrow_ipc")


def case_args(case):
    d = os.path.join(FIXTURES, case)
    exp = json.load(open(os.path.join(d, "expected.json")))
    fmt = {"arrow_ipc": "arrow", "h5": "hdf5"}.get(exp.get("format"), exp.get("format"))
    if fmt not in FORMATS:
        pytest.skip(f"{case}: the {fmt} driver is not in this build (formats: "
                    f"{' '.join(FORMATS)})")
    flags = list(exp.get("extra_flags", []))
    kw, path = {}, d
    while flags:  # the CLI's flags as open() options
        flag = flags.pop(0)
        if flag in ("--dtype", "--cast") and flags:
            kw[flag[2:]] = flags.pop(0)
        else:
            pytest.skip(f"{case}: extra flag {flag} has no open() option")
    if exp.get("path"):
        path = os.path.join(d, exp["path"])
    if exp.get("dataset_pattern"):
        path = os.path.join(d, exp["files"][0])
        kw["dataset"] = exp["dataset_pattern"]
    elif exp.get("dataset"):
        kw["dataset"] = exp["dataset"]
    if exp.get("columns") and exp.get("format") in TABLES:
        kw["columns"] = [exp["vector_column"]] if exp.get("vector_column") else exp["columns"]
    return exp, path, kw


def digest(a):
    le = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<")))
    return hashlib.sha256(le.tobytes()).hexdigest()


def check_good(exp, a):
    assert a.dtype.newbyteorder("<") == np.dtype(exp["dtype"]).newbyteorder("<")
    assert list(a.shape) == list(exp["shape"])
    assert digest(a) == exp["sha256"]


@pytest.mark.skipif(not CASES, reason=f"no fixtures at {FIXTURES} (set SL_FIXTURES)")
@pytest.mark.parametrize("case", CASES or ["none"])
def test_fixture(case):
    exp, path, kw = case_args(case)
    kind = exp["expect"]
    try:
        ds = shardload.open(path, **kw)
        whole = np.asarray(ds)
        arr = shardload.load(path, **kw)
        local = np.array(arr.local)
    except shardload.Error as e:
        assert kind in ("error", "ok_or_error"), f"{case}: {e}"
        blame = exp.get("error_file")
        if blame:
            assert blame in str(e), f"{case}: message does not name {blame}: {e}"
        assert "\n" not in str(e)
        return
    assert kind != "error", f"{case}: loaded but should be rejected"
    check_good(exp, whole)
    check_good(exp, local)
    if "per_shard_rows" in exp:
        assert [r for _, r in ds.shards] == exp["per_shard_rows"]
    n = whole.shape[0]
    if n:  # the gather agrees with the whole read on any rows
        idx = np.random.default_rng(1).integers(0, n, 300)
        np.testing.assert_array_equal(ds[idx], whole[idx])
        np.testing.assert_array_equal(ds[n // 3:n // 2], whole[n // 3:n // 2])
