"""shardload.open: description, slicing, read into caller buffers, the
gather against NumPy fancy indexing, errors mapped to exception classes."""
import array
import mmap
import os

import numpy as np
import pytest

import shardload
from conftest import write_shards


def test_describe(small):
    path, want = small
    ds = shardload.open(path)
    assert ds.shape == want.shape and ds.dtype == want.dtype and ds.ndim == 2
    assert ds.nbytes == want.nbytes and ds.format == "npy" and len(ds) == want.shape[0]
    assert [r for _, r in ds.shards] == [700, 0, 1234, 5, 999]
    assert ds.shards[2][0].endswith("shard_0002.npy")
    assert ds.columns is None


def test_indexing_like_numpy(small):
    path, want = small
    ds = shardload.open(path)
    np.testing.assert_array_equal(np.asarray(ds), want)
    for key in (0, -1, 1933, slice(5, 900), slice(None), slice(10, 3000, 7),
                slice(None, None, -3), slice(2000, 10), (slice(3, 9), 1), (5, 2),
                (slice(1, 4), slice(0, 2)), Ellipsis, [3, 1, 3],
                np.array([[0, 5], [2937, -2]])):
        np.testing.assert_array_equal(ds[key], want[key], err_msg=repr(key))
    mask = np.zeros(want.shape[0], bool)
    mask[::11] = True
    np.testing.assert_array_equal(ds[mask], want[mask])
    with pytest.raises(IndexError):
        ds[want.shape[0]]
    with pytest.raises(IndexError):
        ds[[0, want.shape[0]]]


def test_read_into_buffers(small):
    path, want = small
    ds = shardload.open(path)
    out = np.full((100, 3), -1, np.float32)
    assert ds.read(650, 750, out=out) is out
    np.testing.assert_array_equal(out, want[650:750])
    for buf in (bytearray(100 * 12), array.array("f", [0.0]) * 300, mmap.mmap(-1, 1200)):
        ds.read(650, 750, out=buf)
        np.testing.assert_array_equal(np.frombuffer(buf, np.float32, 300).reshape(100, 3),
                                      want[650:750])
    a, st = ds.read(0, 10, stats=True)
    assert st["rows"] == 10 and st["bytes"] == 120
    with pytest.raises(TypeError, match="read-only"):
        ds.read(0, 1, out=bytes(12))
    with pytest.raises(ValueError, match="expected 120 bytes"):
        ds.read(0, 10, out=bytearray(12))
    with pytest.raises(TypeError, match="dtype"):
        ds.read(0, 10, out=np.empty((10, 3), np.float64))
    with pytest.raises(ValueError, match="C-contiguous"):
        ds.read(0, 10, out=np.empty((10, 6), np.float32)[:, ::2])
    with pytest.raises(ValueError, match="outside"):
        ds.read(5, 3)
    with pytest.raises(TypeError):
        ds.read(0, 10, out=object())


@pytest.mark.parametrize("variant", ["auto", "cpu", "omp"])
def test_gather_matches_fancy_indexing(small, variant):
    path, want = small
    ds = shardload.open(path)
    rng = np.random.default_rng(3)
    N = want.shape[0]
    sets = [np.array([], np.int64), np.arange(N), np.arange(N)[::-1], [7, 7, 7, 0],
            np.sort(rng.integers(0, N, 500)), rng.integers(0, N, 4096),
            rng.integers(690, 720, 300), np.repeat(rng.integers(0, N, 50), 3)]
    for idx in sets:
        idx = np.asarray(idx, np.int64)
        try:
            got = ds.take(idx, variant=variant)
        except shardload.NotSupportedError as e:  # omp not built
            pytest.skip(str(e))
        np.testing.assert_array_equal(got, want[idx])
        assert got.shape == (idx.shape[0], 3)
    out = np.empty((3, 3), np.float32)
    assert ds.take([5, 1, 5], out=out) is out
    np.testing.assert_array_equal(out, want[[5, 1, 5]])


def test_gather_refuses_out_of_range(small):
    path, want = small
    ds = shardload.open(path)
    N = want.shape[0]
    with pytest.raises(shardload.InvalidArgumentError,
                       match=rf"row index {N} \(at position 2\) is outside \[0, {N}\)") as e:
        ds.take([0, 1, N])
    assert path in str(e.value) and e.value.status == "SL_EINVAL"
    with pytest.raises(shardload.InvalidArgumentError, match=r"row index -1"):
        ds.take([-1])
    with pytest.raises(TypeError):
        ds.take([0.5])
    with pytest.raises(ValueError):
        ds.take([[0]])


def test_errors_mapped(tmp_path, small):
    with pytest.raises(shardload.NotFoundError) as e:
        shardload.open(str(tmp_path / "nope"))
    assert "nope" in str(e.value) and isinstance(e.value, OSError)
    bad = tmp_path / "mixed"
    write_shards(str(bad), [3], dtype="<f4")
    np.save(bad / "shard_0001.npy", np.zeros((2, 3), np.float64))
    with pytest.raises(shardload.LayoutError, match="shard_0001.npy"):
        shardload.open(str(bad))
    trunc = tmp_path / "trunc"
    write_shards(str(trunc), [30])
    with open(trunc / "shard_0000.npy", "r+b") as f:
        f.truncate(200)
    with pytest.raises(shardload.FormatError, match="shard_0000.npy"):
        shardload.open(str(trunc))
    with pytest.raises(TypeError):
        shardload.Dataset(small[0], bogus=1)
    with pytest.raises(ValueError, match="variant"):
        shardload.open(small[0]).read(0, 1, variant="fast")
    with pytest.raises(ValueError, match="threads"):
        shardload.load(small[0], threads=0)
    with pytest.raises(TypeError, match="comm"):
        shardload.load(small[0], comm="world")
    with pytest.raises(shardload.InvalidArgumentError,
                       match="option format 'nosuch' is not a format of this build"):
        shardload.open(small[0], format="nosuch")
    assert shardload.open(small[0], format="NPY").format == "npy"  # names resolve


def test_changed_file_named(tmp_path):
    d = tmp_path / "chg"
    write_shards(str(d), [10, 10])
    ds = shardload.open(str(d))
    ds[3:15]
    with open(d / "shard_0001.npy", "ab") as f:
        f.write(b"xxxx")
    with pytest.raises(shardload.ChangedError, match="shard_0001.npy changed"):
        ds.take([15, 2])


def test_closed_and_pickled(small):
    import pickle
    path, want = small
    ds = shardload.open(path)
    ds2 = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(ds2[10:20], want[10:20])
    ds.close()
    with pytest.raises(ValueError, match="closed"):
        ds.read(0, 1)


def test_list_of_paths_is_their_concatenation(tmp_path):
    import pickle
    a = write_shards(str(tmp_path / "a"), [7, 0, 5], seed=1)
    b = write_shards(str(tmp_path / "b"), [4], seed=2)
    one = (np.arange(9, dtype="<f4") - 4).reshape(3, 3)
    np.save(tmp_path / "one.npy", one)
    dask = tmp_path / "dask"  # a Dask stack of 0.npy, 1.npy: read with a pattern
    dask.mkdir()
    for i in range(2):
        np.save(dask / f"{i}.npy", one + 10 * i)
    want = np.concatenate([one, a, b, a])
    paths = [tmp_path / "one.npy", str(tmp_path / "a"), tmp_path / "b", str(tmp_path / "a")]
    ds = shardload.open(paths)
    assert ds.path == [os.fspath(p) for p in paths] and ds.shape == want.shape
    np.testing.assert_array_equal(np.asarray(ds), want)
    np.testing.assert_array_equal(ds.take([0, 3, 20, 30]), want[[0, 3, 20, 30]])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(ds))[2:18], want[2:18])
    np.testing.assert_array_equal(shardload.load(tuple(paths)).local, want)
    got = shardload.open([str(dask), tmp_path / "one.npy"], pattern="*.npy")
    np.testing.assert_array_equal(np.asarray(got), np.concatenate([one, one + 10, one]))
    with pytest.raises(shardload.NotFoundError, match="nope.npy: no such file"):
        shardload.open([tmp_path / "one.npy", tmp_path / "nope.npy"])
    with pytest.raises(shardload.InvalidArgumentError, match="no dataset path given"):
        shardload.open([])
    with pytest.raises(shardload.LayoutError, match="it holds 0.npy, 1.npy: to read them, "
                       "give option pattern"):
        shardload.open(dask)


def test_inspect(small):
    path, want = small
    ds = shardload.open(path)
    acc = ds.inspect()
    assert [a["rows"] for a in acc] == [700, 0, 1234, 5, 999]
    assert all(a["read_path"] == "direct" and a["order"] == "C" for a in acc)
    assert ds.inspect(2)["path"].endswith("shard_0002.npy")
    with pytest.raises(IndexError):
        ds.inspect(5)
