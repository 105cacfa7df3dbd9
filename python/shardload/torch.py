"""PyTorch datasets over shardload (import torch only when this module is used).

ShardDataset: map-style, item i is row i (or block i of block_rows rows).
IterableShardDataset: batches for training. The rows are cut into blocks;
each epoch the block order is shuffled from (seed, epoch), identically on
every rank; consumer c of C = world x DataLoader workers takes blocks
c, c + C, c + 2C, ... (disjoint, together every block once), and shuffles
rows inside a window of its blocks before cutting batches. Each batch is one
gather (sorted and coalesced by the library) handed to torch through DLPack
without a copy. Use it with DataLoader(ds, batch_size=None, ...).
"""
import os
import sys

import numpy as np
import torch
from torch.utils.data import Dataset as _MapDataset
from torch.utils.data import IterableDataset as _IterDataset
from torch.utils.data import get_worker_info

import shardload

__all__ = ["ShardDataset", "IterableShardDataset", "rank_and_world"]


def rank_and_world():
    """(rank, world): torch.distributed when initialised, else mpi4py's
    COMM_WORLD when mpi4py is already imported and MPI initialised (this
    never initialises MPI itself), else (0, 1)."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
        return mpi.COMM_WORLD.Get_rank(), mpi.COMM_WORLD.Get_size()
    return 0, 1


def _to_torch(a):
    return torch.from_dlpack(a)  # NumPy exports DLPack: no copy


class _Lazy:
    """A shardload.Dataset opened once per process (DataLoader workers fork
    or unpickle: each opens its own, with its own file cache)."""

    def __init__(self, path, open_options):
        self.path = ([os.fspath(p) for p in path] if isinstance(path, (list, tuple))
                     else os.fspath(path))  # several inputs, as shardload.open takes them
        self.open_options = dict(open_options)
        self._ds, self._pid = None, None
        meta = shardload.open(self.path, **self.open_options)
        self.shape, self.dtype = meta.shape, meta.dtype
        meta.close()

    def get(self):
        if self._ds is None or self._pid != os.getpid():
            self._ds, self._pid = shardload.open(self.path, **self.open_options), os.getpid()
        return self._ds

    def __getstate__(self):
        return {"path": self.path, "open_options": self.open_options, "shape": self.shape,
                "dtype": self.dtype}

    def __setstate__(self, st):
        self.__dict__.update(st)
        self._ds, self._pid = None, None


class ShardDataset(_MapDataset):
    """Map-style: ds[i] is row i as a tensor (block_rows None) or rows
    [i*block_rows, (i+1)*block_rows) (the last block short)."""

    def __init__(self, path, block_rows=None, **open_options):
        if block_rows is not None and (not isinstance(block_rows, int) or block_rows < 1):
            raise ValueError(f"block_rows: expected a positive int or None, got {block_rows!r}")
        self._src = _Lazy(path, open_options)
        self.block_rows = block_rows

    def __len__(self):
        n = self._src.shape[0]
        return n if self.block_rows is None else -(-n // self.block_rows)

    def __getitem__(self, i):
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for {n} items")
        i %= n
        ds = self._src.get()
        if self.block_rows is None:
            return _to_torch(ds.read(i, i + 1)[0])
        lo = i * self.block_rows
        return _to_torch(ds.read(lo, min(lo + self.block_rows, self._src.shape[0])))

    def __getitems__(self, idx):  # torch >= 2.1 asks for a batch at once
        if self.block_rows is not None:
            return [self[i] for i in idx]
        return list(_to_torch(self._src.get().take(np.asarray(idx, dtype=np.int64) %
                                                   len(self))))


class IterableShardDataset(_IterDataset):
    """Batches of batch_size rows (tensors of shape (b,) + row shape), each
    row exactly once per epoch over all ranks and workers. shuffle=False
    keeps rows in order within each consumer's blocks. block_rows (default
    max(batch_size, 1024)) is the unit handed to consumers; window blocks
    are shuffled together."""

    def __init__(self, path, batch_size, shuffle=True, seed=0, drop_last=False,
                 block_rows=None, window=8, rank=None, world_size=None, **open_options):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
        if block_rows is None:
            block_rows = max(batch_size, 1024)
        if not isinstance(block_rows, int) or block_rows < 1:
            raise ValueError(f"block_rows: expected a positive int, got {block_rows!r}")
        if not isinstance(window, int) or window < 1:
            raise ValueError(f"window: expected a positive int, got {window!r}")
        self._src = _Lazy(path, open_options)
        self.batch_size, self.shuffle, self.seed = batch_size, bool(shuffle), int(seed)
        self.drop_last, self.block_rows, self.window = bool(drop_last), block_rows, window
        self._rank, self._world = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch):
        """The epoch whose block order and shuffles the next iteration uses."""
        self.epoch = int(epoch)

    def _consumer(self):
        rank, world = rank_and_world()
        if self._rank is not None:
            rank = self._rank
        if self._world is not None:
            world = self._world
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        return rank * nw + wid, world * nw

    def blocks(self):
        """This consumer's blocks of this epoch, in order (start rows)."""
        n = self._src.shape[0]
        nblocks = -(-n // self.block_rows)
        order = np.arange(nblocks)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(nblocks)
        c, C = self._consumer()
        return order[c::C] * self.block_rows, (c, C)

    def __iter__(self):
        n = self._src.shape[0]
        starts, (c, _) = self.blocks()
        rng = np.random.default_rng([self.seed, self.epoch, c + 1])
        ds, carry = self._src.get(), np.empty(0, np.int64)
        for w in range(0, len(starts), self.window):
            rows = np.concatenate([np.arange(s, min(s + self.block_rows, n), dtype=np.int64)
                                   for s in starts[w:w + self.window]])
            if self.shuffle:
                rows = rows[rng.permutation(rows.shape[0])]
            rows = np.concatenate([carry, rows])
            k = rows.shape[0] // self.batch_size * self.batch_size
            for b in range(0, k, self.batch_size):
                yield _to_torch(ds.take(rows[b:b + self.batch_size]))
            carry = rows[k:]
        if carry.shape[0] and not self.drop_last:
            yield _to_torch(ds.take(carry))
