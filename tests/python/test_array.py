"""shardload.load in one process: the tile, zero-copy views that outlive the
array, DLPack to NumPy and torch without a copy (same address), to_npy
equal to the CLI's --output."""
import gc
import os
import subprocess

import numpy as np
import pytest

import shardload
from conftest import cli


def test_load_single_process(small):
    path, want = small
    a = shardload.load(path)
    assert a.global_shape == want.shape and a.dtype == want.dtype
    assert a.rank == 0 and a.nparts == 1 and a.parts == [(0, want.shape[0])]
    assert a.local_range == (0, want.shape[0]) and a.memory == "host"
    np.testing.assert_array_equal(a.local, want)
    assert a.stats["rows"] == want.shape[0] and a.stats["bytes"] == want.nbytes
    assert a.local is a.local  # one view, not a copy per access


@pytest.mark.parametrize("variant", ["cpu", "omp"])
def test_load_options(small, variant):
    path, want = small
    try:
        a = shardload.load(path, variant=variant, threads=2, io="buffered", chunk_bytes=8192)
    except shardload.NotSupportedError as e:
        pytest.skip(str(e))
    np.testing.assert_array_equal(a.local, want)
    assert a.stats["variant"] == variant and a.stats["io"] == "buffered"


def test_views_outlive_the_array(small):
    path, want = small
    a = shardload.load(path)
    addr = a.local.ctypes.data
    v = a.local[100:200]
    del a
    gc.collect()
    shardload.load(path)  # more allocation, in case the tile were freed
    assert v.ctypes.data == addr + 100 * 12
    np.testing.assert_array_equal(v, want[100:200])


def test_dlpack_numpy_same_address(small):
    path, want = small
    a = shardload.load(path)
    assert a.__dlpack_device__() == (1, 0)
    n = np.from_dlpack(a)
    assert n.ctypes.data == a.local.ctypes.data
    del a
    gc.collect()
    np.testing.assert_array_equal(n, want)  # the capsule keeps the tile


def test_dlpack_torch_same_address(small):
    torch = pytest.importorskip("torch", reason="python3-torch is not installed")
    path, want = small
    a = shardload.load(path)
    t = torch.from_dlpack(a)
    assert t.data_ptr() == a.local.ctypes.data and t.dtype == torch.float32
    del a
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), want)


def test_unconsumed_capsule_is_freed(small):
    a = shardload.load(small[0])
    for _ in range(100):
        cap = a.__dlpack__()
        del cap  # the capsule's destructor runs the deleter (ASan would see a leak)


def test_to_npy_equals_cli_output(small, tmp_path):
    path, want = small
    exe = cli()
    a = shardload.load(path)
    mine, theirs = str(tmp_path / "py.npy"), str(tmp_path / "cli.npy")
    a.to_npy(mine)
    subprocess.run([exe, "read", path, "--output", theirs], check=True, capture_output=True)
    assert open(mine, "rb").read() == open(theirs, "rb").read()
    np.testing.assert_array_equal(np.load(mine), want)


def test_device_without_a_gpu_says_why(small, monkeypatch):
    monkeypatch.delenv("SHARDLOAD_TEST_COPY_ENGINE", raising=False)
    try:
        a = shardload.load(small[0], device="cuda:0")
    except shardload.Error as e:  # no toolkit in this build, or no device visible
        assert "CUDA" in str(e) or "gpu" in str(e), str(e)
        return
    assert a.stats["variant"] == "gpu" and a.stats["device"] == 0  # a real GPU
