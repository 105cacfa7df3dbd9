"""dask.array over shardload: each chunk is one row read (Dataset.read) run
by whichever worker gets the task; on dask.distributed the Dataset travels
as its path and options and is reopened in each worker process."""
import hashlib

import dask.array as da

import shardload

__all__ = ["from_path"]


def from_path(path, chunks=None, **open_options):
    """A dask.array of the whole dataset, chunked along rows: chunks is a
    row count per chunk (default: about 64 MiB of rows) or a tuple of row
    counts; the other axes are whole."""
    ds = shardload.open(path, **open_options)
    n = ds.shape[0]
    if chunks is None:
        chunks = max(1, (64 << 20) // max(ds._row_bytes, 1))
    if isinstance(chunks, bool) or not isinstance(chunks, (int, tuple, list)):
        raise TypeError(f"chunks: expected rows per chunk (int) or a tuple of row counts, "
                        f"got {chunks!r}")
    if isinstance(chunks, int):
        if chunks < 1:
            raise ValueError(f"chunks: expected >= 1 rows, got {chunks}")
        rows = tuple(min(chunks, n - a) for a in range(0, n, chunks)) or (0,)
    else:
        rows = tuple(int(c) for c in chunks)
        if sum(rows) != n or any(c < 0 for c in rows):
            raise ValueError(f"chunks: row counts sum to {sum(rows)}, the dataset has {n}")
    token = hashlib.sha1(repr((ds.path, sorted(open_options.items()), rows)).encode())
    return da.from_array(ds, chunks=(rows,) + tuple((s,) for s in ds.shape[1:]), lock=False,
                         asarray=False, fancy=False, name="shardload-" + token.hexdigest(),
                         meta=ds.read(0, 0))
