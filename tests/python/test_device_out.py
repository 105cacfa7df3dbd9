"""Dataset.read(out=<a device array>) goes through the gpu variant into the
array's own memory (no host buffer in between), and load(device=...)
places the tile. Runs on any machine on the library's host copy engine
(SHARDLOAD_TEST_COPY_ENGINE=host: "device" memory is host memory, copies
are carried out late and out of order), with a stand-in object that has
only __cuda_array_interface__, as CuPy, Numba and PyTorch CUDA tensors do.
test_cupy.py does the same with real CuPy arrays where a GPU exists."""
import numpy as np
import pytest

import shardload


class FakeDevice:
    """A 'device array' over host memory: __cuda_array_interface__ only
    (not a buffer, so the package cannot take the host path by mistake)."""

    def __init__(self, host, readonly=False, strides=None, typestr=None):
        self.host = host
        self.__cuda_array_interface__ = {
            "shape": host.shape, "typestr": typestr or host.dtype.str,
            "data": (host.ctypes.data, readonly), "version": 3, "strides": strides}


@pytest.fixture
def host_engine(monkeypatch):
    monkeypatch.setenv("SHARDLOAD_TEST_COPY_ENGINE", "host:3")
    monkeypatch.setenv("SHARDLOAD_TEST_STAGE_BYTES", "4096")  # many staging chunks


def test_read_fills_device_array_in_place(small, host_engine):
    path, want = small
    ds = shardload.open(path)
    host = np.zeros((2500, 3), np.float32)
    out = FakeDevice(host)
    got, st = ds.read(300, 2800, out=out, stats=True)
    assert got is out
    assert st["variant"] == "gpu" and st["device"] >= 0
    assert "host copy engine" in st["device_name"]
    np.testing.assert_array_equal(host, want[300:2800])
    host[:] = 0  # variant "gpu" named, and a read of zero rows
    ds.read(0, 2500, out=out, variant="gpu")
    np.testing.assert_array_equal(host, want[:2500])
    ds.read(5, 5, out=FakeDevice(np.zeros((0, 3), np.float32)))


def test_device_array_is_checked_before_the_call(small, host_engine):
    path, _ = small
    ds = shardload.open(path)
    host = np.zeros((10, 3), np.float32)
    with pytest.raises(TypeError, match="read-only"):
        ds.read(0, 10, out=FakeDevice(host, readonly=True))
    with pytest.raises(TypeError, match="dtype"):
        ds.read(0, 10, out=FakeDevice(host, typestr="<f8"))
    with pytest.raises(ValueError, match="expected 108 bytes"):
        ds.read(0, 9, out=FakeDevice(host))
    with pytest.raises(ValueError, match="not C-contiguous"):
        ds.read(0, 10, out=FakeDevice(host, strides=(4, 40)))
    with pytest.raises(shardload.NotSupportedError):  # the gpu variant gathers nothing
        ds.take([1, 2], variant="gpu")
    assert not host.any()


def test_host_variants_refuse_device_memory(small, host_engine):
    path, _ = small
    ds = shardload.open(path)
    host = np.zeros((10, 3), np.float32)
    with pytest.raises(shardload.Error):
        ds.read(0, 10, out=FakeDevice(host), variant="cpu")
    assert not host.any()


def test_load_places_the_tile(small, host_engine):
    path, want = small
    a = shardload.load(path, device=1)  # the host engine's tiles are host memory
    assert a.stats["device"] == 1 and a.stats["variant"] == "gpu"
    b = shardload.load(path, device="cuda:0")
    assert b.stats["device"] == 0
    h = shardload.load(path, device="cpu")
    assert h.memory == "host" and h.stats["variant"] in ("cpu", "omp")
    np.testing.assert_array_equal(h.local, want)
    for bad, err in (("cuda:x", ValueError), (-5, ValueError), (1.5, TypeError),
                     ("tpu", TypeError)):
        with pytest.raises(err):
            shardload.load(path, device=bad)
    with pytest.raises(ValueError, match="needs variant"):
        shardload.load(path, device=0, variant="cpu")
