"""CuPy hand-off: Dataset.read(out=<a CuPy array>) and a gpu-variant load's
.local as CuPy. Skips loudly without CuPy or a GPU (this machine has
neither). Dataset.read(out=<CuPy>) is filled by the gpu variant in place;
take(out=<CuPy>) gathers into host memory and copies once."""
import numpy as np
import pytest

cupy = pytest.importorskip("cupy", reason="CuPy is not installed (no GPU on this machine)")
try:
    cupy.cuda.runtime.getDeviceCount()
except Exception as e:  # noqa: BLE001  (any CUDA failure means no usable GPU)
    pytest.skip(f"no usable GPU: {e}", allow_module_level=True)

import shardload  # noqa: E402


def test_read_into_cupy(small):
    path, want = small
    ds = shardload.open(path)
    out = cupy.empty((100, 3), cupy.float32)
    _, st = ds.read(10, 110, out=out, stats=True)
    assert st["variant"] == "gpu"  # filled in place by the gpu variant
    np.testing.assert_array_equal(cupy.asnumpy(out), want[10:110])
    ds.take([5, 1, 5], out=out[:3])
    np.testing.assert_array_equal(cupy.asnumpy(out[:3]), want[[5, 1, 5]])


def test_gpu_load_local_is_cupy(small):
    path, want = small
    try:
        a = shardload.load(path, variant="gpu")
    except shardload.NotSupportedError as e:
        pytest.skip(f"gpu variant not in this build: {e}")
    assert a.memory == "cuda"
    np.testing.assert_array_equal(cupy.asnumpy(a.local), want)
