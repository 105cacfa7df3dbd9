"""shardload.dask.from_path equals NumPy (and da.from_npy_stack) on the same files."""
import os

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="python3-dask is not installed")
import shardload.dask as sd  # noqa: E402
from conftest import write_shards  # noqa: E402


def test_from_path_equals_numpy(small):
    path, want = small
    for chunks in (100, 1000, 5000, None):
        x = sd.from_path(path, chunks=chunks)
        assert x.shape == want.shape and x.dtype == want.dtype
        np.testing.assert_array_equal(x.compute(scheduler="threads"), want)
    x = sd.from_path(path, chunks=333)
    np.testing.assert_array_equal(x[100:2000:3, 1].compute(), want[100:2000:3, 1])
    assert float(x.sum().compute()) == pytest.approx(float(want.astype(np.float64).sum()),
                                                     rel=1e-5)
    np.testing.assert_array_equal(sd.from_path(path, chunks=(938, 2000)).compute(), want)
    with pytest.raises(ValueError):
        sd.from_path(path, chunks=(1, 2))
    with pytest.raises(TypeError):
        sd.from_path(path, chunks="big")


def test_equals_from_npy_stack(tmp_path):
    d = str(tmp_path / "stack")
    want = write_shards(d, [40, 40, 25], trailing=(4,))
    os.makedirs(tmp_path / "npystack")
    for i, (a, b) in enumerate([(0, 40), (40, 80), (80, 105)]):
        np.save(tmp_path / "npystack" / f"{i}.npy", want[a:b])
    import pickle
    with open(tmp_path / "npystack" / "info", "wb") as f:
        pickle.dump({"chunks": ((40, 40, 25), (4,)), "dtype": want.dtype, "axis": 0}, f)
    ref = da.from_npy_stack(str(tmp_path / "npystack"))
    x = sd.from_path(d, chunks=40)
    np.testing.assert_array_equal(x.compute(scheduler="processes"), ref.compute())
