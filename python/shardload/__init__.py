"""shardload: load sharded on-disk arrays (npy, raw, HDF5, Parquet, Arrow, ...)
as one logical array, lazily (open) or spread over MPI ranks (load).

    import shardload
    ds = shardload.open("/data")              # lazy: shape, dtype, ds[a:b], ds[idx]
    arr = shardload.load("/data", comm=MPI.COMM_WORLD)
    arr.local                                  # this rank's tile, zero-copy

Pure Python over libshardload with ctypes (see _lib.py for how the library is
found); NumPy is needed, mpi4py, torch, dask and cupy only when used.
"""
import ctypes
import json
import numbers
import operator
import os

import numpy as np

from . import _lib
from ._errors import (BY_CODE, ChangedError, Error, FormatError, InvalidArgumentError,
                      IOFailedError, LayoutError, NotFoundError, NotSupportedError,
                      OutOfMemoryError, PeerError, VerifyError, raise_for)
from ._lib import lib

__all__ = ["open", "load", "Dataset", "DistributedArray", "Error", "InvalidArgumentError",
           "OutOfMemoryError", "IOFailedError", "FormatError", "LayoutError",
           "NotSupportedError", "PeerError", "NotFoundError", "VerifyError", "ChangedError",
           "features", "library_path"]

_v = _lib.VERSION_NUMBER
__version__ = f"{_v // 10000}.{_v // 100 % 100}.{_v % 100}"
library_path = _lib.LIBRARY_PATH
_py_open = open  # the builtin, before open() below shadows it


def _inspect_fn():
    """sl_dataset_inspect, bound on first use (libraries before 0.3 lack it)."""
    f = getattr(lib, "sl_dataset_inspect", None)
    if f is None:
        raise NotImplementedError(f"{library_path} has no sl_dataset_inspect (older library)")
    f.restype, f.argtypes = ctypes.c_int, [ctypes.c_void_p, ctypes.c_size_t,
                                           ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p]
    lib.sl_free.restype, lib.sl_free.argtypes = None, [ctypes.c_void_p]
    return f


def features():
    """The library's one-line list of built-in formats, variants and features."""
    return lib.sl_features().decode()


def _check(code, err):
    if code != 0:
        raise_for(code, err)


def _dtype_of(code):
    return np.dtype(lib.sl_dtype_str(code).decode())


# ---------------------------------------------------------------- options

def _opt_str(name, value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, str) for v in value):
            raise TypeError(f"{name}: expected a string or a list of strings")
        value = ",".join(value)
    elif isinstance(value, np.dtype):
        value = value.str
    elif isinstance(value, type) and issubclass(value, np.generic):
        value = np.dtype(value).str
    elif isinstance(value, bool) or not isinstance(value, (str, numbers.Number)):
        raise TypeError(f"{name}: expected a string, got {type(value).__name__}")
    return str(value).encode()


_OPEN_KEYS = ("format", "pattern", "dataset", "columns", "fill_nulls", "dtype", "trailing",
              "header_bytes", "cast", "hdf5_allow_external")


def _open_options(kw):
    unknown = set(kw) - set(_OPEN_KEYS)
    if unknown:
        raise TypeError(f"unknown open option(s): {', '.join(sorted(unknown))}")
    o = _lib.open_options()
    keep = []  # the bytes must outlive the call
    for key in ("format", "pattern", "dataset", "columns", "fill_nulls", "dtype", "cast"):
        b = _opt_str(key, kw.get(key))
        keep.append(b)
        setattr(o, key, b)
    t = kw.get("trailing")
    if isinstance(t, (list, tuple)):
        t = ",".join(str(operator.index(x)) for x in t)
    b = _opt_str("trailing", t)
    keep.append(b)
    o.trailing = b
    hb = kw.get("header_bytes")
    if hb is not None:
        hb = operator.index(hb)
        if hb < 0:
            raise ValueError(f"header_bytes: expected >= 0, got {hb}")
        o.header_bytes = hb
    if kw.get("hdf5_allow_external"):
        o.hdf5_allow_external = 1
    return o, keep


def _choice(name, value, table):
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected one of {', '.join(table)}, got {value!r}")
    if value not in table:
        raise ValueError(f"{name}: expected one of {', '.join(table)}, got {value!r}")
    return table[value]


def _read_options(variant="auto", threads=None, io="auto", chunk_bytes=None,
                  partition="balanced", min_rows=1, gds="auto"):
    o = _lib.read_options()
    o.variant = _choice("variant", variant, _lib.VARIANTS)
    o.io = _choice("io", io, _lib.IO_MODES)
    o.partition = _choice("partition", partition, _lib.PARTITIONS)
    o.gds = _choice("gds", gds, _lib.GDS_MODES)
    if threads is not None:
        threads = operator.index(threads)
        if threads < 1:
            raise ValueError(f"threads: expected >= 1 or None, got {threads}")
        o.threads = threads
    if chunk_bytes is not None:
        chunk_bytes = operator.index(chunk_bytes)
        if chunk_bytes < 4096:
            raise ValueError(f"chunk_bytes: expected >= 4096, got {chunk_bytes}")
        o.chunk_bytes = chunk_bytes
    min_rows = operator.index(min_rows)
    if min_rows < 1:
        raise ValueError(f"min_rows: expected >= 1, got {min_rows}")
    o.min_rows = min_rows
    return o


def _inputs(path):
    """path as given back to the caller (a str, or a list of str for a list
    or tuple) and as the library takes it (an array of bytes, its length)."""
    if isinstance(path, (list, tuple)):
        given = [os.fspath(p) for p in path]
    else:
        given = os.fspath(path)
    each = given if isinstance(given, list) else [given]
    arr = (ctypes.c_char_p * max(len(each), 1))(*[os.fsencode(p) for p in each])
    return given, arr, len(each)


# ---------------------------------------------------------------- comm

class _Comm:
    """An sl_comm: serial (None) or wrapping an mpi4py communicator."""

    def __init__(self, comm):
        self.ptr = ctypes.c_void_p()
        self.mpi = comm  # kept alive: the sl_comm points at its handle
        if comm is None:
            return
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise TypeError("comm: an mpi4py communicator was given but mpi4py cannot be "
                            f"imported ({e})") from None
        if not isinstance(comm, MPI.Comm):
            raise TypeError(f"comm: expected an mpi4py communicator or None, got "
                            f"{type(comm).__name__}")
        self._handle = ctypes.c_void_p(MPI._addressof(comm))
        err = _lib.Error()
        _check(lib.sl_comm_from_mpi(self._handle, ctypes.byref(self.ptr), ctypes.byref(err)),
               err)

    def __del__(self):
        try:
            if getattr(self, "ptr", None) and self.ptr.value:
                lib.sl_comm_free(self.ptr)
                self.ptr = ctypes.c_void_p()
        except Exception:  # noqa: BLE001  (interpreter shutdown)
            pass

    @property
    def rank(self):
        return lib.sl_comm_rank(self.ptr)

    @property
    def size(self):
        return lib.sl_comm_size(self.ptr)


# ---------------------------------------------------------------- buffers

def _host_address(out, nbytes, dtype):
    """The address of a writable, contiguous buffer of nbytes."""
    if isinstance(out, np.ndarray):
        if out.dtype != dtype:
            raise TypeError(f"out: dtype {out.dtype} differs from the dataset's {dtype}")
        if not out.flags.c_contiguous or not out.flags.writeable:
            raise ValueError("out: expected a writable C-contiguous array")
    try:
        mv = memoryview(out)
    except TypeError:
        raise TypeError(f"out: {type(out).__name__} is not a buffer (NumPy array, "
                        "bytearray, ...) nor a device array") from None
    if mv.readonly:
        raise TypeError("out: the buffer is read-only")
    if not mv.c_contiguous:
        raise ValueError("out: the buffer is not C-contiguous")
    if mv.nbytes != nbytes:
        raise ValueError(f"out: expected {nbytes} bytes, the buffer has {mv.nbytes}")
    if nbytes == 0:
        return None, None
    holder = (ctypes.c_char * nbytes).from_buffer(mv)
    return ctypes.addressof(holder), holder


def _is_device_array(out):
    return hasattr(out, "__cuda_array_interface__") or (
        hasattr(out, "__dlpack_device__") and out.__dlpack_device__()[0] not in (1, 3))


def _device_address(out, nbytes, dtype):
    """(address, holder) of a device array the gpu variant fills in place:
    anything with __cuda_array_interface__ (CuPy, Numba, PyTorch CUDA
    tensors), or a DLPack device array seen through CuPy. It must be
    writable, C-contiguous, of the dataset's dtype and exactly nbytes."""
    holder = out
    if not hasattr(out, "__cuda_array_interface__"):
        import cupy
        holder = cupy.from_dlpack(out)
    cai = holder.__cuda_array_interface__
    ptr, readonly = cai["data"]
    if readonly:
        raise TypeError("out: the device array is read-only")
    if np.dtype(cai["typestr"]) != dtype:
        raise TypeError(f"out: dtype {np.dtype(cai['typestr'])} differs from the dataset's "
                        f"{dtype}")
    shape = tuple(cai["shape"])
    strides, want = cai.get("strides"), []
    step = dtype.itemsize
    for n in reversed(shape):
        want.insert(0, step)
        step *= n
    if strides is not None and step > 0 and any(
            n > 1 and a != b for n, a, b in zip(shape, strides, want)):
        raise ValueError("out: the device array is not C-contiguous")
    if step != nbytes:
        raise ValueError(f"out: expected {nbytes} bytes, the device array has {step}")
    return (ptr or None), holder


def _fill_device(out, host):
    """Copies a host result into a device array (the gather's: it reads
    into host memory)."""
    import cupy
    dev = cupy.asarray(out)
    if dev.nbytes != host.nbytes or dev.dtype != host.dtype:
        raise ValueError(f"out: expected {host.nbytes} bytes of {host.dtype}, the device "
                         f"array has {dev.nbytes} of {dev.dtype}")
    dev.reshape(host.shape).set(host)
    return out


# ---------------------------------------------------------------- Dataset

class Dataset:
    """A dataset opened lazily: only headers were read. Rows are read on
    demand: ds[a:b], ds[i], ds[index_array], ds.read(lo, hi, out=...),
    ds.take(indices), np.asarray(ds) (everything).

    Thread-safe: reads from several threads share the library's file and
    handle caches."""

    def __init__(self, path, _comm=None, **open_options):
        o, keep = _open_options(open_options)
        self._comm = _comm if _comm is not None else _Comm(None)
        self._ptr = ctypes.c_void_p()
        err = _lib.Error()
        given, paths, n = _inputs(path)
        _check(lib.sl_dataset_open_paths(self._comm.ptr, paths, n, ctypes.byref(o),
                                         ctypes.byref(self._ptr), ctypes.byref(err)), err)
        del keep
        self.path = given  # a str, or a list of them
        self._open_options = dict(open_options)
        shape = (ctypes.c_int64 * 16)()
        nd = lib.sl_dataset_shape(self._ptr, shape)
        self.shape = tuple(shape[i] for i in range(nd))
        self.dtype = _dtype_of(lib.sl_dataset_dtype(self._ptr))
        self.format = lib.sl_dataset_format(self._ptr).decode()
        self.nbytes = lib.sl_dataset_nbytes(self._ptr)
        self._row_bytes = self.dtype.itemsize * int(np.prod(self.shape[1:], dtype=np.int64))
        cols = open_options.get("columns")
        self.columns = (tuple(cols.split(",")) if isinstance(cols, str) else
                        tuple(cols) if cols is not None else None)

    # the C object
    def close(self):
        """Frees the dataset (its files are closed); later reads fail."""
        if getattr(self, "_ptr", None) is not None and self._ptr.value:
            lib.sl_dataset_free(self._ptr)
        self._ptr = ctypes.c_void_p()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001  (interpreter shutdown: ctypes may be gone)
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _live(self):
        if not self._ptr.value:
            raise ValueError(f"{self._name}: the dataset is closed")
        return self._ptr

    @property
    def _name(self):
        """The path messages name: the first of several."""
        return self.path[0] if isinstance(self.path, list) else self.path

    def __getstate__(self):  # pickled (Dask, DataLoader workers): reopened
        return {"path": self.path, "open_options": self._open_options}

    def __setstate__(self, st):
        self.__init__(st["path"], **st["open_options"])

    # description
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def shards(self):
        """[(path, rows)] (path:member for HDF5 members)."""
        out = []
        for i in range(lib.sl_dataset_num_shards(self._live())):
            rows, member = ctypes.c_int64(), ctypes.c_char_p()
            p = lib.sl_dataset_shard(self._ptr, i, ctypes.byref(rows), ctypes.byref(member))
            name = p.decode() + (":" + member.value.decode() if member.value else "")
            out.append((name, rows.value))
        return out

    def inspect(self, shard=None):
        """What `shardload inspect` says of shard i (a dict: read_path, codecs,
        columns with their nulls, what is left out and why, the format's own
        facts), or of every shard as a list. Opens each shard as a read does,
        so a shard a read refuses raises the same error."""
        if shard is None:
            return [self.inspect(i) for i in range(lib.sl_dataset_num_shards(self._live()))]
        n = lib.sl_dataset_num_shards(self._live())
        if not 0 <= shard < n:
            raise IndexError(f"shard {shard} out of range ({n} shards)")
        text, err = ctypes.c_void_p(), _lib.Error()
        _check(_inspect_fn()(self._ptr, shard, ctypes.byref(text), ctypes.byref(err)), err)
        try:
            return json.loads(ctypes.string_at(text.value).decode())
        finally:
            lib.sl_free(text)

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        return (f"shardload.Dataset({self.path!r}, format={self.format!r}, "
                f"shape={self.shape}, dtype={self.dtype})")

    # reading
    def read(self, lo=0, hi=None, out=None, *, variant="auto", threads=None, io="auto",
             chunk_bytes=None, gds="auto", stats=False):
        """Rows [lo, hi) (hi None: to the end) as an array of shape
        (hi-lo,) + shape[1:], into out when given: any writable C-contiguous
        buffer of exactly that many bytes (a NumPy array must have this
        dtype), or a device array (CuPy, anything with
        __cuda_array_interface__, a DLPack CUDA array), which the gpu variant
        fills in place through its pinned staging pipeline (variant "auto"
        picks it; gds: GPUDirect Storage off|auto|on). The call returns
        once the rows are in out. With stats=True returns (array, stats dict)."""
        N = self.shape[0]
        lo = operator.index(lo)
        hi = N if hi is None else operator.index(hi)
        if not 0 <= lo <= hi <= N:
            raise ValueError(f"{self._name}: rows [{lo}, {hi}) are outside [0, {N})")
        o = _read_options(variant, threads, io, chunk_bytes, gds=gds)
        shape = (hi - lo,) + self.shape[1:]
        if out is not None and _is_device_array(out):
            o.memory = _lib.MEMORY_CUDA
            addr, holder = _device_address(out, (hi - lo) * self._row_bytes, self.dtype)
            result = out
        else:
            result = np.empty(shape, self.dtype) if out is None else out
            addr, holder = _host_address(result, (hi - lo) * self._row_bytes, self.dtype)
        st, err = _lib.read_stats(), _lib.Error()
        _check(lib.sl_dataset_read_rows(self._live(), lo, hi, addr, ctypes.byref(o),
                                        ctypes.byref(st), ctypes.byref(err)), err)
        del holder
        return (result, _lib.stats_dict(st)) if stats else result

    def take(self, indices, out=None, *, variant="auto", threads=None, io="auto",
             stats=False):
        """Rows at the given global indices (any order, repeats allowed, none
        negative) in that order; a 1-D integer array-like. Out-of-range
        indices are refused by the library (InvalidArgumentError naming the
        index and its position). out as in read(); a device array is filled
        from host memory (the gather reads into host memory)."""
        idx = np.asarray(indices)
        if idx.dtype == bool or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise TypeError(f"indices: expected integers, got {idx.dtype}")
        if idx.ndim != 1:
            raise ValueError(f"indices: expected a 1-D array, got {idx.ndim}-D")
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        o = _read_options(variant, threads, io)
        shape = (idx.shape[0],) + self.shape[1:]
        if out is not None and _is_device_array(out):
            host = self.take(idx, variant=variant, threads=threads, io=io)
            return _fill_device(out, host)
        result = np.empty(shape, self.dtype) if out is None else out
        addr, holder = _host_address(result, idx.shape[0] * self._row_bytes, self.dtype)
        st, err = _lib.read_stats(), _lib.Error()
        _check(lib.sl_dataset_gather_rows(self._live(), idx.ctypes.data, idx.shape[0], addr,
                                          ctypes.byref(o), ctypes.byref(st),
                                          ctypes.byref(err)), err)
        del holder
        return (result, _lib.stats_dict(st)) if stats else result

    def _rows(self, key):
        """The first axis of an index: an array (or a row, for an integer)."""
        N = self.shape[0]
        if isinstance(key, (numbers.Integral, np.integer)) and not isinstance(key, bool):
            i = operator.index(key)
            if not -N <= i < N:
                raise IndexError(f"index {i} is out of bounds for axis 0 with size {N}")
            return self.read(i % N, i % N + 1)[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(N)
            if step == 1:
                return self.read(start, max(start, stop))
            return self.take(np.arange(start, stop, step, dtype=np.int64))
        if key is Ellipsis:
            return self.read()
        idx = np.asarray(key)
        if idx.dtype == bool:
            if idx.shape != (N,):
                raise IndexError(f"boolean index of shape {idx.shape} does not match axis 0 "
                                 f"of size {N}")
            idx = np.flatnonzero(idx)
        elif idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise IndexError(f"arrays used as indices must be integers, got {idx.dtype}")
        idx = idx.astype(np.int64, copy=False)
        if idx.size and (idx.min() < -N or idx.max() >= N):
            bad = idx[(idx < -N) | (idx >= N)][0]
            raise IndexError(f"index {bad} is out of bounds for axis 0 with size {N}")
        flat = np.where(idx < 0, idx + N, idx).reshape(-1)
        return self.take(flat).reshape(idx.shape + self.shape[1:])

    def __getitem__(self, key):
        if isinstance(key, tuple):
            if not key:
                return self.read()
            first, rest = key[0], key[1:]
            if first is Ellipsis:
                return self.read()[key]
            rows = self._rows(first)
            if isinstance(first, (numbers.Integral, np.integer)):
                return rows[rest] if rest else rows
            return rows[(slice(None),) * np.asarray(first).ndim + rest] if np.ndim(
                first) else rows[(slice(None),) + rest]
        return self._rows(key)

    def __array__(self, dtype=None):
        a = self.read()
        return a if dtype is None else a.astype(dtype, copy=False)


def open(path, *, format=None, pattern=None, dataset=None, columns=None, fill_nulls=None,
         dtype=None, trailing=None, header_bytes=None, cast=None, hdf5_allow_external=False):
    """Opens a dataset lazily (headers only): a directory of shard_NNNN.<ext>
    files, one file, a store, a directory searched with pattern (a glob
    relative to it: "*.npy", "glob*/part-*.npy", "**/*.parquet"), or a
    directory of key=value folders; or a list of these (str or PathLike),
    whose shards follow one another in the order given. format names the
    driver (default: from the file names); dataset an HDF5 dataset name or
    '/group/*'; columns (a list or "a,b") and fill_nulls for tables; dtype,
    trailing and header_bytes for raw files without a sidecar; for tables,
    dtype converts every column (numpy astype, casting rule cast:
    "same_kind" by default, or "unsafe"); hdf5_allow_external reads HDF5
    data kept in other files inside the shard's directory."""
    kw = {k: v for k, v in dict(format=format, pattern=pattern, dataset=dataset,
                                columns=columns, fill_nulls=fill_nulls, dtype=dtype,
                                trailing=trailing, header_bytes=header_bytes, cast=cast,
                                hdf5_allow_external=hdf5_allow_external or None).items()
          if v is not None}
    return Dataset(path, **kw)


# ---------------------------------------------------------------- arrays

class _ArrayRef:
    """Owns one sl_array; every view of its tile holds a reference to this."""

    def __init__(self, ptr, comm):
        self.ptr = ptr
        self.comm = comm  # to_npy is collective over it

    def __del__(self):
        try:
            if self.ptr.value:
                lib.sl_array_free(self.ptr)
                self.ptr = ctypes.c_void_p()
        except Exception:  # noqa: BLE001  (interpreter shutdown)
            pass


class _TileView:
    """The tile as __array_interface__, so the NumPy array made from it keeps
    this (and through it the sl_array) alive as its base."""

    def __init__(self, ref, addr, shape, dtype):
        self._ref = ref
        self.__array_interface__ = {"data": (addr, False), "shape": shape,
                                    "typestr": dtype.str, "version": 3}


_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_capsule_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_valid.restype = ctypes.c_int
_capsule_valid.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_capsule_ptr = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_ptr.restype = ctypes.c_void_p
_capsule_ptr.argtypes = [ctypes.c_void_p, ctypes.c_char_p]


@ctypes.CFUNCTYPE(None, ctypes.c_void_p)
def _capsule_gone(cap):
    # a capsule no consumer took (still "dltensor") owns its tensor
    if _capsule_valid(cap, b"dltensor"):
        t = ctypes.cast(_capsule_ptr(cap, b"dltensor"), ctypes.POINTER(_lib.DLManagedTensor))
        t.contents.deleter(t)


class DistributedArray:
    """One rank's view of a loaded array: .local (this rank's tile, no copy),
    .global_shape, .dtype, .local_range, .parts, .rank, .nparts, .stats,
    .to_npy(path) (collective), and DLPack (__dlpack__, __dlpack_device__).
    The tile lives as long as this object or any view of it."""

    def __init__(self, ptr, comm, stats):
        self._ref = _ArrayRef(ptr, comm)
        shape = (ctypes.c_int64 * 16)()
        nd = lib.sl_array_shape(ptr, shape)
        self.global_shape = tuple(shape[i] for i in range(nd))
        self.dtype = _dtype_of(lib.sl_array_dtype(ptr))
        self.nparts = lib.sl_array_num_parts(ptr)
        self.rank = lib.sl_array_local_part(ptr)
        parts = []
        for p in range(self.nparts):
            lo, hi = ctypes.c_int64(), ctypes.c_int64()
            lib.sl_array_part(ptr, p, ctypes.byref(lo), ctypes.byref(hi))
            parts.append((lo.value, hi.value))
        self.parts = parts
        self.local_range = parts[self.rank]
        self.stats = stats
        self.memory = "host" if lib.sl_array_memory_kind(ptr) == _lib.MEMORY_HOST else "cuda"
        self._local = None

    @property
    def shape(self):
        return self.global_shape

    @property
    def local_shape(self):
        return (self.local_range[1] - self.local_range[0],) + self.global_shape[1:]

    @property
    def local(self):
        """This rank's rows: a NumPy array over the tile (host tiles) or a
        CuPy array (device tiles), without a copy."""
        if self._local is None:
            if self.memory == "cuda":
                import cupy
                self._local = cupy.from_dlpack(self)
            else:
                addr = lib.sl_array_local_data(self._ref.ptr)
                if not addr:
                    self._local = np.empty(self.local_shape, self.dtype)
                else:
                    self._local = np.asarray(_TileView(self._ref, addr, self.local_shape,
                                                       self.dtype))
        return self._local

    def __dlpack_device__(self):
        t = self._export()
        dev = (t.contents.dl_tensor.device.device_type, t.contents.dl_tensor.device.device_id)
        t.contents.deleter(t)
        return dev

    def _export(self):
        t, err = ctypes.POINTER(_lib.DLManagedTensor)(), _lib.Error()
        _check(lib.sl_array_to_dlpack(self._ref.ptr, ctypes.byref(t), ctypes.byref(err)), err)
        return t

    def __dlpack__(self, stream=None):
        """A DLPack capsule over the tile (no copy); it keeps the tile alive
        until its consumer's deleter runs."""
        if stream is not None and self.memory == "host":
            raise ValueError("stream: a host tile takes no stream")
        t = self._export()
        return _capsule_new(ctypes.cast(t, ctypes.c_void_p), b"dltensor",
                            ctypes.cast(_capsule_gone, ctypes.c_void_p))

    def to_npy(self, path):
        """Collective: writes the whole array as one .npy (every rank its rows)."""
        err = _lib.Error()
        _check(lib.sl_array_write_npy(self._ref.comm.ptr, self._ref.ptr,
                                      os.fsencode(os.fspath(path)), ctypes.byref(err)), err)

    def __repr__(self):
        return (f"shardload.DistributedArray(global_shape={self.global_shape}, "
                f"dtype={self.dtype}, rank={self.rank}/{self.nparts}, "
                f"local_range={self.local_range}, memory={self.memory!r})")


def _place(o, device, variant):
    """device: None (the gpu variant where it runs, on the node-local rank's
    device), "cpu"/"host" (a host tile), or a CUDA device: an int N,
    "cuda", "cuda:N" (the gpu variant on device N)."""
    if device is None:
        return
    if device in ("cpu", "host"):
        if variant == "gpu":
            raise ValueError(f"device={device!r} with variant='gpu': a gpu tile is on a device")
        if variant == "auto":  # a host executor: omp when built in, else cpu
            o.variant = _lib.VARIANTS["omp" if "omp" in features().split("variants:")[1]
                                      .split(";")[0].split() else "cpu"]
        return
    if isinstance(device, str) and (device == "cuda" or device.startswith("cuda:")):
        n = device[5:] or "-1"
        if not n.lstrip("-").isdigit():
            raise ValueError(f"device: expected 'cuda:N', got {device!r}")
        device = int(n)
    elif isinstance(device, bool) or not isinstance(device, int):
        raise TypeError(f"device: expected None, 'cpu', an int or 'cuda:N', got {device!r}")
    if device < -1 or device > 4096:
        raise ValueError(f"device: expected 0 to 4096, got {device}")
    if variant not in ("auto", "gpu"):
        raise ValueError(f"device={device!r} needs variant 'gpu' or 'auto', not {variant!r}")
    o.variant = _lib.VARIANTS["gpu"]
    o.device = device


def load(path, comm=None, *, partition="balanced", min_rows=1, variant="auto", threads=None,
         io="auto", device=None, gds="auto", chunk_bytes=None, **open_options):
    """Collective over comm (an mpi4py communicator; None: this process
    alone): discovers the dataset on rank 0, partitions its rows over the
    ranks and reads each rank's tile. Every rank returns or raises the same.
    path: as for open(), one path or a list of them.
    device: None (default: the gpu variant's tile on the node-local rank's
    device where a CUDA device is visible, else host memory), "cpu", or a
    CUDA device (N, "cuda:N"). open_options as for open()."""
    o = _read_options(variant, threads, io, chunk_bytes, partition, min_rows, gds)
    _place(o, device, variant)
    c = _Comm(comm)
    ds = Dataset(path, _comm=c, **open_options)
    try:
        ptr, st, err = ctypes.c_void_p(), _lib.read_stats(), _lib.Error()
        _check(lib.sl_load(c.ptr, ds._ptr, ctypes.byref(o), ctypes.byref(ptr),
                           ctypes.byref(st), ctypes.byref(err)), err)
    finally:
        ds.close()
    return DistributedArray(ptr, c, _lib.stats_dict(st))
