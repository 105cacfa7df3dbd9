"""pytest set-up for the python tier: the package from python/ (unless
PYTHONPATH already names one), the library from $SHARDLOAD_LIBRARY (CTest
sets it to the build's libshardload.so). A file whose tests all skip makes
pytest exit 77, which CTest shows as Skipped; skip reasons are printed (-rs)."""
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if not any(os.path.isdir(os.path.join(p, "shardload")) for p in sys.path if p):
    sys.path.insert(0, os.path.join(ROOT, "python"))


def pytest_sessionfinish(session, exitstatus):
    rep = session.config.pluginmanager.get_plugin("terminalreporter")
    if rep is None or exitstatus not in (0, 5):  # 5: nothing collected (module skipped)
        return
    ran = len(rep.stats.get("passed", [])) + len(rep.stats.get("failed", []))
    if ran == 0 and rep.stats.get("skipped"):
        session.exitstatus = 77


def write_shards(d, rows, trailing=(3,), dtype="<f4", seed=0):
    """shard_NNNN.npy files in d; returns the stacked array."""
    rng = np.random.default_rng(seed)
    parts = []
    os.makedirs(d, exist_ok=True)
    for i, r in enumerate(rows):
        a = (rng.standard_normal((r,) + tuple(trailing)) * 100).astype(dtype)
        np.save(os.path.join(d, f"shard_{i:04d}.npy"), a)
        parts.append(a)
    return np.concatenate(parts)


@pytest.fixture
def small(tmp_path):
    """A small npy dataset: (path, the stacked array)."""
    d = str(tmp_path / "small")
    return d, write_shards(d, [700, 0, 1234, 5, 999])


def cli():
    exe = os.environ.get("SHARDLOAD_CLI") or os.path.join(ROOT, "build", "tools", "shardload")
    if not os.path.exists(exe):
        pytest.skip(f"the shardload command is not built ({exe}; set SHARDLOAD_CLI)")
    return exe
