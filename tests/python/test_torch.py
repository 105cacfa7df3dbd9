"""shardload.torch with DataLoader at num_workers 0 and 2, for 1 and 2
ranks (rank and world given explicitly, as torch.distributed would): every
row exactly once per epoch over ranks and workers, epochs differ, the same
seed repeats; batches come through DLPack; the map-style dataset."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="python3-torch is not installed")
from torch.utils.data import DataLoader  # noqa: E402

import shardload.torch as st  # noqa: E402
from conftest import write_shards  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("torch") / "ds")
    want = write_shards(d, [1000, 37, 0, 2500, 463], trailing=(2,), dtype="<f8")
    want[:, 0] = np.arange(want.shape[0])  # column 0 names the row
    for i, (a, b) in enumerate([(0, 1000), (1000, 1037), (1037, 1037), (1037, 3537),
                                (3537, 4000)]):
        np.save(f"{d}/shard_{i:04d}.npy", want[a:b])
    return d, want


def epoch_rows(d, world, workers, epoch, seed=5, batch=64, **kw):
    rows, batches = [], 0
    for r in range(world):
        ds = st.IterableShardDataset(d, batch_size=batch, seed=seed, block_rows=100, rank=r,
                                     world_size=world, **kw)
        ds.set_epoch(epoch)
        for b in DataLoader(ds, batch_size=None, num_workers=workers):
            assert b.dtype == torch.float64 and b.shape[1] == 2
            assert b.shape[0] == batch or not kw.get("drop_last")
            rows.append(b[:, 0].numpy().astype(np.int64))
            batches += 1
    return np.concatenate(rows), batches


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("world", [1, 2])
def test_every_row_once_per_epoch(data, workers, world):
    d, want = data
    n = want.shape[0]
    e0, _ = epoch_rows(d, world, workers, 0)
    assert np.array_equal(np.sort(e0), np.arange(n))  # each row exactly once
    e1, _ = epoch_rows(d, world, workers, 1)
    assert np.array_equal(np.sort(e1), np.arange(n))
    assert not np.array_equal(e0, e1)  # epochs differ
    again, _ = epoch_rows(d, world, workers, 0)
    assert np.array_equal(e0, again)  # the same seed repeats


def test_seed_changes_the_order(data):
    d, _ = data
    a, _ = epoch_rows(d, 2, 0, 0, seed=5)
    b, _ = epoch_rows(d, 2, 0, 0, seed=6)
    assert not np.array_equal(a, b) and np.array_equal(np.sort(a), np.sort(b))


def test_batches_hold_the_rows(data):
    d, want = data
    ds = st.IterableShardDataset(d, batch_size=50, seed=1)
    for b in ds:
        np.testing.assert_array_equal(b.numpy(), want[b[:, 0].numpy().astype(np.int64)])


def test_drop_last_and_no_shuffle(data):
    d, want = data
    rows, batches = epoch_rows(d, 1, 0, 0, batch=64, drop_last=True)
    assert batches == want.shape[0] // 64 and len(np.unique(rows)) == rows.shape[0]
    ds = st.IterableShardDataset(d, batch_size=64, shuffle=False)
    got = np.concatenate([b[:, 0].numpy() for b in ds]).astype(np.int64)
    np.testing.assert_array_equal(got, np.arange(want.shape[0]))


def test_batch_is_zero_copy_dlpack(data):
    d, _ = data
    a = st.shardload.open(d).take([3, 1])
    t = st._to_torch(a)
    assert t.data_ptr() == a.ctypes.data


def test_map_style(data):
    d, want = data
    ds = st.ShardDataset(d)
    assert len(ds) == want.shape[0]
    np.testing.assert_array_equal(ds[17].numpy(), want[17])
    blocks = st.ShardDataset(d, block_rows=1000)
    assert len(blocks) == 4
    np.testing.assert_array_equal(blocks[3].numpy(), want[3000:])
    seen = np.concatenate([b[:, 0].numpy() for b in DataLoader(ds, batch_size=256,
                                                                 shuffle=True,
                                                                 num_workers=2)])
    assert np.array_equal(np.sort(seen).astype(np.int64), np.arange(want.shape[0]))


def test_rank_and_world_default():
    assert st.rank_and_world() == (0, 1)


def test_several_inputs(data):
    """A list of paths (a shell glob's files, say) is one dataset, in order."""
    import glob
    d, want = data
    files = sorted(glob.glob(f"{d}/shard_*.npy"))
    ds = st.ShardDataset(files)
    assert len(ds) == want.shape[0]
    np.testing.assert_array_equal(ds[3600].numpy(), want[3600])
    it = st.IterableShardDataset(files[::-1], batch_size=100, shuffle=False)
    first = next(iter(DataLoader(it, batch_size=None)))
    np.testing.assert_array_equal(first.numpy(), want[3537:3637])  # the last shard first
