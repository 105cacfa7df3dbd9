"""Run under mpiexec -n P: shardload.load with mpi4py's COMM_WORLD. Each
rank's tile equals the NumPy slice of the stacked shards; to_npy (collective)
equals the CLI's --output; an error is raised alike on every rank."""
import os
import subprocess
import sys

import numpy as np

try:
    from mpi4py import MPI
except ImportError as e:
    print(f"SKIPPED: mpi4py cannot be imported ({e}); install python3-mpi4py")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conftest  # noqa: E402  (the package path)
import shardload  # noqa: E402

comm = MPI.COMM_WORLD
rank, P = comm.Get_rank(), comm.Get_size()
base, cli = sys.argv[1], sys.argv[2]
path = os.path.join(base, "data")
if rank == 0:
    import shutil
    shutil.rmtree(base, ignore_errors=True)
    want = conftest.write_shards(path, [300, 0, 1234, 7, 501], trailing=(2, 3), dtype="<i8")
comm.Barrier()
want = np.concatenate([np.load(os.path.join(path, f)) for f in sorted(os.listdir(path))])
for partition in ("balanced", "tiled"):
    a = shardload.load(path, comm, partition=partition, variant="cpu" if rank % 2 else "auto")
    assert a.nparts == P and a.rank == rank and a.global_shape == want.shape
    lo, hi = a.local_range
    assert a.parts[rank] == (lo, hi) and a.parts[0][0] == 0 and a.parts[-1][1] == want.shape[0]
    np.testing.assert_array_equal(a.local, want[lo:hi])
    assert a.stats["rows"] == hi - lo
out = os.path.join(base, f"py_{P}.npy")
a.to_npy(out)
if rank == 0:
    ref = os.path.join(base, f"cli_{P}.npy")
    env = dict(os.environ, SHARDLOAD_MPI="0")  # one process, not a rank of this job
    subprocess.run([cli, "read", path, "--output", ref], check=True, capture_output=True,
                   env=env)
    assert open(out, "rb").read() == open(ref, "rb").read(), "to_npy differs from --output"
try:
    shardload.load(os.path.join(base, "missing"), comm)
    raise AssertionError("no error")
except shardload.NotFoundError as e:
    msgs = comm.allgather(str(e))
    assert len(set(msgs)) == 1 and "missing" in msgs[0], msgs
# the gather works on every rank alone
ds = shardload.open(path)
idx = np.random.default_rng(rank).integers(0, want.shape[0], 1000)
np.testing.assert_array_equal(ds[idx], want[idx])
comm.Barrier()
if rank == 0:
    print(f"ok: {P} ranks")
