"""ctypes over libshardload's public API (include/shardload.h), nothing else.

The option and stats structs are mirrored field by field, in header order,
with struct_size set to this mirror's size: the library reads (and, for the
stats, writes) only what struct_size covers, so this package keeps working
with a newer library that has appended fields (they take their defaults).

The library is looked up in this order: $SHARDLOAD_LIBRARY (a path to
libshardload.so), beside this package, the install's library directory
(written at install time into _config.py), the build directory of the
source tree (build*/ beside python/), then the system's loader.
"""
import ctypes
import ctypes.util
import glob
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_MIN_VERSION = 200  # 0.2.0: the versioned structs


def _candidates():
    env = os.environ.get("SHARDLOAD_LIBRARY")
    if env:
        yield env
        return
    yield from sorted(glob.glob(os.path.join(_HERE, "libshardload.so*")))
    try:
        from . import _config
        yield os.path.join(_config.LIBDIR, "libshardload.so.0")
    except ImportError:
        pass
    root = os.path.dirname(os.path.dirname(_HERE))
    for build in ("build", "build-asan", "build-tsan"):
        yield os.path.join(root, build, "libshardload.so")
    found = ctypes.util.find_library("shardload")
    if found:
        yield found
    yield "libshardload.so.0"


def _load():
    tried = []
    env = os.environ.get("SHARDLOAD_LIBRARY")
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path)
            continue
        try:
            return ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL), path
        except OSError as e:
            tried.append(f"{path} ({e})")
    where = "SHARDLOAD_LIBRARY=" + env if env else ", ".join(tried)
    raise ImportError("shardload: cannot load libshardload.so; tried " + where +
                      " (set SHARDLOAD_LIBRARY to its path)")


lib, LIBRARY_PATH = _load()

c_int64_p = ctypes.POINTER(ctypes.c_int64)


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * 1024)]


class OpenOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("format", ctypes.c_char_p),
                ("pattern", ctypes.c_char_p), ("dataset", ctypes.c_char_p),
                ("dtype", ctypes.c_char_p), ("trailing", ctypes.c_char_p),
                ("header_bytes", ctypes.c_int64), ("columns", ctypes.c_char_p),
                ("fill_nulls", ctypes.c_char_p), ("hdf5_allow_external", ctypes.c_int),
                ("cast", ctypes.c_char_p)]


class ReadOptions(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("variant", ctypes.c_int),
                ("threads", ctypes.c_int), ("io", ctypes.c_int),
                ("chunk_bytes", ctypes.c_int64), ("partition", ctypes.c_int),
                ("min_rows", ctypes.c_int64), ("memory", ctypes.c_int),
                ("device", ctypes.c_int), ("gds", ctypes.c_int)]


class ReadStats(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_size_t), ("rows", ctypes.c_int64),
                ("bytes", ctypes.c_int64), ("files", ctypes.c_int64),
                ("first_shard", ctypes.c_int64), ("last_shard", ctypes.c_int64),
                ("seconds", ctypes.c_double), ("alloc_seconds", ctypes.c_double),
                ("fault_seconds", ctypes.c_double), ("threads", ctypes.c_int),
                ("variant", ctypes.c_int), ("io", ctypes.c_int),
                ("files_opened", ctypes.c_int64), ("open_files_peak", ctypes.c_int64),
                ("open_files_limit", ctypes.c_int64), ("device", ctypes.c_int),
                ("gds", ctypes.c_int), ("device_name", ctypes.c_char * 96),
                ("device_pci", ctypes.c_char * 32), ("staging_peak", ctypes.c_int64),
                ("note", ctypes.c_char * 256),
                # 0.2 (P8): bytes by the path that read them
                ("bytes_direct", ctypes.c_int64), ("bytes_cached", ctypes.c_int64),
                ("bytes_buffered", ctypes.c_int64), ("bytes_mapped", ctypes.c_int64),
                ("bytes_decoded", ctypes.c_int64)]


# DLPack (dlpack.h): only what __dlpack_device__ and the checks read.
class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int),
                ("dtype", DLDataType), ("shape", c_int64_p), ("strides", c_int64_p),
                ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    pass


DLDeleter = ctypes.CFUNCTYPE(None, ctypes.POINTER(DLManagedTensor))
DLManagedTensor._fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p),
                            ("deleter", DLDeleter)]

VARIANTS = {"auto": 0, "cpu": 1, "omp": 2, "gpu": 3}
VARIANT_NAMES = {v: k for k, v in VARIANTS.items()}
IO_MODES = {"auto": 0, "buffered": 1, "direct": 2}
IO_NAMES = {v: k for k, v in IO_MODES.items()}
PARTITIONS = {"balanced": 0, "tiled": 1}
GDS_MODES = {"auto": 0, "off": 1, "on": 2}
LAUNCH_SERIAL = 1
MEMORY_HOST, MEMORY_CUDA = 1, 2

_vp = ctypes.c_void_p
_ep = ctypes.POINTER(Error)


def _sig(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)
    return f


_sig("sl_version_number", ctypes.c_uint)
_sig("sl_features", ctypes.c_char_p)
_sig("sl_status_name", ctypes.c_char_p, ctypes.c_int)
_sig("sl_strerror", ctypes.c_char_p, ctypes.c_int)
_sig("sl_dtype_str", ctypes.c_char_p, ctypes.c_int)
_sig("sl_format_extension", ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int))
_sig("sl_dtype_size", ctypes.c_size_t, ctypes.c_int)
_sig("sl_open_options_init_size", None, ctypes.POINTER(OpenOptions), ctypes.c_size_t)
_sig("sl_read_options_init_size", None, ctypes.POINTER(ReadOptions), ctypes.c_size_t)
_sig("sl_read_stats_init_size", None, ctypes.POINTER(ReadStats), ctypes.c_size_t)
_sig("sl_comm_init", ctypes.c_int, ctypes.c_int, _vp, _vp, ctypes.POINTER(_vp), _ep)
_sig("sl_comm_from_mpi", ctypes.c_int, _vp, ctypes.POINTER(_vp), _ep)
_sig("sl_comm_free", None, _vp)
_sig("sl_comm_rank", ctypes.c_int, _vp)
_sig("sl_comm_size", ctypes.c_int, _vp)
_sig("sl_dataset_open", ctypes.c_int, _vp, ctypes.c_char_p, ctypes.POINTER(OpenOptions),
     ctypes.POINTER(_vp), _ep)
_sig("sl_dataset_open_paths", ctypes.c_int, _vp, ctypes.POINTER(ctypes.c_char_p),
     ctypes.c_size_t, ctypes.POINTER(OpenOptions), ctypes.POINTER(_vp), _ep)
_sig("sl_dataset_free", None, _vp)
_sig("sl_dataset_dtype", ctypes.c_int, _vp)
_sig("sl_dataset_shape", ctypes.c_int, _vp, c_int64_p)
_sig("sl_dataset_num_shards", ctypes.c_size_t, _vp)
_sig("sl_dataset_shard", ctypes.c_char_p, _vp, ctypes.c_size_t, c_int64_p,
     ctypes.POINTER(ctypes.c_char_p))
_sig("sl_dataset_format", ctypes.c_char_p, _vp)
_sig("sl_dataset_nbytes", ctypes.c_int64, _vp)
_sig("sl_dataset_read_rows", ctypes.c_int, _vp, ctypes.c_int64, ctypes.c_int64, _vp,
     ctypes.POINTER(ReadOptions), ctypes.POINTER(ReadStats), _ep)
_sig("sl_dataset_gather_rows", ctypes.c_int, _vp, _vp, ctypes.c_size_t, _vp,
     ctypes.POINTER(ReadOptions), ctypes.POINTER(ReadStats), _ep)
_sig("sl_load", ctypes.c_int, _vp, _vp, ctypes.POINTER(ReadOptions), ctypes.POINTER(_vp),
     ctypes.POINTER(ReadStats), _ep)
_sig("sl_array_free", None, _vp)
_sig("sl_array_dtype", ctypes.c_int, _vp)
_sig("sl_array_shape", ctypes.c_int, _vp, c_int64_p)
_sig("sl_array_num_parts", ctypes.c_int, _vp)
_sig("sl_array_part", None, _vp, ctypes.c_int, c_int64_p, c_int64_p)
_sig("sl_array_local_part", ctypes.c_int, _vp)
_sig("sl_array_local_data", _vp, _vp)
_sig("sl_array_local_rows", ctypes.c_int64, _vp)
_sig("sl_array_memory_kind", ctypes.c_int, _vp)
_sig("sl_array_to_dlpack", ctypes.c_int, _vp, ctypes.POINTER(ctypes.POINTER(DLManagedTensor)),
     _ep)
_sig("sl_array_write_npy", ctypes.c_int, _vp, _vp, ctypes.c_char_p, _ep)

VERSION_NUMBER = lib.sl_version_number()
if VERSION_NUMBER < _MIN_VERSION or VERSION_NUMBER // 10000 != _MIN_VERSION // 10000:
    raise ImportError(f"shardload: {LIBRARY_PATH} is version {VERSION_NUMBER}; this package "
                      f"needs {_MIN_VERSION // 10000}.x from {_MIN_VERSION}")


def new_struct(cls, init):
    """A struct with the library's defaults, struct_size = this mirror's size."""
    s = cls()
    init(ctypes.byref(s), ctypes.sizeof(cls))
    return s


def open_options():
    return new_struct(OpenOptions, lib.sl_open_options_init_size)


def read_options():
    return new_struct(ReadOptions, lib.sl_read_options_init_size)


def read_stats():
    return new_struct(ReadStats, lib.sl_read_stats_init_size)


def stats_dict(s):
    d = {name: getattr(s, name) for name, _ in ReadStats._fields_ if name != "struct_size"}
    d["variant"] = VARIANT_NAMES.get(d["variant"], d["variant"])
    d["io"] = IO_NAMES.get(d["io"], d["io"])
    for k in ("device_name", "device_pci", "note"):
        d[k] = d[k].decode("utf-8", "replace")
    d["gds"] = bool(d["gds"])
    return d
