"""The leaf-task body of docs/legate.md, extracted from the guide and run
with NumPy arrays standing in for the task's store, over every tiling."""
import os
import re

import numpy as np
import pytest

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "legate.md")


def leaf_read_from_doc():
    text = open(DOC).read()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def leaf_read" in b]
    assert len(blocks) == 1, "docs/legate.md must hold exactly one leaf_read block"
    ns = {}
    exec(compile(blocks[0], DOC, "exec"), ns)
    return ns["leaf_read"]


@pytest.mark.parametrize("tiles", [1, 2, 3, 7, 50])
def test_leaf_read_fills_every_tiling(small, tiles):
    path, want = small
    leaf_read = leaf_read_from_doc()
    N = want.shape[0]
    tile = -(-N // tiles)  # the recipe's tiled partition, last tile short
    store = np.full_like(want, np.nan)
    for t in range(tiles):
        lo, hi = min(t * tile, N), min((t + 1) * tile, N)
        view = store[lo:hi]  # a task's store: a view into the whole array
        assert leaf_read(path, lo, hi, view) is view
    np.testing.assert_array_equal(store, want)


def test_leaf_read_refuses_wrong_store(small):
    import shardload
    path, _ = small
    leaf_read = leaf_read_from_doc()
    with pytest.raises(ValueError):
        leaf_read(path, 0, 10, np.empty((9, 3), np.float32))
    with pytest.raises(TypeError):
        leaf_read(path, 0, 10, np.empty((10, 3), np.float64))
    with pytest.raises(shardload.NotFoundError):
        leaf_read(path + "-missing", 0, 1, np.empty((1, 3), np.float32))
